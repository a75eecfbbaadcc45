//! `plinth generate`: what the engines apply, written atomically, or checked (`--check`).

use super::load_valid;
use crate::cli::{GenerateArgs, Output};
use crate::ui::Ui;
use crate::{CliError, Exit};
use plinth_core::generate;

pub fn run(ui: &Ui, args: GenerateArgs) -> Result<Exit, CliError> {
    let v = load_valid(ui, &args.dir.path())?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| args.dir.path().join("generated"));
    let tree = generate::render_all(&v.platform, &v.resolution, &out)?;
    if args.check {
        let changes = generate::changes(&out, &tree)?;
        if args.output == Output::Json {
            ui.json(&serde_json::json!({
                "up_to_date": changes.is_empty(),
                "changes": changes.iter().map(|c| serde_json::json!({"path": c.path, "change": format!("{:?}", c.kind).to_lowercase()})).collect::<Vec<_>>(),
            }));
        } else if !changes.is_empty() {
            ui.data(&generate::unified_diff(&changes));
        }
        if changes.is_empty() {
            ui.status(&format!(
                "{} `{}` is up to date ({} files)",
                ui.green("✓"),
                out.display(),
                tree.len()
            ));
            return Ok(Exit::Ok);
        }
        ui.status(&format!(
            "{} `{}` differs from the definition in {} file(s); run `plinth generate`",
            ui.red("✗"),
            out.display(),
            changes.len()
        ));
        return Ok(Exit::Changes);
    }
    let report = generate::write(&out, &tree, args.force)?;
    if args.output == Output::Json {
        ui.json(&serde_json::json!({
            "out": out.display().to_string(),
            "written": report.written,
            "removed": report.removed,
            "unchanged": report.unchanged,
            "backed_up": report.backed_up,
            "backup_dir": report.backup_dir.as_ref().map(|d| d.display().to_string()),
        }));
    }
    if let Some(dir) = &report.backup_dir {
        for f in &report.backed_up {
            ui.status(&format!(
                "{} moved `{f}` out of the output, to `{}`",
                ui.yellow("!"),
                dir.join(f).display()
            ));
        }
    }
    if report.written.is_empty() && report.removed.is_empty() {
        ui.status(&format!(
            "{} `{}` is up to date ({} files)",
            ui.green("✓"),
            out.display(),
            tree.len()
        ));
    } else {
        ui.status(&format!(
            "{} `{}`: {} written, {} unchanged, {} removed",
            ui.green("Generated"),
            out.display(),
            report.written.len(),
            report.unchanged,
            report.removed.len()
        ));
        for f in &report.written {
            ui.debug(&format!("  wrote {f}"));
        }
    }
    // The process ends here: freeing hundreds of thousands of small values one by one would
    // only delay the exit (tens of milliseconds at platform scale).
    std::mem::forget(tree);
    std::mem::forget(v);
    Ok(Exit::Ok)
}
