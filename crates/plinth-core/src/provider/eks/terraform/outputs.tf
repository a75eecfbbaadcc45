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

output "default_ingress" {
  description = "The default ingress: the fqdn, its DNS zone's name servers (to delegate from the parent zone), and the Elastic IPs (with their allocation IDs) the ingress controller's load balancer takes; null with `disable_default_ingress`."
  value = local.ingress ? {
    fqdn               = var.metadata.fqdn
    name_servers       = aws_route53_zone.current[0].name_servers
    ips                = aws_eip.ingress[*].public_ip
    eip_allocation_ids = aws_eip.ingress[*].allocation_id
  } : null
}
