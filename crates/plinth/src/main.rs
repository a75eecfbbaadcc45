//! `plinth`: a thin command line over `plinth-core`. Parses arguments, calls the library,
//! renders its results and maps outcomes to exit codes scripts can rely on.

mod cli;
mod commands;
mod ui;

use clap::Parser;

/// Plinth allocates many small values (tables, strings) on both cores: mimalloc is markedly
/// faster at that than the system allocator (measured with `plinth-bench scale`). Its settings
/// (Cargo.toml) are measured too: without transparent huge pages and on its v2 layout, the
/// fleet's `show --output json` peaks at 45 MiB instead of 67, at the same speed.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::process::ExitCode;

/// Exit codes: documented in `plinth --help`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Ok = 0,
    /// Invalid input, or a request refused.
    Invalid = 1,
    /// Changes found (`generate --check`, `plan`).
    Changes = 3,
    /// An engine (terraform, kubectl, git) failed.
    Engine = 4,
    /// Stopped by SIGINT (128 + 2): the engine was stopped and the run recorded.
    Interrupted = 130,
    /// Stopped by SIGTERM (128 + 15).
    Terminated = 143,
}

/// A failure to report. Diagnostics of an invalid definition are rendered where found and
/// arrive here as `Reported`.
#[derive(Debug)]
pub enum CliError {
    Reported(Exit),
    Core(plinth_core::Error),
    Message {
        message: String,
        hint: Option<String>,
        exit: Exit,
    },
}

impl From<plinth_core::Error> for CliError {
    fn from(e: plinth_core::Error) -> Self {
        CliError::Core(e)
    }
}

impl From<plinth_core::engine::EngineError> for CliError {
    fn from(e: plinth_core::engine::EngineError) -> Self {
        use plinth_core::engine::EngineError;
        let hint = match &e {
            EngineError::NotFound { .. } => None,
            _ => Some("the engine's own message is above".to_string()),
        };
        CliError::Message {
            message: e.to_string(),
            hint,
            exit: Exit::Engine,
        }
    }
}

impl CliError {
    pub fn refused(message: impl Into<String>, hint: Option<String>) -> CliError {
        CliError::Message {
            message: message.into(),
            hint,
            exit: Exit::Invalid,
        }
    }
}

fn main() -> ExitCode {
    let started = std::time::Instant::now();
    // The main thread is one of the pool's workers rather than waiting idle for them: what it
    // frees after reading the definition (its own allocator heap) is reused by the half of the
    // resolution it then does itself (issue 20: 1 MiB less at the fleet's peak).
    let _ = rayon::ThreadPoolBuilder::new()
        .use_current_thread()
        .build_global();
    let cli = cli::Cli::parse();
    let ui = ui::Ui::new(&cli.global);
    if !cli.global.quiet {
        plinth_core::fsutil::on_lock_wait(|dir| {
            eprintln!(
                "waiting for another plinth command writing `{}` to finish...",
                dir.display()
            );
        });
    }
    let exit = match commands::run(&ui, cli.command) {
        Ok(exit) => exit,
        Err(CliError::Reported(exit)) => exit,
        Err(CliError::Core(plinth_core::Error::Invalid(checked))) => {
            ui.diagnostics(&checked.sources, checked.diagnostics.iter());
            ui.error(
                "the change would make the platform invalid; nothing was written",
                Some("the positions above are in the files as the change would have written them"),
            );
            Exit::Invalid
        }
        Err(CliError::Core(e)) => {
            ui.error(&e.to_string(), e.hint().as_deref());
            Exit::Invalid
        }
        Err(CliError::Message {
            message,
            hint,
            exit,
        }) => {
            ui.error(&message, hint.as_deref());
            exit
        }
    };
    if let Some(kib) = peak_memory_kib() {
        ui.debug(&format!("peak memory: {kib} KiB"));
    }
    // What the command took inside the process (the system adds starting and ending it).
    ui.debug(&format!(
        "took {:.1} ms",
        started.elapsed().as_secs_f64() * 1000.0
    ));
    ExitCode::from(exit as u8)
}

/// The process's peak resident memory (Linux: `VmHWM`), for `-v` and the test that keeps
/// large platforms' memory in check (issue 20).
fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}
