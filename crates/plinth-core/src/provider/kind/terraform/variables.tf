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
    name_prefix             = string
    base_domain             = string
    region                  = string
    node_image              = optional(string)
    extra_nodes             = optional(list(string))
    http_port               = number
    https_port              = number
    disable_default_ingress = bool
  })
}

variable "node_pools" {
  description = "Node pools by key, each with its provider-side name and resolved configuration; `default` is created with the cluster."
  type = map(object({
    name = string
    config = object({
      nodes      = number
      node_image = optional(string)
      labels     = optional(map(string))
      taints = optional(list(object({
        key    = string
        value  = optional(string)
        effect = string
      })))
    })
  }))
}
