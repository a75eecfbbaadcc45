//! The architecture advisor, the capacity planner and the diagrams: the platform-architecture
//! guide turned into checks, numbers and pictures.
//!
//! Every added environment, cluster or node pool buys blast-radius protection at the price of
//! overhead; environments add more of both than clusters, clusters more than node pools. The
//! advisor reads what the platform *declares* it separates (`tenant`, `stage`, `workload` on
//! environments, clusters and node pools) and the resolved pool shapes, applies the guide's rules
//! ([`rules::CHECKS`]), and scores the current architecture against the alternatives the rules
//! suggest ([`score`]). [`capacity`] compares declared load with the limits of a single
//! Kubernetes cluster; [`diagram`] draws the platform.

pub mod arch;
pub mod capacity;
pub mod declared;
pub mod diagram;
pub mod rules;
pub mod score;

pub use rules::{Finding, Rule};

use crate::diagnostic::Severity;
use crate::platform::Platform;
use crate::resolve::Resolution;
use crate::source::SourceMap;
use arch::Architecture;

/// Validation errors the advisor reports itself (as PA001), so they do not stop it.
pub const COVERED_ERRORS: &[&str] = &["too-few-environments"];

/// What the advisor found and how the architecture scores.
#[derive(Clone, Debug)]
pub struct Advice {
    pub architecture: Architecture,
    pub findings: Vec<Finding>,
    /// The current architecture first, then the alternatives the findings suggest.
    pub scores: Vec<score::Row>,
}

impl Advice {
    pub fn has_errors(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.diagnostic.severity == Severity::Error)
    }

    pub fn error_count(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.diagnostic.severity == Severity::Error)
            .count()
    }

    pub fn warning_count(&self) -> usize {
        self.findings.len() - self.error_count()
    }

    /// The rule ids found, in order (for tests and summaries).
    pub fn ids(&self) -> Vec<&'static str> {
        self.findings.iter().map(|f| f.rule.id).collect()
    }

    /// The JSON document `plinth advise --output json` prints.
    pub fn to_json(&self, sources: &SourceMap) -> serde_json::Value {
        let findings: Vec<_> = self
            .findings
            .iter()
            .map(|f| {
                let mut j = f.diagnostic.to_json(sources);
                j["rule"] = f.rule.id.into();
                j["title"] = f.rule.title.into();
                j["reason"] = f.rule.reason.into();
                j["fix"] = f.fix.clone().into();
                j["alternatives"] = serde_json::to_value(&f.alternatives).unwrap_or_default();
                j
            })
            .collect();
        serde_json::json!({
            "ok": !self.has_errors(),
            "errors": self.error_count(),
            "warnings": self.warning_count(),
            "findings": findings,
            "scores": self.scores,
            "model": score_model(),
        })
    }
}

/// The scoring model in a few words, for output next to the numbers.
pub fn score_model() -> serde_json::Value {
    serde_json::json!({
        "weights": {"environment": score::ENVIRONMENT, "cluster": score::CLUSTER, "node_pool": score::NODE_POOL},
        "overhead": "3 × environments + 2 × clusters + 1 × node pools (running, across all environments) + 3 per environment that only separates tenants or workload types",
        "protection": "3 for an internal environment first + 3 per further external environment + 2 per cluster beyond the first + 1 per tainted node pool",
    })
}

/// Applies every rule to a read and resolved platform.
pub fn advise(platform: &Platform, resolution: &Resolution) -> Advice {
    let architecture = Architecture::of(platform, resolution);
    let ctx = rules::Ctx {
        platform,
        resolution,
        arch: &architecture,
    };
    let findings: Vec<Finding> = rules::CHECKS
        .iter()
        .flat_map(|check| (check.run)(&ctx))
        .collect();
    let scores = score::table(
        &architecture.shape,
        findings
            .iter()
            .flat_map(|f| f.alternatives.iter().map(move |a| (f.rule.id, a))),
    );
    Advice {
        architecture,
        findings,
        scores,
    }
}

/// Every rule and capacity check, for `plinth advise --rules` and the docs.
pub fn catalogue() -> Vec<&'static Rule> {
    rules::CHECKS
        .iter()
        .map(|c| c.rule)
        .chain(capacity::RULES.iter().copied())
        .collect()
}

#[cfg(test)]
mod tests;
