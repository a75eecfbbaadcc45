//! Which attribute changes replace a resource.
//!
//! Provider schemas do not say which attributes are `ForceNew`, so a double that only serves
//! the schema plans every change in place, and a test that must catch a replacement (a state
//! migration that keeps the cluster) could never fail. This table lists, for the resources
//! those tests involve, the attributes the real providers' documentation marks "Changing this
//! forces a new resource to be created" (hashicorp/google 6.50, hashicorp/azurerm 4.51). It is
//! not exhaustive: only what a migration of a Kubestack network and cluster can touch.

use rmpv::Value;

use crate::values::{PathStep, get, is_unknown};

/// Resource type → its replacing attributes, as dotted paths through nested blocks (each block
/// of a list or set is checked).
const TABLE: &[(&str, &[&str])] = &[
    (
        "google_compute_network",
        &["name", "project", "auto_create_subnetworks", "routing_mode"],
    ),
    (
        "google_compute_subnetwork",
        &["name", "project", "region", "network", "ip_cidr_range"],
    ),
    (
        "google_compute_router",
        &["name", "project", "region", "network"],
    ),
    (
        "google_compute_router_nat",
        &["name", "project", "region", "router"],
    ),
    (
        "google_container_cluster",
        &[
            "name",
            "project",
            "location",
            "network",
            "subnetwork",
            "initial_node_count",
            "enable_tpu",
            "private_cluster_config.enable_private_endpoint",
            "private_cluster_config.master_ipv4_cidr_block",
            "ip_allocation_policy.cluster_ipv4_cidr_block",
            "ip_allocation_policy.services_ipv4_cidr_block",
            "ip_allocation_policy.cluster_secondary_range_name",
            "ip_allocation_policy.services_secondary_range_name",
        ],
    ),
    (
        "google_container_node_pool",
        &[
            "name",
            "name_prefix",
            "project",
            "cluster",
            "location",
            "node_config.preemptible",
            "node_config.spot",
            "node_config.service_account",
            "node_config.oauth_scopes",
            "node_config.guest_accelerator",
            "network_config.pod_range",
        ],
    ),
    (
        "azurerm_virtual_network",
        &["name", "resource_group_name", "location"],
    ),
    (
        "azurerm_subnet",
        &["name", "resource_group_name", "virtual_network_name"],
    ),
    (
        "azurerm_kubernetes_cluster",
        &[
            "name",
            "location",
            "resource_group_name",
            "dns_prefix",
            "dns_prefix_private_cluster",
            "private_cluster_enabled",
            "default_node_pool.vnet_subnet_id",
            "default_node_pool.pod_subnet_id",
            "network_profile.network_plugin",
            "network_profile.service_cidr",
            "network_profile.dns_service_ip",
            "network_profile.pod_cidr",
            "network_profile.outbound_type",
            "network_profile.load_balancer_sku",
        ],
    ),
    (
        "azurerm_kubernetes_cluster_node_pool",
        &[
            "name",
            "kubernetes_cluster_id",
            "vnet_subnet_id",
            "pod_subnet_id",
            "priority",
            "eviction_policy",
            "spot_max_price",
            "os_type",
        ],
    ),
];

/// The attributes of `type_name` that replace it.
pub fn attributes(type_name: &str) -> &'static [&'static str] {
    TABLE
        .iter()
        .find(|(t, _)| *t == type_name)
        .map_or(&[], |(_, paths)| paths)
}

/// Null and absent are the same to Terraform.
fn or_nil(v: Option<&Value>) -> &Value {
    static NIL: Value = Value::Nil;
    v.unwrap_or(&NIL)
}

/// The paths of `type_name`'s replacing attributes whose planned value differs from the prior
/// one (an unknown planned value counts as a change, as in the real providers: the new value
/// is only known after the apply).
pub fn changed(type_name: &str, prior: &Value, planned: &Value) -> Vec<Vec<PathStep>> {
    let mut out = Vec::new();
    for path in attributes(type_name) {
        let steps: Vec<&str> = path.split('.').collect();
        walk(&steps, prior, planned, &mut Vec::new(), &mut out);
    }
    out
}

