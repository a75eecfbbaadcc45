//! Azure AKS: key tables (Kubestack's current keys), naming limits and pool shape.

use super::{
    Arch, CIDRS, COUNT, POSITIVE, PoolShape, Provider, ResolvedView, STRING_MAP, STRINGS, Scaffold,
    SizeKeys, Taint, base_domain_key, explicit, int, name_prefix_key, string, string_map, strings,
};
use crate::diagnostic::Diagnostic;
use crate::keys::{Default, Field, Key, Ty};
use crate::value::{Table, Value};

const UPGRADE_SETTINGS: &[Field] = &[
    Field::new(
        "max_surge",
        Ty::String,
        "Extra nodes during upgrades, e.g. `\"33%\"` or `\"1\"`.",
    )
    .required(),
    Field::new(
        "drain_timeout_in_minutes",
        COUNT,
        "Minutes to wait for a node to drain.",
    ),
    Field::new(
        "node_soak_duration_in_minutes",
        COUNT,
        "Minutes to wait after draining a node.",
    ),
];

/// The Terraform module, embedded from `terraform/` beside this file.
static MODULE: include_dir::Dir<'static> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/src/provider/aks/terraform");

const KUBECONFIG_AUTH: &[&str] = &[
    "local_account",
    "azurecli",
    "spn",
    "msi",
    "workloadidentity",
];

// Which keys replace the cluster or a node pool follows azurerm 4.51.0: the attributes with
// `ForceNew` in `internal/services/containers/kubernetes_cluster_resource.go` and
// `kubernetes_cluster_node_pool_resource.go` (hashicorp/terraform-provider-azurerm). Properties
// of a pool that Azure cannot change in place (VM size, OS disk, zones, max pods) are not
// replacements: the provider rotates the pool through `temporary_name_for_rotation`.
/// The values of `network_layout`: Plinth's own network, then the shapes of Kubestack's.
pub const NETWORK_LAYOUTS: &[&str] = &["plinth", "managed", "kubestack", "kubestack-legacy"];

