# One GKE node pool (Plinth's node pool), autoscaled per zone in the cluster's region.
terraform {
  required_providers {
    google = {
      source = "hashicorp/google"
    }
  }
}
