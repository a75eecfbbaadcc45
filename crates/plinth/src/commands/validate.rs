use super::leave;
use crate::cli::{Output, ValidateArgs};
use crate::ui::Ui;
use crate::{CliError, Exit};

pub fn run(ui: &Ui, args: ValidateArgs) -> Result<Exit, CliError> {
    let checked = plinth_core::check(&args.dir.path());
    let (errors, warnings) = (
        checked.diagnostics.error_count(),
        checked.diagnostics.warning_count(),
    );
    let diags = checked.diagnostics.clone().sorted();
    match args.output {
        Output::Json => ui.json(&serde_json::json!({
            "valid": errors == 0,
            "errors": errors,
            "warnings": warnings,
            "diagnostics": diags.iter().map(|d| d.to_json(&checked.sources)).collect::<Vec<_>>(),
        })),
        Output::Text => {
            ui.diagnostics(&checked.sources, diags.iter());
            let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
            if errors > 0 {
                ui.status(&format!(
                    "{}: {}, {}",
                    ui.red("invalid"),
                    plural(errors, "error"),
                    plural(warnings, "warning")
                ));
            } else if let Some(r) = &checked.resolution {
                let p = checked
                    .platform
                    .as_ref()
                    .map(|p| p.settings.name.as_str())
                    .unwrap_or_default();
                let first = r.environments.first();
                let clusters = first.map_or(0, |e| e.clusters.len());
                let pools: usize =
                    first.map_or(0, |e| e.clusters.values().map(|c| c.node_pools.len()).sum());
                let services: usize =
                    first.map_or(0, |e| e.clusters.values().map(|c| c.services.len()).sum());
                let (chain, local): (Vec<&str>, Vec<&str>) = match &checked.platform {
                    Some(p) => (
                        p.environments.chain_names().collect(),
                        p.environments
                            .local
                            .iter()
                            .map(|e| e.name.as_str())
                            .collect(),
                    ),
                    None => (Vec::new(), Vec::new()),
                };
                let local = if local.is_empty() {
                    String::new()
                } else {
                    format!(" + local {}", local.join(", "))
                };
                ui.status(&format!(
                    "{}: platform `{p}`, {} ({}{local}), {}, {}, {}, {}",
                    ui.green("valid"),
                    plural(r.environments.len(), "environment"),
                    chain.join(" → "),
                    plural(clusters, "cluster"),
                    plural(pools, "node pool"),
                    plural(services, "service"),
                    if warnings > 0 {
                        ui.yellow(&plural(warnings, "warning"))
                    } else {
                        plural(warnings, "warning")
                    },
                ));
            }
        }
    }
    leave(checked);
    Ok(if errors > 0 { Exit::Invalid } else { Exit::Ok })
}
