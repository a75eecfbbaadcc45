//! `plinth affected`: which environments, clusters, node pools and services a git change
//! touches, after inheritance — an edit of the base environment touches every environment that
//! does not override the key. For CI to plan only what changed.
//!
//! Both revisions are read straight from git objects (no checkout) and resolved; files of
//! service bases, patches and extra resources that changed mark the services using them.

use super::Repo;
use crate::engine::git::ChangedFile;
use crate::error::{Error, Result};
use crate::load::{self, Overlay};
use crate::platform::Platform;
use crate::resolve::Resolution;
use crate::service::Source;
use crate::value::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ClusterAffected {
    /// The cluster itself (its configuration, name or existence) changed.
    pub cluster: bool,
    pub node_pools: BTreeSet<String>,
    pub services: BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Affected {
    pub base: String,
    pub head: String,
    /// By environment (in promotion order), by cluster key.
    pub environments: indexmap::IndexMap<String, BTreeMap<String, ClusterAffected>>,
}

impl Affected {
    pub fn is_empty(&self) -> bool {
        self.environments.values().all(BTreeMap::is_empty)
    }
}

/// Which definition files a comparison reads.
enum Scope {
    /// Every file: the root changed, and every cluster inherits its settings.
    All,
    /// Only these (relative to the platform): a cluster resolves from the root and its own
    /// file alone, so clusters in files that did not change cannot be affected.
    Files(Vec<String>),
}

fn is_definition(rel: &str) -> bool {
    rel == load::ROOT_FILE || (rel.starts_with("clusters/") && rel.ends_with(".toml"))
}

/// A revision's files as git names them, with their bytes.
type Files = Vec<(String, Vec<u8>)>;

/// The definition files of both revisions (paths relative to the platform), read in one
/// `git cat-file`: changed files by the object ids the diff named, the others by path once
/// (they are the same on both sides).
fn read_both(
    repo: &Repo,
    revs: (&str, &str),
    scope: &Scope,
    diff: &[ChangedFile],
) -> Result<(Files, Files)> {
    let git_err = |e: crate::engine::EngineError| Error::refused(format!("git: {e}"), None);
    let Scope::Files(paths) = scope else {
        let (old, new) = rayon::join(
            || repo.git.files_at(revs.0, &repo.prefix),
            || repo.git.files_at(revs.1, &repo.prefix),
        );
        return Ok((old.map_err(git_err)?, new.map_err(git_err)?));
    };
    let by_path: BTreeMap<String, &ChangedFile> = diff
        .iter()
        .filter_map(|c| Some((repo.strip_prefix(&c.path)?, c)))
        .collect();
    // Per path: what names it on each side (`None`: absent there).
    let names: Vec<(Option<String>, Option<String>)> = paths
        .iter()
        .map(|rel| match by_path.get(rel) {
            Some(c) => (c.old.clone(), c.new.clone()),
            None => {
                let same = format!("{}:{}", revs.1, repo.in_repo(rel));
                (Some(same.clone()), Some(same))
            }
        })
        .collect();
    let objects: Vec<String> = names
        .iter()
        .flat_map(|(o, n)| o.iter().chain(n.iter()).cloned())
        .collect();
    let mut blobs = repo.git.objects(&objects).map_err(git_err)?.into_iter();
    let (mut old, mut new) = (Vec::new(), Vec::new());
    for (rel, (o, n)) in paths.iter().zip(&names) {
        for (side, out) in [(o, &mut old), (n, &mut new)] {
            if side.is_some()
                && let Some(Some(bytes)) = blobs.next()
            {
                out.push((repo.in_repo(rel), bytes));
            }
        }
    }
    Ok((old, new))
}

/// The platform of a revision, from its definition files (paths as git names them).
fn at(repo: &Repo, root: &Path, read: Files) -> Option<(Platform, Resolution)> {
    let mut files = Overlay::new();
    for (path, bytes) in read {
        let rel = repo.in_platform(&path);
        if is_definition(&rel) {
            files.insert(
                PathBuf::from(rel),
                Some(String::from_utf8_lossy(&bytes).into_owned()),
            );
        }
    }
    if !files.contains_key(Path::new(load::ROOT_FILE)) {
        return None;
    }
    let p = load::load_virtual(root, &files).platform?;
    let r = p.resolve();
    Some((p, r))
}

/// What to read for a change of `changed` (paths relative to the platform).
fn scope(repo: &Repo, head: &str, changed: &[String]) -> Result<Scope> {
    if changed.iter().any(|c| c == load::ROOT_FILE) {
        return Ok(Scope::All);
    }
    let mut files: BTreeSet<String> = changed
        .iter()
        .filter(|c| is_definition(c))
        .cloned()
        .collect();
    files.insert(load::ROOT_FILE.to_string());
    // Other files (service bases, patches, resources) matter to the clusters whose services
    // name them: a path is written as one of its directory prefixes, right after a quote.
    let others: Vec<&String> = changed.iter().filter(|c| !is_definition(c)).collect();
    if !others.is_empty() {
        let mut needles = Vec::new();
        for c in &others {
            let mut prefix = String::new();
            for part in c.split('/') {
                if !prefix.is_empty() {
                    prefix.push('/');
                }
                prefix.push_str(part);
                needles.push(format!("\"{prefix}"));
                needles.push(format!("'{prefix}"));
            }
        }
        let clusters = repo
            .git
            .files_at(head, &repo.in_repo("clusters"))
            .map_err(|e| Error::refused(format!("git: {e}"), None))?;
        for (path, bytes) in clusters {
            let text = String::from_utf8_lossy(&bytes);
            // Escapes could spell a path any way: read such a file rather than guess.
            if text.contains('\\') || needles.iter().any(|n| text.contains(n.as_str())) {
                files.insert(repo.in_platform(&path));
            }
        }
    }
    Ok(Scope::Files(files.into_iter().collect()))
}

pub fn affected(repo: &Repo, root: &Path, base: &str, head: &str) -> Result<Affected> {
    // Both commits at once (each walks the history from its revision); the diff then names
    // them by id, so a branch moving meanwhile cannot make it compare other commits than the
    // ones reported.
    let (base_commit, head_commit) = std::thread::scope(|s| {
        let b = s.spawn(|| repo.git.resolve(base));
        let h = repo.git.resolve(head);
        (b.join(), h)
    });
    let not_a_commit = |rev: &str| Error::refused(format!("`{rev}` is not a commit"), None);
    let base_commit = base_commit
        .ok()
        .and_then(|r| r.ok())
        .ok_or_else(|| not_a_commit(base))?;
    let head_commit = head_commit.map_err(|_| not_a_commit(head))?;
    let diff = repo
        .git
        .changed_files(&base_commit, &head_commit)
        .map_err(|e| Error::refused(format!("git: {e}"), None))?;
    let changed: Vec<String> = diff
        .iter()
        .filter_map(|c| repo.strip_prefix(&c.path))
        .collect();
    let scope = scope(repo, &head_commit, &changed)?;
    let (old, new) = read_both(repo, (&base_commit, &head_commit), &scope, &diff)?;
    // Both revisions at once, one per core.
    let (old, new) = rayon::join(|| at(repo, root, old), || at(repo, root, new));
    let new = new.ok_or_else(|| {
        Error::refused(
            format!("`{head}` has no platform definition (plinth.toml) here"),
            None,
        )
    })?;
    let mut out = Affected {
        base: base_commit,
        head: head_commit,
        environments: indexmap::IndexMap::new(),
    };
    let (np, nr) = &new;
    for env in &nr.environments {
        let old_env = old.as_ref().and_then(|(_, r)| r.get(&env.environment));
        let keys: BTreeSet<&String> = env
            .clusters
            .keys()
            .chain(old_env.into_iter().flat_map(|o| o.clusters.keys()))
            .collect();
        // Clusters compare independently: on both cores, collected in key order.
        use rayon::prelude::*;
        let keys: Vec<&String> = keys.into_iter().collect();
        let compared: Vec<Option<(String, ClusterAffected)>> = keys
            .par_iter()
            .map(|key| {
                let n = env.clusters.get(*key);
                let o = old_env.and_then(|oe| oe.clusters.get(*key));
                let mut a = ClusterAffected::default();
                match (o, n) {
                    (Some(o), Some(n)) => {
                        // Resolved values compare without their origins (and sensitive values
                        // by value, which masked JSON would hide).
                        a.cluster = o.meta != n.meta
                            || o.provider.id != n.provider.id
                            || o.region != n.region
                            || o.config != n.config;
                        a.node_pools = differing(&o.node_pools, &n.node_pools, |x, y| {
                            x.name == y.name && x.config == y.config
                        });
                        a.services = differing(&o.services, &n.services, |x, y| {
                            x.kind == y.kind && x.source == y.source && x.config == y.config
                        });
                    }
                    _ => {
                        a.cluster = true;
                        if let Some(c) = n.or(o) {
                            a.node_pools = c.node_pools.keys().cloned().collect();
                            a.services = c.services.keys().cloned().collect();
                        }
                    }
                }
                if let Some(c) = np.clusters.get(*key) {
                    for s in c.services.values() {
                        if service_files_changed(
                            s,
                            n.and_then(|rc| rc.services.get(&s.key))
                                .map(|rs| &rs.config),
                            &changed,
                        ) {
                            a.services.insert(s.key.clone());
                        }
                    }
                }
                (a.cluster || !a.node_pools.is_empty() || !a.services.is_empty())
                    .then(|| ((*key).clone(), a))
            })
            .collect();
        let clusters: BTreeMap<String, ClusterAffected> = compared.into_iter().flatten().collect();
        out.environments.insert(env.environment.clone(), clusters);
    }
    // Hundreds of thousands of small values: freed off the caller's path (a CLI exits first).
    std::thread::spawn(move || drop((old, new)));
    Ok(out)
}

/// Keys present on one side only, or whose values are not `same`.
fn differing<T>(
    o: &BTreeMap<String, T>,
    n: &BTreeMap<String, T>,
    same: impl Fn(&T, &T) -> bool,
) -> BTreeSet<String> {
    o.keys()
        .chain(n.keys())
        .filter(|k| match (o.get(*k), n.get(*k)) {
            (Some(x), Some(y)) => !same(x, y),
            _ => true,
        })
        .cloned()
        .collect()
}

/// A changed file under the service's base, or one of its patches or extra resources.
fn service_files_changed(
    s: &crate::service::ServiceDef,
    config: Option<&crate::value::Table>,
    changed: &[String],
) -> bool {
    let mut prefixes: Vec<String> = Vec::new();
    if let Source::Path { path } = &s.source {
        prefixes.push(format!("{}/", path.trim_end_matches('/')));
    }
    let mut files: Vec<String> = Vec::new();
    if let Some(cfg) = config {
        for r in cfg
            .get("resources")
            .and_then(Value::as_array)
            .unwrap_or_default()
        {
            if let Some(p) = r.as_str() {
                files.push(p.to_string());
                prefixes.push(format!("{}/", p.trim_end_matches('/')));
            }
        }
        for patch in cfg
            .get("patches")
            .and_then(Value::as_array)
            .unwrap_or_default()
        {
            if let Some(p) = patch
                .as_table()
                .and_then(|t| t.get("path"))
                .and_then(Value::as_str)
            {
                files.push(p.to_string());
            }
        }
    }
    changed
        .iter()
        .any(|c| files.iter().any(|f| f == c) || prefixes.iter().any(|p| c.starts_with(p.as_str())))
}
