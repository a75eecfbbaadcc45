//! `plinth ci`: write a CI pipeline, or list the roots a CI run fans out over.

use super::{check_env, load_valid};
use crate::cli::{CiCommand, CiMatrixArgs, CiWriteArgs, MatrixOutput};
use crate::ui::Ui;
use crate::{CliError, Exit};
use plinth_core::promote::Repo;
use plinth_core::render::ci::{self, MatrixEntry};

pub fn run(ui: &Ui, cmd: CiCommand) -> Result<Exit, CliError> {
    match cmd {
        CiCommand::Github(a) => write(ui, "github", a),
        CiCommand::Gitlab(a) => write(ui, "gitlab", a),
        CiCommand::Atlantis(a) => write(ui, "atlantis", a),
        CiCommand::Matrix(a) => matrix(ui, a),
    }
}

fn write(ui: &Ui, system: &str, args: CiWriteArgs) -> Result<Exit, CliError> {
    let dir = &args.dir.path();
    let v = load_valid(ui, dir)?;
    let repo = Repo::open(dir).ok();
    let prefix = repo.as_ref().map(|r| r.prefix.clone()).unwrap_or_default();
    let files = ci::pipeline(system, &v.platform, &prefix)?;
    let root = repo
        .as_ref()
        .and_then(|r| r.git.toplevel().ok())
        .unwrap_or_else(|| dir.clone());
    let existing: Vec<String> = files
        .iter()
        .map(|(path, _)| root.join(path))
        .filter(|p| p.exists())
        .map(|p| format!("`{}`", p.display()))
        .collect();
    if !existing.is_empty() && !args.force {
        return Err(CliError::refused(
            format!("{} already exists", existing.join(" and ")),
            Some("pass --force to overwrite".into()),
        ));
    }
    for (path, text) in &files {
        let target = root.join(path);
        plinth_core::fsutil::write_atomic(&target, text.as_bytes())?;
        ui.status(&format!("{} wrote `{}`", ui.green("✓"), target.display()));
    }
    if plinth_core::render::backend::kind(&v.platform.settings.backend) == "local" {
        ui.warn(
            "the platform keeps Terraform state in the `local` backend: every CI job starts from a fresh checkout, so state would be lost between runs and Terraform would create everything again",
            Some("set `[platform.backend]` (s3, gcs, azurerm, pg or remote) before the pipeline runs"),
        );
    }
    ui.status(
        "Set up the credentials and variables listed at the top of the file before the first run.",
    );
    Ok(Exit::Ok)
}

fn matrix(ui: &Ui, args: CiMatrixArgs) -> Result<Exit, CliError> {
    let dir = &args.dir.path();
    let v = load_valid(ui, dir)?;
    let repo = Repo::open(dir)?;
    let (entries, environment) = match (&args.base, &args.env) {
        (Some(base), _) => (
            plinth_core::promote::matrix::review(&repo, dir, &v.platform, base, &args.head)?,
            None,
        ),
        (None, Some(env)) => {
            check_env(&v.platform, env)?;
            (
                plinth_core::promote::matrix::pending(
                    &repo,
                    dir,
                    env,
                    args.promote,
                    args.from_revision.as_deref(),
                )?,
                Some(env.as_str()),
            )
        }
        (None, None) => return Err(CliError::refused("say --base REV or --env ENV", None)),
    };
    match args.output {
        MatrixOutput::Json => ui.json(&serde_json::to_value(&entries).unwrap_or_default()),
        MatrixOutput::Github => ui.data(&github_outputs(&entries)),
        MatrixOutput::Gitlab => ui.data(&ci::child_pipeline(&entries, &args.job, environment)),
    }
    Ok(Exit::Ok)
}

/// `roots=<json>` and `count=<n>`, as GitHub's `$GITHUB_OUTPUT` reads them (one line each: the
/// JSON is compact).
fn github_outputs(entries: &[MatrixEntry]) -> String {
    format!(
        "roots={}\ncount={}\n",
        serde_json::to_string(entries).unwrap_or_else(|_| "[]".into()),
        entries.len()
    )
}
