locals {
  config = var.pool.config
  zones  = local.config.availability_zones != null ? local.config.availability_zones : var.cluster.zones

  # A pool with a secondary CIDR gets subnets of its own (the CIDR must be associated with the
  # cluster's VPC); otherwise it uses the given subnets, or the cluster's node subnets.
  own_subnets = local.config.vpc_subnet_ids == null && local.config.vpc_secondary_cidr != null
  newbits     = local.config.vpc_subnet_newbits != null ? local.config.vpc_subnet_newbits : 2
  subnet_ids = (
    local.config.vpc_subnet_ids != null ? local.config.vpc_subnet_ids :
    local.own_subnets ? aws_subnet.pool[*].id :
    [for zone in local.zones : var.cluster.subnets[zone]]
  )

  # Instance metadata options need a launch template; the disk size then moves into it.
  launch_template = local.config.metadata_options != null
  tags            = merge(var.cluster.tags, local.config.tags == null ? {} : local.config.tags)
}

resource "aws_subnet" "pool" {
  count = local.own_subnets ? length(local.zones) : 0

  vpc_id                  = var.cluster.vpc_id
  availability_zone       = local.zones[count.index]
  cidr_block              = cidrsubnet(local.config.vpc_secondary_cidr, local.newbits, local.config.vpc_subnet_number_offset + count.index)
  map_public_ip_on_launch = local.config.vpc_subnet_map_public_ip

  tags = merge(local.tags, { Name = "${var.cluster.name}-${var.pool.name}-${local.zones[count.index]}" })
}

resource "aws_launch_template" "pool" {
  count = local.launch_template ? 1 : 0

  # Launch template names are limited to 128 characters: Kubestack's truncation plus a hash.
  name = "${substr("${var.cluster.name}-${var.pool.name}", 0, 120)}-${substr(sha256("${var.cluster.name}-${var.pool.name}"), 0, 7)}"

  metadata_options {
    http_endpoint               = local.config.metadata_options.http_endpoint
    http_tokens                 = local.config.metadata_options.http_tokens
    http_put_response_hop_limit = local.config.metadata_options.http_put_response_hop_limit
    http_protocol_ipv6          = local.config.metadata_options.http_protocol_ipv6
    instance_metadata_tags      = local.config.metadata_options.instance_metadata_tags
  }

  block_device_mappings {
    device_name = "/dev/xvda"

    ebs {
      volume_size = local.config.disk_size
    }
  }

  tags = local.tags
}

resource "aws_eks_node_group" "pool" {
  cluster_name    = var.cluster.name
  node_group_name = var.pool.name
  node_role_arn   = var.cluster.node_role_arn
  subnet_ids      = local.subnet_ids
  instance_types  = local.config.instance_types
  ami_type        = local.config.ami_type
  release_version = local.config.ami_release_version
  disk_size       = local.launch_template ? null : local.config.disk_size
  labels          = local.config.labels

  scaling_config {
    min_size     = local.config.min_size
    max_size     = local.config.max_size
    desired_size = local.config.desired_capacity
  }

  dynamic "taint" {
    for_each = local.config.taints == null ? [] : local.config.taints

    content {
      key    = taint.value.key
      value  = taint.value.value
      effect = taint.value.effect
    }
  }

  dynamic "launch_template" {
    for_each = aws_launch_template.pool

    content {
      id      = launch_template.value.id
      version = launch_template.value.latest_version
    }
  }

  tags = local.tags

  lifecycle {
    # The cluster autoscaler owns the desired size once the pool exists.
    ignore_changes = [scaling_config[0].desired_size]
  }
}
