//! PA004: a prod pool or a GPU pool that workloads without a toleration can land on.

use super::{Alternative, Ctx, Finding, Rule, list};
use crate::advise::arch::{keeps_regular_workloads_off, pool_stage};
use crate::cluster::ClusterDef;
use crate::diagnostic::Severity;
use crate::environment::Stage;
use crate::node_pool::NodePoolDef;

pub static RULE: Rule = Rule {
    id: "PA004",
    title: "taint prod and GPU node pools",
    severity: Severity::Warning,
    reason: "\u{201c}Node pools can be used to separate non-prod and prod workloads by tainting the prod node-pool and requiring prod-workloads to tolerate the taint. But an extra node pool with a taint is also commonly used to keep regular workloads off of GPU instances.\u{201d}",
    fix: "give the pool a `NO_SCHEDULE` taint and the workloads meant for it the matching toleration",
};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Why {
    Prod,
    Gpu,
}

pub fn check(ctx: &Ctx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for c in ctx.platform.clusters.values() {
        for pool in c.node_pools.values() {
            for why in [Why::Prod, Why::Gpu] {
                let envs = untainted_in(ctx, c, pool, why);
                if !envs.is_empty() {
                    out.push(finding(ctx, c, pool, why, &envs));
                }
            }
        }
    }
    out
}

/// The environments in which the pool needs a taint and has none.
fn untainted_in(ctx: &Ctx<'_>, c: &ClusterDef, pool: &NodePoolDef, why: Why) -> Vec<String> {
    let mut envs = Vec::new();
    for env in &ctx.platform.environments.chain {
        let Some(rc) = ctx
            .resolution
            .get(&env.name)
            .and_then(|r| r.clusters.get(&c.key))
        else {
            continue;
        };
        let Some(rp) = rc.node_pools.get(&pool.key) else {
            continue;
        };
        if keeps_regular_workloads_off(rc, rp) {
            continue;
        }
        // A taint only matters where other workloads could land instead: a cluster whose
        // every pool is prod (or has GPUs) has no "regular" workloads to keep off.
        let needs = match why {
            Why::Prod => {
                pool_stage(env, c, pool) == Some(Stage::Prod)
                    && c.node_pools
                        .values()
                        .any(|o| pool_stage(env, c, o) != Some(Stage::Prod))
            }
            Why::Gpu => {
                rp.shape().gpus_per_node > 0
                    && rc.node_pools.values().any(|o| o.shape().gpus_per_node == 0)
            }
        };
        if needs {
            envs.push(env.name.clone());
        }
    }
    envs
}

fn finding(
    ctx: &Ctx<'_>,
    c: &ClusterDef,
    pool: &NodePoolDef,
    why: Why,
    envs: &[String],
) -> Finding {
    let base = ctx.platform.environments.base_name();
    let shape = ctx
        .resolution
        .get(base)
        .and_then(|r| r.clusters.get(&c.key))
        .and_then(|rc| rc.node_pools.get(&pool.key))
        .map(|p| p.shape().clone());
    let soft = shape.as_ref().is_some_and(|s| !s.taints.is_empty());
    let (key, value, what) = match why {
        Why::Prod => ("workload-stage", "prod", "runs prod workloads".to_string()),
        Why::Gpu => (
            "nvidia.com/gpu",
            "present",
            format!(
                "has GPUs ({})",
                shape
                    .as_ref()
                    .map(|s| s.instance_types.join(", "))
                    .unwrap_or_default()
            ),
        ),
    };
    let consequence = match why {
        Why::Prod => "workloads without a toleration, non-prod ones included, can land on it",
        Why::Gpu => "regular workloads can occupy its expensive nodes",
    };
    let (taint_key, as_strings) = c.provider.pool_flags.taints;
    let line = if as_strings {
        format!("{taint_key} = [\"{key}={value}:NoSchedule\"]")
    } else {
        format!(
            "{taint_key} = [{{ key = \"{key}\", value = \"{value}\", effect = \"NO_SCHEDULE\" }}]"
        )
    };
    let header = ctx.header(c, &format!("node_pools.{}.config.{base}", pool.key));
    let f = Finding::new(
        &RULE,
        format!(
            "node pool `{}.{}` {what} but no taint keeps other workloads off it in {}: {consequence}{}",
            c.key,
            pool.key,
            list(envs),
            if soft { " (`PreferNoSchedule` only asks the scheduler to avoid it)" } else { "" }
        ),
        format!(
            "add `{line}` to `{header}` in `{}`, and give the {} workloads the toleration `{key}={value}:NoSchedule`",
            ctx.file(c),
            match why {
                Why::Prod => "prod",
                Why::Gpu => "GPU",
            }
        ),
    )
    .at(
        pool.origin,
        match why {
            Why::Prod => "prod pool without a taint",
            Why::Gpu => "GPU pool without a taint",
        },
    );
    let mut tainted = ctx.arch.shape;
    if !ctx.tainted(&c.key, &pool.key) {
        tainted.tainted_pools += 1;
    }
    f.suggest(Alternative {
        label: format!("`{}.{}` tainted", c.key, pool.key),
        shape: tainted,
    })
}
