//! The platform: one code base, its settings, environments and clusters, as read from disk.

use crate::cluster::ClusterDef;
use crate::environment::Environments;
use crate::inheritance::Mode;
use crate::keys::{Default, Key, Ty};
use crate::source::SourceMap;
use crate::value::{Origin, Table};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// How Terraform state is split.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StateLayout {
    /// One root module (and state) for the whole platform, as Kubestack does.
    Platform,
    /// One root module (and state) per cluster, planned and applied in parallel.
    Cluster,
}

/// What the platform team favours when the advisor weighs alternatives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Priority {
    BlastRadius,
    Utilization,
}

/// `[platform]` after defaults, with where each setting came from.
#[derive(Clone, Debug)]
pub struct Settings {
    pub name: String,
    pub base_domain: String,
    pub name_prefix: String,
    pub label_namespace: String,
    pub name_delimiter: String,
    pub inheritance: Mode,
    pub state: StateLayout,
    pub priority: Option<Priority>,
    /// `[platform.backend]` as written (validated by the Terraform renderer's backend table).
    pub backend: Table,
    /// `[promotion]` and `[platform.record]`: what a promotion requires.
    pub policy: crate::promote::policy::Policy,
    /// The raw `[platform]` table, for origins in messages.
    pub raw: Table,
}

impl Settings {
    pub fn origin(&self, key: &str) -> Origin {
        self.raw.get(key).map_or(Origin::BUILTIN, |v| v.origin)
    }
}

/// A whole platform definition: every file read, checked for types and structure, not resolved.
#[derive(Clone, Debug)]
pub struct Platform {
    /// The directory holding `plinth.toml`.
    pub root: PathBuf,
    pub sources: SourceMap,
    pub settings: Settings,
    pub environments: Environments,
    pub clusters: BTreeMap<String, ClusterDef>,
}

const ENV_LIST: Ty = Ty::List(&Ty::String);

/// The `[platform]` keys.
pub static PLATFORM_KEYS: &[Key] = &[
    Key::new("name", Ty::String, "Name of the platform; the directory's name when unset."),
    Key::new("environments", ENV_LIST, "The promotion chain, in order: the first is internal (every change is validated there first), the rest are external.").default(Default::Strs(&["ops", "apps"])),
    Key::new("base_environment", Ty::String, "The environment every other environment inherits from.").default(Default::Str("apps")),
    Key::new("base_domain", Ty::Pattern(crate::keys::is_domain_or_empty, "a DNS domain such as `infra.example.com`"), "Default `base_domain` of every cluster.").default(Default::Str("")),
    Key::new("name_prefix", Ty::String, "Default `name_prefix` of every cluster.").default(Default::Str("")),
    Key::new("label_namespace", Ty::String, "Prefix of the cluster metadata labels (AKS turns a trailing `/` into `-`).").default(Default::Str("kubestack.com/")),
    Key::new("name_delimiter", Ty::String, "Joins the parts of cluster names.").default(Default::Str("-")),
    Key::new("inheritance", Ty::Enum(Mode::NAMES), "Inheritance rule: `nested` (Kubestack current), `shallow` (Kubestack release) or `deep`.").default(Default::Str("nested")),
    Key::new("state", Ty::Enum(&["platform", "cluster"]), "Terraform state layout: one root for the platform, or one per cluster.").default(Default::Str("platform")),
    Key::new("priority", Ty::Enum(&["blast-radius", "utilization"]), "What the advisor favours: blast-radius protection or efficient utilization."),
    Key::new("backend", Ty::Map(&Ty::Scalar), "Terraform backend: `type` (`local`, `s3`, `gcs`, `azurerm`, `pg`, `remote`) and its settings.").default(Default::None),
    Key::new("record", Ty::Object(crate::promote::policy::RECORD_FIELDS), "The promotion record: `{ signed = true }` makes every record a signed git tag, verified before a promotion relies on it."),
];
