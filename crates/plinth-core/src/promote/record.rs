//! The promotion record, kept in git so it travels with `git push`/`fetch` and needs no server.
//!
//! Each apply attempt appends a record: a commit object whose tree holds `record.json` (what was
//! applied, where, when, by which engine, and the outcome) and `resolved.json` (the resolved
//! environment, for the next platform-level plan), whose parent is the applied commit, tagged
//! `plinth/<environment>/<sequence>`. Tags are created with compare-and-swap (`update-ref` with
//! an empty old value), so concurrent writers never overwrite each other and sequence numbers
//! never repeat. Records are never moved or deleted: an interrupted apply leaves a `started`
//! record without its outcome.

use crate::engine::git::Git;
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Started,
    Succeeded,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Record {
    pub environment: String,
    #[serde(default)]
    pub sequence: u64,
    /// The applied commit.
    pub commit: String,
    /// Content hash of the code base (all environments) at that commit.
    pub content_hash: String,
    pub outcome: Outcome,
    pub time: String,
    pub engine: String,
    pub plinth: String,
    pub user: String,
    pub host: String,
    /// How it got there: `apply` or `promote from <env>`.
    pub via: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

const PREFIX: &str = "refs/tags/plinth";

/// The record of one repository.
#[derive(Debug, Clone)]
pub struct Store {
    pub git: Git,
    /// The repository's (common) git directory, where git keeps its ref locks.
    pub git_dir: PathBuf,
}

impl Store {
    pub fn new(git: Git, git_dir: PathBuf) -> Store {
        Store { git, git_dir }
    }

    /// Locks git left on `env`'s record refs: a process killed inside `git update-ref` leaves
    /// `<ref>.lock`, and git then refuses that ref until the file is removed.
    pub fn ref_locks(&self, env: &str) -> Vec<PathBuf> {
        let mut found = Vec::new();
        let record = self.git_dir.join(PREFIX).join(env);
        let tags = self.git_dir.join("refs/tags");
        let compat = format!("{env}-deploy-");
        for (dir, wanted) in [(&record, None), (&tags, Some(compat.as_str()))] {
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            for entry in entries.filter_map(|e| e.ok()) {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.ends_with(".lock") && wanted.is_none_or(|w| name.starts_with(w)) {
                    found.push(entry.path());
                }
            }
        }
        found.sort();
        found
    }

    /// Why `update-ref` of `name` failed, when git's own lock on it is the reason.
    fn locked_ref(&self, name: &str, env: &str) -> Option<Error> {
        let lock = self.git_dir.join(format!("{name}.lock"));
        lock.exists().then(|| locked(&lock, env))
    }

    /// Every record of `env`, oldest first.
    pub fn records(&self, env: &str) -> Result<Vec<Record>> {
        let refs = self
            .git
            .out(&[
                "for-each-ref",
                "--format=%(refname)",
                &format!("{PREFIX}/{env}/"),
            ])
            .map_err(engine)?;
        let mut out = Vec::new();
        for r in refs.lines().filter(|l| !l.is_empty()) {
            let Ok(text) = self.git.out(&["show", &format!("{r}:record.json")]) else {
                continue;
            };
            if let Ok(mut rec) = serde_json::from_str::<Record>(&text) {
                rec.sequence = r
                    .rsplit('/')
                    .next()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(rec.sequence);
                out.push(rec);
            }
        }
        out.sort_by_key(|r| r.sequence);
        Ok(out)
    }

    pub fn latest(&self, env: &str) -> Result<Option<Record>> {
        Ok(self.records(env)?.pop())
    }

    pub fn latest_success(&self, env: &str) -> Result<Option<Record>> {
        Ok(self
            .records(env)?
            .into_iter()
            .rev()
            .find(|r| r.outcome == Outcome::Succeeded))
    }

    /// The resolved environment stored with a record.
    pub fn resolved(&self, r: &Record) -> Option<serde_json::Value> {
        let text = self
            .git
            .out(&[
                "show",
                &format!("{}:resolved.json", tag(&r.environment, r.sequence)),
            ])
            .ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Appends a record; its sequence number is assigned here.
    pub fn append(&self, mut rec: Record, resolved: &serde_json::Value) -> Result<Record> {
        let resolved_blob = self.blob(&serde_json::to_vec_pretty(resolved).unwrap_or_default())?;
        let mut next = self
            .records(&rec.environment)?
            .last()
            .map_or(1, |r| r.sequence + 1);
        for _ in 0..32 {
            rec.sequence = next;
            // The sequence is part of the record, so the blob is written per attempt.
            let record_blob = self.blob(&serde_json::to_vec_pretty(&rec).unwrap_or_default())?;
            let tree = self
                .git
                .with_input(&["mktree"], format!("100644 blob {record_blob}\trecord.json\n100644 blob {resolved_blob}\tresolved.json\n").as_bytes())
                .map_err(engine)?;
            let outcome = match rec.outcome {
                Outcome::Started => "started",
                Outcome::Succeeded => "succeeded",
                Outcome::Failed => "failed",
            };
            let message = format!(
                "plinth: {} of {} to {}: {outcome}\n\n{}",
                rec.via,
                short(&rec.commit),
                rec.environment,
                serde_json::to_string_pretty(&rec).unwrap_or_default()
            );
            let commit = self.commit_tree(&tree, &rec.commit, &message)?;
            let name = tag(&rec.environment, next);
            match self.git.run(&["update-ref", &name, &commit, ""]) {
                Ok(_) => return Ok(rec),
                Err(_) if self.git.resolve(&name).is_ok() => next += 1,
                Err(e) => {
                    return Err(self
                        .locked_ref(&name, &rec.environment)
                        .unwrap_or_else(|| engine(e)));
                }
            }
        }
        Err(Error::refused(
            format!(
                "could not append to the record of `{}`: too many concurrent writers",
                rec.environment
            ),
            None,
        ))
    }

    /// Lightweight tags in Kubestack's style (`<env>-deploy-<sequence>`) on the applied commit.
    pub fn compat_tag(&self, rec: &Record) -> Result<String> {
        let name = format!("{}-deploy-{}", rec.environment, rec.sequence);
        let full = format!("refs/tags/{name}");
        self.git
            .run(&["update-ref", &full, &rec.commit, ""])
            .map_err(|e| {
                self.locked_ref(&full, &rec.environment)
                    .unwrap_or_else(|| engine(e))
            })?;
        Ok(name)
    }

    fn blob(&self, bytes: &[u8]) -> Result<String> {
        self.git
            .with_input(&["hash-object", "-w", "--stdin"], bytes)
            .map_err(engine)
    }

    fn commit_tree(&self, tree: &str, parent: &str, message: &str) -> Result<String> {
        // An identity is needed; fall back to Plinth's own where the repository has none.
        let has_identity = self
            .git
            .out(&["config", "user.email"])
            .is_ok_and(|e| !e.is_empty())
            || std::env::var_os("GIT_AUTHOR_EMAIL").is_some();
        let mut args = Vec::new();
        if !has_identity {
            args.extend([
                "-c",
                "user.name=Plinth",
                "-c",
                "user.email=plinth@localhost",
            ]);
        }
        args.extend(["commit-tree", tree, "-p", parent, "-F", "-"]);
        self.git
            .with_input(&args, message.as_bytes())
            .map_err(engine)
    }
}

fn locked(lock: &Path, env: &str) -> Error {
    Error::refused(
        format!(
            "the record of `{env}` cannot be written: git's lock `{}` is left from an interrupted run",
            lock.display()
        ),
        Some(format!(
            "if no plinth or git process is running here, run `plinth unlock --env {env}`"
        )),
    )
}

pub fn tag(env: &str, seq: u64) -> String {
    format!("{PREFIX}/{env}/{seq:06}")
}

pub fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}

fn engine(e: crate::engine::EngineError) -> Error {
    Error::refused(format!("git: {e}"), None)
}

/// The current time as RFC 3339 UTC (`PLINTH_NOW` overrides it, for reproducible tests).
pub fn now() -> String {
    if let Ok(t) = std::env::var("PLINTH_NOW") {
        return t;
    }
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    rfc3339(secs)
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (civil-from-days, proleptic Gregorian).
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_000_000), "2026-11-18T11:06:40Z");
    }

    /// Regression: a run killed inside `git update-ref` leaves `<ref>.lock`; the next append
    /// failed with git's raw message. It now says what happened and how to recover, and
    /// `Repo::unlock` removes exactly the record's leftover locks.
    #[test]
    fn a_ref_lock_left_by_a_killed_run_is_reported_and_removed_by_unlock() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path();
        let git = Git::new(dir).expect("git");
        git.run(&["init", "-q", "-b", "main"]).expect("init");
        std::fs::write(dir.join("plinth.toml"), "# platform\n").expect("write");
        git.run(&["add", "-A"]).expect("add");
        git.run(&[
            "-c",
            "user.name=T",
            "-c",
            "user.email=t@example.com",
            "commit",
            "-q",
            "-m",
            "p",
        ])
        .expect("commit");
        let repo = crate::promote::Repo::open(dir).expect("repo");
        let rec = Record {
            environment: "ops".into(),
            sequence: 0,
            commit: git.resolve("HEAD").expect("head"),
            content_hash: "sha256:0".into(),
            outcome: Outcome::Started,
            time: now(),
            engine: "terraform".into(),
            plinth: crate::VERSION.into(),
            user: "t".into(),
            host: "h".into(),
            via: "apply".into(),
            error: None,
        };
        let first = repo
            .store
            .append(rec.clone(), &serde_json::json!({}))
            .expect("first append");
        assert_eq!(first.sequence, 1);
        // What a kill between git's lock and its rename leaves, on the next record's ref and on
        // a compat tag; another environment's lock is not ours to remove.
        let tags = repo.git_dir.join("refs/tags");
        std::fs::write(repo.git_dir.join(format!("{}.lock", tag("ops", 2))), "").expect("lock");
        std::fs::write(tags.join("ops-deploy-2.lock"), "").expect("lock");
        std::fs::create_dir_all(tags.join("plinth/apps")).expect("mkdir");
        std::fs::write(tags.join("plinth/apps/000001.lock"), "").expect("lock");

        let err = repo
            .store
            .append(rec.clone(), &serde_json::json!({}))
            .expect_err("locked");
        let text = format!("{err:?}");
        assert!(
            text.contains("interrupted run") && text.contains("plinth unlock --env ops"),
            "{text}"
        );
        let done = repo.unlock("ops").expect("unlock");
        assert!(done.holder.is_none());
        assert_eq!(
            done.ref_locks,
            [
                repo.git_dir.join("refs/tags/ops-deploy-2.lock"),
                repo.git_dir.join(format!("{}.lock", tag("ops", 2))),
            ]
        );
        assert!(tags.join("plinth/apps/000001.lock").exists());
        let second = repo
            .store
            .append(rec, &serde_json::json!({}))
            .expect("append after unlock");
        assert_eq!(second.sequence, 2);
        assert_eq!(repo.store.compat_tag(&second).expect("tag"), "ops-deploy-2");
    }
}
