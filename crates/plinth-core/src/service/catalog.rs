//! The built-in catalog: well-known platform services with their kind, upstream source and a
//! pinned default version. `plinth add service <name>` writes an entry's source into the
//! definition, so the version in use is always visible in review and bumped explicitly.

use super::{ServiceKind, Source};

/// One catalog entry.
#[derive(Debug)]
pub struct Entry {
    pub name: &'static str,
    pub kind: ServiceKind,
    pub description: &'static str,
    /// Namespace the upstream manifests install into.
    pub namespace: &'static str,
    pub version: &'static str,
    pub upstream: Upstream,
    pub homepage: &'static str,
}

/// Where an entry's manifests come from.
#[derive(Debug)]
pub enum Upstream {
    /// A kustomize-loadable URL (a repository path with `?ref=`, or a release manifest).
    Kustomize {
        url: &'static str,
        r#ref: &'static str,
    },
    /// A Helm chart (rendered by kustomize's `helmCharts`, which needs `helm`).
    Helm {
        repo: &'static str,
        chart: &'static str,
    },
}

impl Entry {
    /// The `source` this entry is added with.
    pub fn source(&self) -> Source {
        match &self.upstream {
            Upstream::Kustomize { url, r#ref } => Source::Remote {
                url: (*url).into(),
                r#ref: (*r#ref).into(),
            },
            Upstream::Helm { repo, chart } => Source::Helm {
                repo: (*repo).into(),
                chart: (*chart).into(),
                version: self.version.into(),
                release_name: Some(self.name.into()),
            },
        }
    }
}

use ServiceKind::{Admission, Ingress, Logging, Mesh, Monitoring, Operator, Other, Policy};

