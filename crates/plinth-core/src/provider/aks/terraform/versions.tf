# Plinth's AKS cluster module: the resource group (read, or created), virtual network and node
# subnet, the AKS cluster with its `default` pool, an optional Log Analytics workspace, the
# default ingress, and every other node pool through ./node_pool.
terraform {
  required_providers {
    azurerm = {
      source = "hashicorp/azurerm"
    }
  }
}
