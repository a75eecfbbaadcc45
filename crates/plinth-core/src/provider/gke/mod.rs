//! Google GKE: key tables (Kubestack's current keys), naming limits and pool shape.

use super::{
    Arch, CIDRS, COUNT, POSITIVE, PoolShape, Provider, ResolvedView, STRING_MAP, STRINGS, Scaffold,
    SizeKeys, TAINTS, base_domain_key, explicit, int, name_prefix_key, object_taints, string,
    string_map, strings,
};
use crate::diagnostic::Diagnostic;
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

// Which keys replace the cluster or a node pool follows hashicorp/google 6.50.0: the
// attributes with `ForceNew` in `google/services/container/resource_container_cluster.go`,
// `resource_container_node_pool.go` and `node_config.go` (hashicorp/terraform-provider-google).
// Since 5.10.0 a pool's machine type, disk type and disk size change in place (GKE rolls the
// nodes: GoogleCloudPlatform/magic-modules#9575), as do its labels, taints and network tags.
pub static CLUSTER_KEYS: &[Key] = &[
    name_prefix_key(),
    base_domain_key(),
    Key::new(
        "project_id",
        Ty::String,
        "Google Cloud project of the cluster and every resource Plinth creates for it (set on the cluster's aliased `google` provider).",
    )
    .required()
    .replaces(),
    Key::new(
        "region",
        Ty::String,
        "Google Cloud region of the regional cluster, its network and Cloud NAT, e.g. `europe-west3`.",
    )
    .required()
    .replaces(),
    Key::new(
        "cluster_min_master_version",
        Ty::String,
        "Minimum control plane version (`min_master_version`); the release channel upgrades beyond it.",
    ),
    Key::new(
        "cluster_release_channel",
        Ty::Enum(&["RAPID", "REGULAR", "STABLE", "EXTENDED", "UNSPECIFIED"]),
        "Release channel (`release_channel`) that upgrades the control plane and nodes.",
    )
    .default(Default::Str("STABLE")),
    Key::new(
        "cluster_daily_maintenance_window_start_time",
        Ty::String,
        "Start of the daily maintenance window, `HH:MM` UTC (`maintenance_policy`).",
    )
    .default(Default::Str("03:00")),
    Key::new(
        "cluster_maintenance_exclusion",
        Ty::Object(MAINTENANCE_EXCLUSION),
        "A maintenance exclusion window (`maintenance_policy.maintenance_exclusion`).",
    ),
    Key::new(
        "cluster_node_locations",
        STRINGS,
        "Zones of the cluster's nodes (`node_locations`), used by pools without their own; the region's zones when unset.",
    ),
    Key::new(
        "deletion_protection",
        Ty::Boolean,
        "Refuse `terraform destroy` of the cluster (`deletion_protection`; the provider's default is true).",
    ),
    Key::new(
        "enable_private_nodes",
        Ty::Boolean,
        "Nodes without public IPs (`private_cluster_config.enable_private_nodes`); they reach the internet through Cloud NAT.",
    )
    .default(Default::Bool(true))
    .replaces(),
    Key::new(
        "enable_private_endpoint",
        Ty::Boolean,
        "The API server only on its private endpoint (`enable_private_endpoint`); needs private nodes, and Terraform must run inside the network.",
    )
    .default(Default::Bool(false)),
    Key::new(
        "master_cidr_block",
        Ty::Cidr,
        "The control plane's private /28 range (`master_ipv4_cidr_block`); only with private nodes.",
    )
    .default(Default::Str("172.16.0.32/28"))
    .replaces(),
    Key::new("cluster_ipv4_cidr_block", Ty::Cidr, "Pod range (`ip_allocation_policy.cluster_ipv4_cidr_block`); GKE picks one when unset.").replaces(),
    Key::new("services_ipv4_cidr_block", Ty::Cidr, "Service range (`ip_allocation_policy.services_ipv4_cidr_block`); GKE picks one when unset.").replaces(),
    Key::new(
        "enable_network_policy",
        Ty::Boolean,
        "Enforce Kubernetes NetworkPolicies with Calico (`network_policy` and the network policy add-on), as Kubestack. With Dataplane V2 they are always enforced.",
    )
    .default(Default::Bool(true)),
    Key::new(
        "enable_dataplane_v2",
        Ty::Boolean,
        "Dataplane V2 (`datapath_provider = \"ADVANCED_DATAPATH\"`, eBPF), which enforces NetworkPolicies itself instead of Calico.",
    )
    .default(Default::Bool(false))
    .replaces(),
    Key::new(
        "network_mode",
        Ty::Enum(&["custom", "auto"]),
        "The cluster's VPC (`google_compute_network`, named as the cluster). `custom`: a custom-mode network with one node subnetwork of Plinth's (`10.128.0.0/20`, flow logs). `auto`: Kubestack's auto-mode network (`auto_create_subnetworks`), the nodes in the region's automatic subnetwork, the node pools naming their cluster as Kubestack's do, so a cluster imported from Kubestack keeps its network and is not replaced (`plinth import kubestack` sets it).",
    )
    .default(Default::Str("custom"))
    .replaces(),
    Key::new(
        "enable_vpc_flow_logs",
        Ty::Boolean,
        "VPC flow logs of the node subnet (`log_config`: 5-minute aggregation, half the flows sampled, all metadata), billed by Cloud Logging volume.",
    )
    .default(Default::Bool(true)),
    Key::new(
        "enable_cloud_nat",
        Ty::Boolean,
        "A Cloud Router and Cloud NAT (`google_compute_router`, `google_compute_router_nat`) giving private nodes internet egress.",
    )
    .default(Default::Bool(true)),
    Key::new(
        "cloud_nat_ip_count",
        COUNT,
        "Reserved static egress addresses for Cloud NAT (`google_compute_address`, module output `nat_ips`); 0 lets Cloud NAT allocate addresses automatically.",
    )
    .default(Default::Int(0)),
    Key::new(
        "cloud_nat_min_ports_per_vm",
        POSITIVE,
        "Minimum NAT ports per VM (`min_ports_per_vm`).",
    ),
    Key::new(
        "master_authorized_networks_config_cidr_blocks",
        CIDRS,
        "CIDRs allowed to reach the API server (`master_authorized_networks_config`); an empty list allows none, unset allows all.",
    ),
    Key::new(
        "disable_workload_identity",
        Ty::Boolean,
        "Turn off workload identity (`workload_identity_config`, pool `<project>.svc.id.goog`).",
    )
    .default(Default::Bool(false)),
    Key::new(
        "node_workload_metadata_config",
        Ty::Enum(&["GKE_METADATA", "GCE_METADATA", "MODE_UNSPECIFIED"]),
        "Metadata server every pool exposes to its pods (`workload_metadata_config`): `GKE_METADATA` serves workload identity and hides the node's credentials.",
    )
    .default(Default::Str("GKE_METADATA")),
    Key::new(
        "enable_intranode_visibility",
        Ty::Boolean,
        "Intranode visibility (`enable_intranode_visibility`): pod-to-pod traffic on one node goes through the VPC (and its flow logs).",
    ),
    Key::new("enable_tpu", Ty::Boolean, "Cloud TPU support (`enable_tpu`).").replaces(),
    Key::new(
        "logging_config",
        Ty::Object(COMPONENTS),
        "Components sending logs to Cloud Logging (`logging_config`); GKE's defaults when unset.",
    ),
    Key::new(
        "monitoring_config",
        Ty::Object(COMPONENTS),
        "Components sending metrics to Cloud Monitoring (`monitoring_config`); GKE's defaults when unset.",
    ),
    Key::new(
        "router_asn",
        Ty::Integer { min: 64512 },
        "BGP ASN of the Cloud Router (private range); only with Cloud NAT, which owns the router.",
    ),
    Key::new(
        "router_advertise_config",
        Ty::Object(ROUTER_ADVERTISE),
        "What the Cloud Router advertises over BGP; needs `router_asn`.",
    ),
    Key::new(
        "cluster_database_encryption_key_name",
        Ty::String,
        "Cloud KMS key that encrypts Kubernetes secrets at the application layer (`database_encryption`).",
    ),
    Key::new(
        "enable_gcs_fuse_csi_driver",
        Ty::Boolean,
        "The Cloud Storage FUSE CSI driver add-on (`addons_config.gcs_fuse_csi_driver_config`).",
    ),
    Key::new(
        "disable_default_ingress",
        Ty::Boolean,
        "Do not create the default ingress: a reserved regional IP (`google_compute_address`) for the ingress controller's load balancer, a Cloud DNS zone for the cluster's fqdn with DNSSEC, and A records for the fqdn and `*.<fqdn>` (module output `default_ingress`).",
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
    Key::new("location", Ty::String, "The cluster's region, or one of its zones to put the pool's nodes there.")
        .default(Default::ClusterKey("region"))
        .replaces(),
    Key::new(
        "node_locations",
        STRINGS,
        "Zones of the pool's nodes (`node_locations`); the cluster's when unset.",
    ),
    Key::new(
        "machine_type",
        Ty::String,
        "Machine type of the nodes, e.g. `e2-standard-8`; a change rolls the nodes in place.",
    )
    .required(),
    Key::new("min_node_count", COUNT, "Minimum nodes per zone (`autoscaling.min_node_count`).").default(Default::Int(1)),
    Key::new("max_node_count", POSITIVE, "Maximum nodes per zone (`autoscaling.max_node_count`).").required(),
    Key::new("initial_node_count", COUNT, "Nodes per zone at creation; the autoscaler owns the size afterwards, so later changes are ignored.")
        .default(Default::Key("min_node_count")),
    Key::new(
        "location_policy",
        Ty::Enum(&["BALANCED", "ANY"]),
        "How the autoscaler spreads nodes over zones (`autoscaling.location_policy`).",
    )
    .default(Default::Str("BALANCED")),
    Key::new("disk_size_gb", POSITIVE, "Boot disk size of the nodes in GB.")
        .default(Default::Int(100)),
    Key::new(
        "disk_type",
        Ty::Enum(&["pd-standard", "pd-balanced", "pd-ssd", "hyperdisk-balanced"]),
        "Boot disk type of the nodes; `pd-standard` as Kubestack, so imported pools keep theirs.",
    )
    .default(Default::Str("pd-standard")),
    Key::new("image_type", Ty::String, "Node image type (`image_type`).").default(Default::Str("COS_CONTAINERD")),
    Key::new("preemptible", Ty::Boolean, "Preemptible VMs (`preemptible`).")
        .default(Default::Bool(false))
        .replaces(),
    Key::new("auto_repair", Ty::Boolean, "Automatic node repair (`management.auto_repair`).").default(Default::Bool(true)),
    Key::new("auto_upgrade", Ty::Boolean, "Automatic node upgrades (`management.auto_upgrade`).").default(Default::Bool(true)),
    Key::new(
        "taints",
        TAINTS,
        "Kubernetes taints of the nodes: `{ key, value, effect }` with effect `NO_SCHEDULE`, `NO_EXECUTE` or `PREFER_NO_SCHEDULE`.",
    ),
    Key::new("labels", STRING_MAP, "Kubernetes labels of the pool's nodes."),
    Key::new("instance_tags", STRINGS, "Network tags of the VMs (`node_config.tags`), for firewall rules."),
    Key::new(
        "extra_oauth_scopes",
        STRINGS,
        "OAuth scopes beyond `cloud-platform` (access is limited by the service account's roles).",
    )
    .replaces(),
    Key::new(
        "service_account_email",
        Ty::String,
        "Service account of the nodes; the cluster's own node account (logging and monitoring roles only) when unset.",
    )
    .replaces(),
    Key::new(
        "kubestack_service_account",
        Ty::Boolean,
        "A service account of the pool's own, as Kubestack creates one for each node pool module: account id `<first 24 characters of <pool>-<cluster>>-<first 5 hex digits of its SHA-512>`, with the log and metric writer roles. `plinth import kubestack` sets it on such pools so that migrating replaces no node pool (a pool's service account cannot change in place).",
    )
    .default(Default::Bool(false))
    .replaces(),
    Key::new(
        "guest_accelerator",
        Ty::Object(GUEST_ACCELERATOR),
        "GPUs attached to each node (`guest_accelerator`).",
    )
    .replaces(),
    Key::new(
        "ephemeral_storage_local_ssd_config",
        Ty::Object(LOCAL_SSD),
        "Local SSDs backing the nodes' ephemeral storage.",
    )
    .replaces(),
    Key::new(
        "network_config",
        Ty::Object(NETWORK_CONFIG),
        "The pool's pod range and private nodes (`network_config`); a new pod range replaces the pool.",
    )
    .replaces(),
];

fn check_resolved(v: &ResolvedView<'_>, out: &mut Vec<Diagnostic>) {
    let c = v.cluster;
    let flag = |k: &str| c.get(k).and_then(Value::as_bool);
    if flag("enable_private_endpoint") == Some(true) && flag("enable_private_nodes") == Some(false)
    {
        let d = Diagnostic::error(
            "unsupported-combination",
            format!("{}: a private endpoint needs private nodes", v.what),
        );
        let d = v.at(d, c, "enable_private_endpoint", "private endpoint");
        out.push(
            v.at(d, c, "enable_private_nodes", "public nodes")
                .hint("set `enable_private_nodes = true`, or keep the public endpoint"),
        );
    }
    if flag("disable_workload_identity") == Some(true)
        && c.get("node_workload_metadata_config")
            .and_then(Value::as_str)
            == Some("GKE_METADATA")
    {
        let d = Diagnostic::error(
            "unsupported-combination",
            format!(
                "{}: `node_workload_metadata_config = \"GKE_METADATA\"` needs workload identity",
                v.what
            ),
        );
        let d = v.at(d, c, "disable_workload_identity", "workload identity off");
        out.push(v.at(d, c, "node_workload_metadata_config", "GKE's metadata server").hint("set `node_workload_metadata_config = \"GCE_METADATA\"` with `disable_workload_identity = true`"));
    }
    let mut inert = |key: &str, why: &str| {
        if let Some(x) = explicit(c, key) {
            out.push(
                Diagnostic::warning(
                    "no-effect",
                    format!("{}: `{key}` has no effect: {why}", v.what),
                )
                .at_value(x.origin, "unused"),
            );
        }
    };
    if flag("enable_cloud_nat") == Some(false) {
        for key in [
            "cloud_nat_ip_count",
            "cloud_nat_min_ports_per_vm",
            "router_asn",
            "router_advertise_config",
        ] {
            inert(
                key,
                "there is no Cloud NAT (and no Cloud Router) with `enable_cloud_nat = false`",
            );
        }
    }
    if c.get("network_mode").and_then(Value::as_str) == Some("auto") {
        inert(
            "enable_vpc_flow_logs",
            "an auto-mode network's subnetworks are Google's, not Plinth's",
        );
    }
    if flag("enable_private_nodes") == Some(false) {
        inert(
            "master_cidr_block",
            "the control plane range is only used with private nodes",
        );
    }
    if flag("enable_dataplane_v2") == Some(true) {
        inert(
            "enable_network_policy",
            "Dataplane V2 always enforces NetworkPolicies",
        );
    }
    for (name, pool) in v.pools {
        if pool
            .config
            .get("kubestack_service_account")
            .and_then(Value::as_bool)
            == Some(true)
            && let Some(email) = explicit(&pool.config, "service_account_email")
        {
            out.push(
                Diagnostic::error(
                    "unsupported-combination",
                    format!("{}: node pool `{name}`: `service_account_email` and `kubestack_service_account` both name the nodes' service account", v.what),
                )
                .at_value(email.origin, "this account")
                .hint("keep one: `kubestack_service_account` is the account Kubestack created for the pool"),
            );
        }
    }
    if let Some(x) = explicit(c, "router_advertise_config")
        && !c.contains_key("router_asn")
    {
        out.push(
            Diagnostic::error(
                "missing-key",
                format!("{}: `router_advertise_config` needs `router_asn`", v.what),
            )
            .at_value(x.origin, "BGP settings need an ASN")
            .hint("set `router_asn` (64512–65534 or 4200000000–4294967294)"),
        );
    }
}

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
    check_resolved,
    scaffold: Scaffold {
        cluster: "project_id = \"my-project\"\n",
        per_environment: "",
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

    /// A pool's nodes have one service account: Kubestack's own, or one named, not both.
    #[test]
    fn kubestack_service_account_and_an_email_are_refused_together() {
        let errors = |pool: &str| {
            crate::test_support::errors(
                "[platform]\n",
                "gke_zero",
                &format!(
                    "provider = \"gke\"\n[config.apps]\nproject_id = \"p\"\nregion = \"europe-west1\"\n\
                     [node_pools.default.config.apps]\nmachine_type = \"e2-standard-4\"\nmax_node_count = 2\n{pool}\n"
                ),
            )
        };
        assert_eq!(
            errors("kubestack_service_account = true"),
            Vec::<String>::new()
        );
        let both = errors(
            "kubestack_service_account = true\nservice_account_email = \"n@p.iam.gserviceaccount.com\"",
        );
        assert!(
            both.iter()
                .any(|e| e.starts_with("unsupported-combination:")
                    && e.contains("`service_account_email` and `kubestack_service_account`")),
            "{both:?}"
        );
    }
}
