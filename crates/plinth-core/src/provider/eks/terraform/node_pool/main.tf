locals {
  config = var.pool.config
  zones  = local.config.availability_zones != null ? local.config.availability_zones : var.cluster.zones

  # A pool with a secondary CIDR gets subnets of its own in that CIDR, associated with the
  # cluster's VPC here; otherwise it uses the given subnets, or the cluster's node subnets.
  own_subnets = local.config.vpc_subnet_ids == null && local.config.vpc_secondary_cidr != null
  newbits     = local.config.vpc_subnet_newbits != null ? local.config.vpc_subnet_newbits : 2
  subnet_ids = (
    local.config.vpc_subnet_ids != null ? local.config.vpc_subnet_ids :
    local.own_subnets ? aws_subnet.pool[*].id :
    [for zone in local.zones : var.cluster.subnets[zone]]
  )
  # Public pool subnets route to the internet gateway; private ones through the zone's NAT
  # gateway (the cluster module creates NAT gateways when a pool needs them).
  route_tables = local.config.vpc_subnet_map_public_ip ? var.cluster.public_route_tables : var.cluster.private_route_tables

  tags = merge(var.cluster.tags, local.config.tags == null ? {} : local.config.tags)

  # Bottlerocket keeps its OS on /dev/xvda and containers and images on /dev/xvdb; the other
  # AMIs have one root volume, /dev/xvda.
  # A Kubestack node group's template sets only the root volume's size, on the root device of
  # the EKS-optimized AMIs Kubestack looks up (/dev/xvda).
  kubestack    = local.config.kubestack_node_group
  bottlerocket = startswith(local.config.ami_type, "BOTTLEROCKET")
  volumes = local.bottlerocket && !local.kubestack ? [
    { device = "/dev/xvda", size = null },
    { device = "/dev/xvdb", size = local.config.disk_size },
  ] : [{ device = "/dev/xvda", size = local.config.disk_size }]

  # IMDSv2 only, and one hop: pods without host networking cannot take the node's credentials
  # (they use IAM roles for service accounts). A Kubestack template has the options as given.
  metadata = local.config.metadata_options == null ? {
    http_endpoint               = null
    http_tokens                 = null
    http_put_response_hop_limit = null
    http_protocol_ipv6          = null
    instance_metadata_tags      = null
  } : local.config.metadata_options

  # Kubestack creates a launch template only for `metadata_options`.
  launch_template = !local.kubestack || local.config.metadata_options != null
}

resource "aws_vpc_ipv4_cidr_block_association" "pool" {
  count = local.own_subnets ? 1 : 0

  vpc_id     = var.cluster.vpc_id
  cidr_block = local.config.vpc_secondary_cidr
}

resource "aws_subnet" "pool" {
  count = local.own_subnets ? length(local.zones) : 0

  # The subnets can only be created once the CIDR belongs to the VPC.
  vpc_id                  = aws_vpc_ipv4_cidr_block_association.pool[0].vpc_id
  availability_zone       = local.zones[count.index]
  cidr_block              = cidrsubnet(local.config.vpc_secondary_cidr, local.newbits, local.config.vpc_subnet_number_offset + count.index)
  map_public_ip_on_launch = local.config.vpc_subnet_map_public_ip

  tags = merge(local.tags, { Name = "${var.cluster.name}-${var.pool.name}-${local.zones[count.index]}" })
}

resource "aws_route_table_association" "pool" {
  count = length(aws_subnet.pool)

  subnet_id      = aws_subnet.pool[count.index].id
  route_table_id = local.route_tables[local.zones[count.index]]
}

# Every pool has a launch template: encrypted volumes, IMDSv2 and tags on the instances. A pool
# imported from Kubestack (`kubestack_node_group`) keeps its node group and launch template as
# Kubestack made them (a template only with `metadata_options`, holding the root volume's size and
# those options): adding or changing a template's settings would replace the node group or roll
# its nodes.
resource "aws_launch_template" "pool" {
  count = local.launch_template ? 1 : 0

  # Launch template names are limited to 128 characters: Kubestack's truncation plus a hash.
  name = "${substr("${var.cluster.name}-${var.pool.name}", 0, 120)}-${substr(sha256("${var.cluster.name}-${var.pool.name}"), 0, 7)}"

  metadata_options {
    http_endpoint               = local.kubestack ? local.metadata.http_endpoint : coalesce(local.metadata.http_endpoint, "enabled")
    http_tokens                 = local.kubestack ? local.metadata.http_tokens : coalesce(local.metadata.http_tokens, "required")
    http_put_response_hop_limit = local.kubestack ? local.metadata.http_put_response_hop_limit : coalesce(local.metadata.http_put_response_hop_limit, 1)
    http_protocol_ipv6          = local.metadata.http_protocol_ipv6
    instance_metadata_tags      = local.metadata.instance_metadata_tags
  }

  dynamic "block_device_mappings" {
    for_each = local.volumes

    content {
      device_name = block_device_mappings.value.device

      ebs {
        volume_size           = block_device_mappings.value.size
        volume_type           = local.kubestack ? null : "gp3"
        encrypted             = local.kubestack ? null : true
        delete_on_termination = local.kubestack ? null : true
      }
    }
  }

  dynamic "tag_specifications" {
    for_each = local.kubestack ? [] : ["instance", "volume"]

    content {
      resource_type = tag_specifications.value
      tags          = local.tags
    }
  }

  tags = local.tags
}

resource "aws_eks_node_group" "pool" {
  cluster_name = var.cluster.name
  # A generated suffix lets a replacement pool be created before the old one is destroyed
  # (changing the instance types, AMI type, zones or subnets replaces the node group); a
  # Kubestack node group keeps its fixed name.
  node_group_name        = local.config.kubestack_node_group ? var.pool.name : null
  node_group_name_prefix = local.config.kubestack_node_group ? null : "${var.pool.name}-"
  node_role_arn          = var.cluster.node_role_arn
  disk_size              = local.launch_template ? null : local.config.disk_size
  subnet_ids             = local.subnet_ids
  instance_types         = local.config.instance_types
  ami_type               = local.config.ami_type
  # Nodes follow the control plane's Kubernetes version (upgraded after it, in place).
  version         = var.cluster.version
  release_version = local.config.ami_release_version
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
    create_before_destroy = true
    # The cluster autoscaler owns the desired size once the pool exists.
    ignore_changes = [scaling_config[0].desired_size]
  }
}
