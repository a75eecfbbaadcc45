//! Google GKE: key tables (Kubestack's current keys), naming limits and pool shape.

use super::{
    Arch, CIDRS, COUNT, POSITIVE, PoolShape, Provider, STRING_MAP, STRINGS, Scaffold, SizeKeys,
    TAINTS, base_domain_key, int, name_prefix_key, object_taints, string, string_map, strings,
};
use crate::keys::{Default, Field, Key, Ty};
use crate::value::{Table, Value};

const COMPONENTS: &[Field] = &[Field::new(
    "enable_components",
    STRINGS,
    "Components to enable, e.g. `SYSTEM_COMPONENTS`.",
)];
const MAINTENANCE_EXCLUSION: &[Field] = &[
    Field::new("start_time", Ty::String, "RFC 3339 start.").required(),
    Field::new("end_time", Ty::String, "RFC 3339 end.").required(),
    Field::new("exclusion_name", Ty::String, "Name of the exclusion.").required(),
    Field::new(
        "scope",
        Ty::Enum(&[
            "NO_UPGRADES",
            "NO_MINOR_UPGRADES",
            "NO_MINOR_OR_NODE_UPGRADES",
        ]),
        "What is excluded.",
    ),
];
const ROUTER_ADVERTISE: &[Field] = &[
    Field::new("mode", Ty::Enum(&["DEFAULT", "CUSTOM"]), "Advertise mode."),
    Field::new("groups", STRINGS, "Advertised groups."),
    Field::new(
        "ip_ranges",
        STRING_MAP,
        "Advertised ranges: range → description.",
    ),
];
const GPU_SHARING: &[Field] = &[
    Field::new(
        "gpu_sharing_strategy",
        Ty::Enum(&["TIME_SHARING", "MPS"]),
        "How GPUs are shared.",
    )
    .required(),
    Field::new(
        "max_shared_clients_per_gpu",
        POSITIVE,
        "Containers sharing one GPU.",
    )
    .required(),
];
const GUEST_ACCELERATOR: &[Field] = &[
    Field::new(
        "type",
        Ty::String,
        "Accelerator type, e.g. `nvidia-tesla-t4`.",
    )
    .required(),
    Field::new("count", POSITIVE, "Accelerators per node.").required(),
    Field::new(
        "gpu_partition_size",
        Ty::String,
        "MIG partition size, e.g. `1g.5gb`.",
    ),
    Field::new(
        "gpu_sharing_config",
        Ty::Object(GPU_SHARING),
        "GPU time-sharing or MPS.",
    ),
];
const LOCAL_SSD: &[Field] = &[Field::new(
    "local_ssd_count",
    COUNT,
    "Local SSDs backing ephemeral storage.",
)
.required()];
const NETWORK_CONFIG: &[Field] = &[
    Field::new(
        "create_pod_range",
        Ty::Boolean,
        "Create a new secondary range for pods.",
    ),
    Field::new(
        "enable_private_nodes",
        Ty::Boolean,
        "Nodes without public IPs.",
    ),
    Field::new("pod_ipv4_cidr_block", Ty::String, "Pod range CIDR."),
    Field::new(
        "pod_range",
        Ty::String,
        "Name of an existing secondary range for pods.",
    ),
];

/// The Terraform module, embedded from `terraform/` beside this file.
static MODULE: include_dir::Dir<'static> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/src/provider/gke/terraform");

