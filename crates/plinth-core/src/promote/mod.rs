//! Review → plan → apply to `ops` → promote the same validated revision onward.
//!
//! Kubestack leaves promotion to convention (tags in CI); Plinth enforces it. An apply needs a
//! clean, committed tree and records its outcome in git ([`record`]); a promotion to an
//! environment is allowed only when the content it would apply ([`hash`]) was applied
//! successfully to the environment before it in the chain — by a record that verifies, that
//! passed the platform's checks there and soaked long enough ([`policy`], [`verify`]). Applying
//! to an external environment any other way is refused unless explicitly `--unvalidated`,
//! which the record says. One apply per environment at a time ([`lock`]). The platform-level
//! plan ([`plan`]) compares with what was last applied.

pub mod affected;
pub mod hash;
pub mod lock;
pub mod matrix;
pub mod plan;
pub mod policy;
pub mod receipt;
pub mod record;
pub mod verify;

use crate::engine::git::Git;
use crate::engine::supervise;
use crate::engine::terraform::{PlanSummary, Terraform};
use crate::error::{Error, Result};
use crate::platform::{Platform, StateLayout};
use crate::resolve::Resolution;
use hash::Content;
use record::{Outcome, Record, Store};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Progress of engine runs, for the CLI's progress bars. Called from worker threads.
pub trait Observer: Sync {
    fn started(&self, _root: &str) {}
    fn step(&self, _root: &str, _step: &str) {}
    fn finished(&self, _root: &str, _result: &RootOutcome) {}
}

/// The saved plan of `env` in each root it ran in (kept after a plan for `terraform show`).
pub fn plan_file(env: &str) -> String {
    format!("plinth-{env}.tfplan")
}

/// Observes nothing.
pub struct Quiet;
impl Observer for Quiet {}

/// What happened to one Terraform root.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum RootOutcome {
    NoChanges,
    Changes {
        summary: PlanSummary,
    },
    Applied {
        summary: PlanSummary,
    },
    Failed {
        step: String,
        error: String,
    },
    /// Not started because another root failed.
    NotStarted,
    /// Stopped by SIGINT/SIGTERM (forwarded to Terraform, which was waited for), or not
    /// started because of one.
    Interrupted,
}

impl RootOutcome {
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            RootOutcome::Failed { .. } | RootOutcome::NotStarted | RootOutcome::Interrupted
        )
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RootResult {
    /// The root's name: `platform`, or the cluster key with per-cluster state.
    pub root: String,
    pub dir: PathBuf,
    pub outcome: RootOutcome,
}

/// The Terraform roots of a generated tree; with per-cluster state, only `only`'s clusters.
pub fn roots(p: &Platform, out: &Path, only: Option<&BTreeSet<String>>) -> Vec<(String, PathBuf)> {
    match p.settings.state {
        StateLayout::Platform => vec![("platform".into(), out.to_path_buf())],
        StateLayout::Cluster => p
            .clusters
            .keys()
            .filter(|k| only.is_none_or(|o| o.contains(*k)))
            .map(|k| (k.clone(), out.join(k)))
            .collect(),
    }
}

/// SHA-256 of a root's `.terraform.lock.hcl`, if it has one: which providers Terraform runs.
pub fn provider_lock(dir: &Path) -> Option<String> {
    let bytes = std::fs::read(dir.join(".terraform.lock.hcl")).ok()?;
    use sha2::Digest;
    Some(format!(
        "sha256:{}",
        crate::render::hex(&sha2::Sha256::digest(&bytes))
    ))
}

/// How to run the engine on a set of roots.
pub struct Engine<'a> {
    pub terraform: &'a Terraform,
    pub environment: &'a str,
    /// Partial backend configuration for every root (`key=value`).
    pub backend_config: Vec<String>,
    pub jobs: usize,
    pub observer: &'a dyn Observer,
    /// Provider lock files each root must run with (by root): on a promotion, those the
    /// previous environment ran with. A root whose lock differs after `init` is not run.
    pub expected_locks: BTreeMap<String, String>,
    /// Plan (and apply) the removal of everything each root's state holds.
    pub destroy: bool,
}

impl Engine<'_> {
    /// Plans (and with `apply`, applies the saved plan of) every root, `jobs` at a time. The
    /// first failure, or SIGINT/SIGTERM, stops new roots from starting; every root's outcome is
    /// returned.
    pub fn run(&self, roots: &[(String, PathBuf)], apply: bool) -> Vec<RootResult> {
        let next = AtomicUsize::new(0);
        let failed = AtomicBool::new(false);
        let results: std::sync::Mutex<Vec<RootResult>> = std::sync::Mutex::new(Vec::new());
        let workers = self.jobs.clamp(1, roots.len().max(1));
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        let Some((name, dir)) = roots.get(i) else {
                            break;
                        };
                        let outcome = if supervise::interrupted().is_some() {
                            RootOutcome::Interrupted
                        } else if failed.load(Ordering::SeqCst) {
                            RootOutcome::NotStarted
                        } else {
                            self.observer.started(name);
                            let o = self.one(name, dir, apply);
                            if o.is_failure() {
                                failed.store(true, Ordering::SeqCst);
                            }
                            self.observer.finished(name, &o);
                            o
                        };
                        if let Ok(mut r) = results.lock() {
                            r.push(RootResult {
                                root: name.clone(),
                                dir: dir.clone(),
                                outcome,
                            });
                        }
                    }
                });
            }
        });
        let mut results = results.into_inner().unwrap_or_default();
        results.sort_by(|a, b| a.root.cmp(&b.root));
        results
    }

    fn one(&self, name: &str, dir: &Path, apply: bool) -> RootOutcome {
        let tf = self.terraform;
        let plan_file = plan_file(self.environment);
        let fail = |step: &str, e: crate::engine::EngineError| {
            if supervise::interrupted().is_some() {
                RootOutcome::Interrupted
            } else {
                RootOutcome::Failed {
                    step: step.into(),
                    error: e.to_string(),
                }
            }
        };
        // Terraform would read an empty state as "nothing exists" and create everything again:
        // a state cut short by an interrupted run stops here, before Terraform starts.
        if let Some(state) = damaged_state(dir, &self.backend_config, self.environment) {
            let backup = PathBuf::from(format!("{}.backup", state.display()));
            let what = if backup.exists() {
                format!(
                    "Terraform kept the state from before that run as `{}`: compare the two, put the right one in place, and `terraform import` what the interrupted run created",
                    backup.display()
                )
            } else {
                "It was this state's first save, so no state records what that run created: import those resources (or delete them), then remove the file".to_string()
            };
            return RootOutcome::Failed {
                step: "state".into(),
                error: format!(
                    "`{}` is half-written: a Terraform run was interrupted while saving it, and Terraform would take it for an empty state and create everything again. {what}",
                    state.display()
                ),
            };
        }
        self.observer.step(name, "init");
        if let Err(e) = tf.init(dir, &self.backend_config) {
            return fail("init", e);
        }
        if let Some(expected) = self.expected_locks.get(name) {
            let found = provider_lock(dir);
            if found.as_ref() != Some(expected) {
                return RootOutcome::Failed {
                    step: "providers".into(),
                    error: format!(
                        "`{}` ({}) is not the provider lock file the previous environment ran with ({expected}): the providers would differ from the validated ones. Commit the lock file the previous environment used, or apply this one there first",
                        dir.join(".terraform.lock.hcl").display(),
                        found.as_deref().unwrap_or("missing")
                    ),
                };
            }
        }
        self.observer.step(name, "workspace");
        if let Err(e) = tf.select_workspace(dir, self.environment) {
            return fail("workspace", e);
        }
        self.observer.step(name, "plan");
        let changes = match tf.plan(dir, &plan_file, self.destroy) {
            Ok(c) => c,
            Err(e) => return fail("plan", e),
        };
        let summary = match tf.show(dir, &plan_file) {
            Ok(s) => s,
            Err(e) => return fail("show", e),
        };
        if !apply {
            return if changes {
                RootOutcome::Changes { summary }
            } else {
                RootOutcome::NoChanges
            };
        }
        if !changes {
            return RootOutcome::NoChanges;
        }
        if supervise::interrupted().is_some() {
            return RootOutcome::Interrupted;
        }
        self.observer.step(name, "apply");
        match tf.apply(dir, &plan_file) {
            Ok(_) => RootOutcome::Applied { summary },
            Err(e) => fail("apply", e),
        }
    }
}

