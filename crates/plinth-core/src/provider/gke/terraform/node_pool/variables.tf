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

variable "pool" {
  description = "The node pool: its provider-side name and resolved configuration."
  type = object({
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
  })
}
