//! Editing the code base from the CLI (`plinth add`, `plinth remove`), keeping the user's
//! comments and formatting (`toml_edit`). An edit is computed in memory, checked by reading the
//! whole platform as it would be, and only then written, file by file, atomically.

use crate::environment;
use crate::error::{Error, Result};
use crate::load::{self, CLUSTERS_DIR, Overlay, ROOT_FILE};
use crate::node_pool::DEFAULT_POOL;
use crate::platform::Platform;
use crate::provider::Provider;
use std::path::{Path, PathBuf};
use toml_edit::{Array, DocumentMut, InlineTable, Item, Table, value};

/// Files to change (relative to the platform root; `None` deletes) and what the change does.
#[derive(Debug, Default)]
pub struct Edit {
    pub changes: Overlay,
    pub summary: Vec<String>,
}

/// What `plinth add cluster` creates.
#[derive(Debug)]
pub struct NewCluster<'a> {
    pub key: &'a str,
    pub provider: &'static Provider,
    pub region: &'a str,
    pub name_prefix: Option<&'a str>,
}

/// What `plinth add node-pool` creates.
#[derive(Debug, Default)]
pub struct NewPool {
    pub instance_type: Option<String>,
    pub min: Option<i64>,
    pub max: Option<i64>,
    /// `key=value:Effect`.
    pub taints: Vec<String>,
    pub labels: Vec<(String, String)>,
}

/// Where `plinth add environment` puts the new environment in the chain.
#[derive(Debug, Clone)]
pub enum Position {
    End,
    After(String),
    Before(String),
}

fn doc_of(p: &Platform, rel: &Path, edit: &Edit) -> Result<DocumentMut> {
    let text = match edit.changes.get(rel) {
        Some(Some(t)) => t.clone(),
        _ => std::fs::read_to_string(p.root.join(rel))
            .map_err(|e| Error::io("read", p.root.join(rel), e))?,
    };
    text.parse::<DocumentMut>()
        .map_err(|e| Error::refused(format!("cannot edit `{}`: {e}", rel.display()), None))
}

/// The file a cluster is defined in, relative to the root, and whether it is its own file.
fn cluster_file(p: &Platform, key: &str) -> Result<(PathBuf, bool)> {
    let c = p.clusters.get(key).ok_or_else(|| unknown_cluster(p, key))?;
    let name = p.sources.name(c.file).to_string();
    let own = name != ROOT_FILE;
    Ok((PathBuf::from(name), own))
}

fn unknown_cluster(p: &Platform, key: &str) -> Error {
    Error::refused(
        format!("there is no cluster `{key}`"),
        crate::diagnostic::suggest(key, p.clusters.keys().map(String::as_str)),
    )
}

/// The cluster's table inside its file's document.
fn cluster_table<'d>(doc: &'d mut DocumentMut, key: &str, own: bool) -> Result<&'d mut Table> {
    if own {
        return Ok(doc.as_table_mut());
    }
    doc.get_mut("clusters")
        .and_then(Item::as_table_mut)
        .and_then(|t| t.get_mut(key))
        .and_then(Item::as_table_mut)
        .ok_or_else(|| {
            Error::refused(
                format!(
                    "cluster `{key}` is written as an inline table, which Plinth does not edit"
                ),
                Some("write it as `[clusters.<key>]` tables".into()),
            )
        })
}

/// An implicit table: it exists to hold sub-tables and prints no header of its own.
fn implicit() -> Item {
    let mut t = Table::new();
    t.set_implicit(true);
    Item::Table(t)
}

/// Gets or creates the table at `path` below `table`, creating implicit tables on the way.
fn table_at<'t>(table: &'t mut Table, path: &[&str]) -> Result<&'t mut Table> {
    let mut cur = table;
    for part in path {
        let item = cur.entry(part).or_insert_with(implicit);
        cur = item.as_table_mut().ok_or_else(|| {
            Error::refused(
                format!("`{part}` is written inline; Plinth only edits `[...]` tables"),
                None,
            )
        })?;
    }
    Ok(cur)
}

