//! The platform/application boundary: a platform service brings what makes clusters ready for
//! workloads — controllers, operators and their CRDs, admission control and its policies,
//! agents — never the workloads themselves.
//!
//! Deploying application workloads from the platform breaks the separation between the platform
//! and application layers and leads to circular dependencies (the platform-architecture guide).
//! This lint reads the manifests a local kustomize base lists and flags:
//! * workloads (Deployment, StatefulSet, DaemonSet, Job, CronJob, Pod, ReplicaSet) in a service
//!   that declares no controller role (`kind = "other"`);
//! * custom resources in a service that is not an `operator` or `policy` (CRDs and their
//!   operators belong; the custom resources that merely define apps do not);
//! * Ingress resources anywhere: ingress controllers belong, the ingresses of apps do not.

use super::{ServiceKind, Source};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::platform::Platform;
use crate::source::{SourceMap, Span};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const WORKLOADS: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
    "Pod",
    "ReplicaSet",
    "ReplicationController",
];

/// API groups served by Kubernetes itself; any other group is a custom resource.
const BUILTIN_GROUPS: &[&str] = &[
    "",
    "apps",
    "batch",
    "autoscaling",
    "policy",
    "rbac.authorization.k8s.io",
    "networking.k8s.io",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "apiregistration.k8s.io",
    "scheduling.k8s.io",
    "storage.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "node.k8s.io",
    "certificates.k8s.io",
    "flowcontrol.apiserver.k8s.io",
    "events.k8s.io",
    "resource.k8s.io",
];

const REASON: &str = "deploying application workloads from the platform breaks the separation between the platform and application layers and leads to circular dependencies; keep them in the application teams' repositories";

/// One manifest document of a base.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub file: PathBuf,
    /// Byte offset of the document in its file.
    pub offset: usize,
    pub api_version: String,
    pub kind: String,
    pub name: String,
}

impl Manifest {
    pub fn group(&self) -> &str {
        self.api_version.rsplit_once('/').map_or("", |(g, _)| g)
    }
}

/// Every manifest a kustomize directory lists in `resources` (recursively), with problems
/// reading them. Remote resources are skipped: they cannot be read offline.
pub fn manifests(dir: &Path) -> (Vec<Manifest>, Vec<String>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    collect(dir, &mut out, &mut problems, &mut seen, 0);
    (out, problems)
}

pub use super::closure::kustomization_file;

fn collect(
    dir: &Path,
    out: &mut Vec<Manifest>,
    problems: &mut Vec<String>,
    seen: &mut BTreeSet<PathBuf>,
    depth: usize,
) {
    // Directories are remembered by their real path: a base that lists a symlink to itself
    // (or to a parent) would otherwise be walked again along every path, exponentially.
    let real = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    if depth > 16 || !seen.insert(real) {
        return;
    }
    let Some(kfile) = kustomization_file(dir) else {
        problems.push(format!("`{}` has no kustomization.yaml", dir.display()));
        return;
    };
    let text = match crate::fsutil::read_text(&kfile) {
        Ok(t) => t,
        Err(e) => {
            problems.push(format!("cannot read `{}`: {e}", kfile.display()));
            return;
        }
    };
    let docs = match yaml_rust2::YamlLoader::load_from_str(&text) {
        Ok(d) => d,
        Err(e) => {
            problems.push(format!("`{}` is not valid YAML: {e}", kfile.display()));
            return;
        }
    };
    let Some(doc) = docs.first() else { return };
    for key in ["resources", "bases", "crds"] {
        for r in doc[key].as_vec().map(Vec::as_slice).unwrap_or_default() {
            let Some(r) = r.as_str() else { continue };
            if r.contains("://") || r.starts_with("github.com/") || r.starts_with("git@") {
                continue;
            }
            let p = dir.join(r);
            if p.is_dir() {
                collect(&p, out, problems, seen, depth + 1);
            } else if p.is_file() {
                read_file(&p, out, problems);
            } else {
                problems.push(format!(
                    "`{}` lists `{r}`, which does not exist",
                    kfile.display()
                ));
            }
        }
    }
}

fn read_file(path: &Path, out: &mut Vec<Manifest>, problems: &mut Vec<String>) {
    let text = match crate::fsutil::read_text(path) {
        Ok(t) => t,
        Err(e) => {
            problems.push(format!("cannot read `{}`: {e}", path.display()));
            return;
        }
    };
    for (offset, chunk) in split_documents(&text) {
        let docs = match yaml_rust2::YamlLoader::load_from_str(chunk) {
            Ok(d) => d,
            Err(e) => {
                problems.push(format!("`{}` is not valid YAML: {e}", path.display()));
                return;
            }
        };
        for doc in docs {
            let kind = doc["kind"].as_str().unwrap_or_default().to_string();
            if kind.is_empty() {
                continue;
            }
            if kind == "List" {
                for item in doc["items"].as_vec().map(Vec::as_slice).unwrap_or_default() {
                    out.push(Manifest {
                        file: path.to_path_buf(),
                        offset,
                        api_version: item["apiVersion"].as_str().unwrap_or_default().into(),
                        kind: item["kind"].as_str().unwrap_or_default().into(),
                        name: item["metadata"]["name"].as_str().unwrap_or_default().into(),
                    });
                }
                continue;
            }
            out.push(Manifest {
                file: path.to_path_buf(),
                offset,
                api_version: doc["apiVersion"].as_str().unwrap_or_default().into(),
                kind,
                name: doc["metadata"]["name"].as_str().unwrap_or_default().into(),
            });
        }
    }
}

