//! Capacity planning: how close each cluster is to the limits of a single Kubernetes cluster,
//! and when it gets there at the declared growth.
//!
//! Migrating workloads between clusters is highly disruptive, so the point is to know early
//! when to start onboarding new apps to a new cluster. The model is deliberately simple and
//! can be checked by hand:
//!
//! * A pool holds at most `max nodes × max pods per node` pods (pods per node: the provider's
//!   max-pods setting, 110 by default). Its expected pods are its declared `pods` (plus the
//!   cluster's own declared load, for the `default` pool), growing by `growth_per_month`.
//! * A cluster's pods and containers are the sums over its pools (containers = pods ×
//!   `containers_per_pod`); the nodes it needs are, per pool, `ceil(pods / pods per node)`.
//!   Pods per node is the only packing constraint Plinth knows: CPU and memory usually fill a
//!   node first, so the node count is a lower bound.
//! * Each is compared with the single-cluster limits ([`MAX_NODES`], [`MAX_PODS`],
//!   [`MAX_CONTAINERS`]); 70 % and 85 % warn. The month a value crosses a threshold is the
//!   first whole month `n` (0 = now) with `value(n) ≥ threshold`, looked at up to
//!   [`HORIZON_MONTHS`] ahead.

use super::declared::Load;
use super::rules::{Finding, Rule};
use crate::cluster::{ClusterDef, ResolvedCluster};
use crate::diagnostic::Severity;
use crate::platform::Platform;
use crate::resolve::Resolution;
use crate::value::Origin;
use serde::Serialize;

/// Nodes a single Kubernetes cluster supports.
pub const MAX_NODES: i64 = 5_000;
/// Pods a single Kubernetes cluster supports.
pub const MAX_PODS: i64 = 150_000;
/// Containers a single Kubernetes cluster supports.
pub const MAX_CONTAINERS: i64 = 300_000;
/// Percentages that warn.
pub const WARN: u32 = 70;
pub const CRITICAL: u32 = 85;
/// Projections further out than ten years are not planning.
pub const HORIZON_MONTHS: u32 = 120;
/// A cluster projected to reach [`CRITICAL`] within this many months needs its successor now:
/// creating a cluster and onboarding the next apps to it takes time.
pub const PLAN_AHEAD_MONTHS: u32 = 12;

const REASON: &str = "\u{201c}To avoid having to migrate applications as the number of apps or their resource usage grows, onboard new apps to new clusters before any cluster reaches the maximum capacity of a single Kubernetes cluster.\u{201d} \u{201c}Migrating workloads between clusters, no matter if in the same or different environments, is highly disruptive for the development team and the app's users.\u{201d}";

pub static PC001: Rule = Rule {
    id: "PC001",
    title: "cluster at 70 % of a single-cluster limit",
    severity: Severity::Warning,
    reason: REASON,
    fix: "onboard new apps to a new cluster; keep this one for the apps it runs",
};
pub static PC002: Rule = Rule {
    id: "PC002",
    title: "cluster at 85 % of a single-cluster limit",
    severity: Severity::Warning,
    reason: REASON,
    fix: "stop onboarding apps to this cluster and onboard them to a new one",
};
pub static PC003: Rule = Rule {
    id: "PC003",
    title: "cluster reaches 85 % of a single-cluster limit within a year",
    severity: Severity::Warning,
    reason: REASON,
    fix: "add the next cluster now and onboard new apps to it before the month shown",
};
pub static PC004: Rule = Rule {
    id: "PC004",
    title: "node pool at 70 % of what its max size holds",
    severity: Severity::Warning,
    reason: "A pool never grows past its max size: pods beyond max nodes × pods per node stay pending.",
    fix: "raise the pool's max size, or add a pool",
};
pub static PC005: Rule = Rule {
    id: "PC005",
    title: "node pool at 85 % of what its max size holds",
    severity: Severity::Warning,
    reason: "A pool never grows past its max size: pods beyond max nodes × pods per node stay pending.",
    fix: "raise the pool's max size, or add a pool",
};
pub static PC006: Rule = Rule {
    id: "PC006",
    title: "node pools may grow past the 5,000 nodes of a single cluster",
    severity: Severity::Warning,
    reason: "Kubernetes supports at most 5,000 nodes in one cluster. \u{201c}If you expect that the workloads of a tenant or the workloads of the same type are likely to outgrow the maximum capacity of a single Kubernetes cluster at some point, consider including a count in the name prefix.\u{201d}",
    fix: "lower the pools' max sizes to fit 5,000 nodes and plan a second cluster",
};

