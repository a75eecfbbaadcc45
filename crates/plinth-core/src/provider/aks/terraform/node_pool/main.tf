locals {
  config = var.pool.config
  auto   = local.config.enable_auto_scaling
  spot   = local.config.use_spot

  # AKS labels and taints spot nodes itself; writing both here keeps plans from drifting.
  spot_key = "kubernetes.azure.com/scalesetpriority"
  node_labels = merge(
    local.config.node_labels == null ? {} : local.config.node_labels,
    local.spot ? { (local.spot_key) = "spot" } : {},
  )
  node_taints = distinct(concat(
    local.config.node_taints == null ? [] : local.config.node_taints,
    local.spot ? ["${local.spot_key}=spot:NoSchedule"] : [],
  ))
}

resource "azurerm_kubernetes_cluster_node_pool" "pool" {
  name                  = var.pool.name
  kubernetes_cluster_id = var.cluster.id
  mode                  = "User"
  vm_size               = local.config.vm_size
  orchestrator_version  = var.cluster.kubernetes_version
  # Lets Azure rotate the pool through a temporary one when a property that cannot change in
  # place (VM size, OS disk, zones, max pods) changes, instead of failing: a letter-first name
  # of at most 12 characters, unique per pool.
  temporary_name_for_rotation = "${substr(var.pool.name, 0, 6)}${substr(sha1(var.pool.name), 0, 6)}"
  zones                       = local.config.availability_zones != null ? local.config.availability_zones : var.cluster.zones
  vnet_subnet_id              = var.cluster.subnet_id

  auto_scaling_enabled = local.auto
  min_count            = local.auto ? local.config.min_count : null
  max_count            = local.auto ? local.config.max_count : null
  # While autoscaling, `node_count` is only the initial size: Azure wants it within min..max.
  node_count = local.auto ? max(local.config.min_count, min(local.config.node_count, local.config.max_count)) : local.config.node_count

  max_pods        = local.config.max_pods
  os_disk_type    = local.config.os_disk_type
  os_disk_size_gb = local.config.os_disk_size_gb

  # Spot settings are only accepted on spot pools.
  priority        = local.spot ? "Spot" : "Regular"
  eviction_policy = local.spot ? local.config.eviction_policy : null
  spot_max_price  = local.spot ? local.config.max_spot_price : null

  node_labels = local.node_labels
  node_taints = local.node_taints

  dynamic "upgrade_settings" {
    for_each = local.config.upgrade_settings == null ? [] : [local.config.upgrade_settings]

    content {
      max_surge                     = upgrade_settings.value.max_surge
      drain_timeout_in_minutes      = upgrade_settings.value.drain_timeout_in_minutes
      node_soak_duration_in_minutes = upgrade_settings.value.node_soak_duration_in_minutes
    }
  }

  tags = var.cluster.tags

  lifecycle {
    # The cluster autoscaler owns the pool's size once it exists.
    ignore_changes = [node_count]
  }
}
