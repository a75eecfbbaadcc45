//! What an import did, for people (the CLI renders it) and scripts (`--output json`): what was
//! imported, what was converted from Kubestack's form to Plinth's, and what needs a human
//! decision because Plinth cannot represent it as written.

/// The import report.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Report {
    /// The Kubestack repository read.
    pub source: String,
    /// `release`, `current`, or both, by module.
    pub dialects: Vec<String>,
    /// The promotion chain written, in order.
    pub environments: Vec<String>,
    pub base_environment: String,
    /// The platform's inheritance rule.
    pub inheritance: String,
    pub imported: Vec<Imported>,
    pub converted: Vec<Conversion>,
    pub decisions: Vec<Decision>,
    /// The files of the new platform, relative to its directory.
    pub files: Vec<String>,
}

/// One component the import created.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Imported {
    /// `cluster`, `node pool` or `service`.
    pub kind: &'static str,
    /// `eks_zero`, `eks_zero.gpu`, `eks_zero.ingress-nginx`.
    pub key: String,
    /// Provider, catalog entry or source, and the Kubestack dialect.
    pub detail: String,
    /// Where it came from: `module "x"` at `file:line`.
    pub from: String,
}

/// A value whose key, place or type changed on the way in.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Conversion {
    /// The Plinth component: `eks_zero`, `eks_zero.node_pools.default`, ...
    pub component: String,
    pub environment: Option<String>,
    /// As Kubestack has it: `cluster_min_size = "1"`.
    pub from: String,
    /// As Plinth has it: `node_pools.default min_size = 1`.
    pub to: String,
    /// `file:line` of the Kubestack value.
    pub at: String,
}

/// Something Plinth cannot represent as written: it was left out of the platform and needs a
/// person to decide what to do.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Decision {
    pub component: Option<String>,
    pub environment: Option<String>,
    /// `file:line` of the Kubestack text.
    pub at: String,
    pub message: String,
    /// The Kubestack text as written, when it is kept in a file of the new platform.
    pub verbatim: Option<String>,
    /// The file of the new platform that keeps the text (in a comment block).
    pub kept_in: Option<String>,
}
