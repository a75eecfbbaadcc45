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
      name                 = optional(string)
      instance_types       = list(string)
      min_size             = number
      max_size             = number
      desired_capacity     = number
      availability_zones   = optional(list(string))
      disk_size            = number
      ami_type             = string
      kubestack_node_group = bool
      ami_release_version  = optional(string)
      metadata_options = optional(object({
        http_endpoint               = optional(string)
        http_tokens                 = optional(string)
        http_put_response_hop_limit = optional(number)
        http_protocol_ipv6          = optional(string)
        instance_metadata_tags      = optional(string)
      }))
      vpc_subnet_ids           = optional(list(string))
      vpc_secondary_cidr       = optional(string)
      vpc_subnet_newbits       = optional(number)
      vpc_subnet_number_offset = number
      vpc_subnet_map_public_ip = bool
      taints = optional(list(object({
        key    = string
        value  = optional(string)
        effect = string
      })))
      tags   = optional(map(string))
      labels = optional(map(string))
    })
  })
}
