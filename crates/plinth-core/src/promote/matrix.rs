//! The Terraform roots a CI run fans out over, one job per (environment, root).
//!
//! For a review, [`review`] starts from [`super::affected`] (the definition after inheritance,
//! per environment) and adds every root whose other inputs changed in the diff: the committed
//! generated output (`generate --check` in the same job proves it matches the definition),
//! Plinth's modules, the overlays and the service files the roots apply. Planning a root too
//! many is cheap; missing one is a review hole, so whatever cannot be attributed to fewer
//! environments counts for all of them.

use super::Repo;
use crate::error::{Error, Result};
use crate::platform::{Platform, StateLayout};
use crate::render::ci::MatrixEntry;
use crate::service::Source;
use crate::value::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The output directory inside the platform, where the committed roots live.
const GENERATED: &str = "generated/";

/// The (environment, root) pairs a change from `base` to `head` touches, in promotion order
/// and root order. `p` is the platform as checked out (the head).
pub fn review(
    repo: &Repo,
    dir: &Path,
    p: &Platform,
    base: &str,
    head: &str,
) -> Result<Vec<MatrixEntry>> {
    let affected = super::affected::affected(repo, dir, base, head)?;
    let diff = repo
        .git
        .changed_files(&affected.base, &affected.head)
        .map_err(|e| Error::refused(format!("git: {e}"), None))?;
    let changed: Vec<String> = diff
        .iter()
        .filter_map(|c| repo.strip_prefix(&c.path))
        .collect();
    // CI plans the promotion chain; local environments are applied by their developers.
    let envs: Vec<&str> = p.environments.chain_names().collect();
    let roots = Roots::new(p);
    let mut hit: BTreeSet<(usize, String)> = BTreeSet::new();
    let mut add = |env: &str, root: &str| {
        if let Some(i) = envs.iter().position(|e| *e == env) {
            hit.insert((i, root.to_string()));
        }
    };
    for (env, clusters) in &affected.environments {
        for key in clusters.keys() {
            add(env, &roots.of(key));
        }
    }
    for path in &changed {
        if is_definition(path) {
            continue;
        }
        for (env, root) in roots.reading(path, &affected) {
            match env {
                Some(e) => add(e, &root),
                None => envs.iter().for_each(|e| add(e, &root)),
            }
        }
    }
    Ok(hit
        .into_iter()
        .map(|(i, root)| MatrixEntry::new(envs[i], &root))
        .collect())
}

fn is_definition(rel: &str) -> bool {
    rel == crate::load::ROOT_FILE || (rel.starts_with("clusters/") && rel.ends_with(".toml"))
}

/// Which root reads what, for one platform.
struct Roots<'a> {
    p: &'a Platform,
    per_cluster: bool,
    /// Per cluster: the service files it applies (directories end with `/`).
    service_files: BTreeMap<&'a str, Vec<String>>,
}