pub static CLUSTER_KEYS: &[Key] = &[
    name_prefix_key(),
    base_domain_key(),
    Key::new(
        "region",
        Ty::String,
        "Azure location of the cluster and its network, e.g. `westeurope`; also the region part of names. It must be the resource group's location (a plan-time check warns when it is not).",
    )
    .required()
    .replaces(),
    Key::new(
        "resource_group",
        Ty::String,
        "Resource group holding the cluster, its virtual network, Log Analytics workspace and DNS zone. An existing group (read with a data source, as Kubestack) unless `create_resource_group`. Give each environment its own.",
    )
    .required()
    .replaces(),
    Key::new(
        "create_resource_group",
        Ty::Boolean,
        "Create `resource_group` in `region` (`azurerm_resource_group`) instead of reading an existing one. Two environments or clusters cannot create the same group.",
    )
    .default(Default::Bool(false)),
    Key::new(
        "availability_zones",
        STRINGS,
        "Availability zones of the default pool (and of the other pools unless they set their own), e.g. `[\"1\", \"2\", \"3\"]`.",
    )
    .required(),
    Key::new("dns_prefix", Ty::String, "DNS prefix of the API server's fqdn (`dns_prefix`).")
        .default(Default::Str("api"))
        .replaces(),
    Key::new(
        "sku_tier",
        Ty::Enum(&["Free", "Standard", "Premium"]),
        "Control plane tier (`sku_tier`): `Standard` adds the uptime SLA production clusters want.",
    )
    .default(Default::Str("Free")),
    Key::new(
        "network_layout",
        Ty::Enum(NETWORK_LAYOUTS),
        "Which network the nodes are in. `plinth`: a virtual network named as the cluster with one node subnet `<name>-nodes`, which every pool uses. The others adopt a Kubestack cluster's network as it is, so an imported cluster is not replaced (`plinth import kubestack` sets them): `managed`, no virtual network of ours, AKS manages the nodes' network (Kubestack's kubenet clusters); `kubestack`, Kubestack's azure CNI network (virtual network `<name>`, subnet `<name>-<default pool name>-node-pool`); `kubestack-legacy`, its older names (`vnet-aks-<environment>-cluster`, subnet `aks-node-subnet`, Kubestack's `legacy_vnet_name`).",
    )
    .default(Default::Str("plinth"))
    .replaces(),
    Key::new(
        "vnet_address_space",
        CIDRS,
        "Address space of the cluster's virtual network (`azurerm_virtual_network`).",
    )
    .default(Default::Strs(&["10.0.0.0/8"])),
    Key::new(
        "subnet_address_prefixes",
        CIDRS,
        "Address prefixes of the node subnet (`azurerm_subnet`) every pool uses.",
    )
    .default(Default::Strs(&["10.1.0.0/16"])),
    Key::new(
        "subnet_service_endpoints",
        STRINGS,
        "Service endpoints of the node subnet, e.g. `[\"Microsoft.Storage\"]`.",
    ),
    Key::new(
        "network_plugin",
        Ty::Enum(&["kubenet", "azure", "none"]),
        "Network plugin (`network_profile.network_plugin`); `kubenet` as Kubestack (Azure retires it in 2028: new clusters should use `azure`).",
    )
    .default(Default::Str("kubenet"))
    .replaces(),
    Key::new(
        "network_policy",
        Ty::Enum(&["calico", "azure", "cilium"]),
        "NetworkPolicy engine (`network_profile.network_policy`); `cilium` also selects the Cilium data plane.",
    )
    .default(Default::Str("calico"))
    .replaces(),
    Key::new("service_cidr", Ty::Cidr, "Kubernetes service CIDR (`network_profile.service_cidr`).")
        .default(Default::Str("10.0.0.0/16"))
        .replaces(),
    Key::new(
        "dns_service_ip",
        Ty::String,
        "Cluster DNS service IP (`network_profile.dns_service_ip`), inside `service_cidr`.",
    )
    .default(Default::Str("10.0.0.10"))
    .replaces(),
    Key::new("pod_cidr", Ty::Cidr, "Pod CIDR (`network_profile.pod_cidr`); only with `network_plugin = \"kubenet\"`.")
        .default(Default::Str("10.244.0.0/16"))
        .replaces(),
    Key::new("max_pods", POSITIVE, "Pods per node of the default pool; overrides the default pool's own `max_pods` (Kubestack's cluster-level key)."),
    Key::new(
        "kubernetes_version",
        Ty::String,
        "Kubernetes version of the control plane and every pool (`kubernetes_version`, `orchestrator_version`); Azure's default when unset.",
    ),
    Key::new(
        "automatic_channel_upgrade",
        Ty::Enum(&["patch", "rapid", "node-image", "stable", "none"]),
        "Automatic upgrade channel (`automatic_upgrade_channel`); `none` or unset: no automatic upgrades.",
    ),
    Key::new(
        "enable_azure_policy_agent",
        Ty::Boolean,
        "The Azure Policy add-on (`azure_policy_enabled`), which audits and enforces Azure Policy assignments in the cluster; free, on by default (Kubestack leaves it off).",
    )
    .default(Default::Bool(true)),
    Key::new(
        "disable_managed_identities",
        Ty::Boolean,
        "Refused when `true`: Plinth's module gives the cluster a managed identity (system-assigned, or `user_assigned_identity_id`) and creates no service principal.",
    ),
    Key::new(
        "user_assigned_identity_id",
        Ty::String,
        "A user-assigned identity for the cluster instead of a system-assigned one; its owner must grant it Network Contributor on the node subnet.",
    ),
    Key::new(
        "enable_log_analytics",
        Ty::Boolean,
        "A Log Analytics workspace (`azurerm_log_analytics_workspace`, 30 days' retention) receiving container insights (`oms_agent`).",
    )
    .default(Default::Bool(true)),
    Key::new("keda_enabled", Ty::Boolean, "The KEDA add-on (`workload_autoscaler_profile.keda_enabled`)."),
    Key::new(
        "vertical_pod_autoscaler_enabled",
        Ty::Boolean,
        "The vertical pod autoscaler add-on (`workload_autoscaler_profile`).",
    ),
    Key::new(
        "additional_metadata_labels",
        STRING_MAP,
        "Extra labels merged into the cluster's metadata labels: Azure tags on every resource and Kubernetes labels on every service resource.",
    ),
    Key::new(
        "api_server_authorized_ip_ranges",
        CIDRS,
        "CIDRs allowed to reach the public API server (`api_server_access_profile.authorized_ip_ranges`); everyone when unset.",
    ),
    Key::new(
        "private_cluster_enabled",
        Ty::Boolean,
        "A private API server, reachable only from the virtual network (`private_cluster_enabled`); Terraform must then run inside that network.",
    )
    .default(Default::Bool(false))
    .replaces(),
    Key::new(
        "default_node_pool_only_critical_addons",
        Ty::Boolean,
        "Taint the default pool `CriticalAddonsOnly=true:NoSchedule` so it runs system pods only (`only_critical_addons_enabled`); the cluster then needs another pool for workloads.",
    )
    .default(Default::Bool(false)),
    Key::new(
        "kubeconfig_auth",
        Ty::Enum(KUBECONFIG_AUTH),
        "How the kubeconfig Plinth applies services with authenticates: `local_account` (the cluster's local user certificate, as Kubestack), or Microsoft Entra ID with Azure RBAC and local accounts disabled, through `kubelogin` (which must be on the PATH where Terraform runs) in that login mode: `azurecli`, `spn` (`AAD_SERVICE_PRINCIPAL_*`), `msi` or `workloadidentity`. The identity running Terraform must be cluster admin: list its group in `entra_id_admin_group_object_ids`.",
    )
    .default(Default::Str("local_account")),
    Key::new(
        "entra_id_admin_group_object_ids",
        STRINGS,
        "Microsoft Entra ID groups whose members are cluster admins (`azure_active_directory_role_based_access_control.admin_group_object_ids`); only with Entra ID (`kubeconfig_auth` other than `local_account`).",
    ),
    Key::new(
        "disable_default_ingress",
        Ty::Boolean,
        "Do not create the default ingress: a static public IP (`azurerm_public_ip`, Standard SKU, in the cluster's node resource group, as Kubestack) for the ingress controller's load balancer, an Azure DNS zone for the cluster's fqdn in `resource_group`, and A records for the fqdn and `*.<fqdn>` (module output `default_ingress`).",
    )
    .default(Default::Bool(false)),
    Key::new(
        "default_ingress_ip_zones",
        STRINGS,
        "Availability zones of the default ingress public IP (zone-redundant across these zones).",
    ),
];

