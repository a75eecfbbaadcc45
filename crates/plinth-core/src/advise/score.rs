//! The score table: relative overhead and blast-radius protection of the current architecture
//! and of the alternatives the rules suggest.
//!
//! The model only encodes the guide's ordering — "environments add more protection and overhead
//! than clusters; clusters add more protection and overhead than node pools" — as weights
//! 3, 2 and 1, so every number can be recomputed by hand:
//!
//! * **overhead** = 3 × environments + 2 × clusters + 1 × node pools, where clusters and pools
//!   count once per environment (every environment is a complete replica of the platform),
//!   plus 3 for each environment that only separates tenants or workload types (it lengthens
//!   every promotion without validating anything: "it would dramatically increase the effort to
//!   promote changes").
//! * **protection** counts the boundaries a failure or a bad change cannot cross, each once:
//!   3 for an internal environment ahead of the external ones (changes are validated before
//!   they reach users), 3 for each further external environment, 2 for each cluster beyond the
//!   first, and 1 for each node pool whose taint keeps other workloads off it (an untainted pool
//!   separates nothing).
//!
//! The minimal starter (ops → apps, one cluster, one pool) scores overhead 12, protection 3.

use super::arch::Shape;
use serde::Serialize;

/// Weight of an environment in the score.
pub const ENVIRONMENT: usize = 3;
/// Weight of a cluster.
pub const CLUSTER: usize = 2;
/// Weight of a node pool.
pub const NODE_POOL: usize = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Score {
    pub overhead: usize,
    pub protection: usize,
}

impl Shape {
    pub fn score(&self) -> Score {
        let e = self.environments;
        let overhead = ENVIRONMENT * e
            + CLUSTER * e * self.clusters
            + NODE_POOL * e * self.node_pools
            + ENVIRONMENT * self.promotion_only_environments;
        let external = e - usize::from(self.internal);
        let protection = ENVIRONMENT * usize::from(self.internal)
            + ENVIRONMENT * external.saturating_sub(1)
            + CLUSTER * self.clusters.saturating_sub(1)
            + NODE_POOL * self.tainted_pools;
        Score {
            overhead,
            protection,
        }
    }
}

/// Another architecture a finding suggests.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Alternative {
    /// What to change, in a few words ("prod in its own environment").
    pub label: String,
    pub shape: Shape,
}

/// One row of the score table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Row {
    pub label: String,
    /// The rule that suggests it; `None` for the current architecture.
    pub rule: Option<&'static str>,
    pub environments: usize,
    /// Clusters running across all environments.
    pub clusters: usize,
    /// Node pools running across all environments.
    pub node_pools: usize,
    #[serde(flatten)]
    pub score: Score,
}

impl Row {
    pub fn new(label: impl Into<String>, rule: Option<&'static str>, s: &Shape) -> Row {
        Row {
            label: label.into(),
            rule,
            environments: s.environments,
            clusters: s.environments * s.clusters,
            node_pools: s.environments * s.node_pools,
            score: s.score(),
        }
    }
}

/// The current architecture first, then each distinct alternative in the order suggested.
pub fn table<'a>(
    current: &Shape,
    suggested: impl IntoIterator<Item = (&'static str, &'a Alternative)>,
) -> Vec<Row> {
    let mut rows = vec![Row::new("current", None, current)];
    for (rule, alt) in suggested {
        if !rows
            .iter()
            .any(|r| r.label == alt.label && r.rule == Some(rule))
        {
            rows.push(Row::new(alt.label.clone(), Some(rule), &alt.shape));
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(environments: usize, clusters: usize, node_pools: usize, tainted: usize) -> Shape {
        Shape {
            environments,
            internal: true,
            clusters,
            node_pools,
            tainted_pools: tainted,
            promotion_only_environments: 0,
        }
    }

    #[test]
    fn the_guides_four_examples() {
        // Minimal: 3·2 + 2·2·1 + 2·1 = 12; internal environment only.
        assert_eq!(
            shape(2, 1, 1, 0).score(),
            Score {
                overhead: 12,
                protection: 3
            }
        );
        // Node pools: default + tainted prod + tainted GPU = 3·2 + 2·2 + 2·3 = 16; 3 + 1 + 1.
        assert_eq!(
            shape(2, 1, 3, 2).score(),
            Score {
                overhead: 16,
                protection: 5
            }
        );
        // Multi-cloud: three clusters: 6 + 12 + 6 = 24; 3 + 2·2.
        assert_eq!(
            shape(2, 3, 3, 0).score(),
            Score {
                overhead: 24,
                protection: 7
            }
        );
        // Environments: ops → apps → apps-prod: 9 + 6 + 3 = 18; 3 + 3.
        assert_eq!(
            shape(3, 1, 1, 0).score(),
            Score {
                overhead: 18,
                protection: 6
            }
        );
    }

    #[test]
    fn prod_by_clusters_is_dominated_by_prod_by_environments() {
        // Two clusters (prod, non-prod) in ops → apps.
        let by_clusters = shape(2, 2, 2, 0).score();
        // The same workloads with a tainted prod pool, or a third environment.
        let by_pools = shape(2, 1, 2, 1).score();
        let by_envs = shape(3, 1, 1, 0).score();
        assert!(by_pools.overhead < by_clusters.overhead);
        assert!(by_envs.protection > by_clusters.protection);
        assert!(by_envs.overhead <= by_clusters.overhead);
    }

    #[test]
    fn tenant_environments_pay_for_longer_promotions() {
        let mut by_envs = shape(3, 1, 1, 0);
        by_envs.promotion_only_environments = 1;
        assert_eq!(by_envs.score().overhead, 21);
        let by_clusters = shape(2, 2, 2, 0).score();
        assert_eq!(
            by_clusters,
            Score {
                overhead: 18,
                protection: 5
            }
        );
    }

    #[test]
    fn without_an_internal_environment_nothing_is_validated_first() {
        let mut one = shape(1, 1, 1, 0);
        one.internal = false;
        assert_eq!(
            one.score(),
            Score {
                overhead: 6,
                protection: 0
            }
        );
    }
}
