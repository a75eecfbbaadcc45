//! `plinth import kubestack SRC --out DST`: a Kubestack repository in, a Plinth platform out,
//! and a report of what was imported, converted and left for a person to decide.

use crate::cli::{ImportCommand, ImportKubestackArgs, Output, StateArg};
use crate::ui::Ui;
use crate::{CliError, Exit};
use plinth_core::import::{self, Report};
use std::fmt::Write;

pub fn run(ui: &Ui, command: ImportCommand) -> Result<Exit, CliError> {
    match command {
        ImportCommand::Kubestack(a) => kubestack(ui, a),
    }
}

fn kubestack(ui: &Ui, a: ImportKubestackArgs) -> Result<Exit, CliError> {
    // Refused before any work: the import never writes into an existing platform.
    import::check_out(&a.out)?;
    let options = import::Options {
        state_migration: a.state_migration,
        per_cluster_state: a.state == StateArg::Cluster,
    };
    let imp = import::kubestack(&a.src, &a.out, &options);
    // In the order found: files in name order, the summary of a failed validation last.
    let diags: Vec<_> = imp.diagnostics.iter().cloned().collect();
    let json = |imported: bool| {
        serde_json::json!({
            "imported": imported,
            "source": a.src.display().to_string(),
            "out": a.out.display().to_string(),
            "diagnostics": diags.iter().map(|d| d.to_json(&imp.sources)).collect::<Vec<_>>(),
            "report": imp.report,
        })
    };
    if imp.has_errors() {
        match a.output {
            Output::Json => ui.json(&json(false)),
            Output::Text => {
                ui.diagnostics(&imp.sources, diags.iter());
                if !imp.report.decisions.is_empty() {
                    // Often the reason: a value left out that the platform needed.
                    let mut s = String::new();
                    decisions(ui, &imp.report, &mut s);
                    ui.status(s.trim_end());
                }
                let n = imp.diagnostics.error_count();
                ui.error(
                    &format!(
                        "the import failed with {n} error{}: nothing was written to `{}`",
                        if n == 1 { "" } else { "s" },
                        a.out.display()
                    ),
                    Some("fix the repository (or move the module Plinth cannot import out of it) and run the import again"),
                );
            }
        }
        return Err(CliError::Reported(Exit::Invalid));
    }
    import::write(&imp, &a.out)?;
    match a.output {
        Output::Json => ui.json(&json(true)),
        Output::Text => {
            ui.diagnostics(&imp.sources, diags.iter());
            ui.data(&render(ui, &imp.report, &a.out.display().to_string()));
            let d = a.out.display();
            let first = imp.report.environments.first().cloned().unwrap_or_default();
            ui.status(&format!(
                "{} `{}` into `{d}`\n\nNext:\n  plinth validate {d}\n  plinth show {d} --env {first}",
                ui.green("Imported"),
                a.src.display()
            ));
        }
    }
    Ok(Exit::Ok)
}

/// The report as text: what was imported, converted (key → key) and needs a decision.
fn render(ui: &Ui, r: &Report, out: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} `{}` (Kubestack {}) as `{out}`",
        ui.bold("import"),
        r.source,
        r.dialects.join(" and ")
    );
    let _ = writeln!(
        s,
        "  environments  {} (base {}), inheritance {}",
        r.environments.join(" → "),
        r.base_environment,
        r.inheritance
    );
    let _ = writeln!(s, "\n{} ({})", ui.bold("imported"), r.imported.len());
    let w = r.imported.iter().map(|i| i.key.len()).max().unwrap_or(0);
    let wd = r.imported.iter().map(|i| i.detail.len()).max().unwrap_or(0);
    for i in &r.imported {
        let _ = writeln!(
            s,
            "  {:<9}  {:<w$}  {:<wd$}  {}",
            i.kind,
            i.key,
            i.detail,
            ui.dim(&i.from)
        );
    }
    let _ = writeln!(s, "\n{} ({})", ui.bold("converted"), r.converted.len());
    for c in &r.converted {
        let env = c
            .environment
            .as_ref()
            .map(|e| format!(" [{e}]"))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "  {}{env}  {}\n      → {}  {}",
            c.component,
            c.from,
            c.to,
            ui.dim(&c.at)
        );
    }
    decisions(ui, r, &mut s);
    let _ = writeln!(s, "\n{} ({})", ui.bold("files"), r.files.len());
    for f in &r.files {
        let _ = writeln!(s, "  {f}");
    }
    s
}

fn decisions(ui: &Ui, r: &Report, s: &mut String) {
    let _ = writeln!(
        s,
        "\n{} ({})",
        ui.bold("needs a human decision"),
        r.decisions.len()
    );
    for d in &r.decisions {
        let place = match (&d.component, &d.environment) {
            (Some(c), Some(e)) => format!("{c} [{e}]: "),
            (Some(c), None) => format!("{c}: "),
            (None, Some(e)) => format!("[{e}] "),
            (None, None) => String::new(),
        };
        let kept = d
            .kept_in
            .as_ref()
            .map(|k| format!(" (kept verbatim in {k})"))
            .unwrap_or_default();
        let _ = writeln!(s, "  {}  {place}{}{kept}", ui.yellow(&d.at), d.message);
    }
}
