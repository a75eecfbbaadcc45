locals {
  zones = var.config.cluster_availability_zones
  cidr  = var.config.cluster_vpc_cidr

  # Control plane subnets take the first slots of the VPC; node subnets start at an offset so
  # the two never overlap (Kubestack's layout).
  control_newbits = var.config.cluster_vpc_subnet_newbits != null ? var.config.cluster_vpc_subnet_newbits : var.config.cluster_vpc_control_subnet_newbits
  node_newbits    = var.config.cluster_vpc_subnet_newbits != null ? var.config.cluster_vpc_subnet_newbits : var.config.cluster_vpc_node_subnet_newbits
  node_offset     = var.config.cluster_vpc_node_subnet_number_offset
}

resource "aws_vpc" "current" {
  cidr_block           = local.cidr
  enable_dns_support   = var.config.cluster_vpc_dns_support
  enable_dns_hostnames = var.config.cluster_vpc_dns_hostnames

  tags = merge(local.tags, { Name = var.metadata.name })
}

resource "aws_internet_gateway" "current" {
  vpc_id = aws_vpc.current.id

  tags = merge(local.tags, { Name = var.metadata.name })
}

resource "aws_route_table" "current" {
  vpc_id = aws_vpc.current.id

  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.current.id
  }

  tags = merge(local.tags, { Name = var.metadata.name })
}

resource "aws_subnet" "control" {
  count = length(local.zones)

  vpc_id                  = aws_vpc.current.id
  availability_zone       = local.zones[count.index]
  cidr_block              = cidrsubnet(local.cidr, local.control_newbits, count.index)
  map_public_ip_on_launch = var.config.cluster_vpc_subnet_map_public_ip

  tags = merge(local.tags, { Name = "${var.metadata.name}-control-${local.zones[count.index]}" })
}

resource "aws_route_table_association" "control" {
  count = length(local.zones)

  subnet_id      = aws_subnet.control[count.index].id
  route_table_id = aws_route_table.current.id
}

# Node subnets, one per zone, shared by every node pool that brings no subnets of its own.
resource "aws_subnet" "node" {
  count = var.config.cluster_vpc_legacy_node_subnets ? 0 : length(local.zones)

  vpc_id                  = aws_vpc.current.id
  availability_zone       = local.zones[count.index]
  cidr_block              = cidrsubnet(local.cidr, local.node_newbits, local.node_offset + count.index)
  map_public_ip_on_launch = var.config.cluster_vpc_subnet_map_public_ip

  tags = merge(local.tags, { Name = "${var.metadata.name}-node-${local.zones[count.index]}" })
}

resource "aws_route_table_association" "node" {
  count = length(aws_subnet.node)

  subnet_id      = aws_subnet.node[count.index].id
  route_table_id = aws_route_table.current.id
}

locals {
  # Legacy layout: nodes share the control plane subnets.
  node_subnet_ids = var.config.cluster_vpc_legacy_node_subnets ? aws_subnet.control[*].id : aws_subnet.node[*].id
  node_subnets    = zipmap(local.zones, local.node_subnet_ids)
}
