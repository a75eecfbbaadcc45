//! `plinth add` and `plinth remove`: edits that keep comments, checked before they are written.

use crate::cli::{AddCommand, RemoveCommand};
use crate::ui::Ui;
use crate::{CliError, Exit};
use plinth_core::edit::{self, Edit, NewCluster, NewPool, Position};
use plinth_core::platform::Platform;
use std::path::Path;

/// The platform as written, even with warnings; errors stop the edit unless it fixes nothing.
fn platform(ui: &Ui, dir: &Path) -> Result<Platform, CliError> {
    let loaded = plinth_core::load::load(dir);
    match loaded.platform {
        Some(p) => Ok(p),
        None => {
            ui.diagnostics(&loaded.sources, loaded.diagnostics.iter());
            Err(CliError::Reported(Exit::Invalid))
        }
    }
}

fn apply(ui: &Ui, dir: &Path, edit: Edit) -> Result<Exit, CliError> {
    let checked = edit::commit(dir, &edit)?;
    for s in &edit.summary {
        ui.status(&format!("{} {s}", ui.green("✓")));
    }
    ui.diagnostics(&checked.sources, checked.diagnostics.iter());
    Ok(Exit::Ok)
}

pub fn add(ui: &Ui, cmd: AddCommand) -> Result<Exit, CliError> {
    let dir = match &cmd {
        AddCommand::Cluster(a) => a.dir.path(),
        AddCommand::NodePool(a) => a.dir.path(),
        AddCommand::Service(a) => a.dir.path(),
        AddCommand::Environment(a) => a.dir.path(),
    };
    // Held from reading the platform to writing it: concurrent edits never lose one another.
    let _lock = edit::lock(&dir)?;
    match cmd {
        AddCommand::Cluster(a) => {
            let dir = a.dir.path();
            let p = platform(ui, &dir)?;
            let provider = plinth_core::provider::by_id(&a.provider).ok_or_else(|| {
                CliError::refused(format!("unknown provider `{}`", a.provider), None)
            })?;
            let region = a
                .region
                .as_deref()
                .unwrap_or(provider.scaffold.example_region);
            let e = edit::add_cluster(
                &p,
                &NewCluster {
                    key: &a.key,
                    provider,
                    region,
                    name_prefix: a.name_prefix.as_deref(),
                },
            )?;
            apply(ui, &dir, e)
        }
        AddCommand::NodePool(a) => {
            let dir = a.dir.path();
            let p = platform(ui, &dir)?;
            let req = NewPool {
                instance_type: a.instance_type,
                min: a.min,
                max: a.max,
                taints: a.taints,
                labels: a.labels,
            };
            let e = edit::add_node_pool(&p, &a.cluster, &a.pool, &req)?;
            apply(ui, &dir, e)
        }
        AddCommand::Service(a) => {
            let dir = a.dir.path();
            let p = platform(ui, &dir)?;
            let req = super::catalog::new_service(&a)?;
            let e = edit::add_service(&p, &a.cluster, &req)?;
            apply(ui, &dir, e)
        }
        AddCommand::Environment(a) => {
            let dir = a.dir.path();
            let p = platform(ui, &dir)?;
            let pos = match (a.after, a.before) {
                (Some(x), _) => Position::After(x),
                (_, Some(x)) => Position::Before(x),
                _ => Position::End,
            };
            let e = edit::add_environment(&p, &a.name, &pos)?;
            apply(ui, &dir, e)
        }
    }
}

pub fn remove(ui: &Ui, cmd: RemoveCommand) -> Result<Exit, CliError> {
    let dir = match &cmd {
        RemoveCommand::Cluster { dir, .. }
        | RemoveCommand::NodePool { dir, .. }
        | RemoveCommand::Service { dir, .. }
        | RemoveCommand::Environment { dir, .. } => dir.path(),
    };
    let _lock = edit::lock(&dir)?;
    match cmd {
        RemoveCommand::Cluster { key, dir } => {
            let dir = dir.path();
            let p = platform(ui, &dir)?;
            apply(ui, &dir, edit::remove_cluster(&p, &key)?)
        }
        RemoveCommand::NodePool { cluster, pool, dir } => {
            let dir = dir.path();
            let p = platform(ui, &dir)?;
            apply(ui, &dir, edit::remove_node_pool(&p, &cluster, &pool)?)
        }
        RemoveCommand::Service {
            service,
            cluster,
            dir,
        } => {
            let dir = dir.path();
            let p = platform(ui, &dir)?;
            apply(ui, &dir, edit::remove_service(&p, &cluster, &service)?)
        }
        RemoveCommand::Environment { name, dir } => {
            let dir = dir.path();
            let p = platform(ui, &dir)?;
            apply(ui, &dir, edit::remove_environment(&p, &name)?)
        }
    }
}