/// Takes the platform directory's lock for an edit: held from reading the files to writing
/// them, so two edits at once apply one after the other (the second sees the first's result)
/// instead of one overwriting the other. Generation takes the same lock.
pub fn lock(dir: &Path) -> Result<crate::fsutil::DirLock> {
    crate::fsutil::DirLock::acquire(dir)
}

pub fn add_cluster(p: &Platform, req: &NewCluster<'_>) -> Result<Edit> {
    check_key(req.key)?;
    if p.clusters.contains_key(req.key) {
        return Err(Error::refused(
            format!("cluster `{}` already exists", req.key),
            Some("choose another key, or remove it first with `plinth remove cluster`".into()),
        ));
    }
    let prefix = req.name_prefix.unwrap_or(&p.settings.name_prefix);
    // Kubestack refuses a second cluster with the same prefix, provider and region.
    let resolution = p.resolve();
    if let Some(r) = resolution.get(p.environments.base_name())
        && let Some(c) = r.clusters.values().find(|c| {
            c.provider.id == req.provider.id
                && c.region == req.region
                && c.config
                    .get("name_prefix")
                    .and_then(crate::value::Value::as_str)
                    == Some(prefix)
        })
    {
        return Err(Error::refused(
            format!(
                "cluster `{}` already has provider `{}`, region `{}` and name prefix `{prefix}`",
                c.key, req.provider.id, req.region
            ),
            Some(
                "two such clusters would get the same name; pass a different `--name-prefix`"
                    .into(),
            ),
        ));
    }
    let base = p.environments.base_name();
    let s = &req.provider.scaffold;
    let fill = |t: &str| {
        t.replace("{region}", req.region).replace(
            "{prefix}",
            if prefix.is_empty() { "plinth" } else { prefix },
        )
    };
    let mut text = format!(
        "# {} cluster `{}`, added by `plinth add cluster`.\nprovider = \"{}\"\n\n[config.{base}]\n",
        req.provider.title, req.key, req.provider.id
    );
    if let Some(np) = req.name_prefix {
        text.push_str(&format!("name_prefix = {}\n", quote(np)));
    }
    if req.provider.id != "kind" || req.region != "localhost" {
        text.push_str(&format!("region = {}\n", quote(req.region)));
    }
    text.push_str(&fill(s.cluster));
    text.push_str(&fill(s.per_environment).replace("{env}", base));
    if !s.per_environment.is_empty() {
        for env in p.environments.names().filter(|e| *e != base) {
            text.push_str(&format!(
                "\n[config.{env}]\n{}",
                fill(s.per_environment).replace("{env}", env)
            ));
        }
    }
    text.push_str(&format!(
        "\n# The default node pool is created with the cluster.\n[node_pools.{DEFAULT_POOL}.config.{base}]\n{}",
        fill(s.default_pool)
    ));
    let rel = Path::new(CLUSTERS_DIR).join(format!("{}.toml", req.key));
    let mut edit = Edit::default();
    edit.summary.push(format!("created `{}`", rel.display()));
    edit.changes.insert(rel, Some(text));
    Ok(edit)
}