pub static ENTRIES: &[Entry] = &[
    Entry {
        name: "argo-cd",
        kind: Operator,
        description: "Declarative GitOps continuous delivery for application teams' workloads.",
        namespace: "argocd",
        version: "v2.13.2",
        upstream: Upstream::Kustomize {
            url: "https://raw.githubusercontent.com/argoproj/argo-cd/v2.13.2/manifests/install.yaml",
            r#ref: "v2.13.2",
        },
        homepage: "https://argo-cd.readthedocs.io",
    },
    Entry {
        name: "cert-manager",
        kind: Operator,
        description: "X.509 certificates from ACME, Vault or private CAs, as Kubernetes resources.",
        namespace: "cert-manager",
        version: "v1.16.2",
        upstream: Upstream::Kustomize {
            url: "https://github.com/cert-manager/cert-manager/releases/download/v1.16.2/cert-manager.yaml",
            r#ref: "v1.16.2",
        },
        homepage: "https://cert-manager.io",
    },
    Entry {
        name: "cluster-autoscaler",
        kind: Other,
        description: "Resizes node pools to fit pending pods (AWS, Azure, GCP node groups).",
        namespace: "kube-system",
        version: "9.43.2",
        upstream: Upstream::Helm {
            repo: "https://kubernetes.github.io/autoscaler",
            chart: "cluster-autoscaler",
        },
        homepage: "https://github.com/kubernetes/autoscaler",
    },
    Entry {
        name: "external-dns",
        kind: Other,
        description: "Publishes Services and Ingresses to DNS providers (Route 53, Cloud DNS, Azure DNS).",
        namespace: "external-dns",
        version: "1.15.0",
        upstream: Upstream::Helm {
            repo: "https://kubernetes-sigs.github.io/external-dns",
            chart: "external-dns",
        },
        homepage: "https://kubernetes-sigs.github.io/external-dns",
    },
    Entry {
        name: "fluent-bit",
        kind: Logging,
        description: "Log processor and forwarder running on every node.",
        namespace: "logging",
        version: "0.48.3",
        upstream: Upstream::Helm {
            repo: "https://fluent.github.io/helm-charts",
            chart: "fluent-bit",
        },
        homepage: "https://fluentbit.io",
    },
    Entry {
        name: "flux",
        kind: Operator,
        description: "GitOps toolkit: source, kustomize and helm controllers.",
        namespace: "flux-system",
        version: "v2.4.0",
        upstream: Upstream::Kustomize {
            url: "https://github.com/fluxcd/flux2/releases/download/v2.4.0/install.yaml",
            r#ref: "v2.4.0",
        },
        homepage: "https://fluxcd.io",
    },
    Entry {
        name: "gatekeeper",
        kind: Admission,
        description: "OPA Gatekeeper: policy enforcement through validating and mutating admission.",
        namespace: "gatekeeper-system",
        version: "v3.18.0",
        upstream: Upstream::Kustomize {
            url: "https://raw.githubusercontent.com/open-policy-agent/gatekeeper/v3.18.0/deploy/gatekeeper.yaml",
            r#ref: "v3.18.0",
        },
        homepage: "https://open-policy-agent.github.io/gatekeeper",
    },
    Entry {
        name: "ingress-nginx",
        kind: Ingress,
        description: "Ingress controller built on NGINX.",
        namespace: "ingress-nginx",
        version: "controller-v1.11.3",
        upstream: Upstream::Kustomize {
            url: "https://github.com/kubernetes/ingress-nginx//deploy/static/provider/cloud",
            r#ref: "controller-v1.11.3",
        },
        homepage: "https://kubernetes.github.io/ingress-nginx",
    },
    Entry {
        name: "istio",
        kind: Mesh,
        description: "Service mesh control plane (istiod); install the `base` chart's CRDs with it.",
        namespace: "istio-system",
        version: "1.24.1",
        upstream: Upstream::Helm {
            repo: "https://istio-release.storage.googleapis.com/charts",
            chart: "istiod",
        },
        homepage: "https://istio.io",
    },
    Entry {
        name: "kube-prometheus-stack",
        kind: Monitoring,
        description: "Prometheus operator, Prometheus, Alertmanager, Grafana and exporters.",
        namespace: "monitoring",
        version: "66.3.0",
        upstream: Upstream::Helm {
            repo: "https://prometheus-community.github.io/helm-charts",
            chart: "kube-prometheus-stack",
        },
        homepage: "https://github.com/prometheus-community/helm-charts",
    },
    Entry {
        name: "kyverno",
        kind: Policy,
        description: "Kubernetes-native policy engine: validate, mutate and generate resources.",
        namespace: "kyverno",
        version: "v1.13.2",
        upstream: Upstream::Kustomize {
            url: "https://github.com/kyverno/kyverno/releases/download/v1.13.2/install.yaml",
            r#ref: "v1.13.2",
        },
        homepage: "https://kyverno.io",
    },
    Entry {
        name: "linkerd",
        kind: Mesh,
        description: "Lightweight service mesh control plane (install the `linkerd-crds` chart first).",
        namespace: "linkerd",
        version: "2024.11.8",
        upstream: Upstream::Helm {
            repo: "https://helm.linkerd.io/edge",
            chart: "linkerd-control-plane",
        },
        homepage: "https://linkerd.io",
    },
    Entry {
        name: "metrics-server",
        kind: Monitoring,
        description: "Resource metrics for `kubectl top` and the horizontal pod autoscaler.",
        namespace: "kube-system",
        version: "v0.7.2",
        upstream: Upstream::Kustomize {
            url: "https://github.com/kubernetes-sigs/metrics-server/releases/download/v0.7.2/components.yaml",
            r#ref: "v0.7.2",
        },
        homepage: "https://github.com/kubernetes-sigs/metrics-server",
    },
    Entry {
        name: "prometheus-operator",
        kind: Operator,
        description: "The Prometheus operator and its CRDs (Prometheus, ServiceMonitor, ...).",
        namespace: "default",
        version: "v0.78.2",
        upstream: Upstream::Kustomize {
            url: "https://github.com/prometheus-operator/prometheus-operator/releases/download/v0.78.2/bundle.yaml",
            r#ref: "v0.78.2",
        },
        homepage: "https://prometheus-operator.dev",
    },
];

pub fn get(name: &str) -> Option<&'static Entry> {
    ENTRIES.iter().find(|e| e.name == name)
}

pub fn names() -> impl Iterator<Item = &'static str> + Clone {
    ENTRIES.iter().map(|e| e.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_pinned_and_sorted() {
        let names: Vec<_> = names().collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted, "keep the catalog sorted");
        for e in ENTRIES {
            assert!(
                crate::environment::check_component_key(e.name).is_ok(),
                "{}",
                e.name
            );
            assert!(crate::keys::is_dns_label(e.namespace), "{}", e.name);
            let src = e.source();
            match &src {
                Source::Remote { url, r#ref } => {
                    assert!(
                        url.contains(r#ref.as_str()) || url.contains('/'),
                        "{}",
                        e.name
                    );
                    assert!(
                        !matches!(r#ref.as_str(), "main" | "master" | "HEAD"),
                        "{} is unpinned",
                        e.name
                    );
                }
                Source::Helm { version, .. } => assert!(
                    version.chars().next().is_some_and(|c| c.is_ascii_digit()),
                    "{}",
                    e.name
                ),
                Source::Path { .. } => unreachable!(),
            }
        }
        for required in [
            "ingress-nginx",
            "cert-manager",
            "external-dns",
            "metrics-server",
            "cluster-autoscaler",
            "kube-prometheus-stack",
            "prometheus-operator",
            "fluent-bit",
            "gatekeeper",
            "kyverno",
            "argo-cd",
            "flux",
            "istio",
            "linkerd",
        ] {
            assert!(get(required).is_some(), "{required} missing");
        }
    }
}
