# One EKS managed node group (Plinth's node pool), in the cluster's node subnets or its own.
terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}
