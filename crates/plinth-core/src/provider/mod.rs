//! The cloud providers Plinth generates clusters for.
//!
//! Each provider lives in its own folder: its key tables (cluster and node pool), its naming
//! limits, how its node pools map to Plinth's common [`PoolShape`], and its Terraform. Adding a
//! provider means adding a folder and one line to [`ALL`].

pub mod aks;
pub mod eks;
pub mod gke;
pub mod kind;

use crate::diagnostic::Diagnostic;
use crate::keys::{Field, Key, Ty};
use crate::value::{Origin, Table, Value};
use std::collections::BTreeMap;

/// Everything Plinth knows about one provider.
#[derive(Debug)]
pub struct Provider {
    /// What `provider = "..."` says: `eks`, `aks`, `gke`, `kind`.
    pub id: &'static str,
    /// Kubestack's provider name, used in domains and labels: `aws`, `azure`, `gcp`, `kind`.
    pub provider_name: &'static str,
    pub title: &'static str,
    pub cluster_keys: &'static [Key],
    pub pool_keys: &'static [Key],
    /// Azure cannot hold `/` in tag keys: labels use `kubestack.com-` style namespaces.
    pub dash_label_namespace: bool,
    /// The cluster name's own limits beyond DNS; `Err` says what is wrong.
    pub check_cluster_name: fn(&str) -> Result<(), String>,
    /// Longest cluster name the provider accepts, for "shorten this part" hints.
    pub max_cluster_name: usize,
    /// The node pool name's limits.
    pub check_pool_name: fn(&str) -> Result<(), String>,
    /// Which pool key overrides the pool's name (the pool's key is the default).
    pub pool_name_key: &'static str,
    /// Keys holding the pool's minimum, maximum and initial size, checked min ≤ initial ≤ max.
    pub size_keys: Option<SizeKeys>,
    /// Reads a resolved pool (its key, its table, its cluster's table) into Plinth's common
    /// shape.
    pub pool_shape: fn(&str, &Table, &Table) -> PoolShape,
    /// What `plinth add cluster` and `init` write for the default pool, as TOML lines.
    pub scaffold: Scaffold,
    /// Which pool keys `plinth add node-pool`'s flags set.
    pub pool_flags: PoolFlags,
    /// How the provider appears in generated Terraform.
    pub terraform: TerraformSpec,
    /// Problems only the resolved configuration shows: keys that would do nothing, and
    /// combinations the cloud refuses or that would not work there.
    pub check_resolved: fn(&ResolvedView<'_>, &mut Vec<Diagnostic>),
}

/// One cluster in one environment, resolved, as [`Provider::check_resolved`] sees it.
pub struct ResolvedView<'a> {
    /// "cluster `eks_zero`", for messages.
    pub what: &'a str,
    pub cluster: &'a Table,
    /// Where the cluster is defined: the place to point at when a default is the problem.
    pub origin: Origin,
    pub pools: &'a BTreeMap<String, crate::node_pool::ResolvedPool>,
}

impl ResolvedView<'_> {
    /// A diagnostic pointing at `key`'s value, or at the cluster when it is a default.
    pub(crate) fn at(&self, d: Diagnostic, table: &Table, key: &str, text: &str) -> Diagnostic {
        match table.get(key) {
            Some(v) if !v.origin.is_builtin() => d.at_value(v.origin, text.to_string()),
            _ => d.at_key(self.origin, format!("`{key}` defaults here")),
        }
    }
}

/// A value the user wrote (not a documented default).
pub(crate) fn explicit<'a>(t: &'a Table, k: &str) -> Option<&'a Value> {
    t.get(k).filter(|v| !v.origin.is_builtin())
}

/// The Terraform side of a provider: its module and how roots configure it.
#[derive(Debug)]
pub struct TerraformSpec {
    /// Local name in `required_providers` (`aws`, `google`, `azurerm`, `kind`).
    pub local_name: &'static str,
    /// Registry source, e.g. `hashicorp/aws`.
    pub source: &'static str,
    /// Version constraint admitting the version Plinth is checked against.
    pub version: &'static str,
    /// Plinth's module for this provider: `<id>/terraform/` in this folder, embedded.
    pub module: &'static include_dir::Dir<'static>,
    /// The settings of the aliased provider block for one cluster; `cfg` is the HCL expression
    /// of that cluster's resolved configuration in the current environment.
    pub provider_settings: fn(cfg: &str) -> Vec<(&'static str, String)>,
    /// Nested blocks the provider block must have (`features {}` for azurerm).
    pub provider_blocks: &'static [&'static str],
}

