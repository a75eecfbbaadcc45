//! PA003: tenants or workload types separated by environments.

use super::{Alternative, Ctx, Finding, Rule, list};
use crate::diagnostic::Severity;
use crate::load::ROOT_FILE;

pub static RULE: Rule = Rule {
    id: "PA003",
    title: "do not separate tenants or workload types with environments",
    severity: Severity::Warning,
    reason: "\u{201c}To separate tenants or types of workloads: use node pools, if you want to prioritize low overhead over blast-radius protection; use clusters, if you want to prioritize blast-radius protection over efficient resource utilization; do not use environments, because it would dramatically increase the effort to promote changes.\u{201d}",
    fix: "keep one external environment per stage and separate tenants or workload types with clusters (blast-radius protection) or tainted node pools (low overhead)",
};

pub fn check(ctx: &Ctx<'_>) -> Vec<Finding> {
    let p = ctx.platform;
    let shape = ctx.arch.shape;
    ctx.arch
        .env_splits
        .iter()
        .map(|split| {
            let groups = split.groups.len();
            let external: usize = split.groups.iter().map(|(_, e)| e.len()).sum();
            let kept = split.groups.iter().map(|(_, e)| e.len()).max().unwrap_or(1);
            let removed = external - kept;
            let described: Vec<String> = split
                .groups
                .iter()
                .flat_map(|(v, envs)| {
                    envs.iter().map(move |e| match v {
                        Some(v) => format!("`{e}` ({} `{v}`)", split.concern),
                        None => format!("`{e}` (no {})", split.concern),
                    })
                })
                .collect();
            // Keep the base environment when it is one of them (it cannot be removed), else
            // the first of the largest group.
            let base = p.environments.base_name();
            let keep = split
                .groups
                .iter()
                .flat_map(|(_, e)| e.iter())
                .find(|e| *e == base)
                .or_else(|| {
                    split
                        .groups
                        .iter()
                        .rev()
                        .max_by_key(|(_, e)| e.len())
                        .and_then(|(_, e)| e.first())
                })
                .cloned()
                .unwrap_or_default();
            let drop: Vec<&str> = split
                .groups
                .iter()
                .flat_map(|(_, e)| e.iter().map(String::as_str))
                .filter(|e| *e != keep)
                .collect();
            let concern = split.concern;
            let mut f = Finding::new(
                &RULE,
                format!(
                    "{concern}s are separated by environments: {}; every change now has to be promoted through {external} external environments",
                    described.join(", ")
                ),
                format!(
                    "keep `{keep}` and remove {} from the promotion chain; dedicate clusters to each {concern} instead (blast-radius protection: `plinth add cluster <key> --provider ...`, declare `{concern} = \"...\"` on it and put the {concern} in its `name_prefix`), or tainted node pools (low overhead: `plinth add node-pool <cluster> <pool> --taint {concern}=<name>:NoSchedule`, declare `{concern} = \"...\"` on the pool)",
                    list(&drop)
                ),
            );
            for (v, envs) in &split.groups {
                for e in envs {
                    if let Some(env) = p.environments.chain.iter().find(|x| &x.name == e) {
                        f = f.at(
                            env.origin,
                            match v {
                                Some(v) => format!("{concern} `{v}`"),
                                None => format!("no {concern}"),
                            },
                        );
                    }
                }
            }
            let mut by_clusters = shape;
            by_clusters.environments -= removed;
            by_clusters.clusters *= groups;
            by_clusters.node_pools *= groups;
            by_clusters.tainted_pools *= groups;
            by_clusters.promotion_only_environments =
                shape.promotion_only_environments.saturating_sub(removed);
            let mut by_pools = shape;
            by_pools.environments -= removed;
            by_pools.node_pools += (groups - 1) * shape.clusters;
            by_pools.tainted_pools += (groups - 1) * shape.clusters;
            by_pools.promotion_only_environments = by_clusters.promotion_only_environments;
            f.in_file(ROOT_FILE)
                .suggest(Alternative {
                    label: format!("{concern}s on clusters"),
                    shape: by_clusters,
                })
                .suggest(Alternative {
                    label: format!("{concern}s on tainted node pools"),
                    shape: by_pools,
                })
        })
        .collect()
}
