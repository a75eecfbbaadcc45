//! Engines that can be stopped cleanly: SIGINT and SIGTERM reach them, and Plinth waits.
//!
//! An engine that changes infrastructure (terraform) runs in a process group of its own, so a
//! Ctrl-C on the terminal does not reach it directly (Terraform takes a second interrupt for
//! "stop now, lose state"). Once [`install`] was called, Plinth catches SIGINT and SIGTERM itself
//! and forwards each to every engine group it started — Terraform then stops gracefully,
//! releases its state lock and exits — and the caller records the run as interrupted and
//! releases its own lock. [`interrupted`] says whether (and by which signal) to stop.
//!
//! SIGKILL cannot be caught: the engine group keeps running, its provider processes with it,
//! until Terraform finishes. Each group is noted (process group id, start time, program) in
//! the environment's lock, so `plinth unlock` can find and stop what a killed Plinth left.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Mutex, Once};

/// An engine process group Plinth started.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Group {
    /// The process group id (the leader's pid).
    pub pgid: u32,
    /// The leader's start time, in clock ticks since boot (`/proc/<pid>/stat`): tells the group
    /// from a later one that reuses the id.
    pub start: u64,
    /// The program's file name (`terraform`, `tofu`).
    pub program: String,
}

static SIGNAL: AtomicI32 = AtomicI32::new(0);
static GROUPS: Mutex<Vec<Group>> = Mutex::new(Vec::new());
static INSTALL: Once = Once::new();
/// Told whenever the set of running groups changes (the lock notes them).
pub type Listener = Box<dyn Fn(&[Group]) + Send>;
static LISTENER: Mutex<Option<Listener>> = Mutex::new(None);

/// From now on, SIGINT and SIGTERM no longer end Plinth: they are forwarded to the engines and
/// remembered for [`interrupted`]. For commands that run engines; call once, early.
pub fn install() {
    INSTALL.call_once(|| {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
            return;
        };
        std::thread::spawn(move || {
            for sig in signals.forever() {
                SIGNAL.store(sig, Ordering::SeqCst);
                forward(sig);
            }
        });
    });
}

/// The signal that asked Plinth to stop, if one did.
pub fn interrupted() -> Option<i32> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// Sets (or clears) what is told about running engine groups.
pub fn set_listener(l: Option<Listener>) {
    if let Ok(mut slot) = LISTENER.lock() {
        *slot = l;
    }
}

fn notify(groups: &[Group]) {
    if let Ok(slot) = LISTENER.lock()
        && let Some(l) = slot.as_ref()
    {
        l(groups);
    }
}

fn to_signal(sig: i32) -> rustix::process::Signal {
    if sig == signal_hook::consts::SIGTERM {
        rustix::process::Signal::TERM
    } else {
        rustix::process::Signal::INT
    }
}

fn forward(sig: i32) {
    let groups = GROUPS.lock().map(|g| g.clone()).unwrap_or_default();
    for g in groups {
        signal_group(g.pgid, to_signal(sig));
    }
}

/// Sends `sig` to process group `pgid`; false when no process of it is left.
pub fn signal_group(pgid: u32, sig: rustix::process::Signal) -> bool {
    let Some(pid) = i32::try_from(pgid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return false;
    };
    rustix::process::kill_process_group(pid, sig).is_ok()
}