pub static POOL_KEYS: &[Key] = &[
    Key::new(
        "node_pool_name",
        Ty::Pattern(
            is_pool_name,
            "1–12 lowercase letters and digits, starting with a letter",
        ),
        "Azure node pool name; the pool's key when unset.",
    )
    .replaces(),
    Key::new("vm_size", Ty::String, "VM size of the pool's nodes, e.g. `Standard_D2_v4`; a change rotates the pool through a temporary pool.")
        .required(),
    Key::new("min_count", COUNT, "Minimum nodes while autoscaling (`min_count`).").default(Default::Int(1)),
    Key::new(
        "max_count",
        POSITIVE,
        "Maximum nodes while autoscaling (`max_count`; required when `enable_auto_scaling`).",
    ),
    Key::new(
        "enable_auto_scaling",
        Ty::Boolean,
        "The cluster autoscaler for the pool (`auto_scaling_enabled`).",
    )
    .default(Default::Bool(true)),
    Key::new(
        "node_count",
        COUNT,
        "Nodes without autoscaling; while autoscaling only the initial size (kept within min..max, then owned by the autoscaler).",
    )
    .default(Default::Int(1)),
    Key::new("max_pods", POSITIVE, "Pods per node (`max_pods`); for `default`, the cluster's `max_pods` wins.")
        .default(Default::Int(110)),
    Key::new(
        "os_disk_type",
        Ty::Enum(&["Managed", "Ephemeral"]),
        "OS disk type of the nodes.",
    )
    .default(Default::Str("Managed")),
    Key::new("os_disk_size_gb", POSITIVE, "OS disk size in GB; Azure's default when unset."),
    Key::new(
        "use_spot",
        Ty::Boolean,
        "Spot VMs (`priority = \"Spot\"`); the pool gets Azure's spot label and taint `kubernetes.azure.com/scalesetpriority=spot:NoSchedule`. Not on `default`.",
    )
    .default(Default::Bool(false))
    .replaces(),
    Key::new(
        "max_spot_price",
        Ty::Number,
        "Highest spot price (`spot_max_price`); -1 pays up to the on-demand price. Only with `use_spot`.",
    )
    .default(Default::Num(-1.0))
    .replaces(),
    Key::new(
        "eviction_policy",
        Ty::Enum(&["Delete", "Deallocate"]),
        "What happens to evicted spot VMs (`eviction_policy`). Only with `use_spot`.",
    )
    .replaces(),
    Key::new("node_labels", STRING_MAP, "Kubernetes labels of the pool's nodes."),
    Key::new(
        "node_taints",
        Ty::List(&Ty::Pattern(
            is_taint,
            "`key=value:Effect` with a Kubernetes label key and value, and effect `NoSchedule`, `PreferNoSchedule` or `NoExecute`",
        )),
        "Kubernetes taints of the pool's nodes as `key=value:Effect` strings. Not on `default`, which runs system pods.",
    ),
    Key::new("availability_zones", STRINGS, "Zones of the pool's nodes.")
        .default(Default::ClusterKey("availability_zones")),
    Key::new(
        "upgrade_settings",
        Ty::Object(UPGRADE_SETTINGS),
        "Rolling upgrade settings (`upgrade_settings`). Not on spot pools, which Azure upgrades without surge.",
    ),
];

