//! Kustomize overlays: one per cluster, environment and service, at
//! `services/<cluster>/<environment>/<service>/`, over the service's base. Each sets the
//! namespace, adds the cluster's metadata labels, applies the environment's images, replicas
//! and patches, and is applied by the generated Terraform (see `terraform.rs`).
//!
//! Patch files and extra manifest files are copied into the overlay: kustomize refuses to load
//! files outside a kustomization's root, while bases (directories) may live anywhere.

use super::yaml::{Yaml, render as yaml};
use super::{Tree, with_header};
use crate::error::{Error, Result};
use crate::platform::Platform;
use crate::resolve::Resolution;
use crate::service::{ResolvedService, Source};
use crate::value::{Table, Value};
use std::path::{Component, Path, PathBuf};

/// The overlay directory of a service, relative to the output root.
pub fn overlay_dir(cluster: &str, env: &str, service: &str) -> String {
    format!("services/{cluster}/{env}/{service}")
}

/// Adds every overlay to `tree`; `out` is where the tree will be written (to reach bases).
pub fn render(p: &Platform, r: &Resolution, out: &Path, tree: &mut Tree) -> Result<()> {
    let out_abs = normalize(&std::path::absolute(out).map_err(|e| Error::io("resolve", out, e))?);
    let root_abs =
        normalize(&std::path::absolute(&p.root).map_err(|e| Error::io("resolve", &p.root, e))?);
    // Every (environment, cluster) is independent: both cores render, files are inserted in order.
    use rayon::prelude::*;
    let pairs: Vec<(&str, &crate::cluster::ResolvedCluster)> = r
        .environments
        .iter()
        .flat_map(|env| {
            env.clusters
                .values()
                .map(move |c| (env.environment.as_str(), c))
        })
        .collect();
    let rendered: Vec<Vec<(String, String)>> = pairs
        .par_iter()
        .map(|(env, c)| {
            let mut out = Vec::new();
            for s in c.services.values() {
                let dir = overlay_dir(&c.key, env, &s.key);
                let here = out_abs.join(&dir);
                let mut files = Vec::new();
                let doc = kustomization(&root_abs, &here, &c.meta.labels, s, &mut files)?;
                out.push((
                    format!("{dir}/kustomization.yaml"),
                    with_header("#", &p.settings.name, &yaml(&doc)),
                ));
                for (name, content) in files {
                    out.push((
                        format!("{dir}/{name}"),
                        with_header("#", &p.settings.name, &content),
                    ));
                }
            }
            Ok(out)
        })
        .collect::<Result<_>>()?;
    for (path, content) in rendered.into_iter().flatten() {
        tree.insert(path, content)?;
    }
    Ok(())
}

fn kustomization(
    root: &Path,
    here: &Path,
    labels: &std::collections::BTreeMap<String, String>,
    s: &ResolvedService,
    files: &mut Vec<(String, String)>,
) -> Result<Yaml> {
    let cfg = &s.config;
    let get = |k: &str| cfg.get(k);
    let mut doc: Vec<(String, Yaml)> = vec![
        (
            "apiVersion".into(),
            Yaml::str("kustomize.config.k8s.io/v1beta1"),
        ),
        ("kind".into(), Yaml::str("Kustomization")),
    ];
    let mut push = |k: &str, v: Yaml| doc.push((k.to_string(), v));
    if let Some(ns) = get("namespace").and_then(Value::as_str) {
        push("namespace", Yaml::str(ns));
    }
    for (key, yaml_key) in [("name_prefix", "namePrefix"), ("name_suffix", "nameSuffix")] {
        if let Some(v) = get(key).and_then(Value::as_str) {
            push(yaml_key, Yaml::str(v));
        }
    }
    let mut resources = Vec::new();
    match &s.source {
        Source::Path { path } => resources.push(Yaml::str(relative(here, &root.join(path)))),
        Source::Remote { url, r#ref } => resources.push(Yaml::Str(remote_resource(url, r#ref))),
        Source::Helm { .. } => {}
    }
    for (i, r) in get("resources")
        .and_then(Value::as_array)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let Some(path) = r.as_str() else { continue };
        let src = root.join(path);
        if src.is_dir() {
            resources.push(Yaml::str(relative(here, &src)));
        } else {
            let name = format!("resources/{i}-{}.yaml", file_stem(path));
            files.push((name.clone(), read(&src)?));
            resources.push(Yaml::Str(name));
        }
    }
    if !resources.is_empty() {
        push("resources", Yaml::List(resources));
    }
    // The cluster's metadata labels, and the service's own, on every resource. Selectors are
    // left alone: they are immutable on existing Deployments.
    let mut pairs: Vec<(String, Yaml)> = labels
        .iter()
        .map(|(k, v)| (k.clone(), Yaml::str(v.clone())))
        .collect();
    if let Some(extra) = get("common_labels").and_then(Value::as_table) {
        for (k, v) in extra {
            pairs.retain(|(existing, _)| *k != **existing);
            pairs.push((k.to_string(), Yaml::value(v)));
        }
    }
    push(
        "labels",
        Yaml::List(vec![Yaml::Map(vec![
            ("pairs".into(), Yaml::Map(pairs)),
            ("includeSelectors".into(), Yaml::Bool(false)),
        ])]),
    );
    if let Some(a) = get("common_annotations").and_then(Value::as_table) {
        push("commonAnnotations", Yaml::table(a));
    }
    if let Some(images) = get("images").and_then(Value::as_table) {
        let list = images
            .iter()
            .map(|(name, v)| {
                let mut m = vec![("name".to_string(), Yaml::str(name.clone()))];
                for (k, yk) in [
                    ("new_name", "newName"),
                    ("new_tag", "newTag"),
                    ("digest", "digest"),
                ] {
                    if let Some(x) = v.as_table().and_then(|t| t.get(k)).and_then(Value::as_str) {
                        m.push((yk.to_string(), Yaml::str(x)));
                    }
                }
                Yaml::Map(m)
            })
            .collect();
        push("images", Yaml::List(list));
    }
    if let Some(replicas) = get("replicas").and_then(Value::as_table) {
        let list = replicas
            .iter()
            .map(|(name, n)| {
                Yaml::Map(vec![
                    ("name".into(), Yaml::str(name.clone())),
                    ("count".into(), Yaml::Int(n.as_i64().unwrap_or(1))),
                ])
            })
            .collect();
        push("replicas", Yaml::List(list));
    }
    let mut patches = Vec::new();
    for (i, patch) in get("patches")
        .and_then(Value::as_array)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let Some(t) = patch.as_table() else { continue };
        let mut m = Vec::new();
        if let Some(path) = t.get("path").and_then(Value::as_str) {
            let name = format!("patches/{i}-{}.yaml", file_stem(path));
            files.push((name.clone(), read(&root.join(path))?));
            m.push(("path".to_string(), Yaml::Str(name)));
        } else if let Some(inline) = t.get("patch").and_then(Value::as_str) {
            m.push(("patch".to_string(), Yaml::str(inline)));
        }
        if let Some(target) = t.get("target").and_then(Value::as_table) {
            m.push(("target".to_string(), target_yaml(target)));
        }
        patches.push(Yaml::Map(m));
    }
    if !patches.is_empty() {
        push("patches", Yaml::List(patches));
    }
    if let Source::Helm {
        repo,
        chart,
        version,
        release_name,
    } = &s.source
    {
        let mut h = vec![
            ("name".to_string(), Yaml::str(chart.clone())),
            ("repo".to_string(), Yaml::str(repo.clone())),
            ("version".to_string(), Yaml::str(version.clone())),
            (
                "releaseName".to_string(),
                Yaml::str(release_name.clone().unwrap_or_else(|| s.key.clone())),
            ),
            ("includeCRDs".to_string(), Yaml::Bool(true)),
        ];
        if let Some(ns) = get("namespace").and_then(Value::as_str) {
            h.push(("namespace".to_string(), Yaml::str(ns)));
        }
        if let Some(values) = get("helm_values") {
            h.push(("valuesInline".to_string(), Yaml::value(values)));
        }
        push("helmCharts", Yaml::List(vec![Yaml::Map(h)]));
    }
    Ok(Yaml::Map(doc))
}

