//! `plinth render`: the manifests an environment's services will apply, rendered by the real
//! `kubectl kustomize` from the generated overlays.

use super::{check_env, load_valid};
use crate::cli::RenderArgs;
use crate::ui::Ui;
use crate::{CliError, Exit};
use plinth_core::engine::kubectl;
use plinth_core::generate;
use plinth_core::render::kustomize::overlay_dir;
use plinth_core::service::Source;

pub fn run(ui: &Ui, args: RenderArgs) -> Result<Exit, CliError> {
    let v = load_valid(ui, &args.dir.path())?;
    check_env(&v.platform, &args.env)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| args.dir.path().join("generated"));
    let tree = generate::render_all(&v.platform, &v.resolution, &out)?;
    let stale: Vec<String> = generate::changes(&out, &tree)?
        .into_iter()
        .map(|c| c.path)
        .filter(|p| p.starts_with("services/"))
        .collect();
    if !stale.is_empty() {
        return Err(CliError::refused(
            format!(
                "the generated overlays in `{}` are not current ({} file(s) differ)",
                out.display(),
                stale.len()
            ),
            Some(format!(
                "run `plinth generate {}` first",
                args.dir.path().display()
            )),
        ));
    }
    let Some(resolved) = v.resolution.get(&args.env) else {
        return Ok(Exit::Ok);
    };
    if let Some(c) = &args.cluster
        && !resolved.clusters.contains_key(c)
    {
        return Err(CliError::refused(
            format!("there is no cluster `{c}`"),
            plinth_core::diagnostic::suggest(c, resolved.clusters.keys().map(String::as_str)),
        ));
    }
    if let Some(svc) = &args.service {
        let services: std::collections::BTreeSet<&str> = resolved
            .clusters
            .values()
            .filter(|c| args.cluster.as_ref().is_none_or(|k| *k == c.key))
            .flat_map(|c| c.services.keys().map(String::as_str))
            .collect();
        if !services.contains(svc.as_str()) {
            let scope = args
                .cluster
                .as_ref()
                .map_or_else(|| "any cluster".to_string(), |c| format!("cluster `{c}`"));
            return Err(CliError::refused(
                format!("there is no service `{svc}` in {scope} of `{}`", args.env),
                plinth_core::diagnostic::suggest(svc, services.iter().copied())
                    .or_else(|| Some("this environment's clusters have no services".into())),
            ));
        }
    }
    let kubectl = kubectl::find()?;
    ui.debug(&format!("kubectl: {}", kubectl.display()));
    let mut rendered = 0;
    for c in resolved
        .clusters
        .values()
        .filter(|c| args.cluster.as_ref().is_none_or(|k| *k == c.key))
    {
        for s in c
            .services
            .values()
            .filter(|s| args.service.as_ref().is_none_or(|k| *k == s.key))
        {
            let dir = out.join(overlay_dir(&c.key, &args.env, &s.key));
            let helm = matches!(s.source, Source::Helm { .. });
            let manifests = kubectl::kustomize(&kubectl, &dir, helm)?;
            ui.data(&format!(
                "# {} — service `{}` of cluster `{}` in `{}`\n---\n{manifests}",
                c.meta.name, s.key, c.key, args.env
            ));
            rendered += 1;
        }
    }
    if rendered == 0 {
        ui.status("nothing to render: no service matches");
    }
    Ok(Exit::Ok)
}
