output "name" {
  description = "The cluster's name."
  value       = kind_cluster.current.name
}

output "endpoint" {
  description = "The Kubernetes API endpoint."
  value       = kind_cluster.current.endpoint
}

output "kubeconfig" {
  description = "The cluster's admin kubeconfig, for the services of this cluster."
  value       = kind_cluster.current.kubeconfig
  sensitive   = true
}

output "node_pools" {
  description = "Worker nodes by pool key."
  value       = { for key, pool in var.node_pools : key => pool.config.nodes }
}
