//! Receipts: what one CI job applied to one Terraform root, so a pipeline can fan an
//! environment's apply out over its runners and still keep one record per environment and
//! revision. Each job runs [`apply_root`] and keeps the receipt it returns (an artifact); a last
//! job hands every receipt to [`record`], which recomputes the roots the revision runs (the same
//! selection a whole `apply` makes), checks that each has a receipt for exactly this commit and
//! content, and appends one record: succeeded only when every root succeeded.
//!
//! A receipt proves no more than the job that wrote it: it binds the commit, the content hash of
//! the code base and of its root, so a receipt of another revision, root or environment is
//! refused, but a pipeline that lets untrusted code write its artifacts can lie in them as in
//! anything else.

use std::collections::BTreeMap;
use std::path::Path;

use super::record::{Outcome, Record};
use super::{
    ApplyOptions, Engine, Prepared, Promotion, Repo, RootOutcome, RootResult, backend_redirect,
    provider_lock, require_route, supervise,
};
use crate::{Error, Result};

/// The receipt format this version writes and reads.
pub const FORMAT: u32 = 1;

/// What one job applied to one root of one environment.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Receipt {
    pub format: u32,
    pub environment: String,
    pub root: String,
    /// The applied commit, and the content hashes (code base, root) it was applied with.
    pub commit: String,
    pub content_hash: String,
    pub root_hash: String,
    /// `apply`, `apply --unvalidated` or `promote from <env>`.
    pub via: String,
    /// `succeeded`, `failed` or `interrupted`.
    pub outcome: Outcome,
    /// SHA-256 of the root's `.terraform.lock.hcl` after the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_lock: Option<String>,
    pub engine: String,
    pub time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Receipt {
    /// Reads every `*.json` receipt in `dir` (a job's artifacts), sorted by file name.
    pub fn read_dir(dir: &Path) -> Result<Vec<(String, Receipt)>> {
        let entries = std::fs::read_dir(dir).map_err(|e| Error::io("read", dir, e))?;
        let mut files: Vec<_> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json") && p.is_file())
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|f| {
                let name = f.display().to_string();
                let text = crate::fsutil::read_text(&f)
                    .map_err(|e| Error::refused(format!("the receipt `{name}` {e}"), None))?;
                let r: Receipt = serde_json::from_str(&text).map_err(|e| {
                    Error::refused(
                        format!("`{name}` is not a Plinth receipt: {e}"),
                        Some(
                            "receipts are written by `plinth apply --root R --receipt FILE`".into(),
                        ),
                    )
                })?;
                if r.format != FORMAT {
                    return Err(Error::refused(
                        format!(
                            "the receipt `{name}` has format {}; this Plinth reads format {FORMAT}",
                            r.format
                        ),
                        Some("every job of a pipeline must run the same Plinth version".into()),
                    ));
                }
                Ok((name, r))
            })
            .collect()
    }
}

/// Applies one root of `prepared` to `opts.environment`, as one job of a pipeline that fans
/// out over roots: the same route checks, lock and output checks as a whole apply, but no
/// record (the pipeline's last job writes it with [`record`]). The root must be one the
/// revision runs there: an unchanged root is refused, since applying it proves nothing.
pub fn apply_root(
    repo: &Repo,
    prepared: &Prepared,
    opts: &ApplyOptions<'_>,
    root: &str,
) -> Result<(Receipt, RootResult)> {
    let env = opts.environment;
    let p = &prepared.platform;
    require_route(p, env, opts.unvalidated, opts.promotion.is_some())?;
    let dir = super::root_dir(p, &prepared.out, root)?;
    super::under_lock(repo, opts, || {
        apply_root_locked(repo, prepared, opts, root, dir)
    })
}

fn apply_root_locked(
    repo: &Repo,
    prepared: &Prepared,
    opts: &ApplyOptions<'_>,
    root: &str,
    dir: std::path::PathBuf,
) -> Result<(Receipt, RootResult)> {
    let env = opts.environment;
    let p = &prepared.platform;
    super::output_unchanged(repo, prepared)?;
    let selection = prepared.selection(&repo.store.records(env)?);
    if !selection.run.contains_key(root) {
        return Err(Error::refused(
            format!(
                "root `{root}` has nothing to apply on `{env}`: its content is what the last success applied"
            ),
            Some(format!(
                "`plinth ci matrix --env {env}` lists the roots this revision runs there"
            )),
        ));
    }
    let terraform = super::terraform_for(prepared, env)?;
    if supervise::interrupted().is_some() {
        return Err(super::interrupted_before_start(env));
    }
    let engine = Engine {
        terraform: &terraform,
        environment: env,
        backend_config: backend_redirect(p, prepared),
        jobs: 1,
        observer: opts.observer,
        expected_locks: opts
            .promotion
            .map(|pr| pr.expected_locks.clone())
            .unwrap_or_default(),
        destroy: false,
    };
    let mut results = engine.run(&[(root.to_string(), dir.clone())], true);
    let result = results.pop().unwrap_or(RootResult {
        root: root.to_string(),
        dir: dir.clone(),
        outcome: RootOutcome::NotStarted,
    });
    let changed = super::output_changed_while_running(prepared);
    let interrupted =
        supervise::interrupted().is_some() || matches!(result.outcome, RootOutcome::Interrupted);
    let error = match (&result.outcome, changed) {
        (_, Some(why)) => Some(why),
        (RootOutcome::Failed { step, error }, None) => Some(format!("{step}: {error}")),
        (RootOutcome::NotStarted, None) => Some("not started".into()),
        _ => None,
    };
    let outcome = if interrupted {
        Outcome::Interrupted
    } else if error.is_some() {
        Outcome::Failed
    } else {
        Outcome::Succeeded
    };
    let receipt = Receipt {
        format: FORMAT,
        environment: env.to_string(),
        root: root.to_string(),
        commit: prepared.commit.clone(),
        content_hash: prepared.content.hash.clone(),
        root_hash: prepared
            .content
            .roots
            .get(root)
            .cloned()
            .unwrap_or_default(),
        via: opts.via.clone(),
        outcome,
        provider_lock: provider_lock(&dir),
        engine: super::engine_version(&terraform),
        time: super::record::now(),
        error,
    };
    Ok((receipt, result))
}

