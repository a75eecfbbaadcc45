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
    name_prefix                           = string
    base_domain                           = string
    region                                = string
    cluster_availability_zones            = list(string)
    cluster_version                       = optional(string)
    cluster_vpc_cidr                      = string
    cluster_vpc_subnet_newbits            = optional(number)
    cluster_vpc_control_subnet_newbits    = number
    cluster_vpc_node_subnet_newbits       = number
    cluster_vpc_node_subnet_number_offset = number
    cluster_vpc_legacy_node_subnets       = bool
    cluster_vpc_subnet_map_public_ip      = bool
    cluster_vpc_nat_gateways              = string
    cluster_vpc_dns_hostnames             = bool
    cluster_vpc_dns_support               = bool
    cluster_aws_auth_map_roles = optional(list(object({
      rolearn  = string
      username = string
      groups   = optional(list(string))
    })))
    cluster_aws_auth_map_users = optional(list(object({
      userarn  = string
      username = string
      groups   = optional(list(string))
    })))
    cluster_aws_auth_map_accounts   = optional(list(string))
    enabled_cluster_log_types       = list(string)
    disable_openid_connect_provider = bool
    cluster_endpoint_private_access = bool
    cluster_endpoint_public_access  = bool
    cluster_public_access_cidrs     = optional(list(string))
    cluster_service_cidr            = optional(string)
    cluster_encryption_key_arn      = optional(string)
    disable_default_ingress         = bool
  })
}

variable "node_pools" {
  description = "Node pools by key, each with its provider-side name and resolved configuration; `default` is created with the cluster."
  type = map(object({
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
  }))
}
