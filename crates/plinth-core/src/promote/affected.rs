//! `plinth affected`: which environments, clusters, node pools and services a git change
//! touches, after inheritance — an edit of the base environment touches every environment that
//! does not override the key. For CI to plan only what changed.
//!
//! Both revisions are read straight from git objects (no checkout) and resolved; files of
//! service bases, patches and extra resources that changed mark the services using them.

use super::Repo;
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

/// The platform of a revision, read from git objects.
fn at(
    repo: &Repo,
    root: &Path,
    rev: &str,
    scope: &Scope,
) -> Result<Option<(Platform, Resolution)>> {
    let git_err = |e: crate::engine::EngineError| Error::refused(format!("git: {e}"), None);
    let read = match scope {
        Scope::All => repo.git.files_at(rev, &repo.prefix).map_err(git_err)?,
        Scope::Files(paths) => {
            let full: Vec<String> = paths.iter().map(|p| repo.in_repo(p)).collect();
            repo.git.read_at(rev, &full).map_err(git_err)?
        }
    };
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
        return Ok(None);
    }
    let loaded = load::load_virtual(root, &files);
    let Some(p) = loaded.platform else {
        return Ok(None);
    };
    let r = p.resolve();
    Ok(Some((p, r)))
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
    let base_commit = repo
        .git
        .resolve(base)
        .map_err(|_| Error::refused(format!("`{base}` is not a commit"), None))?;
    let head_commit = repo
        .git
        .resolve(head)
        .map_err(|_| Error::refused(format!("`{head}` is not a commit"), None))?;
    let changed: Vec<String> = repo
        .git
        .changed_paths(&base_commit, &head_commit)
        .map_err(|e| Error::refused(format!("git: {e}"), None))?
        .into_iter()
        .filter_map(|p| repo.strip_prefix(&p))
        .collect();
    let scope = scope(repo, &head_commit, &changed)?;
    // Both revisions at once, one per core.
    let (old, new) = rayon::join(
        || at(repo, root, &base_commit, &scope),
        || at(repo, root, &head_commit, &scope),
    );
    let old = old?;
    let new = new?.ok_or_else(|| {
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
        let mut clusters = BTreeMap::new();
        let keys: BTreeSet<&String> = env
            .clusters
            .keys()
            .chain(old_env.into_iter().flat_map(|o| o.clusters.keys()))
            .collect();
        for key in keys {
            let n = env.clusters.get(key);
            let o = old_env.and_then(|oe| oe.clusters.get(key));
            let mut a = ClusterAffected::default();
            match (o, n) {
                (Some(o), Some(n)) => {
                    // Resolved values compare without their origins (and sensitive values by
                    // value, which masked JSON would hide).
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
            if let Some(c) = np.clusters.get(key) {
                for s in c.services.values() {
                    if service_files_changed(
                        s,
                        env.clusters
                            .get(key)
                            .and_then(|rc| rc.services.get(&s.key))
                            .map(|rs| &rs.config),
                        &changed,
                    ) {
                        a.services.insert(s.key.clone());
                    }
                }
            }
            if a.cluster || !a.node_pools.is_empty() || !a.services.is_empty() {
                clusters.insert(key.clone(), a);
            }
        }
        out.environments.insert(env.environment.clone(), clusters);
    }
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