/// How the CLI's node-pool flags map to this provider's keys.
#[derive(Debug)]
pub struct PoolFlags {
    /// The instance/VM/machine type key, and whether it is a list.
    pub instance: Option<(&'static str, bool)>,
    /// The taints key, and whether taints are `key=value:Effect` strings (AKS) or tables.
    pub taints: (&'static str, bool),
    pub labels: &'static str,
}

#[derive(Debug)]
pub struct SizeKeys {
    pub min: &'static str,
    pub max: &'static str,
    pub initial: Option<&'static str>,
}

/// Starting configuration the CLI writes for a new cluster of this provider.
#[derive(Debug)]
pub struct Scaffold {
    /// Cluster keys beside `region`, with `{region}` substituted.
    pub cluster: &'static str,
    /// Cluster keys every environment sets for itself (`{env}` is the environment), e.g. an
    /// AKS resource group per environment.
    pub per_environment: &'static str,
    /// The default pool's keys, with `{region}` substituted.
    pub default_pool: &'static str,
    /// A new extra pool's keys, with `{region}` substituted.
    pub extra_pool: &'static str,
    pub example_region: &'static str,
}

pub static ALL: &[&Provider] = &[&eks::EKS, &aks::AKS, &gke::GKE, &kind::KIND];

pub fn by_id(id: &str) -> Option<&'static Provider> {
    ALL.iter().copied().find(|p| p.id == id)
}

pub fn ids() -> impl Iterator<Item = &'static str> + Clone {
    ALL.iter().map(|p| p.id)
}

/// CPU architecture of a pool's nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    Amd64,
    Arm64,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Taint {
    pub key: String,
    pub value: String,
    /// Kubernetes spelling: `NoSchedule`, `PreferNoSchedule`, `NoExecute`.
    pub effect: String,
}

impl std::fmt::Display for Taint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={}:{}", self.key, self.value, self.effect)
    }
}

/// A node pool as every provider's pools look to the advisor, capacity planner and diagrams.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PoolShape {
    pub instance_types: Vec<String>,
    /// Nodes across the whole pool (GKE's per-zone sizes are multiplied out).
    pub min_nodes: i64,
    pub max_nodes: i64,
    pub arch: Arch,
    /// GPUs per node, if any (0 when the count is not known but the node has GPUs is not used:
    /// unknown counts are 1).
    pub gpus_per_node: u32,
    pub gpu_type: Option<String>,
    pub taints: Vec<Taint>,
    pub labels: BTreeMap<String, String>,
    pub max_pods_per_node: i64,
    pub spot: bool,
    pub zones: Vec<String>,
}

/// Kubernetes' default pods per node.
pub const DEFAULT_MAX_PODS: i64 = 110;

// ---- helpers shared by the provider tables ----

pub(crate) const STRINGS: Ty = Ty::List(&Ty::String);
pub(crate) const STRING_MAP: Ty = Ty::Map(&Ty::String);
pub(crate) const CIDRS: Ty = Ty::List(&Ty::Cidr);
pub(crate) const COUNT: Ty = Ty::Integer { min: 0 };
pub(crate) const POSITIVE: Ty = Ty::Integer { min: 1 };

/// Taint effects as EKS and GKE spell them.
pub(crate) const TAINT_EFFECTS: &[&str] = &["NO_SCHEDULE", "NO_EXECUTE", "PREFER_NO_SCHEDULE"];
/// [`TAINT_EFFECTS`], for generators outside the crate.
pub const TAINT_EFFECTS_PUBLIC: &[&str] = TAINT_EFFECTS;

pub(crate) const TAINT_FIELDS: &[Field] = &[
    Field::new("key", Ty::String, "Taint key, e.g. `nvidia.com/gpu`.").required(),
    Field::new("value", Ty::String, "Taint value."),
    Field::new(
        "effect",
        Ty::Enum(TAINT_EFFECTS),
        "`NO_SCHEDULE`, `NO_EXECUTE` or `PREFER_NO_SCHEDULE`.",
    )
    .required(),
];

pub(crate) const TAINTS: Ty = Ty::List(&Ty::Object(TAINT_FIELDS));

/// The keys every provider's clusters share.
pub(crate) const fn name_prefix_key() -> Key {
    Key::new(
        "name_prefix",
        Ty::Pattern(is_name_part, "lowercase letters, digits and `-`, or empty"),
        "First part of the cluster name `<name_prefix>-<environment>-<region>`: the tenant or workload the cluster is for.",
    )
    .default(crate::keys::Default::Platform("name_prefix"))
    .replaces()
}

