# One EKS managed node group (Plinth's node pool) with its launch template, in the cluster's
# node subnets or its own (in a secondary CIDR it associates with the VPC).
terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}
