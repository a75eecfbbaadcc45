//! The promotion record, kept in git so it travels with `git push`/`fetch` and needs no server.
//!
//! Each apply attempt appends a record: a commit object whose tree holds `record.json` (what was
//! applied — the commit, its tree, the content hash and each root's — where, when, by which
//! engine, and the outcome) and `resolved.json` (the resolved environment, for the next
//! platform-level plan). Its first parent is the applied commit, its second the environment's
//! previous record, which `record.json` also names: the records of an environment form a chain,
//! numbered without gaps, tagged `plinth/<environment>/<sequence>`. Tags are created with
//! compare-and-swap (`update-ref` with an empty old value, or `git tag` without `-f`), so
//! concurrent writers never overwrite each other and sequence numbers never repeat. Records are
//! never moved or deleted: an interrupted apply leaves a `started` record without its outcome.
//!
//! A record is checked before it is relied on ([`Store::audit`], [`Store::verify`]): its chain
//! is contiguous and linked, it names an applied commit that exists and whose tree it names, and
//! (in `super::check_promotion`) the content hash recomputed at that commit is the one it
//! records. With `[platform.record] signed = true` (or `git config plinth.requireSigned true`)
//! records are signed annotated tags and must pass `git verify-tag`. Without signatures a record
//! proves consistency, not authorship: anyone who can push tags can write a consistent one.

use crate::engine::git::{Git, is_object_id};
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Started,
    Succeeded,
    Failed,
    /// Stopped by SIGINT or SIGTERM: the engine was told to stop and waited for.
    Interrupted,
    /// `plinth destroy` removed what the environment ran: nothing validated runs there now.
    Destroyed,
    /// The checks of `[promotion]` passed after the apply (a record of its own).
    Verified,
    VerificationFailed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Started => "started",
            Outcome::Succeeded => "succeeded",
            Outcome::Failed => "failed",
            Outcome::Interrupted => "interrupted",
            Outcome::Destroyed => "destroyed",
            Outcome::Verified => "verified",
            Outcome::VerificationFailed => "verification_failed",
        }
    }

    /// An attempt that may have changed the environment without finishing.
    pub fn is_unfinished_attempt(self) -> bool {
        matches!(
            self,
            Outcome::Started | Outcome::Failed | Outcome::Interrupted | Outcome::Destroyed
        )
    }

    /// A verification record (the environment was not changed).
    pub fn is_verification(self) -> bool {
        matches!(self, Outcome::Verified | Outcome::VerificationFailed)
    }
}

/// The outcome of one verification check.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CheckResult {
    pub name: String,
    pub passed: bool,
    /// What failed (or what was checked), a few lines.
    pub detail: String,
    pub seconds: u64,
}