fn is_pool_name(s: &str) -> bool {
    check_pool_name(s).is_ok()
}

/// `key=value:Effect` or `key:Effect`, as AKS spells taints.
fn is_taint(s: &str) -> bool {
    parse_taint(s).is_some()
}

pub fn parse_taint(s: &str) -> Option<Taint> {
    let (kv, effect) = s.rsplit_once(':')?;
    if !matches!(effect, "NoSchedule" | "PreferNoSchedule" | "NoExecute") {
        return None;
    }
    let (key, value) = kv.split_once('=').unwrap_or((kv, ""));
    let valid = crate::naming::check_label_key(key).is_ok()
        && crate::naming::check_label_value(value).is_ok();
    valid.then(|| Taint {
        key: key.into(),
        value: value.into(),
        effect: effect.into(),
    })
}

/// Architecture and GPU of an Azure VM size (`Standard_D4ps_v5` → arm64, `Standard_NC6s_v3` → GPU).
pub fn classify(vm_size: &str) -> (Arch, bool) {
    let body = vm_size.strip_prefix("Standard_").unwrap_or(vm_size);
    let family: String = body.chars().take_while(char::is_ascii_uppercase).collect();
    let features: String = body
        .chars()
        .skip(family.len())
        .skip_while(char::is_ascii_digit)
        .take_while(char::is_ascii_lowercase)
        .collect();
    let arm = features.contains('p');
    let gpu = matches!(family.as_str(), "NC" | "ND" | "NV" | "NG");
    (if arm { Arch::Arm64 } else { Arch::Amd64 }, gpu)
}

