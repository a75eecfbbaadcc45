# Plinth's services module: applies one kustomize overlay (one service of one cluster in one
# environment) with the kbst/kustomization provider, configured from the cluster's kubeconfig.
terraform {
  required_providers {
    kustomization = {
      source = "kbst/kustomization"
    }
  }
}

variable "path" {
  description = "The overlay Plinth generated for this service, cluster and environment."
  type        = string
}

variable "helm" {
  description = "Whether the overlay renders a Helm chart (`helmCharts`): needs `helm` where terraform runs."
  type        = bool
  default     = false
}

data "kustomization_build" "current" {
  path = var.path

  dynamic "kustomize_options" {
    for_each = var.helm ? ["helm"] : []

    content {
      enable_helm = true
    }
  }
}

locals {
  # The provider sorts resources into three waves: namespaces and CRDs first, then what other
  # resources depend on, then everything else. A build without resources has no waves.
  waves     = data.kustomization_build.current.ids_prio
  manifests = data.kustomization_build.current.manifests
  wave0     = try(local.waves[0], toset([]))
  wave1     = try(local.waves[1], toset([]))
  wave2     = try(local.waves[2], toset([]))
}

# Secrets are applied as sensitive values so their data never shows in plans.
resource "kustomization_resource" "wave0" {
  for_each = local.wave0

  manifest = can(regex("^_/Secret/", each.value)) ? sensitive(local.manifests[each.value]) : local.manifests[each.value]
}

resource "kustomization_resource" "wave1" {
  for_each = local.wave1

  manifest = can(regex("^_/Secret/", each.value)) ? sensitive(local.manifests[each.value]) : local.manifests[each.value]

  depends_on = [kustomization_resource.wave0]
}

resource "kustomization_resource" "wave2" {
  for_each = local.wave2

  manifest = can(regex("^_/Secret/", each.value)) ? sensitive(local.manifests[each.value]) : local.manifests[each.value]

  depends_on = [kustomization_resource.wave1]
}

output "ids" {
  description = "Kubernetes resource ids applied, by wave."
  value       = [keys(kustomization_resource.wave0), keys(kustomization_resource.wave1), keys(kustomization_resource.wave2)]
}