pub static CLUSTER_KEYS: &[Key] = &[
    name_prefix_key(),
    base_domain_key(),
    Key::new(
        "project_id",
        Ty::String,
        "Google Cloud project the cluster is created in.",
    )
    .required()
    .replaces(),
    Key::new(
        "region",
        Ty::String,
        "Google Cloud region, e.g. `europe-west3` (regional clusters).",
    )
    .required()
    .replaces(),
    Key::new(
        "cluster_min_master_version",
        Ty::String,
        "Minimum control plane version.",
    ),
    Key::new(
        "cluster_release_channel",
        Ty::Enum(&["RAPID", "REGULAR", "STABLE", "EXTENDED", "UNSPECIFIED"]),
        "Release channel.",
    )
    .default(Default::Str("STABLE")),
    Key::new(
        "cluster_daily_maintenance_window_start_time",
        Ty::String,
        "Daily maintenance window start, `HH:MM` UTC.",
    )
    .default(Default::Str("03:00")),
    Key::new(
        "cluster_maintenance_exclusion",
        Ty::Object(MAINTENANCE_EXCLUSION),
        "A maintenance exclusion window.",
    ),
    Key::new(
        "cluster_node_locations",
        STRINGS,
        "Zones of the default pool's nodes; the region's zones when unset.",
    ),
    Key::new(
        "deletion_protection",
        Ty::Boolean,
        "Refuse to delete the cluster (the provider defaults it to true).",
    ),
    Key::new(
        "enable_private_nodes",
        Ty::Boolean,
        "Nodes without public IPs.",
    )
    .default(Default::Bool(true))
    .replaces(),
    Key::new(
        "enable_private_endpoint",
        Ty::Boolean,
        "API server only on the private endpoint.",
    )
    .default(Default::Bool(false))
    .replaces(),
    Key::new(
        "master_cidr_block",
        Ty::Cidr,
        "CIDR of the control plane's private range.",
    )
    .default(Default::Str("172.16.0.32/28"))
    .replaces(),
    Key::new("cluster_ipv4_cidr_block", Ty::Cidr, "Pod CIDR.").replaces(),
    Key::new("services_ipv4_cidr_block", Ty::Cidr, "Service CIDR.").replaces(),
    Key::new(
        "enable_cloud_nat",
        Ty::Boolean,
        "Cloud NAT for private nodes.",
    )
    .default(Default::Bool(true)),
    Key::new(
        "cloud_nat_ip_count",
        COUNT,
        "Static NAT IPs; 0 uses automatic IPs.",
    )
    .default(Default::Int(0)),
    Key::new(
        "cloud_nat_min_ports_per_vm",
        POSITIVE,
        "Minimum NAT ports per VM.",
    ),
    Key::new(
        "master_authorized_networks_config_cidr_blocks",
        CIDRS,
        "CIDRs allowed to reach the API server.",
    ),
    Key::new(
        "disable_workload_identity",
        Ty::Boolean,
        "Turn off workload identity.",
    )
    .default(Default::Bool(false)),
    Key::new(
        "node_workload_metadata_config",
        Ty::Enum(&["GKE_METADATA", "GCE_METADATA", "MODE_UNSPECIFIED"]),
        "Metadata server exposed to workloads.",
    )
    .default(Default::Str("GKE_METADATA")),
    Key::new(
        "enable_intranode_visibility",
        Ty::Boolean,
        "Intranode visibility.",
    ),
    Key::new("enable_tpu", Ty::Boolean, "Cloud TPU support.").replaces(),
    Key::new(
        "logging_config",
        Ty::Object(COMPONENTS),
        "Logging components.",
    ),
    Key::new(
        "monitoring_config",
        Ty::Object(COMPONENTS),
        "Monitoring components.",
    ),
    Key::new(
        "router_asn",
        Ty::Integer { min: 64512 },
        "ASN of the Cloud Router (private range).",
    ),
    Key::new(
        "router_advertise_config",
        Ty::Object(ROUTER_ADVERTISE),
        "Cloud Router advertisement.",
    ),
    Key::new(
        "cluster_database_encryption_key_name",
        Ty::String,
        "KMS key for application-layer secrets encryption.",
    ),
    Key::new(
        "enable_gcs_fuse_csi_driver",
        Ty::Boolean,
        "GCS FUSE CSI driver add-on.",
    ),
    Key::new(
        "disable_default_ingress",
        Ty::Boolean,
        "Do not create the default ingress DNS zone and IP.",
    )
    .default(Default::Bool(false)),
];

