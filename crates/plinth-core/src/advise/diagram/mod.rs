//! Pictures of the platform like the architecture guide's figures: environments side by side in
//! promotion order (the internal one marked), the clusters every environment runs with their
//! provider, region and full name, their node pools (instance shape, size range, taints, GPU
//! and architecture badges) and platform services.
//!
//! [`build`] turns the resolved platform into a [`Diagram`]; [`svg`], [`dot`] and [`mermaid`]
//! draw it. Every renderer is deterministic: the same platform gives the same bytes, so the
//! pictures can be committed and snapshot-tested.

pub mod dot;
pub mod mermaid;
pub mod svg;

use crate::environment::Intent;
use crate::platform::Platform;
use crate::provider::Arch;
use crate::resolve::Resolution;
use serde::Serialize;

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A self-contained SVG image (no external fonts or scripts).
    Svg,
    /// Graphviz DOT.
    Dot,
    /// A Mermaid flowchart, for Markdown docs.
    Mermaid,
}

#[derive(Clone, Debug, Serialize)]
pub struct Diagram {
    pub platform: String,
    /// The whole promotion chain, also when only some environments are drawn.
    pub chain: Vec<String>,
    pub environments: Vec<EnvBox>,
}

#[derive(Clone, Debug, Serialize)]
pub struct EnvBox {
    pub name: String,
    pub internal: bool,
    pub base: bool,
    pub intent: Intent,
    pub clusters: Vec<ClusterBox>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ClusterBox {
    pub key: String,
    /// `eks`, `aks`, `gke`, `kind`.
    pub provider: &'static str,
    pub provider_title: &'static str,
    pub region: String,
    /// The full cluster name, `<name_prefix>-<environment>-<region>`.
    pub name: String,
    pub fqdn: String,
    pub intent: Intent,
    pub pools: Vec<PoolBox>,
    pub services: Vec<ServiceBox>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PoolBox {
    pub key: String,
    /// The provider-side name when it differs from the key.
    pub name: Option<String>,
    pub instance_types: Vec<String>,
    pub min_nodes: i64,
    pub max_nodes: i64,
    /// `key=value:Effect`.
    pub taints: Vec<String>,
    pub gpus_per_node: u32,
    pub gpu_type: Option<String>,
    pub arch: Arch,
    pub spot: bool,
    pub intent: Intent,
}

impl PoolBox {
    /// `3–9 nodes`, or `3 nodes` for a fixed size.
    pub fn size(&self) -> String {
        if self.min_nodes == self.max_nodes {
            format!(
                "{} node{}",
                self.max_nodes,
                if self.max_nodes == 1 { "" } else { "s" }
            )
        } else {
            format!("{}\u{2013}{} nodes", self.min_nodes, self.max_nodes)
        }
    }

    /// `t3a.xlarge · 3–9 nodes`.
    pub fn shape_line(&self) -> String {
        let size = self.size();
        if self.instance_types.is_empty() {
            size
        } else {
            format!("{} \u{b7} {size}", self.instance_types.join(", "))
        }
    }

    /// Short badges: GPU, arm64, spot, then the declared intent.
    pub fn badges(&self) -> Vec<Badge> {
        let mut out = Vec::new();
        if self.gpus_per_node > 0 {
            // The accelerator's model when the provider says which (GKE), not just "nvidia".
            let model = self
                .gpu_type
                .as_deref()
                .filter(|t| *t != "nvidia")
                .map_or(String::new(), |t| format!(" {t}"));
            out.push(Badge::Gpu(format!(
                "GPU \u{d7}{}{model}",
                self.gpus_per_node
            )));
        }
        if self.arch == Arch::Arm64 {
            out.push(Badge::Arch("arm64".into()));
        }
        if self.spot {
            out.push(Badge::Plain("spot".into()));
        }
        out.extend(intent_badges(&self.intent));
        out
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct ServiceBox {
    pub key: String,
    pub kind: &'static str,
}

/// A small label on a box, with a colour class.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Badge {
    Internal,
    Base,
    Prod,
    NonProd,
    Gpu(String),
    Arch(String),
    Plain(String),
}

impl Badge {
    pub fn text(&self) -> &str {
        match self {
            Badge::Internal => "internal",
            Badge::Base => "base",
            Badge::Prod => "prod",
            Badge::NonProd => "non-prod",
            Badge::Gpu(s) | Badge::Arch(s) | Badge::Plain(s) => s,
        }
    }
}

/// Badges for a declared intent: stage, tenant, workload.
pub fn intent_badges(i: &Intent) -> Vec<Badge> {
    let mut out = Vec::new();
    match i.stage {
        Some(crate::environment::Stage::Prod) => out.push(Badge::Prod),
        Some(crate::environment::Stage::NonProd) => out.push(Badge::NonProd),
        None => {}
    }
    if let Some(t) = &i.tenant {
        out.push(Badge::Plain(format!("tenant {t}")));
    }
    if let Some(w) = &i.workload {
        out.push(Badge::Plain(format!("workload {w}")));
    }
    out
}

/// The diagram of `env` (every environment when `None`; an unknown name gives no environment).
pub fn build(p: &Platform, r: &Resolution, env: Option<&str>) -> Diagram {
    let chain = &p.environments;
    let environments = chain
        .chain
        .iter()
        .enumerate()
        .filter(|(_, e)| env.is_none_or(|n| n == e.name))
        .filter_map(|(i, e)| {
            let resolved = r.get(&e.name)?;
            let clusters = resolved
                .clusters
                .values()
                .map(|rc| ClusterBox {
                    key: rc.key.clone(),
                    provider: rc.provider.id,
                    provider_title: rc.provider.title,
                    region: rc.region.clone(),
                    name: rc.meta.name.clone(),
                    fqdn: rc.meta.fqdn.clone(),
                    intent: rc.header.intent.clone(),
                    pools: pools_in_order(rc),
                    services: rc
                        .services
                        .values()
                        .map(|s| ServiceBox {
                            key: s.key.clone(),
                            kind: s.kind.as_str(),
                        })
                        .collect(),
                })
                .collect();
            Some(EnvBox {
                name: e.name.clone(),
                internal: i == 0 && chain.len() > 1 && e.intent.is_empty(),
                base: i == chain.base,
                intent: e.intent.clone(),
                clusters,
            })
        })
        .collect();
    Diagram {
        platform: p.settings.name.clone(),
        chain: chain.names().map(String::from).collect(),
        environments,
    }
}

/// `default` first (it is created with the cluster), then the others by key.
fn pools_in_order(rc: &crate::cluster::ResolvedCluster) -> Vec<PoolBox> {
    let mut pools: Vec<_> = rc.node_pools.values().collect();
    pools.sort_by_key(|p| (p.key != crate::node_pool::DEFAULT_POOL, p.key.clone()));
    pools
        .into_iter()
        .map(|p| PoolBox {
            key: p.key.clone(),
            name: (p.name != p.key).then(|| p.name.clone()),
            instance_types: p.shape().instance_types.clone(),
            min_nodes: p.shape().min_nodes,
            max_nodes: p.shape().max_nodes,
            taints: p.shape().taints.iter().map(ToString::to_string).collect(),
            gpus_per_node: p.shape().gpus_per_node,
            gpu_type: p.shape().gpu_type.clone(),
            arch: p.shape().arch,
            spot: p.shape().spot,
            intent: p.header.intent.clone(),
        })
        .collect()
}

/// Draws the diagram.
pub fn render(d: &Diagram, format: Format) -> String {
    match format {
        Format::Svg => svg::render(d),
        Format::Dot => dot::render(d),
        Format::Mermaid => mermaid::render(d),
    }
}

/// Short provider label for badges: `EKS`, `AKS`, `GKE`, `kind`.
pub fn provider_badge(id: &str) -> String {
    match id {
        "kind" => "kind".into(),
        other => other.to_ascii_uppercase(),
    }
}
