output "name" {
  description = "The cluster's name."
  value       = aws_eks_cluster.current.name
}

output "endpoint" {
  description = "The Kubernetes API endpoint."
  value       = aws_eks_cluster.current.endpoint
}

output "kubeconfig" {
  description = "A kubeconfig with a short-lived token, for the services of this cluster."
  value       = local.kubeconfig
  sensitive   = true
}

output "oidc_provider_arn" {
  description = "ARN of the IAM OIDC provider, for IAM roles for service accounts."
  value       = one(aws_iam_openid_connect_provider.current[*].arn)
}

output "node_pools" {
  description = "Node group names by pool key."
  value       = { for k, p in module.node_pool : k => p.name }
}
