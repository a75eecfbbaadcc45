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
}

impl Store {
    pub fn new(git: Git) -> Store {
        Store { git }
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
                Err(e) => return Err(engine(e)),
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
        self.git
            .run(&["update-ref", &format!("refs/tags/{name}"), &rec.commit, ""])
            .map_err(engine)?;
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
}