/// A revision ready to be applied: its definition, its generated output and its content.
pub struct Prepared {
    pub platform: Platform,
    pub resolution: Resolution,
    pub commit: String,
    /// The commit's tree.
    pub tree: String,
    pub content: Content,
    pub out: PathBuf,
    /// Where the platform is (the working tree's, or a scratch checkout's).
    pub dir: PathBuf,
    /// The output directory relative to the platform, when inside the repository.
    pub output: Option<String>,
    /// Set when applying outside the usual output directory (a past revision): where the
    /// local backend keeps the environment's state.
    pub state_dir: Option<PathBuf>,
    /// A temporary checkout to remove afterwards.
    pub scratch: Option<PathBuf>,
    /// Provider lock files `terraform init` created that git does not track yet.
    pub new_lock_files: Vec<String>,
}

impl Prepared {
    /// The roots an apply of this revision runs after `history` (see [`select_roots`]).
    pub fn selection(&self, history: &[Record]) -> Selection {
        select_roots(
            &self.platform,
            &self.resolution,
            &self.out,
            &self.content,
            history,
        )
    }
}

impl Drop for Prepared {
    fn drop(&mut self) {
        if let Some(s) = &self.scratch {
            let _ = std::fs::remove_dir_all(s);
        }
    }
}

/// What [`Repo::unlock`] removed.
#[derive(Debug)]
pub struct Unlocked {
    /// Who held Plinth's lock, if anyone.
    pub holder: Option<lock::Holder>,
    /// git's leftover `<ref>.lock` files on the environment's record.
    pub ref_locks: Vec<PathBuf>,
    /// Engine processes the holder left running, stopped (by process group, the pids found).
    pub stopped: Vec<(supervise::Group, Vec<u32>)>,
}

/// The repository around a platform directory.
pub struct Repo {
    pub git: Git,
    pub store: Store,
    /// `.git` (the common one, shared by worktrees).
    pub git_dir: PathBuf,
    /// The platform directory relative to the repository root (`""` at the root).
    pub prefix: String,
}

impl Repo {
    pub fn open(dir: &Path) -> Result<Repo> {
        let git = Git::new(dir).map_err(|e| Error::refused(e.to_string(), None))?;
        // One git process for both answers: every lifecycle command starts here.
        let found = git
            .out(&["rev-parse", "--show-toplevel", "--git-common-dir"])
            .ok();
        let (top, git_dir) = found
            .as_deref()
            .and_then(|o| o.split_once('\n'))
            .map(|(t, g)| (PathBuf::from(t), g.trim().to_string()))
            .ok_or_else(|| {
                Error::refused(
                    format!("`{}` is not in a git repository", dir.display()),
                    Some(
                        "the promotion record is kept in git: `git init` and commit the platform first"
                            .into(),
                    ),
                )
            })?;
        let git_dir = if Path::new(&git_dir).is_absolute() {
            PathBuf::from(git_dir)
        } else {
            dir.join(git_dir)
        };
        let abs = std::fs::canonicalize(dir).map_err(|e| Error::io("resolve", dir, e))?;
        let top = std::fs::canonicalize(&top).unwrap_or(top);
        let prefix = abs
            .strip_prefix(&top)
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default();
        Ok(Repo {
            store: Store::new(git.clone(), git_dir.clone()),
            git,
            git_dir,
            prefix,
        })
    }

    /// Whether records must be signed: the platform says so, or the repository's own git
    /// configuration does (`plinth.requireSigned`, which a CI sets where the policy in the
    /// branch cannot be trusted to keep it).
    pub fn require_signed(&self, p: &Platform) -> bool {
        p.settings.policy.signed
            || self
                .git
                .out(&["config", "--type=bool", "--get", "plinth.requireSigned"])
                .is_ok_and(|v| v == "true")
    }

    /// Breaks `env`'s lock, stops the engine processes its holder left running, and removes
    /// the locks git left on its record refs (all left by a run that was killed; `plinth
    /// unlock` is how the user says none is running). Refused while the holder still runs here.
    pub fn unlock(&self, env: &str) -> Result<Unlocked> {
        let holder = lock::holder(&self.git_dir, env);
        let mut stopped = Vec::new();
        if let Some(h) = &holder {
            if h.is_alive_here() && h.pid != std::process::id() {
                return Err(Error::refused(
                    format!(
                        "`{env}` is locked by {}, which is still running",
                        h.describe()
                    ),
                    Some(format!(
                        "stop it with Ctrl-C or `kill -INT {}`: it then stops Terraform, records the run as interrupted and releases the lock",
                        h.pid
                    )),
                ));
            }
            for g in &h.engines {
                let members = supervise::members(g);
                if members.is_empty() {
                    continue;
                }
                stop_group(g);
                stopped.push((g.clone(), members));
            }
        }
        lock::break_lock(&self.git_dir, env)?;
        let ref_locks = self.store.ref_locks(env);
        for l in &ref_locks {
            crate::fsutil::remove_file(l)?;
        }
        Ok(Unlocked {
            holder,
            ref_locks,
            stopped,
        })
    }

    /// A path relative to the platform, as git names it (relative to the repository root).
    pub fn in_repo(&self, rel: &str) -> String {
        if self.prefix.is_empty() {
            rel.to_string()
        } else {
            format!("{}/{rel}", self.prefix)
        }
    }

    /// A path git names, relative to the platform; `None` when it is outside the platform.
    pub fn strip_prefix(&self, path: &str) -> Option<String> {
        if self.prefix.is_empty() {
            Some(path.to_string())
        } else {
            path.strip_prefix(&format!("{}/", self.prefix))
                .map(String::from)
        }
    }

    /// Like [`Repo::strip_prefix`], for paths known to be inside the platform.
    pub fn in_platform(&self, path: &str) -> String {
        self.strip_prefix(path).unwrap_or_else(|| path.to_string())
    }

    /// Refuses unless the platform directory has no uncommitted change.
    pub fn require_clean(&self, dir: &Path) -> Result<()> {
        self.clean_but_new_locks(dir, false).map(|_| ())
    }

    /// Refuses unless the platform directory has no uncommitted change, except (when
    /// `allow_new_locks`) provider lock files `terraform init` created that git does not track
    /// yet: those are returned (the record notes what they hold; commit them).
    fn clean_but_new_locks(&self, dir: &Path, allow_new_locks: bool) -> Result<Vec<String>> {
        let status = self.git.status(dir).map_err(git_err)?;
        let (locks, dirty): (Vec<_>, Vec<_>) = status.into_iter().partition(|(code, path)| {
            allow_new_locks && code == "??" && path.ends_with(".terraform.lock.hcl")
        });
        let locks: Vec<String> = locks.into_iter().map(|(_, p)| p).collect();
        let dirty: Vec<String> = dirty.into_iter().map(|(_, p)| p).collect();
        if dirty.is_empty() {
            return Ok(locks);
        }
        let shown: Vec<&str> = dirty.iter().take(8).map(String::as_str).collect();
        let more = if dirty.len() > shown.len() {
            format!(" and {} more", dirty.len() - shown.len())
        } else {
            String::new()
        };
        let hint = if dirty.iter().all(|f| f.ends_with(".terraform.lock.hcl")) {
            "`terraform init` changed a dependency lock file: commit it, it pins the providers' exact versions and hashes for every later apply".to_string()
        } else {
            "what is applied must be a commit, so the record can say which: commit (or stash) first"
                .to_string()
        };
        Err(Error::refused(
            format!(
                "the working tree has uncommitted changes: {}{more}",
                shown.join(", ")
            ),
            Some(hint),
        ))
    }

