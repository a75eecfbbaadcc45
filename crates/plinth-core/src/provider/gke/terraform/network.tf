locals {
  # The nodes' primary range. Plinth has no key for it, so it is fixed: inside 10.128.0.0/9, the
  # range of auto-mode networks (where Kubestack's nodes were), which Kubestack platforms'
  # pod, service and control plane CIDRs already avoid. Pods and services get secondary ranges
  # that GKE creates (see ip_allocation_policy).
  node_cidr = "10.128.0.0/20"

  # `network_mode = "auto"` is Kubestack's network, adopted as it is: an auto-mode VPC (one
  # subnetwork per region, Google's), referenced the way Kubestack did, and no subnetwork of
  # Plinth's. The cluster then runs in the region's automatic subnetwork.
  auto = var.config.network_mode == "auto"

  advertise = var.config.router_advertise_config
  # Groups and ranges are only advertised in CUSTOM mode; as Kubestack, other modes drop them.
  custom = local.advertise == null ? false : local.advertise.mode == "CUSTOM"
}

resource "google_compute_network" "current" {
  name                    = var.metadata.name
  auto_create_subnetworks = local.auto
}

resource "google_compute_subnetwork" "current" {
  count = local.auto ? 0 : 1

  name          = var.metadata.name
  region        = var.metadata.region
  network       = google_compute_network.current.id
  ip_cidr_range = local.node_cidr

  # Private nodes reach Google APIs (image pulls, logging) without public IPs.
  private_ip_google_access = true

  dynamic "log_config" {
    for_each = var.config.enable_vpc_flow_logs ? [1] : []

    content {
      aggregation_interval = "INTERVAL_5_MIN"
      flow_sampling        = 0.5
      metadata             = "INCLUDE_ALL_METADATA"
    }
  }
}

# Plinth's first versions always created the subnetwork, without `count`.
moved {
  from = google_compute_subnetwork.current
  to   = google_compute_subnetwork.current[0]
}

# Cloud NAT gives private nodes outbound access. Its router only carries BGP settings when
# `router_asn` is set; without Cloud NAT there is no router and both router keys are unused.
resource "google_compute_router" "current" {
  count = var.config.enable_cloud_nat ? 1 : 0

  name    = var.metadata.name
  region  = var.metadata.region
  network = local.auto ? google_compute_network.current.name : google_compute_network.current.id

  dynamic "bgp" {
    for_each = var.config.router_asn == null ? [] : [var.config.router_asn]

    content {
      asn               = bgp.value
      advertise_mode    = local.advertise == null ? null : local.advertise.mode
      advertised_groups = local.custom ? local.advertise.groups : null

      dynamic "advertised_ip_ranges" {
        for_each = local.custom ? (local.advertise.ip_ranges == null ? {} : local.advertise.ip_ranges) : {}

        content {
          range       = advertised_ip_ranges.key
          description = advertised_ip_ranges.value
        }
      }
    }
  }

  lifecycle {
    precondition {
      condition     = var.config.router_advertise_config == null || var.config.router_asn != null
      error_message = "router_advertise_config needs router_asn: the router's BGP settings require an ASN."
    }
  }
}

resource "google_compute_router_nat" "current" {
  count = var.config.enable_cloud_nat ? 1 : 0

  name   = var.metadata.name
  region = google_compute_router.current[0].region
  router = google_compute_router.current[0].name

  # Automatic addresses, or `cloud_nat_ip_count` reserved ones (stable egress IPs that other
  # parties can allow-list).
  nat_ip_allocate_option             = var.config.cloud_nat_ip_count > 0 ? "MANUAL_ONLY" : "AUTO_ONLY"
  nat_ips                            = google_compute_address.nat[*].self_link
  source_subnetwork_ip_ranges_to_nat = "ALL_SUBNETWORKS_ALL_IP_RANGES"
  min_ports_per_vm                   = var.config.cloud_nat_min_ports_per_vm

  log_config {
    enable = true
    filter = "ERRORS_ONLY"
  }
}

resource "google_compute_address" "nat" {
  count = var.config.enable_cloud_nat ? var.config.cloud_nat_ip_count : 0

  name   = "${var.metadata.name}-nat-${count.index}"
  region = var.metadata.region
}