pub static POOL_KEYS: &[Key] = &[
    Key::new(
        "name",
        Ty::String,
        "Node pool name; the pool's key when unset.",
    )
    .replaces(),
    Key::new("location", Ty::String, "Region or zone of the pool.")
        .default(Default::ClusterKey("region"))
        .replaces(),
    Key::new(
        "node_locations",
        STRINGS,
        "Zones of the pool's nodes; the region's zones when unset.",
    ),
    Key::new(
        "machine_type",
        Ty::String,
        "Machine type, e.g. `e2-standard-8`.",
    )
    .required()
    .replaces(),
    Key::new("min_node_count", COUNT, "Minimum nodes per zone.").default(Default::Int(1)),
    Key::new("max_node_count", POSITIVE, "Maximum nodes per zone.").required(),
    Key::new("initial_node_count", COUNT, "Nodes per zone at creation.")
        .default(Default::Key("min_node_count"))
        .replaces(),
    Key::new(
        "location_policy",
        Ty::Enum(&["BALANCED", "ANY"]),
        "Autoscaler location policy.",
    )
    .default(Default::Str("BALANCED")),
    Key::new("disk_size_gb", POSITIVE, "Boot disk size in GB.")
        .default(Default::Int(100))
        .replaces(),
    Key::new(
        "disk_type",
        Ty::Enum(&["pd-standard", "pd-balanced", "pd-ssd", "hyperdisk-balanced"]),
        "Boot disk type.",
    )
    .default(Default::Str("pd-balanced"))
    .replaces(),
    Key::new("image_type", Ty::String, "Node image type.").default(Default::Str("COS_CONTAINERD")),
    Key::new("preemptible", Ty::Boolean, "Preemptible VMs.")
        .default(Default::Bool(false))
        .replaces(),
    Key::new("auto_repair", Ty::Boolean, "Automatic node repair.").default(Default::Bool(true)),
    Key::new("auto_upgrade", Ty::Boolean, "Automatic node upgrades.").default(Default::Bool(true)),
    Key::new(
        "taints",
        TAINTS,
        "Kubernetes taints: `{ key, value, effect }` with effect `NO_SCHEDULE`, `NO_EXECUTE` or `PREFER_NO_SCHEDULE`.",
    ),
    Key::new("labels", STRING_MAP, "Kubernetes node labels."),
    Key::new("instance_tags", STRINGS, "Network tags of the VMs.").replaces(),
    Key::new(
        "extra_oauth_scopes",
        STRINGS,
        "OAuth scopes beyond the defaults.",
    )
    .replaces(),
    Key::new(
        "service_account_email",
        Ty::String,
        "Service account of the nodes; the cluster's own when unset.",
    )
    .replaces(),
    Key::new(
        "guest_accelerator",
        Ty::Object(GUEST_ACCELERATOR),
        "GPUs attached to each node.",
    )
    .replaces(),
    Key::new(
        "ephemeral_storage_local_ssd_config",
        Ty::Object(LOCAL_SSD),
        "Local SSDs for ephemeral storage.",
    )
    .replaces(),
    Key::new(
        "network_config",
        Ty::Object(NETWORK_CONFIG),
        "Pool network settings.",
    )
    .replaces(),
];

/// Architecture and GPU of a GCE machine type (`t2a-standard-4` → arm64, `g2-standard-8` → GPU).
pub fn classify(machine_type: &str) -> (Arch, bool) {
    let family = machine_type.split('-').next().unwrap_or_default();
    let arm = matches!(family, "t2a" | "c4a" | "n4a");
    let gpu = matches!(family, "a2" | "a3" | "a4" | "g2" | "g4");
    (if arm { Arch::Arm64 } else { Arch::Amd64 }, gpu)
}

fn check_name(what: &str, name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 40
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "GKE {what} names have at most 40 lowercase letters, digits and `-`, start with a letter and do not end with `-`: `{name}` ({} characters)",
            name.len()
        ))
    }
}