impl<'a> Roots<'a> {
    fn new(p: &'a Platform) -> Roots<'a> {
        let mut service_files: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (key, c) in &p.clusters {
            let files = service_files.entry(key.as_str()).or_default();
            for s in c.services.values() {
                if let Source::Path { path } = &s.source {
                    files.push(format!("{}/", path.trim_end_matches('/')));
                }
                // Extra resources and patch files of every environment's layer.
                for layer in s.configs.by_env.values().map(|c| &c.table) {
                    for r in layer
                        .get("resources")
                        .and_then(Value::as_array)
                        .unwrap_or_default()
                    {
                        if let Some(path) = r.as_str() {
                            files.push(path.to_string());
                            files.push(format!("{}/", path.trim_end_matches('/')));
                        }
                    }
                    for patch in layer
                        .get("patches")
                        .and_then(Value::as_array)
                        .unwrap_or_default()
                    {
                        if let Some(path) = patch
                            .as_table()
                            .and_then(|t| t.get("path"))
                            .and_then(Value::as_str)
                        {
                            files.push(path.to_string());
                        }
                    }
                }
            }
        }
        Roots {
            p,
            per_cluster: p.settings.state == StateLayout::Cluster,
            service_files,
        }
    }

    /// The root that applies cluster `key`.
    fn of(&self, key: &str) -> String {
        if self.per_cluster {
            key.to_string()
        } else {
            "platform".to_string()
        }
    }

    fn all(&self) -> Vec<String> {
        if self.per_cluster {
            self.p.clusters.keys().cloned().collect()
        } else {
            vec!["platform".into()]
        }
    }

    /// Roots of the clusters that `pred` selects.
    fn where_clusters(&self, pred: impl Fn(&crate::cluster::ClusterDef) -> bool) -> Vec<String> {
        let mut out: Vec<String> = self
            .p
            .clusters
            .iter()
            .filter(|(_, c)| pred(c))
            .map(|(k, _)| self.of(k))
            .collect();
        out.dedup();
        out
    }

    /// The (environment or every environment, root) pairs that read `path` (relative to the
    /// platform, not a definition file).
    fn reading(
        &self,
        path: &str,
        affected: &super::affected::Affected,
    ) -> Vec<(Option<&str>, String)> {
        let every = |roots: Vec<String>| roots.into_iter().map(|r| (None, r)).collect::<Vec<_>>();
        if let Some(rest) = path.strip_prefix(GENERATED) {
            let parts: Vec<&str> = rest.split('/').collect();
            return match parts.as_slice() {
                // Plinth's own bookkeeping: no engine reads it.
                [".plinth-manifest"] => Vec::new(),
                ["modules", "services", ..] => {
                    every(self.where_clusters(|c| !c.services.is_empty()))
                }
                ["modules", id, ..] => {
                    let id = (*id).to_string();
                    every(self.where_clusters(move |c| c.provider.id == id))
                }
                ["services", cluster, env, ..] => {
                    let env = self.p.environments.names().find(|e| e == env);
                    match env {
                        Some(e) => vec![(Some(e), self.of(cluster))],
                        None => every(vec![self.of(cluster)]),
                    }
                }
                // A cluster's configuration file holds every environment's values: the
                // definition-level comparison says which environments changed; when it found
                // none, the file changed for another reason (a Plinth upgrade) and counts for all.
                [file] if !self.per_cluster => self.config_file(file, affected, "platform"),
                [root, file] if self.per_cluster && self.p.clusters.contains_key(*root) => {
                    self.config_file(file, affected, root)
                }
                // Anything else in the output directory: every root, to be safe.
                _ => every(self.all()),
            };
        }
        // Service bases, extra resources and patches outside the output directory.
        let mut roots: Vec<String> = self
            .service_files
            .iter()
            .filter(|(_, files)| {
                files.iter().any(|f| {
                    if f.ends_with('/') {
                        path.starts_with(f.as_str())
                    } else {
                        f == path
                    }
                })
            })
            .map(|(k, _)| self.of(k))
            .collect();
        roots.dedup();
        // A file under `services/` that no service names directly may still be part of a base
        // (a kustomization pulling `../common`): every root with services reads it, to be safe.
        if roots.is_empty() && path.starts_with("services/") {
            roots = self.where_clusters(|c| !c.services.is_empty());
        }
        every(roots)
    }

    fn config_file(
        &self,
        file: &str,
        affected: &super::affected::Affected,
        root: &str,
    ) -> Vec<(Option<&str>, String)> {
        let cluster = file
            .strip_suffix(".tf")
            .filter(|k| self.p.clusters.contains_key(*k));
        if let Some(key) = cluster {
            let envs: Vec<&str> = affected
                .environments
                .iter()
                .filter(|(_, clusters)| clusters.contains_key(key))
                .map(|(e, _)| e.as_str())
                .collect();
            if !envs.is_empty() {
                // Already added from the definition-level comparison.
                return Vec::new();
            }
        }
        vec![(None, root.to_string())]
    }
}

/// The roots of `env` that a deployment of the revision would run: those whose clusters
/// changed since the environment's last success (every root when it has none, or with one
/// root for the platform). With `promote`, the revision must first pass the promotion gate.
pub fn pending(
    repo: &Repo,
    dir: &Path,
    env: &str,
    promote: bool,
    from_revision: Option<&str>,
) -> Result<Vec<MatrixEntry>> {
    let out = dir.join("generated");
    let prepared = repo.prepare(dir, from_revision, &out)?;
    if promote {
        super::check_promotion(repo, &prepared.platform, env, &prepared)?;
    }
    let roots = super::pending_roots(repo, &prepared, env)?;
    Ok(roots
        .into_iter()
        .map(|(root, _)| MatrixEntry::new(env, &root))
        .collect())
}
