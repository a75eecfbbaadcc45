//! kind (Kubernetes in Docker) for local work: Kubestack's release-era keys.
//!
//! kind has no node pools of its own; a Plinth pool is a set of worker nodes with shared labels
//! and taints. kind needs Docker on the machine that applies it.

use super::{
    Arch, COUNT, PoolShape, Provider, STRING_MAP, Scaffold, TAINTS, base_domain_key, int,
    name_prefix_key, object_taints, string_map,
};
use crate::keys::{Default, DefaultCtx, Key, Ty};
use crate::value::{Kind, Table};

/// The Terraform module, embedded from `terraform/` beside this file.
static MODULE: include_dir::Dir<'static> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/src/provider/kind/terraform");

// kind cannot change a cluster: every attribute of `kind_cluster` Plinth sets forces its
// replacement (`ForceNew` in tehcyx/terraform-provider-kind's `kind/resource_cluster.go`), so
// every key that reaches it replaces the whole cluster, node pool keys included.
pub static CLUSTER_KEYS: &[Key] = &[
    name_prefix_key(),
    base_domain_key(),
    Key::new(
        "region",
        Ty::String,
        "Region part of the cluster's name; Kubestack names local clusters' region `localhost`.",
    )
    .default(Default::Str("localhost"))
    .replaces(),
    Key::new(
        "node_image",
        Ty::String,
        "kindest/node image of every node (`kind_cluster.node_image`), e.g. `kindest/node:v1.32.2`; kind's default when unset.",
    )
    .replaces(),
    Key::new(
        "extra_nodes",
        Ty::List(&Ty::Enum(&["control-plane", "worker"])),
        "Extra nodes beside the first control plane node, by role (`kind_config.node`).",
    )
    .replaces(),
    Key::new(
        "http_port",
        Ty::Integer { min: 1 },
        "Host port mapped to port 80 of the ingress node (the first control plane node, labelled `ingress-ready=true`).",
    )
    .default(Default::Computed(
        http_port,
        "`80` in `apps`, `8080` elsewhere",
    ))
    .replaces(),
    Key::new(
        "https_port",
        Ty::Integer { min: 1 },
        "Host port mapped to port 443 of the ingress node.",
    )
    .default(Default::Computed(
        https_port,
        "`443` in `apps`, `8443` elsewhere",
    ))
    .replaces(),
    Key::new(
        "disable_default_ingress",
        Ty::Boolean,
        "Do not prepare the default ingress: no `ingress-ready=true` label and no host port mappings on the first control plane node.",
    )
    .default(Default::Bool(false))
    .replaces(),
];

pub static POOL_KEYS: &[Key] = &[
    Key::new(
        "nodes",
        COUNT,
        "Worker nodes in the pool (`kind_config.node` entries; the default pool's 0 schedules workloads on the control plane). kind recreates the whole cluster on a change.",
    )
    .default(Default::Int(1))
    .replaces(),
    Key::new(
        "node_image",
        Ty::String,
        "kindest/node image of the pool's nodes; the cluster's when unset. kind recreates the whole cluster on a change.",
    )
    .replaces(),
    Key::new("labels", STRING_MAP, "Kubernetes labels of the pool's nodes. kind recreates the whole cluster on a change.").replaces(),
    Key::new(
        "taints",
        TAINTS,
        "Kubernetes taints of the pool's nodes, through a kubeadm join patch. kind recreates the whole cluster on a change.",
    )
    .replaces(),
];

fn http_port(ctx: &DefaultCtx<'_>) -> Option<Kind> {
    Some(Kind::Integer(if ctx.environment == "apps" {
        80
    } else {
        8080
    }))
}

fn https_port(ctx: &DefaultCtx<'_>) -> Option<Kind> {
    Some(Kind::Integer(if ctx.environment == "apps" {
        443
    } else {
        8443
    }))
}

/// Host ports only serve the ingress node.
fn check_resolved(v: &super::ResolvedView<'_>, out: &mut Vec<crate::diagnostic::Diagnostic>) {
    let disabled = v
        .cluster
        .get("disable_default_ingress")
        .and_then(crate::value::Value::as_bool)
        == Some(true);
    for key in ["http_port", "https_port"] {
        if disabled && let Some(x) = super::explicit(v.cluster, key) {
            out.push(
                crate::diagnostic::Diagnostic::warning(
                    "no-effect",
                    format!(
                        "{}: `{key}` has no effect: the default ingress is disabled",
                        v.what
                    ),
                )
                .at_value(x.origin, "no port is mapped"),
            );
        }
    }
}

fn check_cluster_name(name: &str) -> Result<(), String> {
    if crate::keys::is_dns_label(name) {
        Ok(())
    } else {
        Err(format!(
            "kind cluster names are lowercase DNS labels: `{name}`"
        ))
    }
}

fn check_pool_name(name: &str) -> Result<(), String> {
    if crate::keys::is_dns_label(&name.replace('_', "-")) {
        Ok(())
    } else {
        Err(format!("kind pool names are DNS labels: `{name}`"))
    }
}

fn pool_shape(_key: &str, pool: &Table, _cluster: &Table) -> PoolShape {
    let n = int(pool, "nodes").unwrap_or(1);
    PoolShape {
        instance_types: vec!["docker".into()],
        min_nodes: n,
        max_nodes: n,
        arch: Arch::Amd64,
        gpus_per_node: 0,
        gpu_type: None,
        taints: object_taints(pool.get("taints")),
        labels: string_map(pool.get("labels")),
        max_pods_per_node: super::DEFAULT_MAX_PODS,
        spot: false,
        zones: Vec::new(),
    }
}

pub static KIND: Provider = Provider {
    id: "kind",
    provider_name: "kind",
    title: "kind (local)",
    cluster_keys: CLUSTER_KEYS,
    pool_keys: POOL_KEYS,
    dash_label_namespace: false,
    check_cluster_name,
    max_cluster_name: 63,
    check_pool_name,
    pool_name_key: "",
    size_keys: None,
    pool_shape,
    pool_flags: super::PoolFlags {
        instance: None,
        taints: ("taints", false),
        labels: "labels",
    },
    terraform: super::TerraformSpec {
        local_name: "kind",
        source: "tehcyx/kind",
        version: "~> 0.11.0",
        module: &MODULE,
        provider_settings: |_| Vec::new(),
        provider_blocks: &[],
    },
    check_resolved,
    scaffold: Scaffold {
        cluster: "",
        per_environment: "",
        default_pool: "nodes = 1\n",
        extra_pool: "nodes = 1\n",
        example_region: "localhost",
    },
};
