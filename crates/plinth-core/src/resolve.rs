//! Resolution: every component's configuration for every environment, after inheritance and
//! defaults, with names and metadata — and every problem that only shows after inheritance.

use crate::cluster::{ClusterDef, ResolvedCluster};
use crate::component::Configs;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::inheritance::{self, Mode, Note};
use crate::keys::{self, DefaultCtx, Key};
use crate::naming::{self, NameParts};
use crate::node_pool::ResolvedPool;
use crate::platform::Platform;
use crate::provider::Provider;
use crate::service::{ResolvedService, SERVICE_KEYS};
use crate::value::{Origin, Str, Table, Value};
use std::collections::{BTreeMap, HashMap};

/// The whole platform as one environment sees it.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub environment: String,
    pub clusters: BTreeMap<String, ResolvedCluster>,
}

/// Every environment resolved, and the problems found doing so.
#[derive(Debug)]
pub struct Resolution {
    pub environments: Vec<Resolved>,
    pub diagnostics: Diagnostics,
}

impl Resolution {
    pub fn get(&self, env: &str) -> Option<&Resolved> {
        self.environments.iter().find(|r| r.environment == env)
    }
}

impl Platform {
    /// Resolves every environment. Problems that repeat in several environments (a missing
    /// required key inherited everywhere) are reported once, naming the environments.
    pub fn resolve(&self) -> Resolution {
        let mut agg = Aggregator::default();
        let mut plain = Diagnostics::default();
        let envs: Vec<&str> = self.environments.names().collect();
        let mut out: Vec<Resolved> = envs
            .iter()
            .map(|e| Resolved {
                environment: (*e).to_string(),
                clusters: BTreeMap::new(),
            })
            .collect();
        // Clusters resolve independently: both cores work, each with its own diagnostics, merged
        // back in cluster order so the output is the same as a sequential run.
        use rayon::prelude::*;
        let clusters: Vec<&ClusterDef> = self.clusters.values().collect();
        let mut defaults = Defaults::default();
        defaults.prepare(SERVICE_KEYS, self);
        for c in &clusters {
            defaults.prepare(c.provider.cluster_keys, self);
            defaults.prepare(c.provider.pool_keys, self);
        }
        let per_cluster: Vec<(Vec<ResolvedCluster>, Aggregator, Diagnostics)> = clusters
            .par_iter()
            .map(|cluster| {
                let mut agg = Aggregator::default();
                let mut plain = Diagnostics::default();
                let mut resolved: Vec<ResolvedCluster> = Vec::with_capacity(envs.len());
                for (i, env) in envs.iter().enumerate() {
                    let rc = self.resolve_cluster(
                        cluster, i, env, &resolved, &defaults, &mut agg, &mut plain,
                    );
                    resolved.push(rc);
                }
                (resolved, agg, plain)
            })
            .collect();
        // Built from sorted runs, a map's nodes are full; inserted one by one in order, each
        // node split leaves half of one empty (issue 20).
        let mut by_env: Vec<Vec<(String, ResolvedCluster)>> = envs
            .iter()
            .map(|_| Vec::with_capacity(clusters.len()))
            .collect();
        for (resolved, a, p) in per_cluster {
            for (i, rc) in resolved.into_iter().enumerate() {
                if let Some(env) = by_env.get_mut(i) {
                    env.push((rc.key.clone(), rc));
                }
            }
            agg.merge(a);
            plain.extend(p);
        }
        for (r, env) in out.iter_mut().zip(by_env) {
            r.clusters = env.into_iter().collect();
        }
        for r in &out {
            check_unique_names(self, r, &mut agg);
        }
        check_created_resource_groups(&out, &mut plain);
        let mut diagnostics = plain;
        diagnostics.extend(agg.finish(&envs));
        Resolution {
            environments: out,
            diagnostics,
        }
    }