/// AKS cluster names: 1–63 characters, letters, digits, `-` and `_`, alphanumeric at both ends.
fn check_cluster_name(name: &str) -> Result<(), String> {
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    let ok = !name.is_empty()
        && name.len() <= 63
        && alnum(name.chars().next())
        && alnum(name.chars().last())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "AKS cluster names have 1 to 63 letters, digits, `-` and `_`, alphanumeric at both ends: `{name}` ({} characters)",
            name.len()
        ))
    }
}

/// AKS Linux node pool names: 1–12 lowercase letters and digits, starting with a letter.
fn check_pool_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 12
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "AKS node pool names have 1 to 12 lowercase letters and digits, starting with a letter: `{name}`; set `node_pool_name`"
        ))
    }
}

fn check_resolved(v: &ResolvedView<'_>, out: &mut Vec<Diagnostic>) {
    let c = v.cluster;
    let flag = |t: &Table, k: &str| t.get(k).and_then(Value::as_bool);
    if let Some(x) = explicit(c, "disable_managed_identities")
        && x.as_bool() == Some(true)
    {
        out.push(
            Diagnostic::error("unsupported-value", format!("{}: `disable_managed_identities = true` is not supported", v.what))
                .at_value(x.origin, "asks for a service principal")
                .hint("Plinth's AKS module gives the cluster a managed identity and creates no service principal: remove the key to use a system-assigned identity, or set `user_assigned_identity_id`"),
        );
    }
    let entra = c
        .get("kubeconfig_auth")
        .and_then(Value::as_str)
        .is_some_and(|a| a != "local_account");
    if let Some(x) = explicit(c, "entra_id_admin_group_object_ids")
        && !x.str_list().is_empty()
        && !entra
    {
        out.push(
            Diagnostic::error("no-effect", format!("{}: `entra_id_admin_group_object_ids` has no effect with local accounts", v.what))
                .at_value(x.origin, "Entra ID is off")
                .hint("set `kubeconfig_auth` to an Entra ID login mode (`azurecli`, `spn`, `msi` or `workloadidentity`), or remove this key"),
        );
    }
    if let Some(x) = explicit(c, "default_ingress_ip_zones")
        && flag(c, "disable_default_ingress") == Some(true)
    {
        out.push(
            Diagnostic::warning(
                "no-effect",
                format!(
                    "{}: `default_ingress_ip_zones` has no effect: the default ingress is disabled",
                    v.what
                ),
            )
            .at_value(x.origin, "no public IP is created"),
        );
    }
    if c.get("network_layout").and_then(Value::as_str) == Some("managed") {
        for key in [
            "vnet_address_space",
            "subnet_address_prefixes",
            "subnet_service_endpoints",
        ] {
            if let Some(x) = explicit(c, key) {
                out.push(
                    Diagnostic::warning(
                        "no-effect",
                        format!(
                            "{}: `{key}` has no effect with `network_layout = \"managed\"`: AKS manages the nodes' network",
                            v.what
                        ),
                    )
                    .at_value(x.origin, "no virtual network is created"),
                );
            }
        }
    }
    if let Some(x) = explicit(c, "pod_cidr")
        && c.get("network_plugin").and_then(Value::as_str) != Some("kubenet")
    {
        out.push(
            Diagnostic::warning(
                "no-effect",
                format!(
                    "{}: `pod_cidr` has no effect with this `network_plugin`",
                    v.what
                ),
            )
            .at_value(x.origin, "only kubenet assigns pods a separate range"),
        );
    }
    if flag(c, "private_cluster_enabled") == Some(true)
        && let Some(x) = explicit(c, "api_server_authorized_ip_ranges")
        && !x.str_list().is_empty()
    {
        out.push(
            Diagnostic::error("unsupported-combination", format!("{}: a private cluster has no public API server to restrict", v.what))
                .at_value(x.origin, "authorized ranges")
                .hint("AKS refuses authorized IP ranges on private clusters: remove `api_server_authorized_ip_ranges`, or `private_cluster_enabled`"),
        );
    }
    if flag(c, "default_node_pool_only_critical_addons") == Some(true) && v.pools.len() < 2 {
        let d = Diagnostic::error(
            "unsupported-combination",
            format!(
                "{}: the default pool runs critical add-ons only, and there is no other pool",
                v.what
            ),
        );
        out.push(
            v.at(
                d,
                c,
                "default_node_pool_only_critical_addons",
                "taints the default pool",
            )
            .hint("workloads would have nowhere to run: add a node pool (`plinth add node-pool`)"),
        );
    }
    for (key, pool) in v.pools {
        let p = &pool.config;
        let what = format!("node pool `{key}` of {}", v.what);
        let spot = flag(p, "use_spot") == Some(true);
        if key == crate::node_pool::DEFAULT_POOL {
            if let Some(x) = explicit(p, "node_taints").filter(|x| !x.str_list().is_empty()) {
                out.push(
                    Diagnostic::error("unsupported-value", format!("{what}: AKS cannot taint the default pool"))
                        .at_value(x.origin, "the default pool runs system pods")
                        .hint("taint another pool instead, or set the cluster's `default_node_pool_only_critical_addons` to keep workloads off it"),
                );
            }
            if spot && let Some(x) = explicit(p, "use_spot") {
                out.push(
                    Diagnostic::error(
                        "unsupported-value",
                        format!("{what}: AKS default pools cannot use spot VMs"),
                    )
                    .at_value(x.origin, "spot")
                    .hint("add a spot pool beside the default pool"),
                );
            }
        }
        if !spot {
            for k in ["eviction_policy", "max_spot_price"] {
                if let Some(x) = explicit(p, k) {
                    out.push(
                        Diagnostic::warning(
                            "no-effect",
                            format!("{what}: `{k}` has no effect without `use_spot`"),
                        )
                        .at_value(x.origin, "spot only"),
                    );
                }
            }
        } else if let Some(x) = explicit(p, "upgrade_settings") {
            out.push(
                Diagnostic::error(
                    "unsupported-combination",
                    format!("{what}: spot pools take no `upgrade_settings`"),
                )
                .at_value(x.origin, "Azure refuses a surge on spot pools")
                .hint("remove `upgrade_settings` from the spot pool"),
            );
        }
    }
}

