output "name" {
  description = "The cluster's name."
  value       = azurerm_kubernetes_cluster.current.name
}

output "endpoint" {
  description = "The Kubernetes API endpoint."
  value       = "https://${azurerm_kubernetes_cluster.current.fqdn}:443"
}

output "kubeconfig" {
  description = "A kubeconfig for the services of this cluster: the local account's, or one that gets Microsoft Entra ID tokens from kubelogin (`kubeconfig_auth`)."
  value       = local.kubeconfig
  sensitive   = true
}

output "resource_group" {
  description = "Name of the resource group holding the cluster and its network."
  value       = local.resource_group
}

output "subnet_id" {
  description = "ID of the node subnet (null with `network_layout = \"managed\"`: AKS manages it)."
  value       = local.subnet_id
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

output "default_ingress" {
  description = "The default ingress: the fqdn, its DNS zone's name servers (to delegate from the parent zone) and the static IP for the ingress controller's load balancer; null with `disable_default_ingress`."
  value = local.ingress ? {
    fqdn         = var.metadata.fqdn
    name_servers = azurerm_dns_zone.current[0].name_servers
    ip           = azurerm_public_ip.ingress[0].ip_address
    ip_id        = azurerm_public_ip.ingress[0].id
  } : null
}
