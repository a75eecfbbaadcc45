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

output "default_ingress" {
  description = "The default ingress: the fqdn, its DNS zone's name servers (to delegate from the parent zone) and the static IP for the ingress controller's load balancer; null with `disable_default_ingress`."
  value = local.ingress ? {
    fqdn         = var.metadata.fqdn
    name_servers = google_dns_managed_zone.current[0].name_servers
    ip           = google_compute_address.ingress[0].address
  } : null
}

output "nat_ips" {
  description = "The reserved Cloud NAT egress addresses (`cloud_nat_ip_count`); empty with automatic addresses."
  value       = google_compute_address.nat[*].address
}