    // The environments resolved before this one are shared into it, on top of what every
    // environment's resolution takes.
    #[allow(clippy::too_many_arguments)]
    fn resolve_cluster(
        &self,
        c: &ClusterDef,
        env_index: usize,
        env: &str,
        earlier: &[ResolvedCluster],
        defaults: &Defaults,
        agg: &mut Aggregator,
        plain: &mut Diagnostics,
    ) -> ResolvedCluster {
        let s = &self.settings;
        let what = format!("cluster `{}`", c.key);
        let mode = c.header.inheritance.unwrap_or(s.inheritance);
        let mut config = self.resolve_table(&c.configs, env_index, mode, plain, env);
        if mode == Mode::Deep {
            deep_fields(&what, c.provider.cluster_keys, &config, env, agg);
        }
        apply_defaults(defaults.of(c.provider.cluster_keys), &mut config, env, None);
        share(&mut config, earlier.iter().map(|r| &r.config));
        check_required(
            &what,
            c.provider.cluster_keys,
            &config,
            &c.configs,
            c.origin,
            self,
            env,
            agg,
        );

        let get = |k: &str| {
            config
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let region = get("region");
        let label_ns = if c.provider.dash_label_namespace {
            naming::azure_label_namespace(&s.label_namespace)
        } else {
            s.label_namespace.clone()
        };
        let (prefix, base_domain) = (get("name_prefix"), get("base_domain"));
        let parts = NameParts {
            name_prefix: &prefix,
            environment: env,
            region: &region,
            delimiter: &s.name_delimiter,
            base_domain: &base_domain,
            provider_name: c.provider.provider_name,
            label_namespace: &label_ns,
        };
        let mut meta = naming::metadata(&parts);
        if let Some(extra) = config
            .get("additional_metadata_labels")
            .and_then(Value::as_table)
        {
            for (k, v) in extra {
                if let Some(v) = v.as_str() {
                    meta.labels.insert(k.to_string(), v.to_string());
                }
            }
        }
        if !region.is_empty() {
            let name_origin = |k: &str| config.get(k).map_or(c.origin, |v| v.origin);
            let mut problems = naming::check_dns(&meta, &parts);
            if let Err(msg) = (c.provider.check_cluster_name)(&meta.name) {
                problems.push(naming::NameProblem {
                    hint: naming::shorten_hint(&parts, c.provider.max_cluster_name, &meta.name),
                    message: msg,
                });
            }
            for p in problems {
                let mut d = Diagnostic::error("invalid-name", format!("{what}: {}", p.message))
                    .hint(p.hint);
                d = if config
                    .get("name_prefix")
                    .is_some_and(|v| !v.origin.is_builtin())
                {
                    d.at_value(name_origin("name_prefix"), "name_prefix")
                } else {
                    d.at_key(c.origin, "cluster")
                };
                d = d.at_value(name_origin("region"), "region");
                agg.add(env, d);
            }
            for p in naming::check_labels(&meta, &parts) {
                let mut d = Diagnostic::error("invalid-label", format!("{what}: {}", p.message))
                    .hint(p.hint);
                for k in ["base_domain", "name_prefix", "additional_metadata_labels"] {
                    if let Some(v) = config.get(k).filter(|v| !v.origin.is_builtin()) {
                        d = d.at_value(v.origin, k);
                    }
                }
                agg.add(env, d.at_key(c.origin, "cluster"));
            }
        }

        let mut node_pools = BTreeMap::new();
        let mut pool_names: HashMap<String, (&str, Origin)> = HashMap::new();
        for p in c.node_pools.values() {
            let pwhat = format!("node pool `{}.{}`", c.key, p.key);
            let pmode = p.header.inheritance.unwrap_or(mode);
            let mut pc = self.resolve_table(&p.configs, env_index, pmode, plain, env);
            if pmode == Mode::Deep {
                deep_fields(&pwhat, c.provider.pool_keys, &pc, env, agg);
            }
            apply_defaults(
                defaults.of(c.provider.pool_keys),
                &mut pc,
                env,
                Some(&config),
            );
            share(
                &mut pc,
                earlier
                    .iter()
                    .filter_map(|r| Some(&r.node_pools.get(&p.key)?.config)),
            );
            check_required(
                &pwhat,
                c.provider.pool_keys,
                &pc,
                &p.configs,
                p.origin,
                self,
                env,
                agg,
            );
            check_sizes(&pwhat, c.provider, &pc, p.origin, agg, env);
            let name = pc
                .get(c.provider.pool_name_key)
                .and_then(Value::as_str)
                .unwrap_or(&p.key)
                .to_string();
            if let Err(msg) = (c.provider.check_pool_name)(&name) {
                let origin = pc
                    .get(c.provider.pool_name_key)
                    .map_or(p.origin, |v| v.origin);
                agg.add(
                    env,
                    Diagnostic::error("invalid-name", format!("{pwhat}: {msg}"))
                        .at_key(origin, "pool name"),
                );
            }
            if let Some((other, o)) = pool_names.get(&name) {
                agg.add(
                    env,
                    Diagnostic::error(
                        "duplicate-name",
                        format!(
                            "node pools `{other}` and `{}` of cluster `{}` are both named `{name}`",
                            p.key, c.key
                        ),
                    )
                    .at_key(p.origin, "this pool")
                    .at_key(*o, "that pool")
                    .hint(format!(
                        "set a different `{}` on one of them",
                        c.provider.pool_name_key
                    )),
                );
            } else {
                pool_names.insert(name.clone(), (&p.key, p.origin));
            }
            check_label_table(
                &pwhat,
                c.provider.pool_flags.labels,
                &pc,
                p.origin,
                env,
                agg,
            );
            check_taints(
                &pwhat,
                c.provider.pool_flags.taints.0,
                &pc,
                p.origin,
                env,
                agg,
            );
            node_pools.insert(
                p.key.clone(),
                ResolvedPool::new(
                    p.key.clone(),
                    name,
                    pc,
                    p.header.clone(),
                    c.provider,
                    config.clone(),
                ),
            );
        }

        let view = crate::provider::ResolvedView {
            what: &what,
            cluster: &config,
            origin: c.origin,
            pools: &node_pools,
        };
        let mut found = Vec::new();
        (c.provider.check_resolved)(&view, &mut found);
        for d in found {
            agg.add(env, d);
        }

        let mut services = BTreeMap::new();
        for sv in c.services.values() {
            let smode = sv.header.inheritance.unwrap_or(mode);
            let mut sc = self.resolve_table(&sv.configs, env_index, smode, plain, env);
            if smode == Mode::Deep {
                deep_fields(
                    &format!("service `{}.{}`", c.key, sv.key),
                    SERVICE_KEYS,
                    &sc,
                    env,
                    agg,
                );
            }
            apply_defaults(defaults.of(SERVICE_KEYS), &mut sc, env, None);
            check_label_table(
                &format!("service `{}.{}`", c.key, sv.key),
                "common_labels",
                &sc,
                c.origin,
                env,
                agg,
            );
            share(
                &mut sc,
                earlier
                    .iter()
                    .filter_map(|r| Some(&r.services.get(&sv.key)?.config)),
            );
            services.insert(
                sv.key.clone(),
                ResolvedService {
                    key: sv.key.clone(),
                    kind: sv.kind,
                    source: sv.source.clone(),
                    catalog: sv.catalog.clone(),
                    config: sc,
                },
            );
        }

        ResolvedCluster {
            key: c.key.clone(),
            provider: c.provider,
            region,
            meta,
            config,
            node_pools,
            services,
            header: c.header.clone(),
        }
    }

    /// Inheritance for one component in one environment; notes become diagnostics.
    fn resolve_table(
        &self,
        configs: &Configs,
        env_index: usize,
        mode: Mode,
        diags: &mut Diagnostics,
        env: &str,
    ) -> Table {
        let base = configs
            .get(self.environments.base_name())
            .cloned()
            .unwrap_or_default();
        if env_index == self.environments.base {
            return base;
        }
        let Some(own) = configs.get(env) else {
            return base;
        };
        let (table, notes) = inheritance::merge(&base, own, mode);
        for note in notes {
            diags.push(match note {
                Note::EmptyStringInherits { path, origin, inherited } => {
                    let what = match &inherited {
                        Some(v) => format!("it resolves to the base value {v}"),
                        None => "the base does not set it either, so its default applies".to_string(),
                    };
                    let mut d = Diagnostic::warning(
                        "empty-string-inherits",
                        format!("`{path} = \"\"` in environment `{env}` does not clear the value: {what}"),
                    )
                    .at_value(origin, "inherits under `nested`");
                    if let Some(b) = inherited {
                        d = d.at_value(b.origin, "the base value");
                    }
                    d.hint("Kubestack's nested inheritance treats \"\" like null; remove the line, or use `inheritance = \"shallow\"` or `\"deep\"` where \"\" should override")
                }
                Note::TypeMismatch { path, env: eo, base: bo, env_type, base_type } => Diagnostic::error(
                    "type-mismatch",
                    format!("`{path}` is a {env_type} in environment `{env}` but a {base_type} in the base"),
                )
                .at_value(eo, format!("{env_type} here"))
                .at_value(bo, format!("{base_type} in the base"))
                .hint("Kubestack would silently drop this override and use the base value; make both the same type"),
            });
        }
        table
    }
}

/// Holds an earlier environment's table instead of `t` when they are identical (origins
/// included): an environment that overrides nothing of a component then costs nothing. One
/// that overrides a few values holds an earlier table and those values.
fn share<'a>(t: &mut Table, earlier: impl Iterator<Item = &'a Table> + Clone) {
    if let Some(e) = earlier.clone().find(|e| t.identical(e)) {
        *t = e.clone();
    } else if let Some(p) = earlier.into_iter().find_map(|e| t.patched_over(e)) {
        *t = p;
    }
}

