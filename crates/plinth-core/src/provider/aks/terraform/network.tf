resource "azurerm_resource_group" "current" {
  name     = var.config.resource_group
  location = var.config.region

  tags = local.tags
}

resource "azurerm_virtual_network" "current" {
  name                = var.metadata.name
  location            = azurerm_resource_group.current.location
  resource_group_name = azurerm_resource_group.current.name
  address_space       = var.config.vnet_address_space

  tags = local.tags
}

# One node subnet, shared by the default pool and every other pool.
resource "azurerm_subnet" "nodes" {
  name                 = "${var.metadata.name}-nodes"
  resource_group_name  = azurerm_resource_group.current.name
  virtual_network_name = azurerm_virtual_network.current.name
  address_prefixes     = var.config.subnet_address_prefixes
  service_endpoints    = var.config.subnet_service_endpoints
}

# With a subnet of our own, the cluster identity manages the node route table (kubenet) and
# load balancer IPs in it. A system-assigned identity only exists once the cluster does, so it
# is granted here; a user-assigned identity must be granted this role by its owner.
resource "azurerm_role_assignment" "subnet" {
  count = local.user_assigned ? 0 : 1

  scope                = azurerm_subnet.nodes.id
  role_definition_name = "Network Contributor"
  principal_id         = azurerm_kubernetes_cluster.current.identity[0].principal_id
}
