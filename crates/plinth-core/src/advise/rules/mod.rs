//! The advisor's rules, one file each; [`CHECKS`] runs them in order. Adding a rule means adding
//! a file here and one line to [`CHECKS`].

mod pa001_internal_environment;
mod pa002_stage_by_clusters;
mod pa003_split_by_environments;
mod pa004_untainted_pools;
mod pa005_stage_priority;
mod pa006_application_workloads;

use super::arch::{Architecture, EnvStages, Shape, keeps_regular_workloads_off};
use super::score::Alternative;
use crate::cluster::ClusterDef;
use crate::diagnostic::{Diagnostic, Severity};
use crate::environment::Stage;
use crate::load::ROOT_FILE;
use crate::platform::Platform;
use crate::resolve::Resolution;
use crate::value::Origin;

/// What a rule (or a capacity check) is: a stable id, the guide's reasoning and the fix.
#[derive(Debug, serde::Serialize)]
pub struct Rule {
    /// Stable identifier (`PA001`), for scripts, docs and suppressions.
    pub id: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    /// The platform-architecture guide's reasoning, quoted.
    pub reason: &'static str,
    /// The fix in general; each finding names the concrete one.
    pub fix: &'static str,
}

/// A rule and the function that applies it.
pub struct Check {
    pub rule: &'static Rule,
    pub run: fn(&Ctx<'_>) -> Vec<Finding>,
}

/// The advisor's rules, in the order they are reported.
pub static CHECKS: &[Check] = &[
    Check {
        rule: &pa001_internal_environment::RULE,
        run: pa001_internal_environment::check,
    },
    Check {
        rule: &pa002_stage_by_clusters::RULE,
        run: pa002_stage_by_clusters::check,
    },
    Check {
        rule: &pa003_split_by_environments::RULE,
        run: pa003_split_by_environments::check,
    },
    Check {
        rule: &pa004_untainted_pools::RULE,
        run: pa004_untainted_pools::check,
    },
    Check {
        rule: &pa005_stage_priority::RULE,
        run: pa005_stage_priority::check,
    },
    Check {
        rule: &pa006_application_workloads::RULE,
        run: pa006_application_workloads::check,
    },
];

/// What every rule may look at.
pub struct Ctx<'a> {
    pub platform: &'a Platform,
    pub resolution: &'a Resolution,
    pub arch: &'a Architecture,
}

impl Ctx<'_> {
    /// The file a cluster is defined in, as shown to the user.
    pub fn file(&self, c: &ClusterDef) -> &str {
        self.platform.sources.name(c.file)
    }

    /// A TOML table header inside a cluster's definition: `[node_pools.prod.config.apps]` in
    /// `clusters/<key>.toml`, `[clusters.<key>.node_pools...]` in `plinth.toml`.
    pub fn header(&self, c: &ClusterDef, path: &str) -> String {
        if self.file(c) == ROOT_FILE {
            format!("[clusters.{}.{path}]", c.key)
        } else {
            format!("[{path}]")
        }
    }

    /// Whether a pool keeps workloads without a toleration off it in the base environment.
    pub fn tainted(&self, cluster: &str, pool: &str) -> bool {
        self.resolution
            .get(self.platform.environments.base_name())
            .and_then(|r| r.clusters.get(cluster))
            .and_then(|c| Some((c, c.node_pools.get(pool)?)))
            .is_some_and(|(c, p)| keeps_regular_workloads_off(c, p))
    }

    /// A name for a new environment that is not taken yet.
    pub fn new_environment_name(&self, wanted: &str) -> String {
        let envs = &self.platform.environments;
        if envs.index(wanted).is_none() {
            return wanted.to_string();
        }
        (2..)
            .map(|i| format!("{wanted}-{i}"))
            .find(|n| envs.index(n).is_none())
            .unwrap_or_else(|| wanted.to_string())
    }

    /// The alternative of moving prod into its own environment: the prod pools and the prod
    /// clusters that have a non-prod counterpart leave the code base, one environment is added.
    pub fn prod_in_own_environment(&self, s: &EnvStages) -> Alternative {
        let mut shape = self.arch.shape;
        shape.environments += 1;
        let (clusters, pools, tainted) = self.merged_prod_clusters(s);
        shape.clusters = shape.clusters.saturating_sub(clusters);
        shape.node_pools = shape.node_pools.saturating_sub(pools);
        shape.tainted_pools = shape.tainted_pools.saturating_sub(tainted);
        for (c, ps) in &s.prod_pools {
            shape.node_pools = shape.node_pools.saturating_sub(ps.len());
            let t = ps.iter().filter(|p| self.tainted(c, p)).count();
            shape.tainted_pools = shape.tainted_pools.saturating_sub(t);
        }
        Alternative {
            label: "prod in its own environment".into(),
            shape,
        }
    }

    /// The alternative of running prod on tainted node pools of the non-prod clusters.
    pub fn prod_on_node_pools(&self, s: &EnvStages) -> Alternative {
        let mut shape: Shape = self.arch.shape;
        let (clusters, pools, tainted) = self.merged_prod_clusters(s);
        shape.clusters = shape.clusters.saturating_sub(clusters);
        shape.tainted_pools += pools.saturating_sub(tainted);
        Alternative {
            label: "prod on tainted node pools".into(),
            shape,
        }
    }

    /// Prod clusters that pair with a non-prod cluster: (count, their pools, tainted pools).
    fn merged_prod_clusters(&self, s: &EnvStages) -> (usize, usize, usize) {
        let prod = s.clusters_of(Stage::Prod);
        let m = prod.len().min(s.clusters_of(Stage::NonProd).len());
        let mut pools = 0;
        let mut tainted = 0;
        for key in prod.iter().take(m) {
            if let Some(c) = self.platform.clusters.get(*key) {
                pools += c.node_pools.len();
                tainted += c.node_pools.keys().filter(|p| self.tainted(key, p)).count();
            }
        }
        (m, pools, tainted)
    }
}

/// One thing the advisor found: a diagnostic (code = rule id) with the concrete fix, and the
/// architectures it suggests instead.
#[derive(Clone, Debug)]
pub struct Finding {
    pub rule: &'static Rule,
    pub diagnostic: Diagnostic,
    /// The concrete fix for this finding.
    pub fix: String,
    pub alternatives: Vec<Alternative>,
}

impl Finding {
    pub fn new(rule: &'static Rule, message: impl Into<String>, fix: impl Into<String>) -> Finding {
        let fix = fix.into();
        let diagnostic = match rule.severity {
            Severity::Error => Diagnostic::error(rule.id, message),
            Severity::Warning => Diagnostic::warning(rule.id, message),
        }
        .hint(format!("{fix}\nwhy: {}", rule.reason));
        Finding {
            rule,
            diagnostic,
            fix,
            alternatives: Vec::new(),
        }
    }

    /// Points at the key that introduced a component (its table or file).
    pub fn at(mut self, origin: Origin, text: impl Into<String>) -> Finding {
        self.diagnostic = self.diagnostic.at_key(origin, text);
        self
    }

    /// When nothing inside a file applies, names the file.
    pub fn in_file(mut self, path: &str) -> Finding {
        if self.diagnostic.labels.is_empty() {
            self.diagnostic = self.diagnostic.path(path);
        }
        self
    }

    pub fn suggest(mut self, alternative: Alternative) -> Finding {
        self.alternatives.push(alternative);
        self
    }
}

/// `` `a`, `b` and `c` `` for messages.
pub fn list<S: AsRef<str>>(items: &[S]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("`{}`", s.as_ref())).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
