//! PA005: prod sharing an environment with non-prod, weighed against `[platform] priority`.

use super::{Ctx, Finding, Rule, list};
use crate::diagnostic::Severity;
use crate::environment::Stage;
use crate::load::ROOT_FILE;
use crate::platform::Priority;

pub static RULE: Rule = Rule {
    id: "PA005",
    title: "separate prod and non-prod the way `[platform] priority` asks",
    severity: Severity::Warning,
    reason: "\u{201c}If you want to add another layer of protection and prevent a problematic change from affecting non-prod and prod workloads at the same time, use separate non-prod and prod environments.\u{201d} \u{201c}Use node pools, if you want to prioritize low overhead over blast-radius protection.\u{201d} \u{201c}For a non-prod and prod split, add the environment before opening the platform up to users.\u{201d}",
    fix: "with `priority = \"blast-radius\"`, give prod its own environment; with `priority = \"utilization\"`, run prod on tainted node pools",
};

pub fn check(ctx: &Ctx<'_>) -> Vec<Finding> {
    let p = ctx.platform;
    let Some(priority) = p.settings.priority else {
        return Vec::new();
    };
    let shared: Vec<_> = ctx
        .arch
        .stages
        .iter()
        .filter(|s| match priority {
            Priority::BlastRadius => s.shared(),
            Priority::Utilization => s.split_by_clusters(),
        })
        .collect();
    let Some(first) = shared.first() else {
        return Vec::new();
    };
    let envs: Vec<&str> = shared.iter().map(|s| s.environment.as_str()).collect();
    let prod_clusters = first.clusters_of(Stage::Prod);
    let prod_pools: Vec<String> = first
        .prod_pools
        .iter()
        .flat_map(|(c, ps)| ps.iter().map(move |p| format!("{c}.{p}")))
        .collect();
    let how = match (prod_clusters.is_empty(), prod_pools.is_empty()) {
        (false, true) => format!(
            "by clusters ({} run{} prod)",
            list(&prod_clusters),
            if prod_clusters.len() == 1 { "s" } else { "" }
        ),
        (true, false) => format!("by node pools ({})", list(&prod_pools)),
        _ => format!(
            "by clusters ({}) and node pools ({})",
            list(&prod_clusters),
            list(&prod_pools)
        ),
    };
    let mut f = match priority {
        Priority::BlastRadius => {
            let last = envs.last().copied().unwrap_or_default();
            let prod_env = ctx.new_environment_name(&format!("{last}-prod"));
            let mut moved: Vec<String> = prod_clusters
                .iter()
                .map(|c| format!("cluster `{c}`"))
                .collect();
            moved.extend(prod_pools.iter().map(|p| format!("pool `{p}`")));
            Finding::new(
                &RULE,
                format!(
                    "prod and non-prod workloads share {}, separated {how}, but `[platform] priority = \"blast-radius\"`: a bad change reaches prod and non-prod at the same time",
                    list(&envs)
                ),
                format!(
                    "add a third environment for prod before opening the platform up to users: `plinth add environment {prod_env} --after {last}`, declare `[environments.{last}] stage = \"non-prod\"` and `[environments.{prod_env}] stage = \"prod\"`, then remove {} (prod runs in `{prod_env}` instead)",
                    moved.join(", ")
                ),
            )
            .suggest(ctx.prod_in_own_environment(first))
        }
        Priority::Utilization => {
            let non_prod = first.clusters_of(Stage::NonProd);
            Finding::new(
                &RULE,
                format!(
                    "prod and non-prod workloads are separated {how} in {}, but `[platform] priority = \"utilization\"`: clusters cost more than node pools and protect less than environments",
                    list(&envs)
                ),
                format!(
                    "run prod on tainted node pools of {}: move the pools of {} there with a `NO_SCHEDULE` taint and `stage = \"prod\"`, then remove {}",
                    list(&non_prod),
                    list(&prod_clusters),
                    list(&prod_clusters)
                ),
            )
            .suggest(ctx.prod_on_node_pools(first))
        }
    };
    f = f.at(p.settings.origin("priority"), "the declared priority");
    for k in &prod_clusters {
        if let Some(c) = p.clusters.get(*k) {
            f = f.at(c.origin, "prod cluster");
        }
    }
    for (c, pools) in &first.prod_pools {
        for k in pools {
            if let Some(pool) = p.clusters.get(c).and_then(|c| c.node_pools.get(k)) {
                f = f.at(pool.origin, "prod pool");
            }
        }
    }
    vec![f.in_file(ROOT_FILE)]
}
