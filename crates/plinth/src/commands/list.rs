//! `plinth list`: what the code base defines, at a glance.

use super::load_valid;
use crate::cli::{ListArgs, Output};
use crate::ui::Ui;
use crate::{CliError, Exit};
use std::fmt::Write;

pub fn run(ui: &Ui, args: ListArgs) -> Result<Exit, CliError> {
    let v = load_valid(ui, &args.dir.path())?;
    let p = &v.platform;
    let base = p.environments.base_name();
    let Some(resolved) = v.resolution.get(base) else {
        return Ok(Exit::Ok);
    };
    match args.output {
        Output::Json => {
            let envs: Vec<_> = p
                .environments
                .all()
                .enumerate()
                .map(|(i, e)| serde_json::json!({"name": e.name, "internal": i == 0, "base": i == p.environments.base, "local": e.local, "intent": e.intent}))
                .collect();
            let clusters: Vec<_> = p
                .clusters
                .values()
                .map(|c| {
                    let names: serde_json::Map<_, _> = v
                        .resolution
                        .environments
                        .iter()
                        .filter_map(|r| {
                            Some((
                                r.environment.clone(),
                                r.clusters.get(&c.key)?.meta.name.clone().into(),
                            ))
                        })
                        .collect();
                    serde_json::json!({
                        "key": c.key,
                        "provider": c.provider.id,
                        "region": resolved.clusters.get(&c.key).map(|r| r.region.clone()),
                        "file": v.sources.name(c.file),
                        "names": names,
                        "node_pools": c.node_pools.keys().collect::<Vec<_>>(),
                        "services": c.services.keys().collect::<Vec<_>>(),
                    })
                })
                .collect();
            ui.json(&serde_json::json!({"platform": p.settings.name, "environments": envs, "clusters": clusters}));
        }
        Output::Text => {
            let mut out = String::new();
            let chain: Vec<String> = p
                .environments
                .chain
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    let mut s = e.name.clone();
                    if i == 0 {
                        s.push_str(" (internal)");
                    }
                    if i == p.environments.base {
                        s.push_str(" (base)");
                    }
                    s
                })
                .collect();
            let _ = writeln!(out, "{} {}", ui.bold("platform"), p.settings.name);
            let _ = writeln!(out, "{} {}", ui.bold("environments"), chain.join(" → "));
            let local: Vec<&str> = p
                .environments
                .local
                .iter()
                .map(|e| e.name.as_str())
                .collect();
            if !local.is_empty() {
                let _ = writeln!(
                    out,
                    "{} {}",
                    ui.bold("local environments"),
                    local.join(", ")
                );
            }
            let _ = writeln!(out, "{}", ui.bold("clusters"));
            for c in p.clusters.values() {
                let region = resolved
                    .clusters
                    .get(&c.key)
                    .map(|r| r.region.as_str())
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "  {:<20} {:<5} {:<16} {}",
                    c.key,
                    c.provider.id,
                    region,
                    ui.dim(v.sources.name(c.file))
                );
                let pools = c.node_pools.keys().cloned().collect::<Vec<_>>().join(", ");
                let _ = writeln!(out, "    node pools  {pools}");
                if !c.services.is_empty() {
                    let svcs = c.services.keys().cloned().collect::<Vec<_>>().join(", ");
                    let _ = writeln!(out, "    services    {svcs}");
                }
            }
            ui.data(&out);
        }
    }
    Ok(Exit::Ok)
}
