//! Moving a Kubestack platform's Terraform state to Plinth's addresses, so that the first plan
//! after an import replaces nothing.
//!
//! An imported cluster keeps a `[kubestack]` table: the Kubestack module it came from, the
//! module layout of its era, and the modules of its node pools and services. From it:
//!
//! * `plinth generate` writes `moved` blocks (`kubestack_moved.tf` in the cluster's root): each
//!   object Kubestack and Plinth both manage moves from Kubestack's address to Plinth's in the
//!   first plan, with no change in the cloud;
//! * `plinth import kubestack --state-migration` writes a script that, per environment, takes
//!   the imported modules' objects out of the Kubestack state (which stays as it was: the
//!   rollback point) into the state of Plinth's root for the cluster — the platform's, or the
//!   cluster's own with `state = "cluster"`, which no `moved` block can reach — and removes
//!   from it what Plinth does not manage, so no plan destroys it (it stays in the cloud).
//!
//! Kubestack's addresses: a release-era cluster module holds its resources in
//! `module.<cluster>.module.cluster` (the default pool in `...module.cluster.module.node_pool`)
//! and a node-pool module in `module.<pool>.module.node_pool`; the current modules are flat
//! (`module.<cluster>.<resource>`, `module.<cluster>.module.node_pool`, `module.<pool>.<resource>`).
//! Catalog services apply `kustomization_resource.p0`, `p1` and `p2`.

use crate::cluster::ClusterDef;
use crate::diagnostic::{Diagnostic, Diagnostics, suggest};
use crate::node_pool::DEFAULT_POOL;
use crate::platform::{Platform, StateLayout};
use crate::resolve::Resolution;
use crate::value::{Origin, Value};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Where an imported cluster came from, as its `[kubestack]` table says.
#[derive(Clone, Debug, PartialEq)]
pub struct KubestackOrigin {
    /// The cluster module's name (`module "eks_zero"`).
    pub module: String,
    pub layout: Layout,
    /// Pool key → its node-pool module.
    pub node_pools: BTreeMap<String, String>,
    /// Service key → its catalog module.
    pub services: BTreeMap<String, String>,
    /// Kubestack root resources that are now this cluster's: Kubestack address → Plinth's,
    /// inside the cluster's module (a resource group the repository declared).
    pub resources: BTreeMap<String, String>,
    pub origin: Origin,
}

/// The module layout of a Kubestack era.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Resources in `module.cluster` (the last release, v0.19.2-beta.0, and before).
    Release,
    /// Flat modules (the main branch).
    Current,
}

impl Layout {
    pub const NAMES: &'static [&'static str] = &["release", "current"];

    pub fn as_str(self) -> &'static str {
        match self {
            Layout::Release => "release",
            Layout::Current => "current",
        }
    }
}

/// One step of the migration.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// The same object under Plinth's address: a `moved` block.
    Move { from: String, to: String },
    /// Kubestack manages it and Plinth does not: removed from Plinth's state, left as it is in
    /// the cloud.
    Forget { address: String, why: &'static str },
}