fn pool_shape(key: &str, pool: &Table, cluster: &Table) -> PoolShape {
    let vm = string(pool, "vm_size").unwrap_or_default().to_string();
    let (arch, gpu) = classify(&vm);
    let spot = pool
        .get("use_spot")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut taints: Vec<Taint> = strings(pool, "node_taints")
        .iter()
        .filter_map(|t| parse_taint(t))
        .collect();
    let mut labels = string_map(pool.get("node_labels"));
    if spot {
        let key = "kubernetes.azure.com/scalesetpriority";
        taints.push(Taint {
            key: key.into(),
            value: "spot".into(),
            effect: "NoSchedule".into(),
        });
        labels.insert(key.into(), "spot".into());
    }
    let autoscale = pool
        .get("enable_auto_scaling")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let fixed = int(pool, "node_count").unwrap_or(1);
    PoolShape {
        instance_types: vec![vm],
        min_nodes: if autoscale {
            int(pool, "min_count").unwrap_or(0)
        } else {
            fixed
        },
        max_nodes: if autoscale {
            int(pool, "max_count").unwrap_or(0)
        } else {
            fixed
        },
        arch,
        gpus_per_node: u32::from(gpu),
        gpu_type: gpu.then(|| "nvidia".to_string()),
        taints,
        labels,
        // The `default` pool is the cluster's `default_node_pool` block, which takes the
        // cluster's `max_pods` first (as the generated module does).
        max_pods_per_node: (key == "default")
            .then(|| int(cluster, "max_pods"))
            .flatten()
            .or_else(|| int(pool, "max_pods"))
            .unwrap_or(super::DEFAULT_MAX_PODS),
        spot,
        zones: strings(pool, "availability_zones"),
    }
}

