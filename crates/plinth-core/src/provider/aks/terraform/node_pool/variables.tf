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
      node_pool_name      = optional(string)
      vm_size             = string
      min_count           = number
      max_count           = optional(number)
      enable_auto_scaling = bool
      node_count          = number
      max_pods            = number
      os_disk_type        = string
      os_disk_size_gb     = optional(number)
      use_spot            = bool
      max_spot_price      = number
      eviction_policy     = optional(string)
      node_labels         = optional(map(string))
      node_taints         = optional(list(string))
      availability_zones  = optional(list(string))
      upgrade_settings = optional(object({
        max_surge                     = string
        drain_timeout_in_minutes      = optional(number)
        node_soak_duration_in_minutes = optional(number)
      }))
    })
  })
}
