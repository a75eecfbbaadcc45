# Generated from Plinth's key tables (src/provider/<id>/mod.rs); do not edit.
# Regenerate with `PLINTH_UPDATE_MODULES=1 cargo test -p plinth-core modules`.

variable "metadata" {
  description = "The cluster's name, domain, fqdn, labels and tags in this environment, computed by Plinth."
  type = object({
    name          = string
    domain        = string
    fqdn          = string
    workspace     = string
    provider_name = string
    region        = string
    labels        = map(string)
    tags          = list(string)
  })
}

variable "config" {
  description = "The cluster's configuration in this environment, resolved by Plinth (inheritance and defaults applied)."
  type = object({
    name_prefix                                 = string
    base_domain                                 = string
    project_id                                  = string
    region                                      = string
    cluster_min_master_version                  = optional(string)
    cluster_release_channel                     = string
    cluster_daily_maintenance_window_start_time = string
    cluster_maintenance_exclusion = optional(object({
      start_time     = string
      end_time       = string
      exclusion_name = string
      scope          = optional(string)
    }))
    cluster_node_locations                        = optional(list(string))
    deletion_protection                           = optional(bool)
    enable_private_nodes                          = bool
    enable_private_endpoint                       = bool
    master_cidr_block                             = string
    cluster_ipv4_cidr_block                       = optional(string)
    services_ipv4_cidr_block                      = optional(string)
    enable_network_policy                         = bool
    enable_dataplane_v2                           = bool
    network_mode                                  = string
    enable_vpc_flow_logs                          = bool
    enable_cloud_nat                              = bool
    cloud_nat_ip_count                            = number
    cloud_nat_min_ports_per_vm                    = optional(number)
    master_authorized_networks_config_cidr_blocks = optional(list(string))
    disable_workload_identity                     = bool
    node_workload_metadata_config                 = string
    enable_intranode_visibility                   = optional(bool)
    enable_tpu                                    = optional(bool)
    logging_config = optional(object({
      enable_components = optional(list(string))
    }))
    monitoring_config = optional(object({
      enable_components = optional(list(string))
    }))
    router_asn = optional(number)
    router_advertise_config = optional(object({
      mode      = optional(string)
      groups    = optional(list(string))
      ip_ranges = optional(map(string))
    }))
    cluster_database_encryption_key_name = optional(string)
    enable_gcs_fuse_csi_driver           = optional(bool)
    disable_default_ingress              = bool
  })
}

variable "node_pools" {
  description = "Node pools by key, each with its provider-side name and resolved configuration; `default` is created with the cluster."
  type = map(object({
    name = string
    config = object({
      name               = optional(string)
      location           = optional(string)
      node_locations     = optional(list(string))
      machine_type       = string
      min_node_count     = number
      max_node_count     = number
      initial_node_count = number
      location_policy    = string
      disk_size_gb       = number
      disk_type          = string
      image_type         = string
      preemptible        = bool
      auto_repair        = bool
      auto_upgrade       = bool
      taints = optional(list(object({
        key    = string
        value  = optional(string)
        effect = string
      })))
      labels                    = optional(map(string))
      instance_tags             = optional(list(string))
      extra_oauth_scopes        = optional(list(string))
      service_account_email     = optional(string)
      kubestack_service_account = bool
      guest_accelerator = optional(object({
        type               = string
        count              = number
        gpu_partition_size = optional(string)
        gpu_sharing_config = optional(object({
          gpu_sharing_strategy       = string
          max_shared_clients_per_gpu = number
        }))
      }))
      ephemeral_storage_local_ssd_config = optional(object({
        local_ssd_count = number
      }))
      network_config = optional(object({
        create_pod_range     = optional(bool)
        enable_private_nodes = optional(bool)
        pod_ipv4_cidr_block  = optional(string)
        pod_range            = optional(string)
      }))
    })
  }))
}
