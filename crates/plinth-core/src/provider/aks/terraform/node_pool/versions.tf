# One AKS node pool (Plinth's node pools other than `default`), in the cluster's node subnet.
terraform {
  required_providers {
    azurerm = {
      source = "hashicorp/azurerm"
    }
  }
}