pub fn add_node_pool(p: &Platform, cluster: &str, pool: &str, req: &NewPool) -> Result<Edit> {
    check_key(pool)?;
    let c = p
        .clusters
        .get(cluster)
        .ok_or_else(|| unknown_cluster(p, cluster))?;
    if c.node_pools.contains_key(pool) {
        return Err(Error::refused(
            format!("cluster `{cluster}` already has a node pool `{pool}`"),
            None,
        ));
    }
    let provider = c.provider;
    let (rel, own) = cluster_file(p, cluster)?;
    let mut edit = Edit::default();
    let mut doc = doc_of(p, &rel, &edit)?;
    let base = p.environments.base_name().to_string();
    let mut table = scaffold_table(provider.scaffold.extra_pool)?;
    let flags = &provider.pool_flags;
    if let Some(it) = &req.instance_type {
        match flags.instance {
            Some((k, true)) => {
                let mut a = Array::new();
                a.push(it.as_str());
                table.insert(k, value(a));
            }
            Some((k, false)) => {
                table.insert(k, value(it.as_str()));
            }
            None => {
                return Err(Error::refused(
                    format!("{} pools have no instance type", provider.title),
                    None,
                ));
            }
        }
    }
    if let Some(sk) = &provider.size_keys {
        if let Some(min) = req.min {
            table.insert(sk.min, value(min));
        }
        if let Some(max) = req.max {
            table.insert(sk.max, value(max));
        }
    }
    if !req.taints.is_empty() {
        let (key, as_strings) = flags.taints;
        let mut a = Array::new();
        for t in &req.taints {
            let taint = crate::provider::aks::parse_taint(t).ok_or_else(|| {
                Error::refused(format!("`{t}` is not a taint"), Some("write `key=value:Effect` with effect `NoSchedule`, `PreferNoSchedule` or `NoExecute`".into()))
            })?;
            if as_strings {
                a.push(taint.to_string());
            } else {
                let mut it = InlineTable::new();
                it.insert("key", taint.key.as_str().into());
                it.insert("value", taint.value.as_str().into());
                let effect = match taint.effect.as_str() {
                    "NoExecute" => "NO_EXECUTE",
                    "PreferNoSchedule" => "PREFER_NO_SCHEDULE",
                    _ => "NO_SCHEDULE",
                };
                it.insert("effect", effect.into());
                a.push(it);
            }
        }
        table.insert(key, value(a));
    }
    if !req.labels.is_empty() {
        let mut it = InlineTable::new();
        for (k, v) in &req.labels {
            it.insert(k, v.as_str().into());
        }
        table.insert(flags.labels, value(it));
    }
    table.decor_mut().set_prefix(format!(
        "\n# Node pool `{pool}`, added by `plinth add node-pool`.\n"
    ));
    let ct = cluster_table(&mut doc, cluster, own)?;
    let config = table_at(ct, &["node_pools", pool, "config"])?;
    config.insert(&base, Item::Table(table));
    edit.summary.push(format!(
        "added node pool `{pool}` to cluster `{cluster}` in `{}`",
        rel.display()
    ));
    edit.changes.insert(rel, Some(doc.to_string()));
    Ok(edit)
}

fn scaffold_table(text: &str) -> Result<Table> {
    let doc = text
        .parse::<DocumentMut>()
        .map_err(|e| Error::refused(format!("internal scaffold is invalid: {e}"), None))?;
    Ok(doc.as_table().clone())
}

pub fn add_environment(p: &Platform, name: &str, pos: &Position) -> Result<Edit> {
    environment::check_name(name).map_err(|m| Error::refused(m, None))?;
    if p.environments.is_local(name) {
        return Err(Error::refused(
            format!(
                "environment `{name}` is already a local environment, outside the promotion chain"
            ),
            Some(format!(
                "to promote through it, delete `local = true` from `[environments.{name}]` and add it to `[platform] environments`"
            )),
        ));
    }
    if p.environments.index(name).is_some() {
        return Err(Error::refused(
            format!("environment `{name}` is already in the promotion chain"),
            None,
        ));
    }
    let names: Vec<&str> = p.environments.chain_names().collect();
    let index = match pos {
        Position::End => names.len(),
        Position::After(e) | Position::Before(e) => {
            let i = names.iter().position(|n| n == e).ok_or_else(|| {
                Error::refused(
                    format!("there is no environment `{e}`"),
                    crate::diagnostic::suggest(e, names.iter().copied()),
                )
            })?;
            if matches!(pos, Position::After(_)) {
                i + 1
            } else {
                i
            }
        }
    };
    if index == 0 {
        return Err(Error::refused(
            format!(
                "`{name}` would become the first environment, which must stay the internal one (`{}`)",
                names[0]
            ),
            Some(
                "changes are validated on the internal environment first; add the new one after it"
                    .into(),
            ),
        ));
    }
    let rel = PathBuf::from(ROOT_FILE);
    let mut edit = Edit::default();
    let mut doc = doc_of(p, &rel, &edit)?;
    let platform = doc
        .entry("platform")
        .or_insert_with(|| Item::Table(Table::new()));
    let platform = platform
        .as_table_like_mut()
        .ok_or_else(|| Error::refused("`[platform]` is not a table", None))?;
    match platform
        .get_mut("environments")
        .and_then(|i| i.as_array_mut())
    {
        Some(a) => {
            a.insert(index, name);
        }
        None => {
            let mut a: Array = names.iter().copied().collect();
            a.insert(index, name);
            platform.insert("environments", value(a));
        }
    }
    let after = if index == 0 {
        String::new()
    } else {
        format!(" after `{}`", names[index - 1])
    };
    edit.summary.push(format!("added environment `{name}` to the promotion chain{after}; it inherits `{}` until it overrides something", p.environments.base_name()));
    edit.changes.insert(rel, Some(doc.to_string()));
    Ok(edit)
}

