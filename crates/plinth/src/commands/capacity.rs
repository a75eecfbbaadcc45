//! `plinth capacity`: headroom of every cluster, per environment, against the limits of a single
//! Kubernetes cluster, and the month each threshold is crossed at the declared growth.

use super::load_valid;
use crate::cli::{CapacityArgs, Output};
use crate::ui::Ui;
use crate::{CliError, Exit};
use plinth_core::advise::capacity::{self, ClusterReport, Crossings, Metric, Report, thousands};
use std::fmt::Write;

pub fn run(ui: &Ui, args: CapacityArgs) -> Result<Exit, CliError> {
    let v = load_valid(ui, &args.dir.path())?;
    let report = capacity::plan(&v.platform, &v.resolution);
    match args.output {
        Output::Json => {
            let mut j = serde_json::to_value(&report).unwrap_or_default();
            j["findings"] = report
                .findings
                .iter()
                .map(|f| {
                    let mut d = f.diagnostic.to_json(&v.sources);
                    d["rule"] = f.rule.id.into();
                    d["title"] = f.rule.title.into();
                    d["reason"] = f.rule.reason.into();
                    d["fix"] = f.fix.clone().into();
                    d
                })
                .collect();
            ui.json(&j);
        }
        Output::Text => {
            ui.diagnostics(&v.sources, report.findings.iter().map(|f| &f.diagnostic));
            ui.data(&text(ui, &report));
            let n = report.findings.len();
            ui.status(&if n == 0 {
                format!("{}: every cluster has headroom", ui.green("capacity"))
            } else {
                format!(
                    "{}: {n} warning{}",
                    ui.yellow("capacity"),
                    if n == 1 { "" } else { "s" }
                )
            });
        }
    }
    Ok(Exit::Ok)
}

fn when(m: Option<u32>) -> String {
    match m {
        None => "\u{2013}".into(),
        Some(0) => "now".into(),
        Some(n) => format!("{n} mo"),
    }
}

fn pct(p: f64) -> String {
    format!("{p:.1} %")
}

fn per_month(v: f64) -> String {
    if v == 0.0 {
        "\u{2013}".into()
    } else if v.fract() == 0.0 {
        format!("+{}", thousands(v as i64))
    } else {
        format!("+{v:.1}")
    }
}

fn row(out: &mut String, indent: &str, name: &str, expected: &str, limit: &str, m: &Metric) {
    let c: &Crossings = &m.crossings;
    let _ = writeln!(
        out,
        "{indent}{name:<14} {expected:>9} {limit:>9} {:>8} {:>8} {:>6} {:>6} {:>6}",
        pct(m.percent),
        per_month(m.per_month),
        when(c.warn),
        when(c.critical),
        when(c.limit)
    );
}

fn cluster(ui: &Ui, out: &mut String, c: &ClusterReport) {
    let _ = writeln!(
        out,
        "  {}  {}  {}",
        ui.bold(&c.key),
        c.name,
        ui.dim(&format!(
            "(pools may grow to {} nodes holding {} pods)",
            thousands(c.max_nodes),
            thousands(c.pod_capacity)
        ))
    );
    if !c.declared {
        let _ = writeln!(
            out,
            "    {}",
            ui.dim("no expected load declared: add `[node_pools.<pool>.load.<env>] pods = ...`")
        );
        return;
    }
    let _ = writeln!(
        out,
        "    {}",
        ui.dim(&format!(
            "{:<14} {:>9} {:>9} {:>8} {:>8} {:>6} {:>6} {:>6}",
            "", "expected", "limit", "used", "/month", "70 %", "85 %", "100 %"
        ))
    );
    for (name, m) in c.metrics() {
        row(out, "    ", name, &thousands(m.now), &thousands(m.limit), m);
    }
    for p in c.pools.iter().filter(|p| p.declared) {
        row(
            out,
            "    ",
            &format!("pool {}", p.key),
            &thousands(p.pods.now),
            &thousands(p.capacity),
            &p.pods,
        );
    }
}

fn text(ui: &Ui, r: &Report) -> String {
    let mut out = String::new();
    let l = &r.limits;
    let _ = writeln!(
        out,
        "{}",
        ui.bold(&format!(
            "Capacity against the limits of a single cluster: {} nodes, {} pods, {} containers",
            thousands(l.nodes),
            thousands(l.pods),
            thousands(l.containers)
        ))
    );
    let _ = writeln!(
        out,
        "{}",
        ui.dim(&format!(
            "Warn at {} % and {} %. Months are counted from now at the declared growth; pools hold max nodes ×\npods per node ({} unless the provider's max-pods setting says otherwise).",
            l.warn_percent, l.critical_percent, l.pods_per_node_default
        ))
    );
    for e in &r.environments {
        let t = &e.totals;
        let _ = writeln!(
            out,
            "\n{}{}\n  {}",
            ui.bold(&e.environment),
            if e.internal { " (internal)" } else { "" },
            ui.dim(&format!(
                "{} cluster{}, up to {} nodes; {}{}",
                e.clusters.len(),
                if e.clusters.len() == 1 { "" } else { "s" },
                thousands(t.max_nodes),
                if e.clusters.iter().any(|c| c.declared) {
                    format!(
                        "expected {} pods, {} containers, {} nodes",
                        thousands(t.pods),
                        thousands(t.containers),
                        thousands(t.nodes)
                    )
                } else {
                    "no expected load declared".to_string()
                },
                match e.first_critical {
                    Some(0) => "\n  a cluster is past 85 % of a limit now".to_string(),
                    Some(1) =>
                        "\n  the first cluster reaches 85 % of a limit in 1 month".to_string(),
                    Some(m) =>
                        format!("\n  the first cluster reaches 85 % of a limit in {m} months"),
                    None => String::new(),
                }
            ))
        );
        for c in &e.clusters {
            cluster(ui, &mut out, c);
        }
    }
    if !r.declared {
        let _ = writeln!(
            out,
            "\n{}",
            ui.dim("No expected load is declared, so only the ceilings are known. Declare it beside `config`:\n  [node_pools.default.load.apps]\n  pods = 1200\n  containers_per_pod = 2\n  growth_per_month = 150")
        );
    }
    out
}
