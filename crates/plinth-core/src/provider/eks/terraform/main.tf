locals {
  # Kubestack's AWS tags: the metadata labels, and the cluster tag EKS and its load balancer
  # controller look for.
  tags = merge(var.metadata.labels, {
    "kubernetes.io/cluster/${var.metadata.name}" = "shared"
  })
}

resource "aws_eks_cluster" "current" {
  name                      = var.metadata.name
  role_arn                  = aws_iam_role.master.arn
  version                   = var.config.cluster_version
  enabled_cluster_log_types = var.config.enabled_cluster_log_types

  # Access entries (access.tf) grant the `cluster_aws_auth_map_*` principals access through
  # the EKS API; the aws-auth ConfigMap keeps working beside them.
  access_config {
    authentication_mode = "API_AND_CONFIG_MAP"
  }

  vpc_config {
    subnet_ids              = aws_subnet.control[*].id
    endpoint_private_access = var.config.cluster_endpoint_private_access
    endpoint_public_access  = var.config.cluster_endpoint_public_access
    public_access_cidrs     = var.config.cluster_public_access_cidrs
  }

  dynamic "kubernetes_network_config" {
    for_each = var.config.cluster_service_cidr == null ? [] : [var.config.cluster_service_cidr]

    content {
      service_ipv4_cidr = kubernetes_network_config.value
    }
  }

  dynamic "encryption_config" {
    for_each = var.config.cluster_encryption_key_arn == null ? [] : [var.config.cluster_encryption_key_arn]

    content {
      resources = ["secrets"]

      provider {
        key_arn = encryption_config.value
      }
    }
  }

  tags = local.tags

  depends_on = [aws_iam_role_policy_attachment.master]
}

# IAM roles for service accounts.
resource "aws_iam_openid_connect_provider" "current" {
  count = var.config.disable_openid_connect_provider ? 0 : 1

  url            = aws_eks_cluster.current.identity[0].oidc[0].issuer
  client_id_list = ["sts.amazonaws.com"]

  tags = local.tags
}

module "node_pool" {
  source   = "./node_pool"
  for_each = var.node_pools

  metadata = var.metadata
  pool     = each.value
  cluster = {
    name                 = aws_eks_cluster.current.name
    version              = aws_eks_cluster.current.version
    node_role_arn        = aws_iam_role.node.arn
    vpc_id               = aws_vpc.current.id
    zones                = local.zones
    subnets              = local.node_subnets
    public_route_tables  = local.public_route_tables
    private_route_tables = local.private_route_tables
    tags                 = local.tags
  }

  depends_on = [aws_iam_role_policy_attachment.node]
}

data "aws_eks_cluster_auth" "current" {
  name = aws_eks_cluster.current.name
}

locals {
  kubeconfig = yamlencode({
    apiVersion = "v1"
    kind       = "Config"
    clusters = [{
      name = var.metadata.name
      cluster = {
        server                     = aws_eks_cluster.current.endpoint
        certificate-authority-data = aws_eks_cluster.current.certificate_authority[0].data
      }
    }]
    users = [{
      name = var.metadata.name
      user = {
        token = data.aws_eks_cluster_auth.current.token
      }
    }]
    contexts = [{
      name = var.metadata.name
      context = {
        cluster = var.metadata.name
        user    = var.metadata.name
      }
    }]
    current-context = var.metadata.name
  })
}