/// What fills a key nobody set, prepared once per resolution for each key table.
enum Fill {
    /// A literal default or a `[platform]` setting: made once, shared by every table.
    Value(Value),
    /// The cluster's value of that key (a node pool's zones).
    ClusterKey(&'static str),
    /// Depends on the component's other keys: computed once those are known.
    Later(&'static Key),
}

/// A key table's defaults, sorted by name, so filling a table is one merge of two sorted runs.
struct Prepared {
    /// Which table (compared by address).
    table: &'static [Key],
    fills: Vec<(Str, Fill)>,
}

/// Every key table's [`Prepared`] defaults.
#[derive(Default)]
struct Defaults(Vec<Prepared>);

impl Defaults {
    fn prepare(&mut self, key_table: &'static [Key], p: &Platform) {
        use keys::Default as D;
        if self.0.iter().any(|x| std::ptr::eq(x.table, key_table)) {
            return;
        }
        let mut fills: Vec<(Str, Fill)> = key_table
            .iter()
            .filter_map(|k| {
                let fill = match &k.default {
                    D::Platform(field) => {
                        let s = match *field {
                            "name_prefix" => &p.settings.name_prefix,
                            "base_domain" => &p.settings.base_domain,
                            _ => return None,
                        };
                        let mut v = Value::string(s.as_str());
                        v.origin = p.settings.origin(field);
                        Fill::Value(v)
                    }
                    D::ClusterKey(ck) => Fill::ClusterKey(ck),
                    D::Key(_) | D::Computed(..) => Fill::Later(k),
                    D::None => return None,
                    _ => Fill::Value(Value::builtin(keys::literal_default(k)?)),
                };
                Some((Str::from_static(k.name), fill))
            })
            .collect();
        fills.sort_by(|a, b| a.0.cmp(&b.0));
        self.0.push(Prepared {
            table: key_table,
            fills,
        });
    }

    fn of(&self, key_table: &[Key]) -> &[(Str, Fill)] {
        self.0
            .iter()
            .find(|x| std::ptr::eq(x.table, key_table))
            .map_or(&[], |x| x.fills.as_slice())
    }
}

/// Fills keys nobody set with their documented defaults (after inheritance): the table's own
/// entries and the prepared defaults merged in one pass, then the defaults that depend on
/// other keys (none depends on another computed one).
fn apply_defaults(
    defaults: &[(Str, Fill)],
    config: &mut Table,
    env: &str,
    cluster: Option<&Table>,
) {
    use std::cmp::Ordering;
    let own: Vec<(&Str, &Value)> = config.iter().collect();
    // The fills of absent keys, in order (`None`: to compute later), borrowed: each is cloned
    // once, into the table.
    let mut absent: Vec<(&Str, Option<&Value>)> = Vec::new();
    let mut i = 0;
    for (name, fill) in defaults {
        while i < own.len() && crate::value::cmp_key(own[i].0, name) == Ordering::Less {
            i += 1;
        }
        if i < own.len() && crate::value::cmp_key(own[i].0, name) == Ordering::Equal {
            continue;
        }
        match fill {
            Fill::Value(v) => absent.push((name, Some(v))),
            Fill::ClusterKey(ck) => {
                if let Some(v) = cluster.and_then(|c| c.get(ck)) {
                    absent.push((name, Some(v)));
                }
            }
            Fill::Later(_) => absent.push((name, None)),
        }
    }
    if absent.is_empty() {
        return;
    }
    let later = absent.iter().filter(|(_, v)| v.is_none()).count();
    let mut merged: Vec<(Str, Value)> = Vec::with_capacity(own.len() + absent.len());
    let (mut own_it, mut abs_it) = (own.iter().peekable(), absent.iter().peekable());
    loop {
        let next_own = match (own_it.peek(), abs_it.peek()) {
            (Some((ko, _)), Some((ka, _))) => crate::value::cmp_key(ko, ka) == Ordering::Less,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        if next_own {
            if let Some((k, v)) = own_it.next() {
                merged.push(((*k).clone(), (*v).clone()));
            }
        } else if let Some((k, v)) = abs_it.next()
            && let Some(v) = v
        {
            merged.push(((*k).clone(), (*v).clone()));
        }
    }
    *config = Table::from_sorted(merged);
    if later == 0 {
        return;
    }
    let ctx = DefaultCtx {
        environment: env,
        config,
    };
    let computed: Vec<(Str, Value)> = defaults
        .iter()
        .filter_map(|(name, fill)| match fill {
            Fill::Later(k) if !ctx.config.contains_key(name) => {
                Some((name.clone(), keys::default_value(k, &ctx)?))
            }
            _ => None,
        })
        .collect();
    for (k, v) in computed {
        // Room was left for them: no reallocation.
        config.insert(k, v);
    }
}

/// Under `deep` inheritance the layers may each hold part of a table; the resolved value must
/// hold its required fields (`keys::check_layer` left them to this check).
fn deep_fields(what: &str, key_table: &[Key], config: &Table, env: &str, agg: &mut Aggregator) {
    for (name, value) in config {
        let Some(k) = keys::find(key_table, name) else {
            continue;
        };
        let mut found = Diagnostics::default();
        keys::missing_fields(&k.ty, value, name, &mut found);
        for d in found.into_iter() {
            let message = format!("{what}: {} after `deep` inheritance", d.message);
            agg.add(env, Diagnostic { message, ..d });
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn check_required(
    what: &str,
    key_table: &[Key],
    config: &Table,
    configs: &Configs,
    origin: Origin,
    p: &Platform,
    env: &str,
    agg: &mut Aggregator,
) {
    let base = p.environments.base_name();
    if !configs.by_env.is_empty() && !configs.by_env.contains_key(base) {
        return; // the missing base is reported; every missing key would only repeat it
    }
    for k in key_table.iter().filter(|k| k.required) {
        if config.contains_key(k.name) || configs.invalid.contains(k.name) {
            continue;
        }
        let at = configs.by_env.get(base).map_or(origin, |c| c.origin);
        agg.add(
            env,
            Diagnostic::error(
                "missing-key",
                format!("required key `{}` of {what} is missing", k.name),
            )
            .at_key(at, format!("`{}` is not set here nor inherited", k.name))
            .hint(format!(
                "set `{}` in `config.{base}` (inherited by every environment): {}",
                k.name, k.doc
            )),
        );
    }
}

/// min ≤ initial ≤ max, per environment, pointing at both values wherever they were written
/// (at the pool, `origin`, where both are defaults).
fn check_sizes(
    what: &str,
    provider: &Provider,
    config: &Table,
    origin: Origin,
    agg: &mut Aggregator,
    env: &str,
) {
    let Some(sk) = &provider.size_keys else {
        return;
    };
    let get = |k: &str| {
        config
            .get(k)
            .and_then(|v| v.as_i64().map(|i| (i, v.origin)))
    };
    let autoscaling = config
        .get("enable_auto_scaling")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    if !autoscaling {
        return;
    }
    if provider.id == "aks" && get(sk.max).is_none() {
        let d = Diagnostic::error(
            "missing-key",
            format!("{what}: `max_count` is required while `enable_auto_scaling` is true"),
        );
        // Autoscaling is on by default: then the pool itself is the place to point at.
        let d = match config.get("enable_auto_scaling") {
            Some(v) if !v.origin.is_builtin() => d.at_value(v.origin, "autoscaling"),
            _ => d.at_key(origin, "autoscales by default"),
        };
        agg.add(
            env,
            d.hint("set `max_count`, or `enable_auto_scaling = false` with a fixed `node_count`"),
        );
    }
    let pairs = [
        (Some(sk.min), Some(sk.max)),
        (Some(sk.min), sk.initial),
        (sk.initial, Some(sk.max)),
    ];
    for (lo, hi) in pairs {
        let (Some(lo), Some(hi)) = (lo, hi) else {
            continue;
        };
        let (Some((a, ao)), Some((b, bo))) = (get(lo), get(hi)) else {
            continue;
        };
        // A default derived from another key (initial size = min) repeats that key's problem.
        let derived = |k: &str, o: Origin| Some(k) == sk.initial && o.is_builtin();
        if a > b && !derived(lo, ao) && !derived(hi, bo) {
            let side = |o: Origin| if o.is_builtin() { " (default)" } else { "" };
            let mut d = Diagnostic::error(
                "inconsistent-sizes",
                format!("{what}: `{lo}` ({a}) is above `{hi}` ({b})"),
            )
            .at_value(ao, format!("`{lo}` = {a}{}", side(ao)))
            .at_value(bo, format!("`{hi}` = {b}{}", side(bo)));
            if ao.is_builtin() && bo.is_builtin() {
                d = d.at_key(origin, "both sizes are defaults");
            }
            agg.add(
                env,
                d.hint(format!("keep `{lo}` ≤ `{hi}` in every environment; an override of one often needs the other overridden too")),
            );
        }
    }
}

/// Points at a value someone wrote, or at the component when it is a default.
fn at_value_or(d: Diagnostic, value: Origin, component: Origin, text: &str) -> Diagnostic {
    if value.is_builtin() {
        d.at_key(component, text.to_string())
    } else {
        d.at_value(value, text.to_string())
    }
}

/// Kubernetes labels written in a component's `key` table (node labels, a service's common
/// labels): keys and values as the API server accepts them.
fn check_label_table(
    what: &str,
    key: &str,
    config: &Table,
    origin: Origin,
    env: &str,
    agg: &mut Aggregator,
) {
    let Some(labels) = config.get(key).and_then(Value::as_table) else {
        return;
    };
    for (k, v) in labels {
        if let Err(e) = naming::check_label_key(k) {
            let d = Diagnostic::error(
                "invalid-label",
                format!("{what}: `{k}` in `{key}` is not a Kubernetes label key: {e}"),
            )
            .hint("label keys are `[prefix/]name`: a lowercase DNS prefix and a name of at most 63 characters");
            agg.add(env, at_value_or(d, v.origin, origin, "this label"));
        }
        if let Some(s) = v.as_str()
            && let Err(e) = naming::check_label_value(s)
        {
            let d = Diagnostic::error(
                "invalid-label",
                format!("{what}: the value of label `{k}` in `{key}` is {e}"),
            )
            .hint("shorten the value to at most 63 letters, digits, `-`, `_` and `.`");
            agg.add(env, at_value_or(d, v.origin, origin, "this value"));
        }
    }
}

/// `{ key, value, effect }` taints (EKS, GKE, kind): keys follow the label key rules and values
/// the label value rules (AKS's `key=value:Effect` strings are checked by their key table).
fn check_taints(
    what: &str,
    key: &str,
    config: &Table,
    origin: Origin,
    env: &str,
    agg: &mut Aggregator,
) {
    let Some(taints) = config.get(key).and_then(Value::as_array) else {
        return;
    };
    for t in taints {
        let Some(tab) = t.as_table() else { continue };
        let field = |f: &str| tab.get(f).and_then(Value::as_str).unwrap_or_default();
        let (k, v) = (field("key"), field("value"));
        let problem = naming::check_label_key(k)
            .map_err(|e| format!("its key `{k}` is not a Kubernetes label key: {e}"))
            .and_then(|()| {
                naming::check_label_value(v).map_err(|e| format!("its value `{v}` is {e}"))
            });
        if let Err(e) = problem {
            let d = Diagnostic::error(
                "invalid-taint",
                format!("{what}: a taint in `{key}` is refused by Kubernetes: {e}"),
            )
            .hint("taint keys are `[prefix/]name` like label keys; values have at most 63 letters, digits, `-`, `_` and `.`");
            agg.add(env, at_value_or(d, t.origin, origin, "this taint"));
        }
    }
}

fn check_unique_names(p: &Platform, r: &Resolved, agg: &mut Aggregator) {
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for (key, c) in &r.clusters {
        if c.region.is_empty() {
            continue;
        }
        if let Some(other) = seen.get(c.meta.name.as_str()) {
            let o1 = p.clusters.get(*other).map_or(Origin::BUILTIN, |d| d.origin);
            let o2 = p.clusters.get(key).map_or(Origin::BUILTIN, |d| d.origin);
            agg.add(
                &r.environment,
                Diagnostic::error(
                    "duplicate-name",
                    format!("clusters `{other}` and `{key}` resolve to the same name `{}`", c.meta.name),
                )
                .at_key(o1, "this cluster")
                .at_key(o2, "and this one")
                .hint("give one of them a different `name_prefix` or region: two clusters cannot share a name"),
            );
        } else {
            seen.insert(&c.meta.name, key);
        }
    }
}

/// An Azure resource group that Plinth creates belongs to one cluster in one environment: a
/// second one creating it (or using it) would fail to apply, or delete it with the first.
/// Resource group names are case-insensitive.
fn check_created_resource_groups(out: &[Resolved], diags: &mut Diagnostics) {
    struct Use<'a> {
        env: &'a str,
        cluster: &'a str,
        creates: bool,
        origin: Origin,
    }
    let mut groups: BTreeMap<String, Vec<Use<'_>>> = BTreeMap::new();
    for r in out {
        for c in r.clusters.values().filter(|c| c.provider.id == "aks") {
            let Some(v) = c.config.get("resource_group") else {
                continue;
            };
            let Some(name) = v.as_str() else { continue };
            let creates = c
                .config
                .get("create_resource_group")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            groups.entry(name.to_lowercase()).or_default().push(Use {
                env: &r.environment,
                cluster: &c.key,
                creates,
                origin: v.origin,
            });
        }
    }
    for (name, uses) in groups {
        let Some(creator) = uses.iter().find(|u| u.creates) else {
            continue;
        };
        let others: Vec<&Use<'_>> = uses
            .iter()
            .filter(|u| !(u.env == creator.env && u.cluster == creator.cluster))
            .collect();
        if others.is_empty() {
            continue;
        }
        let list = others
            .iter()
            .map(|u| format!("cluster `{}` in `{}`", u.cluster, u.env))
            .collect::<Vec<_>>()
            .join(", ");
        let mut d = Diagnostic::error(
            "shared-resource-group",
            format!(
                "resource group `{name}` is created by cluster `{}` in environment `{}` and also used by {list}",
                creator.cluster, creator.env
            ),
        )
        .at_value(creator.origin, "created here (`create_resource_group = true`)");
        for u in others.iter().filter(|u| u.origin != creator.origin) {
            d = d.at_value(u.origin, format!("`{}`", u.env));
        }
        diags.push(d.hint("a group Plinth creates belongs to one cluster in one environment: set `resource_group` in each environment's `config` (e.g. `<prefix>-<environment>-<region>`), or leave `create_resource_group` unset to use existing groups"));
    }
}

/// Code, message and label positions: what makes two environments' diagnostics the same.
type AggKey = (String, String, Vec<(u32, u32, u32)>);

/// Collects diagnostics per environment and reports identical ones once, naming the environments.
#[derive(Default)]
struct Aggregator {
    items: Vec<(Diagnostic, Vec<String>)>,
    index: HashMap<AggKey, usize>,
}

impl Aggregator {
    fn add(&mut self, env: &str, d: Diagnostic) {
        let key = (
            d.code.to_string(),
            d.message.clone(),
            d.labels
                .iter()
                .map(|l| (l.file.0, l.span.start, l.span.end))
                .collect(),
        );
        match self.index.get(&key) {
            Some(&i) => self.items[i].1.push(env.to_string()),
            None => {
                self.index.insert(key, self.items.len());
                self.items.push((d, vec![env.to_string()]));
            }
        }
    }

    /// Adds another aggregator's diagnostics after this one's.
    fn merge(&mut self, other: Aggregator) {
        for (d, envs) in other.items {
            for env in envs {
                self.add(&env, d.clone());
            }
        }
    }

    fn finish(self, all: &[&str]) -> Diagnostics {
        let mut out = Diagnostics::default();
        for (mut d, envs) in self.items {
            let quoted = envs
                .iter()
                .map(|e| format!("`{e}`"))
                .collect::<Vec<_>>()
                .join(", ");
            d.message = if envs.len() == all.len() && all.len() > 1 {
                format!("{} in every environment", d.message)
            } else if envs.len() == 1 {
                format!("{} in environment {quoted}", d.message)
            } else {
                format!("{} in environments {quoted}", d.message)
            };
            out.push(d);
        }
        out
    }
}

impl Resolved {
    /// The `show --output json` shape, as a value (the record keeps it; plans compare it).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(ShowJson(self)).unwrap_or_default()
    }
}

/// The `show --output json` document of one environment, written straight to a serializer
/// (the one definition of its shape): at 500 clusters it is 26 MB, and building it as a value
/// first doubled the memory.
pub struct ShowJson<'a>(pub &'a Resolved);

impl serde::Serialize for ShowJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut m = s.serialize_struct("Resolved", 2)?;
        m.serialize_field("environment", &self.0.environment)?;
        m.serialize_field("clusters", &ClustersJson(&self.0.clusters))?;
        m.end()
    }
}

/// Writes `show --output json` of `envs` (an array of them, or the one document when
/// `as_array` is false): exactly what serializing [`ShowJson`] with `serde_json`'s pretty
/// printer writes, with the clusters serialized on every core a few at a time, so the output
/// streams in order while no more than a window of it is held.
pub fn write_show_json<W: std::io::Write + ?Sized>(
    out: &mut W,
    envs: &[&Resolved],
    as_array: bool,
) -> std::io::Result<()> {
    // Clusters serialized together by one task, and tasks in flight: enough to keep both cores
    // busy, few enough that the buffers stay small next to the resolution (256 clusters in
    // flight held 2.8 MB of JSON at the fleet's peak (heaptrack); with 16 the fleet's process
    // peaks 2 MiB lower, and no slower within this machine's noise).
    write_show_json_in(out, envs, as_array, 4, 4)
}

fn write_show_json_in<W: std::io::Write + ?Sized>(
    out: &mut W,
    envs: &[&Resolved],
    as_array: bool,
    chunk_len: usize,
    window_len: usize,
) -> std::io::Result<()> {
    use rayon::prelude::*;
    let json_str = |s: &str| serde_json::to_vec(s).map_err(std::io::Error::from);
    let pad = |n: usize| "  ".repeat(n);
    // Nesting: [array] > environment > "clusters" > cluster.
    let base = usize::from(as_array);
    if as_array {
        out.write_all(b"[")?;
    }
    for (e, r) in envs.iter().enumerate() {
        if as_array {
            out.write_all(if e == 0 { b"\n" } else { b",\n" })?;
            out.write_all(pad(base).as_bytes())?;
        }
        let inner = pad(base + 1);
        write!(out, "{{\n{inner}\"environment\": ")?;
        out.write_all(&json_str(&r.environment)?)?;
        write!(out, ",\n{inner}\"clusters\": {{")?;
        let clusters: Vec<(&String, &ResolvedCluster)> = r.clusters.iter().collect();
        for (w, window) in clusters.chunks(chunk_len * window_len).enumerate() {
            let parts: Vec<std::io::Result<Vec<u8>>> = window
                .par_chunks(chunk_len)
                .enumerate()
                .map(|(c, chunk)| {
                    let mut buf = Vec::new();
                    for (i, (key, cluster)) in chunk.iter().enumerate() {
                        let first = w == 0 && c == 0 && i == 0;
                        buf.extend_from_slice(if first { b"\n" } else { b",\n" });
                        buf.extend_from_slice(pad(base + 2).as_bytes());
                        buf.extend_from_slice(&json_str(key)?);
                        buf.extend_from_slice(b": ");
                        let nested = Nested {
                            level: base + 2,
                            has_value: false,
                        };
                        let mut json = serde_json::Serializer::with_formatter(&mut buf, nested);
                        serde::Serialize::serialize(&ClusterJson(cluster), &mut json)?;
                    }
                    Ok(buf)
                })
                .collect();
            for part in parts {
                out.write_all(&part?)?;
            }
        }
        if !clusters.is_empty() {
            write!(out, "\n{inner}")?;
        }
        write!(out, "}}\n{}}}", pad(base))?;
    }
    if as_array {
        out.write_all(if envs.is_empty() { b"]" } else { b"\n]" })?;
    }
    Ok(())
}

/// `serde_json`'s pretty printer (two spaces), starting `level` deep: a cluster serialized on
/// its own reads as it would inside the whole document.
struct Nested {
    level: usize,
    has_value: bool,
}

impl Nested {
    fn newline<W: std::io::Write + ?Sized>(&self, w: &mut W, comma: bool) -> std::io::Result<()> {
        const SPACES: &[u8] = &[b' '; 64];
        w.write_all(if comma { b",\n" } else { b"\n" })?;
        let mut n = self.level * 2;
        while n > 0 {
            let k = n.min(SPACES.len());
            w.write_all(&SPACES[..k])?;
            n -= k;
        }
        Ok(())
    }

