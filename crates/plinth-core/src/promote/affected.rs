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

/// The platform of a revision, read from git objects.
fn at(repo: &Repo, root: &Path, rev: &str) -> Result<Option<(Platform, Resolution)>> {
    let mut files = Overlay::new();
    for (path, bytes) in repo
        .git
        .files_at(rev, &repo.prefix)
        .map_err(|e| Error::refused(format!("git: {e}"), None))?
    {
        let rel = if repo.prefix.is_empty() {
            path
        } else {
            path.strip_prefix(&format!("{}/", repo.prefix))
                .map(String::from)
                .unwrap_or(path)
        };
        if rel == load::ROOT_FILE || (rel.starts_with("clusters/") && rel.ends_with(".toml")) {
            files.insert(
                PathBuf::from(rel),
                Some(String::from_utf8_lossy(&bytes).into_owned()),
            );
        }
    }
    if files.is_empty() {
        return Ok(None);
    }
    let loaded = load::load_virtual(root, &files);
    let Some(p) = loaded.platform else {
        return Ok(None);
    };
    let r = p.resolve();
    Ok(Some((p, r)))
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
    let old = at(repo, root, &base_commit)?;
    let new = at(repo, root, &head_commit)?.ok_or_else(|| {
        Error::refused(
            format!("`{head}` has no platform definition (plinth.toml) here"),
            None,
        )
    })?;
    let changed: Vec<String> = repo
        .git
        .changed_paths(&base_commit, &head_commit)
        .map_err(|e| Error::refused(format!("git: {e}"), None))?
        .into_iter()
        .filter_map(|p| {
            if repo.prefix.is_empty() {
                Some(p)
            } else {
                p.strip_prefix(&format!("{}/", repo.prefix))
                    .map(String::from)
            }
        })
        .collect();
    let mut out = Affected {
        base: base_commit,
        head: head_commit,
        environments: indexmap::IndexMap::new(),
    };
    let (np, nr) = &new;
    for env in &nr.environments {
        let old_env = old.as_ref().and_then(|(_, r)| r.get(&env.environment));
        let mut clusters = BTreeMap::new();
        let new_json = env.to_json();
        let old_json = old_env.map(crate::resolve::Resolved::to_json);
        let keys: BTreeSet<&String> = env
            .clusters
            .keys()
            .chain(old_env.into_iter().flat_map(|o| o.clusters.keys()))
            .collect();
        for key in keys {
            let n = env
                .clusters
                .contains_key(key)
                .then(|| new_json["clusters"][key].clone());
            let o = old_json
                .as_ref()
                .and_then(|oj| oj["clusters"].get(key).cloned());
            let mut a = ClusterAffected::default();
            match (&o, &n) {
                (Some(o), Some(n)) => {
                    a.cluster = strip(o) != strip(n);
                    a.node_pools = changed_children(o, n, "node_pools");
                    a.services = changed_children(o, n, "services");
                }
                _ => {
                    a.cluster = true;
                    let which = n.as_ref().or(o.as_ref());
                    a.node_pools = children(which, "node_pools");
                    a.services = children(which, "services");
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

/// The cluster without its children.
fn strip(c: &serde_json::Value) -> serde_json::Value {
    let mut c = c.clone();
    if let Some(o) = c.as_object_mut() {
        o.remove("node_pools");
        o.remove("services");
    }
    c
}

fn children(c: Option<&serde_json::Value>, field: &str) -> BTreeSet<String> {
    c.and_then(|c| c[field].as_object())
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

fn changed_children(o: &serde_json::Value, n: &serde_json::Value, field: &str) -> BTreeSet<String> {
    let (oc, nc) = (o[field].as_object(), n[field].as_object());
    let keys: BTreeSet<&String> = oc
        .into_iter()
        .flat_map(|m| m.keys())
        .chain(nc.into_iter().flat_map(|m| m.keys()))
        .collect();
    keys.into_iter()
        .filter(|k| oc.and_then(|m| m.get(*k)) != nc.and_then(|m| m.get(*k)))
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