fn walk(
    steps: &[&str],
    prior: &Value,
    planned: &Value,
    at: &mut Vec<PathStep>,
    out: &mut Vec<Vec<PathStep>>,
) {
    let Some((first, rest)) = steps.split_first() else {
        return;
    };
    let (p, n) = (or_nil(get(prior, first)), or_nil(get(planned, first)));
    at.push(PathStep::Attr((*first).to_owned()));
    if rest.is_empty() {
        if is_unknown(n) && !p.is_nil() || !is_unknown(n) && p != n {
            out.push(at.clone());
        }
    } else if is_unknown(n) {
        out.push(at.clone());
    } else {
        match (p, n) {
            (Value::Array(ps), Value::Array(ns)) if ps.len() == ns.len() => {
                for (i, (p, n)) in ps.iter().zip(ns).enumerate() {
                    at.push(PathStep::Index(i64::try_from(i).unwrap_or(i64::MAX)));
                    walk(rest, p, n, at, out);
                    at.pop();
                }
            }
            // A single nested block (an object), or both absent.
            (Value::Map(_) | Value::Nil, Value::Map(_) | Value::Nil) => walk(rest, p, n, at, out),
            // A block added or removed: its replacing attributes change with it.
            (p, n) => {
                let empty = |v: &Value| match v {
                    Value::Array(items) => items.is_empty(),
                    v => v.is_nil(),
                };
                if !(empty(p) && empty(n)) && has_set_leaf(rest, p, n) {
                    out.push(at.clone());
                }
            }
        }
    }
    at.pop();
}

/// Whether a replacing attribute below a block that was added or removed has a value on
/// either side (a block of only unset or computed attributes replaces nothing).
fn has_set_leaf(steps: &[&str], prior: &Value, planned: &Value) -> bool {
    fn leaves<'v>(steps: &[&str], v: &'v Value, out: &mut Vec<&'v Value>) {
        match v {
            Value::Array(items) => items.iter().for_each(|i| leaves(steps, i, out)),
            Value::Map(_) => match steps.split_first() {
                Some((first, [])) => out.extend(get(v, first)),
                Some((first, rest)) => {
                    if let Some(x) = get(v, first) {
                        leaves(rest, x, out);
                    }
                }
                None => {}
            },
            _ => {}
        }
    }
    let mut found = Vec::new();
    leaves(steps, prior, &mut found);
    leaves(steps, planned, &mut found);
    found.iter().any(|v| !v.is_nil())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(entries: &[(&str, Value)]) -> Value {
        Value::Map(
            entries
                .iter()
                .map(|(k, v)| (Value::from(*k), v.clone()))
                .collect(),
        )
    }

    fn names(paths: &[Vec<PathStep>]) -> Vec<String> {
        paths
            .iter()
            .map(|p| {
                p.iter()
                    .map(|s| match s {
                        PathStep::Attr(a) => a.clone(),
                        PathStep::Index(i) => i.to_string(),
                        PathStep::Key(k) => k.clone(),
                    })
                    .collect::<Vec<_>>()
                    .join(".")
            })
            .collect()
    }

    #[test]
    fn a_changed_network_replaces_the_cluster_and_a_changed_window_does_not() {
        let prior = obj(&[
            ("name", "kbst-ops".into()),
            ("network", "projects/p/global/networks/kbst-ops".into()),
            ("subnetwork", "kbst-ops".into()),
            ("min_master_version", "1.29".into()),
        ]);
        let planned = obj(&[
            ("name", "kbst-ops".into()),
            ("network", "projects/p/global/networks/other".into()),
            ("subnetwork", crate::values::unknown()),
            ("min_master_version", "1.30".into()),
        ]);
        assert_eq!(
            names(&changed("google_container_cluster", &prior, &planned)),
            ["network", "subnetwork"]
        );
        assert!(changed("google_container_cluster", &prior, &prior).is_empty());
        // Types outside the table are always updated in place.
        assert!(changed("google_dns_managed_zone", &prior, &planned).is_empty());
    }

    #[test]
    fn nested_blocks_are_compared_per_element() {
        let pool = |subnet: Value| {
            obj(&[(
                "default_node_pool",
                Value::Array(vec![obj(&[
                    ("name", "default".into()),
                    ("vnet_subnet_id", subnet),
                ])]),
            )])
        };
        assert_eq!(
            names(&changed(
                "azurerm_kubernetes_cluster",
                &pool(Value::Nil),
                &pool("/subscriptions/s/subnets/x".into())
            )),
            ["default_node_pool.0.vnet_subnet_id"]
        );
        assert!(
            changed(
                "azurerm_kubernetes_cluster",
                &pool(Value::Nil),
                &pool(Value::Nil)
            )
            .is_empty()
        );
        // An added block with the replacing attribute set.
        let without = obj(&[("network_profile", Value::Array(vec![]))]);
        let with = obj(&[(
            "network_profile",
            Value::Array(vec![obj(&[("network_plugin", "azure".into())])]),
        )]);
        assert_eq!(
            names(&changed("azurerm_kubernetes_cluster", &without, &with)),
            ["network_profile"]
        );
    }
}
