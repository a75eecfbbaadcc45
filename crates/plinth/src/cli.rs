//! Command-line arguments. Only clap types live here; commands turn them into library calls.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

const ABOUT: &str =
    "Run Kubernetes as a product: one code base, applied to environments in promotion order.";

const LONG_ABOUT: &str = "\
Plinth describes a whole Kubernetes platform in one code base — environments, clusters on EKS,
AKS, GKE or kind, node pools and platform services — and applies it to two or more environments
in a fixed promotion order: every change is validated on the internal `ops` environment before
the same revision is promoted to the external `apps` environment.

Plinth resolves, validates, generates, plans and gates; Terraform (or OpenTofu) and kustomize
apply.";

const AFTER_HELP: &str = "\
Getting started:
  plinth init demo --example multi-cloud   scaffold a platform with clusters on three clouds
  plinth validate demo                     every problem at once, with file, line and a hint
  plinth show demo --env ops               the platform as the `ops` environment resolves it
  plinth show demo --explain eks_zero.node_pools.default.min_size
                                           where a resolved value came from

Exit codes: 0 success, 1 invalid input or refused, 2 usage error, 3 changes found
(generate --check, plan), 4 engine failure. 101 is always a bug.";

#[derive(Debug, Parser)]
#[command(name = "plinth", version, about = ABOUT, long_about = LONG_ABOUT, after_help = AFTER_HELP)]
#[command(propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// When to use colours: `auto` uses them only on a terminal (and never with NO_COLOR set).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
    /// More detail on stderr (repeat for even more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Only errors on stderr; data still goes to stdout.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Output {
    /// Readable text.
    #[default]
    Text,
    /// One JSON document on stdout, for scripts.
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scaffold a new platform from one of the architecture guide's four examples.
    Init(InitArgs),
    /// Check the definition: every problem at once, each with its file, line and a hint.
    Validate(ValidateArgs),
    /// Show the resolved platform for each environment, or explain where a value came from.
    Show(ShowArgs),
    /// List environments, clusters, node pools and services.
    List(ListArgs),
    /// Add a cluster, node pool or environment (keeps your comments).
    #[command(subcommand)]
    Add(AddCommand),
    /// Remove a cluster, node pool or environment (keeps your comments).
    #[command(subcommand)]
    Remove(RemoveCommand),
    /// The catalog of well-known platform services, with pinned default versions.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Generate the Terraform roots and modules (and service overlays) the engines apply.
    Generate(GenerateArgs),
    /// Render generated service overlays with `kubectl kustomize`, to review what will be applied.
    Render(RenderArgs),
    /// Print the JSON schema of the definition, for editor completion and checks.
    Schema(SchemaArgs),
    /// Print shell completions.
    Completions(CompletionsArgs),
}

/// The platform directory argument every command shares.
#[derive(Debug, Args, Clone)]
pub struct DirArg {
    /// The platform directory (holding `plinth.toml`).
    #[arg(default_value = ".", value_name = "DIR")]
    pub dir: PathBuf,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  plinth init demo\n  plinth init acme --example environments --name acme"
)]
pub struct InitArgs {
    /// Directory to create; must not exist or be empty.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Which architecture to start from.
    #[arg(long, value_enum, default_value_t = Example::Minimal)]
    pub example: Example,
    /// The platform's name; the directory's name by default.
    #[arg(long)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Example {
    /// One EKS cluster, environments ops → apps (the minimal starter).
    Minimal,
    /// Non-prod and prod separated by node pools: a tainted prod pool and a tainted GPU pool.
    NodePools,
    /// Clusters on EKS, GKE and AKS in several regions.
    MultiCloud,
    /// Non-prod and prod separated by environments: ops → apps → apps-prod.
    Environments,
}

