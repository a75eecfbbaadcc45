locals {
  ingress = !var.config.disable_default_ingress

  # Kubestack's taint effects (as EKS and GKE spell them) to Kubernetes'.
  effects = {
    NO_SCHEDULE        = "NoSchedule"
    PREFER_NO_SCHEDULE = "PreferNoSchedule"
    NO_EXECUTE         = "NoExecute"
  }

  # The ingress controller is scheduled on the node labelled `ingress-ready=true`, which takes
  # the host's HTTP and HTTPS ports (kind's ingress guide).
  ingress_patch = yamlencode({
    kind = "InitConfiguration"
    nodeRegistration = {
      kubeletExtraArgs = {
        node-labels = "ingress-ready=true"
      }
    }
  })
  ingress_ports = [
    { container_port = 80, host_port = var.config.http_port },
    { container_port = 443, host_port = var.config.https_port },
  ]

  # Pools in a fixed order: `default` first, then the others by key.
  pool_keys = concat(
    [for key in keys(var.node_pools) : key if key == "default"],
    [for key in keys(var.node_pools) : key if key != "default"],
  )

  # kind has no taints of its own: a kubeadm join patch registers each worker with them.
  taints = {
    for key, pool in var.node_pools : key => [
      for t in coalesce(pool.config.taints, []) :
      merge({ key = t.key, effect = local.effects[t.effect] }, t.value == null ? {} : { value = t.value })
    ]
  }

  # One worker node per node of each pool; a pool with `nodes = 0` adds none (the default
  # pool's workloads then run on the control plane).
  workers = flatten([
    for key in local.pool_keys : [
      for i in range(var.node_pools[key].config.nodes) : {
        image  = var.node_pools[key].config.node_image != null ? var.node_pools[key].config.node_image : var.config.node_image
        labels = var.node_pools[key].config.labels
        patches = length(local.taints[key]) == 0 ? [] : [yamlencode({
          kind             = "JoinConfiguration"
          nodeRegistration = { taints = local.taints[key] }
        })]
      }
    ]
  ])

  # kind's cluster-wide node image overrides every node's image, so it is only set when no
  # pool brings an image of its own; each node names its image either way.
  own_images = anytrue([for w in local.workers : w.image != var.config.node_image])
}

resource "kind_cluster" "current" {
  name           = var.metadata.name
  node_image     = local.own_images ? null : var.config.node_image
  wait_for_ready = true

  kind_config {
    kind        = "Cluster"
    api_version = "kind.x-k8s.io/v1alpha4"

    node {
      role                   = "control-plane"
      image                  = var.config.node_image
      kubeadm_config_patches = local.ingress ? [local.ingress_patch] : []

      dynamic "extra_port_mappings" {
        for_each = local.ingress ? local.ingress_ports : []

        content {
          container_port = extra_port_mappings.value.container_port
          host_port      = extra_port_mappings.value.host_port
        }
      }
    }

    dynamic "node" {
      for_each = var.config.extra_nodes == null ? [] : var.config.extra_nodes

      content {
        role  = node.value
        image = var.config.node_image
      }
    }

    dynamic "node" {
      for_each = local.workers

      content {
        role                   = "worker"
        image                  = node.value.image
        labels                 = node.value.labels
        kubeadm_config_patches = node.value.patches
      }
    }
  }
}
