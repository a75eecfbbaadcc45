locals {
  # Azure tags: the metadata labels (namespace `kubestack.com-`, as Azure keys cannot hold `/`),
  # which Plinth has already merged with `additional_metadata_labels`.
  tags = var.metadata.labels

  user_assigned = var.config.user_assigned_identity_id != null

  # The `default` pool is the cluster's `default_node_pool` block, as in Kubestack; the others
  # are node pool resources of their own.
  default      = var.node_pools["default"]
  default_cfg  = local.default.config
  extra_pools  = { for key, pool in var.node_pools : key => pool if key != "default" }
  default_auto = local.default_cfg.enable_auto_scaling

  # `none` is Azure's name for no channel; the provider wants the attribute unset instead.
  upgrade_channel = var.config.automatic_channel_upgrade == "none" ? null : var.config.automatic_channel_upgrade

  # The add-ons block only when one of its keys is set, so `false` still turns one off.
  workload_autoscaler = var.config.keda_enabled != null || var.config.vertical_pod_autoscaler_enabled != null

  # Microsoft Entra ID instead of the local account: Azure RBAC, no local accounts, and a
  # kubeconfig that gets tokens from kubelogin.
  entra = var.config.kubeconfig_auth != "local_account"
}

# Container insights. Workspace names allow letters, digits and `-` only.
resource "azurerm_log_analytics_workspace" "current" {
  count = var.config.enable_log_analytics ? 1 : 0

  name                = replace(var.metadata.name, "_", "-")
  location            = local.location
  resource_group_name = local.resource_group
  sku                 = "PerGB2018"
  retention_in_days   = 30

  tags = local.tags
}

