//! Review → plan → apply to `ops` → promote the same validated revision onward.
//!
//! Kubestack leaves promotion to convention (tags in CI); Plinth enforces it. An apply needs a
//! clean, committed tree and records its outcome in git ([`record`]); a promotion to an
//! environment is allowed only when the content it would apply was applied successfully to the
//! environment before it in the chain ([`hash`]). One apply per environment at a time
//! ([`lock`]). The platform-level plan ([`plan`]) compares with what was last applied.

pub mod affected;
pub mod hash;
pub mod lock;
pub mod matrix;
pub mod plan;
pub mod record;

use crate::engine::git::Git;
use crate::engine::terraform::{PlanSummary, Terraform};
use crate::error::{Error, Result};
use crate::platform::{Platform, StateLayout};
use crate::resolve::Resolution;
use record::{Outcome, Record, Store};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Progress of engine runs, for the CLI's progress bars. Called from worker threads.
pub trait Observer: Sync {
    fn started(&self, _root: &str) {}
    fn step(&self, _root: &str, _step: &str) {}
    fn finished(&self, _root: &str, _result: &RootOutcome) {}
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
}

impl RootOutcome {
    pub fn is_failure(&self) -> bool {
        matches!(self, RootOutcome::Failed { .. } | RootOutcome::NotStarted)
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

/// How to run the engine on a set of roots.
pub struct Engine<'a> {
    pub terraform: &'a Terraform,
    pub environment: &'a str,
    /// Partial backend configuration for every root (`key=value`).
    pub backend_config: Vec<String>,
    pub jobs: usize,
    pub observer: &'a dyn Observer,
}

impl Engine<'_> {
    /// Plans (and with `apply`, applies the saved plan of) every root, `jobs` at a time. The
    /// first failure stops new roots from starting; every root's outcome is returned.
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
                        let outcome = if failed.load(Ordering::SeqCst) {
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
        let plan_file = format!("plinth-{}.tfplan", self.environment);
        let fail = |step: &str, e: crate::engine::EngineError| RootOutcome::Failed {
            step: step.into(),
            error: e.to_string(),
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
        self.observer.step(name, "workspace");
        if let Err(e) = tf.select_workspace(dir, self.environment) {
            return fail("workspace", e);
        }
        self.observer.step(name, "plan");
        let changes = match tf.plan(dir, &plan_file) {
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
        self.observer.step(name, "apply");
        match tf.apply(dir, &plan_file) {
            Ok(_) => RootOutcome::Applied { summary },
            Err(e) => fail("apply", e),
        }
    }
}

/// A revision ready to be applied: its definition on disk and where to generate it.
pub struct Prepared {
    pub platform: Platform,
    pub resolution: Resolution,
    pub commit: String,
    pub content_hash: String,
    pub out: PathBuf,
    /// Set when applying outside the usual output directory (a past revision): where the
    /// local backend keeps the environment's state.
    pub state_dir: Option<PathBuf>,
    /// A temporary checkout to remove afterwards.
    pub scratch: Option<PathBuf>,
}

impl Drop for Prepared {
    fn drop(&mut self) {
        if let Some(s) = &self.scratch {
            let _ = std::fs::remove_dir_all(s);
        }
    }
}

/// The repository around a platform directory.
/// What [`Repo::unlock`] removed.
#[derive(Debug)]
pub struct Unlocked {
    /// Who held Plinth's lock, if anyone.
    pub holder: Option<lock::Holder>,
    /// git's leftover `<ref>.lock` files on the environment's record.
    pub ref_locks: Vec<PathBuf>,
}

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

    /// Breaks `env`'s lock and removes the locks git left on its record refs (both are left
    /// by a run that was killed; `plinth unlock` is how the user says none is running).
    pub fn unlock(&self, env: &str) -> Result<Unlocked> {
        let holder = lock::break_lock(&self.git_dir, env)?;
        let ref_locks = self.store.ref_locks(env);
        for l in &ref_locks {
            crate::fsutil::remove_file(l)?;
        }
        Ok(Unlocked { holder, ref_locks })
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
        let dirty = self.git.dirty(dir).map_err(git_err)?;
        if dirty.is_empty() {
            return Ok(());
        }
        let shown: Vec<&str> = dirty.iter().take(8).map(String::as_str).collect();
        let more = if dirty.len() > shown.len() {
            format!(" and {} more", dirty.len() - shown.len())
        } else {
            String::new()
        };
        let hint = if dirty.iter().all(|f| f.ends_with(".terraform.lock.hcl")) {
            "`terraform init` wrote a dependency lock file: commit it, it pins the providers' exact versions and hashes for every later apply".to_string()
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

    /// The working tree's platform at HEAD (which must be clean).
    pub fn prepare_head(&self, dir: &Path, out: &Path) -> Result<Prepared> {
        self.require_clean(dir)?;
        let commit = self.git.resolve("HEAD").map_err(|_| {
            Error::refused(
                "the repository has no commit yet",
                Some("commit the platform first".into()),
            )
        })?;
        let (platform, resolution) = checked(dir)?;
        let content_hash = hash::content_hash(&platform, &resolution)?;
        Ok(Prepared {
            platform,
            resolution,
            commit,
            content_hash,
            out: out.to_path_buf(),
            state_dir: None,
            scratch: None,
        })
    }

    /// A past revision's platform, checked out into the git directory.
    pub fn prepare_revision(&self, dir: &Path, rev: &str, out: &Path) -> Result<Prepared> {
        let commit = self.git.resolve(rev).map_err(|_| {
            Error::refused(format!("`{rev}` is not a commit of this repository"), None)
        })?;
        let scratch = self
            .git_dir
            .join("plinth")
            .join("revisions")
            .join(record::short(&commit));
        if scratch.exists() {
            std::fs::remove_dir_all(&scratch).map_err(|e| Error::io("remove", &scratch, e))?;
        }
        for (path, bytes) in self.git.files_at(&commit, &self.prefix).map_err(git_err)? {
            let rel = self.in_platform(&path);
            let rel = rel.as_str();
            if rel.starts_with("generated/") || !crate::render::is_safe_relative(rel) {
                continue;
            }
            let dst = scratch.join(rel);
            if let Some(parent) = dst.parent() {
                std::fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
            }
            std::fs::write(&dst, bytes).map_err(|e| Error::io("write", &dst, e))?;
        }
        let (platform, resolution) = checked(&scratch)?;
        let content_hash = hash::content_hash(&platform, &resolution)?;
        let _ = dir;
        Ok(Prepared {
            platform,
            resolution,
            commit,
            content_hash,
            out: scratch.join("generated"),
            state_dir: Some(out.to_path_buf()),
            scratch: Some(scratch),
        })
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
}

/// Options of an apply.
pub struct ApplyOptions<'a> {
    pub environment: &'a str,
    pub jobs: usize,
    /// `apply` or `promote from <env>`, for the record.
    pub via: String,
    /// Also tag the applied commit Kubestack-style (`<env>-deploy-<n>`).
    pub compat_tags: bool,
    pub command: String,
    pub observer: &'a dyn Observer,
}

/// Generates `prepared` and applies it to one environment, recording the attempt and its
/// outcome. Only the roots whose clusters changed since the last success are run.
pub fn apply(
    repo: &Repo,
    dir: &Path,
    prepared: &Prepared,
    opts: &ApplyOptions<'_>,
) -> Result<ApplyReport> {
    let env = opts.environment;
    let _lock = lock::acquire(&repo.git_dir, env, &opts.command)?;
    let p = &prepared.platform;
    let resolved = prepared.resolution.get(env).ok_or_else(|| {
        Error::refused(
            format!("`{env}` is not an environment of this platform"),
            None,
        )
    })?;
    let snapshot = resolved.to_json();
    let tree = crate::generate::render_all(p, &prepared.resolution, &prepared.out)?;
    crate::generate::write(&prepared.out, &tree, false)?;
    if let Some(canonical) = &prepared.state_dir {
        carry_overrides(p, canonical, &prepared.out)?;
    }
    if prepared.scratch.is_none() {
        // A tracked output that generation changed was not what was committed.
        repo.require_clean(dir).map_err(|_| {
            Error::refused(
                "the committed generated output is not current",
                Some("run `plinth generate`, review and commit the result, then apply".into()),
            )
        })?;
    }
    let mut terraform = Terraform::find().map_err(|e| Error::refused(e.to_string(), None))?;
    terraform.inputs = crate::secrets::terraform_inputs(&prepared.resolution, env)?;
    let engine_version = terraform
        .version()
        .unwrap_or_else(|_| "terraform (unknown version)".into());
    let last = repo.store.latest_success(env)?;
    let affected: Option<BTreeSet<String>> = last
        .as_ref()
        .and_then(|r| repo.store.resolved(r))
        .map(|old| {
            plan::diff(&snapshot, Some(&old))
                .clusters
                .iter()
                .map(|c| c.key.clone())
                .chain(crate::secrets::clusters_with_sensitive(
                    &prepared.resolution,
                ))
                .collect()
        });
    let roots = match (&p.settings.state, &affected) {
        (StateLayout::Cluster, Some(a)) => roots(p, &prepared.out, Some(a)),
        _ => roots(p, &prepared.out, None),
    };
    let base = Record {
        environment: env.to_string(),
        sequence: 0,
        commit: prepared.commit.clone(),
        content_hash: prepared.content_hash.clone(),
        outcome: Outcome::Started,
        time: record::now(),
        engine: engine_version,
        plinth: crate::VERSION.to_string(),
        user: lock::Holder::current("").user,
        host: lock::hostname(),
        via: opts.via.clone(),
        error: None,
    };
    repo.store.append(base.clone(), &snapshot)?;
    let backend_config = backend_redirect(p, prepared);
    let engine = Engine {
        terraform: &terraform,
        environment: env,
        backend_config,
        jobs: opts.jobs,
        observer: opts.observer,
    };
    let results = engine.run(&roots, true);
    let failures: Vec<String> = results
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
    let done = Record {
        outcome: if failures.is_empty() {
            Outcome::Succeeded
        } else {
            Outcome::Failed
        },
        time: record::now(),
        error: (!failures.is_empty()).then(|| failures.join("\n")),
        ..base
    };
    let record = repo.store.append(done, &snapshot)?;
    let compat_tag = if opts.compat_tags && record.outcome == Outcome::Succeeded {
        Some(repo.store.compat_tag(&record)?)
    } else {
        None
    };
    Ok(ApplyReport {
        record,
        results,
        compat_tag,
    })
}

/// The roots of `env` an apply of `prepared` runs: with per-cluster state, those whose clusters
/// changed since the environment's last success (and those with sensitive values, which the
/// record cannot compare); otherwise, and without a success yet, every root.
pub fn pending_roots(
    repo: &Repo,
    prepared: &Prepared,
    env: &str,
) -> Result<Vec<(String, PathBuf)>> {
    let p = &prepared.platform;
    let resolved = prepared.resolution.get(env).ok_or_else(|| {
        Error::refused(
            format!("`{env}` is not an environment of this platform"),
            None,
        )
    })?;
    let snapshot = resolved.to_json();
    let last = repo.store.latest_success(env)?;
    let affected: Option<BTreeSet<String>> = last
        .as_ref()
        .and_then(|r| repo.store.resolved(r))
        .map(|old| {
            plan::diff(&snapshot, Some(&old))
                .clusters
                .iter()
                .map(|c| c.key.clone())
                .chain(crate::secrets::clusters_with_sensitive(
                    &prepared.resolution,
                ))
                .collect()
        });
    Ok(match (&p.settings.state, &affected) {
        (StateLayout::Cluster, Some(a)) => roots(p, &prepared.out, Some(a)),
        _ => roots(p, &prepared.out, None),
    })
}

/// A past revision applied from a scratch checkout gets the output directory's own
/// `*_override.tf` files (the team's local adjustments apply to whatever revision runs there).
fn carry_overrides(p: &Platform, canonical: &Path, scratch_out: &Path) -> Result<()> {
    for (_, dir) in roots(p, canonical, None) {
        let rel = dir.strip_prefix(canonical).unwrap_or(Path::new(""));
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with("_override.tf") || name == "override.tf" {
                let dst = scratch_out.join(rel).join(&name);
                std::fs::copy(e.path(), &dst).map_err(|err| Error::io("copy", e.path(), err))?;
            }
        }
    }
    Ok(())
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

/// Checks that `prepared` may be promoted to `to`: the same content was applied successfully to
/// the environment before it. Returns that environment and its record.
pub fn check_promotion(
    repo: &Repo,
    p: &Platform,
    to: &str,
    prepared: &Prepared,
) -> Result<(String, Record)> {
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
    let records = repo.store.records(prev)?;
    if let Some(r) = records
        .iter()
        .rev()
        .find(|r| r.outcome == Outcome::Succeeded && r.content_hash == prepared.content_hash)
    {
        return Ok((prev.to_string(), r.clone()));
    }
    let what = format!(
        "revision {} ({})",
        record::short(&prepared.commit),
        &prepared.content_hash[..prepared.content_hash.len().min(19)]
    );
    let hint = match records
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
        None => format!("nothing was applied to `{prev}` yet: `plinth apply --env {prev}` first"),
    };
    Err(Error::refused(
        format!("{what} has not been validated on `{prev}`, the environment before `{to}`"),
        Some(hint),
    ))
}

/// One environment's place in the record.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EnvStatus {
    pub environment: String,
    pub internal: bool,
    pub latest: Option<Record>,
    pub last_success: Option<Record>,
    /// The latest attempt started and never recorded an outcome.
    pub interrupted: bool,
    pub lock: Option<lock::Holder>,
    /// Commits between this environment's applied commit and the internal environment's.
    pub behind_internal_commits: Option<usize>,
    /// Whether it runs the same content as the internal environment.
    pub same_as_internal: Option<bool>,
}

pub fn status(repo: &Repo, p: &Platform) -> Result<Vec<EnvStatus>> {
    let internal = p.environments.internal().to_string();
    let internal_success = repo.store.latest_success(&internal)?;
    let mut out = Vec::new();
    for env in p.environments.names() {
        let records = repo.store.records(env)?;
        let latest = records.last().cloned();
        let last_success = records
            .iter()
            .rev()
            .find(|r| r.outcome == Outcome::Succeeded)
            .cloned();
        let interrupted = latest
            .as_ref()
            .is_some_and(|r| r.outcome == Outcome::Started);
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
        out.push(EnvStatus {
            environment: env.to_string(),
            internal: env == internal,
            latest,
            last_success,
            interrupted,
            lock: lock::holder(&repo.git_dir, env),
            behind_internal_commits: behind,
            same_as_internal: same,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

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