/// The record format this version writes.
pub const FORMAT: u32 = 2;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Record {
    /// 2 (verifiable); records without it were written before records named their tree and
    /// predecessor, and cannot be verified.
    #[serde(default)]
    pub format: u32,
    pub environment: String,
    #[serde(default)]
    pub sequence: u64,
    /// The applied commit.
    pub commit: String,
    /// Its tree: the exact files applied.
    #[serde(default)]
    pub tree: String,
    /// Content hash of the code base (all environments) at that commit (see [`super::hash`]).
    pub content_hash: String,
    /// Content hash of each Terraform root.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub roots: BTreeMap<String, String>,
    /// The roots this attempt ran (the others were unchanged since the last success).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ran: Vec<String>,
    /// SHA-256 of each root's `.terraform.lock.hcl` as Terraform ran with it: the providers.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub provider_locks: BTreeMap<String, String>,
    /// Override files git does not track that were applied too, with their hashes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub local_overrides: BTreeMap<String, String>,
    pub outcome: Outcome,
    pub time: String,
    pub engine: String,
    pub plinth: String,
    pub user: String,
    pub host: String,
    /// How it got there: `apply`, `apply --unvalidated`, `promote from <env>` or `verify`.
    pub via: String,
    /// Applied to an external environment without promotion (`apply --unvalidated`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unvalidated: bool,
    /// For a promotion: the record of the previous environment it relied on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validated_by: Option<String>,
    /// The record commit of this environment's previous record (`None` for the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
    /// The output directory relative to the platform, when it is inside the repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

const PREFIX: &str = "refs/tags/plinth";

/// One record as git holds it.
#[derive(Debug, Clone)]
pub struct Entry {
    /// `refs/tags/plinth/<env>/<sequence>`.
    pub refname: String,
    pub sequence: u64,
    /// An annotated (possibly signed) tag rather than a lightweight one.
    pub annotated: bool,
    /// The record commit.
    pub commit: String,
    pub parents: Vec<String>,
    /// `None` when `record.json` is missing or unreadable.
    pub record: Option<Record>,
}

/// What is wrong with an environment's chain of records.
#[derive(Debug, Clone, Default)]
pub struct Audit {
    pub entries: Vec<Entry>,
    /// By sequence: why that record cannot be trusted. A break in the chain makes every later
    /// record untrusted too.
    pub problems: BTreeMap<u64, String>,
}

impl Audit {
    /// The record at `sequence`, if it passed.
    pub fn trusted(&self, sequence: u64) -> Result<&Entry> {
        if let Some(p) = self.problems.get(&sequence) {
            return Err(Error::refused(
                format!("record {sequence:06} cannot be trusted: {p}"),
                Some("records are verified before a promotion relies on them: see `plinth status`; a forged or broken record must be removed from the repository (`git tag -d`) by whoever owns the record, and the environment applied again".into()),
            ));
        }
        self.entries
            .iter()
            .find(|e| e.sequence == sequence)
            .ok_or_else(|| Error::refused(format!("there is no record {sequence:06}"), None))
    }

    /// The first problem, if any.
    pub fn first_problem(&self) -> Option<(u64, &str)> {
        self.problems.iter().next().map(|(s, p)| (*s, p.as_str()))
    }
}

/// The record of one repository.
#[derive(Debug, Clone)]
pub struct Store {
    pub git: Git,
    /// The repository's (common) git directory, where git keeps its ref locks.
    pub git_dir: PathBuf,
    /// Write records as signed tags (`git tag -s`).
    pub sign: bool,
}

/// An environment name used in a ref: anything but a valid name is refused before use.
fn checked_env(env: &str) -> Result<&str> {
    crate::environment::check_name(env).map_err(|m| Error::refused(m, None))?;
    Ok(env)
}

impl Store {
    pub fn new(git: Git, git_dir: PathBuf) -> Store {
        Store {
            git,
            git_dir,
            sign: false,
        }
    }

    /// Locks git left on `env`'s record refs: a process killed inside `git update-ref` leaves
    /// `<ref>.lock`, and git then refuses that ref until the file is removed.
    pub fn ref_locks(&self, env: &str) -> Vec<PathBuf> {
        let mut found = Vec::new();
        if checked_env(env).is_err() {
            return found;
        }
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

    /// Every record of `env` as git holds it, by sequence: two git processes whatever the
    /// number of records.
    pub fn entries(&self, env: &str) -> Result<Vec<Entry>> {
        let env = checked_env(env)?;
        let refs = self
            .git
            .out(&[
                "for-each-ref",
                "--format=%(refname) %(objecttype) %(objectname) %(*objectname)",
                &format!("{PREFIX}/{env}/"),
            ])
            .map_err(engine)?;
        let mut listed = Vec::new();
        for line in refs.lines().filter(|l| !l.is_empty()) {
            let mut parts = line.split(' ');
            let (Some(refname), Some(kind), Some(object)) =
                (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let peeled = parts.next().filter(|p| !p.is_empty());
            let Some(sequence) = refname
                .rsplit('/')
                .next()
                .and_then(|s| s.parse::<u64>().ok())
            else {
                continue;
            };
            let commit = peeled.unwrap_or(object).to_string();
            if !is_object_id(&commit) {
                continue;
            }
            listed.push((refname.to_string(), sequence, kind == "tag", commit));
        }
        let names: Vec<String> = listed
            .iter()
            .flat_map(|(_, _, _, c)| [c.clone(), format!("{c}:record.json")])
            .collect();
        let mut objects = self.git.objects(&names).map_err(engine)?.into_iter();
        let mut out = Vec::new();
        for (refname, sequence, annotated, commit) in listed {
            let (raw, record) = (objects.next().flatten(), objects.next().flatten());
            let parents = raw
                .as_deref()
                .map(String::from_utf8_lossy)
                .map(|t| {
                    t.lines()
                        .take_while(|l| !l.is_empty())
                        .filter_map(|l| l.strip_prefix("parent "))
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default();
            let record = record.and_then(|b| serde_json::from_slice::<Record>(&b).ok());
            out.push(Entry {
                refname,
                sequence,
                annotated,
                commit,
                parents,
                record,
            });
        }
        out.sort_by_key(|e| e.sequence);
        Ok(out)
    }

    /// Every readable record of `env`, oldest first (as written: [`Store::audit`] says which
    /// can be trusted).
    pub fn records(&self, env: &str) -> Result<Vec<Record>> {
        Ok(self
            .entries(env)?
            .into_iter()
            .filter_map(|e| {
                let mut r = e.record?;
                r.sequence = e.sequence;
                Some(r)
            })
            .collect())
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

    /// Checks `env`'s chain of records: numbered from 1 without gaps, each naming its
    /// environment, sequence and applied commit (its record commit's first parent), and each
    /// (from format 2 on) linking its predecessor. With `signed`, every record must be an
    /// annotated tag (the signature itself is checked by [`Store::verify_signature`]).
    pub fn audit(&self, env: &str, signed: bool) -> Result<Audit> {
        let entries = self.entries(env)?;
        let mut problems = BTreeMap::new();
        let mut broken: Option<String> = None;
        let mut verifiable_seen = false;
        for (i, e) in entries.iter().enumerate() {
            let expected = i as u64 + 1;
            let problem = if let Some(b) = &broken {
                Some(format!("an earlier record is broken ({b})"))
            } else if e.sequence != expected {
                Some(format!(
                    "the chain has a gap: record {expected:06} is missing before it"
                ))
            } else {
                entry_problem(
                    e,
                    env,
                    entries.get(i.wrapping_sub(1)),
                    signed,
                    &mut verifiable_seen,
                )
            };
            if let Some(p) = problem {
                if broken.is_none() {
                    broken = Some(format!("record {:06}: {p}", e.sequence));
                }
                problems.insert(e.sequence, p);
            }
        }
        Ok(Audit { entries, problems })
    }

    /// `git verify-tag` of a record: a signature git trusts (for SSH signatures,
    /// `gpg.ssh.allowedSignersFile` names who may sign).
    pub fn verify_signature(&self, e: &Entry) -> Result<()> {
        if !e.annotated {
            return Err(Error::refused(
                format!(
                    "`{}` is not signed: records must be signed tags (`[platform.record] signed = true`)",
                    e.refname.trim_start_matches("refs/tags/")
                ),
                Some("a record written without signing, or forged, is refused; whoever owns the record signs with `git tag -s` (Plinth does so when `signed = true`)".into()),
            ));
        }
        self.git
            .run(&["verify-tag", &e.refname])
            .map(|_| ())
            .map_err(|err| {
                let why = match &err {
                    crate::engine::EngineError::Failed { stderr, .. } => stderr.trim().to_string(),
                    other => other.to_string(),
                };
                Error::refused(
                    format!(
                        "the signature of `{}` does not verify: {why}",
                        e.refname.trim_start_matches("refs/tags/")
                    ),
                    Some("configure who may sign records (for SSH signing, `git config gpg.ssh.allowedSignersFile <file>`), or find out who wrote this record".into()),
                )
            })
    }

    /// The resolved environment stored with a record.
    pub fn resolved(&self, r: &Record) -> Option<serde_json::Value> {
        checked_env(&r.environment).ok()?;
        let text = self
            .git
            .out(&[
                "show",
                &format!("{}:resolved.json", tag(&r.environment, r.sequence)),
            ])
            .ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Appends a record; its sequence number and predecessor are assigned here.
    pub fn append(&self, mut rec: Record, resolved: &serde_json::Value) -> Result<Record> {
        let env = checked_env(&rec.environment)?.to_string();
        let resolved_blob = self.blob(&serde_json::to_vec_pretty(resolved).unwrap_or_default())?;
        rec.format = FORMAT;
        let mut next = self.entries(&env)?.last().map_or(1, |e| e.sequence + 1);
        for _ in 0..32 {
            rec.sequence = next;
            rec.previous = if next > 1 {
                Some(self.git.resolve(&tag(&env, next - 1)).map_err(|_| {
                    Error::refused(
                        format!(
                            "the record of `{env}` has no record {:06}: its chain is broken",
                            next - 1
                        ),
                        Some("see `plinth status`".into()),
                    )
                })?)
            } else {
                None
            };
            // The sequence is part of the record, so the blob is written per attempt.
            let record_blob = self.blob(&serde_json::to_vec_pretty(&rec).unwrap_or_default())?;
            let tree = self
                .git
                .with_input(&["mktree"], format!("100644 blob {record_blob}\trecord.json\n100644 blob {resolved_blob}\tresolved.json\n").as_bytes())
                .map_err(engine)?;
            let message = format!(
                "plinth: {} of {} to {}: {}\n\n{}",
                rec.via,
                short(&rec.commit),
                rec.environment,
                rec.outcome.as_str(),
                serde_json::to_string_pretty(&rec).unwrap_or_default()
            );
            let mut parents = vec![rec.commit.as_str()];
            parents.extend(rec.previous.as_deref());
            let commit = self.commit_tree(&tree, &parents, &message)?;
            let name = tag(&env, next);
            match self.create_tag(&name, &commit, &message) {
                Ok(()) => return Ok(rec),
                Err(_) if self.git.resolve(&name).is_ok() => next += 1,
                Err(e) => return Err(self.locked_ref(&name, &env).unwrap_or(e)),
            }
        }
        Err(Error::refused(
            format!("could not append to the record of `{env}`: too many concurrent writers"),
            None,
        ))
    }

    /// Creates the tag `name` on `commit` if it does not exist yet (never moves one).
    fn create_tag(&self, name: &str, commit: &str, message: &str) -> Result<()> {
        if !self.sign {
            return self
                .git
                .run(&["update-ref", name, commit, ""])
                .map(|_| ())
                .map_err(engine);
        }
        let short_name = name.trim_start_matches("refs/tags/");
        let mut args = self.identity();
        args.extend(["tag", "-s", "-F", "-", short_name, commit]);
        self.git
            .with_input(&args, message.as_bytes())
            .map(|_| ())
            .map_err(|e| {
                let why = match &e {
                    crate::engine::EngineError::Failed { stderr, .. } => stderr.trim().to_string(),
                    other => other.to_string(),
                };
                Error::refused(
                    format!("could not sign the record tag `{short_name}`: {why}"),
                    Some("`[platform.record] signed = true` needs git to sign tags: set `user.signingkey` (and `gpg.format = ssh` for an SSH key)".into()),
                )
            })
    }

    /// Lightweight tags in Kubestack's style (`<env>-deploy-<sequence>`) on the applied commit.
    pub fn compat_tag(&self, rec: &Record) -> Result<String> {
        let name = format!("{}-deploy-{}", checked_env(&rec.environment)?, rec.sequence);
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

    /// `-c user.*` arguments: an identity is needed; Plinth's own where the repository has none.
    fn identity(&self) -> Vec<&'static str> {
        let has_identity = self
            .git
            .out(&["config", "user.email"])
            .is_ok_and(|e| !e.is_empty())
            || std::env::var_os("GIT_AUTHOR_EMAIL").is_some();
        if has_identity {
            Vec::new()
        } else {
            vec![
                "-c",
                "user.name=Plinth",
                "-c",
                "user.email=plinth@localhost",
            ]
        }
    }

    fn commit_tree(&self, tree: &str, parents: &[&str], message: &str) -> Result<String> {
        let mut args = self.identity();
        args.extend(["commit-tree", tree]);
        for p in parents {
            args.extend(["-p", p]);
        }
        args.extend(["-F", "-"]);
        self.git
            .with_input(&args, message.as_bytes())
            .map_err(engine)
    }
}

/// Why one record of a chain cannot be trusted, if it cannot.
fn entry_problem(
    e: &Entry,
    env: &str,
    previous: Option<&Entry>,
    signed: bool,
    verifiable_seen: &mut bool,
) -> Option<String> {
    let Some(r) = &e.record else {
        return Some("it holds no readable `record.json`".into());
    };
    if r.environment != env {
        return Some(format!("it is a record of `{}`", r.environment));
    }
    if r.sequence != e.sequence {
        return Some(format!("it says it is record {:06}", r.sequence));
    }
    if !is_object_id(&r.commit) {
        return Some(format!("`{}` is not a commit id", r.commit));
    }
    if e.parents.first() != Some(&r.commit) {
        return Some("its commit's parent is not the commit it says was applied".into());
    }
    if signed && !e.annotated {
        return Some("it is not a signed tag".into());
    }
    if r.format < FORMAT {
        if *verifiable_seen {
            return Some("it is in the old format after a verifiable record".into());
        }
        return None;
    }
    *verifiable_seen = true;
    let prev = previous.map(|p| p.commit.clone());
    if r.previous != prev {
        return Some("it does not link the record before it".into());
    }
    if e.parents.get(1) != prev.as_ref() {
        return Some("its commit's second parent is not the record before it".into());
    }
    if !is_object_id(&r.tree) {
        return Some("it names no tree".into());
    }
    None
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

impl Record {
    /// A record of the current format with the machine's identity filled in.
    pub fn new(env: &str, commit: &str, content_hash: &str, outcome: Outcome, via: &str) -> Record {
        Record {
            format: FORMAT,
            environment: env.to_string(),
            sequence: 0,
            commit: commit.to_string(),
            tree: String::new(),
            content_hash: content_hash.to_string(),
            roots: BTreeMap::new(),
            ran: Vec::new(),
            provider_locks: BTreeMap::new(),
            local_overrides: BTreeMap::new(),
            outcome,
            time: now(),
            engine: String::new(),
            plinth: crate::VERSION.to_string(),
            user: super::lock::Holder::current("").user,
            host: super::lock::hostname(),
            via: via.to_string(),
            unvalidated: false,
            validated_by: None,
            previous: None,
            output: None,
            checks: Vec::new(),
            error: None,
        }
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

/// The current time in seconds since the epoch (`PLINTH_NOW` overrides it, as for [`now`]).
pub fn now_secs() -> u64 {
    parse_rfc3339(&now()).unwrap_or(0)
}

/// `YYYY-MM-DDTHH:MM:SSZ` as seconds since the epoch (days-from-civil, the inverse of
/// [`rfc3339`]); `None` for anything else.
pub fn parse_rfc3339(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[19] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + hh * 3600 + mm * 60 + ss).ok()
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

/// A repository at `dir` with one commit, for tests of the record.
#[cfg(test)]
pub(crate) fn repository(dir: &Path) -> Git {
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
    git
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_000_000), "2026-11-18T11:06:40Z");
        for secs in [0, 951_782_400, 1_795_000_000, 4_102_444_799] {
            assert_eq!(parse_rfc3339(&rfc3339(secs)), Some(secs));
        }
        assert_eq!(parse_rfc3339("2026-13-01T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("yesterday"), None);
    }

    /// Regression: a run killed inside `git update-ref` leaves `<ref>.lock`; the next append
    /// failed with git's raw message. It now says what happened and how to recover, and
    /// `Repo::unlock` removes exactly the record's leftover locks.
    #[test]
    fn a_ref_lock_left_by_a_killed_run_is_reported_and_removed_by_unlock() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path();
        let git = repository(dir);
        let repo = crate::promote::Repo::open(dir).expect("repo");
        let commit = git.resolve("HEAD").expect("head");
        let rec = Record {
            tree: git.out(&["rev-parse", "HEAD^{tree}"]).expect("tree"),
            ..Record::new("ops", &commit, "sha256:0", Outcome::Started, "apply")
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
