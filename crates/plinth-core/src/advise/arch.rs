//! The platform's architecture as the guide reasons about it: how many environments, clusters
//! and node pools it runs, and at which level it separates what it declares it separates.
//!
//! Everything here is read from declarations (`tenant`, `stage`, `workload` on environments,
//! clusters and node pools) and from resolved pool shapes, never guessed from names.

use crate::cluster::{ClusterDef, ResolvedCluster};
use crate::environment::{Environment, Stage};
use crate::node_pool::{NodePoolDef, ResolvedPool};
use crate::platform::Platform;
use crate::provider::Taint;
use crate::resolve::Resolution;
use std::collections::BTreeMap;

/// The counts the score is computed from; alternatives are other values of the same counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Shape {
    pub environments: usize,
    /// The first environment runs no declared application workloads, so every change is
    /// validated there before it reaches users.
    pub internal: bool,
    /// Clusters in the code base; every environment runs each of them.
    pub clusters: usize,
    /// Node pools in the code base.
    pub node_pools: usize,
    /// Node pools whose taint keeps workloads without a toleration off them (base environment).
    pub tainted_pools: usize,
    /// External environments that only separate tenants or workload types: each one lengthens
    /// every promotion without validating anything.
    pub promotion_only_environments: usize,
}

/// Stage of a node pool: its own declaration, else its cluster's, else its environment's.
pub fn pool_stage(env: &Environment, cluster: &ClusterDef, pool: &NodePoolDef) -> Option<Stage> {
    pool.header
        .intent
        .stage
        .or(cluster.header.intent.stage)
        .or(env.intent.stage)
}

/// A taint that workloads without a toleration cannot ignore (`PreferNoSchedule` can be).
pub fn is_hard(t: &Taint) -> bool {
    matches!(t.effect.as_str(), "NoSchedule" | "NoExecute")
}

/// Whether workloads without a toleration stay off the pool's nodes. GKE taints GPU nodes
/// (`nvidia.com/gpu=present:NoSchedule`) itself when the cluster also has pools without GPUs.
pub fn keeps_regular_workloads_off(cluster: &ResolvedCluster, pool: &ResolvedPool) -> bool {
    pool.shape().taints.iter().any(is_hard)
        || (cluster.provider.id == "gke"
            && pool.shape().gpus_per_node > 0
            && cluster
                .node_pools
                .values()
                .any(|p| p.shape().gpus_per_node == 0))
}

/// How prod and non-prod are placed in one external environment.
#[derive(Clone, Debug, Default)]
pub struct EnvStages {
    pub environment: String,
    /// Clusters whose every pool runs one stage.
    pub dedicated: BTreeMap<String, Stage>,
    /// Clusters with pools of both stages: the prod pools' keys.
    pub prod_pools: BTreeMap<String, Vec<String>>,
}

impl EnvStages {
    pub fn clusters_of(&self, stage: Stage) -> Vec<&str> {
        self.dedicated
            .iter()
            .filter(|(_, s)| **s == stage)
            .map(|(k, _)| k.as_str())
            .collect()
    }

    /// Prod and non-prod run in separate clusters of this environment.
    pub fn split_by_clusters(&self) -> bool {
        !self.clusters_of(Stage::Prod).is_empty() && !self.clusters_of(Stage::NonProd).is_empty()
    }

    /// Prod and non-prod both run in this environment, however they are separated.
    pub fn shared(&self) -> bool {
        self.split_by_clusters() || !self.prod_pools.is_empty()
    }
}

/// A separation of tenants or workload types by external environments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvSplit {
    /// `tenant` or `workload`.
    pub concern: &'static str,
    /// Each declared value (`None`: not declared) with the environments that have it.
    pub groups: Vec<(Option<String>, Vec<String>)>,
}

/// The architecture of a platform.
#[derive(Clone, Debug)]
pub struct Architecture {
    pub shape: Shape,
    /// Stage placement per external environment, in promotion order.
    pub stages: Vec<EnvStages>,
    /// Tenants and workload types separated by environments.
    pub env_splits: Vec<EnvSplit>,
}

impl Architecture {
    pub fn of(p: &Platform, r: &Resolution) -> Architecture {
        let chain = &p.environments.chain;
        let internal = chain.len() >= 2 && chain[0].intent.is_empty();
        let external: Vec<&Environment> = chain.iter().skip(usize::from(internal)).collect();

        let base = r.get(p.environments.base_name());
        let tainted_pools = base.map_or(0, |b| {
            b.clusters
                .values()
                .map(|c| {
                    c.node_pools
                        .values()
                        .filter(|pool| keeps_regular_workloads_off(c, pool))
                        .count()
                })
                .sum()
        });

        let stages = external
            .iter()
            .map(|env| {
                let mut s = EnvStages {
                    environment: env.name.clone(),
                    ..EnvStages::default()
                };
                for c in p.clusters.values() {
                    let pools: Vec<(&str, Option<Stage>)> = c
                        .node_pools
                        .values()
                        .map(|pool| (pool.key.as_str(), pool_stage(env, c, pool)))
                        .collect();
                    let has = |st: Stage| pools.iter().any(|(_, s)| *s == Some(st));
                    if has(Stage::Prod) && has(Stage::NonProd) {
                        s.prod_pools.insert(
                            c.key.clone(),
                            pools
                                .iter()
                                .filter(|(_, st)| *st == Some(Stage::Prod))
                                .map(|(k, _)| (*k).to_string())
                                .collect(),
                        );
                    } else if let Some((_, Some(first))) = pools.first()
                        && pools.iter().all(|(_, st)| *st == Some(*first))
                    {
                        s.dedicated.insert(c.key.clone(), *first);
                    }
                }
                s
            })
            .collect();

        let env_splits: Vec<EnvSplit> = [
            ("tenant", group(&external, |e| e.intent.tenant.clone())),
            ("workload", group(&external, |e| e.intent.workload.clone())),
        ]
        .into_iter()
        .filter(|(_, g)| g.len() >= 2 && g.iter().any(|(v, _)| v.is_some()))
        .map(|(concern, groups)| EnvSplit { concern, groups })
        .collect();
        let both = group(&external, |e| {
            Some((e.intent.tenant.clone(), e.intent.workload.clone()))
        });
        let promotion_only_environments = if env_splits.is_empty() {
            0
        } else {
            both.len().saturating_sub(1)
        };

        Architecture {
            shape: Shape {
                environments: chain.len(),
                internal,
                clusters: p.clusters.len(),
                node_pools: p.clusters.values().map(|c| c.node_pools.len()).sum(),
                tainted_pools,
                promotion_only_environments,
            },
            stages,
            env_splits,
        }
    }
}

/// Environments grouped by a declared value, in order of first appearance.
fn group<T: PartialEq + Clone>(
    envs: &[&Environment],
    value: impl Fn(&Environment) -> Option<T>,
) -> Vec<(Option<T>, Vec<String>)> {
    let mut out: Vec<(Option<T>, Vec<String>)> = Vec::new();
    for e in envs {
        let v = value(e);
        match out.iter_mut().find(|(k, _)| *k == v) {
            Some((_, names)) => names.push(e.name.clone()),
            None => out.push((v, vec![e.name.clone()])),
        }
    }
    out
}