pub(crate) const fn base_domain_key() -> Key {
    Key::new(
        "base_domain",
        Ty::Pattern(
            crate::keys::is_domain_or_empty,
            "a DNS domain such as `infra.example.com`",
        ),
        "Domain under which the cluster's fqdn `<name>.<provider>.<base_domain>` is created.",
    )
    .default(crate::keys::Default::Platform("base_domain"))
}

fn is_name_part(s: &str) -> bool {
    s.is_empty()
        || s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Converts EKS/GKE taint tables (`NO_SCHEDULE`) to Kubernetes taints (`NoSchedule`).
pub(crate) fn object_taints(v: Option<&Value>) -> Vec<Taint> {
    v.map(|v| v.as_array().unwrap_or_default())
        .unwrap_or_default()
        .iter()
        .filter_map(|t| {
            let t = t.as_table()?;
            Some(Taint {
                key: t.get("key")?.as_str()?.to_string(),
                value: t
                    .get("value")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                effect: k8s_effect(t.get("effect")?.as_str()?).to_string(),
            })
        })
        .collect()
}

/// `NO_SCHEDULE` → `NoSchedule`.
pub fn k8s_effect(e: &str) -> &'static str {
    match e {
        "NO_EXECUTE" | "NoExecute" => "NoExecute",
        "PREFER_NO_SCHEDULE" | "PreferNoSchedule" => "PreferNoSchedule",
        _ => "NoSchedule",
    }
}

pub(crate) fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_table)
        .map(|t| {
            t.iter()
                .filter_map(|(k, v)| Some((k.to_string(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn int(t: &Table, k: &str) -> Option<i64> {
    t.get(k).and_then(Value::as_i64)
}

pub(crate) fn string<'a>(t: &'a Table, k: &str) -> Option<&'a str> {
    t.get(k).and_then(Value::as_str)
}

pub(crate) fn strings(t: &Table, k: &str) -> Vec<String> {
    t.get(k)
        .map(|v| v.str_list().into_iter().map(String::from).collect())
        .unwrap_or_default()
}

/// The first and last address of an IPv4 CIDR, for overlap checks.
pub(crate) fn ipv4_range(cidr: &str) -> Option<(u32, u32)> {
    let (addr, len) = cidr.split_once('/')?;
    let addr: std::net::Ipv4Addr = addr.parse().ok()?;
    let len: u32 = len.parse().ok().filter(|l| *l <= 32)?;
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    let start = u32::from(addr) & mask;
    Some((start, start | !mask))
}

/// Whether two IPv4 CIDRs share an address.
pub(crate) fn cidrs_overlap(a: &str, b: &str) -> bool {
    match (ipv4_range(a), ipv4_range(b)) {
        (Some((a0, a1)), Some((b0, b1))) => a0 <= b1 && b0 <= a1,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_overlaps() {
        assert!(cidrs_overlap("10.0.0.0/16", "10.0.128.0/20"));
        assert!(cidrs_overlap("100.64.0.0/16", "100.64.0.0/17"));
        assert!(!cidrs_overlap("10.0.0.0/16", "100.64.0.0/16"));
        assert!(!cidrs_overlap("100.64.0.0/17", "100.64.128.0/17"));
        assert!(!cidrs_overlap("fd00::/8", "10.0.0.0/8"));
    }

    #[test]
    fn every_table_is_well_formed() {
        for p in ALL {
            for keys in [p.cluster_keys, p.pool_keys] {
                let mut names: Vec<_> = keys.iter().map(|k| k.name).collect();
                names.sort_unstable();
                let before = names.len();
                names.dedup();
                assert_eq!(before, names.len(), "{} has a duplicate key", p.id);
                for k in keys {
                    assert!(!k.doc.is_empty(), "{}.{} has no doc", p.id, k.name);
                    assert!(
                        !k.required || matches!(k.default, crate::keys::Default::None),
                        "{}.{} is required and has a default",
                        p.id,
                        k.name
                    );
                    // Literal defaults must satisfy their own type.
                    if let Some(d) = crate::keys::literal_default(k) {
                        let mut diags = crate::diagnostic::Diagnostics::default();
                        assert!(
                            crate::keys::check_value(&k.ty, &Value::builtin(d), k.name, &mut diags),
                            "{}.{}",
                            p.id,
                            k.name
                        );
                    }
                }
            }
            assert!(
                p.cluster_keys.iter().any(|k| k.name == "region"),
                "{} lacks region",
                p.id
            );
            assert!(p.cluster_keys.iter().any(|k| k.name == "name_prefix"));
            assert!(p.cluster_keys.iter().any(|k| k.name == "base_domain"));
            if let Some(s) = &p.size_keys {
                assert!(p.pool_keys.iter().any(|k| k.name == s.min));
                assert!(p.pool_keys.iter().any(|k| k.name == s.max));
            }
        }
    }
}