/// A Terraform identifier (module and resource names).
fn is_identifier(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// `type.name` of a managed resource.
fn is_resource_address(s: &str) -> bool {
    matches!(s.split('.').collect::<Vec<_>>().as_slice(),
        [t, n] if is_identifier(t) && is_identifier(n) && !["module", "data"].contains(t))
}

/// Reads a cluster's `[kubestack]` table; `pools` and `services` are the cluster's keys.
pub fn decode(
    what: &str,
    v: &Value,
    pools: &[&String],
    services: &[&String],
    diags: &mut Diagnostics,
) -> Option<KubestackOrigin> {
    let Some(t) = v.as_table() else {
        diags.push(
            Diagnostic::error(
                "wrong-type",
                format!("`kubestack` of {what} must be a table"),
            )
            .at_value(v.origin, "expected a table"),
        );
        return None;
    };
    let allowed = ["module", "layout", "node_pools", "services", "resources"];
    crate::component::check_structure(
        &format!("`kubestack` of {what}"),
        t,
        &allowed,
        &[],
        "",
        diags,
    );
    let mut ok = t.keys().all(|k| allowed.contains(&k.as_str()));
    let module = match t.get("module") {
        Some(m) => match m.as_str().filter(|s| is_identifier(s)) {
            Some(s) => s.to_string(),
            None => {
                diags.push(
                    Diagnostic::error(
                        "invalid-value",
                        format!("`kubestack.module` of {what} must be a Terraform module name"),
                    )
                    .at_value(m.origin, "the name of Kubestack's `module \"...\"` block"),
                );
                return None;
            }
        },
        None => {
            diags.push(
                Diagnostic::error(
                    "missing-key",
                    format!("`kubestack` of {what} has no `module`"),
                )
                .at_key(v.origin, "which Kubestack module was this cluster?")
                .hint("write `module = \"<name>\"`, the name of Kubestack's cluster module block"),
            );
            return None;
        }
    };
    let layout = match t.get("layout").map(|l| (l, l.as_str())) {
        None => Layout::Current,
        Some((_, Some("release"))) => Layout::Release,
        Some((_, Some("current"))) => Layout::Current,
        Some((l, s)) => {
            diags.push(
                Diagnostic::error("invalid-value", format!("`kubestack.layout` of {what} must be `release` or `current`"))
                    .at_value(l.origin, "not a Kubestack module layout")
                    .maybe_hint(s.and_then(|s| suggest(s, Layout::NAMES.iter().copied())))
                    .hint("`release`: resources in `module.cluster` (v0.19.2-beta.0 and before); `current`: the main branch's flat modules"),
            );
            return None;
        }
    };
    let mut map = |key: &str, known: &[&String], check: fn(&str) -> bool, rule: &str| {
        let mut out = BTreeMap::new();
        let Some(x) = t.get(key) else {
            return out;
        };
        let Some(entries) = x.as_table() else {
            ok = false;
            diags.push(
                Diagnostic::error(
                    "wrong-type",
                    format!("`kubestack.{key}` of {what} must be a table"),
                )
                .at_value(x.origin, "expected a table"),
            );
            return out;
        };
        for (k, m) in entries {
            if !known.is_empty() && !known.iter().any(|n| n.as_str() == k.as_str()) {
                ok = false;
                diags.push(
                    Diagnostic::error(
                        "unknown-key",
                        format!(
                            "`kubestack.{key}.{k}` of {what} names no {} of the cluster",
                            &key[..key.len() - 1].replace('_', " ")
                        ),
                    )
                    .at_key(m.origin, "not defined in this cluster")
                    .maybe_hint(suggest(k, known.iter().map(|s| s.as_str()))),
                );
                continue;
            }
            match m.as_str().filter(|s| check(s)) {
                Some(s) => {
                    out.insert(k.to_string(), s.to_string());
                }
                None => {
                    ok = false;
                    diags.push(
                        Diagnostic::error(
                            "invalid-value",
                            format!("`kubestack.{key}.{k}` of {what} must be {rule}"),
                        )
                        .at_value(m.origin, "invalid"),
                    );
                }
            }
        }
        out
    };
    let node_pools = map(
        "node_pools",
        pools,
        is_identifier,
        "a Terraform module name",
    );
    let services = map(
        "services",
        services,
        is_identifier,
        "a Terraform module name",
    );
    let resources = map(
        "resources",
        &[],
        is_resource_address,
        "a resource address `<type>.<name>`",
    );
    if let Some(from) = resources.keys().find(|k| !is_resource_address(k)) {
        ok = false;
        diags.push(
            Diagnostic::error(
                "invalid-value",
                format!("`kubestack.resources` of {what}: `{from}` is not a resource address"),
            )
            .at_value(
                t.get("resources").map_or(v.origin, |x| x.origin),
                "expected `<type>.<name>` keys",
            ),
        );
    }
    ok.then_some(KubestackOrigin {
        module,
        layout,
        node_pools,
        services,
        resources,
        origin: v.origin,
    })
}

/// What it means to leave an object alone.
const SG: &str = "Kubestack's extra control plane security group: the first apply detaches it from the cluster in place (Plinth uses the one EKS creates); it stays in the account until you delete it";
const AWS_AUTH: &str = "the aws-auth ConfigMap that lets nodes and users in: it must stay in the cluster; Plinth does not manage it";
const DNS: &str =
    "the default ingress DNS zone and records: they stay; Plinth's own DNS resources are separate";
const ROUTES: &str = "Kubestack's per-zone route tables and routes: they stay; Plinth's route table holds the same default route";
const NAT: &str =
    "Kubestack's NAT gateways for private node subnets: they stay until Plinth manages NAT";
const LEGACY_IAM: &str = "an IAM object Plinth's module does not use (AmazonEKSServicePolicy, the node instance profile): it stays";
const POOL_NETWORK: &str =
    "a node pool's secondary CIDR association or route table association: it stays";
const INGRESS_IP: &str = "the default ingress IP: it stays";
const SERVICE_PRINCIPAL: &str = "Kubestack's Azure AD service principal: it stays";
const LOG_SOLUTION: &str = "Kubestack's Log Analytics solution: it stays";
const RBAC: &str = "Kubestack's cluster role binding for the deploying user: it stays";

/// The migration of one cluster: its `moved` blocks and what Plinth's state must not hold.
/// `zones` is the most availability zones the cluster has in any environment (Kubestack keeps
/// one route table per zone, Plinth one).
pub fn steps(c: &ClusterDef, o: &KubestackOrigin, zones: usize) -> Vec<Step> {
    let key = &c.key;
    let m = &o.module;
    let k = match o.layout {
        Layout::Release => format!("module.{m}.module.cluster."),
        Layout::Current => format!("module.{m}."),
    };
    let p = format!("module.{key}.");
    let mut out = Vec::new();
    // The same address in both (a flat module named as the cluster): nothing moves.
    let mut mv = |from: String, to: String| {
        if from != to {
            out.push(Step::Move { from, to });
        }
    };
    let pool_to = |pool: &str| format!("module.{key}.module.node_pool[\"{pool}\"].");
    let pool_module = |pm: &str| match o.layout {
        Layout::Release => format!("module.{pm}.module.node_pool."),
        Layout::Current => format!("module.{pm}."),
    };
    // The default pool: a node-pool module inside the cluster's.
    let default_pool = match o.layout {
        Layout::Release => format!("module.{m}.module.cluster.module.node_pool."),
        Layout::Current => format!("module.{m}.module.node_pool."),
    };
    let mut forget: Vec<(String, &'static str)> = Vec::new();
    match c.provider.id {
        "eks" => {
            for (from, to) in [
                ("aws_vpc.current", "aws_vpc.current"),
                ("aws_subnet.current", "aws_subnet.control"),
                ("aws_subnet.node_pool", "aws_subnet.node"),
                (
                    "aws_internet_gateway.current",
                    "aws_internet_gateway.current",
                ),
                ("aws_route_table.current[0]", "aws_route_table.current"),
                (
                    "aws_route_table_association.current",
                    "aws_route_table_association.control",
                ),
                (
                    "aws_route_table_association.node_pool",
                    "aws_route_table_association.node",
                ),
                ("aws_eks_cluster.current", "aws_eks_cluster.current"),
                ("aws_iam_role.master", "aws_iam_role.master"),
                ("aws_iam_role.node", "aws_iam_role.node"),
                (
                    "aws_iam_openid_connect_provider.current",
                    "aws_iam_openid_connect_provider.current",
                ),
            ] {
                mv(format!("{k}{from}"), format!("{p}{to}"));
            }
            for (from, policy) in [
                (
                    "master_cluster_policy",
                    ("master", "AmazonEKSClusterPolicy"),
                ),
                ("node_policy", ("node", "AmazonEKSWorkerNodePolicy")),
                ("node_cni_policy", ("node", "AmazonEKS_CNI_Policy")),
                (
                    "node_container_registry_ro",
                    ("node", "AmazonEC2ContainerRegistryReadOnly"),
                ),
            ] {
                mv(
                    format!("{k}aws_iam_role_policy_attachment.{from}"),
                    format!(
                        "{p}aws_iam_role_policy_attachment.{}[\"arn:aws:iam::aws:policy/{}\"]",
                        policy.0, policy.1
                    ),
                );
            }
            mv(
                format!("{default_pool}aws_eks_node_group.nodes"),
                format!("{}aws_eks_node_group.pool", pool_to(DEFAULT_POOL)),
            );
            mv(
                format!("{default_pool}aws_launch_template.current"),
                format!("{}aws_launch_template.pool", pool_to(DEFAULT_POOL)),
            );
            for (pool, pm) in &o.node_pools {
                let from = pool_module(pm);
                mv(
                    format!("{from}aws_eks_node_group.nodes"),
                    format!("{}aws_eks_node_group.pool", pool_to(pool)),
                );
                mv(
                    format!("{from}aws_launch_template.current"),
                    format!("{}aws_launch_template.pool", pool_to(pool)),
                );
                // The pool's own subnets sit beside its node-pool module in both eras.
                mv(
                    format!("module.{pm}.aws_subnet.current"),
                    format!("{}aws_subnet.pool", pool_to(pool)),
                );
                forget.push((
                    format!("module.{pm}.aws_route_table_association.current"),
                    POOL_NETWORK,
                ));
                forget.push((
                    format!("module.{pm}.aws_vpc_ipv4_cidr_block_association.current"),
                    POOL_NETWORK,
                ));
            }
            forget.push((format!("{k}kubernetes_config_map.current"), AWS_AUTH));
            forget.push((format!("{k}aws_security_group.masters"), SG));
            forget.push((
                format!("{k}aws_security_group_rule.masters_ingress_apiserver_public"),
                SG,
            ));
            forget.push((
                format!("{k}aws_iam_role_policy_attachment.master_service_policy"),
                LEGACY_IAM,
            ));
            forget.push((format!("{k}aws_iam_instance_profile.nodes"), LEGACY_IAM));
            for i in 1..zones.max(1) {
                forget.push((format!("{k}aws_route_table.current[{i}]"), ROUTES));
            }
            forget.push((format!("{k}aws_route.current"), ROUTES));
            forget.push((format!("{k}aws_route_table.node_pool"), ROUTES));
            forget.push((format!("{k}aws_route.node_pool"), ROUTES));
            forget.push((format!("{k}aws_eip.nat_gw"), NAT));
            forget.push((format!("{k}aws_nat_gateway.current"), NAT));
            forget.push((format!("{k}aws_route53_zone.current"), DNS));
        }
        "gke" => {
            for (from, to) in [
                (
                    "google_container_cluster.current",
                    "google_container_cluster.current",
                ),
                (
                    "google_compute_network.current",
                    "google_compute_network.current",
                ),
                // Both counted (Cloud NAT on or off): whole resources move.
                (
                    "google_compute_router.current",
                    "google_compute_router.current",
                ),
                (
                    "google_compute_router_nat.nat",
                    "google_compute_router_nat.current",
                ),
                (
                    "google_service_account.current",
                    "google_service_account.nodes",
                ),
                (
                    "google_project_iam_member.log_writer",
                    "google_project_iam_member.nodes[\"roles/logging.logWriter\"]",
                ),
                (
                    "google_project_iam_member.metric_writer",
                    "google_project_iam_member.nodes[\"roles/monitoring.metricWriter\"]",
                ),
            ] {
                mv(format!("{k}{from}"), format!("{p}{to}"));
            }
            mv(
                format!("{default_pool}google_container_node_pool.current"),
                format!("{}google_container_node_pool.pool", pool_to(DEFAULT_POOL)),
            );
            for (pool, pm) in &o.node_pools {
                // The pool's own service account (`kubestack_service_account`) and its roles.
                for (from, to) in [
                    (
                        "google_container_node_pool.current",
                        "google_container_node_pool.pool",
                    ),
                    (
                        "google_service_account.current",
                        "google_service_account.kubestack",
                    ),
                    (
                        "google_project_iam_member.log_writer",
                        "google_project_iam_member.log_writer",
                    ),
                    (
                        "google_project_iam_member.metric_writer",
                        "google_project_iam_member.metric_writer",
                    ),
                ] {
                    mv(
                        format!("{}{from}", pool_module(pm)),
                        format!("{}{to}", pool_to(pool)),
                    );
                }
            }
            forget.push((format!("{k}google_compute_address.current"), INGRESS_IP));
            forget.push((format!("{k}google_compute_address.nat"), NAT));
            forget.push((format!("{k}google_dns_managed_zone.current"), DNS));
            forget.push((format!("{k}google_dns_record_set.host"), DNS));
            forget.push((format!("{k}google_dns_record_set.wildcard"), DNS));
            forget.push((format!("{k}kubernetes_cluster_role_binding.current"), RBAC));
        }
        "aks" => {
            for (from, to) in [
                (
                    "azurerm_kubernetes_cluster.current",
                    "azurerm_kubernetes_cluster.current",
                ),
                (
                    "azurerm_log_analytics_workspace.current",
                    "azurerm_log_analytics_workspace.current",
                ),
            ] {
                mv(format!("{k}{from}"), format!("{p}{to}"));
            }
            // Kubestack's network exists with the azure CNI only (`count`), as Plinth's with
            // `network_layout = "kubestack"` or `"kubestack-legacy"`. The moves go to the
            // unindexed addresses, which the module's own `moved` blocks (from Plinth's versions
            // without `count`) take on to `[0]`: two moves to `[0]` would be ambiguous. A flat
            // module named as the cluster already has the vnet at Plinth's address.
            for (from, to) in [
                (
                    "azurerm_virtual_network.current",
                    "azurerm_virtual_network.current",
                ),
                ("azurerm_subnet.current", "azurerm_subnet.nodes"),
            ] {
                let (from, to) = (format!("{k}{from}[0]"), format!("{p}{to}"));
                if from != format!("{to}[0]") {
                    mv(from, to);
                }
            }
            for (pool, pm) in &o.node_pools {
                mv(
                    format!(
                        "{}azurerm_kubernetes_cluster_node_pool.current",
                        pool_module(pm)
                    ),
                    format!("{}azurerm_kubernetes_cluster_node_pool.pool", pool_to(pool)),
                );
            }
            forget.push((
                format!("{k}azurerm_log_analytics_solution.current"),
                LOG_SOLUTION,
            ));
            forget.push((format!("{k}azurerm_public_ip.current"), INGRESS_IP));
            forget.push((format!("{k}azurerm_dns_zone.current"), DNS));
            forget.push((format!("{k}azurerm_dns_a_record.host"), DNS));
            forget.push((format!("{k}azurerm_dns_a_record.wildcard"), DNS));
            forget.push((format!("{k}azuread_application.current"), SERVICE_PRINCIPAL));
            forget.push((
                format!("{k}azuread_service_principal.current"),
                SERVICE_PRINCIPAL,
            ));
            forget.push((
                format!("{k}azuread_service_principal_password.current"),
                SERVICE_PRINCIPAL,
            ));
        }
        "kind" => {
            mv(
                format!("{k}kind_cluster.current"),
                format!("{p}kind_cluster.current"),
            );
        }
        _ => {}
    }
    for (from, to) in &o.resources {
        mv(from.clone(), format!("{p}{to}"));
    }
    for (svc, sm) in &o.services {
        for (kp, wave) in [("p0", "wave0"), ("p1", "wave1"), ("p2", "wave2")] {
            mv(
                format!("module.{sm}.kustomization_resource.{kp}"),
                format!("module.{key}_services[\"{svc}\"].kustomization_resource.{wave}"),
            );
        }
    }
    out.extend(
        forget
            .into_iter()
            .map(|(address, why)| Step::Forget { address, why }),
    );
    out
}

/// The Kubestack modules (and root resources) whose state moves to the cluster's root.
pub fn taken(o: &KubestackOrigin) -> Vec<String> {
    let mut v = vec![format!("module.{}", o.module)];
    v.extend(o.node_pools.values().map(|m| format!("module.{m}")));
    v.extend(o.services.values().map(|m| format!("module.{m}")));
    v.extend(o.resources.keys().cloned());
    v
}

/// The most availability zones a cluster has in any environment.
fn zones(r: &Resolution, key: &str) -> usize {
    r.environments
        .iter()
        .filter_map(|e| e.clusters.get(key))
        .map(|c| {
            ["cluster_availability_zones", "availability_zones"]
                .iter()
                .find_map(|k| {
                    c.config
                        .get(k)
                        .and_then(Value::as_array)
                        .map(<[Value]>::len)
                })
                .unwrap_or(0)
        })
        .max()
        .unwrap_or(0)
}

/// The `moved` blocks of the clusters in one root (`kubestack_moved.tf`), or `None` when none
/// of them came from Kubestack.
pub fn moved_file(p: &Platform, r: &Resolution, clusters: &[&str]) -> Option<String> {
    let mut s = String::new();
    for key in clusters {
        let Some(c) = p.clusters.get(*key) else {
            continue;
        };
        let Some(o) = &c.kubestack else {
            continue;
        };
        let steps = steps(c, o, zones(r, key));
        if s.is_empty() {
            s.push_str("# Kubestack's addresses of the objects Plinth now manages (the clusters' `[kubestack]`\n");
            s.push_str("# tables): the first plan moves them in the state instead of replacing them. Run\n");
            s.push_str("# `kubestack-state-migration.sh` (`plinth import kubestack --state-migration`) first: it\n");
            s.push_str("# brings the state here and leaves out what Plinth does not manage.\n");
        }
        let _ = write!(
            s,
            "\n# Cluster `{key}`, from Kubestack module `{}` ({} layout).\n",
            o.module,
            o.layout.as_str()
        );
        for st in &steps {
            if let Step::Move { from, to } = st {
                let _ = write!(s, "\nmoved {{\n  from = {from}\n  to   = {to}\n}}\n");
            }
        }
    }
    (!s.is_empty()).then_some(s)
}

/// Single-quotes a string for the shell.
fn sh(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The state migration script for the whole platform (see the module documentation).
pub fn script(p: &Platform, r: &Resolution, source: &str) -> String {
    let mut s = String::new();
    let per_cluster = p.settings.state == StateLayout::Cluster;
    let envs: Vec<&str> = p.environments.names().collect();
    let _ = writeln!(s, "#!/usr/bin/env bash");
    let _ = writeln!(
        s,
        "# Moves the Terraform state of the Kubestack repository `{source}` to the Plinth platform"
    );
    s.push_str("# imported from it. Written by `plinth import kubestack --state-migration`; read it before\n");
    s.push_str("# running it.\n#\n");
    s.push_str("# Per environment (Terraform workspace), it reads the Kubestack state, takes the objects of\n");
    s.push_str("# the imported modules out of it into the state of Plinth's root");
    if per_cluster {
        s.push_str(" of each cluster\n# (`generated/<cluster>/`, `state = \"cluster\"`: no `moved` block reaches across roots),\n");
    } else {
        s.push_str(" (`generated/`),\n");
    }
    s.push_str(
        "# keeping their Kubestack addresses — the `moved` blocks `plinth generate` writes in\n",
    );
    s.push_str("# `kubestack_moved.tf` give them Plinth's in the first plan — and removes from that state what\n");
    s.push_str("# Plinth does not manage (listed below: it stays in the cloud, untouched, and no plan destroys\n");
    s.push_str("# it). It changes nothing in the cloud and never writes the Kubestack state, which stays the\n");
    s.push_str("# rollback point (a copy of each goes to $BACKUP). From then on, apply with Plinth only.\n#\n");
    s.push_str("# Usage: bash kubestack-state-migration.sh KUBESTACK_DIR PLINTH_GENERATED_DIR\n");
    s.push_str("#   KUBESTACK_DIR         the Kubestack repository, with `terraform init` done\n");
    s.push_str(
        "#   PLINTH_GENERATED_DIR  this platform's generated Terraform (`plinth generate`)\n",
    );
    s.push_str("# Then `plinth plan --env <environment>` for each: it must destroy or replace no cluster,\n");
    s.push_str("# node pool, network or namespace (creating what Plinth adds is expected).\n");
    s.push_str("set -euo pipefail\n\n");
    s.push_str(
        "KUBESTACK=\"$(cd \"${1:?usage: $0 KUBESTACK_DIR PLINTH_GENERATED_DIR}\" && pwd)\"\n",
    );
    s.push_str("PLINTH=\"$(cd \"${2:?usage: $0 KUBESTACK_DIR PLINTH_GENERATED_DIR}\" && pwd)\"\n");
    s.push_str("BACKUP=\"${BACKUP:-$PWD/kubestack-state-backup}\"\n");
    s.push_str("mkdir -p \"$BACKUP\"\nBACKUP=\"$(cd \"$BACKUP\" && pwd)\"\n");
    s.push_str("WORK=\"$(mktemp -d)\"\ntrap 'rm -rf \"$WORK\"' EXIT\n");
    s.push_str(
        "# State files are edited offline here: no configuration, no backend.\ncd \"$WORK\"\n\n",
    );
    s.push_str("# take FROM TO ADDRESS: moves ADDRESS (all it holds) from state file FROM to TO, if FROM has it.\n");
    s.push_str("take() {\n  if terraform state list -state=\"$1\" \"$3\" >/dev/null 2>&1; then\n    terraform state mv -state=\"$1\" -state-out=\"$2\" \"$3\" \"$3\" >/dev/null\n    echo \"  took $3\"\n  fi\n}\n\n");
    s.push_str(
        "# forget STATE ADDRESS WHY: removes ADDRESS from state file STATE, if it has it.\n",
    );
    s.push_str("forget() {\n  if [ -f \"$1\" ] && terraform state list -state=\"$1\" \"$2\" >/dev/null 2>&1; then\n    terraform state rm -state=\"$1\" \"$2\" >/dev/null\n    echo \"  left out $2: $3\"\n  fi\n}\n\n");
    s.push_str(
        "# push DIR WORKSPACE STATE: the state of root DIR in WORKSPACE, which must be empty.\n",
    );
    s.push_str("push() {\n  [ -f \"$3\" ] || return 0\n  terraform -chdir=\"$1\" init -input=false >/dev/null\n  terraform -chdir=\"$1\" workspace select -or-create \"$2\" >/dev/null\n  if [ -n \"$(terraform -chdir=\"$1\" state list 2>/dev/null)\" ]; then\n    echo \"$1 already has state in workspace $2: not overwritten\" >&2\n    exit 1\n  fi\n  terraform -chdir=\"$1\" state push \"$WORK/$3\"\n  echo \"  pushed to $1 ($2)\"\n}\n\n");
    let roots: Vec<(String, Vec<&ClusterDef>)> = if per_cluster {
        p.clusters
            .values()
            .filter(|c| c.kubestack.is_some())
            .map(|c| (c.key.clone(), vec![c]))
            .collect()
    } else {
        vec![(
            String::new(),
            p.clusters
                .values()
                .filter(|c| c.kubestack.is_some())
                .collect(),
        )]
    };
    let _ = writeln!(
        s,
        "for ws in {}; do",
        envs.iter().map(|e| sh(e)).collect::<Vec<_>>().join(" ")
    );
    s.push_str("  if ! terraform -chdir=\"$KUBESTACK\" workspace select \"$ws\" >/dev/null 2>&1; then\n    echo \"$ws: no such Kubestack workspace; skipped\"\n    continue\n  fi\n");
    s.push_str("  echo \"$ws:\"\n  terraform -chdir=\"$KUBESTACK\" state pull > kubestack.tfstate\n  cp kubestack.tfstate \"$BACKUP/kubestack-$ws.tfstate\"\n");
    for (root, clusters) in &roots {
        let file = if root.is_empty() {
            "platform.tfstate".to_string()
        } else {
            format!("{root}.tfstate")
        };
        let dir = if root.is_empty() {
            "\"$PLINTH\"".to_string()
        } else {
            format!("\"$PLINTH\"/{}", sh(root))
        };
        let _ = writeln!(s, "  rm -f {}", sh(&file));
        for c in clusters {
            let Some(o) = &c.kubestack else { continue };
            let _ = writeln!(s, "  # cluster `{}`", c.key);
            for a in taken(o) {
                let _ = writeln!(s, "  take kubestack.tfstate {} {}", sh(&file), sh(&a));
            }
            for st in steps(c, o, zones(r, &c.key)) {
                if let Step::Forget { address, why } = st {
                    let _ = writeln!(s, "  forget {} {} {}", sh(&file), sh(&address), sh(why));
                }
            }
        }
        let _ = writeln!(s, "  push {dir} \"$ws\" {}", sh(&file));
    }
    s.push_str("  # What stays in the Kubestack state (modules Plinth does not import, other resources).\n");
    s.push_str("  cp kubestack.tfstate \"$BACKUP/kubestack-$ws-not-migrated.tfstate\"\ndone\n");
    s.push_str("echo \"done: the Kubestack states are in $BACKUP; plan every environment with Plinth before applying\"\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The errors `validate` reports for a `[kubestack]` table.
    fn problems(table: &str) -> Vec<String> {
        let cluster = format!(
            "provider = \"eks\"\n[config.apps]\nregion = \"eu-west-1\"\ncluster_availability_zones = [\"eu-west-1a\"]\n\
             [node_pools.default.config.apps]\ninstance_types = [\"t3.small\"]\nmax_size = 2\n\
             [node_pools.gpu.config.apps]\ninstance_types = [\"g5.xlarge\"]\nmax_size = 2\n{table}"
        );
        crate::test_support::errors("[platform]\n", "eks_zero", &cluster)
    }

    #[test]
    fn kubestack_tables_are_checked() {
        assert_eq!(
            problems(
                "[kubestack]\nmodule = \"eks_zero\"\nlayout = \"release\"\nnode_pools = { gpu = \"eks_zero_node_pool_gpu\" }\nresources = { \"aws_kms_key.x\" = \"aws_kms_key.y\" }\n"
            ),
            Vec::<String>::new()
        );
        let p = problems(
            "[kubestack]\nmodul = \"eks_zero\"\nlayout = \"relase\"\nnode_pools = { gpu2 = \"x\" }\n",
        );
        for want in [
            "unknown-key: unknown key `modul` in `kubestack` of cluster `eks_zero`",
            "missing-key: `kubestack` of cluster `eks_zero` has no `module`",
        ] {
            assert!(p.iter().any(|m| m == want), "{want}: {p:?}");
        }
        let p = problems("[kubestack]\nmodule = \"eks zero\"\n");
        assert!(
            p.iter()
                .any(|m| m.starts_with("invalid-value: `kubestack.module`")),
            "{p:?}"
        );
        let p = problems("[kubestack]\nmodule = \"m\"\nlayout = \"relase\"\n");
        assert!(
            p.iter()
                .any(|m| m.starts_with("invalid-value: `kubestack.layout`")),
            "{p:?}"
        );
        let p = problems(
            "[kubestack]\nmodule = \"m\"\nnode_pools = { gpu2 = \"x\" }\nresources = { \"module.x\" = \"a.b\" }\n",
        );
        assert!(
            p.iter().any(|m| m.contains("`kubestack.node_pools.gpu2`")),
            "{p:?}"
        );
        assert!(
            p.iter()
                .any(|m| m.contains("`module.x` is not a resource address")),
            "{p:?}"
        );
    }

    #[test]
    fn addresses() {
        assert!(is_identifier("eks_zero_node_pool-gpu"));
        assert!(!is_identifier("0x"));
        assert!(!is_identifier("a.b"));
        assert!(is_resource_address("azurerm_resource_group.rg"));
        assert!(!is_resource_address("module.x"));
        assert!(!is_resource_address("a.b.c"));
        assert_eq!(sh("it's"), "'it'\\''s'");
    }
}