pub fn remove_cluster(p: &Platform, key: &str) -> Result<Edit> {
    if !p.clusters.contains_key(key) {
        return Err(unknown_cluster(p, key));
    }
    if p.clusters.len() == 1 {
        return Err(Error::refused(
            format!("`{key}` is the platform's last cluster"),
            Some(
                "a platform needs at least one cluster; add another before removing this one"
                    .into(),
            ),
        ));
    }
    let (rel, own) = cluster_file(p, key)?;
    let c = &p.clusters[key];
    let mut edit = Edit::default();
    let children = format!(
        "{} node pool(s) and {} service(s)",
        c.node_pools.len(),
        c.services.len()
    );
    if own {
        edit.changes.insert(rel.clone(), None);
        edit.summary.push(format!(
            "deleted `{}` (cluster `{key}` with its {children})",
            rel.display()
        ));
    } else {
        let mut doc = doc_of(p, &rel, &edit)?;
        if let Some(t) = doc.get_mut("clusters").and_then(Item::as_table_like_mut) {
            t.remove(key);
        }
        edit.summary.push(format!(
            "removed cluster `{key}` with its {children} from `{}`",
            rel.display()
        ));
        edit.changes.insert(rel, Some(doc.to_string()));
    }
    Ok(edit)
}

pub fn remove_node_pool(p: &Platform, cluster: &str, pool: &str) -> Result<Edit> {
    let c = p
        .clusters
        .get(cluster)
        .ok_or_else(|| unknown_cluster(p, cluster))?;
    if !c.node_pools.contains_key(pool) {
        return Err(Error::refused(
            format!("cluster `{cluster}` has no node pool `{pool}`"),
            crate::diagnostic::suggest(pool, c.node_pools.keys().map(String::as_str)),
        ));
    }
    if pool == DEFAULT_POOL {
        return Err(Error::refused(
            "the `default` pool is created with the cluster and cannot be removed alone",
            Some(format!(
                "remove the cluster with `plinth remove cluster {cluster}`"
            )),
        ));
    }
    let (rel, own) = cluster_file(p, cluster)?;
    let mut edit = Edit::default();
    let mut doc = doc_of(p, &rel, &edit)?;
    let ct = cluster_table(&mut doc, cluster, own)?;
    if let Some(pools) = ct.get_mut("node_pools").and_then(Item::as_table_like_mut) {
        pools.remove(pool);
    }
    edit.summary.push(format!(
        "removed node pool `{pool}` from cluster `{cluster}` in `{}`",
        rel.display()
    ));
    edit.changes.insert(rel, Some(doc.to_string()));
    Ok(edit)
}