/// The capacity checks, for the rule catalogue.
pub static RULES: &[&Rule] = &[&PC001, &PC002, &PC003, &PC004, &PC005, &PC006];

/// The limits used.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Limits {
    pub nodes: i64,
    pub pods: i64,
    pub containers: i64,
    pub pods_per_node_default: i64,
    pub warn_percent: u32,
    pub critical_percent: u32,
}

pub const LIMITS: Limits = Limits {
    nodes: MAX_NODES,
    pods: MAX_PODS,
    containers: MAX_CONTAINERS,
    pods_per_node_default: crate::provider::DEFAULT_MAX_PODS,
    warn_percent: WARN,
    critical_percent: CRITICAL,
};

/// The first month (0 = now) a value reaches 70 %, 85 % and 100 % of its limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Crossings {
    pub warn: Option<u32>,
    pub critical: Option<u32>,
    pub limit: Option<u32>,
}

/// One quantity against its limit.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Metric {
    /// Expected now (containers rounded up).
    pub now: i64,
    pub limit: i64,
    /// `now / limit`, in percent.
    pub percent: f64,
    /// Expected growth per month (nodes: pods added per month / pods per node).
    pub per_month: f64,
    pub crossings: Crossings,
}

impl Metric {
    /// Builds a metric from its value as a function of the month.
    fn of(value: impl Fn(u32) -> f64, limit: i64, per_month: f64) -> Metric {
        let now = value(0);
        Metric {
            now: now.ceil() as i64,
            limit,
            percent: if limit > 0 {
                now * 100.0 / limit as f64
            } else {
                0.0
            },
            per_month,
            crossings: Crossings {
                warn: crossing(&value, limit, WARN),
                critical: crossing(&value, limit, CRITICAL),
                limit: crossing(&value, limit, 100),
            },
        }
    }
}

/// The first month `n` in `0..=HORIZON_MONTHS` with `value(n) ≥ limit × percent / 100`, for a
/// non-decreasing `value`.
pub fn crossing(value: impl Fn(u32) -> f64, limit: i64, percent: u32) -> Option<u32> {
    // `limit × percent` first: exact in f64, so 70 % of 150,000 is exactly 105,000.
    let target = (limit as f64 * f64::from(percent)) / 100.0;
    if value(0) >= target {
        return Some(0);
    }
    if value(HORIZON_MONTHS) < target {
        return None;
    }
    let (mut below, mut above) = (0, HORIZON_MONTHS);
    while above - below > 1 {
        let mid = below + (above - below) / 2;
        if value(mid) >= target {
            above = mid;
        } else {
            below = mid;
        }
    }
    Some(above)
}

/// A node pool in one environment.
#[derive(Clone, Debug, Serialize)]
pub struct PoolReport {
    pub key: String,
    pub name: String,
    pub min_nodes: i64,
    pub max_nodes: i64,
    pub max_pods_per_node: i64,
    /// Pods the pool holds at its max size.
    pub capacity: i64,
    /// Whether any load is declared for it (its own, or the cluster's on `default`).
    pub declared: bool,
    pub nodes_needed: i64,
    /// Expected pods against `capacity`.
    pub pods: Metric,
}

/// A cluster in one environment.
#[derive(Clone, Debug, Serialize)]
pub struct ClusterReport {
    pub key: String,
    pub name: String,
    pub provider: &'static str,
    pub declared: bool,
    /// Nodes its pools may grow to.
    pub max_nodes: i64,
    /// Pods its pools hold at their max sizes.
    pub pod_capacity: i64,
    pub nodes: Metric,
    pub pods: Metric,
    pub containers: Metric,
    pub pools: Vec<PoolReport>,
}

