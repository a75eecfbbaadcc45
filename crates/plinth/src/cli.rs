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
(generate --check, plan), 4 engine failure, 130/143 stopped by SIGINT/SIGTERM (the engine was
stopped and the run recorded). 101 is always a bug.";

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
    /// Scaffold a platform: one of the architecture guide's four examples, or a local one on kind.
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
    /// Plan an environment: the platform-level changes since its last apply, then Terraform's.
    Plan(PlanArgs),
    /// Apply the committed revision to an environment (normally the internal one) and record it.
    Apply(ApplyArgs),
    /// Promote a revision validated on the previous environment to the next one.
    Promote(PromoteArgs),
    /// Record an environment once a pipeline's per-root jobs are done, from their receipts.
    Record(RecordArgs),
    /// Decommission an environment: destroy every cluster it runs, locked and recorded.
    Destroy(DestroyArgs),
    /// Run an environment's verification checks (`[[promotion.verify]]`) again and record them.
    Verify(VerifyArgs),
    /// What each environment runs, since when, and how far it lags behind the internal one.
    Status(StatusArgs),
    /// Which environments, clusters, node pools and services a git change touches.
    Affected(AffectedArgs),
    /// Break an environment's lock left by an interrupted apply (and git's leftover locks on
    /// its record).
    Unlock(UnlockArgs),
    /// Write a CI pipeline (review on pull requests, apply to ops on merge, promote on demand),
    /// or list the Terraform roots a CI run fans out over.
    #[command(subcommand)]
    Ci(CiCommand),
    /// Check the architecture against the platform-architecture guide: rules, fixes, a score.
    Advise(AdviseArgs),
    /// Headroom of every cluster against the limits of a single Kubernetes cluster.
    Capacity(CapacityArgs),
    /// Draw the platform: environments, clusters, node pools and services.
    Diagram(DiagramArgs),
    /// Import an existing platform repository (Kubestack) as a new Plinth platform.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Print the JSON schema of the definition, for editor completion and checks.
    Schema(SchemaArgs),
    /// Print shell completions.
    Completions(CompletionsArgs),
}

/// The platform directory argument every command shares, always the last positional argument.
#[derive(Debug, Args, Clone, Default)]
pub struct DirArg {
    /// The platform directory (holding `plinth.toml`). When unset: the nearest directory
    /// holding one, from the working directory upwards (as git finds its repository).
    #[arg(value_name = "DIR")]
    dir: Option<PathBuf>,
    /// The same as DIR: the spelling `add` and `remove` used to take, kept for scripts.
    #[arg(long = "dir", value_name = "DIR", hide = true, conflicts_with = "dir")]
    dir_flag: Option<PathBuf>,
}

impl DirArg {
    /// The platform directory: as given, else discovered upwards, else `.` (whose missing
    /// `plinth.toml` the loader then reports with a hint).
    pub fn path(&self) -> PathBuf {
        self.dir
            .clone()
            .or_else(|| self.dir_flag.clone())
            .or_else(|| plinth_core::load::discover(std::path::Path::new(".")))
            .unwrap_or_else(|| PathBuf::from("."))
    }
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  plinth init demo\n  plinth init acme --example environments --name acme\n  plinth init --example kind                 # here, e.g. in an existing git repository"
)]
pub struct InitArgs {
    /// Where to create the platform: a new or empty directory, or an existing one (such as a
    /// git repository) that holds none of the files `init` writes.
    #[arg(value_name = "DIR", default_value = ".")]
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
    /// A local platform on kind (Kubernetes in Docker): the way to try Plinth on a laptop.
    Kind,
}