pub fn remove_environment(p: &Platform, name: &str) -> Result<Edit> {
    let names: Vec<&str> = p.environments.names().collect();
    let Some(index) = p.environments.index(name) else {
        return Err(Error::refused(
            format!("there is no environment `{name}`"),
            crate::diagnostic::suggest(name, names.iter().copied()),
        ));
    };
    let local = p.environments.is_local(name);
    if name == p.environments.base_name() {
        return Err(Error::refused(format!("`{name}` is the base environment"), Some("make another environment the base first (`base_environment`), moving its values there".into())));
    }
    if !local && p.environments.len() <= 2 {
        return Err(Error::refused(
            "a platform needs at least two environments",
            Some("an internal one to validate changes, and an external one".into()),
        ));
    }
    if index == 0 {
        return Err(Error::refused(
            format!("`{name}` is the internal environment, where every change is validated first"),
            None,
        ));
    }
    let mut edit = Edit::default();
    let root = PathBuf::from(ROOT_FILE);
    let mut doc = doc_of(p, &root, &edit)?;
    if let Some(a) = doc
        .get_mut("platform")
        .and_then(|t| t.get_mut("environments"))
        .and_then(Item::as_array_mut)
    {
        a.retain(|v| v.as_str() != Some(name));
    }
    if let Some(t) = doc
        .get_mut("environments")
        .and_then(Item::as_table_like_mut)
    {
        t.remove(name);
    }
    let mut removed = 0;
    if let Some(clusters) = doc.get_mut("clusters").and_then(Item::as_table_like_mut) {
        for (_, c) in clusters.iter_mut() {
            if let Some(c) = c.as_table_like_mut() {
                removed += drop_env_configs(c, name);
            }
        }
    }
    edit.changes.insert(root.clone(), Some(doc.to_string()));
    let mut files: Vec<PathBuf> = p
        .clusters
        .values()
        .map(|c| PathBuf::from(p.sources.name(c.file)))
        .filter(|f| *f != root)
        .collect();
    files.sort();
    files.dedup();
    for rel in files {
        let mut doc = doc_of(p, &rel, &edit)?;
        let n = drop_env_configs(doc.as_table_mut(), name);
        if n > 0 {
            removed += n;
            edit.changes.insert(rel, Some(doc.to_string()));
        }
    }
    let from = if local {
        "local environment"
    } else {
        "environment"
    };
    let what = if local {
        ""
    } else {
        " from the promotion chain"
    };
    edit.summary.push(format!(
        "removed {from} `{name}`{what} and its {removed} per-environment table(s) (`config.{name}`, `load.{name}`)"
    ));
    Ok(edit)
}

/// Removes `config.<env>` and `load.<env>` from a cluster and its pools and services; returns
/// how many tables went.
fn drop_env_configs(cluster: &mut dyn toml_edit::TableLike, env: &str) -> usize {
    let mut n = 0;
    // Per-environment tables: configuration and declared load.
    let mut drop = |t: &mut dyn toml_edit::TableLike| {
        for section in ["config", "load"] {
            if let Some(cfg) = t.get_mut(section).and_then(Item::as_table_like_mut)
                && cfg.remove(env).is_some()
            {
                n += 1;
            }
        }
    };
    drop(cluster);
    for children in ["node_pools", "services"] {
        if let Some(items) = cluster.get_mut(children).and_then(Item::as_table_like_mut) {
            for (_, item) in items.iter_mut() {
                if let Some(t) = item.as_table_like_mut() {
                    drop(t);
                }
            }
        }
    }
    n
}

fn check_key(key: &str) -> Result<()> {
    environment::check_component_key(key).map_err(|m| Error::refused(m, None))
}

fn quote(s: &str) -> String {
    let mut out = String::new();
    crate::value::write_toml_string(&mut out, s);
    out
}

