//! From classified `module` blocks to Plinth components: environments, clusters, node pools and
//! services, each with its per-environment values converted, and every value that does not fit
//! recorded as a decision.

use super::convert::{self, Problem};
use super::hcl::{self, At, Comments, Entry, Node, NodeKind, Repo};
use super::migrate::{KubestackOrigin, Layout};
use super::report::{Conversion, Decision, Imported, Report};
use super::{Dialect, Kind, Module, Pin, Version, is_empty_string, verbatim};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::inheritance::{self, Mode, Note};
use crate::keys::{self, Key, Ty};
use crate::node_pool::DEFAULT_POOL;
use crate::provider::Provider;
use crate::service::{self, ServiceKind, Source, catalog};
use crate::source::SourceMap;
use crate::value::{Kind as VKind, Table, Value};
use ::hcl::edit::Span as _;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The platform to write.
pub(crate) struct Platform {
    /// The promotion chain.
    pub envs: Vec<String>,
    /// Local environments (Kubestack's `loc`), outside the chain.
    pub local: Vec<String>,
    pub base: String,
    pub mode: Mode,
    pub clusters: Vec<ClusterOut>,
    /// Files and directories of the source that services use, copied as they are.
    pub copies: BTreeSet<PathBuf>,
    /// One Terraform root per cluster (`state = "cluster"`).
    pub per_cluster_state: bool,
    /// `[platform.backend]`: Kubestack's backend with a state location of Plinth's own.
    pub backend: Vec<(String, Value)>,
}

pub(crate) struct ClusterOut {
    pub key: String,
    pub provider: &'static Provider,
    /// Set when the cluster's dialect differs from the platform's.
    pub inheritance: Option<Mode>,
    pub header: Vec<String>,
    pub config: Comp,
    pub pools: Vec<PoolOut>,
    pub services: Vec<ServiceOut>,
    /// Kubestack's module and addresses, for the state migration (`[kubestack]`).
    pub kubestack: KubestackOrigin,
}