impl Example {
    pub fn name(self) -> &'static str {
        match self {
            Example::Minimal => "minimal",
            Example::NodePools => "node-pools",
            Example::MultiCloud => "multi-cloud",
            Example::Environments => "environments",
            Example::Kind => "kind",
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
    #[command(flatten)]
    pub dir: DirArg,
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
    #[command(flatten)]
    pub dir: DirArg,
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
    #[command(flatten)]
    pub dir: DirArg,
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
    #[command(flatten)]
    pub dir: DirArg,
}

#[derive(Debug, Subcommand)]
pub enum RemoveCommand {
    /// Remove a cluster with its node pools and services (not the last one).
    #[command(after_help = "Example:\n  plinth remove cluster gke_zero")]
    Cluster {
        /// The cluster's key.
        key: String,
        #[command(flatten)]
        dir: DirArg,
    },
    /// Remove a node pool (not `default`).
    #[command(
        name = "node-pool",
        after_help = "Example:\n  plinth remove node-pool eks_zero gpu"
    )]
    NodePool {
        /// The cluster the pool belongs to.
        cluster: String,
        /// The pool's key.
        pool: String,
        #[command(flatten)]
        dir: DirArg,
    },
    /// Remove a platform service from a cluster (the same arguments as `add service`).
    #[command(after_help = "Example:\n  plinth remove service cert-manager --cluster eks_zero")]
    Service {
        /// The service's key.
        service: String,
        /// The cluster to remove it from.
        #[arg(long)]
        cluster: String,
        #[command(flatten)]
        dir: DirArg,
    },
    /// Remove an environment and every `config.<env>` table (not the internal one or the base).
    #[command(after_help = "Example:\n  plinth remove environment apps-prod")]
    Environment {
        /// The environment's name.
        name: String,
        #[command(flatten)]
        dir: DirArg,
    },
}

#[derive(Debug, Args)]
#[command(
    after_help = "The output is written atomically: a temporary tree beside it is swapped into place, so an\ninterrupted run leaves the old tree or the new one. Terraform's working files (.terraform/,\nstate, plan and lock files) and *_override.tf files are kept. A generated file edited by hand,\nor any other file in the output, stops the run (and `--check`): the engines must read only what\nPlinth generated.\n\nExamples:\n  plinth generate demo\n  plinth generate demo --check     # in CI: exit 3 and a diff when the committed output is stale"
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
    /// Overwrite generated files edited by hand and move files Plinth did not write out of the
    /// output, into a backup outside it (in the git directory under `plinth/backups/`).
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

fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZero::get)
}

#[derive(Debug, Args)]
#[command(
    after_help = "The platform-level plan compares the environment as the definition resolves it with what was\nlast applied to it (kept in the git record): clusters, node pools and services added, changed\nkey by key, or removed. Changes that make a provider replace a cluster are flagged as workload\nmigrations. Then `terraform plan` runs in the environment's workspace, unless --no-engine.\n\nExit codes: 0 no changes, 3 changes, 1 invalid input, 4 engine failure."
)]
pub struct PlanArgs {
    #[command(flatten)]
    pub dir: DirArg,
    #[arg(long, short)]
    pub env: String,
    /// Only the platform-level plan; do not run Terraform.
    #[arg(long)]
    pub no_engine: bool,
    /// Terraform roots planned at once (with `state = "cluster"`).
    #[arg(long, short, default_value_t = default_jobs())]
    pub jobs: usize,
    /// After the summary, print Terraform's own plan of each root with changes (every resource
    /// and attribute). The plan stays in the root as `plinth-<ENV>.tfplan` for `terraform show`.
    #[arg(long, conflicts_with = "no_engine")]
    pub show_terraform: bool,
    /// Plan only this Terraform root (a cluster key with `state = "cluster"`, else
    /// `platform`), whether or not its content changed; repeat for more. One CI job per root.
    #[arg(long = "root", value_name = "ROOT")]
    pub roots: Vec<String>,
    /// The generated output directory (`<DIR>/generated` by default).
    #[arg(long, value_name = "OUT")]
    pub out: Option<PathBuf>,
    #[arg(long, short, value_enum, default_value_t)]
    pub output: Output,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Refuses unless the working tree is clean and committed. Generates, plans and applies the saved\nplan in the environment's workspace, and records the attempt and its outcome in git (tags\n`plinth/<env>/<n>`; push them with `git push --tags`). One apply per environment at a time.\nOnly the roots whose content changed since the last success run. External environments are\nreached with `plinth promote`; `--unvalidated` is the recorded escape hatch.\n\nCtrl-C (SIGINT) or SIGTERM stops Terraform gracefully, waits for it, records the run as\ninterrupted and releases the lock (exit 130 or 143)."
)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub dir: DirArg,
    #[arg(long, short)]
    pub env: String,
    /// Apply to an external environment without promotion (an emergency): the record says so,
    /// and `plinth status` shows it until a validated revision replaces it.
    #[arg(long)]
    pub unvalidated: bool,
    #[arg(long, short, default_value_t = default_jobs())]
    pub jobs: usize,
    /// Also tag the applied commit `<env>-deploy-<n>`, as Kubestack's CI does.
    #[arg(long, conflicts_with = "root")]
    pub compat_tags: bool,
    #[command(flatten)]
    pub fan_out: RootJob,
    #[arg(long, value_name = "OUT")]
    pub out: Option<PathBuf>,
    #[arg(long, short, value_enum, default_value_t)]
    pub output: Output,
}