fn check_cluster_name(name: &str) -> Result<(), String> {
    check_name("cluster", name)
}

fn check_pool_name(name: &str) -> Result<(), String> {
    check_name("node pool", name)
}

/// Zones the pool spans: its `node_locations`, else the cluster's, else the region's three.
fn zone_count(pool: &Table, cluster: &Table) -> i64 {
    let own = strings(pool, "node_locations");
    let zones = if own.is_empty() {
        strings(cluster, "cluster_node_locations")
    } else {
        own
    };
    let location = string(pool, "location").unwrap_or_default();
    // A zonal location (`europe-west3-a`) has one zone; a region has three by default.
    let zonal = location.matches('-').count() >= 2;
    if !zones.is_empty() {
        zones.len() as i64
    } else if zonal {
        1
    } else {
        3
    }
}

fn pool_shape(_key: &str, pool: &Table, cluster: &Table) -> PoolShape {
    let machine = string(pool, "machine_type").unwrap_or_default().to_string();
    let (arch, family_gpu) = classify(&machine);
    let accel = pool.get("guest_accelerator").and_then(Value::as_table);
    let accel_count = accel.and_then(|a| int(a, "count")).unwrap_or(0);
    let gpus = if accel_count > 0 {
        u32::try_from(accel_count).unwrap_or(u32::MAX)
    } else {
        u32::from(family_gpu)
    };
    let zones = zone_count(pool, cluster);
    PoolShape {
        instance_types: vec![machine],
        // Counts come from the definition: saturate rather than overflow.
        min_nodes: int(pool, "min_node_count")
            .unwrap_or(0)
            .saturating_mul(zones),
        max_nodes: int(pool, "max_node_count")
            .unwrap_or(0)
            .saturating_mul(zones),
        arch,
        gpus_per_node: gpus,
        gpu_type: accel
            .and_then(|a| string(a, "type"))
            .map(String::from)
            .or_else(|| family_gpu.then(|| "nvidia".into())),
        taints: object_taints(pool.get("taints")),
        labels: string_map(pool.get("labels")),
        max_pods_per_node: super::DEFAULT_MAX_PODS,
        spot: pool
            .get("preemptible")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        zones: strings(pool, "node_locations"),
    }
}

pub static GKE: Provider = Provider {
    id: "gke",
    provider_name: "gcp",
    title: "Google GKE",
    cluster_keys: CLUSTER_KEYS,
    pool_keys: POOL_KEYS,
    dash_label_namespace: false,
    check_cluster_name,
    max_cluster_name: 40,
    check_pool_name,
    pool_name_key: "name",
    size_keys: Some(SizeKeys {
        min: "min_node_count",
        max: "max_node_count",
        initial: Some("initial_node_count"),
    }),
    pool_shape,
    pool_flags: super::PoolFlags {
        instance: Some(("machine_type", false)),
        taints: ("taints", false),
        labels: "labels",
    },
    terraform: super::TerraformSpec {
        local_name: "google",
        source: "hashicorp/google",
        version: "~> 6.50.0",
        module: &MODULE,
        provider_settings: |cfg| {
            vec![
                ("project", format!("{cfg}.project_id")),
                ("region", format!("{cfg}.region")),
            ]
        },
        provider_blocks: &[],
    },
    scaffold: Scaffold {
        cluster: "project_id = \"my-project\"\n",
        default_pool: "machine_type = \"e2-standard-8\"\nmin_node_count = 1\nmax_node_count = 3\n",
        extra_pool: "machine_type = \"e2-standard-8\"\nmin_node_count = 1\nmax_node_count = 3\n",
        example_region: "europe-west3",
    },
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_types() {
        assert_eq!(classify("e2-standard-8"), (Arch::Amd64, false));
        assert_eq!(classify("t2a-standard-4"), (Arch::Arm64, false));
        assert_eq!(classify("g2-standard-8"), (Arch::Amd64, true));
    }
}
