//! PA002: prod and non-prod separated by clusters of the same environment.

use super::{Ctx, Finding, Rule, list};
use crate::diagnostic::Severity;
use crate::environment::Stage;

pub static RULE: Rule = Rule {
    id: "PA002",
    title: "do not separate prod and non-prod with clusters",
    severity: Severity::Warning,
    reason: "\u{201c}To separate non-production and production workloads: use node pools, if you want to prioritize low overhead over blast-radius protection; use environments, if you want to prioritize blast-radius protection over efficient resource utilization; do not use clusters, because it would mean more overhead and less blast-radius protection.\u{201d} \u{201c}Every change is applied to all platform components including clusters in the same environment at the same time.\u{201d}",
    fix: "separate prod and non-prod with tainted node pools (low overhead) or with environments (blast-radius protection)",
};

/// With `[platform] priority` set, PA005 reports the same split with the one fix that matches
/// the priority, so this rule stays silent.
pub fn check(ctx: &Ctx<'_>) -> Vec<Finding> {
    if ctx.platform.settings.priority.is_some() {
        return Vec::new();
    }
    let split: Vec<_> = ctx
        .arch
        .stages
        .iter()
        .filter(|s| s.split_by_clusters())
        .collect();
    let Some(first) = split.first() else {
        return Vec::new();
    };
    let envs: Vec<&str> = split.iter().map(|s| s.environment.as_str()).collect();
    let prod = first.clusters_of(Stage::Prod);
    let non_prod = first.clusters_of(Stage::NonProd);
    let target = non_prod.first().copied().unwrap_or_default();
    let last = envs.last().copied().unwrap_or_default();
    let prod_env = ctx.new_environment_name(&format!("{last}-prod"));
    let mut f = Finding::new(
        &RULE,
        format!(
            "prod and non-prod workloads are separated by clusters in {}: {} run{} prod, {} non-prod; a bad change still reaches both at the same time",
            list(&envs),
            list(&prod),
            if prod.len() == 1 { "s" } else { "" },
            list(&non_prod)
        ),
        format!(
            "either run prod on tainted node pools of {} (low overhead: move {}'s pools there with a `NO_SCHEDULE` taint and `stage = \"prod\"`, then remove {}); or give prod its own environment (blast-radius protection): `plinth add environment {prod_env} --after {last}`, declare `[environments.{last}] stage = \"non-prod\"` and `[environments.{prod_env}] stage = \"prod\"`, and remove {}. Set `[platform] priority = \"utilization\"` or `\"blast-radius\"` to get one recommendation",
            list(&[target]),
            list(&prod),
            list(&prod),
            list(&prod)
        ),
    );
    for (keys, text) in [(&prod, "prod cluster"), (&non_prod, "non-prod cluster")] {
        for k in keys {
            if let Some(c) = ctx.platform.clusters.get(*k) {
                f = f.at(c.origin, text);
            }
        }
    }
    vec![
        f.suggest(ctx.prod_on_node_pools(first))
            .suggest(ctx.prod_in_own_environment(first)),
    ]
}