pub(crate) struct PoolOut {
    pub key: String,
    pub header: Vec<String>,
    /// An inheritance rule of its own, with the comment that says why.
    pub inheritance: Option<(Mode, &'static str)>,
    pub config: Comp,
}

pub(crate) struct ServiceOut {
    pub key: String,
    pub header: Vec<String>,
    pub kind: ServiceKind,
    pub catalog: Option<String>,
    pub source: Source,
    pub inheritance: Option<(Mode, &'static str)>,
    pub config: Comp,
}

/// A component's `config.<env>` tables, in the order written.
#[derive(Default)]
pub(crate) struct Comp {
    pub envs: BTreeMap<String, EnvOut>,
}

#[derive(Default)]
pub(crate) struct EnvOut {
    pub comments: Comments,
    pub entries: Vec<OutEntry>,
    /// Comments of entries left out, waiting for the next entry (or the table's end).
    pub pending: Vec<String>,
}

pub(crate) struct OutEntry {
    pub key: String,
    pub value: Value,
    pub comments: Comments,
    /// What Kubestack had, when the key or the value's type changed.
    pub note: Option<String>,
    pub at: At,
    /// The Kubestack text, for decisions made after conversion.
    pub text: String,
}

impl Comp {
    fn table(&self, env: &str) -> Table {
        self.envs
            .get(env)
            .map(|e| {
                e.entries
                    .iter()
                    .map(|x| (x.key.clone(), x.value.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn env(&mut self, env: &str) -> &mut EnvOut {
        self.envs.entry(env.to_string()).or_default()
    }
}

/// Plinth's state location beside Kubestack's, from Kubestack's.
type Relocate = fn(&str) -> String;

/// Kubestack's local development environments, outside the promotion chain.
const LOCAL_ENVIRONMENTS: &[&str] = &["loc"];

const DEFAULT_POOL_NOTE: &str = "Kubestack keeps the default pool in the cluster's `default_node_pool` table: its keys merge one by one (an environment's value unless null or \"\") and tables below them are replaced whole. As a component of its own that is `shallow` inheritance, with the \"\" values of other environments left out (they inherit).";
const SERVICE_NOTE: &str = "Kubestack's catalog modules inherit with the release rule: any value set replaces the base value whole.";

/// Where a converted value goes.
struct Target<'a> {
    /// `eks_zero`, `eks_zero.node_pools.default`, `eks_zero.services.ingress-nginx`.
    label: &'a str,
    keys: &'static [Key],
    release: bool,
    /// Nested semantics: `""` outside the base environment inherits, so it is left out.
    drop_empty: bool,
    mode: Mode,
    /// The file that keeps what is left out, verbatim.
    kept_in: &'a str,
}

pub(crate) struct Builder<'a> {
    repo: &'a Repo,
    sources: &'a SourceMap,
    diags: &'a mut Diagnostics,
    report: &'a mut Report,
    src: &'a Path,
    base: String,
    copies: BTreeSet<PathBuf>,
    /// Comments above the `region` the last region lookup found.
    region_comments: Vec<String>,
    /// Kubestack's AKS `legacy_vnet_name`: (cluster label, environment) → its value. Not a
    /// Plinth key: it selects the names of the network `network_layout` adopts.
    legacy_vnet: BTreeMap<(String, String), bool>,
}

/// A node-pool module with what was read from it, and the index of its cluster.
struct PoolIn<'m, 'r> {
    cluster: usize,
    m: &'m Module<'r>,
    dialect: Dialect,
    pin: Pin,
    config: Node,
}

/// A cluster module with what was read from it.
struct ClusterIn<'m, 'r> {
    m: &'m Module<'r>,
    provider: &'static Provider,
    dialect: Dialect,
    pin: Pin,
    config: Node,
}

/// Which configuration a shape or an era default is about.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Cluster,
    DefaultPool,
    Pool,
}

impl<'a> Builder<'a> {
    pub fn new(
        repo: &'a Repo,
        sources: &'a SourceMap,
        diags: &'a mut Diagnostics,
        report: &'a mut Report,
        src: &'a Path,
    ) -> Builder<'a> {
        Builder {
            repo,
            sources,
            diags,
            report,
            src,
            base: "apps".into(),
            copies: BTreeSet::new(),
            region_comments: Vec::new(),
            legacy_vnet: BTreeMap::new(),
        }
    }

    fn decide(
        &mut self,
        component: Option<&str>,
        environment: Option<&str>,
        at: At,
        message: String,
        verbatim: Option<String>,
        kept_in: Option<&str>,
    ) {
        self.report.decisions.push(Decision {
            component: component.map(String::from),
            environment: environment.map(String::from),
            at: at.show(self.sources),
            message,
            kept_in: verbatim.as_ref().and(kept_in.map(String::from)),
            verbatim,
        });
    }

    fn convert(&mut self, component: &str, env: Option<&str>, at: At, from: String, to: String) {
        self.report.converted.push(Conversion {
            component: component.to_string(),
            environment: env.map(String::from),
            from,
            to,
            at: at.show(self.sources),
        });
    }

    pub fn platform(&mut self, modules: &[Module<'_>]) -> Option<Platform> {
        // Clusters first: pools and services need to know them.
        let mut clusters: Vec<ClusterIn<'_, '_>> = Vec::new();
        for m in modules {
            if let Kind::Cluster(p, pin) = &m.kind {
                let Some(config) = self.configuration(m, true) else {
                    continue;
                };
                if let Err(msg) = crate::environment::check_component_key(&m.name) {
                    self.diags.push(
                        Diagnostic::error("invalid-name", format!("module `{}`: {msg}", m.name))
                            .label(m.at.file, m.at.span, "becomes the cluster's key")
                            .hint("rename the module (and its references) before importing"),
                    );
                    continue;
                }
                let dialect = self.dialect(m, p, pin, &config, Role::Cluster, None);
                clusters.push(ClusterIn {
                    m,
                    provider: p,
                    dialect,
                    pin: pin.clone(),
                    config,
                });
            }
        }
        if clusters.is_empty() && !self.diags.has_errors() {
            self.diags.push(
                Diagnostic::error(
                    "no-kubestack",
                    "no Kubestack cluster module (`github.com/kbst/terraform-kubestack//<cloud>/cluster`) in the repository",
                )
                .path(self.report.source.clone())
                .hint("point at the directory that holds the repository's `*_cluster.tf` files"),
            );
        }
        let cluster_names: Vec<&str> = clusters.iter().map(|c| c.m.name.as_str()).collect();

        // Node pools and services, by the cluster they belong to.
        let mut pools: Vec<PoolIn<'_, '_>> = Vec::new();
        let mut services: Vec<(usize, &Module<'_>, Node)> = Vec::new();
        for m in modules {
            match &m.kind {
                Kind::NodePool(p, pin) => {
                    let Some(ci) = self.pool_cluster(m, &cluster_names) else {
                        continue;
                    };
                    if clusters[ci].provider.id != p.id {
                        self.diags.push(
                            Diagnostic::error(
                                "unknown-module",
                                format!(
                                    "node pool module `{}` is a {} pool but cluster `{}` is {}",
                                    m.name, p.title, clusters[ci].m.name, clusters[ci].provider.title
                                ),
                            )
                            .label(m.source_at.file, m.source_at.span, "this pool's provider")
                            .label(clusters[ci].m.at.file, clusters[ci].m.at.span, "the cluster"),
                        );
                        continue;
                    }
                    let Some(config) = self.configuration(m, true) else {
                        continue;
                    };
                    let dialect =
                        self.dialect(m, p, pin, &config, Role::Pool, Some(clusters[ci].dialect));
                    pools.push(PoolIn {
                        cluster: ci,
                        m,
                        dialect,
                        pin: pin.clone(),
                        config,
                    });
                }
                Kind::Catalog(..) | Kind::Other => {
                    match self.service_cluster(m, &cluster_names) {
                        Some(ci) => {
                            let Some(config) = self.configuration(m, false) else {
                                continue;
                            };
                            services.push((ci, m, config));
                        }
                        None if matches!(m.kind, Kind::Other) => self.decide(
                            None,
                            None,
                            m.at,
                            format!(
                                "module `{}` ({}) is neither a Kubestack module nor a service of a cluster; not imported",
                                m.name, m.source
                            ),
                            None,
                            None,
                        ),
                        None => {}
                    }
                }
                Kind::Cluster(..) | Kind::Covered(_) | Kind::Unsupported(_) => {}
            }
        }
        if self.diags.has_errors() {
            return None;
        }

        // Environments: those every imported module can be applied in.
        let mut configs: Vec<(&Module<'_>, &Node)> =
            clusters.iter().map(|c| (c.m, &c.config)).collect();
        configs.extend(pools.iter().map(|p| (p.m, &p.config)));
        configs.extend(services.iter().map(|(_, m, c)| (*m, c)));
        let (envs, base, local) = self.environments(&configs)?;
        self.base = base.clone();

        let mode = {
            let release = clusters
                .iter()
                .filter(|c| c.dialect == Dialect::Release)
                .count();
            if release * 2 > clusters.len()
                || (release * 2 == clusters.len()
                    && clusters
                        .first()
                        .is_some_and(|c| c.dialect == Dialect::Release))
            {
                Mode::Shallow
            } else {
                Mode::Nested
            }
        };
        let mut dialects: Vec<String> = Vec::new();
        for d in clusters
            .iter()
            .map(|c| c.dialect)
            .chain(pools.iter().map(|p| p.dialect))
        {
            if !dialects.iter().any(|x| x == d.name()) {
                dialects.push(d.name().to_string());
            }
        }
        self.report.dialects = dialects;
        self.report.environments = envs.clone();
        self.report.base_environment = base.clone();
        self.report.inheritance = mode.as_str().to_string();

        // Every environment a value can be written for: the chain, then the local ones.
        let all: Vec<String> = envs.iter().chain(&local).cloned().collect();
        let mut out = Vec::new();
        for (ci, c) in clusters.iter().enumerate() {
            let my_pools: Vec<_> = pools.iter().filter(|p| p.cluster == ci).collect();
            let my_services: Vec<_> = services.iter().filter(|s| s.0 == ci).collect();
            if let Some(co) = self.cluster(c, mode, &all, &my_pools, &my_services) {
                out.push(co);
            }
        }
        if self.diags.has_errors() {
            return None;
        }
        Some(Platform {
            envs,
            local,
            base,
            mode,
            clusters: out,
            copies: std::mem::take(&mut self.copies),
            per_cluster_state: false,
            backend: self.backend(),
        })
    }

    /// Kubestack's state backend (`terraform { backend "..." { } }`), for `[platform.backend]`:
    /// the same backend, with a state location of Plinth's own beside Kubestack's, which the
    /// migration script copies each environment's state to and which leaves Kubestack's as it
    /// was (the rollback point). What Plinth cannot write (credentials, unknown settings,
    /// values given at `terraform init`) is a decision.
    fn backend(&mut self) -> Vec<(String, Value)> {
        let mut found = None;
        for (file, t) in self.repo.blocks("terraform") {
            if let Some(b) = t.body.get_blocks("backend").next() {
                found = Some((file, b));
                break;
            }
        }
        let Some((file, b)) = found else {
            return Vec::new();
        };
        let at = At::new(file, b.ident.span());
        let kind = b
            .labels
            .first()
            .map(|l| l.as_str().to_string())
            .unwrap_or_default();
        // The setting that locates the state, and Plinth's location beside Kubestack's.
        let relocate: Option<(&str, Relocate)> = match kind.as_str() {
            "s3" => Some(("key", |v| format!("plinth/{v}"))),
            "gcs" => Some(("prefix", |v| {
                if v.is_empty() {
                    "plinth".into()
                } else {
                    format!("{}/plinth", v.trim_end_matches('/'))
                }
            })),
            "azurerm" => Some(("key", |v| format!("plinth.{v}"))),
            "pg" => Some(("schema_name", |_| "plinth".into())),
            _ => None,
        };
        if kind == "local" {
            return Vec::new();
        }
        let Some((key, derive)) = relocate else {
            self.decide(
                None,
                None,
                at,
                format!("Kubestack keeps its state in the `{kind}` backend, which Plinth cannot relocate beside it: set `[platform.backend]` by hand before running the state migration script"),
                None,
                None,
            );
            return Vec::new();
        };
        let mut out = vec![("type".to_string(), Value::string(kind.clone()))];
        let mut old = String::new();
        for a in b.body.attributes() {
            let name = a.key.value().to_string();
            let n = self.repo.node(self.sources, file, &a.value, 0);
            let value = match &n.kind {
                NodeKind::Str(v) => Value::string(v.clone()),
                NodeKind::Bool(v) => Value::builtin(VKind::Boolean(*v)),
                NodeKind::Int(v) => Value::builtin(VKind::Integer(*v)),
                _ => {
                    self.decide(None, None, At::new(file, a.span()), format!("backend setting `{name}` is not a static value; left out of `[platform.backend]`"), Some(verbatim(self.sources, None, &n)), Some(crate::load::ROOT_FILE));
                    continue;
                }
            };
            let mut probe = Diagnostics::default();
            let mut t = Table::new();
            t.insert("type", Value::string(kind.clone()));
            t.insert(name.clone(), value.clone());
            crate::render::backend::check(&t, &mut probe);
            if probe.iter().any(|d| d.code != "missing-key") {
                self.decide(None, None, At::new(file, a.span()), format!("backend setting `{name}` is not one Plinth writes (credentials come from the environment); left out of `[platform.backend]`"), Some(hcl::snippet(self.sources, At::new(file, a.span()))), Some(crate::load::ROOT_FILE));
                continue;
            }
            if name == key {
                old = value.as_str().unwrap_or_default().to_string();
                continue;
            }
            out.push((name, value));
        }
        let new = derive(&old);
        self.decide(
            None,
            None,
            at,
            format!("Kubestack keeps its state in the `{kind}` backend (`{key} = \"{old}\"`); the imported platform keeps its own beside it (`{key} = \"{new}\"`): the migration script (`--state-migration`) copies each environment's state there and leaves Kubestack's as it was, the rollback point"),
            None,
            None,
        );
        out.push((key.to_string(), Value::string(new)));
        out
    }

    /// The module's `configuration`: a map of environments to maps, statically known.
    fn configuration(&mut self, m: &Module<'_>, required: bool) -> Option<Node> {
        let Some(attr) = m.block.body.get_attribute("configuration") else {
            if required {
                self.diags.push(
                    Diagnostic::error(
                        "configuration-not-a-map",
                        format!("module `{}` has no `configuration`", m.name),
                    )
                    .label(m.at.file, m.at.span, "no per-environment configuration")
                    .hint("Kubestack modules take `configuration = { apps = { ... }, ops = { ... } }`"),
                );
                return None;
            }
            // The catalog's default configuration.
            let empty = |k: &str| Entry {
                key: k.into(),
                key_at: m.at,
                value: Node::new(NodeKind::Map(Vec::new()), m.at),
            };
            return Some(Node::new(
                NodeKind::Map(vec![empty("apps"), empty("ops"), empty("loc")]),
                m.at,
            ));
        };
        let node = self.repo.node(self.sources, m.file, &attr.value, 0);
        let Some(entries) = node.entries() else {
            let found = match &node.kind {
                NodeKind::Expr(t) => format!("the expression `{t}`, which Plinth cannot evaluate"),
                _ => format!("a {}", node.type_name()),
            };
            self.diags.push(
                Diagnostic::error(
                    "configuration-not-a-map",
                    format!("the `configuration` of module `{}` is not a map", m.name),
                )
                .label(node.at.file, node.at.span, format!("this is {found}"))
                .hint("write it as a literal map: `configuration = { apps = { ... }, ops = { ... } }`"),
            );
            return None;
        };
        let mut ok = true;
        for e in entries {
            if e.value.entries().is_none() {
                ok = false;
                self.diags.push(
                    Diagnostic::error(
                        "configuration-not-a-map",
                        format!(
                            "`configuration.{}` of module `{}` is not a map",
                            e.key, m.name
                        ),
                    )
                    .label(
                        e.value.at.file,
                        e.value.at.span,
                        format!("this is a {}", e.value.type_name()),
                    )
                    .hint(format!(
                        "each environment's settings are a map: `{} = {{ ... }}`",
                        e.key
                    )),
                );
            }
        }
        ok.then_some(node)
    }

    /// The cluster a node-pool module belongs to: the one its `cluster_name` or
    /// `cluster_metadata` (or any other argument) refers to.
    fn pool_cluster(&mut self, m: &Module<'_>, clusters: &[&str]) -> Option<usize> {
        let mut refs = Vec::new();
        for name in ["cluster_name", "cluster_metadata"] {
            if let Some(a) = m.block.body.get_attribute(name) {
                refs.extend(hcl::module_refs(&a.value));
            }
        }
        if refs.is_empty() {
            for a in m.block.body.attributes() {
                refs.extend(hcl::module_refs(&a.value));
            }
        }
        if let Some(i) = refs
            .iter()
            .find_map(|r| clusters.iter().position(|c| c == r))
        {
            return Some(i);
        }
        let d = Diagnostic::error(
            "unknown-cluster",
            match refs.first() {
                Some(r) => format!(
                    "node pool module `{}` refers to module `{r}`, which is not a Kubestack cluster module",
                    m.name
                ),
                None => format!("node pool module `{}` refers to no cluster module", m.name),
            },
        )
        .label(m.at.file, m.at.span, "which cluster is this pool for?")
        .hint("node pools name their cluster: `cluster_name = module.<cluster>.current_metadata[\"name\"]`");
        self.diags.push(d);
        None
    }

    /// The cluster a service module applies to: the one whose kubeconfig its `kustomization`
    /// provider uses.
    fn service_cluster(&mut self, m: &Module<'_>, clusters: &[&str]) -> Option<usize> {
        let providers = m.block.body.get_attribute("providers")?;
        let ::hcl::edit::expr::Expression::Object(o) = &providers.value else {
            return None;
        };
        let alias = o.iter().find_map(|(k, v)| {
            let key = match k {
                ::hcl::edit::expr::ObjectKey::Ident(i) => i.value().to_string(),
                ::hcl::edit::expr::ObjectKey::Expression(e) => e.as_str()?.to_string(),
            };
            (key == "kustomization")
                .then(|| hcl::provider_ref(v.expr()))
                .flatten()
        })?;
        for (_, block) in self.repo.blocks("provider") {
            if block.labels.first().map(|l| l.as_str()) != Some(alias.0.as_str()) {
                continue;
            }
            let a = block
                .body
                .get_attribute("alias")
                .and_then(|a| a.value.as_str().map(String::from));
            if a.as_deref() != Some(alias.1.as_str()) {
                continue;
            }
            for attr in block.body.attributes() {
                if let Some(i) = hcl::module_refs(&attr.value)
                    .iter()
                    .find_map(|r| clusters.iter().position(|c| c == r))
                {
                    return Some(i);
                }
            }
        }
        clusters.iter().position(|c| *c == alias.1)
    }

    /// The promotion chain and the base: the environments every module is configured for,
    /// `ops` first and the base last, the others in the order the repository first names them;
    /// and the local ones: Kubestack's `loc`, its local development environment.
    fn environments(
        &mut self,
        configs: &[(&Module<'_>, &Node)],
    ) -> Option<(Vec<String>, String, Vec<String>)> {
        let first_at = configs.first()?.0.at;
        let mut bases: Vec<(String, &Module<'_>, At)> = Vec::new();
        for (m, _) in configs {
            let (base, at) = match m.block.body.get_attribute("configuration_base_key") {
                Some(a) => {
                    let n = self.repo.node(self.sources, m.file, &a.value, 0);
                    match n.as_str() {
                        Some(s) => (s.to_string(), n.at),
                        None => {
                            self.diags.push(
                                Diagnostic::error(
                                    "configuration-not-a-map",
                                    format!("the `configuration_base_key` of module `{}` is not a literal string", m.name),
                                )
                                .label(n.at.file, n.at.span, "Plinth needs to know the base environment"),
                            );
                            continue;
                        }
                    }
                }
                None => ("apps".to_string(), m.at),
            };
            bases.push((base, m, at));
        }
        if let Some((first, fm, fat)) = bases.first().cloned()
            && let Some((other, om, oat)) = bases.iter().find(|b| b.0 != first).cloned()
        {
            self.diags.push(
                Diagnostic::error(
                    "base-environments-differ",
                    format!("modules `{}` and `{}` inherit from different base environments (`{first}` and `{other}`)", fm.name, om.name),
                )
                .label(fat.file, fat.span, format!("`{first}` here"))
                .label(oat.file, oat.span, format!("`{other}` here"))
                .hint("a Plinth platform has one base environment: make `configuration_base_key` the same in every module first"),
            );
            return None;
        }
        let base = bases
            .first()
            .map_or_else(|| "apps".to_string(), |b| b.0.clone());

        let mut union: Vec<String> = Vec::new();
        for (_, c) in configs {
            for e in c.entries().unwrap_or_default() {
                if !union.contains(&e.key) {
                    union.push(e.key.clone());
                }
            }
        }
        let has = |c: &Node, env: &str| c.get(env).is_some();
        let mut missing_base = false;
        for (m, c) in configs {
            if !has(c, &base) {
                missing_base = true;
                let at = c.at;
                self.diags.push(
                    Diagnostic::error(
                        "missing-base",
                        format!("the `configuration` of module `{}` has no `{base}` entry, its base environment", m.name),
                    )
                    .label(at.file, at.span, format!("no `{base}` here"))
                    .hint(format!("Kubestack cannot apply it either; add `{base} = {{}}`")),
                );
            }
        }
        if missing_base {
            return None;
        }
        let mut chain: Vec<String> = Vec::new();
        let mut local: Vec<String> = Vec::new();
        for env in &union {
            if LOCAL_ENVIRONMENTS.contains(&env.as_str()) && *env != base {
                let at = env_key_at(configs, env).unwrap_or(first_at);
                self.decide(
                    None,
                    Some(env),
                    at,
                    format!(
                        "environment `{env}` is Kubestack's local development environment (`kbst local apply` swapped the cloud modules for kind stand-ins there): imported as a local environment outside the promotion chain (`[environments.{env}] local = true`), so no promotion waits for it; `plinth apply --env {env}` applies the clusters as configured for `{env}`"
                    ),
                    None,
                    None,
                );
                local.push(env.clone());
                continue;
            }
            let lacking: Vec<&str> = configs
                .iter()
                .filter(|(_, c)| !has(c, env))
                .map(|(m, _)| m.name.as_str())
                .collect();
            if lacking.is_empty() {
                chain.push(env.clone());
            } else {
                let having = configs
                    .iter()
                    .find(|(_, c)| has(c, env))
                    .and_then(|(_, c)| c.get(env).map(|n| n.at));
                self.decide(
                    None,
                    Some(env),
                    having.unwrap_or(first_at),
                    format!(
                        "environment `{env}` is left out: Kubestack cannot apply it because {} {} no `{env}` entry",
                        lacking.iter().map(|l| format!("`{l}`")).collect::<Vec<_>>().join(", "),
                        if lacking.len() == 1 { "has" } else { "have" }
                    ),
                    None,
                    None,
                );
            }
        }
        // ops first, the base last, the rest as first named.
        chain.sort_by_key(|e| {
            if *e == base {
                2
            } else if e == "ops" {
                0
            } else {
                1
            }
        });
        let mut ok = true;
        for env in &chain {
            if let Err(msg) = crate::environment::check_name(env) {
                ok = false;
                let at = env_key_at(configs, env).unwrap_or(first_at);
                self.diags.push(
                    Diagnostic::error("invalid-name", format!("environment `{env}`: {msg}"))
                        .label(at.file, at.span, "a Terraform workspace Plinth cannot name")
                        .hint("environment names are part of cluster names: rename the workspace and its configuration entries first"),
                );
            }
        }
        if ok && chain.len() < 2 {
            self.diags.push(
                Diagnostic::error(
                    "too-few-environments",
                    format!(
                        "the modules share {} environment{} ({}); a platform needs at least two",
                        chain.len(),
                        if chain.len() == 1 { "" } else { "s" },
                        chain.join(", ")
                    ),
                )
                .label(first_at.file, first_at.span, "")
                .hint("Kubestack's default is `ops` and `apps`: add the missing entries to every module's `configuration`"),
            );
            ok = false;
        }
        ok.then_some((chain, base, local))
    }

    /// A module's dialect: its configuration's shape where that says, else its pin, else the
    /// cluster's (for a pool), else current. A pin the shape contradicts is reported.
    fn dialect(
        &mut self,
        m: &Module<'_>,
        p: &Provider,
        pin: &Pin,
        config: &Node,
        role: Role,
        fallback: Option<Dialect>,
    ) -> Dialect {
        if p.id == "kind" {
            return Dialect::Release; // the current modules have no kind cluster
        }
        let shape = shape_dialect(p, config, role);
        if let (Some(s), Some(r)) = (shape, pin.dialect)
            && s != r
        {
            self.convert(
                &m.name,
                None,
                m.source_at,
                format!("`{}` ({} by its ref)", m.source, r.name()),
                format!(
                    "(the {} dialect: the configuration is written in its shape)",
                    s.name()
                ),
            );
        }
        shape
            .or(pin.dialect)
            .or(fallback)
            .unwrap_or(Dialect::Current)
    }

    /// Writes the defaults of the module's era (its dialect, and the version its ref pins) that
    /// Plinth's own defaults do not give, into the base environment where no value is written
    /// there: applying the imported platform then changes nothing. `cluster` is the cluster's
    /// base configuration, for pools.
    #[allow(clippy::too_many_arguments)]
    fn era_defaults(
        &mut self,
        comp: &mut Comp,
        label: &str,
        p: &Provider,
        dialect: Dialect,
        pin: &Pin,
        role: Role,
        cluster: Option<&Table>,
    ) {
        let release = dialect == Dialect::Release;
        let before = |v: Version| pin.version.is_some_and(|pinned| pinned < v);
        let era = match (&pin.reference, dialect) {
            (Some(r), _) => format!("Kubestack `{r}`"),
            (None, d) => format!("Kubestack's {}-era module", d.name()),
        };
        let s = |x: &str| VKind::String(x.into());
        let mut defaults: Vec<(&str, VKind, String)> = Vec::new();
        match (p.id, role) {
            ("eks", Role::Cluster) if release && before((0, 16, 0)) => defaults.push((
                "cluster_vpc_legacy_node_subnets",
                VKind::Boolean(true),
                format!("{era} puts nodes in the control plane's /24 subnets (no node subnets of their own)"),
            )),
            ("aks", Role::Cluster) if release => defaults.push((
                "availability_zones",
                VKind::Array(Vec::new().into()),
                format!("{era} defaults to no zones"),
            )),
            ("gke", Role::Cluster) if release && before(super::LAST_RELEASE) => defaults.push((
                "cluster_release_channel",
                s(&keys::placeholder("the cluster's release channel: `gcloud container clusters describe <name> --format='value(releaseChannel.channel)'`")),
                format!("{era} sets no release channel, so GKE chose one when the cluster was created; Plinth's default `STABLE` could change it"),
            )),
            // Kubestack's node groups have a fixed name; the current modules' launch template
            // (only for `metadata_options`) is the one a `kubestack_node_group` keeps.
            ("eks", Role::DefaultPool | Role::Pool) => defaults.push((
                "kubestack_node_group",
                VKind::Boolean(true),
                if release {
                    format!("{era}'s node groups have a fixed name and no launch template: kept so, the import replaces no node group")
                } else {
                    format!("{era}'s node groups have a fixed name and a launch template only for `metadata_options`: kept so, the import replaces no node group")
                },
            )),
            // Kubestack's node pool modules create a service account for their pool unless it
            // names one.
            ("gke", Role::Pool)
                if !comp
                    .envs
                    .values()
                    .flat_map(|e| e.entries.iter())
                    .any(|x| x.key == "service_account_email") =>
            {
                defaults.push((
                    "kubestack_service_account",
                    VKind::Boolean(true),
                    format!("{era} gives a node pool module's pool a service account of its own, which its nodes use: kept so, the import replaces no node pool"),
                ))
            }
            ("aks", Role::DefaultPool) if release => {
                for (k, v) in [
                    ("vm_size", s("Standard_B2s")),
                    ("max_count", VKind::Integer(1)),
                    ("os_disk_size_gb", VKind::Integer(30)),
                ] {
                    defaults.push((k, v, format!("{era}'s default for the default pool")));
                }
            }
            ("gke", Role::DefaultPool) => {
                defaults.push((
                    "disk_type",
                    s("pd-standard"),
                    format!("{era}'s default pool disk type (Plinth's pools default to another; a change replaces the pool)"),
                ));
                if release {
                    defaults.push((
                        "machine_type",
                        s("e2-medium"),
                        format!("{era} passes an empty machine type, for which GKE creates `e2-medium` nodes"),
                    ));
                    defaults.push((
                        "max_node_count",
                        VKind::Integer(1),
                        format!("{era}'s default"),
                    ));
                    defaults.push((
                        "initial_node_count",
                        VKind::Integer(1),
                        format!("{era}'s default (Plinth's follows `min_node_count`; a change replaces the pool)"),
                    ));
                } else {
                    defaults.push((
                        "image_type",
                        s("COS_containerd"),
                        format!("{era}'s default pool image type, in its spelling"),
                    ));
                }
            }
            _ => {}
        }
        // Kubestack's release modules pass no AMI type: AWS chose one when the node group was
        // created, by the Kubernetes version of that day.
        if p.id == "eks" && release && role != Role::Cluster {
            let version = cluster
                .and_then(|c| c.get("cluster_version"))
                .and_then(Value::as_str)
                .and_then(kubernetes_minor);
            let first = comp
                .envs
                .get(&self.base)
                .and_then(|b| b.entries.iter().find(|x| x.key == "instance_types"))
                .and_then(|x| x.value.as_array()?.first()?.as_str().map(String::from));
            let has = comp
                .envs
                .get(&self.base)
                .is_some_and(|b| b.entries.iter().any(|x| x.key == "ami_type"));
            // AL2 images end with Kubernetes 1.32: a node group of 1.33 or later runs AL2023,
            // which Plinth's default picks the same way.
            if let (Some(first), false, false) = (first, has, version.is_some_and(|v| v >= (1, 33)))
            {
                let ami = al2_ami_type(&first);
                let at = comp
                    .envs
                    .get(&self.base)
                    .and_then(|b| b.entries.first())
                    .map_or(At::new(crate::source::FileId::BUILTIN, None), |x| x.at);
                self.decide(
                    Some(label),
                    None,
                    at,
                    format!(
                        "{era} passes no `ami_type`, so AWS chose one when the node group was created; Plinth writes `ami_type = \"{ami}\"`, AWS's choice before Kubernetes 1.30: check it in every environment (`aws eks describe-nodegroup --cluster-name <name> --nodegroup-name <pool> --query nodegroup.amiType`), a different value replaces the node group"
                    ),
                    None,
                    None,
                );
                defaults.push(("ami_type", s(ami), format!("{era} passes none: AWS's choice for node groups created before Kubernetes 1.30 (see the import report)")));
            }
        }
        let base = self.base.clone();
        for (key, kind, why) in defaults {
            self.write_out(
                comp,
                label,
                &base,
                key,
                Value::builtin(kind),
                &why,
                format!("(unset: {era}'s default)"),
            );
        }
    }

    /// Writes `key = value` into `comp`'s environment `env` with a comment saying why, unless
    /// the environment sets the key; a placeholder value is also a decision to make.
    #[allow(clippy::too_many_arguments)]
    fn write_out(
        &mut self,
        comp: &mut Comp,
        label: &str,
        env: &str,
        key: &str,
        value: Value,
        why: &str,
        from: String,
    ) {
        let out = comp.env(env);
        if out.entries.iter().any(|x| x.key == key) {
            return;
        }
        let shown = value.to_string();
        let at = out
            .entries
            .first()
            .map_or(At::new(crate::source::FileId::BUILTIN, None), |x| x.at);
        let question = value
            .as_str()
            .and_then(keys::placeholder_question)
            .map(String::from);
        out.entries.push(OutEntry {
            key: key.to_string(),
            value,
            comments: Comments {
                leading: vec![format!("Written out: {why}.")],
                ..Comments::default()
            },
            note: None,
            at,
            text: String::new(),
        });
        if let Some(q) = question {
            self.decide(
                Some(label),
                Some(env),
                at,
                format!(
                    "`{key}` is unknown: {why}; it is written as a placeholder to replace ({q})"
                ),
                None,
                None,
            );
        }
        let to_component = label.split_once('.').map_or("", |(_, rest)| rest);
        self.convert(
            label,
            Some(env),
            at,
            from,
            if to_component.is_empty() {
                format!("{key} = {shown}")
            } else {
                format!("{to_component} {key} = {shown}")
            },
        );
    }

    fn cluster(
        &mut self,
        c: &ClusterIn<'_, '_>,
        platform_mode: Mode,
        envs: &[String],
        pools: &[&PoolIn<'_, '_>],
        services: &[&(usize, &Module<'_>, Node)],
    ) -> Option<ClusterOut> {
        let key = c.m.name.clone();
        let p = c.provider;
        let kept_in = format!("clusters/{key}.toml");
        let mode = c.dialect.mode();
        let release = c.dialect == Dialect::Release;
        self.report.imported.push(Imported {
            kind: "cluster",
            key: key.clone(),
            detail: format!("{} ({})", p.id, c.dialect.name()),
            from: format!("module \"{}\" at {}", c.m.name, c.m.at.show(self.sources)),
        });
        let mut header = vec![
            format!(
                "Imported from Kubestack by `plinth import kubestack`: module \"{}\" ({}),",
                c.m.name,
                c.m.at.show(self.sources)
            ),
            format!("`{}` ({} dialect).", c.m.source, c.dialect.name()),
        ];
        let own = self.repo.block_comments(self.sources, c.m.file, c.m.block);
        let inner = self
            .repo
            .body_comments(self.sources, c.m.file, c.m.block, &["configuration"]);
        if !own.is_empty() || !inner.is_empty() {
            header.push(String::new());
            header.extend(own);
            header.extend(inner);
        }
        self.module_arguments(c.m, &key, &kept_in, &["providers"]);

        let label = key.clone();
        let pool_label = format!("{key}.node_pools.{DEFAULT_POOL}");
        let cluster_t = Target {
            label: &label,
            keys: p.cluster_keys,
            release,
            drop_empty: c.dialect == Dialect::Current,
            mode,
            kept_in: &kept_in,
        };
        let pool_t = Target {
            label: &pool_label,
            keys: p.pool_keys,
            release,
            drop_empty: c.dialect == Dialect::Current,
            mode: Mode::Shallow,
            kept_in: &kept_in,
        };
        let mut config = Comp::default();
        let mut pool = Comp::default();
        for env in ordered(envs, &self.base) {
            let Some(env_node) = c.config.get(&env) else {
                continue;
            };
            let is_base = env == self.base;
            config.env(&env).comments = env_node.comments.clone();
            pool.env(&env);
            for e in env_node.entries().unwrap_or_default() {
                if c.dialect == Dialect::Current && e.key == "default_node_pool" {
                    match e.value.entries() {
                        Some(sub) => {
                            pool.env(&env)
                                .comments
                                .leading
                                .extend(e.value.comments.leading.clone());
                            pool.env(&env)
                                .comments
                                .inner
                                .extend(e.value.comments.inner.clone());
                            for s in sub {
                                let from = format!("default_node_pool.{}", s.key);
                                self.put(
                                    &mut pool, &pool_t, &env, is_base, &s.key, None, &from, s, None,
                                );
                            }
                        }
                        None if matches!(e.value.kind, NodeKind::Null) => {}
                        None => self.decide(
                            Some(&pool_label),
                            Some(&env),
                            e.value.at,
                            format!(
                                "`default_node_pool` is a {}, not a map; left out",
                                e.value.type_name()
                            ),
                            Some(verbatim(self.sources, Some(e.key_at), &e.value)),
                            Some(&kept_in),
                        ),
                    }
                    continue;
                }
                if release && let Some((to, field)) = convert::release_pool_key(p.id, &e.key) {
                    self.put(
                        &mut pool, &pool_t, &env, is_base, to, field, &e.key, e, None,
                    );
                    continue;
                }
                self.put(
                    &mut config,
                    &cluster_t,
                    &env,
                    is_base,
                    &e.key,
                    None,
                    &e.key,
                    e,
                    None,
                );
            }
        }
        self.region(c, &mut config, envs)?;
        if p.id == "kind" {
            // Kubestack's kind cluster is one control-plane node plus `extra_nodes`; Plinth's
            // default pool adds workers, so it gets none.
            let env = pool.env(&self.base);
            env.entries.push(OutEntry {
                key: "nodes".into(),
                value: Value::builtin(VKind::Integer(0)),
                comments: Comments {
                    leading: vec![
                        "Kubestack's kind cluster has one control-plane node plus `extra_nodes`: no pool of its own.".into(),
                    ],
                    ..Comments::default()
                },
                note: None,
                at: c.m.at,
                text: String::new(),
            });
            self.convert(
                &pool_label,
                Some(&self.base.clone()),
                c.m.at,
                "(no default pool: one control-plane node plus `extra_nodes`)".into(),
                format!("node_pools.{DEFAULT_POOL} nodes = 0"),
            );
        }
        self.mismatches(&mut config, &cluster_t);
        self.mismatches(&mut pool, &pool_t);
        self.era_defaults(
            &mut config,
            &label,
            p,
            c.dialect,
            &c.pin,
            Role::Cluster,
            None,
        );
        let cluster_base = config.table(&self.base);
        self.era_defaults(
            &mut pool,
            &pool_label,
            p,
            c.dialect,
            &c.pin,
            Role::DefaultPool,
            Some(&cluster_base),
        );
        self.report.imported.push(Imported {
            kind: "node pool",
            key: format!("{key}.{DEFAULT_POOL}"),
            detail: format!("{} ({})", p.id, c.dialect.name()),
            from: format!(
                "the cluster's configuration ({})",
                c.config.at.show(self.sources)
            ),
        });
        let mut out_pools = vec![PoolOut {
            key: DEFAULT_POOL.into(),
            header: Vec::new(),
            inheritance: (c.dialect == Dialect::Current)
                .then_some((Mode::Shallow, DEFAULT_POOL_NOTE)),
            config: pool,
        }];
        let mut pool_modules = BTreeMap::new();
        for pi in pools {
            let m = pi.m;
            if let Some(mut po) = self.pool(
                &key, p, mode, &config, m, pi.dialect, &pi.config, envs, &kept_in,
            ) {
                let label = format!("{key}.node_pools.{}", po.key);
                self.era_defaults(
                    &mut po.config,
                    &label,
                    p,
                    pi.dialect,
                    &pi.pin,
                    Role::Pool,
                    Some(&cluster_base),
                );
                if out_pools.iter().any(|x| x.key == po.key) {
                    self.diags.push(
                        Diagnostic::error(
                            "duplicate-pool",
                            format!(
                                "cluster `{key}` gets two node pools with the key `{}`",
                                po.key
                            ),
                        )
                        .label(m.at.file, m.at.span, "the second one")
                        .hint("rename one of the node pool modules"),
                    );
                    continue;
                }
                pool_modules.insert(po.key.clone(), m.name.clone());
                out_pools.push(po);
            }
        }
        let mut out_services: Vec<ServiceOut> = Vec::new();
        let mut service_modules = BTreeMap::new();
        for (_, m, node) in services {
            if let Some(mut so) = self.service(&key, mode, m, node, envs, &kept_in) {
                if out_services.iter().any(|x| x.key == so.key) {
                    so.key = m.name.clone();
                }
                service_modules.insert(so.key.clone(), m.name.clone());
                out_services.push(so);
            }
        }
        if p.id == "aks" {
            self.declared_groups(&key, &config, c.m.at);
        }
        self.adopt_network(&mut config, &key, p);
        Some(ClusterOut {
            key,
            provider: p,
            inheritance: (mode != platform_mode).then_some(mode),
            header,
            config,
            pools: out_pools,
            services: out_services,
            kubestack: KubestackOrigin {
                module: c.m.name.clone(),
                layout: match c.dialect {
                    Dialect::Release => Layout::Release,
                    Dialect::Current => Layout::Current,
                },
                node_pools: pool_modules,
                services: service_modules,
                resources: BTreeMap::new(),
                origin: crate::value::Origin::BUILTIN,
            },
        })
    }

    /// Kubestack's cluster network, adopted as it is (a different one would replace the
    /// cluster): GKE's auto-mode VPC, AKS's managed network (kubenet) or its azure CNI virtual
    /// network under either of its names. Written into the base environment, and into another
    /// one where its `network_plugin` or `legacy_vnet_name` picks another shape.
    fn adopt_network(&mut self, config: &mut Comp, key: &str, p: &Provider) {
        let mut layouts: Vec<(String, &'static str, &'static str)> = Vec::new();
        match p.id {
            "gke" => layouts.push((
                self.base.clone(),
                "auto",
                "Kubestack's GKE network is an auto-mode VPC named as the cluster; Plinth adopts it as it is (a custom-mode network would replace the network and the cluster)",
            )),
            "aks" => {
                let base = config.table(&self.base);
                let base_legacy = self.legacy_vnet.get(&(key.to_string(), self.base.clone()));
                let mut envs: Vec<String> = config.envs.keys().cloned().collect();
                envs.retain(|e| *e != self.base);
                envs.insert(0, self.base.clone());
                let mut base_layout = None;
                for env in envs {
                    let own = config.table(&env);
                    let plugin = own
                        .get("network_plugin")
                        .or_else(|| base.get("network_plugin"))
                        .and_then(Value::as_str)
                        .unwrap_or("kubenet");
                    let legacy = self
                        .legacy_vnet
                        .get(&(key.to_string(), env.clone()))
                        .or(base_legacy)
                        .copied()
                        .unwrap_or(false);
                    let (layout, why) = match (plugin, legacy) {
                        ("azure", true) => ("kubestack-legacy", "Kubestack's azure CNI network under its legacy names (`legacy_vnet_name`): `vnet-aks-<environment>-cluster`, subnet `aks-node-subnet`; adopted as it is (another subnet would replace the cluster)"),
                        ("azure", false) => ("kubestack", "Kubestack's azure CNI network: virtual network `<name>`, subnet `<name>-<default pool name>-node-pool`; adopted as it is (another subnet would replace the cluster)"),
                        _ => ("managed", "Kubestack's kubenet clusters have no virtual network of their own: AKS manages the nodes' network, and Plinth leaves it so (a subnet of Plinth's would replace the cluster)"),
                    };
                    if base_layout.is_none() {
                        base_layout = Some(layout);
                    } else if base_layout == Some(layout) {
                        continue;
                    }
                    layouts.push((env, layout, why));
                }
            }
            _ => {}
        }
        let name = if p.id == "gke" {
            "network_mode"
        } else {
            "network_layout"
        };
        for (env, layout, why) in layouts {
            self.write_out(
                config,
                key,
                &env,
                name,
                Value::builtin(VKind::String(layout.into())),
                why,
                "(Kubestack's network)".into(),
            );
        }
    }

    /// Module arguments beside the configuration: those that carry nothing Plinth needs are
    /// fine; anything else is a decision.
    fn module_arguments(&mut self, m: &Module<'_>, component: &str, kept_in: &str, also: &[&str]) {
        for a in m.block.body.attributes() {
            let name = a.key.value().as_str();
            if [
                "source",
                "version",
                "configuration",
                "configuration_base_key",
            ]
            .contains(&name)
                || also.contains(&name)
            {
                continue;
            }
            let node = self.repo.node(self.sources, m.file, &a.value, 0);
            let key_at = At::new(m.file, a.key.span());
            let why = match name {
                "count" | "for_each" => {
                    "Plinth cannot tell how many instances it makes; imported once".to_string()
                }
                "depends_on" => {
                    "Plinth orders clusters, node pools and services itself".to_string()
                }
                _ => format!("`{name}` is not an argument Plinth imports"),
            };
            self.decide(
                Some(component),
                None,
                key_at,
                format!("module `{}`: {why}", m.name),
                Some(verbatim(self.sources, Some(key_at), &node)),
                Some(kept_in),
            );
        }
    }

    /// Converts one Kubestack `key = value` into `comp`'s environment `env` as `key`
    /// (`field` of it, for release keys that became a table's field).
    #[allow(clippy::too_many_arguments)]
    fn put(
        &mut self,
        comp: &mut Comp,
        t: &Target<'_>,
        env: &str,
        is_base: bool,
        key: &str,
        field: Option<&str>,
        from_key: &str,
        e: &Entry,
        original: Option<&Node>,
    ) {
        let node = &e.value;
        let text = verbatim(self.sources, Some(e.key_at), node);
        let short = format!(
            "{from_key} = {}",
            value_text(self.sources, original.unwrap_or(node))
        );
        let moved = key != from_key || original.is_some();
        let inherits = matches!(node.kind, NodeKind::Null)
            || (t.drop_empty && !is_base && is_empty_string(node));
        if inherits {
            let why = if matches!(node.kind, NodeKind::Null) {
                "null is unset"
            } else {
                "\"\" inherits the base value in Kubestack"
            };
            self.convert(
                t.label,
                Some(env),
                e.key_at,
                short.clone(),
                format!("(left out: {why})"),
            );
            let out = comp.env(env);
            out.pending.extend(node.comments.leading.iter().cloned());
            out.pending.extend(node.comments.trailing.iter().cloned());
            out.pending
                .push(format!("Kubestack's `{short}` is left out: {why}."));
            return;
        }
        if key == "legacy_vnet_name"
            && std::ptr::eq(t.keys, crate::provider::aks::CLUSTER_KEYS)
            && let Ok(c) = convert::typed(node, &Ty::Boolean, t.release, key)
            && let Some(legacy) = c.value.as_bool()
        {
            self.legacy_vnet
                .insert((t.label.to_string(), env.to_string()), legacy);
            self.convert(
                t.label,
                Some(env),
                e.key_at,
                short.clone(),
                "network_layout (with `network_plugin`)".into(),
            );
            return;
        }
        let Some(k) = keys::find(t.keys, key) else {
            self.unknown_key(t, env, key, e, text);
            return;
        };
        // Plinth grants EKS access with access entries, which name each principal: aws-auth's
        // account-wide mapping has no counterpart, so the platform refuses the key. Kept
        // verbatim for the person who lists the account's roles and users instead.
        if key == "cluster_aws_auth_map_accounts" {
            self.decide(
                Some(t.label),
                Some(env),
                e.key_at,
                format!("`{from_key}`: aws-auth's account-wide mapping has no EKS access entry counterpart (its principals lose access); left out: list the account's roles and users in `cluster_aws_auth_map_roles`/`cluster_aws_auth_map_users`"),
                Some(text),
                Some(t.kept_in),
            );
            return;
        }
        let ty: &Ty = match (field, &k.ty) {
            (Some(f), Ty::Object(fields)) => match fields.iter().find(|x| x.name == f) {
                Some(x) => &x.ty,
                None => &k.ty,
            },
            _ => &k.ty,
        };
        let path = field.map_or_else(|| key.to_string(), |f| format!("{key}.{f}"));
        let converted = match convert::typed(node, ty, t.release, &path) {
            Ok(c) => c,
            Err(Problem::NotStatic) if self.cluster_default(t, k, node) => {
                self.convert(
                    t.label,
                    Some(env),
                    e.key_at,
                    short.clone(),
                    format!("(left out: Plinth's default for `{key}` is the same)"),
                );
                let out = comp.env(env);
                out.pending.extend(node.comments.leading.iter().cloned());
                out.pending.push(format!(
                    "Kubestack's `{short}` is left out: Plinth's default for `{key}` is the same value."
                ));
                return;
            }
            Err(p) => {
                let msg = match &p {
                    Problem::NotStatic => format!("`{from_key}` is not a static value; left out"),
                    p => format!("`{from_key}`: {}; left out", p.describe()),
                };
                self.decide(
                    Some(t.label),
                    Some(env),
                    e.key_at,
                    msg,
                    Some(text),
                    Some(t.kept_in),
                );
                return;
            }
        };
        let mut value = converted.value;
        if let Some(f) = field {
            let mut table = Table::new();
            table.insert(f.to_string(), value);
            value = Value::builtin(VKind::Table(table));
        }
        // Under nested inheritance "" inside a table the base also has inherits: leave it out.
        if t.mode == Mode::Nested
            && !is_base
            && let VKind::Table(tbl) = &mut value.kind
            && comp
                .envs
                .get(&self.base)
                .and_then(|b| b.entries.iter().find(|x| x.key == key))
                .is_some_and(|b| matches!(b.value.kind, VKind::Table(_)))
        {
            let before = tbl.len();
            tbl.retain(|_, v| !matches!(&v.kind, VKind::String(s) if s.is_empty()));
            if tbl.is_empty() && before > 0 {
                // Every field inherits: the table changes nothing.
                self.convert(
                    t.label,
                    Some(env),
                    e.key_at,
                    short.clone(),
                    "(left out: each \"\" inherits the base value in Kubestack)".into(),
                );
                let out = comp.env(env);
                out.pending.extend(node.comments.leading.iter().cloned());
                out.pending.push(format!(
                    "Kubestack's `{short}` is left out: each \"\" inherits the base value."
                ));
                return;
            }
        }
        let changed = converted.changed || node.via.is_some() || moved || field.is_some();
        let shown = value.to_string();
        let to_component = t.label.split_once('.').map_or("", |(_, rest)| rest);
        if changed {
            let mut from = short.clone();
            if let Some(via) = &node.via {
                from = format!("{from} ({via})");
            }
            self.convert(
                t.label,
                Some(env),
                e.key_at,
                from,
                if to_component.is_empty() {
                    format!("{key} = {shown}")
                } else {
                    format!("{to_component} {key} = {shown}")
                },
            );
        }
        let renamed = from_key.rsplit('.').next() != Some(key);
        let note = (converted.changed || node.via.is_some() || renamed || field.is_some())
            .then(|| format!("Kubestack: {short}"));
        let out = comp.env(env);
        let mut comments = node.comments.clone();
        if !out.pending.is_empty() {
            let mut lead = std::mem::take(&mut out.pending);
            lead.append(&mut comments.leading);
            comments.leading = lead;
        }
        if let Some(existing) = out.entries.iter_mut().find(|x| x.key == key) {
            // Two release keys that are fields of one table (none collide otherwise).
            if let (VKind::Table(a), VKind::Table(b)) = (&mut existing.value.kind, value.kind) {
                a.extend(b);
            }
            return;
        }
        out.entries.push(OutEntry {
            key: key.to_string(),
            value,
            comments,
            note,
            at: e.key_at,
            text,
        });
    }

    /// A pool value written as `module.<cluster>.current_config["k"]` where Plinth's default
    /// for the key is the cluster's `k`: the same value, so it is left to the default.
    fn cluster_default(&self, t: &Target<'_>, k: &Key, node: &Node) -> bool {
        let keys::Default::ClusterKey(ck) = k.default else {
            return false;
        };
        let NodeKind::Expr(text) = &node.kind else {
            return false;
        };
        let cluster = t.label.split('.').next().unwrap_or_default();
        ::hcl::edit::parser::parse_expr(text)
            .ok()
            .and_then(|e| hcl::current_config_key(&e))
            .is_some_and(|(m, key)| m == cluster && key == ck)
    }

    fn unknown_key(&mut self, t: &Target<'_>, env: &str, key: &str, e: &Entry, text: String) {
        let hint = crate::diagnostic::did_you_mean(key, t.keys.iter().map(|k| k.name))
            .map(|b| format!(" (Plinth's closest key is `{b}`)"))
            .unwrap_or_default();
        self.decide(
            Some(t.label),
            Some(env),
            e.key_at,
            format!("`{key}` is not a Plinth key here{hint}; left out"),
            Some(text),
            Some(t.kept_in),
        );
    }

    /// Overrides Plinth would reject as another type than the base's. Kubestack's nested rule
    /// silently keeps the base value; either way a person must decide.
    fn mismatches(&mut self, comp: &mut Comp, t: &Target<'_>) {
        let base = comp.table(&self.base);
        let envs: Vec<String> = comp
            .envs
            .keys()
            .filter(|e| **e != self.base)
            .cloned()
            .collect();
        for env in envs {
            let (_, notes) = inheritance::merge(&base, &comp.table(&env), t.mode);
            for n in notes {
                let Note::TypeMismatch {
                    path,
                    env_type,
                    base_type,
                    ..
                } = n
                else {
                    continue;
                };
                let mut parts = path.splitn(2, '.');
                let top = parts.next().unwrap_or_default().to_string();
                let nested = parts.next().map(String::from);
                let Some(out) = comp.envs.get_mut(&env) else {
                    continue;
                };
                let Some(i) = out.entries.iter().position(|x| x.key == top) else {
                    continue;
                };
                let (at, text) = (out.entries[i].at, out.entries[i].text.clone());
                match &nested {
                    Some(n) => {
                        if let VKind::Table(tbl) = &mut out.entries[i].value.kind {
                            tbl.remove(n);
                        }
                    }
                    None => {
                        out.entries.remove(i);
                    }
                }
                let what = if t.mode == Mode::Nested {
                    "Kubestack silently ignores it and uses the base value"
                } else {
                    "Plinth cannot hold two types for one key"
                };
                self.decide(
                    Some(t.label),
                    Some(&env),
                    at,
                    format!("`{path}` is a {env_type} here but a {base_type} in the base: {what}; left out"),
                    Some(text),
                    Some(t.kept_in),
                );
            }
        }
    }

    /// The cluster's region where Kubestack does not keep it in the configuration: EKS from
    /// the aliased `aws` provider, AKS from its resource group (per environment, where an
    /// environment has a group of its own). Kubestack ignores a `region` written in these
    /// modules' configuration: such a value is left out (a decision where it differs). Where
    /// the repository does not say, the region is a placeholder a person must fill in.
    fn region(&mut self, c: &ClusterIn<'_, '_>, config: &mut Comp, envs: &[String]) -> Option<()> {
        let label = c.m.name.clone();
        if c.provider.id == "aks"
            && !config
                .envs
                .get(&self.base)
                .is_some_and(|e| e.entries.iter().any(|x| x.key == "resource_group"))
        {
            // Left out above (an expression Plinth cannot read): a person names the group.
            self.decide(
                Some(&label),
                Some(&self.base.clone()),
                c.m.at,
                "the resource group is unknown: `resource_group` is written as a placeholder to replace".into(),
                None,
                None,
            );
            config.env(&self.base).entries.push(OutEntry {
                key: "resource_group".into(),
                value: Value::string(keys::placeholder("the name of the cluster's Azure resource group")),
                comments: Comments {
                    leading: vec!["NEEDS A HUMAN DECISION: the resource group, which the repository does not give as a literal (see the import report).".into()],
                    ..Comments::default()
                },
                note: None,
                at: c.m.at,
                text: String::new(),
            });
        }
        let found = match c.provider.id {
            "eks" => self.eks_region(c.m),
            "aks" => self.aks_region(c, config),
            _ => return Some(()),
        };
        let (region, at, how) = match found {
            Some(f) => f,
            None => {
                let (question, why) = if c.provider.id == "eks" {
                    (
                        "the AWS region of this cluster".to_string(),
                        "Kubestack takes it from the `aws` provider the module is given, which sets no `region` here (it comes from the environment where Terraform runs)".to_string(),
                    )
                } else {
                    let rg = config
                        .envs
                        .get(&self.base)
                        .and_then(|e| e.entries.iter().find(|x| x.key == "resource_group"))
                        .and_then(|x| x.value.as_str().map(String::from));
                    match rg {
                        Some(rg) => (
                            format!("the location of resource group `{rg}` (`az group show --name {rg} --query location`)"),
                            format!("Kubestack reads it from Azure (`data.azurerm_resource_group`): the repository does not declare resource group `{rg}` with its `location`"),
                        ),
                        None => (
                            "the Azure location of this cluster's resource group".to_string(),
                            "Kubestack reads it from the cluster's resource group in Azure, which the repository does not declare".to_string(),
                        ),
                    }
                };
                self.decide(
                    Some(&label),
                    Some(&self.base.clone()),
                    c.m.at,
                    format!("the region is unknown: {why}; `region` is written as a placeholder to replace"),
                    None,
                    None,
                );
                (
                    keys::placeholder(&question),
                    c.m.at,
                    "(unknown: a placeholder to replace)".to_string(),
                )
            }
        };
        self.convert(
            &label,
            Some(&self.base.clone()),
            at,
            how.clone(),
            format!("region = {region:?}"),
        );
        let from_group = how.starts_with("location");
        let base_env = self.base.clone();
        // Each environment's region: the base's, or its own resource group's.
        let mut regions: BTreeMap<String, (String, At, String)> = BTreeMap::new();
        if c.provider.id == "aks" {
            for env in envs.iter().filter(|e| **e != base_env) {
                let Some(rg) = config
                    .envs
                    .get(env)
                    .and_then(|e| e.entries.iter().find(|x| x.key == "resource_group"))
                    .map(|x| (x.value.as_str().unwrap_or_default().to_string(), x.at))
                else {
                    continue;
                };
                match self.group_location(&rg.0) {
                    Some((r, at, how)) if r != region => {
                        self.convert(&label, Some(env), at, how.clone(), format!("region = {r:?}"));
                        regions.insert(env.clone(), (r, at, how));
                    }
                    Some(_) => {}
                    None if from_group => self.decide(
                        Some(&label),
                        Some(env),
                        rg.1,
                        format!(
                            "resource group `{}` is not declared in the repository, so its location (the cluster's region) is unknown; the base environment's `{region}` is assumed",
                            rg.0
                        ),
                        None,
                        None,
                    ),
                    None => {}
                }
            }
        }
        // A `region` in the configuration: Kubestack does not read it.
        for (env, out) in config.envs.iter_mut() {
            let Some(i) = out.entries.iter().position(|x| x.key == "region") else {
                continue;
            };
            let written = out.entries.remove(i);
            let (used, _, used_how) = regions
                .get(env)
                .cloned()
                .unwrap_or_else(|| (region.clone(), at, how.clone()));
            let value = written.value.as_str().unwrap_or_default().to_string();
            let short = format!("region = {}", written.value);
            if value == used {
                out.pending.push(format!(
                    "Kubestack's `{short}` is left out: Kubestack takes the region from {used_how}, the same value."
                ));
                self.report.converted.push(Conversion {
                    component: label.clone(),
                    environment: Some(env.clone()),
                    from: short,
                    to: format!("(left out: the same as {used_how})"),
                    at: written.at.show(self.sources),
                });
            } else {
                self.report.decisions.push(Decision {
                    component: Some(label.clone()),
                    environment: Some(env.clone()),
                    at: written.at.show(self.sources),
                    message: format!(
                        "`{short}` in the configuration is not what Kubestack uses: it takes `{used}` from {used_how}; Plinth keeps `{used}`; left out"
                    ),
                    verbatim: Some(written.text.clone()),
                    kept_in: Some(format!("clusters/{label}.toml")),
                });
            }
        }
        let mut comments = std::mem::take(&mut self.region_comments);
        if let Some(q) = keys::placeholder_question(&region) {
            comments.push(format!(
                "NEEDS A HUMAN DECISION: {q}. `plinth validate` reports this placeholder until it is replaced."
            ));
        }
        config.env(&base_env).entries.insert(
            0,
            OutEntry {
                key: "region".into(),
                value: Value::string(region.clone()),
                comments: Comments {
                    leading: comments,
                    ..Comments::default()
                },
                note: keys::placeholder_question(&region)
                    .is_none()
                    .then(|| format!("Kubestack: {how}")),
                at,
                text: String::new(),
            },
        );
        for (env, (r, at, how)) in regions {
            config.env(&env).entries.insert(
                0,
                OutEntry {
                    key: "region".into(),
                    value: Value::string(r),
                    comments: Comments::default(),
                    note: Some(format!("Kubestack: {how}")),
                    at,
                    text: String::new(),
                },
            );
        }
        Some(())
    }

    /// Says what becomes of resource groups the repository declares for the cluster. Plinth's
    /// AKS module reads an existing group, as Kubestack's did, so nothing is moved or imported:
    /// a declared group stays in the Kubestack state (moving it would make Plinth's first plan
    /// delete it, `create_resource_group` being unset).
    fn declared_groups(&mut self, cluster: &str, config: &Comp, at: At) {
        let mut labels: BTreeSet<String> = BTreeSet::new();
        for e in config.envs.values() {
            if let Some(rg) = e
                .entries
                .iter()
                .find(|x| x.key == "resource_group")
                .and_then(|x| x.value.as_str())
                && let Some(label) = self.group_label(rg)
            {
                labels.insert(label);
            }
        }
        if labels.is_empty() {
            return;
        }
        self.decide(
            Some(cluster),
            None,
            at,
            format!(
                "the repository declares the cluster's resource group ({}): it stays in the Kubestack state, where the state migration leaves it, and Plinth reads it as Kubestack's module did; to manage it with Plinth set `create_resource_group = true` (one group per environment) and `terraform import` it as `module.{cluster}.azurerm_resource_group.current[0]`",
                labels.iter().map(|l| format!("`azurerm_resource_group.{l}`")).collect::<Vec<_>>().join(", ")
            ),
            None,
            None,
        );
    }

    /// The label of the `azurerm_resource_group` resource the repository declares as `rg`.
    fn group_label(&self, rg: &str) -> Option<String> {
        self.repo.blocks("resource").find_map(|(file, block)| {
            (block.labels.first().map(|l| l.as_str()) == Some("azurerm_resource_group"))
                .then_some(())?;
            let name = block.body.get_attribute("name")?;
            let n = self.repo.node(self.sources, file, &name.value, 0);
            (n.as_str() == Some(rg)).then(|| block.labels.get(1).map(|l| l.as_str().to_string()))?
        })
    }

    /// The location of a resource group the repository declares, as a region name.
    fn group_location(&self, rg: &str) -> Option<(String, At, String)> {
        for (file, block) in self.repo.blocks("resource") {
            if block.labels.first().map(|l| l.as_str()) != Some("azurerm_resource_group") {
                continue;
            }
            let get = |k: &str| {
                block
                    .body
                    .get_attribute(k)
                    .map(|a| (self.repo.node(self.sources, file, &a.value, 0), a.span()))
            };
            if get("name")
                .and_then(|(n, _)| n.as_str().map(String::from))
                .as_deref()
                != Some(rg)
            {
                continue;
            }
            let (n, span) = get("location")?;
            let loc = n.as_str().filter(|s| !s.is_empty())?;
            // Azure accepts display names ("West Europe"); the region is the short name.
            return Some((
                loc.to_lowercase().replace(' ', ""),
                At::new(file, span),
                format!("location {loc:?} of resource group {rg:?}"),
            ));
        }
        None
    }

    fn eks_region(&mut self, m: &Module<'_>) -> Option<(String, At, String)> {
        let alias = m
            .block
            .body
            .get_attribute("providers")
            .and_then(|a| match &a.value {
                ::hcl::edit::expr::Expression::Object(o) => o.iter().find_map(|(k, v)| {
                    let key = match k {
                        ::hcl::edit::expr::ObjectKey::Ident(i) => i.value().to_string(),
                        ::hcl::edit::expr::ObjectKey::Expression(e) => e.as_str()?.to_string(),
                    };
                    (key == "aws")
                        .then(|| hcl::provider_ref(v.expr()))
                        .flatten()
                }),
                _ => None,
            })
            .map(|(_, alias)| alias);
        for (file, block) in self.repo.blocks("provider") {
            if block.labels.first().map(|l| l.as_str()) != Some("aws") {
                continue;
            }
            let a = block
                .body
                .get_attribute("alias")
                .and_then(|a| a.value.as_str().map(String::from));
            if a != alias {
                continue;
            }
            let attr = block.body.get_attribute("region")?;
            let n = self.repo.node(self.sources, file, &attr.value, 0);
            let region = n.as_str().filter(|s| !s.is_empty())?.to_string();
            let name = match &a {
                Some(a) => format!("provider \"aws\" alias {a:?}"),
                None => "provider \"aws\"".into(),
            };
            let mut how = format!("region {region:?} of {name}");
            if let Some(v) = &n.via {
                how.push_str(&format!(" ({v})"));
            }
            self.region_comments =
                self.repo
                    .attribute_comments(self.sources, file, block, "region");
            return Some((region, At::new(file, attr.span()), how));
        }
        None
    }

    fn aks_region(&mut self, c: &ClusterIn<'_, '_>, config: &Comp) -> Option<(String, At, String)> {
        let rg = config
            .envs
            .get(&self.base)
            .and_then(|e| e.entries.iter().find(|x| x.key == "resource_group"))
            .and_then(|x| x.value.as_str().map(String::from));
        if let Some(found) = rg.and_then(|rg| self.group_location(&rg)) {
            return Some(found);
        }
        let parts: Vec<&str> = c.m.name.split('_').collect();
        match parts.as_slice() {
            ["aks", _, .., region] if parts.len() >= 3 && !region.is_empty() => Some((
                region.to_string(),
                c.m.at,
                format!(
                    "the module's name `{}` (aks_<name_prefix>_<region>)",
                    c.m.name
                ),
            )),
            _ => None,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn pool(
        &mut self,
        cluster: &str,
        p: &'static Provider,
        cluster_mode: Mode,
        cluster_config: &Comp,
        m: &Module<'_>,
        dialect: Dialect,
        node: &Node,
        envs: &[String],
        kept_in: &str,
    ) -> Option<PoolOut> {
        let key = pool_key(cluster, &m.name);
        if let Err(msg) = crate::environment::check_component_key(&key) {
            self.diags.push(
                Diagnostic::error(
                    "invalid-name",
                    format!("node pool module `{}`: {msg}", m.name),
                )
                .label(
                    m.at.file,
                    m.at.span,
                    "its name (without the cluster's) becomes the pool's key",
                ),
            );
            return None;
        }
        let label = format!("{cluster}.node_pools.{key}");
        let mode = dialect.mode();
        self.report.imported.push(Imported {
            kind: "node pool",
            key: format!("{cluster}.{key}"),
            detail: format!("{} ({})", p.id, dialect.name()),
            from: format!("module \"{}\" at {}", m.name, m.at.show(self.sources)),
        });
        // Arguments that only name the cluster.
        let mut also = vec!["providers", "cluster_name", "cluster_metadata"];
        for a in m.block.body.attributes() {
            let name = a.key.value().as_str();
            if also.contains(&name) {
                continue;
            }
            if let Some((mm, ck)) = hcl::current_config_key(&a.value)
                && mm == cluster
                && keys::find(p.cluster_keys, &ck).is_some()
            {
                also.push(name);
                self.convert(
                    &label,
                    None,
                    At::new(m.file, a.span()),
                    hcl::snippet(self.sources, At::new(m.file, a.span())),
                    format!("(left out: Plinth's pools use the cluster's `{ck}`)"),
                );
            }
        }
        self.module_arguments(m, &label, kept_in, &also);
        let t = Target {
            label: &label,
            keys: p.pool_keys,
            release: dialect == Dialect::Release,
            drop_empty: dialect == Dialect::Current,
            mode,
            kept_in,
        };
        let mut config = Comp::default();
        // Cluster keys written on the pool (GKE pools repeat `project_id`): kept aside to
        // compare with the cluster's.
        let mut aside: BTreeMap<String, Table> = BTreeMap::new();
        let mut aside_at: Vec<(String, String, At, String)> = Vec::new();
        for env in ordered(envs, &self.base) {
            let Some(env_node) = node.get(&env) else {
                continue;
            };
            let is_base = env == self.base;
            config.env(&env).comments = env_node.comments.clone();
            for e in env_node.entries().unwrap_or_default() {
                if keys::find(p.pool_keys, &e.key).is_none()
                    && let Some(ck) = keys::find(p.cluster_keys, &e.key)
                    && let Ok(v) = convert::typed(&e.value, &ck.ty, t.release, &e.key)
                {
                    aside
                        .entry(env.clone())
                        .or_default()
                        .insert(e.key.clone(), v.value);
                    aside_at.push((
                        env.clone(),
                        e.key.clone(),
                        e.key_at,
                        verbatim(self.sources, Some(e.key_at), &e.value),
                    ));
                    continue;
                }
                self.put(
                    &mut config,
                    &t,
                    &env,
                    is_base,
                    &e.key,
                    None,
                    &e.key,
                    e,
                    None,
                );
            }
        }
        self.mismatches(&mut config, &t);
        if !aside.is_empty() {
            let pbase = aside.get(&self.base).cloned().unwrap_or_default();
            let cbase = cluster_config.table(&self.base);
            let keys_aside: BTreeSet<String> = aside
                .values()
                .flat_map(|t| t.keys().map(|k| k.to_string()))
                .collect();
            for k in keys_aside {
                let same = envs.iter().all(|env| {
                    let pv =
                        inheritance::resolve(&pbase, aside.get(env).unwrap_or(&Table::new()), mode);
                    let cv = inheritance::resolve(&cbase, &cluster_config.table(env), cluster_mode);
                    pv.get(&k) == cv.get(&k) || !pv.contains_key(&k)
                });
                for (env, _, at, text) in aside_at.iter().filter(|x| x.1 == k) {
                    if same {
                        config.env(env).pending.push(format!(
                            "Kubestack's `{}` is left out: it is the cluster's `{k}`, which Plinth's pools use.",
                            text.lines().last().unwrap_or_default().trim()
                        ));
                        self.convert(
                            &label,
                            Some(env),
                            *at,
                            text.clone(),
                            format!("(left out: the cluster's `{k}` in every environment, which Plinth's pools use)"),
                        );
                    } else {
                        self.decide(
                            Some(&label),
                            Some(env),
                            *at,
                            format!("`{k}` differs from the cluster's; Plinth's pools always use the cluster's; left out"),
                            Some(text.clone()),
                            Some(kept_in),
                        );
                    }
                }
            }
        }
        let header = {
            let mut h = vec![format!(
                "module \"{}\" ({}), `{}`.",
                m.name,
                m.at.show(self.sources),
                m.source
            )];
            h.extend(self.repo.block_comments(self.sources, m.file, m.block));
            h.extend(
                self.repo
                    .body_comments(self.sources, m.file, m.block, &["configuration"]),
            );
            h
        };
        Some(PoolOut {
            key,
            header,
            inheritance: (mode != cluster_mode).then_some((
                mode,
                if mode == Mode::Shallow {
                    "This pool's module is a Kubestack release: any value set replaces the base value whole."
                } else {
                    "This pool's module is Kubestack's current version: tables merge one level deep."
                },
            )),
            config,
        })
    }

    fn service(
        &mut self,
        cluster: &str,
        cluster_mode: Mode,
        m: &Module<'_>,
        node: &Node,
        envs: &[String],
        kept_in: &str,
    ) -> Option<ServiceOut> {
        let (key, kind, catalog_name, source, detail) = match &m.kind {
            Kind::Catalog(entry, version) => {
                let name = match entry.as_str() {
                    "nginx" => "ingress-nginx",
                    "opa-gatekeeper" => "gatekeeper",
                    "prometheus" => "prometheus-operator",
                    other => other,
                };
                let Some(e) = catalog::get(name) else {
                    self.decide(
                        Some(cluster),
                        None,
                        m.at,
                        format!(
                            "catalog entry `{entry}` (module `{}`) has no Plinth catalog entry; not imported: add it with `plinth add service {entry} --cluster {cluster} --source <kustomize base>`",
                            m.name
                        ),
                        None,
                        None,
                    );
                    return None;
                };
                let src = e.source();
                self.decide(
                    Some(&format!("{cluster}.services.{}", e.name)),
                    None,
                    m.source_at,
                    format!(
                        "Kubestack's catalog `{entry}`{} is now Plinth's catalog `{}` pinned to {}: review the version before applying",
                        version.as_ref().map(|v| format!(" {v}")).unwrap_or_default(),
                        e.name,
                        e.version
                    ),
                    None,
                    None,
                );
                (
                    e.name.to_string(),
                    e.kind,
                    Some(e.name.to_string()),
                    src,
                    format!("catalog {} {}", e.name, e.version),
                )
            }
            _ => {
                let src = self.overlay_source(m)?;
                let detail = format!("kustomize base {src}");
                (
                    service_key(cluster, &m.name),
                    ServiceKind::Other,
                    None,
                    src,
                    detail,
                )
            }
        };
        let label = format!("{cluster}.services.{key}");
        self.report.imported.push(Imported {
            kind: "service",
            key: format!("{cluster}.{key}"),
            detail,
            from: format!("module \"{}\" at {}", m.name, m.at.show(self.sources)),
        });
        self.module_arguments(m, &label, kept_in, &["providers"]);
        let mut config = Comp::default();
        for env in ordered(envs, &self.base) {
            let Some(env_node) = node.get(&env) else {
                continue;
            };
            config.env(&env).comments = env_node.comments.clone();
            for e in env_node.entries().unwrap_or_default() {
                self.service_entry(&mut config, &label, kept_in, &env, e);
            }
        }
        let t = Target {
            label: &label,
            keys: service::SERVICE_KEYS,
            release: false,
            drop_empty: false,
            mode: Mode::Shallow,
            kept_in,
        };
        self.mismatches(&mut config, &t);
        let mut header = vec![format!(
            "module \"{}\" ({}), `{}`.",
            m.name,
            m.at.show(self.sources),
            m.source
        )];
        header.extend(self.repo.block_comments(self.sources, m.file, m.block));
        Some(ServiceOut {
            key,
            header,
            kind,
            catalog: catalog_name,
            source,
            inheritance: (cluster_mode != Mode::Shallow).then_some((Mode::Shallow, SERVICE_NOTE)),
            config,
        })
    }

    /// A kustomization overlay module's manifests: its local directory (with a
    /// kustomization file) or its remote address, pinned.
    fn overlay_source(&mut self, m: &Module<'_>) -> Option<Source> {
        let s = m.source.as_str();
        if s.starts_with("./") || s.starts_with("../") {
            let rel = normalize_path(s);
            let dir = rel.as_deref().map(|r| self.src.join(r));
            match (rel, dir) {
                (Some(rel), Some(dir))
                    if dir.is_dir() && service::lint::kustomization_file(&dir).is_some() =>
                {
                    self.copies.insert(PathBuf::from(&rel));
                    return Some(Source::Path { path: rel });
                }
                _ => {
                    self.decide(
                        None,
                        None,
                        m.source_at,
                        format!("module `{}`: `{s}` is not a kustomize base inside the repository; not imported", m.name),
                        None,
                        None,
                    );
                    return None;
                }
            }
        }
        let (addr, r) = match s.split_once("?ref=") {
            Some((a, r)) => (a, Some(r)),
            None => (s, None),
        };
        let addr = addr.strip_prefix("git::").unwrap_or(addr);
        let url = if addr.starts_with("https://") || addr.starts_with("ssh://") {
            addr.to_string()
        } else if addr.starts_with("github.com/") || addr.starts_with("gitlab.com/") {
            format!("https://{addr}")
        } else {
            self.decide(
                None,
                None,
                m.source_at,
                format!(
                    "module `{}`: `{s}` is not a kustomize base Plinth can fetch; not imported",
                    m.name
                ),
                None,
                None,
            );
            return None;
        };
        let Some(r) = r else {
            self.decide(
                None,
                None,
                m.source_at,
                format!("module `{}`: `{s}` is not pinned with `?ref=`; Plinth only applies pinned remote bases; not imported", m.name),
                None,
                None,
            );
            return None;
        };
        Some(Source::Remote {
            url,
            r#ref: r.to_string(),
        })
    }

    /// One catalog configuration entry: Kubestack's kustomization attributes to Plinth's
    /// service keys.
    fn service_entry(&mut self, comp: &mut Comp, label: &str, kept_in: &str, env: &str, e: &Entry) {
        let text = verbatim(self.sources, Some(e.key_at), &e.value);
        if matches!(e.value.kind, NodeKind::Null) {
            return;
        }
        let (key, node): (&str, Option<Node>) = match e.key.as_str() {
            "namespace" | "name_prefix" | "name_suffix" | "common_labels"
            | "common_annotations" => (e.key.as_str(), Some(e.value.clone())),
            "additional_resources" => ("resources", self.paths(&e.value)),
            "replicas" => ("replicas", by_name(&e.value, "count")),
            "images" => ("images", by_name(&e.value, "")),
            "patches" => ("patches", self.patch_paths(&e.value)),
            other => {
                let why = match other {
                    "variant" => "Plinth's catalog entries have one variant".to_string(),
                    "resources" => "it replaces the entry's upstream manifests".to_string(),
                    _ => format!("`{other}` is not a Plinth service key"),
                };
                self.decide(
                    Some(label),
                    Some(env),
                    e.key_at,
                    format!("`{other}`: {why}; left out"),
                    Some(text),
                    Some(kept_in),
                );
                return;
            }
        };
        let Some(node) = node else {
            self.decide(
                Some(label),
                Some(env),
                e.key_at,
                format!("`{}` cannot be converted (a path outside the repository, or an item without a name); left out", e.key),
                Some(text),
                Some(kept_in),
            );
            return;
        };
        let t = Target {
            label,
            keys: service::SERVICE_KEYS,
            release: false,
            drop_empty: false,
            mode: Mode::Shallow,
            kept_in,
        };
        let entry = Entry {
            key: e.key.clone(),
            key_at: e.key_at,
            value: Node {
                comments: e.value.comments.clone(),
                ..node
            },
        };
        let reshaped = matches!(
            e.key.as_str(),
            "replicas" | "images" | "patches" | "additional_resources"
        );
        let original = reshaped.then_some(&e.value);
        self.put(comp, &t, env, false, key, None, &e.key, &entry, original);
    }

    /// A list of paths in the root module, made relative to it (and marked for copying).
    fn paths(&mut self, n: &Node) -> Option<Node> {
        let NodeKind::List(items) = &n.kind else {
            return None;
        };
        let mut out = Vec::new();
        for i in items {
            let rel = normalize_path(i.as_str()?)?;
            if !self.src.join(&rel).exists() {
                return None;
            }
            self.copies.insert(PathBuf::from(&rel));
            out.push(Node::new(NodeKind::Str(rel), i.at));
        }
        Some(Node::new(NodeKind::List(out), n.at))
    }

    fn patch_paths(&mut self, n: &Node) -> Option<Node> {
        let NodeKind::List(items) = &n.kind else {
            return None;
        };
        let mut out = Vec::new();
        for i in items {
            let entries = i.entries()?;
            let mut new = Vec::new();
            for e in entries {
                if matches!(e.value.kind, NodeKind::Null) {
                    continue;
                }
                if e.key == "path" {
                    let rel = normalize_path(e.value.as_str()?)?;
                    if !self.src.join(&rel).is_file() {
                        return None;
                    }
                    self.copies.insert(PathBuf::from(&rel));
                    new.push(Entry {
                        value: Node::new(NodeKind::Str(rel), e.value.at),
                        ..e.clone()
                    });
                } else {
                    new.push(e.clone());
                }
            }
            out.push(Node::new(NodeKind::Map(new), i.at));
        }
        Some(Node::new(NodeKind::List(out), n.at))
    }
}

/// Where the first module that configures `env` names it.
fn env_key_at(configs: &[(&Module<'_>, &Node)], env: &str) -> Option<At> {
    configs
        .iter()
        .find_map(|(_, c)| c.entries()?.iter().find(|e| e.key == env).map(|e| e.key_at))
}

/// The base environment first, then the others in chain order: the order files are written.
fn ordered(envs: &[String], base: &str) -> Vec<String> {
    let mut v = vec![base.to_string()];
    v.extend(envs.iter().filter(|e| *e != base).cloned());
    v
}

/// The dialect a module's configuration is written in, where its shape says: release-era
/// modules take flat strings (`"a,b"` for a list, `"k=v"` for a map) and keep the default pool
/// in the cluster's keys (`cluster_instance_type`); current ones take typed values and a
/// `default_node_pool` table. `None` when the values fit both (only scalars), or contradict.
fn shape_dialect(p: &Provider, config: &Node, role: Role) -> Option<Dialect> {
    let (mut release, mut current) = (false, false);
    let keys = if role == Role::Cluster {
        p.cluster_keys
    } else {
        p.pool_keys
    };
    for env in config.entries().unwrap_or_default() {
        for e in env.value.entries().unwrap_or_default() {
            if role == Role::Cluster && e.key == "default_node_pool" {
                current = true;
                continue;
            }
            if role == Role::Cluster && convert::release_pool_key(p.id, &e.key).is_some() {
                release = true;
                continue;
            }
            // The aws-auth maps are YAML strings in both dialects.
            if e.key.starts_with("cluster_aws_auth_map_") {
                continue;
            }
            let Some(k) = keys::find(keys, &e.key) else {
                continue;
            };
            match (&k.ty, &e.value.kind) {
                (Ty::List(_) | Ty::Map(_) | Ty::Object(_), NodeKind::Str(s)) if !s.is_empty() => {
                    release = true;
                }
                // A release cluster's configuration is a map of strings: it holds no lists or
                // maps (its node-pool modules did take lists of taints).
                (_, NodeKind::List(_) | NodeKind::Map(_)) if role == Role::Cluster => {
                    current = true;
                }
                _ => {}
            }
        }
    }
    match (release, current) {
        (true, false) => Some(Dialect::Release),
        (false, true) => Some(Dialect::Current),
        _ => None,
    }
}

/// The EKS AMI type AWS chose for a node group created without one before Kubernetes 1.30
/// (Kubestack's release modules passed none), by the first instance type.
fn al2_ami_type(instance_type: &str) -> &'static str {
    match crate::provider::eks::classify(instance_type) {
        (crate::provider::Arch::Arm64, _) => "AL2_ARM_64",
        (_, true) => "AL2_x86_64_GPU",
        _ => "AL2_x86_64",
    }
}

/// `"1.29"` → `(1, 29)`.
fn kubernetes_minor(v: &str) -> Option<(u32, u32)> {
    let mut parts = v.trim_start_matches('v').split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// `eks_zero_node_pool_gpu` → `gpu`; `eks_zero_gpu` → `gpu`.
fn pool_key(cluster: &str, module: &str) -> String {
    module
        .strip_prefix(&format!("{cluster}_node_pool_"))
        .or_else(|| module.strip_prefix(&format!("{cluster}_")))
        .filter(|k| !k.is_empty())
        .unwrap_or(module)
        .to_string()
}

/// `eks_zero_custom_manifests` → `custom_manifests`.
fn service_key(cluster: &str, module: &str) -> String {
    module
        .strip_prefix(&format!("{cluster}_"))
        .filter(|k| !k.is_empty())
        .unwrap_or(module)
        .to_string()
}

/// A path in the root module (`./x`, `${path.root}/x` read as `./x`, `x`) relative to it, if
/// it stays inside.
fn normalize_path(p: &str) -> Option<String> {
    let mut p = p;
    while let Some(rest) = p.strip_prefix("./") {
        p = rest;
    }
    let p = p.trim_end_matches('/');
    service::check_relative_path(p).ok()?;
    Some(p.to_string())
}

/// Kubestack's lists of `{ name, ... }` (replicas, images) as Plinth's tables by name: the
/// `value` field (`count`) or, when empty, the rest of the item.
fn by_name(n: &Node, value: &str) -> Option<Node> {
    let NodeKind::List(items) = &n.kind else {
        return None;
    };
    let mut out = Vec::new();
    for i in items {
        let name = i.get("name")?.as_str()?.to_string();
        let v = if value.is_empty() {
            let rest: Vec<Entry> = i
                .entries()?
                .iter()
                .filter(|e| e.key != "name")
                .cloned()
                .collect();
            Node::new(NodeKind::Map(rest), i.at)
        } else {
            i.get(value)?.clone()
        };
        out.push(Entry {
            key: name,
            key_at: i.at,
            value: v,
        });
    }
    Some(Node::new(NodeKind::Map(out), n.at))
}

/// A value as Kubestack has it, on one line: its text when that is one line, else the value
/// itself (a map written over several lines), else the text's first line.
fn value_text(sources: &SourceMap, n: &Node) -> String {
    let text = hcl::snippet(sources, n.at);
    if !text.contains('\n') && !text.is_empty() {
        return text;
    }
    match &n.kind {
        NodeKind::Map(_) | NodeKind::List(_) if !n.has_expr() => n.show(),
        _ => match text.split_once('\n') {
            Some((first, _)) => format!("{} …", first.trim_end()),
            None => n.show(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_from_module_names() {
        assert_eq!(pool_key("eks_zero", "eks_zero_node_pool_gpu"), "gpu");
        assert_eq!(pool_key("eks_zero", "eks_zero_spot"), "spot");
        assert_eq!(pool_key("eks_zero", "other"), "other");
        assert_eq!(service_key("eks_zero", "eks_zero_overlay"), "overlay");
        assert_eq!(
            normalize_path("././manifests/x/"),
            Some("manifests/x".into())
        );
        assert_eq!(normalize_path("../outside"), None);
    }
}
