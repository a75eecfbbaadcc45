//! `plinth advise`: the platform-architecture guide's rules applied to the platform, each with
//! its reason and a concrete fix, and the score table of the current architecture against the
//! alternatives the findings suggest.

use crate::cli::{AdviseArgs, Output};
use crate::ui::Ui;
use crate::{CliError, Exit};
use plinth_core::advise::{self, Advice, COVERED_ERRORS, score};
use plinth_core::diagnostic::Severity;
use plinth_core::{Platform, Resolution, SourceMap};
use std::fmt::Write;

pub fn run(ui: &Ui, args: AdviseArgs) -> Result<Exit, CliError> {
    if args.rules {
        print_rules(ui, args.output);
        return Ok(Exit::Ok);
    }
    let (platform, resolution, sources) = load(ui, &args.dir.path())?;
    let advice = advise::advise(&platform, &resolution);
    match args.output {
        Output::Json => ui.json(&advice.to_json(&sources)),
        Output::Text => {
            ui.diagnostics(&sources, advice.findings.iter().map(|f| &f.diagnostic));
            ui.data(&score_table(ui, &advice));
            ui.status(&summary(ui, &advice));
        }
    }
    Ok(if advice.has_errors() {
        Exit::Invalid
    } else {
        Exit::Ok
    })
}

/// Reads the platform. Errors stop the advisor, except those it reports itself as PA001 (a
/// chain of one environment); validation warnings are `plinth validate`'s to show.
fn load(ui: &Ui, dir: &std::path::Path) -> Result<(Platform, Resolution, SourceMap), CliError> {
    let checked = plinth_core::check(dir);
    let blocking: Vec<_> = checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error() && !COVERED_ERRORS.contains(&d.code))
        .collect();
    if !blocking.is_empty() || checked.platform.is_none() || checked.resolution.is_none() {
        ui.diagnostics(&checked.sources, blocking.iter().copied());
        let n = blocking.len();
        ui.error(
            &format!(
                "the platform has {n} error{}; the advisor needs a valid platform",
                if n == 1 { "" } else { "s" }
            ),
            Some("fix them, or run `plinth validate` to see every problem"),
        );
        return Err(CliError::Reported(Exit::Invalid));
    }
    let warnings = checked.diagnostics.warning_count();
    if warnings > 0 {
        ui.debug(&format!(
            "{warnings} validation warning(s) not shown: run `plinth validate`"
        ));
    }
    match (checked.platform, checked.resolution) {
        (Some(p), Some(r)) => Ok((p, r, checked.sources)),
        _ => Err(CliError::Reported(Exit::Invalid)),
    }
}

fn summary(ui: &Ui, advice: &Advice) -> String {
    if advice.findings.is_empty() {
        return format!(
            "{}: no findings, the architecture follows the guide's rules",
            ui.green("advise")
        );
    }
    let mut ids: Vec<&str> = advice.ids();
    ids.dedup();
    let (e, w) = (advice.error_count(), advice.warning_count());
    let plural = |n: usize, s: &str| format!("{n} {s}{}", if n == 1 { "" } else { "s" });
    let head = if e > 0 {
        ui.red("advise")
    } else {
        ui.yellow("advise")
    };
    format!(
        "{head}: {}, {} ({})",
        plural(e, "error"),
        plural(w, "warning"),
        ids.join(", ")
    )
}

fn delta(now: usize, current: usize) -> String {
    match now.cmp(&current) {
        std::cmp::Ordering::Equal => format!("{now} (\u{b1}0)"),
        std::cmp::Ordering::Greater => format!("{now} (+{})", now - current),
        std::cmp::Ordering::Less => format!("{now} (-{})", current - now),
    }
}

/// The score table, one row per architecture.
fn score_table(ui: &Ui, advice: &Advice) -> String {
    let rows = &advice.scores;
    let current = &rows[0].score;
    let labels: Vec<String> = rows
        .iter()
        .map(|r| match r.rule {
            Some(rule) => format!("{rule}: {}", r.label),
            None => "current architecture".to_string(),
        })
        .collect();
    let w = labels
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0)
        .max(12);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        ui.bold("Architecture score (environments > clusters > node pools, weighted 3, 2, 1)")
    );
    let _ = writeln!(
        out,
        "{:<w$}  {:>12}  {:>8}  {:>10}  {:>9}  {:>10}",
        "", "environments", "clusters", "node pools", "overhead", "protection"
    );
    for (r, label) in rows.iter().zip(&labels) {
        let (o, p) = if r.rule.is_none() {
            (r.score.overhead.to_string(), r.score.protection.to_string())
        } else {
            (
                delta(r.score.overhead, current.overhead),
                delta(r.score.protection, current.protection),
            )
        };
        let _ = writeln!(
            out,
            "{label:<w$}  {:>12}  {:>8}  {:>10}  {o:>9}  {p:>10}",
            r.environments, r.clusters, r.node_pools
        );
    }
    let _ = writeln!(
        out,
        "{}",
        ui.dim(&format!(
            "Clusters and node pools are counted in every environment that runs them.\n\
             overhead   = {e} × environments + {c} × clusters + {n} × node pools\n\
             \x20            (+ {e} per environment that only separates tenants or workload types)\n\
             protection = {e} for an internal environment first + {e} per further external environment\n\
             \x20            + {c} per cluster beyond the first + {n} per tainted node pool",
            e = score::ENVIRONMENT,
            c = score::CLUSTER,
            n = score::NODE_POOL
        ))
    );
    out
}

fn print_rules(ui: &Ui, output: Output) {
    let rules = advise::catalogue();
    match output {
        Output::Json => ui.json(&serde_json::to_value(&rules).unwrap_or_default()),
        Output::Text => {
            let mut out = String::new();
            for r in rules {
                let sev = match r.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                };
                let _ = writeln!(out, "{}  {sev:<7}  {}", ui.bold(r.id), r.title);
                let _ = writeln!(out, "       why: {}", r.reason);
                let _ = writeln!(out, "       fix: {}\n", r.fix);
            }
            ui.data(&out);
        }
    }
}
