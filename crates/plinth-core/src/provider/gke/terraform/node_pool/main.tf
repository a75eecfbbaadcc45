locals {
  config = var.pool.config

  # A pool lives in its cluster's location (GKE has no other): `location` is the region or one
  # of its zones, and a zone puts the pool's nodes there. The zones are the pool's
  # `node_locations`, else that zone, else the cluster's, else the region's (GKE's choice).
  location = local.config.location == null ? var.cluster.location : local.config.location
  node_locations = (
    local.config.node_locations != null ? local.config.node_locations :
    local.location != var.cluster.location ? [local.location] :
    var.cluster.node_locations
  )

  # cloud-platform, access then being limited by the service account's IAM roles (as in
  # Kubestack), plus the pool's extra scopes.
  oauth_scopes = distinct(concat(
    ["https://www.googleapis.com/auth/cloud-platform"],
    local.config.extra_oauth_scopes == null ? [] : local.config.extra_oauth_scopes,
  ))
  accelerator = local.config.guest_accelerator

  # Kubestack's account id for a pool of its own: 24 characters of `<pool>-<cluster>` and a hash.
  kubestack_account = "${var.pool.name}-${var.cluster.name}"
  service_account = (
    local.config.service_account_email != null ? local.config.service_account_email :
    local.config.kubestack_service_account ? google_service_account.kubestack[0].email :
    var.cluster.service_account_email
  )
}

resource "google_service_account" "kubestack" {
  count = local.config.kubestack_service_account ? 1 : 0

  account_id = "${substr(local.kubestack_account, 0, 24)}-${substr(sha512(local.kubestack_account), 0, 5)}"
  project    = var.cluster.project
}

resource "google_project_iam_member" "log_writer" {
  count = local.config.kubestack_service_account ? 1 : 0

  project = var.cluster.project
  role    = "roles/logging.logWriter"
  member  = "serviceAccount:${google_service_account.kubestack[0].email}"
}

resource "google_project_iam_member" "metric_writer" {
  count = local.config.kubestack_service_account ? 1 : 0

  project = var.cluster.project
  role    = "roles/monitoring.metricWriter"
  member  = "serviceAccount:${google_service_account.kubestack[0].email}"
}

resource "google_container_node_pool" "pool" {
  name               = var.pool.name
  cluster            = var.cluster.id
  location           = var.cluster.location
  node_locations     = local.node_locations
  initial_node_count = local.config.initial_node_count

  # GKE's sizes are per zone.
  autoscaling {
    min_node_count  = local.config.min_node_count
    max_node_count  = local.config.max_node_count
    location_policy = local.config.location_policy
  }

  management {
    auto_repair  = local.config.auto_repair
    auto_upgrade = local.config.auto_upgrade
  }

  node_config {
    machine_type    = local.config.machine_type
    disk_size_gb    = local.config.disk_size_gb
    disk_type       = local.config.disk_type
    image_type      = local.config.image_type
    preemptible     = local.config.preemptible
    labels          = local.config.labels
    tags            = local.config.instance_tags
    oauth_scopes    = local.oauth_scopes
    service_account = local.service_account
    # The VMs carry the cluster's GCP labels; `labels` above are Kubernetes node labels.
    resource_labels = var.cluster.labels

    dynamic "taint" {
      for_each = local.config.taints == null ? [] : local.config.taints

      content {
        key = taint.value.key
        # The provider requires a value; an empty one is a taint `key:effect`.
        value  = taint.value.value == null ? "" : taint.value.value
        effect = taint.value.effect
      }
    }

    dynamic "guest_accelerator" {
      for_each = local.accelerator == null ? [] : [local.accelerator]

      content {
        type               = guest_accelerator.value.type
        count              = guest_accelerator.value.count
        gpu_partition_size = guest_accelerator.value.gpu_partition_size

        dynamic "gpu_sharing_config" {
          for_each = guest_accelerator.value.gpu_sharing_config == null ? [] : [guest_accelerator.value.gpu_sharing_config]

          content {
            gpu_sharing_strategy       = gpu_sharing_config.value.gpu_sharing_strategy
            max_shared_clients_per_gpu = gpu_sharing_config.value.max_shared_clients_per_gpu
          }
        }
      }
    }

    dynamic "ephemeral_storage_local_ssd_config" {
      for_each = local.config.ephemeral_storage_local_ssd_config == null ? [] : [local.config.ephemeral_storage_local_ssd_config]

      content {
        local_ssd_count = ephemeral_storage_local_ssd_config.value.local_ssd_count
      }
    }

    # The cluster's `node_workload_metadata_config`: GKE_METADATA serves workload identity.
    workload_metadata_config {
      mode = var.cluster.workload_metadata
    }
  }

  dynamic "network_config" {
    for_each = local.config.network_config == null ? [] : [local.config.network_config]

    content {
      create_pod_range     = network_config.value.create_pod_range
      enable_private_nodes = network_config.value.enable_private_nodes
      pod_ipv4_cidr_block  = network_config.value.pod_ipv4_cidr_block
      pod_range            = network_config.value.pod_range
    }
  }

  lifecycle {
    # The cluster autoscaler owns the size once the pool exists.
    ignore_changes = [initial_node_count]

    precondition {
      condition     = local.location == var.cluster.location || startswith(local.location, "${var.cluster.location}-")
      error_message = "Node pool `${var.pool.name}`: location `${local.location}` must be the cluster's region `${var.cluster.location}` or one of its zones."
    }

    precondition {
      condition     = local.config.min_node_count <= local.config.max_node_count
      error_message = "Node pool `${var.pool.name}`: min_node_count (${local.config.min_node_count}) is above max_node_count (${local.config.max_node_count})."
    }
  }
}
