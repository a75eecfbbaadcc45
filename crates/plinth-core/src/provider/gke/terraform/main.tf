locals {
  # GCP labels: keys and values of at most 63 lowercase letters, digits, `-` and `_` (keys start
  # with a letter), so the metadata labels cannot be used as they are. They are sanitized, not
  # replaced by the metadata tags (a list, without keys): lowercased, `/` becomes `_` and every
  # other character outside the set becomes `-`, then cut to 63 characters.
  # `kubestack.com/cluster_fqdn = kbst-ops-europe-west3.gcp.infra.example.com` becomes
  # `kubestack-com_cluster_fqdn = kbst-ops-europe-west3-gcp-infra-example-com`.
  labels = {
    for k, v in var.metadata.labels :
    substr(replace(replace(lower(k), "/[/]/", "_"), "/[^a-z0-9_-]/", "-"), 0, 63) =>
    substr(replace(lower(v), "/[^a-z0-9_-]/", "-"), 0, 63)
  }

  exclusion = var.config.cluster_maintenance_exclusion
  calico    = var.config.enable_network_policy && !var.config.enable_dataplane_v2
  # Components are only sent when listed: unset keeps GKE's defaults.
  logging_components    = var.config.logging_config == null ? null : var.config.logging_config.enable_components
  monitoring_components = var.config.monitoring_config == null ? null : var.config.monitoring_config.enable_components
}

resource "google_container_cluster" "current" {
  name                        = var.metadata.name
  location                    = var.metadata.region
  node_locations              = var.config.cluster_node_locations
  min_master_version          = var.config.cluster_min_master_version
  deletion_protection         = var.config.deletion_protection
  enable_intranode_visibility = var.config.enable_intranode_visibility
  enable_tpu                  = var.config.enable_tpu
  resource_labels             = local.labels

  network    = local.auto ? google_compute_network.current.self_link : google_compute_network.current.id
  subnetwork = one(google_compute_subnetwork.current[*].id)

  # NetworkPolicies are enforced: by Calico (as Kubestack), or by Dataplane V2, which has it
  # built in (and then refuses the Calico settings).
  datapath_provider = var.config.enable_dataplane_v2 ? "ADVANCED_DATAPATH" : null

  network_policy {
    enabled  = local.calico
    provider = local.calico ? "CALICO" : null
  }

  # Every pool, `default` included, is a node pool of ./node_pool: GKE's own default pool is
  # created with one node per zone and removed at once (Kubestack's way).
  remove_default_node_pool = true
  initial_node_count       = 1

  # No client certificate: the kubeconfig uses a short-lived access token.
  master_auth {
    client_certificate_config {
      issue_client_certificate = false
    }
  }

  release_channel {
    channel = var.config.cluster_release_channel
  }

  maintenance_policy {
    daily_maintenance_window {
      start_time = var.config.cluster_daily_maintenance_window_start_time
    }

    dynamic "maintenance_exclusion" {
      for_each = local.exclusion == null ? [] : [local.exclusion]

      content {
        exclusion_name = maintenance_exclusion.value.exclusion_name
        start_time     = maintenance_exclusion.value.start_time
        end_time       = maintenance_exclusion.value.end_time

        dynamic "exclusion_options" {
          for_each = maintenance_exclusion.value.scope == null ? [] : [maintenance_exclusion.value.scope]

          content {
            scope = exclusion_options.value
          }
        }
      }
    }
  }

  # The control plane's range only applies to private nodes (VPC peering).
  private_cluster_config {
    enable_private_nodes    = var.config.enable_private_nodes
    enable_private_endpoint = var.config.enable_private_endpoint
    master_ipv4_cidr_block  = var.config.enable_private_nodes ? var.config.master_cidr_block : null
  }

  # VPC-native: GKE creates the pod and service secondary ranges, with these CIDRs when set.
  ip_allocation_policy {
    cluster_ipv4_cidr_block  = var.config.cluster_ipv4_cidr_block
    services_ipv4_cidr_block = var.config.services_ipv4_cidr_block
  }

  # An empty list keeps the block: no network may reach the public endpoint.
  dynamic "master_authorized_networks_config" {
    for_each = var.config.master_authorized_networks_config_cidr_blocks == null ? [] : [var.config.master_authorized_networks_config_cidr_blocks]

    content {
      dynamic "cidr_blocks" {
        for_each = master_authorized_networks_config.value

        content {
          cidr_block   = cidr_blocks.value
          display_name = "master_authorized_networks_${cidr_blocks.value}"
        }
      }
    }
  }

  dynamic "workload_identity_config" {
    for_each = var.config.disable_workload_identity ? [] : ["${var.config.project_id}.svc.id.goog"]

    content {
      workload_pool = workload_identity_config.value
    }
  }

  dynamic "database_encryption" {
    for_each = var.config.cluster_database_encryption_key_name == null ? [] : [var.config.cluster_database_encryption_key_name]

    content {
      state    = "ENCRYPTED"
      key_name = database_encryption.value
    }
  }

  dynamic "logging_config" {
    for_each = local.logging_components == null ? [] : [local.logging_components]

    content {
      enable_components = logging_config.value
    }
  }

  dynamic "monitoring_config" {
    for_each = local.monitoring_components == null ? [] : [local.monitoring_components]

    content {
      enable_components = monitoring_config.value
    }
  }

  addons_config {
    network_policy_config {
      disabled = !local.calico
    }

    dynamic "gcs_fuse_csi_driver_config" {
      for_each = var.config.enable_gcs_fuse_csi_driver == null ? [] : [var.config.enable_gcs_fuse_csi_driver]

      content {
        enabled = gcs_fuse_csi_driver_config.value
      }
    }
  }

  lifecycle {
    precondition {
      condition     = !(var.config.disable_workload_identity && var.config.node_workload_metadata_config == "GKE_METADATA")
      error_message = "node_workload_metadata_config = \"GKE_METADATA\" needs workload identity: set it to \"GCE_METADATA\" when disable_workload_identity = true."
    }

    precondition {
      condition     = var.config.enable_private_nodes || !var.config.enable_private_endpoint
      error_message = "enable_private_endpoint = true needs enable_private_nodes = true."
    }
  }
}

module "node_pool" {
  source   = "./node_pool"
  for_each = var.node_pools

  metadata = var.metadata
  pool     = each.value
  cluster = {
    # Kubestack's pools name their cluster; `cluster` replaces a pool when it changes.
    id                    = local.auto ? google_container_cluster.current.name : google_container_cluster.current.id
    name                  = var.metadata.name
    project               = var.config.project_id
    location              = var.metadata.region
    node_locations        = var.config.cluster_node_locations
    service_account_email = google_service_account.nodes.email
    workload_metadata     = var.config.node_workload_metadata_config
    labels                = local.labels
  }

  depends_on = [google_project_iam_member.nodes]
}

data "google_client_config" "current" {}

locals {
  endpoint = "https://${google_container_cluster.current.endpoint}"

  kubeconfig = yamlencode({
    apiVersion = "v1"
    kind       = "Config"
    clusters = [{
      name = var.metadata.name
      cluster = {
        server                     = local.endpoint
        certificate-authority-data = google_container_cluster.current.master_auth[0].cluster_ca_certificate
      }
    }]
    users = [{
      name = var.metadata.name
      user = {
        token = data.google_client_config.current.access_token
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
