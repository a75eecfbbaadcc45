# Plinth's AKS cluster module: resource group, virtual network and node subnet, the AKS cluster
# with its `default` pool, an optional Log Analytics workspace, and every other node pool
# through ./node_pool.
terraform {
  required_providers {
    azurerm = {
      source = "hashicorp/azurerm"
    }
  }
}