    /// An array or object opens: one level deeper, nothing in it yet.
    fn open<W: std::io::Write + ?Sized>(
        &mut self,
        w: &mut W,
        bracket: &[u8],
    ) -> std::io::Result<()> {
        self.level += 1;
        self.has_value = false;
        w.write_all(bracket)
    }

    /// It closes on a line of its own, unless it is empty.
    fn close<W: std::io::Write + ?Sized>(
        &mut self,
        w: &mut W,
        bracket: &[u8],
    ) -> std::io::Result<()> {
        self.level -= 1;
        if self.has_value {
            self.newline(w, false)?;
        }
        w.write_all(bracket)
    }
}

impl serde_json::ser::Formatter for Nested {
    fn begin_array<W: std::io::Write + ?Sized>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"[")
    }
    fn end_array<W: std::io::Write + ?Sized>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"]")
    }
    fn begin_array_value<W: std::io::Write + ?Sized>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.newline(w, !first)
    }
    fn end_array_value<W: std::io::Write + ?Sized>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
    fn begin_object<W: std::io::Write + ?Sized>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"{")
    }
    fn end_object<W: std::io::Write + ?Sized>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"}")
    }
    fn begin_object_key<W: std::io::Write + ?Sized>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.newline(w, !first)
    }
    fn begin_object_value<W: std::io::Write + ?Sized>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }
    fn end_object_value<W: std::io::Write + ?Sized>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

