//! One module per command, each a function from its arguments to an exit code.

mod add;
mod advise;
mod capacity;
mod catalog;
mod ci;
mod diagram;
mod generate;
mod import;
mod init;
mod lifecycle;
mod list;
mod render;
mod schema;
mod show;
mod validate;

use crate::cli::Command;
use crate::ui::Ui;
use crate::{CliError, Exit};
use plinth_core::{Checked, Platform, Resolution, SourceMap};
use std::path::Path;

pub fn run(ui: &Ui, command: Command) -> Result<Exit, CliError> {
    match command {
        Command::Init(a) => init::run(ui, a),
        Command::Validate(a) => validate::run(ui, a),
        Command::Show(a) => show::run(ui, a),
        Command::List(a) => list::run(ui, a),
        Command::Add(a) => add::add(ui, a),
        Command::Remove(a) => add::remove(ui, a),
        Command::Catalog(a) => catalog::run(ui, a),
        Command::Generate(a) => generate::run(ui, a),
        Command::Render(a) => render::run(ui, a),
        Command::Plan(a) => lifecycle::plan(ui, a),
        Command::Apply(a) => lifecycle::apply(ui, a),
        Command::Promote(a) => lifecycle::promote(ui, a),
        Command::Verify(a) => lifecycle::verify(ui, a),
        Command::Record(a) => lifecycle::record(ui, a),
        Command::Destroy(a) => lifecycle::destroy(ui, a),
        Command::Status(a) => lifecycle::status(ui, a),
        Command::Affected(a) => lifecycle::affected(ui, a),
        Command::Unlock(a) => lifecycle::unlock(ui, a),
        Command::Ci(a) => ci::run(ui, a),
        Command::Advise(a) => advise::run(ui, a),
        Command::Capacity(a) => capacity::run(ui, a),
        Command::Diagram(a) => diagram::run(ui, a),
        Command::Import(a) => import::run(ui, a),
        Command::Schema(a) => schema::run(ui, a),
        Command::Completions(a) => schema::completions(ui, a),
    }
}

/// Ends a read command without freeing what it read, one value at a time: the process exits
/// next and the system takes the memory back at once (freeing a fleet's resolution was 4 ms of
/// the 80 `plinth show` took, issue 20). Nothing read holds a resource to release.
pub fn leave<T>(read: T) {
    std::mem::forget(read);
}

/// A platform that read and resolved without errors.
pub struct Valid {
    pub platform: Platform,
    pub resolution: Resolution,
    pub sources: SourceMap,
}

/// Reads and checks the platform in `dir`: warnings are shown, errors end the command.
pub fn load_valid(ui: &Ui, dir: &Path) -> Result<Valid, CliError> {
    let checked = plinth_core::check(dir);
    into_valid(ui, checked)
}

pub fn into_valid(ui: &Ui, checked: Checked) -> Result<Valid, CliError> {
    let files: Vec<&str> = checked
        .sources
        .files()
        .map(|(_, f)| f.name.as_str())
        .collect();
    ui.debug(&format!(
        "read {} file(s): {}",
        files.len(),
        files.join(", ")
    ));
    ui.diagnostics(&checked.sources, checked.diagnostics.iter());
    if checked.has_errors() {
        let n = checked.diagnostics.error_count();
        ui.error(
            &format!(
                "the platform has {n} error{}",
                if n == 1 { "" } else { "s" }
            ),
            Some("fix them, or run `plinth validate` to see them all"),
        );
        return Err(CliError::Reported(Exit::Invalid));
    }
    match (checked.platform, checked.resolution) {
        (Some(platform), Some(resolution)) => Ok(Valid {
            platform,
            resolution,
            sources: checked.sources,
        }),
        _ => Err(CliError::Reported(Exit::Invalid)),
    }
}

/// Checks that `env` is an environment of the platform.
pub fn check_env(p: &Platform, env: &str) -> Result<(), CliError> {
    if p.environments.index(env).is_some() {
        return Ok(());
    }
    let names: Vec<&str> = p.environments.names().collect();
    Err(CliError::refused(
        format!("`{env}` is not an environment of this platform"),
        plinth_core::diagnostic::suggest(env, names.iter().copied()),
    ))
}
