//! `plinth catalog`: well-known platform services, and turning `add service` flags into an
//! entry of the definition.

use crate::cli::{AddServiceArgs, CatalogCommand, Output};
use crate::ui::Ui;
use crate::{CliError, Exit};
use plinth_core::edit::NewService;
use plinth_core::service::catalog::{self, Entry, Upstream};
use plinth_core::service::{ServiceKind, Source};
use std::fmt::Write;

fn json(e: &Entry) -> serde_json::Value {
    serde_json::json!({
        "name": e.name,
        "kind": e.kind,
        "version": e.version,
        "namespace": e.namespace,
        "description": e.description,
        "source": e.source(),
        "homepage": e.homepage,
    })
}

pub fn run(ui: &Ui, cmd: CatalogCommand) -> Result<Exit, CliError> {
    match cmd {
        CatalogCommand::List {
            output: Output::Json,
        } => ui.json(&serde_json::Value::Array(
            catalog::ENTRIES.iter().map(json).collect(),
        )),
        CatalogCommand::List {
            output: Output::Text,
        } => {
            let mut out = String::new();
            for e in catalog::ENTRIES {
                let _ = writeln!(
                    out,
                    "{:<22} {:<10} {:<19} {}",
                    e.name,
                    e.kind.as_str(),
                    e.version,
                    ui.dim(e.description)
                );
            }
            ui.data(&out);
            ui.status("\nAdd one with `plinth add service <name> --cluster <key>`; `plinth catalog show <name>` for details.");
        }
        CatalogCommand::Show { name, output } => {
            let e = catalog::get(&name).ok_or_else(|| {
                CliError::refused(
                    format!("`{name}` is not in the catalog"),
                    Some(
                        plinth_core::diagnostic::did_you_mean(&name, catalog::names()).map_or_else(
                            || "`plinth catalog list` shows every entry".to_string(),
                            |best| format!("did you mean `{best}`?"),
                        ),
                    ),
                )
            })?;
            if output == Output::Json {
                ui.json(&json(e));
            } else {
                let mut out = String::new();
                let _ = writeln!(out, "{} — {}", ui.bold(e.name), e.description);
                let _ = writeln!(out, "  kind       {}", e.kind.as_str());
                let _ = writeln!(out, "  version    {} (pinned)", e.version);
                let _ = writeln!(out, "  namespace  {}", e.namespace);
                match &e.upstream {
                    Upstream::Kustomize { url, r#ref } => {
                        let _ = writeln!(out, "  source     {url} (ref {})", r#ref);
                    }
                    Upstream::Helm { repo, chart } => {
                        let _ = writeln!(
                            out,
                            "  source     Helm chart `{chart}` {} from {repo}",
                            e.version
                        );
                        let _ = writeln!(
                            out,
                            "             rendering needs `helm` where terraform runs; vendor a rendered chart as a local base to stay offline"
                        );
                    }
                }
                let _ = writeln!(out, "  homepage   {}", e.homepage);
                let _ = writeln!(out, "\n  plinth add service {} --cluster <key>", e.name);
                ui.data(&out);
            }
        }
    }
    Ok(Exit::Ok)
}

/// The definition entry `add service` writes: from the catalog, or from `--source`.
pub fn new_service(a: &AddServiceArgs) -> Result<NewService<'_>, CliError> {
    let entry = catalog::get(&a.name);
    let kind = match (&a.kind, entry) {
        (Some(k), _) => ServiceKind::parse(k)
            .ok_or_else(|| CliError::refused(format!("`{k}` is not a service kind"), None))?,
        (None, Some(e)) => e.kind,
        (None, None) => {
            return Err(CliError::refused(
                format!(
                    "`{}` is not in the catalog; say what it is with `--kind` and where it comes from with `--source`",
                    a.name
                ),
                plinth_core::diagnostic::did_you_mean(&a.name, catalog::names())
                    .map(|best| format!("did you mean the catalog's `{best}`?"))
                    .or_else(|| Some("see `plinth catalog list`".into())),
            ));
        }
    };
    let source = match (&a.source, &a.r#ref, entry) {
        (Some(s), Some(r), _) if s.contains("://") => Source::Remote {
            url: s.clone(),
            r#ref: r.clone(),
        },
        (Some(s), None, _) if s.contains("://") => {
            return Err(CliError::refused(
                "a remote `--source` must be pinned",
                Some("add `--ref <tag or commit>`".into()),
            ));
        }
        (Some(s), _, _) => Source::Path {
            path: s.trim_end_matches('/').to_string(),
        },
        (None, _, Some(e)) => e.source(),
        (None, _, None) => {
            return Err(CliError::refused(
                format!("`{}` needs a `--source`", a.name),
                None,
            ));
        }
    };
    let comment = match (entry, &a.source) {
        (Some(e), None) => format!(
            "{} {} from Plinth's catalog ({}).",
            e.name, e.version, e.homepage
        ),
        _ => format!("Service `{}`, added by `plinth add service`.", a.name),
    };
    let namespace = a.namespace.as_deref().or(entry.map(|e| e.namespace));
    Ok(NewService {
        key: &a.name,
        kind,
        source,
        catalog: entry.filter(|_| a.source.is_none()).map(|e| e.name),
        namespace,
        comment,
    })
}