struct ClustersJson<'a>(&'a BTreeMap<String, ResolvedCluster>);

impl serde::Serialize for ClustersJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, c)| (k, ClusterJson(c))))
    }
}

/// One cluster of the `show --output json` document.
struct ClusterJson<'a>(&'a ResolvedCluster);

impl serde::Serialize for ClusterJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        #[derive(serde::Serialize)]
        struct Pool<'a> {
            name: &'a str,
            config: &'a Table,
        }
        #[derive(serde::Serialize)]
        struct Service<'a> {
            kind: &'a crate::service::ServiceKind,
            source: &'a crate::service::Source,
            config: &'a Table,
        }
        let c = self.0;
        let mut m = s.serialize_struct("Cluster", 11)?;
        m.serialize_field("name", &c.meta.name)?;
        m.serialize_field("domain", &c.meta.domain)?;
        m.serialize_field("fqdn", &c.meta.fqdn)?;
        m.serialize_field("provider", &c.provider.id)?;
        m.serialize_field("provider_name", &c.provider.provider_name)?;
        m.serialize_field("region", &c.region)?;
        m.serialize_field("labels", &c.meta.labels)?;
        m.serialize_field("tags", &c.meta.tags)?;
        m.serialize_field("config", &c.config)?;
        let pools: BTreeMap<&String, Pool<'_>> = c
            .node_pools
            .iter()
            .map(|(k, p)| {
                (
                    k,
                    Pool {
                        name: &p.name,
                        config: &p.config,
                    },
                )
            })
            .collect();
        m.serialize_field("node_pools", &pools)?;
        let services: BTreeMap<&String, Service<'_>> = c
            .services
            .iter()
            .map(|(k, sv)| {
                (
                    k,
                    Service {
                        kind: &sv.kind,
                        source: &sv.source,
                        config: &sv.config,
                    },
                )
            })
            .collect();
        m.serialize_field("services", &services)?;
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The streamed, parallel writer gives serde_json's pretty document byte for byte: one
    /// environment or all, windows of any size, and environments without clusters.
    #[test]
    fn show_json_is_written_as_serde_json_writes_it() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("p");
        let ex = crate::scaffold::example("multi-cloud").expect("example");
        crate::scaffold::init(&dir, ex, "p").expect("init");
        let resolution = crate::check(&dir).resolution.expect("resolves");
        let mut empty = resolution.environments[0].clone();
        empty.clusters.clear();
        let all: Vec<&Resolved> = resolution.environments.iter().chain([&empty]).collect();
        for envs in [&all[..], &all[..1], &all[3..], &[]] {
            let docs: Vec<ShowJson<'_>> = envs.iter().map(|r| ShowJson(r)).collect();
            let expected = serde_json::to_vec_pretty(&docs).expect("json");
            for (chunk, window) in [(1, 1), (1, 2), (2, 1), (16, 16)] {
                let mut got = Vec::new();
                write_show_json_in(&mut got, envs, true, chunk, window).expect("write");
                assert_eq!(
                    String::from_utf8_lossy(&got),
                    String::from_utf8_lossy(&expected)
                );
            }
            if let [one] = envs {
                let expected = serde_json::to_vec_pretty(&ShowJson(one)).expect("json");
                let mut got = Vec::new();
                write_show_json_in(&mut got, envs, false, 1, 2).expect("write");
                assert_eq!(
                    String::from_utf8_lossy(&got),
                    String::from_utf8_lossy(&expected)
                );
            }
        }
    }

    use proptest::prelude::*;

    /// The codes and messages `validate` reports for a GKE platform whose `gpu` pool has
    /// `apps` (base) and `ops` configs as given, under `mode`.
    fn problems(mode: &str, apps: &str, ops: &str) -> Vec<String> {
        let root = format!("[platform]\ninheritance = \"{mode}\"\n");
        let cluster = format!(
            "provider = \"gke\"\n[config.apps]\nproject_id = \"p\"\nregion = \"europe-west1\"\n\
             [node_pools.default.config.apps]\nmachine_type = \"e2-standard-4\"\nmax_node_count = 2\n\
             [node_pools.gpu.config.apps]\nmachine_type = \"g2-standard-8\"\nmax_node_count = 2\n{apps}\n\
             [node_pools.gpu.config.ops]\n{ops}\n"
        );
        crate::test_support::errors(&root, "gke_zero", &cluster)
    }

    const COMPLETE: &str = "guest_accelerator = { type = \"nvidia-l4\", count = 1, gpu_sharing_config = { gpu_sharing_strategy = \"TIME_SHARING\", max_shared_clients_per_gpu = 2 } }";
    const PARTIAL: &str =
        "guest_accelerator = { gpu_sharing_config = { max_shared_clients_per_gpu = 8 } }";

    /// Issue 18: under `deep`, an environment's partial table over a complete base was refused
    /// for fields the merge supplies.
    #[test]
    fn deep_inheritance_checks_required_fields_on_the_resolved_value() {
        assert_eq!(problems("deep", COMPLETE, PARTIAL), Vec::<String>::new());
        // Kubestack's per-layer rule stays for `nested` and `shallow`.
        for mode in ["nested", "shallow"] {
            let p = problems(mode, COMPLETE, PARTIAL);
            assert!(
                p.iter().any(|m| m.contains("needs the field `type`")),
                "{mode}: {p:?}"
            );
        }
        // What no layer supplies is still missing, once, naming the environment.
        let p = problems(
            "deep",
            "guest_accelerator = { type = \"nvidia-l4\" }",
            PARTIAL,
        );
        assert!(
            p.iter().any(|m| m.starts_with("missing-key")
                && m.contains("`guest_accelerator` needs the field `count`")
                && m.contains("after `deep` inheritance")),
            "{p:?}"
        );
        // List items replace whole, so each layer's items are complete.
        let p = problems("deep", "", "taints = [{ key = \"gpu\", value = \"yes\" }]");
        assert!(
            p.iter().any(|m| m.contains("needs the field `effect`")),
            "{p:?}"
        );
    }

    /// One required field of the accelerator or its sharing config, and where it is written.
    #[derive(Clone, Copy, Debug)]
    enum Layer {
        Base,
        Env,
        Both,
        Neither,
    }

    fn layer() -> impl Strategy<Value = Layer> {
        prop_oneof![
            Just(Layer::Base),
            Just(Layer::Env),
            Just(Layer::Both),
            Just(Layer::Neither)
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Under `deep`, the required fields of a table split across the base and an
        /// environment are checked on each environment's merge: the base resolves to itself, so
        /// exactly the fields missing from the base are reported, whatever the environment
        /// holds of the table.
        #[test]
        fn deep_reports_exactly_the_fields_no_merge_supplies(
            layers in proptest::collection::vec(layer(), 4)
        ) {
            let fields = [
                ("type", "type = \"nvidia-l4\""),
                ("count", "count = 1"),
                ("gpu_sharing_strategy", "gpu_sharing_strategy = \"MPS\""),
                ("max_shared_clients_per_gpu", "max_shared_clients_per_gpu = 4"),
            ];
            let (mut base, mut env) = (vec![Vec::new(), Vec::new()], vec![Vec::new(), Vec::new()]);
            for (i, ((_, text), l)) in fields.iter().zip(&layers).enumerate() {
                let at = usize::from(i >= 2);
                if matches!(l, Layer::Base | Layer::Both) {
                    base[at].push(text.to_string());
                }
                if matches!(l, Layer::Env | Layer::Both) {
                    env[at].push(text.to_string());
                }
            }
            let table = |t: &[Vec<String>]| {
                let mut parts = t[0].clone();
                parts.push(format!("gpu_sharing_config = {{ {} }}", t[1].join(", ")));
                format!("guest_accelerator = {{ {} }}", parts.join(", "))
            };
            let p = problems("deep", &table(&base), &table(&env));
            for ((name, _), l) in fields.iter().zip(&layers) {
                let reported = p.iter().any(|m| m.contains(&format!("needs the field `{name}`")));
                let in_base = matches!(l, Layer::Base | Layer::Both);
                prop_assert_eq!(reported, !in_base, "{}: {:?}", name, p);
            }
            prop_assert!(p.iter().all(|m| m.starts_with("missing-key")), "{:?}", p);
        }
    }
}