pub static AKS: Provider = Provider {
    id: "aks",
    provider_name: "azure",
    title: "Azure AKS",
    cluster_keys: CLUSTER_KEYS,
    pool_keys: POOL_KEYS,
    dash_label_namespace: true,
    check_cluster_name,
    max_cluster_name: 63,
    check_pool_name,
    pool_name_key: "node_pool_name",
    size_keys: Some(SizeKeys {
        min: "min_count",
        max: "max_count",
        initial: None,
    }),
    pool_shape,
    pool_flags: super::PoolFlags {
        instance: Some(("vm_size", false)),
        taints: ("node_taints", true),
        labels: "node_labels",
    },
    terraform: super::TerraformSpec {
        local_name: "azurerm",
        source: "hashicorp/azurerm",
        version: "~> 4.51.0",
        module: &MODULE,
        provider_settings: |_| Vec::new(),
        provider_blocks: &["features"],
    },
    check_resolved,
    scaffold: Scaffold {
        cluster: "availability_zones = [\"1\", \"2\", \"3\"]\n",
        per_environment: "resource_group = \"{prefix}-{env}-{region}\"\n",
        default_pool: "vm_size = \"Standard_D2_v4\"\nmin_count = 3\nmax_count = 9\n",
        extra_pool: "vm_size = \"Standard_D2_v4\"\nmin_count = 1\nmax_count = 3\n",
        example_region: "westeurope",
    },
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_sizes() {
        assert_eq!(classify("Standard_D2_v4"), (Arch::Amd64, false));
        assert_eq!(classify("Standard_D4ps_v5"), (Arch::Arm64, false));
        assert_eq!(classify("Standard_E4pds_v5"), (Arch::Arm64, false));
        assert_eq!(classify("Standard_NC6s_v3"), (Arch::Amd64, true));
        assert_eq!(classify("Standard_NC24ads_A100_v4"), (Arch::Amd64, true));
    }

    /// Regression: capacity advice used 110 pods per node for the default pool of a cluster
    /// whose `max_pods` Terraform applies to that pool.
    #[test]
    fn the_default_pool_takes_the_clusters_max_pods() {
        let table = |pairs: &[(&str, i64)]| -> Table {
            pairs
                .iter()
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        Value::builtin(crate::value::Kind::Integer(*v)),
                    )
                })
                .collect()
        };
        let cluster = table(&[("max_pods", 30)]);
        let pool = table(&[("max_pods", 50)]);
        assert_eq!(
            pool_shape("default", &table(&[]), &cluster).max_pods_per_node,
            30
        );
        assert_eq!(pool_shape("default", &pool, &cluster).max_pods_per_node, 30);
        assert_eq!(
            pool_shape("default", &pool, &table(&[])).max_pods_per_node,
            50
        );
        assert_eq!(pool_shape("batch", &pool, &cluster).max_pods_per_node, 50);
        assert_eq!(
            pool_shape("batch", &table(&[]), &cluster).max_pods_per_node,
            crate::provider::DEFAULT_MAX_PODS
        );
    }

    #[test]
    fn taints() {
        assert_eq!(
            parse_taint("gpu=true:NoSchedule")
                .map(|t| t.to_string())
                .as_deref(),
            Some("gpu=true:NoSchedule")
        );
        assert_eq!(
            parse_taint("dedicated:NoExecute").map(|t| t.key),
            Some("dedicated".into())
        );
        assert!(parse_taint("gpu=true:NO_SCHEDULE").is_none());
        assert!(parse_taint("=x:NoSchedule").is_none());
    }
}