    /// Files of `out` git does not track (relative to `out`); all of them when `out` is
    /// outside the repository.
    pub fn untracked_in(&self, out: &Path) -> BTreeSet<String> {
        if !out.is_dir() {
            return BTreeSet::new();
        }
        match self.git.untracked(out) {
            Ok(list) => list.into_iter().collect(),
            // Outside the repository: nothing there is tracked.
            Err(_) => crate::generate::engine_files(out)
                .unwrap_or_default()
                .into_iter()
                .collect(),
        }
    }

    fn output_rel(dir: &Path, out: &Path) -> Option<String> {
        let d = std::fs::canonicalize(dir).ok()?;
        let o = std::path::absolute(out).ok()?;
        let o = std::fs::canonicalize(&o).unwrap_or(o);
        o.strip_prefix(&d)
            .ok()
            .map(|r| r.to_string_lossy().replace('\\', "/"))
    }

    /// The working tree's platform at HEAD (which must be clean), generated into `out` (which
    /// must then still be clean: the committed output is what the definition generates).
    pub fn prepare_head(&self, dir: &Path, out: &Path) -> Result<Prepared> {
        self.clean_but_new_locks(dir, true)?;
        let commit = self.git.resolve("HEAD").map_err(|_| {
            Error::refused(
                "the repository has no commit yet",
                Some("commit the platform first".into()),
            )
        })?;
        let tree = self.tree_of(&commit)?;
        let (platform, resolution) = checked(dir)?;
        let rendered = crate::generate::render_all(&platform, &resolution, out)?;
        crate::generate::write(out, &rendered, false)?;
        // A tracked output that generation changed was not what was committed.
        let new_lock_files = self.clean_but_new_locks(dir, true).map_err(|_| {
            Error::refused(
                "the committed generated output is not current",
                Some("run `plinth generate`, review and commit the result, then apply".into()),
            )
        })?;
        self.refuse_committed_engine_files(out)?;
        let untracked = self.untracked_in(out);
        let content = hash::content(&platform, &resolution, out, &untracked)?;
        Ok(Prepared {
            platform,
            resolution,
            commit,
            tree,
            content,
            out: out.to_path_buf(),
            dir: dir.to_path_buf(),
            output: Self::output_rel(dir, out),
            state_dir: None,
            scratch: None,
            new_lock_files,
        })
    }