impl Example {
    pub fn name(self) -> &'static str {
        match self {
            Example::Minimal => "minimal",
            Example::NodePools => "node-pools",
            Example::MultiCloud => "multi-cloud",
            Example::Environments => "environments",
        }
    }
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub dir: DirArg,
    #[arg(long, short, value_enum, default_value_t)]
    pub output: Output,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  plinth show --env ops\n  plinth show --output json | jq '.[0].clusters'\n  plinth show --explain eks_zero.node_pools.default.max_size"
)]
pub struct ShowArgs {
    #[command(flatten)]
    pub dir: DirArg,
    /// Only this environment (all environments, in promotion order, when unset).
    #[arg(long, short)]
    pub env: Option<String>,
    /// Explain where each part of a resolved value came from: `<cluster>.<key>`,
    /// `<cluster>.node_pools.<pool>.<key>` or `<cluster>.services.<service>.<key>`.
    #[arg(long, value_name = "KEY")]
    pub explain: Option<String>,
    #[arg(long, short, value_enum, default_value_t)]
    pub output: Output,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub dir: DirArg,
    #[arg(long, short, value_enum, default_value_t)]
    pub output: Output,
}

#[derive(Debug, Subcommand)]
pub enum AddCommand {
    /// Add a cluster in a new `clusters/<key>.toml` with a default node pool.
    #[command(
        after_help = "Example:\n  plinth add cluster gke_zero --provider gke --region europe-west3"
    )]
    Cluster(AddClusterArgs),
    /// Add a node pool to a cluster.
    #[command(
        name = "node-pool",
        after_help = "Example:\n  plinth add node-pool eks_zero gpu --instance-type g5.xlarge --min 0 --max 4 \\\n      --taint nvidia.com/gpu=present:NoSchedule"
    )]
    NodePool(AddNodePoolArgs),
    /// Add a platform service from the catalog, a local kustomize base, or a pinned remote.
    #[command(
        after_help = "Examples:\n  plinth add service cert-manager --cluster eks_zero          # from the catalog\n  plinth add service policies --cluster eks_zero --kind policy --source services/policies\n\nSee `plinth catalog list` for the catalog."
    )]
    Service(AddServiceArgs),
    /// Add an environment to the promotion chain (it inherits the base until it overrides).
    #[command(after_help = "Example:\n  plinth add environment apps-prod --after apps")]
    Environment(AddEnvironmentArgs),
}

#[derive(Debug, Args)]
pub struct AddClusterArgs {
    /// The cluster's key, e.g. `eks_zero` (also its file name).
    pub key: String,
    #[arg(long, value_parser = ["eks", "aks", "gke", "kind"])]
    pub provider: String,
    /// Region (for AKS, the resource group's location); the provider's example region when unset.
    #[arg(long)]
    pub region: Option<String>,
    /// Name prefix of the cluster (the platform's when unset).
    #[arg(long)]
    pub name_prefix: Option<String>,
    #[arg(long = "dir", default_value = ".", value_name = "DIR")]
    pub dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct AddNodePoolArgs {
    /// The cluster to add the pool to.
    pub cluster: String,
    /// The pool's key.
    pub pool: String,
    /// Instance type, VM size or machine type.
    #[arg(long)]
    pub instance_type: Option<String>,
    #[arg(long)]
    pub min: Option<i64>,
    #[arg(long)]
    pub max: Option<i64>,
    /// A taint, `key=value:Effect` (repeatable).
    #[arg(long = "taint", value_name = "TAINT")]
    pub taints: Vec<String>,
    /// A node label, `key=value` (repeatable).
    #[arg(long = "label", value_name = "LABEL", value_parser = parse_label)]
    pub labels: Vec<(String, String)>,
    #[arg(long = "dir", default_value = ".", value_name = "DIR")]
    pub dir: PathBuf,
}

fn parse_label(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("`{s}` is not `key=value`"))
}