/// One job of a pipeline that fans an environment's apply out over its Terraform roots.
#[derive(Debug, Args, Clone, Default)]
pub struct RootJob {
    /// Apply only this Terraform root, as one job of a pipeline: write a receipt to
    /// `--receipt` instead of a record (`plinth record` records the environment once every
    /// root's job is done).
    #[arg(long, value_name = "ROOT", requires = "receipt")]
    pub root: Option<String>,
    /// Where the job's receipt goes (JSON): the root, commit, content and outcome.
    #[arg(long, value_name = "FILE", requires = "root")]
    pub receipt: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Allowed only when the same content was applied successfully to the environment before it in\nthe promotion chain, by a record that verifies, that passed that environment's checks and ran\nthere at least `[promotion] soak`; otherwise it says what is missing.\n\nExamples:\n  plinth promote --to apps\n  plinth promote --to apps --from-revision v1.4.0     # roll back to a validated revision"
)]
pub struct PromoteArgs {
    #[command(flatten)]
    pub dir: DirArg,
    /// The environment to promote to.
    #[arg(long)]
    pub to: String,
    /// Promote this older revision (validated on the previous environment) instead of HEAD.
    #[arg(long, value_name = "REV")]
    pub from_revision: Option<String>,
    #[arg(long, short, default_value_t = default_jobs())]
    pub jobs: usize,
    #[arg(long, conflicts_with = "root")]
    pub compat_tags: bool,
    /// Only check that the revision may be promoted (exit 0) or say why not (exit 1); apply
    /// nothing. For a CI step that gates a plan on the promotion.
    #[arg(long, conflicts_with_all = ["root", "receipt"])]
    pub check: bool,
    #[command(flatten)]
    pub fan_out: RootJob,
    #[arg(long, value_name = "OUT")]
    pub out: Option<PathBuf>,
    #[arg(long, short, value_enum, default_value_t)]
    pub output: Output,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Plans and applies the removal of everything each Terraform root of the environment holds, from\nthe committed revision, under the environment's lock, and records it as `destroyed`: a\npromotion from it is refused and the next apply runs every root. The environment is named\ntwice, so no script destroys one by accident.\n\nExample:\n  plinth destroy --env ops --confirm ops"
)]
pub struct DestroyArgs {
    #[command(flatten)]
    pub dir: DirArg,
    #[arg(long, short)]
    pub env: String,
    /// The environment's name again: required, for every environment.
    #[arg(long, value_name = "ENV")]
    pub confirm: Option<String>,
    #[arg(long, short, default_value_t = default_jobs())]
    pub jobs: usize,
    #[arg(long, value_name = "OUT")]
    pub out: Option<PathBuf>,
    #[arg(long, short, value_enum, default_value_t)]
    pub output: Output,
}

