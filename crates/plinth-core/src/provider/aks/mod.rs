//! Azure AKS: key tables (Kubestack's current keys), naming limits and pool shape.

use super::{
    Arch, CIDRS, COUNT, POSITIVE, PoolShape, Provider, STRING_MAP, STRINGS, Scaffold, SizeKeys,
    Taint, base_domain_key, int, name_prefix_key, string, string_map, strings,
};
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

pub static CLUSTER_KEYS: &[Key] = &[
    name_prefix_key(),
    base_domain_key(),
    Key::new(
        "region",
        Ty::String,
        "Azure location of the resource group, e.g. `westeurope`.",
    )
    .required()
    .replaces(),
    Key::new(
        "resource_group",
        Ty::String,
        "Resource group the cluster is created in; its location is `region`.",
    )
    .required()
    .replaces(),
    Key::new(
        "availability_zones",
        STRINGS,
        "Availability zones, e.g. `[\"1\", \"2\", \"3\"]`.",
    )
    .required()
    .replaces(),
    Key::new("dns_prefix", Ty::String, "DNS prefix of the API server.")
        .default(Default::Str("api"))
        .replaces(),
    Key::new(
        "sku_tier",
        Ty::Enum(&["Free", "Standard", "Premium"]),
        "Control plane SKU.",
    )
    .default(Default::Str("Free")),
    Key::new(
        "vnet_address_space",
        CIDRS,
        "Address space of the virtual network.",
    )
    .default(Default::Strs(&["10.0.0.0/8"]))
    .replaces(),
    Key::new(
        "subnet_address_prefixes",
        CIDRS,
        "Address prefixes of the node subnet.",
    )
    .default(Default::Strs(&["10.1.0.0/16"]))
    .replaces(),
    Key::new(
        "subnet_service_endpoints",
        STRINGS,
        "Service endpoints of the node subnet.",
    ),
    Key::new(
        "network_plugin",
        Ty::Enum(&["kubenet", "azure", "none"]),
        "Network plugin.",
    )
    .default(Default::Str("kubenet"))
    .replaces(),
    Key::new(
        "network_policy",
        Ty::Enum(&["calico", "azure", "cilium"]),
        "Network policy engine.",
    )
    .default(Default::Str("calico"))
    .replaces(),
    Key::new("service_cidr", Ty::Cidr, "Kubernetes service CIDR.")
        .default(Default::Str("10.0.0.0/16"))
        .replaces(),
    Key::new(
        "dns_service_ip",
        Ty::String,
        "Cluster DNS service IP, inside `service_cidr`.",
    )
    .default(Default::Str("10.0.0.10"))
    .replaces(),
    Key::new("pod_cidr", Ty::Cidr, "Pod CIDR (kubenet).")
        .default(Default::Str("10.244.0.0/16"))
        .replaces(),
    Key::new("max_pods", POSITIVE, "Pods per node of the default pool."),
    Key::new(
        "kubernetes_version",
        Ty::String,
        "Kubernetes version; Azure's default when unset.",
    ),
    Key::new(
        "automatic_channel_upgrade",
        Ty::Enum(&["patch", "rapid", "node-image", "stable", "none"]),
        "Automatic upgrade channel.",
    ),
    Key::new(
        "enable_azure_policy_agent",
        Ty::Boolean,
        "Azure Policy add-on.",
    ),
    Key::new(
        "disable_managed_identities",
        Ty::Boolean,
        "Use a service principal instead of managed identities.",
    ),
    Key::new(
        "user_assigned_identity_id",
        Ty::String,
        "User-assigned identity instead of the system-assigned one.",
    ),
    Key::new(
        "enable_log_analytics",
        Ty::Boolean,
        "Send container insights to a Log Analytics workspace.",
    )
    .default(Default::Bool(true)),
    Key::new("keda_enabled", Ty::Boolean, "KEDA add-on."),
    Key::new(
        "vertical_pod_autoscaler_enabled",
        Ty::Boolean,
        "Vertical pod autoscaler add-on.",
    ),
    Key::new(
        "additional_metadata_labels",
        STRING_MAP,
        "Extra labels added to the cluster metadata labels.",
    ),
    Key::new(
        "disable_default_ingress",
        Ty::Boolean,
        "Do not create the default ingress DNS zone and IP.",
    )
    .default(Default::Bool(false)),
    Key::new(
        "default_ingress_ip_zones",
        STRINGS,
        "Zones of the default ingress public IP.",
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
    Key::new("vm_size", Ty::String, "VM size, e.g. `Standard_D2_v4`.")
        .required()
        .replaces(),
    Key::new("min_count", COUNT, "Minimum nodes while autoscaling.").default(Default::Int(1)),
    Key::new(
        "max_count",
        POSITIVE,
        "Maximum nodes while autoscaling (required when `enable_auto_scaling`).",
    ),
    Key::new(
        "enable_auto_scaling",
        Ty::Boolean,
        "Cluster autoscaler for the pool.",
    )
    .default(Default::Bool(true)),
    Key::new(
        "node_count",
        COUNT,
        "Nodes without autoscaling (and initially).",
    )
    .default(Default::Int(1)),
    Key::new("max_pods", POSITIVE, "Pods per node.")
        .default(Default::Int(110))
        .replaces(),
    Key::new(
        "os_disk_type",
        Ty::Enum(&["Managed", "Ephemeral"]),
        "OS disk type.",
    )
    .default(Default::Str("Managed"))
    .replaces(),
    Key::new("os_disk_size_gb", POSITIVE, "OS disk size in GB.").replaces(),
    Key::new(
        "use_spot",
        Ty::Boolean,
        "Spot VMs (adds Azure's spot label and taint).",
    )
    .default(Default::Bool(false))
    .replaces(),
    Key::new(
        "max_spot_price",
        Ty::Number,
        "Highest spot price; -1 pays up to the on-demand price.",
    )
    .default(Default::Num(-1.0)),
    Key::new(
        "eviction_policy",
        Ty::Enum(&["Delete", "Deallocate"]),
        "What happens to evicted spot VMs.",
    ),
    Key::new("node_labels", STRING_MAP, "Kubernetes node labels."),
    Key::new(
        "node_taints",
        Ty::List(&Ty::Pattern(
            is_taint,
            "`key=value:Effect` with effect `NoSchedule`, `PreferNoSchedule` or `NoExecute`",
        )),
        "Kubernetes taints as `key=value:Effect` strings.",
    ),
    Key::new("availability_zones", STRINGS, "Zones of the pool.")
        .default(Default::ClusterKey("availability_zones"))
        .replaces(),
    Key::new(
        "upgrade_settings",
        Ty::Object(UPGRADE_SETTINGS),
        "Rolling upgrade settings.",
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
    (!key.is_empty()).then(|| Taint {
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
    scaffold: Scaffold {
        cluster: "resource_group = \"{prefix}-{region}\"\navailability_zones = [\"1\", \"2\", \"3\"]\n",
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