#[derive(Debug, Args)]
pub struct AddServiceArgs {
    /// The service's key; a catalog entry's name adds that entry.
    pub name: String,
    /// The cluster to add it to.
    #[arg(long)]
    pub cluster: String,
    /// A kustomize base directory inside the platform, or a remote base URL (with `--ref`).
    #[arg(long)]
    pub source: Option<String>,
    /// The tag or commit a remote `--source` is pinned to.
    #[arg(long = "ref", requires = "source")]
    pub r#ref: Option<String>,
    /// What the service does (required unless it comes from the catalog).
    #[arg(long, value_parser = ["ingress", "mesh", "operator", "admission", "policy", "monitoring", "logging", "other"])]
    pub kind: Option<String>,
    /// Namespace of the service's resources (the catalog's when unset).
    #[arg(long)]
    pub namespace: Option<String>,
    #[arg(long = "dir", default_value = ".", value_name = "DIR")]
    pub dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct AddEnvironmentArgs {
    pub name: String,
    /// Put it right after this environment (at the end of the chain by default).
    #[arg(long, conflicts_with = "before")]
    pub after: Option<String>,
    /// Put it right before this environment.
    #[arg(long)]
    pub before: Option<String>,
    #[arg(long = "dir", default_value = ".", value_name = "DIR")]
    pub dir: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum RemoveCommand {
    /// Remove a cluster with its node pools and services (not the last one).
    Cluster {
        key: String,
        #[arg(long = "dir", default_value = ".", value_name = "DIR")]
        dir: PathBuf,
    },
    /// Remove a node pool (not `default`).
    #[command(name = "node-pool")]
    NodePool {
        cluster: String,
        pool: String,
        #[arg(long = "dir", default_value = ".", value_name = "DIR")]
        dir: PathBuf,
    },
    /// Remove a platform service from a cluster.
    Service {
        cluster: String,
        service: String,
        #[arg(long = "dir", default_value = ".", value_name = "DIR")]
        dir: PathBuf,
    },
    /// Remove an environment and every `config.<env>` table (not the internal one or the base).
    Environment {
        name: String,
        #[arg(long = "dir", default_value = ".", value_name = "DIR")]
        dir: PathBuf,
    },
}

#[derive(Debug, Args)]
#[command(
    after_help = "The output is written atomically: a temporary tree beside it is swapped into place, so an\ninterrupted run leaves the old tree or the new one. Files Plinth did not generate (.terraform/,\nstate, lock files, *_override.tf) are kept. A generated file edited by hand stops the run.\n\nExamples:\n  plinth generate demo\n  plinth generate demo --check     # in CI: exit 3 and a diff when the committed output is stale"
)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub dir: DirArg,
    /// Output directory (`<DIR>/generated` by default).
    #[arg(long, value_name = "OUT")]
    pub out: Option<PathBuf>,
    /// Write nothing; exit 3 with a unified diff when the files on disk differ.
    #[arg(long)]
    pub check: bool,
    /// Overwrite generated files that were edited by hand, keeping each as `<file>.orig`.
    #[arg(long, conflicts_with = "check")]
    pub force: bool,
    #[arg(long, short, value_enum, default_value_t)]
    pub output: Output,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Uses the overlays `plinth generate` wrote (they must be current). kubectl comes from\nPLINTH_KUBECTL, a Google Cloud SDK's versioned kubectl, or PATH; it never contacts a cluster.\n\nExample:\n  plinth render demo --env ops --cluster eks_zero --service ingress-nginx"
)]
pub struct RenderArgs {
    #[command(flatten)]
    pub dir: DirArg,
    /// The environment to render.
    #[arg(long, short)]
    pub env: String,
    /// Only this cluster.
    #[arg(long)]
    pub cluster: Option<String>,
    /// Only this service.
    #[arg(long)]
    pub service: Option<String>,
    /// The generated output directory (`<DIR>/generated` by default).
    #[arg(long, value_name = "OUT")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Every catalog entry: name, kind, version, description.
    List {
        #[arg(long, short, value_enum, default_value_t)]
        output: Output,
    },
    /// One entry in detail: its upstream source and how to add it.
    Show {
        name: String,
        #[arg(long, short, value_enum, default_value_t)]
        output: Output,
    },
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Schema of `clusters/<key>.toml` files instead of `plinth.toml`.
    #[arg(long)]
    pub cluster_file: bool,
    /// The configuration reference in Markdown instead.
    #[arg(long, conflicts_with = "cluster_file")]
    pub markdown: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    pub shell: clap_complete::Shell,
}
