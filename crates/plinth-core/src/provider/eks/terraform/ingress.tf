locals {
  ingress = !var.config.disable_default_ingress
}

# Kubestack's default ingress: a DNS zone for the cluster's fqdn with the host and a `*` record.
# EKS load balancer addresses are not known before the ingress controller's Service exists, so
# the records point at Elastic IPs, one per zone, which that Service's network load balancer
# takes: annotate it `service.beta.kubernetes.io/aws-load-balancer-type: nlb` and
# `service.beta.kubernetes.io/aws-load-balancer-eip-allocations: <default_ingress.eip_allocation_ids>`.
# Delegate the zone from its parent with the `default_ingress.name_servers` output.
resource "aws_eip" "ingress" {
  count = local.ingress ? length(local.zones) : 0

  domain = "vpc"

  tags = merge(local.tags, { Name = "${var.metadata.name}-ingress-${local.zones[count.index]}" })
}

resource "aws_route53_zone" "current" {
  count = local.ingress ? 1 : 0

  name = var.metadata.fqdn

  tags = local.tags
}

resource "aws_route53_record" "host" {
  count = local.ingress ? 1 : 0

  zone_id = aws_route53_zone.current[0].zone_id
  name    = var.metadata.fqdn
  type    = "A"
  ttl     = 300
  records = aws_eip.ingress[*].public_ip
}

resource "aws_route53_record" "wildcard" {
  count = local.ingress ? 1 : 0

  zone_id = aws_route53_zone.current[0].zone_id
  name    = "*.${var.metadata.fqdn}"
  type    = "A"
  ttl     = 300
  records = aws_eip.ingress[*].public_ip
}