/// Checks the platform as the edit would leave it; writes it when that introduces no error.
/// Returns the check of the edited platform.
pub fn commit(dir: &Path, edit: &Edit) -> Result<crate::Checked> {
    let before = crate::check(dir);
    let after = crate::check_loaded(load::load_with(dir, &edit.changes));
    let new_errors = after.diagnostics.error_count() > before.diagnostics.error_count()
        || (after.has_errors() && !before.has_errors());
    if new_errors {
        return Err(Error::Invalid(Box::new(after)));
    }
    for (rel, content) in &edit.changes {
        let path = dir.join(rel);
        match content {
            Some(text) => crate::fsutil::write_atomic(&path, text.as_bytes())?,
            None => crate::fsutil::remove_file(&path)?,
        }
    }
    Ok(after)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scaffold;

    fn platform(example: &str) -> (tempfile::TempDir, PathBuf, Platform) {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("p");
        let ex = scaffold::example(example).expect("example");
        scaffold::init(&dir, ex, "p").expect("init");
        let p = load::load(&dir).platform.expect("platform");
        (tmp, dir, p)
    }

    #[test]
    fn add_pool_keeps_comments_and_validates() {
        let (_t, dir, p) = platform("minimal");
        let req = NewPool {
            instance_type: Some("g5.xlarge".into()),
            min: Some(0),
            max: Some(2),
            taints: vec!["nvidia.com/gpu=present:NoSchedule".into()],
            labels: vec![("gpu".into(), "yes".into())],
        };
        let edit = add_node_pool(&p, "eks_zero", "gpu", &req).expect("edit");
        let checked = commit(&dir, &edit).expect("commit");
        assert!(!checked.has_errors());
        let text = std::fs::read_to_string(dir.join("clusters/eks_zero.toml")).expect("read");
        assert!(
            text.contains("# One Amazon EKS cluster."),
            "comments kept:\n{text}"
        );
        assert!(text.contains("[node_pools.gpu.config.apps]"), "{text}");
        assert!(text.contains(r#"taints = [{ key = "nvidia.com/gpu", value = "present", effect = "NO_SCHEDULE" }]"#), "{text}");
        let pool = &checked.resolution.expect("res").environments[0].clusters["eks_zero"]
            .node_pools["gpu"];
        assert_eq!(pool.shape().max_nodes, 2);
        assert_eq!(pool.shape().taints[0].effect, "NoSchedule");
    }

    #[test]
    fn environments_are_inserted_in_order_and_removed_everywhere() {
        let (_t, dir, p) = platform("minimal");
        let edit = add_environment(&p, "apps-prod", &Position::End).expect("edit");
        commit(&dir, &edit).expect("commit");
        let p = load::load(&dir).platform.expect("platform");
        assert_eq!(
            p.environments.names().collect::<Vec<_>>(),
            ["ops", "apps", "apps-prod"]
        );
        let edit = remove_environment(&p, "apps-prod").expect("edit");
        commit(&dir, &edit).expect("commit");
        // ops is the internal environment and cannot go; with two left nothing more can.
        let p = load::load(&dir).platform.expect("platform");
        assert!(remove_environment(&p, "ops").is_err());
        assert!(remove_environment(&p, "apps").is_err());
        assert!(add_environment(&p, "dev", &Position::Before("ops".into())).is_err());
    }

    #[test]
    fn removing_ops_drops_its_overrides() {
        let (_t, dir, p) = platform("environments");
        let edit = remove_environment(&p, "apps").expect("edit");
        assert!(
            edit.summary[0].contains("its 1 per-environment table(s)"),
            "{:?}",
            edit.summary
        );
        let checked = commit(&dir, &edit).expect("commit");
        assert!(!checked.has_errors());
        let text = std::fs::read_to_string(dir.join("clusters/eks_zero.toml")).expect("read");
        assert!(!text.contains("config.apps]"), "{text}");
    }

    #[test]
    fn clusters_add_and_remove() {
        let (_t, dir, p) = platform("minimal");
        let edit = add_cluster(
            &p,
            &NewCluster {
                key: "gke_one",
                provider: crate::provider::by_id("gke").expect("gke"),
                region: "europe-west3",
                name_prefix: None,
            },
        )
        .expect("edit");
        let checked = commit(&dir, &edit).expect("commit");
        assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
        let p = load::load(&dir).platform.expect("platform");
        // Same provider, region and prefix as an existing cluster: refused like kbst does.
        assert!(
            add_cluster(
                &p,
                &NewCluster {
                    key: "eks_two",
                    provider: crate::provider::by_id("eks").expect("eks"),
                    region: "eu-west-1",
                    name_prefix: None
                }
            )
            .is_err()
        );
        commit(&dir, &remove_cluster(&p, "gke_one").expect("edit")).expect("commit");
        let p = load::load(&dir).platform.expect("platform");
        assert!(
            remove_cluster(&p, "eks_zero").is_err(),
            "last cluster stays"
        );
        assert!(remove_node_pool(&p, "eks_zero", "default").is_err());
    }
}

/// What `plinth add service` creates.
#[derive(Debug)]
pub struct NewService<'a> {
    pub key: &'a str,
    pub kind: crate::service::ServiceKind,
    pub source: crate::service::Source,
    pub catalog: Option<&'a str>,
    pub namespace: Option<&'a str>,
    /// A line saying where the entry came from, written above it.
    pub comment: String,
}

pub fn add_service(p: &Platform, cluster: &str, req: &NewService<'_>) -> Result<Edit> {
    use crate::service::Source;
    check_key(req.key)?;
    let c = p
        .clusters
        .get(cluster)
        .ok_or_else(|| unknown_cluster(p, cluster))?;
    if c.services.contains_key(req.key) {
        return Err(Error::refused(
            format!("cluster `{cluster}` already has a service `{}`", req.key),
            None,
        ));
    }
    let (rel, own) = cluster_file(p, cluster)?;
    let mut edit = Edit::default();
    let mut doc = doc_of(p, &rel, &edit)?;
    let base = p.environments.base_name().to_string();
    let mut svc = Table::new();
    svc.decor_mut().set_prefix(format!("\n# {}\n", req.comment));
    svc.insert("kind", value(req.kind.as_str()));
    if let Some(c) = req.catalog {
        svc.insert("catalog", value(c));
    }
    let mut src = InlineTable::new();
    match &req.source {
        Source::Path { path } => {
            src.insert("path", path.as_str().into());
        }
        Source::Remote { url, r#ref } => {
            src.insert("url", url.as_str().into());
            src.insert("ref", r#ref.as_str().into());
        }
        Source::Helm {
            repo,
            chart,
            version,
            release_name,
        } => {
            src.insert("repo", repo.as_str().into());
            src.insert("chart", chart.as_str().into());
            src.insert("version", version.as_str().into());
            if let Some(r) = release_name {
                src.insert("release_name", r.as_str().into());
            }
        }
    }
    svc.insert("source", value(src));
    let ct = cluster_table(&mut doc, cluster, own)?;
    let services = table_at(ct, &["services"])?;
    services.insert(req.key, Item::Table(svc));
    if let Some(ns) = req.namespace {
        let config = table_at(ct, &["services", req.key, "config"])?;
        let mut t = Table::new();
        t.insert("namespace", value(ns));
        config.insert(&base, Item::Table(t));
    }
    edit.summary.push(format!(
        "added service `{}` ({}) to cluster `{cluster}` in `{}`",
        req.key,
        req.kind.as_str(),
        rel.display()
    ));
    edit.changes.insert(rel, Some(doc.to_string()));
    Ok(edit)
}

pub fn remove_service(p: &Platform, cluster: &str, service: &str) -> Result<Edit> {
    let c = p
        .clusters
        .get(cluster)
        .ok_or_else(|| unknown_cluster(p, cluster))?;
    if !c.services.contains_key(service) {
        return Err(Error::refused(
            format!("cluster `{cluster}` has no service `{service}`"),
            crate::diagnostic::suggest(service, c.services.keys().map(String::as_str)),
        ));
    }
    let (rel, own) = cluster_file(p, cluster)?;
    let mut edit = Edit::default();
    let mut doc = doc_of(p, &rel, &edit)?;
    let ct = cluster_table(&mut doc, cluster, own)?;
    if let Some(services) = ct.get_mut("services").and_then(Item::as_table_like_mut) {
        services.remove(service);
    }
    edit.summary.push(format!(
        "removed service `{service}` from cluster `{cluster}` in `{}`",
        rel.display()
    ));
    edit.changes.insert(rel, Some(doc.to_string()));
    Ok(edit)
}
