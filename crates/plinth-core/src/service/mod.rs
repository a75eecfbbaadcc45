//! Platform services: what makes a cluster ready for workloads (ingress, operators and their
//! CRDs, admission control, monitoring and logging agents) — never the workloads themselves.

pub mod catalog;
pub mod closure;
pub mod lint;

use crate::component::{Configs, Header};
use crate::diagnostic::{Diagnostic, Diagnostics, suggest};
use crate::keys::{Field, Key, Ty};
use crate::provider::{STRING_MAP, STRINGS};
use crate::value::{Origin, Table, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ServiceKind {
    Ingress,
    Mesh,
    Operator,
    Admission,
    Policy,
    Monitoring,
    Logging,
    Other,
}

impl ServiceKind {
    pub const NAMES: &'static [&'static str] = &[
        "ingress",
        "mesh",
        "operator",
        "admission",
        "policy",
        "monitoring",
        "logging",
        "other",
    ];

    pub fn parse(s: &str) -> Option<ServiceKind> {
        Some(match s {
            "ingress" => ServiceKind::Ingress,
            "mesh" => ServiceKind::Mesh,
            "operator" => ServiceKind::Operator,
            "admission" => ServiceKind::Admission,
            "policy" => ServiceKind::Policy,
            "monitoring" => ServiceKind::Monitoring,
            "logging" => ServiceKind::Logging,
            "other" => ServiceKind::Other,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// Where a service's manifests come from.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase", tag = "type")]
pub enum Source {
    /// A kustomize base directory inside the platform (relative to the platform root).
    Path { path: String },
    /// A remote kustomize base, pinned to a ref.
    Remote { url: String, r#ref: String },
    /// A Helm chart rendered by kustomize's `helmCharts` (needs `helm` where it is rendered).
    Helm {
        repo: String,
        chart: String,
        version: String,
        release_name: Option<String>,
    },
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Path { path } => write!(f, "{path}"),
            Source::Remote { url, r#ref } => write!(f, "{url}?ref={}", r#ref),
            Source::Helm {
                repo,
                chart,
                version,
                ..
            } => write!(f, "helm {chart} {version} from {repo}"),
        }
    }
}

#[derive(Clone, Debug)]
pub struct ServiceDef {
    pub key: String,
    pub kind: ServiceKind,
    pub source: Source,
    pub source_origin: Origin,
    /// The catalog entry it was added from, if any.
    pub catalog: Option<String>,
    pub header: Header,
    pub configs: Configs,
    pub origin: Origin,
}

impl ServiceDef {
    /// Every item of the list `key` (`resources`, `patches`) in every environment's layer of
    /// the configuration, as written: together they are every file the service can apply.
    pub fn layer_items<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.configs.by_env.values().flat_map(move |cfg| {
            cfg.table
                .get(key)
                .and_then(Value::as_array)
                .unwrap_or_default()
                .iter()
        })
    }
}

/// A service resolved for one environment.
#[derive(Clone, Debug)]
pub struct ResolvedService {
    pub key: String,
    pub kind: ServiceKind,
    pub source: Source,
    pub catalog: Option<String>,
    pub config: Table,
}

const IMAGE_FIELDS: &[Field] = &[
    Field::new(
        "new_name",
        Ty::String,
        "Replacement image name (registry mirror).",
    ),
    Field::new("new_tag", Ty::String, "Replacement tag."),
    Field::new(
        "digest",
        Ty::String,
        "Replacement digest (`sha256:...`), wins over the tag.",
    ),
];
/// The fields of a patch's `target`.
pub const TARGET_FIELDS: &[Field] = &[
    Field::new("group", Ty::String, "API group."),
    Field::new("version", Ty::String, "API version."),
    Field::new("kind", Ty::String, "Kind, e.g. `Deployment`."),
    Field::new("name", Ty::String, "Resource name (regular expression)."),
    Field::new("namespace", Ty::String, "Namespace."),
    Field::new("label_selector", Ty::String, "Label selector."),
    Field::new("annotation_selector", Ty::String, "Annotation selector."),
];
const PATCH_FIELDS: &[Field] = &[
    Field::new(
        "path",
        Ty::String,
        "Patch file inside the platform: a strategic merge patch (YAML manifest) or a JSON 6902 patch (list of operations).",
    ),
    Field::new("patch", Ty::String, "Inline patch text, instead of `path`."),
    Field::new(
        "target",
        Ty::Object(TARGET_FIELDS),
        "What the patch applies to; required for JSON 6902 patches.",
    ),
];

/// The keys of a service's per-environment `config`.
pub static SERVICE_KEYS: &[Key] = &[
    Key::new(
        "namespace",
        Ty::Pattern(
            crate::keys::is_dns_label,
            "a Kubernetes namespace name (DNS label)",
        ),
        "Namespace every namespaced resource of the service goes to.",
    ),
    Key::new("name_prefix", Ty::String, "Prefix added to resource names."),
    Key::new("name_suffix", Ty::String, "Suffix added to resource names."),
    Key::new(
        "replicas",
        Ty::Map(&Ty::Integer { min: 0 }),
        "Replica counts by Deployment or StatefulSet name.",
    ),
    Key::new(
        "images",
        Ty::Map(&Ty::Object(IMAGE_FIELDS)),
        "Image overrides by image name: `{ new_tag = \"v1.2.3\" }` or a digest.",
    ),
    Key::new(
        "common_labels",
        STRING_MAP,
        "Extra labels on every resource (the cluster metadata labels are always added).",
    ),
    Key::new(
        "common_annotations",
        STRING_MAP,
        "Extra annotations on every resource.",
    ),
    Key::new(
        "resources",
        STRINGS,
        "Extra manifest files or directories inside the platform added to the base.",
    ),
    Key::new(
        "patches",
        Ty::List(&Ty::Object(PATCH_FIELDS)),
        "Patches: strategic merge or JSON 6902, from files inside the platform or inline.",
    ),
    Key::new("helm_values", Ty::Any, "Values for a Helm-sourced service."),
];

/// Reads a `source` table: `{ path }`, `{ url, ref }` or `{ repo, chart, version }`.
pub fn decode_source(
    what: &str,
    v: Option<&Value>,
    component: Origin,
    diags: &mut Diagnostics,
) -> Option<Source> {
    let Some(v) = v else {
        diags.push(
            Diagnostic::error("missing-key", format!("{what} has no `source`"))
                .at_key(component, "needs a source")
                .hint("write `source = { path = \"services/<name>\" }` (a kustomize base in the platform), `{ url = \"...\", ref = \"v1.2.3\" }` or `{ repo = \"...\", chart = \"...\", version = \"1.2.3\" }`"),
        );
        return None;
    };
    let Some(t) = v.as_table() else {
        diags.push(
            Diagnostic::error("wrong-type", format!("`source` of {what} must be a table"))
                .at_value(v.origin, format!("this is a {}", v.type_name()))
                .hint("e.g. `source = { path = \"services/ingress-nginx\" }`"),
        );
        return None;
    };
    let allowed = [
        "path",
        "url",
        "ref",
        "repo",
        "chart",
        "version",
        "release_name",
    ];
    let mut ok = true;
    for (k, x) in t {
        if !allowed.contains(&k.as_str()) {
            ok = false;
            diags.push(
                Diagnostic::error(
                    "unknown-key",
                    format!("unknown field `{k}` in `source` of {what}"),
                )
                .at_key(x.origin, "not a source field")
                .maybe_hint(suggest(k, allowed)),
            );
        } else if x.as_str().is_none_or(str::is_empty) {
            ok = false;
            diags.push(
                Diagnostic::error(
                    "wrong-type",
                    format!("`source.{k}` of {what} must be a non-empty string"),
                )
                .at_value(x.origin, "expected a string"),
            );
        }
    }
    if !ok {
        return None;
    }
    let s = |k: &str| t.get(k).and_then(Value::as_str).map(String::from);
    let kinds = [
        t.contains_key("path"),
        t.contains_key("url"),
        t.contains_key("chart"),
    ];
    match kinds {
        [true, false, false] => {
            let path = s("path")?;
            if let Err(msg) = check_relative_path(&path) {
                diags.push(
                    Diagnostic::error("invalid-path", format!("`source.path` of {what}: {msg}"))
                        .at_value(t["path"].origin, "must stay inside the platform"),
                );
                return None;
            }
            Some(Source::Path { path })
        }
        [false, true, false] => {
            let url = s("url")?;
            let Some(r) = s("ref") else {
                diags.push(
                    Diagnostic::error("unpinned-source", format!("the remote source of {what} is not pinned"))
                        .at_value(v.origin, "no `ref`")
                        .hint("add `ref = \"<tag or commit>\"`: an unpinned base changes under you between `ops` and `apps`"),
                );
                return None;
            };
            if matches!(r.as_str(), "main" | "master" | "HEAD" | "trunk" | "develop") {
                diags.push(
                    Diagnostic::warning(
                        "unpinned-source",
                        format!("the remote source of {what} follows the branch `{r}`"),
                    )
                    .at_value(t["ref"].origin, "a branch moves")
                    .hint("pin a tag or commit so `ops` and `apps` get the same manifests"),
                );
            }
            Some(Source::Remote { url, r#ref: r })
        }
        [false, false, true] => {
            let (Some(repo), Some(version)) = (s("repo"), s("version")) else {
                diags.push(
                    Diagnostic::error(
                        "missing-key",
                        format!("the Helm source of {what} needs `repo`, `chart` and `version`"),
                    )
                    .at_value(v.origin, "incomplete Helm source"),
                );
                return None;
            };
            if version.contains(['*', '^', '~', '>', '<', ' ', 'x']) {
                diags.push(
                    Diagnostic::error(
                        "unpinned-source",
                        format!("the chart version `{version}` of {what} is a range"),
                    )
                    .at_value(t["version"].origin, "not an exact version")
                    .hint("pin an exact chart version such as `4.11.2`"),
                );
                return None;
            }
            Some(Source::Helm {
                repo,
                chart: s("chart")?,
                version,
                release_name: s("release_name"),
            })
        }
        _ => {
            diags.push(
                Diagnostic::error(
                    "invalid-value",
                    format!("`source` of {what} must have exactly one of `path`, `url` or `chart`"),
                )
                .at_value(v.origin, "ambiguous or empty source"),
            );
            None
        }
    }
}

/// A path written in the definition must stay inside the platform: relative, no `..`, no
/// absolute or Windows-style paths, no NUL.
pub fn check_relative_path(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("the path is empty".into());
    }
    if path.contains('\0') {
        return Err("the path contains a NUL byte".into());
    }
    if path.contains('\\') {
        return Err(format!("`{path}` uses `\\`; write paths with `/`"));
    }
    if path.starts_with('/') || path.as_bytes().get(1) == Some(&b':') {
        return Err(format!(
            "`{path}` is absolute; write it relative to the platform directory"
        ));
    }
    if path.split('/').any(|c| c == "..") {
        return Err(format!("`{path}` leaves the platform directory"));
    }
    Ok(())
}

/// A path from the definition, resolved inside the platform; `Err` says why it is not usable.
/// Symlinks are followed and must stay inside the platform too.
pub fn resolve_path(root: &std::path::Path, path: &str) -> Result<std::path::PathBuf, String> {
    check_relative_path(path)?;
    let full = root.join(path);
    let real = std::fs::canonicalize(&full).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!("`{path}` does not exist"),
        _ => format!("cannot read `{path}`: {e}"),
    })?;
    let real_root = std::fs::canonicalize(root)
        .map_err(|e| format!("cannot read the platform directory: {e}"))?;
    if !real.starts_with(&real_root) {
        return Err(format!(
            "`{path}` resolves to `{}`, outside the platform directory",
            real.display()
        ));
    }
    Ok(real)
}

/// Checks the files services refer to: local bases (with a kustomization), patch files and
/// extra resources, in every environment that sets them.
pub fn check_files(p: &crate::platform::Platform, diags: &mut Diagnostics) {
    for c in p.clusters.values() {
        for s in c.services.values() {
            let what = format!("service `{}.{}`", c.key, s.key);
            if let Source::Path { path } = &s.source {
                match resolve_path(&p.root, path) {
                    Ok(dir) if !dir.is_dir() => diags.push(
                        Diagnostic::error("invalid-path", format!("the source of {what} is not a directory"))
                            .at_value(s.source_origin, "expected a kustomize base directory"),
                    ),
                    Ok(dir) if closure::kustomization_file(&dir).is_none() => diags.push(
                        Diagnostic::error("invalid-path", format!("the source of {what} has no kustomization.yaml"))
                            .at_value(s.source_origin, "not a kustomize base")
                            .hint(format!("add `{path}/kustomization.yaml` listing the manifests under `resources:`")),
                    ),
                    Ok(_) => {}
                    Err(msg) => diags.push(
                        Diagnostic::error("invalid-path", format!("the source of {what}: {msg}"))
                            .at_value(s.source_origin, "must be a directory inside the platform"),
                    ),
                }
            }
            for r in s.layer_items("resources") {
                let Some(path) = r.as_str() else { continue };
                let problem = match resolve_path(&p.root, path) {
                    Ok(real) if real.is_dir() && closure::kustomization_file(&real).is_none() => {
                        Some(format!(
                            "the extra resource directory `{path}` has no kustomization.yaml (kustomize loads a directory as a kustomization)"
                        ))
                    }
                    Ok(real) if real.is_dir() => None,
                    // Copied into the overlay: read the same way as definition files.
                    Ok(real) => crate::fsutil::read_text(&real)
                        .err()
                        .map(|e| format!("the extra resource `{path}` {e}")),
                    Err(msg) => Some(msg),
                };
                if let Some(msg) = problem {
                    diags.push(
                        Diagnostic::error("invalid-path", format!("{what}: {msg}"))
                            .at_value(r.origin, "extra resource"),
                    );
                }
            }
            for patch in s.layer_items("patches") {
                let Some(t) = patch.as_table() else { continue };
                match (t.get("path"), t.get("patch")) {
                    (Some(path), None) => {
                        let Some(rel) = path.as_str() else { continue };
                        match resolve_path(&p.root, rel) {
                            Ok(file) if !file.is_dir() => {
                                let text = match crate::fsutil::read_text(&file) {
                                    Ok(t) => t,
                                    Err(e) => {
                                        diags.push(
                                            Diagnostic::error(
                                                "invalid-path",
                                                format!("{what}: the patch `{rel}` {e}"),
                                            )
                                            .at_value(path.origin, "patch file"),
                                        );
                                        continue;
                                    }
                                };
                                if is_json6902(&text) && !t.contains_key("target") {
                                    diags.push(
                                            Diagnostic::error("missing-key", format!("{what}: the JSON 6902 patch `{rel}` needs a `target`"))
                                                .at_value(patch.origin, "which resource does it patch?")
                                                .hint("add `target = { kind = \"Deployment\", name = \"...\" }`"),
                                        );
                                }
                            }
                            Ok(_) => diags.push(
                                Diagnostic::error(
                                    "invalid-path",
                                    format!("{what}: the patch `{rel}` is not a file"),
                                )
                                .at_value(path.origin, "expected a file"),
                            ),
                            Err(msg) => diags.push(
                                Diagnostic::error("invalid-path", format!("{what}: {msg}"))
                                    .at_value(path.origin, "patch file"),
                            ),
                        }
                    }
                    (None, Some(inline)) => {
                        if is_json6902(inline.as_str().unwrap_or_default())
                            && !t.contains_key("target")
                        {
                            diags.push(
                                Diagnostic::error(
                                    "missing-key",
                                    format!("{what}: an inline JSON 6902 patch needs a `target`"),
                                )
                                .at_value(patch.origin, "which resource does it patch?"),
                            );
                        }
                    }
                    _ => diags.push(
                        Diagnostic::error(
                            "invalid-value",
                            format!("{what}: a patch has exactly one of `path` or `patch`"),
                        )
                        .at_value(patch.origin, "ambiguous patch"),
                    ),
                }
            }
        }
    }
}

/// A JSON 6902 patch is a list of operations; a strategic merge patch is a manifest.
fn is_json6902(text: &str) -> bool {
    match yaml_rust2::YamlLoader::load_from_str(text) {
        Ok(docs) => docs.first().is_some_and(|d| {
            d.as_vec()
                .is_some_and(|ops| ops.iter().all(|op| !op["op"].is_badvalue()))
        }),
        Err(_) => false,
    }
}

/// The Terraform module that applies an overlay, embedded and written to `modules/services/`.
pub static TERRAFORM_MODULE: include_dir::Dir<'static> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/src/service/terraform");

/// The kustomization provider's registry source and version constraint.
pub const KUSTOMIZATION_PROVIDER: (&str, &str) = ("kbst/kustomization", "~> 0.9.0");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside() {
        assert!(check_relative_path("services/nginx").is_ok());
        assert!(check_relative_path("../x").is_err());
        assert!(check_relative_path("a/../../x").is_err());
        assert!(check_relative_path("/etc").is_err());
        assert!(check_relative_path("C:/x").is_err());
        assert!(check_relative_path("a\\b").is_err());
        assert!(check_relative_path("a\0b").is_err());
    }
}