/// What [`record`] appended, and what it found missing.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Recorded {
    pub record: Record,
    /// Roots the revision runs that no receipt covers (a job that never ran or was cancelled).
    pub missing: Vec<String>,
    /// Roots whose receipt says the job failed or was interrupted.
    pub failed: Vec<String>,
}

/// Appends one record of `env` from the receipts of a pipeline's per-root jobs: `succeeded`
/// only when every root the revision runs there has a receipt of success for this commit and
/// content; `failed` (or `interrupted`) otherwise, which makes the next apply run every root.
/// Receipts of another environment, commit, content, way (`via`) or of a root the revision does
/// not run are refused: nothing is recorded.
pub fn record(
    repo: &Repo,
    prepared: &Prepared,
    opts: &ApplyOptions<'_>,
    receipts: &[(String, Receipt)],
) -> Result<Recorded> {
    let env = opts.environment;
    let p = &prepared.platform;
    require_route(p, env, opts.unvalidated, opts.promotion.is_some())?;
    super::under_lock(repo, opts, || record_locked(repo, prepared, opts, receipts))
}

fn record_locked(
    repo: &Repo,
    prepared: &Prepared,
    opts: &ApplyOptions<'_>,
    receipts: &[(String, Receipt)],
) -> Result<Recorded> {
    let env = opts.environment;
    let (store, resolved) = super::recording(repo, prepared, env)?;
    let history = store.records(env)?;
    let selection = prepared.selection(&history);
    let mut by_root: BTreeMap<&str, &Receipt> = BTreeMap::new();
    for (file, r) in receipts {
        let expected_root_hash = prepared.content.roots.get(&r.root);
        let problem = if r.environment != env {
            Some(format!("is for `{}`, not `{env}`", r.environment))
        } else if r.commit != prepared.commit {
            Some(format!(
                "applied commit {}, not {}",
                super::record::short(&r.commit),
                super::record::short(&prepared.commit)
            ))
        } else if r.content_hash != prepared.content.hash {
            Some("names other content than this revision's".to_string())
        } else if !selection.run.contains_key(&r.root) {
            Some(format!(
                "is for root `{}`, which this revision does not run on `{env}`",
                r.root
            ))
        } else if expected_root_hash != Some(&r.root_hash) {
            Some(format!("names other content for root `{}`", r.root))
        } else if r.via != opts.via {
            Some(format!("was applied by `{}`, not `{}`", r.via, opts.via))
        } else if by_root.contains_key(r.root.as_str()) {
            Some(format!("is a second receipt for root `{}`", r.root))
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(Error::refused(
                format!("the receipt `{file}` {problem}: nothing was recorded"),
                Some(
                    "record with the receipts of this pipeline's own jobs, at the commit they applied"
                        .into(),
                ),
            ));
        }
        by_root.insert(r.root.as_str(), r);
    }
    let missing: Vec<String> = selection
        .run
        .keys()
        .filter(|k| !by_root.contains_key(k.as_str()))
        .cloned()
        .collect();
    let failed: Vec<String> = by_root
        .values()
        .filter(|r| r.outcome != Outcome::Succeeded)
        .map(|r| r.root.clone())
        .collect();
    let interrupted = by_root.values().any(|r| r.outcome == Outcome::Interrupted);
    let outcome = if missing.is_empty() && failed.is_empty() {
        Outcome::Succeeded
    } else if interrupted {
        Outcome::Interrupted
    } else {
        Outcome::Failed
    };
    // Unchanged roots keep the providers they last ran with; the others, what their job ran.
    let mut provider_locks = super::kept_provider_locks(&history, &selection);
    for r in by_root.values() {
        if let Some(l) = &r.provider_lock
            && r.outcome == Outcome::Succeeded
        {
            provider_locks.insert(r.root.clone(), l.clone());
        }
    }
    let mut errors: Vec<String> = missing
        .iter()
        .map(|m| format!("{m}: no receipt (its job did not run or did not finish)"))
        .collect();
    errors.extend(
        by_root
            .values()
            .filter(|r| r.outcome != Outcome::Succeeded)
            .map(|r| {
                format!(
                    "{}: {}",
                    r.root,
                    r.error.as_deref().unwrap_or(r.outcome.as_str())
                )
            }),
    );
    let engine = by_root
        .values()
        .next()
        .map_or_else(|| "terraform (not run)".to_string(), |r| r.engine.clone());
    let rec = Record {
        tree: prepared.tree.clone(),
        roots: prepared.content.roots.clone(),
        ran: selection.run.keys().cloned().collect(),
        local_overrides: prepared.content.local_overrides.clone(),
        engine,
        unvalidated: opts.unvalidated,
        validated_by: opts.promotion.map(|pr: &Promotion| pr.tag.clone()),
        output: prepared.output.clone(),
        provider_locks,
        error: (!errors.is_empty()).then(|| errors.join("\n")),
        ..Record::new(
            env,
            &prepared.commit,
            &prepared.content.hash,
            outcome,
            &opts.via,
        )
    };
    let record = store.append(rec, &resolved.to_json())?;
    Ok(Recorded {
        record,
        missing,
        failed,
    })
}
