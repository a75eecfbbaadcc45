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
    name_prefix                            = string
    base_domain                            = string
    region                                 = string
    resource_group                         = string
    create_resource_group                  = bool
    availability_zones                     = list(string)
    dns_prefix                             = string
    sku_tier                               = string
    network_layout                         = string
    vnet_address_space                     = list(string)
    subnet_address_prefixes                = list(string)
    subnet_service_endpoints               = optional(list(string))
    network_plugin                         = string
    network_policy                         = string
    service_cidr                           = string
    dns_service_ip                         = string
    pod_cidr                               = string
    max_pods                               = optional(number)
    kubernetes_version                     = optional(string)
    automatic_channel_upgrade              = optional(string)
    enable_azure_policy_agent              = bool
    disable_managed_identities             = optional(bool)
    user_assigned_identity_id              = optional(string)
    enable_log_analytics                   = bool
    keda_enabled                           = optional(bool)
    vertical_pod_autoscaler_enabled        = optional(bool)
    additional_metadata_labels             = optional(map(string))
    api_server_authorized_ip_ranges        = optional(list(string))
    private_cluster_enabled                = bool
    default_node_pool_only_critical_addons = bool
    kubeconfig_auth                        = string
    entra_id_admin_group_object_ids        = optional(list(string))
    disable_default_ingress                = bool
    default_ingress_ip_zones               = optional(list(string))
  })
}

variable "node_pools" {
  description = "Node pools by key, each with its provider-side name and resolved configuration; `default` is created with the cluster."
  type = map(object({
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
  }))
}
