//! The platform-level plan: what an environment would become, compared with what was last
//! applied to it (the resolved snapshot stored with the record). Clusters, node pools and
//! services added, removed or changed key by key; changes that make a provider replace a
//! cluster are workload migrations, which are highly disruptive for app teams and their users.

use crate::provider;
use serde_json::Value as Json;
use std::collections::BTreeSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Added,
    Removed,
    Changed,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct KeyChange {
    pub key: String,
    pub old: Option<Json>,
    pub new: Option<Json>,
    /// The provider replaces the resource to make this change.
    pub forces_replacement: bool,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ComponentChange {
    pub key: String,
    pub change: Change,
    pub keys: Vec<KeyChange>,
    pub replaced: bool,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ClusterChange {
    pub key: String,
    pub change: Change,
    pub name: String,
    pub keys: Vec<KeyChange>,
    pub node_pools: Vec<ComponentChange>,
    pub services: Vec<ComponentChange>,
    /// Why this change moves workloads to a new cluster, if it does.
    pub migration: Option<String>,
    /// Why every node pool is replaced (new subnets) while the cluster stays, if it is.
    pub pools_replaced: Option<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PlatformPlan {
    pub environment: String,
    pub clusters: Vec<ClusterChange>,
}

impl PlatformPlan {
    pub fn is_empty(&self) -> bool {
        self.clusters.is_empty()
    }

    pub fn migrations(&self) -> impl Iterator<Item = &ClusterChange> {
        self.clusters.iter().filter(|c| c.migration.is_some())
    }

    /// Keys of clusters with any change.
    pub fn affected(&self) -> BTreeSet<&str> {
        self.clusters.iter().map(|c| c.key.as_str()).collect()
    }
}

fn obj(v: &Json, k: &str) -> serde_json::Map<String, Json> {
    v.get(k)
        .and_then(Json::as_object)
        .cloned()
        .unwrap_or_default()
}

fn key_changes(
    old: &serde_json::Map<String, Json>,
    new: &serde_json::Map<String, Json>,
    replaces: impl Fn(&str) -> bool,
) -> Vec<KeyChange> {
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    keys.into_iter()
        .filter(|k| old.get(*k) != new.get(*k))
        .map(|k| KeyChange {
            key: k.clone(),
            old: old.get(k).cloned(),
            new: new.get(k).cloned(),
            forces_replacement: replaces(k),
        })
        .collect()
}

fn components(
    old: &Json,
    new: &Json,
    field: &str,
    replaces: &dyn Fn(&str) -> bool,
) -> Vec<ComponentChange> {
    let (o, n) = (obj(old, field), obj(new, field));
    let keys: BTreeSet<&String> = o.keys().chain(n.keys()).collect();
    let mut out = Vec::new();
    for k in keys {
        let (ov, nv) = (o.get(k), n.get(k));
        let change = match (ov, nv) {
            (None, Some(_)) => Change::Added,
            (Some(_), None) => Change::Removed,
            (Some(a), Some(b)) if a != b => Change::Changed,
            _ => continue,
        };
        let empty = Json::Null;
        let mut oc = obj(ov.unwrap_or(&empty), "config");
        let mut nc = obj(nv.unwrap_or(&empty), "config");
        // Provider-side names and sources are part of what changes.
        for extra in ["name", "source", "kind"] {
            if let Some(x) = ov.and_then(|v| v.get(extra)) {
                oc.insert(extra.into(), x.clone());
            }
            if let Some(x) = nv.and_then(|v| v.get(extra)) {
                nc.insert(extra.into(), x.clone());
            }
        }
        let keys = key_changes(&oc, &nc, |key| key == "name" || replaces(key));
        let replaced = change == Change::Changed && keys.iter().any(|c| c.forces_replacement);
        out.push(ComponentChange {
            key: k.clone(),
            change,
            keys,
            replaced,
        });
    }
    out
}

/// Compares the desired environment with the last applied one (`None` when nothing was applied).
pub fn diff(desired: &Json, applied: Option<&Json>) -> PlatformPlan {
    let environment = desired["environment"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let empty = serde_json::json!({});
    let applied = applied.unwrap_or(&empty);
    let (old, new) = (obj(applied, "clusters"), obj(desired, "clusters"));
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let mut clusters = Vec::new();
    for k in keys {
        let (o, n) = (old.get(k), new.get(k));
        let provider_id = n
            .or(o)
            .and_then(|c| c["provider"].as_str())
            .unwrap_or_default();
        let p = provider::by_id(provider_id);
        let cluster_replaces = |key: &str| {
            p.and_then(|p| crate::keys::find(p.cluster_keys, key))
                .is_some_and(|k| k.forces_replacement)
        };
        let pool_replaces = |key: &str| {
            p.and_then(|p| crate::keys::find(p.pool_keys, key))
                .is_some_and(|k| k.forces_replacement)
        };
        let replaces_pools = |key: &str| {
            p.and_then(|p| crate::keys::find(p.cluster_keys, key))
                .is_some_and(|k| k.replaces_pools)
        };
        let name = n
            .or(o)
            .and_then(|c| c["name"].as_str())
            .unwrap_or_default()
            .to_string();
        match (o, n) {
            (None, Some(n)) => clusters.push(ClusterChange {
                key: k.clone(),
                change: Change::Added,
                name,
                keys: Vec::new(),
                node_pools: components(&Json::Null, n, "node_pools", &pool_replaces),
                services: components(&Json::Null, n, "services", &|_| false),
                migration: None,
                pools_replaced: None,
            }),
            (Some(o), None) => clusters.push(ClusterChange {
                key: k.clone(),
                change: Change::Removed,
                migration: Some(format!("cluster `{name}` is destroyed with every workload on it: move the workloads first")),
                name,
                keys: Vec::new(),
                node_pools: components(o, &Json::Null, "node_pools", &pool_replaces),
                services: components(o, &Json::Null, "services", &|_| false),
                pools_replaced: None,
            }),
            (Some(o), Some(n)) if o != n => {
                let mut oc = obj(o, "config");
                let mut nc = obj(n, "config");
                for extra in ["provider", "name"] {
                    oc.insert(extra.into(), o[extra].clone());
                    nc.insert(extra.into(), n[extra].clone());
                }
                let keys = key_changes(&oc, &nc, |key| matches!(key, "provider" | "name") || cluster_replaces(key));
                let migration = keys.iter().filter(|c| c.forces_replacement).map(|c| format!("`{}`", c.key)).collect::<Vec<_>>();
                let migration = (!migration.is_empty()).then(|| {
                    let old_name = o["name"].as_str().unwrap_or_default();
                    if old_name != name {
                        format!("the cluster is replaced: `{old_name}` becomes `{name}` ({} changed); every workload must migrate to the new cluster", migration.join(", "))
                    } else {
                        format!("the cluster is replaced ({} changed); every workload must migrate to the new cluster", migration.join(", "))
                    }
                });
                // Keys that give every node group new subnets replace every pool the cluster
                // keeps, changed or not (a replaced cluster replaces them anyway).
                let moved: Vec<String> = keys
                    .iter()
                    .filter(|c| replaces_pools(&c.key))
                    .map(|c| format!("`{}`", c.key))
                    .collect();
                let mut node_pools = components(o, n, "node_pools", &pool_replaces);
                let pools_replaced = (!moved.is_empty() && migration.is_none()).then(|| {
                    let (old_pools, new_pools) = (obj(o, "node_pools"), obj(n, "node_pools"));
                    for kept in new_pools.keys().filter(|p| old_pools.contains_key(*p)) {
                        match node_pools.iter_mut().find(|c| &c.key == kept) {
                            Some(c) => c.replaced = true,
                            None => node_pools.push(ComponentChange {
                                key: kept.clone(),
                                change: Change::Changed,
                                keys: Vec::new(),
                                replaced: true,
                            }),
                        }
                    }
                    node_pools.sort_by(|a, b| a.key.cmp(&b.key));
                    format!(
                        "every node pool is replaced ({} changed): their pods are rescheduled onto new nodes",
                        moved.join(", ")
                    )
                });
                clusters.push(ClusterChange {
                    key: k.clone(),
                    change: Change::Changed,
                    name,
                    keys,
                    node_pools,
                    services: components(o, n, "services", &|_| false),
                    migration,
                    pools_replaced,
                });
            }
            _ => {}
        }
    }
    PlatformPlan {
        environment,
        clusters,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cluster(region: &str, max: i64, version: &str) -> Json {
        json!({"environment": "ops", "clusters": {"eks_zero": {
            "name": format!("kbst-ops-{region}"), "provider": "eks", "region": region,
            "config": {"region": region, "cluster_version": version},
            "node_pools": {"default": {"name": "default", "config": {"max_size": max, "instance_types": ["t3a.xlarge"]}}},
            "services": {}
        }}})
    }

    #[test]
    fn in_place_changes_are_not_migrations() {
        let p = diff(
            &cluster("eu-west-1", 9, "1.32"),
            Some(&cluster("eu-west-1", 3, "1.31")),
        );
        assert_eq!(p.clusters.len(), 1);
        let c = &p.clusters[0];
        assert_eq!(
            c.keys.iter().map(|k| k.key.as_str()).collect::<Vec<_>>(),
            ["cluster_version"]
        );
        assert_eq!(c.node_pools[0].keys[0].key, "max_size");
        assert!(!c.node_pools[0].replaced);
        assert!(c.migration.is_none());
    }

    #[test]
    fn a_new_region_is_a_workload_migration() {
        let p = diff(
            &cluster("eu-central-1", 3, "1.32"),
            Some(&cluster("eu-west-1", 3, "1.32")),
        );
        let m = p.clusters[0].migration.as_deref().expect("migration");
        assert!(
            m.contains("`kbst-ops-eu-west-1` becomes `kbst-ops-eu-central-1`"),
            "{m}"
        );
        assert_eq!(p.migrations().count(), 1);
    }

    /// Regression (issue 17): changing an EKS pool's instance types replaces its node group,
    /// and the platform-level plan did not say so.
    #[test]
    fn changing_an_eks_pools_instance_types_flags_its_replacement() {
        let mut new = cluster("eu-west-1", 3, "1.32");
        new["clusters"]["eks_zero"]["node_pools"]["default"]["config"]["instance_types"] =
            json!(["m6i.xlarge"]);
        let p = diff(&new, Some(&cluster("eu-west-1", 3, "1.32")));
        let pool = &p.clusters[0].node_pools[0];
        assert!(pool.replaced, "{pool:?}");
        assert!(pool.keys[0].forces_replacement);
        assert!(p.clusters[0].migration.is_none());
    }

    #[test]
    fn new_node_subnets_replace_every_pool_but_not_the_cluster() {
        let mut new = cluster("eu-west-1", 3, "1.32");
        new["clusters"]["eks_zero"]["config"]["cluster_vpc_node_subnet_number_offset"] = json!(2);
        let p = diff(&new, Some(&cluster("eu-west-1", 3, "1.32")));
        let c = &p.clusters[0];
        assert!(c.migration.is_none());
        assert!(
            c.pools_replaced
                .as_deref()
                .is_some_and(|m| m.contains("`cluster_vpc_node_subnet_number_offset`")),
            "{c:?}"
        );
        assert_eq!(c.node_pools.len(), 1);
        assert!(c.node_pools[0].replaced && c.node_pools[0].keys.is_empty());
    }

    #[test]
    fn nothing_applied_yet_means_everything_is_added() {
        let p = diff(&cluster("eu-west-1", 3, "1.32"), None);
        assert_eq!(p.clusters[0].change, Change::Added);
        assert!(
            diff(
                &cluster("eu-west-1", 3, "1.32"),
                Some(&cluster("eu-west-1", 3, "1.32"))
            )
            .is_empty()
        );
    }
}
