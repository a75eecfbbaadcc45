output "name" {
  description = "The node pool's name."
  value       = azurerm_kubernetes_cluster_node_pool.pool.name
}

output "id" {
  description = "The node pool's ID."
  value       = azurerm_kubernetes_cluster_node_pool.pool.id
}
