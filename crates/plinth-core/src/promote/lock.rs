//! One apply or promotion per environment at a time.
//!
//! The lock is a file created exclusively (by `link(2)`, with its content) in the repository's git directory, holding
//! who took it. It outlives a crashed process on purpose: an interrupted apply must be looked at,
//! not silently retried. A lock whose process is gone (same host, no such pid) is reported as
//! stale and can be broken explicitly with `plinth unlock`. Terraform's own state locking stays
//! on underneath. The lock also names the engine process groups running for it, so `unlock`
//! can stop what a killed Plinth left running.

use crate::error::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Who holds a lock.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Holder {
    pub pid: u32,
    pub host: String,
    pub user: String,
    pub command: String,
    pub started: String,
    /// Engine process groups running for the holder (see [`crate::engine::supervise`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub engines: Vec<crate::engine::supervise::Group>,
}

impl Holder {
    pub fn current(command: &str) -> Holder {
        Holder {
            pid: std::process::id(),
            host: hostname(),
            user: std::env::var("USER")
                .or_else(|_| std::env::var("LOGNAME"))
                .unwrap_or_else(|_| "unknown".into()),
            command: command.to_string(),
            started: super::record::now(),
            engines: Vec::new(),
        }
    }

    /// The holder's process still runs here (its pid exists on this host).
    pub fn is_alive_here(&self) -> bool {
        self.host == hostname() && Path::new(&format!("/proc/{}", self.pid)).exists()
    }

    /// The holder's process is gone: same host, and no such process.
    pub fn is_stale(&self) -> bool {
        self.host == hostname()
            && !Path::new(&format!("/proc/{}", self.pid)).exists()
            && Path::new("/proc/self").exists()
    }

    pub fn describe(&self) -> String {
        format!(
            "`{}` (pid {} on {} by {}, since {})",
            self.command, self.pid, self.host, self.user, self.started
        )
    }
}

pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "localhost".into())
}

/// A held lock, released when dropped.
#[derive(Debug)]
pub struct Guard {
    path: PathBuf,
    holder: Holder,
}

impl Guard {
    /// What keeps the lock's list of engine groups current while they run: the file is
    /// replaced whole (a reader sees the old list or the new one).
    pub fn engine_listener(&self) -> crate::engine::supervise::Listener {
        let path = self.path.clone();
        let holder = self.holder.clone();
        Box::new(move |groups| {
            let h = Holder {
                engines: groups.to_vec(),
                ..holder.clone()
            };
            let json = serde_json::to_vec_pretty(&h).unwrap_or_default();
            let _ = crate::fsutil::write_atomic(&path, &json);
        })
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The lock file of `env`. The name becomes a path: anything but a valid environment name
/// (`../../x`, `a/b`) is refused before it is used.
fn path(git_dir: &Path, env: &str) -> Result<PathBuf> {
    crate::environment::check_name(env).map_err(|msg| Error::refused(msg, None))?;
    Ok(git_dir
        .join("plinth")
        .join("locks")
        .join(format!("{env}.lock")))
}

/// The current holder of `env`'s lock, if any.
pub fn holder(git_dir: &Path, env: &str) -> Option<Holder> {
    let text = std::fs::read_to_string(path(git_dir, env).ok()?).ok()?;
    serde_json::from_str(&text).ok().or_else(|| {
        Some(Holder {
            pid: 0,
            host: "?".into(),
            user: "?".into(),
            command: format!("unreadable lock: {}", text.trim()),
            started: "?".into(),
            engines: Vec::new(),
        })
    })
}

/// Takes `env`'s lock, or says who holds it.
pub fn acquire(git_dir: &Path, env: &str, command: &str) -> Result<Guard> {
    let p = path(git_dir, env)?;
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
    }
    let holder = Holder::current(command);
    // The lock appears with its content or not at all: written and synced under a private name,
    // then hard-linked into place (which, like `O_EXCL`, fails when the lock exists). A crash
    // between creating and writing would otherwise leave an empty lock naming nobody.
    let tmp = p.with_extension(format!("lock.{}.tmp", std::process::id()));
    let json = serde_json::to_vec_pretty(&holder).unwrap_or_default();
    let written = std::fs::File::create(&tmp).and_then(|mut f| {
        f.write_all(&json)?;
        f.sync_all()
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io("write", &tmp, e));
    }
    let linked = std::fs::hard_link(&tmp, &p);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            crate::fsutil::sync_dir(p.parent().unwrap_or(git_dir));
            Ok(Guard { path: p, holder })
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let other = self::holder(git_dir, env);
            let (who, stale) = other.as_ref().map_or(("someone".to_string(), false), |h| {
                (h.describe(), h.is_stale())
            });
            let hint = if stale {
                format!(
                    "that process is gone: the apply was interrupted. Check `plinth status` and the Terraform state, then run `plinth unlock --env {env}`"
                )
            } else {
                format!(
                    "wait for it to finish; if it is stuck, stop it, then run `plinth unlock --env {env}`"
                )
            };
            Err(Error::refused(
                format!(
                    "environment `{env}` is locked by {who}{}",
                    if stale { " (stale)" } else { "" }
                ),
                Some(hint),
            ))
        }
        Err(e) => Err(Error::io("create", &p, e)),
    }
}

/// Breaks `env`'s lock; returns who held it.
pub fn break_lock(git_dir: &Path, env: &str) -> Result<Option<Holder>> {
    let p = path(git_dir, env)?;
    let h = holder(git_dir, env);
    crate::fsutil::remove_file(&p)?;
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_and_stale_locks_are_detected() {
        let tmp = tempfile::tempdir().expect("tmp");
        let g = acquire(tmp.path(), "ops", "plinth apply --env ops").expect("first");
        let err = acquire(tmp.path(), "ops", "plinth apply --env ops").expect_err("second");
        assert!(
            err.to_string()
                .contains("locked by `plinth apply --env ops`"),
            "{err}"
        );
        assert!(
            acquire(tmp.path(), "apps", "x").is_ok(),
            "other environments are independent"
        );
        drop(g);
        let _again = acquire(tmp.path(), "ops", "x").expect("released");
        // A holder whose process no longer exists.
        let dead = Holder {
            pid: u32::MAX - 1,
            ..Holder::current("plinth apply --env apps")
        };
        std::fs::write(
            path(tmp.path(), "apps-prod").expect("path"),
            serde_json::to_string(&dead).expect("json"),
        )
        .expect("w");
        let err = acquire(tmp.path(), "apps-prod", "x").expect_err("stale but held");
        assert!(err.to_string().contains("(stale)"), "{err}");
        assert_eq!(
            break_lock(tmp.path(), "apps-prod")
                .expect("break")
                .map(|h| h.pid),
            Some(u32::MAX - 1)
        );
        assert!(acquire(tmp.path(), "apps-prod", "x").is_ok());
    }

    #[test]
    fn a_lock_is_never_seen_without_its_holder() {
        let tmp = tempfile::tempdir().expect("tmp");
        let _g = acquire(tmp.path(), "ops", "plinth apply --env ops").expect("take");
        let h = holder(tmp.path(), "ops").expect("held");
        assert_eq!(h.pid, std::process::id());
        assert_eq!(h.command, "plinth apply --env ops");
        // Nothing but the lock is left in the directory.
        let names: Vec<_> = std::fs::read_dir(
            path(tmp.path(), "ops")
                .expect("path")
                .parent()
                .expect("dir"),
        )
        .expect("read")
        .map(|e| e.expect("entry").file_name())
        .collect();
        assert_eq!(names, ["ops.lock"]);
    }
}