/// YAML documents of a stream with their byte offsets (split at `---` lines).
fn split_documents(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_end() == "---" || line.starts_with("--- ") {
            if pos > start {
                out.push((start, &text[start..pos]));
            }
            start = pos + line.len();
        }
        pos += line.len();
    }
    if start < text.len() {
        out.push((start, &text[start..]));
    }
    out
}

/// A manifest that does not belong in a service: why, and what to do instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub message: String,
    pub fix: String,
}

/// Why a manifest does not belong in a service of `kind`, if it does not.
pub fn violation(kind: ServiceKind, m: &Manifest) -> Option<Violation> {
    let custom = !BUILTIN_GROUPS.contains(&m.group());
    if m.kind == "Ingress" && m.group() == "networking.k8s.io" {
        return Some(Violation {
            message: format!(
                "Ingress `{}` routes traffic to an application: ingress controllers belong in the platform, the ingresses of apps do not",
                m.name
            ),
            fix: format!("{REASON}: move the Ingress to the application's repository"),
        });
    }
    if WORKLOADS.contains(&m.kind.as_str()) && kind == ServiceKind::Other {
        return Some(Violation {
            message: format!(
                "{} `{}` is a workload in a service that declares no controller role (`kind = \"other\"`)",
                m.kind, m.name
            ),
            fix: format!(
                "{REASON}. If `{}` is the controller of a platform service, declare the service's role (`kind = \"operator\"`, `\"ingress\"`, `\"monitoring\"`, ...)",
                m.name
            ),
        });
    }
    if custom
        && m.kind != "CustomResourceDefinition"
        && !matches!(kind, ServiceKind::Operator | ServiceKind::Policy)
    {
        return Some(Violation {
            message: format!(
                "{} `{}` ({}) is a custom resource in a service of kind `{}`: CRDs and their operators belong in the platform, the custom resources that define apps do not",
                m.kind,
                m.name,
                m.api_version,
                kind.as_str()
            ),
            fix: format!(
                "{REASON}. Platform-wide custom resources (issuers, policies) belong to a service of kind `operator` or `policy`"
            ),
        });
    }
    None
}

/// Lints every local base of every service; problems point at the manifest's document.
/// Each base is read once however many clusters use it.
pub fn check(p: &Platform, sources: &mut SourceMap, diags: &mut Diagnostics) {
    let mut seen: BTreeSet<(PathBuf, ServiceKind)> = BTreeSet::new();
    for c in p.clusters.values() {
        for s in c.services.values() {
            let Source::Path { path } = &s.source else {
                continue;
            };
            let dir = p.root.join(path);
            if !seen.insert((dir.clone(), s.kind)) {
                continue;
            }
            let (found, _) = manifests(&dir);
            for m in found {
                if let Some(v) = violation(s.kind, &m) {
                    let text = crate::fsutil::read_text(&m.file).unwrap_or_default();
                    let name = crate::source::display_path(&m.file, &p.root);
                    let line_end = text[m.offset..]
                        .find('\n')
                        .map_or(text.len(), |i| m.offset + i);
                    let file = match sources.find_path(&m.file) {
                        Some(id) => id,
                        None => sources.add(name, m.file.clone(), text),
                    };
                    diags.push(
                        Diagnostic::warning(
                            "application-workload",
                            format!("service `{}.{}`: {}", c.key, s.key, v.message),
                        )
                        .label(
                            file,
                            Span::new(m.offset..line_end),
                            format!("{} in the platform", m.kind),
                        )
                        .hint(v.fix),
                    );
                }
            }
        }
    }
}

/// The same findings for the advisor (rule 6). Their labels point into `p.sources`, which
/// [`crate::check`] leaves holding every file the lint read.
pub fn workload_findings(p: &Platform) -> Vec<Diagnostic> {
    let mut sources = p.sources.clone();
    let mut diags = Diagnostics::default();
    check(p, &mut sources, &mut diags);
    diags.into_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(api_version: &str, kind: &str) -> Manifest {
        Manifest {
            file: PathBuf::new(),
            offset: 0,
            api_version: api_version.into(),
            kind: kind.into(),
            name: "x".into(),
        }
    }

    #[test]
    fn boundary_rules() {
        use ServiceKind::*;
        assert!(
            violation(Other, &m("apps/v1", "Deployment"))
                .is_some_and(|v| v.fix.contains("declare the service's role"))
        );
        assert!(violation(Ingress, &m("apps/v1", "Deployment")).is_none());
        assert!(violation(Operator, &m("apps/v1", "Deployment")).is_none());
        assert!(violation(Monitoring, &m("apps/v1", "DaemonSet")).is_none());
        assert!(violation(Mesh, &m("networking.istio.io/v1", "VirtualService")).is_some());
        assert!(violation(Operator, &m("cert-manager.io/v1", "ClusterIssuer")).is_none());
        assert!(
            violation(
                Policy,
                &m("constraints.gatekeeper.sh/v1beta1", "K8sRequiredLabels")
            )
            .is_none()
        );
        assert!(
            violation(
                Ingress,
                &m("apiextensions.k8s.io/v1", "CustomResourceDefinition")
            )
            .is_none()
        );
        assert!(violation(Ingress, &m("networking.k8s.io/v1", "Ingress")).is_some());
        assert!(violation(Ingress, &m("networking.k8s.io/v1", "IngressClass")).is_none());
        assert!(violation(Other, &m("v1", "ConfigMap")).is_none());
    }

    #[test]
    fn documents_keep_their_offsets() {
        let text = "a: 1\n---\nkind: B\n--- \nkind: C\n";
        let docs = split_documents(text);
        assert_eq!(docs.iter().map(|(o, _)| *o).collect::<Vec<_>>(), [0, 9, 22]);
    }
}