#[derive(Debug, Args)]
#[command(
    after_help = "The last job of a pipeline that fans an apply (or a promotion) out over Terraform roots: it
recomputes the roots the revision runs on the environment, checks that every one has a receipt
of this commit and content, and appends one record (succeeded only when every root
succeeded; a missing or failed job makes it failed, so the next apply runs every root).

Examples:
  plinth record --env ops --receipts receipts
  plinth record --env apps --promote --receipts receipts"
)]
pub struct RecordArgs {
    #[command(flatten)]
    pub dir: DirArg,
    #[arg(long, short)]
    pub env: String,
    /// The jobs promoted the revision (`plinth promote --root`): the gate is checked again.
    #[arg(long)]
    pub promote: bool,
    /// With `--promote`: the older revision the jobs promoted.
    #[arg(long, value_name = "REV", requires = "promote")]
    pub from_revision: Option<String>,
    /// The jobs applied to an external environment with `--unvalidated`.
    #[arg(long, conflicts_with = "promote")]
    pub unvalidated: bool,
    /// The directory holding the jobs' receipts (`*.json`).
    #[arg(long, value_name = "DIR")]
    pub receipts: PathBuf,
    #[arg(long, value_name = "OUT")]
    pub out: Option<PathBuf>,
    #[arg(long, short, value_enum, default_value_t)]
    pub output: Output,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Runs the checks of `[[promotion.verify]]` against what the environment runs (the working\ntree must be that revision) and appends a `verified` or `verification_failed` record; a\npromotion onward needs `verified`.\n\nExample:\n  plinth verify --env ops"
)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub dir: DirArg,
    #[arg(long, short)]
    pub env: String,
    #[arg(long, value_name = "OUT")]
    pub out: Option<PathBuf>,
    #[arg(long, short, value_enum, default_value_t)]
    pub output: Output,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub dir: DirArg,
    #[arg(long, short, value_enum, default_value_t)]
    pub output: Output,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Example (in CI, plan only what a pull request touches):\n  plinth affected --base origin/main --head HEAD --output json"
)]
pub struct AffectedArgs {
    #[command(flatten)]
    pub dir: DirArg,
    #[arg(long, value_name = "REV")]
    pub base: String,
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    pub head: String,
    #[arg(long, short, value_enum, default_value_t)]
    pub output: Output,
}

#[derive(Debug, Args)]
pub struct UnlockArgs {
    #[command(flatten)]
    pub dir: DirArg,
    #[arg(long, short)]
    pub env: String,
}

const CI_HELP: &str =
    "The pipeline plans and applies one Terraform root per CI job, in parallel on the CI's own
runners: a first job lists the roots (`plinth ci matrix`), the others fan out over them, and a
last job records the environment's outcome once all of them succeeded. Cloud credentials come
from OIDC federation; nothing long-lived is stored. The comments at the top of each file say
what to set up once.";

#[derive(Debug, Subcommand)]
pub enum CiCommand {
    /// GitHub Actions: `.github/workflows/plinth.yml`.
    #[command(after_help = CI_HELP)]
    Github(CiWriteArgs),
    /// GitLab CI: `.gitlab-ci.yml` and `.gitlab/plinth.yml`, with dynamic child pipelines.
    #[command(after_help = CI_HELP)]
    Gitlab(CiWriteArgs),
    /// Atlantis: `atlantis.yaml`, one project per root and workspace, gated by Plinth.
    Atlantis(CiWriteArgs),
    /// The (environment, root) pairs a CI run plans or applies, for its job matrix.
    #[command(
        after_help = "Examples:\n  plinth ci matrix --base origin/main          # pull request: what the change touches\n  plinth ci matrix --env ops                   # merge: what ops has not applied yet\n  plinth ci matrix --env apps --promote        # promotion: refused unless validated on ops\n\nOutput: `github` prints `roots=<json>` and `count=<n>` for $GITHUB_OUTPUT; `json` the list;\n`gitlab` a child pipeline (with --job)."
    )]
    Matrix(CiMatrixArgs),
}

