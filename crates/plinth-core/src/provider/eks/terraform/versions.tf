# Plinth's EKS cluster module: VPC, IAM roles, the EKS control plane, its OIDC provider and
# every node pool (the `default` pool included) through ./node_pool.
terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}
