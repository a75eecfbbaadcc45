# Plinth's GKE cluster module: a VPC network and subnetwork with Cloud NAT, the nodes' service
# account, the regional GKE control plane, the default ingress, and every node pool (the
# `default` pool included) through ./node_pool.
terraform {
  required_providers {
    google = {
      source = "hashicorp/google"
    }
  }
}