#[derive(Debug, Args)]
pub struct CiWriteArgs {
    #[command(flatten)]
    pub dir: DirArg,
    /// Overwrite existing pipeline files.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum MatrixOutput {
    /// `roots=<json>` and `count=<n>` lines, for `$GITHUB_OUTPUT`.
    #[default]
    Github,
    /// The list as JSON.
    Json,
    /// A GitLab child pipeline running `--job` once per root.
    Gitlab,
}

#[derive(Debug, Args)]
pub struct CiMatrixArgs {
    #[command(flatten)]
    pub dir: DirArg,
    /// Review: the roots a change from this revision touches, in every environment.
    #[arg(long, value_name = "REV", conflicts_with = "env")]
    pub base: Option<String>,
    /// The revision under review (with --base).
    #[arg(long, value_name = "REV", default_value = "HEAD", requires = "base")]
    pub head: String,
    /// Deploy: the roots of this environment whose content differs from what it last applied
    /// successfully.
    #[arg(long, short, required_unless_present = "base")]
    pub env: Option<String>,
    /// With --env: check first that the revision may be promoted there (validated on the
    /// environment before it); refuse otherwise.
    #[arg(long, requires = "env")]
    pub promote: bool,
    /// With --promote: the revision to promote (HEAD by default).
    #[arg(long, value_name = "REV", requires = "promote")]
    pub from_revision: Option<String>,
    #[arg(long, short, value_enum, default_value_t)]
    pub output: MatrixOutput,
    /// With `--output gitlab`: what the child pipeline's jobs run.
    #[arg(long, value_parser = ["plan", "apply", "promote"], default_value = "plan")]
    pub job: String,
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

const ADVISE_HELP: &str = "Rules (see `--rules` for the reasons, quoted from the guide):
  PA001 error    fewer than two environments, or no internal environment before the external ones
  PA002 warning  prod and non-prod separated by clusters of one environment
  PA003 warning  tenants or workload types separated by environments
  PA004 warning  a prod or GPU node pool without a taint
  PA005 warning  prod sharing an environment with non-prod, weighed against `[platform] priority`
  PA006 warning  application workload manifests in the platform

The advisor reads what environments, clusters and node pools declare (`stage`, `tenant`,
`workload`), never guesses from names. Score: overhead = 3 × environments + 2 × clusters + 1 ×
node pools running (+3 per environment that only separates tenants or workloads); protection =
3 for an internal environment first + 3 per further external environment + 2 per cluster beyond
the first + 1 per tainted node pool.

Exit codes: 0 no errors (warnings allowed), 1 an error (PA001) or an invalid platform.";

#[derive(Debug, Args)]
#[command(after_help = ADVISE_HELP)]
pub struct AdviseArgs {
    #[command(flatten)]
    pub dir: DirArg,
    /// List every rule with its reason and fix instead.
    #[arg(long)]
    pub rules: bool,
    #[arg(long, short, value_enum, default_value_t)]
    pub output: Output,
}

const CAPACITY_HELP: &str =
    "Declare expected load beside `config`, per environment (the base environment's is inherited):
  [node_pools.default.load.apps]
  pods = 1200               # expected now
  containers_per_pod = 2    # average, long-running sidecars included (default 1)
  growth_per_month = 150    # pods added per month (default 0)
Load declared on a cluster (`[load.apps]` in its file) runs on its `default` pool.

Limits of one cluster: 5,000 nodes, 150,000 pods, 300,000 containers; a pool holds max nodes ×
pods per node. Warnings (exit code 0): PC001/PC002 a cluster at 70 %/85 % of a limit, PC003 at
85 % within 12 months, PC004/PC005 a pool at 70 %/85 % of its max size, PC006 pools that may
grow past 5,000 nodes.";

#[derive(Debug, Args)]
#[command(after_help = CAPACITY_HELP)]
pub struct CapacityArgs {
    #[command(flatten)]
    pub dir: DirArg,
    #[arg(long, short, value_enum, default_value_t)]
    pub output: Output,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum DiagramFormat {
    /// A self-contained SVG image.
    #[default]
    Svg,
    /// Graphviz DOT.
    Dot,
    /// A Mermaid flowchart, for Markdown.
    Mermaid,
}

const DIAGRAM_HELP: &str = "Examples:\n  plinth diagram demo --out docs/platform.svg\n  plinth diagram demo --env apps -o mermaid\n\nWith --out and no --output, the format follows the file's extension (.svg, .dot/.gv, .mmd).\nFor PNG, convert the SVG (e.g. `rsvg-convert -o platform.png platform.svg`).";

#[derive(Debug, Args)]
#[command(after_help = DIAGRAM_HELP)]
pub struct DiagramArgs {
    #[command(flatten)]
    pub dir: DirArg,
    /// Only this environment (all of them, side by side in promotion order, when unset).
    #[arg(long, short)]
    pub env: Option<String>,
    /// The format (SVG by default, or as `--out`'s extension says).
    #[arg(long, short, value_enum, value_name = "FORMAT", alias = "format")]
    pub output: Option<DiagramFormat>,
    /// Write to this file instead of stdout.
    #[arg(long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
}

const IMPORT_HELP: &str =
    "Reads the repository's Terraform (module blocks of Kubestack's cluster, node-pool and catalog
modules, provider blocks, *.tfvars) and writes a platform that resolves the same: release-era
modules (`?ref=v0.x`) import with `shallow` inheritance and their flat string keys converted to
typed keys, current-era modules with `nested` inheritance. What Plinth cannot represent as written
(references, function calls) is left out, kept verbatim in a comment block of the file it belongs
to, and listed in the report as needing a human decision. Nothing is written unless the result
validates; an existing non-empty DST is refused.

Migrating without replacing anything: each cluster keeps a `[kubestack]` table from which
`plinth generate` writes `moved` blocks (Kubestack's addresses to Plinth's), and
`--state-migration` writes `kubestack-state-migration.sh` into DST: per environment it takes the
imported modules' state out of the Kubestack state (left as it was) into Plinth's root, and
leaves out what Plinth does not manage. `--state cluster` imports with one root per cluster.

Example:
  plinth import kubestack ./infra --out ./platform --state-migration && plinth show ./platform --env ops";

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// A Kubestack platform repository: clusters, node pools, services and their configuration.
    #[command(after_help = IMPORT_HELP)]
    Kubestack(ImportKubestackArgs),
}

#[derive(Debug, Args)]
pub struct ImportKubestackArgs {
    /// The Kubestack repository: the directory holding its `*_cluster.tf` files.
    #[arg(value_name = "SRC")]
    pub src: PathBuf,
    /// Directory of the new platform; must not exist or be empty.
    #[arg(long, value_name = "DST")]
    pub out: PathBuf,
    /// Also write `kubestack-state-migration.sh`, which moves each environment's Terraform state
    /// to the new platform's root(s).
    #[arg(long)]
    pub state_migration: bool,
    /// Terraform state layout of the new platform: one root (Kubestack's) or one per cluster.
    #[arg(long, value_enum, default_value_t)]
    pub state: StateArg,
    #[arg(long, short, value_enum, default_value_t)]
    pub output: Output,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum StateArg {
    /// One root and state for the platform, as Kubestack has it.
    #[default]
    Platform,
    /// One root and state per cluster.
    Cluster,
}
