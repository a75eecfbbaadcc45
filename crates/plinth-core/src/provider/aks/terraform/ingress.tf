locals {
  ingress = !var.config.disable_default_ingress
}

# Kubestack's default ingress: a static public IP for the ingress controller's load balancer
# (Service `loadBalancerIP`, or annotation `service.beta.kubernetes.io/azure-pip-name`), in the
# cluster's node resource group where the cluster identity manages load balancers, and an Azure
# DNS zone for the cluster's fqdn with the host and a `*` record. Delegate the zone from its
# parent with the `default_ingress.name_servers` output.
resource "azurerm_public_ip" "ingress" {
  count = local.ingress ? 1 : 0

  name                = var.metadata.name
  location            = local.location
  resource_group_name = azurerm_kubernetes_cluster.current.node_resource_group
  allocation_method   = "Static"
  sku                 = "Standard"
  zones               = var.config.default_ingress_ip_zones

  tags = local.tags
}

resource "azurerm_dns_zone" "current" {
  count = local.ingress ? 1 : 0

  name                = var.metadata.fqdn
  resource_group_name = local.resource_group

  tags = local.tags
}

resource "azurerm_dns_a_record" "host" {
  count = local.ingress ? 1 : 0

  name                = "@"
  zone_name           = azurerm_dns_zone.current[0].name
  resource_group_name = local.resource_group
  ttl                 = 300
  records             = [azurerm_public_ip.ingress[0].ip_address]

  tags = local.tags
}

resource "azurerm_dns_a_record" "wildcard" {
  count = local.ingress ? 1 : 0

  name                = "*"
  zone_name           = azurerm_dns_zone.current[0].name
  resource_group_name = local.resource_group
  ttl                 = 300
  records             = [azurerm_public_ip.ingress[0].ip_address]

  tags = local.tags
}
