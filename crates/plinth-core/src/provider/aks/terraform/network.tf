# The resource group: an existing one by default (Kubestack reads it with a data source), or
# created here with `create_resource_group = true`.
data "azurerm_resource_group" "current" {
  count = var.config.create_resource_group ? 0 : 1

  name = var.config.resource_group
}

resource "azurerm_resource_group" "current" {
  count = var.config.create_resource_group ? 1 : 0

  name     = var.config.resource_group
  location = var.config.region

  tags = local.tags
}

# Plinth's first versions always created the group, without `count`.
moved {
  from = azurerm_resource_group.current
  to   = azurerm_resource_group.current[0]
}

locals {
  resource_group = one(concat(azurerm_resource_group.current[*].name, data.azurerm_resource_group.current[*].name))
  # Everything is created in `region`, which names the cluster; an existing group's location
  # should be the same (checked below, as Kubestack takes the region from the group).
  location       = var.config.region
  group_location = coalesce(one(data.azurerm_resource_group.current[*].location), var.config.region)
}

check "resource_group_location" {
  assert {
    condition     = lower(replace(local.group_location, " ", "")) == lower(replace(var.config.region, " ", ""))
    error_message = "Resource group `${var.config.resource_group}` is in `${local.group_location}`, but cluster ${var.metadata.name} has region `${var.config.region}`: set `region` to the group's location (it names the cluster), or use a group in that region."
  }
}

locals {
  # `network_layout`: Plinth's network, none (AKS manages it), or a Kubestack cluster's,
  # adopted under the names Kubestack gave it.
  layout      = var.config.network_layout
  own_network = local.layout != "managed"
  legacy      = local.layout == "kubestack-legacy"
  vnet_name   = local.legacy ? "vnet-aks-${var.metadata.workspace}-cluster" : var.metadata.name
  subnet_name = (
    local.legacy ? "aks-node-subnet" :
    local.layout == "kubestack" ? "${var.metadata.name}-${local.default.name}-node-pool" :
    "${var.metadata.name}-nodes"
  )
  # Every pool's subnet; null lets AKS place the nodes.
  subnet_id = one(azurerm_subnet.nodes[*].id)
}

resource "azurerm_virtual_network" "current" {
  count = local.own_network ? 1 : 0

  name                = local.vnet_name
  location            = local.location
  resource_group_name = local.resource_group
  address_space       = var.config.vnet_address_space

  tags = local.tags
}

# One node subnet, shared by the default pool and every other pool.
resource "azurerm_subnet" "nodes" {
  count = local.own_network ? 1 : 0

  name                 = local.subnet_name
  resource_group_name  = local.resource_group
  virtual_network_name = azurerm_virtual_network.current[0].name
  address_prefixes     = var.config.subnet_address_prefixes
  service_endpoints    = var.config.subnet_service_endpoints
}

# With a subnet of our own, the cluster identity manages the node route table (kubenet) and
# load balancer IPs in it. A system-assigned identity only exists once the cluster does, so it
# is granted here; a user-assigned identity must be granted this role by its owner.
resource "azurerm_role_assignment" "subnet" {
  count = local.user_assigned || !local.own_network ? 0 : 1

  scope                = azurerm_subnet.nodes[0].id
  role_definition_name = "Network Contributor"
  principal_id         = azurerm_kubernetes_cluster.current.identity[0].principal_id
}

# Plinth's first versions always created the network, without `count`.
moved {
  from = azurerm_virtual_network.current
  to   = azurerm_virtual_network.current[0]
}

moved {
  from = azurerm_subnet.nodes
  to   = azurerm_subnet.nodes[0]
}