impl ClusterReport {
    pub fn metrics(&self) -> [(&'static str, &Metric); 3] {
        [
            ("nodes", &self.nodes),
            ("pods", &self.pods),
            ("containers", &self.containers),
        ]
    }
}

/// Sums over an environment's clusters (an environment has no limit of its own: it can hold
/// any number of clusters).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Totals {
    pub max_nodes: i64,
    pub nodes: i64,
    pub pods: i64,
    pub containers: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct EnvReport {
    pub environment: String,
    pub internal: bool,
    pub totals: Totals,
    /// The earliest month any cluster of the environment reaches 85 % of a limit.
    pub first_critical: Option<u32>,
    pub clusters: Vec<ClusterReport>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub limits: Limits,
    /// Whether any load is declared anywhere.
    pub declared: bool,
    pub environments: Vec<EnvReport>,
    #[serde(skip)]
    pub findings: Vec<Finding>,
}

/// One pool's load sources: its own and (for `default`) the cluster's.
struct PoolLoad {
    own: Option<Load>,
    cluster: Option<Load>,
    pods_per_node: i64,
}

impl PoolLoad {
    fn pods(&self, n: u32) -> i64 {
        self.own
            .map_or(0, |l| l.pods_at(n))
            .saturating_add(self.cluster.map_or(0, |l| l.pods_at(n)))
    }
    fn containers(&self, n: u32) -> f64 {
        let c = |l: Option<Load>| l.map_or(0.0, |l| l.pods_at(n) as f64 * l.containers_per_pod);
        c(self.own) + c(self.cluster)
    }
    fn nodes(&self, n: u32) -> i64 {
        let pods = self.pods(n);
        pods.saturating_add(self.pods_per_node - 1) / self.pods_per_node
    }
    fn growth(&self) -> i64 {
        self.own
            .map_or(0, |l| l.growth_per_month)
            .saturating_add(self.cluster.map_or(0, |l| l.growth_per_month))
    }
    fn container_growth(&self) -> f64 {
        let g =
            |l: Option<Load>| l.map_or(0.0, |l| l.growth_per_month as f64 * l.containers_per_pod);
        g(self.own) + g(self.cluster)
    }
}

/// Computes the report and its findings for every environment.
pub fn plan(p: &Platform, r: &Resolution) -> Report {
    let base = p.environments.base_name();
    let mut environments = Vec::new();
    let mut findings = Vec::new();
    for (i, env) in p.environments.chain.iter().enumerate() {
        let Some(resolved) = r.get(&env.name) else {
            continue;
        };
        let mut clusters = Vec::new();
        for (key, rc) in &resolved.clusters {
            let Some(def) = p.clusters.get(key) else {
                continue;
            };
            let report = cluster_report(def, rc, &env.name, base);
            findings.extend(cluster_findings(def, rc, &report, &env.name, base));
            clusters.push(report);
        }
        let totals = Totals {
            max_nodes: sum(clusters.iter().map(|c| c.max_nodes)),
            nodes: sum(clusters.iter().map(|c| c.nodes.now)),
            pods: sum(clusters.iter().map(|c| c.pods.now)),
            containers: sum(clusters.iter().map(|c| c.containers.now)),
        };
        let first_critical = clusters
            .iter()
            .filter(|c| c.declared)
            .flat_map(|c| c.metrics().map(|(_, m)| m.crossings.critical))
            .flatten()
            .min();
        environments.push(EnvReport {
            environment: env.name.clone(),
            internal: i == 0 && p.environments.len() > 1,
            totals,
            first_critical,
            clusters,
        });
    }
    Report {
        limits: LIMITS,
        declared: environments
            .iter()
            .any(|e| e.clusters.iter().any(|c| c.declared)),
        environments,
        findings,
    }
}

fn pool_loads(
    def: &ClusterDef,
    rc: &ResolvedCluster,
    env: &str,
    base: &str,
) -> Vec<(String, PoolLoad)> {
    let cluster = def.header.load.resolve(env, base);
    rc.node_pools
        .iter()
        .map(|(key, pool)| {
            let own = def
                .node_pools
                .get(key)
                .and_then(|d| d.header.load.resolve(env, base));
            let load = PoolLoad {
                own,
                cluster: if key == crate::node_pool::DEFAULT_POOL {
                    cluster
                } else {
                    None
                },
                pods_per_node: pool.shape().max_pods_per_node.max(1),
            };
            (key.clone(), load)
        })
        .collect()
}

fn cluster_report(def: &ClusterDef, rc: &ResolvedCluster, env: &str, base: &str) -> ClusterReport {
    let loads = pool_loads(def, rc, env, base);
    let mut pools = Vec::new();
    for (key, load) in &loads {
        let Some(rp) = rc.node_pools.get(key) else {
            continue;
        };
        let capacity = rp
            .shape()
            .max_nodes
            .max(0)
            .saturating_mul(load.pods_per_node);
        pools.push(PoolReport {
            key: key.clone(),
            name: rp.name.clone(),
            min_nodes: rp.shape().min_nodes,
            max_nodes: rp.shape().max_nodes,
            max_pods_per_node: load.pods_per_node,
            capacity,
            declared: load.own.is_some() || load.cluster.is_some(),
            nodes_needed: load.nodes(0),
            pods: Metric::of(|n| load.pods(n) as f64, capacity, load.growth() as f64),
        });
    }
    let nodes_growth: f64 = loads
        .iter()
        .map(|(_, l)| l.growth() as f64 / l.pods_per_node as f64)
        .sum();
    ClusterReport {
        key: def.key.clone(),
        name: rc.meta.name.clone(),
        provider: def.provider.id,
        declared: pools.iter().any(|p| p.declared),
        max_nodes: sum(pools.iter().map(|p| p.max_nodes)),
        pod_capacity: sum(pools.iter().map(|p| p.capacity)),
        nodes: Metric::of(
            |n| sum(loads.iter().map(|(_, l)| l.nodes(n))) as f64,
            MAX_NODES,
            (nodes_growth * 10.0).round() / 10.0,
        ),
        pods: Metric::of(
            |n| sum(loads.iter().map(|(_, l)| l.pods(n))) as f64,
            MAX_PODS,
            sum(loads.iter().map(|(_, l)| l.growth())) as f64,
        ),
        containers: Metric::of(
            |n| loads.iter().map(|(_, l)| l.containers(n)).sum::<f64>(),
            MAX_CONTAINERS,
            loads.iter().map(|(_, l)| l.container_growth()).sum::<f64>(),
        ),
        pools,
    }
}

/// A sum of counts from the definition, saturating instead of overflowing.
fn sum(values: impl Iterator<Item = i64>) -> i64 {
    values.fold(0, i64::saturating_add)
}

/// `12,345`.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

fn month(n: u32) -> String {
    if n == 1 {
        "in 1 month".into()
    } else {
        format!("in {n} months")
    }
}

fn cluster_findings(
    def: &ClusterDef,
    rc: &ResolvedCluster,
    report: &ClusterReport,
    env: &str,
    base: &str,
) -> Vec<Finding> {
    let mut out = Vec::new();
    // Point at the declaration behind most of the load: the cluster's own, else the busiest
    // pool's.
    let cluster_at = def
        .header
        .load
        .origin(env, base)
        .or_else(|| {
            report
                .pools
                .iter()
                .filter(|p| p.declared)
                .max_by_key(|p| (p.pods.now, std::cmp::Reverse(p.key.clone())))
                .and_then(|p| def.node_pools.get(&p.key))
                .and_then(|d| d.header.load.origin(env, base))
        })
        .unwrap_or(def.origin);
    let what = format!("cluster `{}` ({})", def.key, report.name);
    let next_key = format!("{}_2", def.key);
    let successor = format!(
        "onboard new apps to a new cluster, e.g. `plinth add cluster {next_key} --provider {} --region {}`, and consider a count in its name prefix; keep `{}` for the apps it already runs",
        def.provider.id, rc.region, def.key
    );

    if report.max_nodes > MAX_NODES {
        out.push(
            Finding::new(
                &PC006,
                format!(
                    "the node pools of {what} in `{env}` may grow to {} nodes, past the {} nodes of a single cluster",
                    thousands(report.max_nodes),
                    thousands(MAX_NODES)
                ),
                format!("lower the pools' max sizes so they add up to at most {} nodes, and {successor}", thousands(MAX_NODES)),
            )
            .at(def.origin, "cluster"),
        );
    }

    if report.declared {
        let describe = |name: &str, m: &Metric| {
            format!(
                "{:.1} % of the {}-{} limit ({} {name})",
                m.percent,
                thousands(m.limit),
                name.trim_end_matches('s'),
                thousands(m.now)
            )
        };
        let over = |pct: u32| -> Vec<String> {
            report
                .metrics()
                .iter()
                .filter(|(_, m)| m.percent >= f64::from(pct))
                .map(|(n, m)| describe(n, m))
                .collect()
        };
        let soonest = report
            .metrics()
            .iter()
            .filter_map(|(n, m)| Some((m.crossings.critical?, *n, *m)))
            .filter(|(month, ..)| *month > 0)
            .min_by_key(|(month, ..)| *month);
        let (critical, warn) = (over(CRITICAL), over(WARN));
        let finding = if !critical.is_empty() {
            Some(Finding::new(
                &PC002,
                format!("{what} in `{env}` is at {}", critical.join(" and ")),
                format!("stop onboarding apps to `{}`: {successor}", def.key),
            ))
        } else if !warn.is_empty() {
            let when = soonest.map_or(String::new(), |(m, n, metric)| {
                format!(
                    "; at {} {n} more per month it reaches 85 % {}",
                    thousands(metric.per_month.round() as i64),
                    month(m)
                )
            });
            Some(Finding::new(
                &PC001,
                format!("{what} in `{env}` is at {}{when}", warn.join(" and ")),
                successor.clone(),
            ))
        } else if let Some((m, n, metric)) = soonest.filter(|(m, ..)| *m <= PLAN_AHEAD_MONTHS) {
            Some(Finding::new(
                &PC003,
                format!(
                    "{what} in `{env}` reaches 85 % of the {}-{} limit {} (now {}, {} more per month)",
                    thousands(metric.limit),
                    n.trim_end_matches('s'),
                    month(m),
                    thousands(metric.now),
                    thousands(metric.per_month.round() as i64)
                ),
                format!("before then, {successor}"),
            ))
        } else {
            None
        };
        out.extend(finding.map(|f| f.at(cluster_at, "expected load")));
    }

    for pool in &report.pools {
        if !pool.declared || pool.capacity == 0 {
            continue;
        }
        let rule = if pool.pods.percent >= f64::from(CRITICAL) {
            &PC005
        } else if pool.pods.percent >= f64::from(WARN) {
            &PC004
        } else {
            continue;
        };
        let pdef = def.node_pools.get(&pool.key);
        let at: Origin = pdef
            .and_then(|d| d.header.load.origin(env, base))
            .or_else(|| pdef.map(|d| d.origin))
            .unwrap_or(def.origin);
        let max_key = def
            .provider
            .size_keys
            .as_ref()
            .map_or("max size", |s| s.max);
        out.push(
            Finding::new(
                rule,
                format!(
                    "node pool `{}.{}` in `{env}` is expected to run {} pods, {:.1} % of the {} its max size holds ({} nodes × {} pods)",
                    def.key,
                    pool.key,
                    thousands(pool.pods.now),
                    pool.pods.percent,
                    thousands(pool.capacity),
                    pool.max_nodes,
                    pool.max_pods_per_node
                ),
                format!(
                    "raise `{max_key}` of `{}.{}` for `{env}` (pods per node is an upper bound: CPU and memory usually fill a node first), or add a pool",
                    def.key, pool.key
                ),
            )
            .at(at, "expected load"),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(pods: i64, containers_per_pod: f64, growth_per_month: i64) -> Option<Load> {
        Some(Load {
            pods,
            containers_per_pod,
            growth_per_month,
        })
    }

    #[test]
    fn crossing_months_are_the_first_whole_month_at_or_over() {
        // 600 pods + 50/month against 990 (9 nodes × 110): 70 % = 693 → 600 + 50·2 = 700;
        // 85 % = 841.5 → 600 + 50·5 = 850; 100 % → 600 + 50·8 = 1,000.
        let f = |n: u32| 600.0 + 50.0 * f64::from(n);
        assert_eq!(crossing(f, 990, 70), Some(2));
        assert_eq!(crossing(f, 990, 85), Some(5));
        assert_eq!(crossing(f, 990, 100), Some(8));
        // Exactly on the threshold counts: 100,000 + 2,500·2 = 105,000 = 70 % of 150,000.
        let g = |n: u32| 100_000.0 + 2_500.0 * f64::from(n);
        assert_eq!(crossing(g, MAX_PODS, 70), Some(2));
        assert_eq!(crossing(g, MAX_PODS, 85), Some(11));
        assert_eq!(crossing(g, MAX_PODS, 100), Some(20));
        // Already over, never, and beyond the horizon.
        assert_eq!(crossing(|_| 1_000.0, 1_000, 85), Some(0));
        assert_eq!(crossing(|_| 10.0, 1_000, 70), None);
        assert_eq!(crossing(f64::from, 1_000, 70), None);
    }

    #[test]
    fn pool_numbers() {
        let l = PoolLoad {
            own: load(600, 2.0, 50),
            cluster: None,
            pods_per_node: 110,
        };
        assert_eq!(l.pods(0), 600);
        assert_eq!(l.nodes(0), 6); // ceil(600 / 110)
        assert_eq!(l.nodes(2), 7); // 700 pods
        assert_eq!(l.containers(0), 1_200.0);
        let m = Metric::of(|n| l.pods(n) as f64, 9 * 110, l.growth() as f64);
        assert_eq!(m.now, 600);
        assert!((m.percent - 60.606).abs() < 0.001, "{}", m.percent);
        assert_eq!(
            m.crossings,
            Crossings {
                warn: Some(2),
                critical: Some(5),
                limit: Some(8)
            }
        );
    }

    #[test]
    fn cluster_load_lands_on_the_default_pool() {
        // 2,000 pods on the pool, 1,000 declared on the cluster, 30 pods per node (AKS-style).
        let l = PoolLoad {
            own: load(2_000, 1.0, 100),
            cluster: load(1_000, 3.0, 0),
            pods_per_node: 30,
        };
        assert_eq!(l.pods(0), 3_000);
        assert_eq!(l.nodes(0), 100);
        assert_eq!(l.containers(0), 5_000.0); // 2,000·1 + 1,000·3
        assert_eq!(l.pods(12), 4_200);
        assert_eq!(l.nodes(12), 140);
        assert_eq!(l.container_growth(), 100.0);
    }

    #[test]
    fn containers_reach_their_limit_before_pods() {
        // 100,000 pods × 2.5 containers = 250,000 containers: 83.3 % of 300,000, while pods
        // are at 66.7 %. +2,500 pods/month is +6,250 containers/month: 85 % (255,000) is
        // reached in month 1, the limit (300,000 = 120,000 pods) in month 8.
        let l = PoolLoad {
            own: load(100_000, 2.5, 2_500),
            cluster: None,
            pods_per_node: 110,
        };
        let c = Metric::of(|n| l.containers(n), MAX_CONTAINERS, l.container_growth());
        assert!((c.percent - 83.333).abs() < 0.001);
        assert_eq!(c.crossings.critical, Some(1));
        assert_eq!(c.crossings.limit, Some(8));
        let p = Metric::of(|n| l.pods(n) as f64, MAX_PODS, 2_500.0);
        assert_eq!(p.crossings.warn, Some(2));
        // ceil(100,000 / 110) = 910 nodes: 18.2 % of 5,000.
        let nodes = Metric::of(|n| l.nodes(n) as f64, MAX_NODES, 0.0);
        assert_eq!(nodes.now, 910);
        assert!((nodes.percent - 18.2).abs() < 1e-9);
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(150_000), "150,000");
        assert_eq!(thousands(-1_234_567), "-1,234,567");
    }
}
