locals {
  zones = var.config.cluster_availability_zones
  cidr  = var.config.cluster_vpc_cidr

  # Control plane subnets take the first slots of the VPC; node subnets start at an offset so
  # the two never overlap (Kubestack's layout).
  control_newbits = var.config.cluster_vpc_subnet_newbits != null ? var.config.cluster_vpc_subnet_newbits : var.config.cluster_vpc_control_subnet_newbits
  node_newbits    = var.config.cluster_vpc_subnet_newbits != null ? var.config.cluster_vpc_subnet_newbits : var.config.cluster_vpc_node_subnet_newbits
  node_offset     = var.config.cluster_vpc_node_subnet_number_offset

  # Subnets without public IPs reach the internet (image pulls, joining the cluster) through
  # NAT gateways in the control subnets: the cluster's node subnets when
  # `cluster_vpc_subnet_map_public_ip = false`, and every pool subnet of its own that maps no
  # public IPs. One NAT gateway per zone (Kubestack's layout), or a single shared one.
  private_nodes = !var.config.cluster_vpc_subnet_map_public_ip
  private_pools = anytrue([
    for pool in values(var.node_pools) :
    pool.config.vpc_secondary_cidr != null && pool.config.vpc_subnet_ids == null && !pool.config.vpc_subnet_map_public_ip
  ])
  nat_count = local.private_nodes || local.private_pools ? (var.config.cluster_vpc_nat_gateways == "single" ? 1 : length(local.zones)) : 0
}

resource "aws_vpc" "current" {
  cidr_block           = local.cidr
  enable_dns_support   = var.config.cluster_vpc_dns_support
  enable_dns_hostnames = var.config.cluster_vpc_dns_hostnames

  tags = merge(local.tags, { Name = var.metadata.name })
}

# The VPC's default security group, emptied: nothing Plinth creates uses it (EKS makes its own),
# and anything launched into it by accident gets no traffic.
resource "aws_default_security_group" "current" {
  vpc_id = aws_vpc.current.id

  tags = merge(local.tags, { Name = "${var.metadata.name}-default" })
}

resource "aws_internet_gateway" "current" {
  vpc_id = aws_vpc.current.id

  tags = merge(local.tags, { Name = var.metadata.name })
}

# The public route table: the control subnets (which hold the NAT gateways and internet-facing
# load balancers) and every public node subnet.
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
  map_public_ip_on_launch = var.config.cluster_vpc_legacy_node_subnets ? var.config.cluster_vpc_subnet_map_public_ip : false

  # Internet-facing load balancers (the ingress controller's) go into these public subnets.
  tags = merge(local.tags, {
    Name                     = "${var.metadata.name}-control-${local.zones[count.index]}"
    "kubernetes.io/role/elb" = "1"
  })
}

resource "aws_route_table_association" "control" {
  count = length(local.zones)

  subnet_id      = aws_subnet.control[count.index].id
  route_table_id = aws_route_table.current.id
}

resource "aws_eip" "nat" {
  count = local.nat_count

  domain = "vpc"

  tags = merge(local.tags, { Name = "${var.metadata.name}-nat-${local.zones[count.index]}" })
}

resource "aws_nat_gateway" "current" {
  count = local.nat_count

  allocation_id = aws_eip.nat[count.index].id
  subnet_id     = aws_subnet.control[count.index].id

  tags = merge(local.tags, { Name = "${var.metadata.name}-${local.zones[count.index]}" })

  depends_on = [aws_internet_gateway.current]
}

# Private route tables, one per zone, each through its zone's NAT gateway (or the single one).
resource "aws_route_table" "private" {
  count = local.nat_count > 0 ? length(local.zones) : 0

  vpc_id = aws_vpc.current.id

  route {
    cidr_block     = "0.0.0.0/0"
    nat_gateway_id = aws_nat_gateway.current[min(count.index, local.nat_count - 1)].id
  }

  tags = merge(local.tags, { Name = "${var.metadata.name}-private-${local.zones[count.index]}" })
}

# Node subnets, one per zone, shared by every node pool that brings no subnets of its own.
resource "aws_subnet" "node" {
  count = var.config.cluster_vpc_legacy_node_subnets ? 0 : length(local.zones)

  vpc_id                  = aws_vpc.current.id
  availability_zone       = local.zones[count.index]
  cidr_block              = cidrsubnet(local.cidr, local.node_newbits, local.node_offset + count.index)
  map_public_ip_on_launch = var.config.cluster_vpc_subnet_map_public_ip

  # Private node subnets take internal load balancers.
  tags = merge(local.tags, local.private_nodes ? { "kubernetes.io/role/internal-elb" = "1" } : {}, {
    Name = "${var.metadata.name}-node-${local.zones[count.index]}"
  })
}

resource "aws_route_table_association" "node" {
  count = length(aws_subnet.node)

  subnet_id      = aws_subnet.node[count.index].id
  route_table_id = local.private_nodes ? aws_route_table.private[count.index].id : aws_route_table.current.id
}

locals {
  # Legacy layout: nodes share the control plane subnets.
  node_subnet_ids = var.config.cluster_vpc_legacy_node_subnets ? aws_subnet.control[*].id : aws_subnet.node[*].id
  node_subnets    = zipmap(local.zones, local.node_subnet_ids)

  # Route tables by zone, for pools with subnets of their own.
  public_route_tables  = { for zone in local.zones : zone => aws_route_table.current.id }
  private_route_tables = zipmap(slice(local.zones, 0, length(aws_route_table.private)), aws_route_table.private[*].id)
}
