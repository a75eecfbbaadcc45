//! The engines Plinth drives: terraform (or OpenTofu), kubectl (kustomize) and git.
//!
//! Every external command is run the same way: no shell, arguments as a vector, stdin closed,
//! and a minimal environment — `PATH`, `HOME`, `TMPDIR`, `LANG=C` and what the engine needs
//! (each engine documents its own additions) — so nothing from the caller's shell redirects or
//! hangs the child. A failure carries the command, its exit status and its stderr.

pub mod git;
pub mod kubectl;
pub mod supervise;
pub mod terraform;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// An external command that failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("`{program}` was not found{}", hint.as_ref().map(|h| format!(": {h}")).unwrap_or_default())]
    NotFound {
        program: String,
        hint: Option<String>,
    },
    #[error("cannot run `{command}`: {source}")]
    Spawn {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{command}` failed ({status}):\n{stderr}")]
    Failed {
        command: String,
        status: String,
        stderr: String,
        stdout: String,
    },
}

/// What a finished command printed.
#[derive(Debug, Clone)]
pub struct Output {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

/// The variables every engine gets from the caller's environment; everything else is dropped.
pub const PASSTHROUGH: &[&str] = &[
    "PATH",
    "HOME",
    "TMPDIR",
    "USER",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "NO_PROXY",
    // The Go runtime's memory settings of terraform, its providers and kubectl (Go programs):
    // they change when memory is collected, not what an engine does.
    "GOGC",
    "GOMEMLIMIT",
];

/// A command with the minimal environment, ready to have engine-specific variables added.
pub fn command<K: AsRef<std::ffi::OsStr>>(
    program: &Path,
    args: &[&str],
    cwd: Option<&Path>,
    env: &[(K, OsString)],
) -> Command {
    let mut c = Command::new(program);
    c.args(args)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for k in PASSTHROUGH {
        if let Some(v) = std::env::var_os(k) {
            c.env(k, v);
        }
    }
    c.env("LANG", "C").env("LC_ALL", "C");
    for (k, v) in env {
        c.env(k, v);
    }
    if let Some(dir) = cwd {
        c.current_dir(dir);
    }
    c
}

/// Runs a command to completion; a non-zero exit is an error unless `allowed` contains it.
pub fn run(mut c: Command, allowed: &[i32]) -> Result<Output, EngineError> {
    let command = describe(&c);
    let out = c.output().map_err(|source| EngineError::Spawn {
        command: command.clone(),
        source,
    })?;
    finish(command, out, allowed)
}

/// A finished command's output, or the failure it was.
fn finish(
    command: String,
    out: std::process::Output,
    allowed: &[i32],
) -> Result<Output, EngineError> {
    let status = out.status.code().unwrap_or(-1);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if status == 0 || allowed.contains(&status) {
        Ok(Output {
            status,
            stdout,
            stderr,
        })
    } else {
        let status = out
            .status
            .code()
            .map_or_else(|| "killed by a signal".to_string(), |c| format!("exit {c}"));
        Err(EngineError::Failed {
            command,
            status,
            stderr,
            stdout,
        })
    }
}

/// `program arg arg` for messages.
pub fn describe(c: &Command) -> String {
    std::iter::once(c.get_program().to_string_lossy().into_owned())
        .chain(c.get_args().map(|a| a.to_string_lossy().into_owned()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The first executable named `name` on `PATH`.
pub fn which(name: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|p| p.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
