output "name" {
  description = "The cluster's name."
  value       = azurerm_kubernetes_cluster.current.name
}

output "endpoint" {
  description = "The Kubernetes API endpoint."
  value       = "https://${azurerm_kubernetes_cluster.current.fqdn}:443"
}

output "kubeconfig" {
  description = "The cluster user's kubeconfig, for the services of this cluster."
  value       = azurerm_kubernetes_cluster.current.kube_config_raw
  sensitive   = true
}

output "resource_group" {
  description = "Name of the resource group holding the cluster and its network."
  value       = azurerm_resource_group.current.name
}

output "subnet_id" {
  description = "ID of the node subnet."
  value       = azurerm_subnet.nodes.id
}

output "principal_id" {
  description = "Principal ID of the cluster's system-assigned identity (null with a user-assigned one)."
  value       = local.user_assigned ? null : azurerm_kubernetes_cluster.current.identity[0].principal_id
}

output "log_analytics_workspace_id" {
  description = "ID of the Log Analytics workspace, when `enable_log_analytics`."
  value       = one(azurerm_log_analytics_workspace.current[*].id)
}

output "node_pools" {
  description = "Azure node pool names by pool key, `default` included."
  value       = merge({ default = azurerm_kubernetes_cluster.current.default_node_pool[0].name }, { for k, p in module.node_pool : k => p.name })
}