    /// Terraform's working files (`.terraform/`, state, plan files) committed in the output
    /// would be read by Terraform but are neither generated nor hashed: refused. The provider
    /// lock file is meant to be committed.
    fn refuse_committed_engine_files(&self, out: &Path) -> Result<()> {
        let Ok(tracked) = self.git.tracked(out) else {
            return Ok(());
        };
        let engine: Vec<&String> = tracked
            .iter()
            .filter(|p| {
                p.split('/').any(|part| {
                    part != ".terraform.lock.hcl" && crate::generate::is_engine_entry(part)
                })
            })
            .take(5)
            .collect();
        if engine.is_empty() {
            return Ok(());
        }
        Err(Error::refused(
            format!(
                "Terraform's working files are committed in `{}`: {}",
                out.display(),
                engine
                    .iter()
                    .map(|p| format!("`{p}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Some("they are Terraform's (state, plugins, plans), neither generated nor covered by the content hash: `git rm -r --cached` them and keep them ignored (see the `.gitignore` `plinth init` writes)".into()),
        ))
    }

    fn tree_of(&self, commit: &str) -> Result<String> {
        crate::engine::git::is_object_id(commit)
            .then(|| {
                self.git
                    .out(&["rev-parse", &format!("{commit}^{{tree}}")])
                    .ok()
            })
            .flatten()
            .filter(|t| crate::engine::git::is_object_id(t))
            .ok_or_else(|| {
                Error::refused(
                    format!("`{commit}` is not a commit of this repository"),
                    None,
                )
            })
    }

    /// A commit's platform, checked out (as git checks out: symlinks stay symlinks) into the
    /// git directory. The committed output is used as it is, so a past revision is applied
    /// exactly as it was validated, whatever Plinth version runs now; an output that was not
    /// committed (`output` is `None`) is generated.
    fn checkout(&self, commit: &str, output: Option<&str>) -> Result<Prepared> {
        use std::sync::atomic::AtomicU64;
        static N: AtomicU64 = AtomicU64::new(0);
        let tree = self.tree_of(commit)?;
        clean_stale_scratch(&self.git_dir.join("plinth").join("revisions"));
        let scratch = self.git_dir.join("plinth").join("revisions").join(format!(
            "{}-{}-{}",
            record::short(commit),
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        if scratch.exists() {
            std::fs::remove_dir_all(&scratch).map_err(|e| Error::io("remove", &scratch, e))?;
        }
        let mut prepared_scratch = ScratchGuard(Some(scratch.clone()));
        self.git.export(commit, &scratch).map_err(git_err)?;
        let dir = if self.prefix.is_empty() {
            scratch.clone()
        } else {
            scratch.join(&self.prefix)
        };
        let (platform, resolution) = checked(&dir)?;
        let rel = output.unwrap_or("generated");
        if !crate::render::is_safe_relative(rel) {
            return Err(Error::refused(
                format!("`{rel}` is not an output directory inside the platform"),
                None,
            ));
        }
        let out = dir.join(rel);
        if output.is_none() || !out.is_dir() {
            let rendered = crate::generate::render_all(&platform, &resolution, &out)?;
            crate::generate::write(&out, &rendered, false)?;
        }
        let content = hash::content(&platform, &resolution, &out, &BTreeSet::new())?;
        Ok(Prepared {
            platform,
            resolution,
            commit: commit.to_string(),
            tree,
            content,
            out,
            dir,
            output: output.map(String::from),
            state_dir: None,
            scratch: prepared_scratch.0.take(),
            new_lock_files: Vec::new(),
        })
    }

    /// `rev` (a promotion of an older revision) when given, else HEAD.
    pub fn prepare(&self, dir: &Path, rev: Option<&str>, out: &Path) -> Result<Prepared> {
        match rev {
            Some(rev) => self.prepare_revision(dir, rev, out),
            None => self.prepare_head(dir, out),
        }
    }

    /// A past revision's platform, checked out into the git directory, to be applied with the
    /// output directory's state and untracked override files.
    pub fn prepare_revision(&self, dir: &Path, rev: &str, out: &Path) -> Result<Prepared> {
        let commit = self.git.resolve(rev).map_err(|_| {
            Error::refused(format!("`{rev}` is not a commit of this repository"), None)
        })?;
        let output = Self::output_rel(dir, out);
        let mut prepared = self.checkout(&commit, output.as_deref())?;
        // The team's local adjustments (untracked `*_override.tf`) apply to whatever revision
        // runs there; recorded as such.
        let untracked = self.untracked_in(out);
        for rel in &untracked {
            let name = rel.rsplit('/').next().unwrap_or(rel);
            if crate::generate::is_override(name) {
                let dst = prepared.out.join(rel);
                if let Some(parent) = dst.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
                }
                std::fs::copy(out.join(rel), &dst)
                    .map_err(|e| Error::io("copy", out.join(rel), e))?;
            }
        }
        prepared.content = hash::content(
            &prepared.platform,
            &prepared.resolution,
            &prepared.out,
            &untracked,
        )?;
        prepared.state_dir = Some(out.to_path_buf());
        Ok(prepared)
    }

    /// The content hash of a commit, recomputed from git's objects (its committed output, or
    /// generated when `output` was not committed).
    pub fn content_at(&self, commit: &str, output: Option<&str>) -> Result<String> {
        Ok(self.checkout(commit, output)?.content.hash.clone())
    }
}

/// Removes checkouts left by processes that are gone (a promotion killed while it checked a
/// record): `<commit>-<pid>-<n>`.
fn clean_stale_scratch(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.filter_map(|e| e.ok()) {
        let name = e.file_name().to_string_lossy().into_owned();
        let pid = name.split('-').nth(1).and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|pid| {
            pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists()
        }) {
            let _ = std::fs::remove_dir_all(e.path());
            let _ = std::fs::remove_file(e.path().with_extension("index"));
        }
    }
}

/// Removes a scratch directory unless it was handed on.
struct ScratchGuard(Option<PathBuf>);

impl Drop for ScratchGuard {
    fn drop(&mut self) {
        if let Some(s) = &self.0 {
            let _ = std::fs::remove_dir_all(s);
        }
    }
}

/// Asks an engine group to stop (SIGTERM: Terraform stops gracefully and releases its state
/// lock), waits for it (`PLINTH_UNLOCK_WAIT` seconds, 30 by default), then kills what is left.
fn stop_group(g: &supervise::Group) {
    supervise::signal_group(g.pgid, rustix::process::Signal::TERM);
    let wait = std::env::var("PLINTH_UNLOCK_WAIT")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(30);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(wait);
    while supervise::group_alive(g.pgid) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    if supervise::group_alive(g.pgid) {
        supervise::signal_group(g.pgid, rustix::process::Signal::KILL);
    }
}

fn git_err(e: crate::engine::EngineError) -> Error {
    Error::refused(format!("git: {e}"), None)
}

/// Reads and validates a platform; errors end the operation.
pub fn checked(dir: &Path) -> Result<(Platform, Resolution)> {
    let c = crate::check(dir);
    if c.has_errors() {
        return Err(Error::Invalid(Box::new(c)));
    }
    match (c.platform, c.resolution) {
        (Some(p), Some(r)) => Ok((p, r)),
        _ => Err(Error::refused("the platform could not be read", None)),
    }
}

/// What an apply or promotion did.
#[derive(Debug)]
pub struct ApplyReport {
    pub record: Record,
    pub results: Vec<RootResult>,
    pub compat_tag: Option<String>,
    /// Why each root ran, or was left alone.
    pub selection: Selection,
    /// The verification that followed a successful apply, when the policy has checks.
    pub verification: Option<Record>,
    /// Provider lock files `terraform init` created that git does not track: commit them.
    pub new_lock_files: Vec<String>,
}

/// Options of an apply.
pub struct ApplyOptions<'a> {
    pub environment: &'a str,
    pub jobs: usize,
    /// `apply`, `apply --unvalidated` or `promote from <env>`, for the record.
    pub via: String,
    /// Also tag the applied commit Kubestack-style (`<env>-deploy-<n>`).
    pub compat_tags: bool,
    pub command: String,
    pub observer: &'a dyn Observer,
    /// An external environment applied without promotion: the record says so.
    pub unvalidated: bool,
    /// The promotion this apply carries out (see [`check_promotion`]).
    pub promotion: Option<&'a Promotion>,
    /// Remove what the environment runs instead (`plinth destroy`): every root, recorded as
    /// `destroyed`.
    pub destroy: bool,
}

/// Which roots an apply runs, and why.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Selection {
    /// Root → why it runs.
    pub run: BTreeMap<String, String>,
    /// Roots left alone: their content is what the last success applied.
    pub unchanged: Vec<String>,
    /// Roots the last success applied that the definition no longer has: Plinth does not
    /// destroy them (their resources stay until destroyed with Terraform).
    pub abandoned: Vec<String>,
}

impl Selection {
    /// Every root of `content`, each for the same reason.
    fn every(content: &Content, why: &str) -> Selection {
        Selection {
            run: content
                .roots
                .keys()
                .map(|k| (k.clone(), why.to_string()))
                .collect(),
            ..Selection::default()
        }
    }
}

/// Chooses the roots to run on `env`: with one root per cluster, those whose content (what the
/// engines read, see [`hash`]) differs from what the last success applied, whose provider lock
/// file changed, or that read sensitive values from the environment (which no hash can cover).
/// Every root runs when nothing succeeded yet, when an attempt since the last success did not
/// finish (it may have changed any root), when the last success predates per-root hashes, and
/// with the platform's single root.
pub fn select_roots(
    p: &Platform,
    r: &Resolution,
    out: &Path,
    content: &Content,
    history: &[Record],
) -> Selection {
    let mut sel = Selection::default();
    let all = |why: &str, sel: &mut Selection| sel.run.extend(Selection::every(content, why).run);
    let last_ok = history
        .iter()
        .rposition(|r| r.outcome == Outcome::Succeeded);
    let Some(i) = last_ok else {
        return Selection::every(content, "nothing was applied yet");
    };
    // One root holds everything: planning it is cheap next to the drift it would miss.
    if p.settings.state == StateLayout::Platform {
        all("the platform has one root", &mut sel);
    }
    let last = &history[i];
    if history[i + 1..]
        .iter()
        .any(|r| r.outcome == Outcome::Destroyed)
    {
        all(
            "the environment was destroyed since the last success",
            &mut sel,
        );
    } else if history[i + 1..]
        .iter()
        .any(|r| r.outcome.is_unfinished_attempt())
    {
        all("an attempt since the last success did not finish", &mut sel);
    } else if last.roots.is_empty() {
        all("the last success does not record its roots", &mut sel);
    }
    let from_env: BTreeSet<String> = crate::secrets::variables(r)
        .into_values()
        .filter(|v| v.literal.is_none())
        .flat_map(|v| v.clusters)
        .collect();
    let root_clusters = hash::root_clusters(p);
    let dirs: BTreeMap<String, PathBuf> = roots(p, out, None).into_iter().collect();
    for (root, h) in &content.roots {
        if sel.run.contains_key(root) {
            continue;
        }
        let lock_changed = dirs
            .get(root)
            .and_then(|d| provider_lock(d))
            .is_some_and(|now| last.provider_locks.get(root).is_some_and(|was| *was != now));
        let why = if last.roots.get(root) != Some(h) {
            Some("its content changed since the last success")
        } else if lock_changed {
            Some("its provider lock file changed")
        } else if root_clusters
            .get(root)
            .is_some_and(|cs| cs.iter().any(|c| from_env.contains(c)))
        {
            Some("it reads sensitive values from the environment")
        } else {
            None
        };
        match why {
            Some(w) => {
                sel.run.insert(root.clone(), w.to_string());
            }
            None => sel.unchanged.push(root.clone()),
        }
    }
    sel.abandoned = last
        .roots
        .keys()
        .filter(|k| !content.roots.contains_key(*k))
        .cloned()
        .collect();
    sel
}

/// The roots of `env` an apply of `prepared` runs (see [`select_roots`]), for a CI that fans
/// out one job per root.
pub fn pending_roots(
    repo: &Repo,
    prepared: &Prepared,
    env: &str,
) -> Result<Vec<(String, PathBuf)>> {
    let sel = prepared.selection(&repo.store.records(env)?);
    Ok(roots(&prepared.platform, &prepared.out, None)
        .into_iter()
        .filter(|(k, _)| sel.run.contains_key(k))
        .collect())
}

/// The directory of root `root` in `out`; an unknown root is refused with the closest name.
pub fn root_dir(p: &Platform, out: &Path, root: &str) -> Result<PathBuf> {
    let all = roots(p, out, None);
    all.iter()
        .find(|(k, _)| k == root)
        .map(|(_, d)| d.clone())
        .ok_or_else(|| {
            Error::refused(
                format!("`{root}` is not a Terraform root of this platform"),
                crate::diagnostic::suggest(root, all.iter().map(|(k, _)| k.as_str())).or_else(
                    || {
                        Some(format!(
                            "its roots: {}",
                            all.iter()
                                .map(|(k, _)| k.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                    },
                ),
            )
        })
}

/// How a revision may reach `env`: the internal environment by `apply`; an external one by
/// promotion, or by `apply --unvalidated` (recorded as such). Refuses any other way.
pub fn require_route(p: &Platform, env: &str, unvalidated: bool, promoted: bool) -> Result<()> {
    let envs = &p.environments;
    if envs.index(env).is_none() {
        return Err(Error::refused(
            format!("`{env}` is not an environment of this platform"),
            crate::diagnostic::suggest(env, envs.names()),
        ));
    }
    let internal = envs.internal();
    if env == internal || envs.is_local(env) || unvalidated || promoted {
        return Ok(());
    }
    let prev = envs.previous(env).unwrap_or(internal);
    Err(Error::refused(
        format!(
            "`{env}` is an external environment: changes reach it by promotion, after they were validated on `{prev}`"
        ),
        Some(format!(
            "run `plinth promote --to {env}`; in an emergency, `plinth apply --env {env} --unvalidated` applies anyway and records that it skipped validation"
        )),
    ))
}

/// Generates nothing (the caller prepared the revision) and applies it to one environment,
/// recording the attempt and its outcome; then runs the environment's verification checks.
/// SIGINT/SIGTERM stop Terraform gracefully and end in an `interrupted` record.
pub fn apply(repo: &Repo, prepared: &Prepared, opts: &ApplyOptions<'_>) -> Result<ApplyReport> {
    let env = opts.environment;
    let p = &prepared.platform;
    // Destroying needs no route: the caller confirmed the environment by name.
    if !opts.destroy {
        require_route(p, env, opts.unvalidated, opts.promotion.is_some())?;
    }
    under_lock(repo, opts, || apply_locked(repo, prepared, opts))
}

/// Runs `f` holding the environment's lock, with SIGINT/SIGTERM forwarded to the engines it
/// starts (the lock names them, for `unlock`).
fn under_lock<T>(repo: &Repo, opts: &ApplyOptions<'_>, f: impl FnOnce() -> Result<T>) -> Result<T> {
    supervise::install();
    let guard = lock::acquire(&repo.git_dir, opts.environment, &opts.command)?;
    supervise::set_listener(Some(guard.engine_listener()));
    let result = f();
    supervise::set_listener(None);
    drop(guard);
    result
}

/// The record store to append to (signing records as the platform requires) and `env`'s
/// resolved configuration, which each record keeps beside it.
fn recording<'a>(
    repo: &Repo,
    prepared: &'a Prepared,
    env: &str,
) -> Result<(Store, &'a crate::Resolved)> {
    let mut store = repo.store.clone();
    store.sign = repo.require_signed(&prepared.platform);
    let resolved = prepared.resolution.get(env).ok_or_else(|| {
        Error::refused(
            format!("`{env}` is not an environment of this platform"),
            None,
        )
    })?;
    Ok((store, resolved))
}

fn apply_locked(repo: &Repo, prepared: &Prepared, opts: &ApplyOptions<'_>) -> Result<ApplyReport> {
    let env = opts.environment;
    let p = &prepared.platform;
    let (store, resolved) = recording(repo, prepared, env)?;
    let snapshot = resolved.to_json();
    output_unchanged(repo, prepared)?;
    let terraform = terraform_for(prepared, env)?;
    let engine_version = engine_version(&terraform);
    let history = store.records(env)?;
    let selection = if opts.destroy {
        Selection::every(&prepared.content, "destroy removes every root's resources")
    } else {
        prepared.selection(&history)
    };
    let run_roots: Vec<(String, PathBuf)> = roots(p, &prepared.out, None)
        .into_iter()
        .filter(|(k, _)| selection.run.contains_key(k))
        .collect();
    let mut provider_locks = kept_provider_locks(&history, &selection);
    let base = Record {
        tree: prepared.tree.clone(),
        roots: prepared.content.roots.clone(),
        ran: selection.run.keys().cloned().collect(),
        local_overrides: prepared.content.local_overrides.clone(),
        engine: engine_version,
        unvalidated: opts.unvalidated,
        validated_by: opts.promotion.map(|pr| pr.tag.clone()),
        output: prepared.output.clone(),
        provider_locks: provider_locks.clone(),
        ..Record::new(
            env,
            &prepared.commit,
            &prepared.content.hash,
            Outcome::Started,
            &opts.via,
        )
    };
    if supervise::interrupted().is_some() {
        return Err(interrupted_before_start(env));
    }
    let started = store.append(base.clone(), &snapshot)?;
    let engine = Engine {
        terraform: &terraform,
        environment: env,
        backend_config: backend_redirect(p, prepared),
        jobs: opts.jobs,
        observer: opts.observer,
        expected_locks: opts
            .promotion
            .map(|pr| pr.expected_locks.clone())
            .unwrap_or_default(),
        destroy: opts.destroy,
    };
    let results = engine.run(&run_roots, true);
    let changed_under_us = output_changed_while_running(prepared);
    for r in &results {
        if !r.outcome.is_failure()
            && let Some(h) = provider_lock(&r.dir)
        {
            provider_locks.insert(r.root.clone(), h);
        }
    }
    let mut failures: Vec<String> = results
        .iter()
        .filter_map(|r| match &r.outcome {
            RootOutcome::Failed { step, error } => Some(format!(
                "{}: {step}: {}",
                r.root,
                error.lines().take(12).collect::<Vec<_>>().join("\n")
            )),
            _ => None,
        })
        .collect();
    failures.extend(changed_under_us);
    let interrupted = supervise::interrupted().is_some()
        || results
            .iter()
            .any(|r| matches!(r.outcome, RootOutcome::Interrupted));
    let outcome = if interrupted {
        Outcome::Interrupted
    } else if !failures.is_empty() {
        Outcome::Failed
    } else if opts.destroy {
        Outcome::Destroyed
    } else {
        Outcome::Succeeded
    };
    let done = Record {
        outcome,
        time: record::now(),
        provider_locks,
        error: if interrupted {
            Some(format!(
                "stopped by signal {}: Terraform was told to stop and waited for",
                supervise::interrupted().unwrap_or(0)
            ))
        } else {
            (!failures.is_empty()).then(|| failures.join("\n"))
        },
        ..base
    };
    let _ = started;
    let record = store.append(done, &snapshot)?;
    let compat_tag = if opts.compat_tags && record.outcome == Outcome::Succeeded {
        Some(store.compat_tag(&record)?)
    } else {
        None
    };
    let checks = p.settings.policy.checks_for(env);
    let verification = if record.outcome == Outcome::Succeeded && !checks.is_empty() {
        Some(verify_recorded(
            &store, prepared, env, &terraform, &record, &checks, &snapshot,
        )?)
    } else {
        None
    };
    Ok(ApplyReport {
        record,
        results,
        compat_tag,
        selection,
        verification,
        new_lock_files: prepared.new_lock_files.clone(),
    })
}

/// Under the lock, the output must still hold what was prepared: the record names it.
fn output_unchanged(repo: &Repo, prepared: &Prepared) -> Result<()> {
    let now = hash::content(
        &prepared.platform,
        &prepared.resolution,
        &prepared.out,
        &if prepared.scratch.is_some() {
            prepared.content.local_overrides.keys().cloned().collect()
        } else {
            repo.untracked_in(&prepared.out)
        },
    )?;
    if now.hash != prepared.content.hash {
        return Err(Error::refused(
            format!(
                "`{}` changed while the apply was being prepared",
                prepared.out.display()
            ),
            Some("another command wrote the output; run the apply again".into()),
        ));
    }
    Ok(())
}

/// What Terraform read must still be what the record names: a change to the output while it
/// ran (another checkout, a hand edit) makes the run fail rather than succeed.
fn output_changed_while_running(prepared: &Prepared) -> Option<String> {
    let after = hash::content(
        &prepared.platform,
        &prepared.resolution,
        &prepared.out,
        &prepared.content.local_overrides.keys().cloned().collect(),
    )
    .map(|c| c.hash)
    .unwrap_or_default();
    (after != prepared.content.hash).then(|| {
        format!(
            "`{}` changed while Terraform ran (content {after} instead of {}): what was applied is not what this record names; run the apply again",
            prepared.out.display(),
            prepared.content.hash
        )
    })
}

fn interrupted_before_start(env: &str) -> Error {
    Error::refused(
        format!("interrupted before anything was applied to `{env}`"),
        None,
    )
}

/// Appends the verification of what `applied` applied.
fn append_verification(
    store: &Store,
    applied: &Record,
    checks: Vec<record::CheckResult>,
    snapshot: &serde_json::Value,
) -> Result<Record> {
    let passed = checks.iter().all(|c| c.passed);
    let rec = Record {
        outcome: if passed {
            Outcome::Verified
        } else {
            Outcome::VerificationFailed
        },
        time: record::now(),
        via: "verify".into(),
        ran: Vec::new(),
        checks,
        error: None,
        unvalidated: false,
        validated_by: None,
        ..applied.clone()
    };
    store.append(rec, snapshot)
}

/// Runs `env`'s verification checks against what it runs now (the last success, which must
/// be the working tree's content) and records the outcome.
pub fn verify_env(repo: &Repo, prepared: &Prepared, env: &str, command: &str) -> Result<Record> {
    let p = &prepared.platform;
    let checks = p.settings.policy.checks_for(env);
    if checks.is_empty() {
        return Err(Error::refused(
            format!("the platform has no verification checks for `{env}`"),
            Some("declare them under `[[promotion.verify]]` in plinth.toml".into()),
        ));
    }
    supervise::install();
    let _guard = lock::acquire(&repo.git_dir, env, command)?;
    let (store, resolved) = recording(repo, prepared, env)?;
    let applied = store.latest_success(env)?.ok_or_else(|| {
        Error::refused(
            format!("nothing was applied to `{env}` yet"),
            Some(format!("`plinth apply --env {env}` first")),
        )
    })?;
    if applied.content_hash != prepared.content.hash {
        return Err(Error::refused(
            format!(
                "`{env}` runs {} ({}), not this revision's content",
                record::short(&applied.commit),
                applied.content_hash
            ),
            Some(format!(
                "check out {} to verify what `{env}` runs, or apply this revision first",
                record::short(&applied.commit)
            )),
        ));
    }
    let terraform = terraform_for(prepared, env)?;
    verify_recorded(
        &store,
        prepared,
        env,
        &terraform,
        &applied,
        &checks,
        &resolved.to_json(),
    )
}

/// Runs `checks` on `env` against what `record` applied and appends their outcome.
fn verify_recorded(
    store: &Store,
    prepared: &Prepared,
    env: &str,
    terraform: &Terraform,
    record: &Record,
    checks: &[&policy::Check],
    snapshot: &serde_json::Value,
) -> Result<Record> {
    let ctx = verify::Context {
        prepared,
        environment: env,
        terraform,
        backend_config: backend_redirect(&prepared.platform, prepared),
    };
    let results = verify::run(&ctx, checks);
    append_verification(store, record, results, snapshot)
}

/// Terraform, found and given the sensitive inputs of `env`.
fn terraform_for(prepared: &Prepared, env: &str) -> Result<Terraform> {
    let mut terraform = Terraform::find().map_err(|e| Error::refused(e.to_string(), None))?;
    terraform.inputs = crate::secrets::terraform_inputs(&prepared.resolution, env)?;
    Ok(terraform)
}

/// The version a record names as its engine.
fn engine_version(terraform: &Terraform) -> String {
    terraform
        .version()
        .unwrap_or_else(|_| "terraform (unknown version)".into())
}

/// The provider lock files a run keeps from the last success: unchanged roots keep running
/// the providers they last ran with.
fn kept_provider_locks(history: &[Record], selection: &Selection) -> BTreeMap<String, String> {
    history
        .iter()
        .rev()
        .find(|r| r.outcome == Outcome::Succeeded)
        .map(|r| {
            r.provider_locks
                .iter()
                .filter(|(k, _)| selection.unchanged.contains(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// A local state file that an interrupted Terraform run left half-written or empty (Terraform
/// rewrites it in place; a workspace without state has no file at all).
fn damaged_state(dir: &Path, backend_config: &[String], env: &str) -> Option<PathBuf> {
    let workspaces = backend_config
        .iter()
        .find_map(|c| c.strip_prefix("workspace_dir="))
        .map_or_else(|| dir.join("terraform.tfstate.d"), PathBuf::from);
    [
        workspaces.join(env).join("terraform.tfstate"),
        dir.join("terraform.tfstate"),
    ]
    .into_iter()
    .find(|p| {
        std::fs::read(p).is_ok_and(|b| serde_json::from_slice::<serde_json::Value>(&b).is_err())
    })
}

/// With the local backend, a past revision applied from a scratch checkout keeps using the
/// output directory's state.
fn backend_redirect(p: &Platform, prepared: &Prepared) -> Vec<String> {
    let Some(state_out) = &prepared.state_dir else {
        return Vec::new();
    };
    if crate::render::backend::kind(&p.settings.backend) != "local" {
        return Vec::new();
    }
    vec![format!(
        "workspace_dir={}",
        state_out.join("terraform.tfstate.d").display()
    )]
}

/// A promotion found allowed: the record it relies on.
#[derive(Debug, Clone)]
pub struct Promotion {
    /// The environment before the target.
    pub previous: String,
    pub record: Record,
    /// `plinth/<env>/<sequence>` of that record.
    pub tag: String,
    /// The provider lock file of each root there.
    pub expected_locks: BTreeMap<String, String>,
    /// The verification record it relies on, when the policy has checks.
    pub verification: Option<Record>,
    /// How long the content ran on the previous environment (seconds).
    pub soaked: u64,
}

/// How long the run of a success record lasted: until the next attempt that changed content
/// (or now).
fn run_length(history: &[Record], i: usize, now: u64) -> u64 {
    let start = record::parse_rfc3339(&history[i].time).unwrap_or(now);
    let end = history[i + 1..]
        .iter()
        .find(|r| r.content_hash != history[i].content_hash && !r.outcome.is_verification())
        .and_then(|r| record::parse_rfc3339(&r.time))
        .unwrap_or(now);
    end.saturating_sub(start)
}

/// Checks that `prepared` may be promoted to `to`: the same content was applied successfully to
/// the environment before it, by a record that verifies (its chain, its commit and tree, the
/// content hash recomputed at that commit, its signature when records are signed), not with
/// `--unvalidated`, that passed the environment's checks and ran there at least the soak time.
pub fn check_promotion(
    repo: &Repo,
    p: &Platform,
    to: &str,
    prepared: &Prepared,
) -> Result<Promotion> {
    let envs = &p.environments;
    if envs.index(to).is_none() {
        return Err(Error::refused(
            format!("`{to}` is not an environment of this platform"),
            crate::diagnostic::suggest(to, envs.names()),
        ));
    }
    if envs.is_local(to) {
        return Err(Error::refused(
            format!(
                "`{to}` is a local environment, outside the promotion chain: nothing is promoted to it"
            ),
            Some(format!(
                "apply it directly with `plinth apply --env {to}`; it never gates a promotion either"
            )),
        ));
    }
    let Some(prev) = envs.previous(to) else {
        return Err(Error::refused(
            format!(
                "`{to}` is the internal environment: changes reach it with `plinth apply --env {to}`, not by promotion"
            ),
            None,
        ));
    };
    let signed = repo.require_signed(p);
    let audit = repo.store.audit(prev, signed)?;
    let history: Vec<Record> = audit
        .entries
        .iter()
        .filter_map(|e| {
            let mut r = e.record.clone()?;
            r.sequence = e.sequence;
            Some(r)
        })
        .collect();
    let what = format!(
        "revision {} ({})",
        record::short(&prepared.commit),
        &prepared.content.hash[..prepared.content.hash.len().min(19)]
    );
    if let Some(gone) = history
        .iter()
        .rev()
        .find(|r| !r.outcome.is_verification())
        .filter(|r| r.outcome == Outcome::Destroyed)
    {
        return Err(Error::refused(
            format!(
                "`{prev}` was destroyed at {} (record {:06}): nothing validated runs there to promote from",
                gone.time, gone.sequence
            ),
            Some(format!(
                "apply the revision to `{prev}` again (`plinth apply --env {prev}`) before promoting it to `{to}`"
            )),
        ));
    }
    let candidates: Vec<usize> = history
        .iter()
        .enumerate()
        .rev()
        .filter(|(_, r)| r.outcome == Outcome::Succeeded && r.content_hash == prepared.content.hash)
        .map(|(i, _)| i)
        .collect();
    if candidates.is_empty() {
        let hint = match history
            .iter()
            .rev()
            .find(|r| r.outcome == Outcome::Succeeded)
        {
            Some(last) => format!(
                "`{prev}` last applied {} successfully at {}, whose content differs; apply this revision to `{prev}` first (`plinth apply --env {prev}`), or promote an older validated one with `--from-revision {}`",
                record::short(&last.commit),
                last.time,
                record::short(&last.commit)
            ),
            None => {
                format!("nothing was applied to `{prev}` yet: `plinth apply --env {prev}` first")
            }
        };
        return Err(Error::refused(
            format!("{what} has not been validated on `{prev}`, the environment before `{to}`"),
            Some(hint),
        ));
    }
    let checks = p.settings.policy.checks_for(prev);
    let soak = p.settings.policy.soak;
    let now = record::now_secs();
    let mut first_refusal: Option<Error> = None;
    for i in candidates {
        let rec = &history[i];
        // Integrity first: a record that does not verify is refused outright.
        let entry = audit.trusted(rec.sequence)?;
        if rec.format < record::FORMAT {
            return Err(Error::refused(
                format!(
                    "record {:06} of `{prev}` was written by Plinth {}, before records could be verified",
                    rec.sequence, rec.plinth
                ),
                Some(format!(
                    "apply this revision to `{prev}` again (`plinth apply --env {prev}`): nothing changes, and the new record can be verified"
                )),
            ));
        }
        if signed {
            repo.store.verify_signature(entry)?;
        }
        if repo.tree_of(&rec.commit).ok().as_deref() != Some(rec.tree.as_str()) {
            return Err(Error::refused(
                format!(
                    "record {:06} of `{prev}` names commit {} with tree {}, which is not that commit's tree",
                    rec.sequence,
                    record::short(&rec.commit),
                    record::short(&rec.tree)
                ),
                Some("the record is forged or damaged: find out who wrote it".into()),
            ));
        }
        let at_commit = repo.content_at(&rec.commit, rec.output.as_deref())?;
        if at_commit != rec.content_hash {
            return Err(Error::refused(
                format!(
                    "record {:06} of `{prev}` says commit {} has content {}, but it has {at_commit}",
                    rec.sequence,
                    record::short(&rec.commit),
                    rec.content_hash
                ),
                Some(if rec.output.is_none() {
                    format!(
                        "that revision's output was not committed and is generated again here; Plinth {} wrote the record, this is Plinth {}: apply to `{prev}` again with this version",
                        rec.plinth,
                        crate::VERSION
                    )
                } else {
                    "the record does not describe its commit: it is forged or damaged".into()
                }),
            ));
        }
        if rec.unvalidated {
            first_refusal.get_or_insert_with(|| Error::refused(
                format!("{what} reached `{prev}` with `--unvalidated`: it was never validated on the environments before it"),
                Some(format!("apply it through the chain (`plinth promote --to {prev}`), or apply `{to}` with `--unvalidated` too")),
            ));
            continue;
        }
        let verification = if checks.is_empty() {
            None
        } else {
            let end = history[i + 1..]
                .iter()
                .position(|r| {
                    r.content_hash != rec.content_hash || r.outcome.is_unfinished_attempt()
                })
                .map_or(history.len(), |n| i + 1 + n);
            let window = &history[i + 1..end];
            match window.iter().rev().find(|r| r.outcome == Outcome::Verified) {
                Some(v) => {
                    audit.trusted(v.sequence)?;
                    Some(v.clone())
                }
                None => {
                    let why = match window
                        .iter()
                        .rev()
                        .find(|r| r.outcome == Outcome::VerificationFailed)
                    {
                        Some(f) => {
                            let failed: Vec<String> = f
                                .checks
                                .iter()
                                .filter(|c| !c.passed)
                                .map(|c| {
                                    format!(
                                        "`{}`: {}",
                                        c.name,
                                        c.detail.lines().next().unwrap_or_default()
                                    )
                                })
                                .collect();
                            format!(
                                "its verification on `{prev}` failed at {} ({})",
                                f.time,
                                failed.join("; ")
                            )
                        }
                        None => format!("it has not been verified on `{prev}`"),
                    };
                    first_refusal.get_or_insert_with(|| {
                        Error::refused(
                            format!("{what} was applied to `{prev}`, but {why}"),
                            Some(format!(
                                "run the checks again with `plinth verify --env {prev}` once the environment is healthy"
                            )),
                        )
                    });
                    continue;
                }
            }
        };
        let soaked = run_length(&history, i, now);
        if soaked < soak {
            first_refusal.get_or_insert_with(|| {
                Error::refused(
                    format!(
                        "{what} has run on `{prev}` for {}; the platform requires {} there before promotion (`[promotion] soak`)",
                        policy::format_duration(soaked),
                        policy::format_duration(soak)
                    ),
                    Some(format!(
                        "{} left: promote after {}",
                        policy::format_duration(soak - soaked),
                        record::rfc3339(now + (soak - soaked))
                    )),
                )
            });
            continue;
        }
        return Ok(Promotion {
            previous: prev.to_string(),
            record: rec.clone(),
            tag: entry.refname.trim_start_matches("refs/tags/").to_string(),
            expected_locks: rec.provider_locks.clone(),
            verification,
            soaked,
        });
    }
    Err(first_refusal.unwrap_or_else(|| Error::refused(format!("{what} cannot be promoted"), None)))
}

/// Verification of an environment's current content, for `status`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VerificationStatus {
    /// `verified`, `verification_failed`, or `not_verified`.
    pub state: String,
    pub time: Option<String>,
    pub failed: Vec<String>,
}

/// One environment's place in the record.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EnvStatus {
    pub environment: String,
    pub internal: bool,
    pub latest: Option<Record>,
    pub last_success: Option<Record>,
    /// The latest attempt never finished: killed (`started`) or stopped by a signal.
    pub interrupted: bool,
    pub lock: Option<lock::Holder>,
    /// Commits between this environment's applied commit and the internal environment's.
    pub behind_internal_commits: Option<usize>,
    /// Whether it runs the same content as the internal environment.
    pub same_as_internal: Option<bool>,
    /// It runs content applied with `--unvalidated`.
    pub unvalidated: bool,
    /// The checks of `[promotion]` on what it runs (when it has checks).
    pub verification: Option<VerificationStatus>,
    /// How long it has run what it runs (seconds), and the soak the next promotion needs.
    pub soaked: Option<u64>,
    pub soak_required: u64,
    /// Why its record cannot be trusted, if it cannot (the first broken record).
    pub record_problem: Option<String>,
}

pub fn status(repo: &Repo, p: &Platform) -> Result<Vec<EnvStatus>> {
    let internal = p.environments.internal().to_string();
    let internal_success = repo.store.latest_success(&internal)?;
    let signed = repo.require_signed(p);
    let now = record::now_secs();
    let mut out = Vec::new();
    for env in p.environments.names() {
        let audit = repo.store.audit(env, signed)?;
        let records: Vec<Record> = audit
            .entries
            .iter()
            .filter_map(|e| {
                let mut r = e.record.clone()?;
                r.sequence = e.sequence;
                Some(r)
            })
            .collect();
        let mut record_problem = audit
            .first_problem()
            .map(|(s, p)| format!("record {s:06}: {p}"));
        if signed
            && record_problem.is_none()
            && let Some(last) = audit.entries.last()
            && let Err(e) = repo.store.verify_signature(last)
        {
            record_problem = Some(e.to_string());
        }
        let applies: Vec<&Record> = records
            .iter()
            .filter(|r| !r.outcome.is_verification())
            .collect();
        let latest = applies.last().map(|r| (*r).clone());
        let success_at = records
            .iter()
            .rposition(|r| r.outcome == Outcome::Succeeded);
        let last_success = success_at.map(|i| records[i].clone());
        let interrupted = latest
            .as_ref()
            .is_some_and(|r| matches!(r.outcome, Outcome::Started | Outcome::Interrupted));
        let (behind, same) = match (&last_success, &internal_success) {
            (Some(mine), Some(ops)) if env != internal => {
                let behind = if repo.git.is_ancestor(&mine.commit, &ops.commit) {
                    repo.git.count_between(&mine.commit, &ops.commit).ok()
                } else {
                    None
                };
                (behind, Some(mine.content_hash == ops.content_hash))
            }
            _ => (None, None),
        };
        let checks = p.settings.policy.checks_for(env);
        let verification = match (success_at, checks.is_empty()) {
            (Some(i), false) => {
                let after = &records[i + 1..];
                let v = after.iter().rev().find(|r| {
                    r.outcome.is_verification() && r.content_hash == records[i].content_hash
                });
                Some(match v {
                    Some(v) => VerificationStatus {
                        state: v.outcome.as_str().to_string(),
                        time: Some(v.time.clone()),
                        failed: v
                            .checks
                            .iter()
                            .filter(|c| !c.passed)
                            .map(|c| {
                                format!(
                                    "{}: {}",
                                    c.name,
                                    c.detail.lines().next().unwrap_or_default()
                                )
                            })
                            .collect(),
                    },
                    None => VerificationStatus {
                        state: "not_verified".into(),
                        time: None,
                        failed: Vec::new(),
                    },
                })
            }
            _ => None,
        };
        out.push(EnvStatus {
            environment: env.to_string(),
            internal: env == internal,
            unvalidated: last_success.as_ref().is_some_and(|r| r.unvalidated),
            soaked: success_at.map(|i| run_length(&records, i, now)),
            soak_required: p.settings.policy.soak,
            latest,
            last_success,
            interrupted,
            lock: lock::holder(&repo.git_dir, env),
            behind_internal_commits: behind,
            same_as_internal: same,
            verification,
            record_problem,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind_platform(state: &str) -> (tempfile::TempDir, Platform, Resolution) {
        let tmp = tempfile::tempdir().expect("tmp");
        let mut text = format!("[platform]\nname = \"t\"\nstate = \"{state}\"\n");
        for k in ["a", "b"] {
            text.push_str(&format!(
                "\n[clusters.{k}]\nprovider = \"kind\"\n[clusters.{k}.config.apps]\nname_prefix = \"{k}\"\n[clusters.{k}.node_pools.default.config.apps]\nnodes = 1\n"
            ));
        }
        std::fs::write(tmp.path().join("plinth.toml"), text).expect("write");
        let (p, r) = checked(tmp.path()).expect("valid");
        (tmp, p, r)
    }

    fn content(roots: &[(&str, &str)]) -> Content {
        Content {
            hash: "sha256:total".into(),
            roots: roots
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            local_overrides: BTreeMap::new(),
        }
    }

    fn rec(outcome: Outcome, roots: &[(&str, &str)]) -> Record {
        Record {
            roots: content(roots).roots,
            ..Record::new("ops", &"a".repeat(40), "sha256:total", outcome, "apply")
        }
    }

    #[test]
    fn roots_run_by_their_content_and_all_after_an_unfinished_attempt() {
        let (tmp, p, r) = kind_platform("cluster");
        let out = tmp.path().join("generated");
        let now = content(&[("a", "1"), ("b", "2")]);
        let ran = |history: &[Record]| -> Vec<String> {
            select_roots(&p, &r, &out, &now, history)
                .run
                .into_keys()
                .collect()
        };
        assert_eq!(ran(&[]), ["a", "b"], "nothing applied yet");
        let ok = rec(Outcome::Succeeded, &[("a", "1"), ("b", "1")]);
        assert_eq!(ran(std::slice::from_ref(&ok)), ["b"]);
        assert!(ran(&[rec(Outcome::Succeeded, &[("a", "1"), ("b", "2")])]).is_empty());
        // An attempt after the last success that did not finish may have changed any root.
        for unfinished in [Outcome::Started, Outcome::Failed, Outcome::Interrupted] {
            assert_eq!(
                ran(&[ok.clone(), rec(unfinished, &[("a", "9"), ("b", "9")])]),
                ["a", "b"],
                "{unfinished:?}"
            );
        }
        // Verification records change nothing.
        assert_eq!(ran(&[ok.clone(), rec(Outcome::Verified, &[])]), ["b"]);
        // A success that does not record its roots (an older Plinth) runs everything.
        assert_eq!(ran(&[rec(Outcome::Succeeded, &[])]), ["a", "b"]);
        // A root the last success applied and the definition no longer has is reported.
        let gone = rec(Outcome::Succeeded, &[("a", "1"), ("b", "2"), ("c", "3")]);
        let sel = select_roots(&p, &r, &out, &now, &[gone]);
        assert_eq!(sel.abandoned, ["c"]);
        assert_eq!(sel.unchanged, ["a", "b"]);
        // The platform's single root always runs.
        let (tmp, p, r) = kind_platform("platform");
        let one = content(&[("platform", "1")]);
        let sel = select_roots(
            &p,
            &r,
            &tmp.path().join("generated"),
            &one,
            &[rec(Outcome::Succeeded, &[("platform", "1")])],
        );
        assert_eq!(sel.run.keys().collect::<Vec<_>>(), ["platform"]);
    }

    /// A record's chain: contiguous, each linking its predecessor; a gap, a wrong link or a
    /// record of another environment breaks it from there on.
    #[test]
    fn the_record_chain_is_audited() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path();
        let git = record::repository(dir);
        let repo = Repo::open(dir).expect("repo");
        let head = git.resolve("HEAD").expect("head");
        let base = Record {
            tree: git.out(&["rev-parse", "HEAD^{tree}"]).expect("tree"),
            ..Record::new("ops", &head, "sha256:x", Outcome::Started, "apply")
        };
        for _ in 0..3 {
            repo.store
                .append(base.clone(), &serde_json::json!({}))
                .expect("append");
        }
        let audit = repo.store.audit("ops", false).expect("audit");
        assert!(audit.problems.is_empty(), "{:?}", audit.problems);
        assert_eq!(audit.entries.len(), 3);
        assert!(audit.trusted(3).is_ok());
        // A record moved to another number: a gap, and everything after it untrusted.
        let third = git.resolve(&record::tag("ops", 3)).expect("third");
        git.run(&["update-ref", &record::tag("ops", 5), &third, ""])
            .expect("tag");
        let audit = repo.store.audit("ops", false).expect("audit");
        assert!(audit.problems[&5].contains("gap"), "{:?}", audit.problems);
        assert!(audit.trusted(5).is_err() && audit.trusted(3).is_ok());
        git.run(&["update-ref", "-d", &record::tag("ops", 5)])
            .expect("untag");
        // Signed records required: lightweight tags are not.
        let audit = repo.store.audit("ops", true).expect("audit");
        assert!(audit.problems[&1].contains("not a signed tag"));
        // A name that is not an environment never reaches git.
        assert!(repo.store.audit("../x", false).is_err());
    }

    #[test]
    fn a_half_written_local_state_is_found() {
        let tmp = tempfile::tempdir().expect("tmp");
        let ws = tmp.path().join("terraform.tfstate.d/ops");
        std::fs::create_dir_all(&ws).expect("mkdir");
        std::fs::write(
            ws.join("terraform.tfstate"),
            r#"{"version": 4, "resources": ["#,
        )
        .expect("w");
        assert_eq!(
            damaged_state(tmp.path(), &[], "ops"),
            Some(ws.join("terraform.tfstate"))
        );
        assert_eq!(damaged_state(tmp.path(), &[], "apps"), None);
        std::fs::write(ws.join("terraform.tfstate"), "{}").expect("w");
        assert_eq!(damaged_state(tmp.path(), &[], "ops"), None);
        // Where a past revision is applied from a scratch checkout.
        let elsewhere = format!(
            "workspace_dir={}",
            tmp.path().join("terraform.tfstate.d").display()
        );
        std::fs::write(ws.join("terraform.tfstate"), "").expect("w");
        assert!(damaged_state(Path::new("/nonexistent"), &[elsewhere], "ops").is_some());
    }
}