resource "azurerm_kubernetes_cluster" "current" {
  name                      = var.metadata.name
  location                  = local.location
  resource_group_name       = local.resource_group
  dns_prefix                = var.config.dns_prefix
  sku_tier                  = var.config.sku_tier
  kubernetes_version        = var.config.kubernetes_version
  automatic_upgrade_channel = local.upgrade_channel
  azure_policy_enabled      = var.config.enable_azure_policy_agent
  private_cluster_enabled   = var.config.private_cluster_enabled

  # Kubernetes RBAC is the provider's default; written out so it cannot be turned off unseen.
  role_based_access_control_enabled = true
  local_account_disabled            = local.entra

  dynamic "azure_active_directory_role_based_access_control" {
    for_each = local.entra ? [1] : []

    content {
      azure_rbac_enabled     = true
      admin_group_object_ids = var.config.entra_id_admin_group_object_ids
    }
  }

  dynamic "api_server_access_profile" {
    for_each = var.config.api_server_authorized_ip_ranges == null ? [] : [var.config.api_server_authorized_ip_ranges]

    content {
      authorized_ip_ranges = api_server_access_profile.value
    }
  }

  default_node_pool {
    name                 = local.default.name
    vm_size              = local.default_cfg.vm_size
    orchestrator_version = var.config.kubernetes_version
    auto_scaling_enabled = local.default_auto
    min_count            = local.default_auto ? local.default_cfg.min_count : null
    max_count            = local.default_auto ? local.default_cfg.max_count : null
    # While autoscaling, `node_count` is only the initial size: Azure wants it within min..max.
    node_count      = local.default_auto ? max(local.default_cfg.min_count, min(local.default_cfg.node_count, local.default_cfg.max_count)) : local.default_cfg.node_count
    max_pods        = coalesce(var.config.max_pods, local.default_cfg.max_pods)
    os_disk_type    = local.default_cfg.os_disk_type
    os_disk_size_gb = local.default_cfg.os_disk_size_gb
    zones           = local.default_cfg.availability_zones != null ? local.default_cfg.availability_zones : var.config.availability_zones
    vnet_subnet_id  = local.subnet_id
    node_labels     = local.default_cfg.node_labels
    # `CriticalAddonsOnly=true:NoSchedule`: system pods only, workloads go to the other pools.
    only_critical_addons_enabled = var.config.default_node_pool_only_critical_addons
    # Lets Azure rotate the default pool through a temporary one when a property that cannot
    # change in place (vm_size, os disk, zones, max_pods) changes, instead of failing.
    temporary_name_for_rotation = "${substr(local.default.name, 0, 9)}tmp"

    dynamic "upgrade_settings" {
      for_each = local.default_cfg.upgrade_settings == null ? [] : [local.default_cfg.upgrade_settings]

      content {
        max_surge                     = upgrade_settings.value.max_surge
        drain_timeout_in_minutes      = upgrade_settings.value.drain_timeout_in_minutes
        node_soak_duration_in_minutes = upgrade_settings.value.node_soak_duration_in_minutes
      }
    }

    tags = local.tags
  }

  identity {
    type         = local.user_assigned ? "UserAssigned" : "SystemAssigned"
    identity_ids = local.user_assigned ? [var.config.user_assigned_identity_id] : null
  }

  network_profile {
    network_plugin = var.config.network_plugin
    network_policy = var.config.network_policy
    # Azure requires the Cilium data plane for the Cilium network policy.
    network_data_plane = var.config.network_policy == "cilium" ? "cilium" : null
    service_cidr       = var.config.service_cidr
    dns_service_ip     = var.config.dns_service_ip
    # Only kubenet assigns pod addresses from a separate range.
    pod_cidr = var.config.network_plugin == "kubenet" ? var.config.pod_cidr : null
  }

  dynamic "oms_agent" {
    for_each = azurerm_log_analytics_workspace.current

    content {
      log_analytics_workspace_id = oms_agent.value.id
    }
  }

  dynamic "workload_autoscaler_profile" {
    for_each = local.workload_autoscaler ? [1] : []

    content {
      keda_enabled                    = var.config.keda_enabled
      vertical_pod_autoscaler_enabled = var.config.vertical_pod_autoscaler_enabled
    }
  }

  tags = local.tags

  lifecycle {
    # The cluster autoscaler owns the size of the default pool once it exists.
    ignore_changes = [default_node_pool[0].node_count]

    precondition {
      condition     = local.default_cfg.node_taints == null ? true : length(local.default_cfg.node_taints) == 0
      error_message = "AKS cannot taint the default node pool (it runs system pods): remove `node_taints` from node pool \"default\" of ${var.metadata.name}, and taint another pool instead."
    }

    precondition {
      condition     = !local.default_cfg.use_spot
      error_message = "AKS default node pools cannot use spot VMs: set `use_spot = false` on node pool \"default\" of ${var.metadata.name}, and add a spot pool beside it."
    }

  }
}

module "node_pool" {
  source   = "./node_pool"
  for_each = local.extra_pools

  metadata = var.metadata
  pool     = each.value
  cluster = {
    id                 = azurerm_kubernetes_cluster.current.id
    kubernetes_version = var.config.kubernetes_version
    zones              = var.config.availability_zones
    subnet_id          = local.subnet_id
    tags               = local.tags
  }
}

locals {
  kube = azurerm_kubernetes_cluster.current.kube_config[0]

  # With Entra ID, the kubeconfig runs kubelogin in the configured login mode; the server ID is
  # the AKS Microsoft Entra server application, the same in every tenant.
  kubeconfig = local.entra ? yamlencode({
    apiVersion = "v1"
    kind       = "Config"
    clusters = [{
      name = var.metadata.name
      cluster = {
        server                     = local.kube.host
        certificate-authority-data = local.kube.cluster_ca_certificate
      }
    }]
    users = [{
      name = var.metadata.name
      user = {
        exec = {
          apiVersion         = "client.authentication.k8s.io/v1beta1"
          command            = "kubelogin"
          args               = ["get-token", "--login", var.config.kubeconfig_auth, "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630"]
          interactiveMode    = "Never"
          provideClusterInfo = false
        }
      }
    }]
    contexts = [{
      name = var.metadata.name
      context = {
        cluster = var.metadata.name
        user    = var.metadata.name
      }
    }]
    current-context = var.metadata.name
  }) : azurerm_kubernetes_cluster.current.kube_config_raw
}