/// Whether any process of group `pgid` is alive.
pub fn group_alive(pgid: u32) -> bool {
    i32::try_from(pgid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
        .is_some_and(|pid| rustix::process::test_kill_process_group(pid).is_ok())
}

/// A process's start time in clock ticks since boot, and its process group (`/proc`).
pub fn proc_stat(pid: u32) -> Option<(u64, u32)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid pgrp ...`: the name may hold spaces and parentheses.
    let rest = &text[text.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let pgrp = fields.get(2)?.parse().ok()?;
    let start = fields.get(19)?.parse().ok()?;
    Some((start, pgrp))
}

/// The live processes of group `g` started no earlier than its leader (so not a later group
/// that reuses the id), and whether one of them is the engine `g` names.
pub fn members(g: &Group) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut engine_seen = false;
    for e in entries.filter_map(|e| e.ok()) {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let Some((start, pgrp)) = proc_stat(pid) else {
            continue;
        };
        if pgrp != g.pgid || start < g.start {
            continue;
        }
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let cmd = String::from_utf8_lossy(&cmd);
        engine_seen |=
            cmd.contains(&g.program) || cmd.contains("terraform") || cmd.contains("tofu");
        out.push(pid);
    }
    if engine_seen { out } else { Vec::new() }
}

/// Runs `c` to completion in a process group of its own, registered for signal forwarding.
/// Its output is collected as [`super::run`] does.
pub fn run(
    mut c: std::process::Command,
    allowed: &[i32],
) -> Result<super::Output, super::EngineError> {
    use std::os::unix::process::CommandExt;
    let command = super::describe(&c);
    c.process_group(0);
    let program = std::path::Path::new(c.get_program())
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let child = c.spawn().map_err(|source| super::EngineError::Spawn {
        command: command.clone(),
        source,
    })?;
    let pid = child.id();
    let group = Group {
        pgid: pid,
        start: proc_stat(pid).map_or(0, |(s, _)| s),
        program,
    };
    if let Ok(mut g) = GROUPS.lock() {
        g.push(group);
        notify(&g);
    }
    // A signal that came before the group was registered is forwarded now.
    if let Some(sig) = interrupted() {
        signal_group(pid, to_signal(sig));
    }
    let out = child.wait_with_output();
    if let Ok(mut g) = GROUPS.lock() {
        g.retain(|x| x.pgid != pid);
        notify(&g);
    }
    let out = out.map_err(|source| super::EngineError::Spawn {
        command: command.clone(),
        source,
    })?;
    super::finish(command, out, allowed)
}

/// Runs `c` in a process group of its own (forwarded signals, like [`run`]) for at most
/// `timeout`: then the group is stopped (SIGTERM, SIGKILL five seconds later) and the run fails.
pub fn run_timeout(
    mut c: std::process::Command,
    timeout: std::time::Duration,
) -> Result<super::Output, super::EngineError> {
    use std::io::Read;
    use std::os::unix::process::CommandExt;
    let command = super::describe(&c);
    c.process_group(0);
    let mut child = c.spawn().map_err(|source| super::EngineError::Spawn {
        command: command.clone(),
        source,
    })?;
    let pid = child.id();
    if let Ok(mut g) = GROUPS.lock() {
        g.push(Group {
            pgid: pid,
            start: proc_stat(pid).map_or(0, |(s, _)| s),
            program: String::new(),
        });
    }
    let reader = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = reader(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = reader(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let deadline = std::time::Instant::now() + timeout;
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if std::time::Instant::now() >= deadline && !timed_out => {
                timed_out = true;
                signal_group(pid, rustix::process::Signal::TERM);
                let grace = std::time::Instant::now() + std::time::Duration::from_secs(5);
                while group_alive(pid) && std::time::Instant::now() < grace {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                signal_group(pid, rustix::process::Signal::KILL);
            }
            Ok(None) => std::thread::sleep(std::time::Duration::from_millis(50)),
            Err(_) => break None,
        }
    };
    if let Ok(mut g) = GROUPS.lock() {
        g.retain(|x| x.pgid != pid);
    }
    let stdout = String::from_utf8_lossy(&out.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&err.join().unwrap_or_default()).into_owned();
    match status {
        Some(s) if s.success() && !timed_out => Ok(super::Output {
            status: 0,
            stdout,
            stderr,
        }),
        s => Err(super::EngineError::Failed {
            command,
            status: if timed_out {
                format!("stopped after {} s", timeout.as_secs())
            } else {
                s.and_then(|s| s.code())
                    .map_or_else(|| "killed by a signal".into(), |c| format!("exit {c}"))
            },
            stderr,
            stdout,
        }),
    }
}