fn target_yaml(t: &Table) -> Yaml {
    let keys = [
        ("group", "group"),
        ("version", "version"),
        ("kind", "kind"),
        ("name", "name"),
        ("namespace", "namespace"),
        ("label_selector", "labelSelector"),
        ("annotation_selector", "annotationSelector"),
    ];
    Yaml::Map(
        keys.iter()
            .filter_map(|(k, yk)| {
                t.get(k)
                    .and_then(Value::as_str)
                    .map(|v| (yk.to_string(), Yaml::str(v)))
            })
            .collect(),
    )
}

/// A remote base: git repositories take `?ref=`; release files carry their version in the URL.
pub fn remote_resource(url: &str, r#ref: &str) -> String {
    if url.ends_with(".yaml") || url.ends_with(".yml") || url.ends_with(".json") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&ref={ref}")
    } else {
        format!("{url}?ref={ref}")
    }
}

/// A file copied into an overlay, read as definition files are (never a FIFO, never huge).
fn read(path: &Path) -> Result<String> {
    crate::fsutil::read_text(path).map_err(|e| match e {
        crate::fsutil::ReadProblem::Io(e) => Error::io("read", path, e),
        e => Error::refused(format!("`{}` {e}", path.display()), None),
    })
}

/// A safe file name part from a user's path: its stem, with anything unusual replaced.
fn file_stem(path: &str) -> String {
    let stem = Path::new(path)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let clean: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if clean.is_empty() {
        "file".into()
    } else {
        clean
    }
}

/// Removes `.` and resolves `..` lexically.
pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The relative path from directory `from` to `to` (both absolute, normalized), `/`-separated.
pub fn relative(from: &Path, to: &Path) -> String {
    let from = normalize(from);
    let to = normalize(to);
    let a: Vec<_> = from.components().collect();
    let b: Vec<_> = to.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<String> = std::iter::repeat_n("..".to_string(), a.len() - common).collect();
    parts.extend(
        b[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative(
                Path::new("/p/generated/services/c/ops/s"),
                Path::new("/p/services/s")
            ),
            "../../../../../services/s"
        );
        assert_eq!(relative(Path::new("/a/b"), Path::new("/a/b")), ".");
        assert_eq!(
            relative(Path::new("/a/./b/../c"), Path::new("/a/d")),
            "../d"
        );
    }

    #[test]
    fn remote_bases() {
        assert_eq!(
            remote_resource("https://github.com/org/repo//deploy", "v1"),
            "https://github.com/org/repo//deploy?ref=v1"
        );
        assert_eq!(
            remote_resource("https://example.com/v1/install.yaml", "v1"),
            "https://example.com/v1/install.yaml"
        );
    }
}
