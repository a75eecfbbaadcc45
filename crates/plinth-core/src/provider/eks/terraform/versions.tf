# Plinth's EKS cluster module: VPC (with NAT gateways for private subnets), IAM roles, the EKS
# control plane with its access entries and OIDC provider, the default ingress, and every node
# pool (the `default` pool included) through ./node_pool.
terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}
