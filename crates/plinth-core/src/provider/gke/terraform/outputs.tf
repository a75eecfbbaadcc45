output "name" {
  description = "The cluster's name."
  value       = google_container_cluster.current.name
}

output "endpoint" {
  description = "The Kubernetes API endpoint."
  value       = local.endpoint
}

output "kubeconfig" {
  description = "A kubeconfig with a short-lived access token, for the services of this cluster."
  value       = local.kubeconfig
  sensitive   = true
}

output "workload_identity_pool" {
  description = "The workload identity pool (`<project>.svc.id.goog`), null when disabled."
  value       = one(google_container_cluster.current.workload_identity_config[*].workload_pool)
}

output "node_service_account_email" {
  description = "Email of the nodes' service account, used by pools without their own."
  value       = google_service_account.nodes.email
}

output "node_pools" {
  description = "Node pool names by pool key."
  value       = { for k, p in module.node_pool : k => p.name }
}
