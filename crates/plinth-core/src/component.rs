//! What clusters, node pools and services share: per-environment `config` tables, an optional
//! inheritance rule, and declared intent.

use crate::diagnostic::{Diagnostic, Diagnostics, suggest};
use crate::environment::{Environments, Intent, Stage};
use crate::inheritance::Mode;
use crate::keys::{self, Key};
use crate::value::{Kind, Origin, Str, Table, Value};
use std::collections::BTreeSet;

/// One environment's configuration of a component, as written (type-checked).
#[derive(Clone, Debug)]
pub struct EnvConfig {
    /// The `config.<env>` key.
    pub origin: Origin,
    pub table: Table,
}

/// Per-environment entries of one component, by environment name: a handful at most, so a
/// sorted vector (a B-tree node per component cost more than the tables it held).
#[derive(Clone, Debug)]
pub struct ByEnv<V> {
    entries: Vec<(Str, V)>,
}

impl<V> Default for ByEnv<V> {
    fn default() -> Self {
        ByEnv {
            entries: Vec::new(),
        }
    }
}

impl<V> ByEnv<V> {
    fn find(&self, env: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|(e, _)| (**e).cmp(env))
    }

    pub fn get(&self, env: &str) -> Option<&V> {
        self.find(env).ok().map(|i| &self.entries[i].1)
    }

    pub fn contains_key(&self, env: &str) -> bool {
        self.find(env).is_ok()
    }

    /// Inserts or replaces; returns the previous entry.
    pub fn insert(&mut self, env: impl Into<Str>, v: V) -> Option<V> {
        let env = env.into();
        match self.find(&env) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, v)),
            Err(i) => {
                // A component has a handful of environments, and tens of thousands of
                // components hold these: no room to grow (issue 20).
                self.entries.reserve_exact(1);
                self.entries.insert(i, (env, v));
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Entries in environment-name order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&Str, &V)> + ExactSizeIterator {
        self.entries.iter().map(|(e, v)| (e, v))
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &Str> + ExactSizeIterator {
        self.entries.iter().map(|(e, _)| e)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> + ExactSizeIterator {
        self.entries.iter().map(|(_, v)| v)
    }
}

/// A component's `config` tables by environment name.
#[derive(Clone, Debug, Default)]
pub struct Configs {
    pub by_env: ByEnv<EnvConfig>,
    /// Keys that failed their type check somewhere: missing-key errors about them would only
    /// repeat the type error.
    pub invalid: BTreeSet<String>,
}

impl Configs {
    pub fn get(&self, env: &str) -> Option<&Table> {
        self.by_env.get(env).map(|c| &c.table)
    }
}

/// The keys every component may carry beside `config`.
#[derive(Clone, Debug, Default)]
pub struct Header {
    pub inheritance: Option<Mode>,
    pub intent: Intent,
    pub description: Option<String>,
    /// Expected load by environment (`load.<env>`, clusters and node pools), for capacity
    /// planning; kept out of `config` because engines apply `config`.
    pub load: crate::advise::declared::DeclaredLoad,
}

/// Reads `config.<env>` tables: environment names must be in the chain, each table is checked
/// against `keys`, and the base environment must be present when any environment is. Under
/// `deep` inheritance (`mode`) a layer's tables need not hold their required fields: they are
/// checked on the resolved value.
pub fn decode_configs(
    what: &str,
    value: Option<Value>,
    component_origin: Origin,
    key_table: &[Key],
    mode: Mode,
    envs: &Environments,
    diags: &mut Diagnostics,
) -> Configs {
    let mut configs = Configs::default();
    let Some(value) = value else { return configs };
    let (origin, type_name) = (value.origin, value.type_name());
    let Kind::Table(table) = value.kind else {
        diags.push(
            Diagnostic::error(
                "wrong-type",
                format!("`config` of {what} must be a table of environments"),
            )
            .at_value(origin, format!("this is a {type_name}"))
            .hint(format!(
                "write `[<component>.config.{}]` tables, one per environment",
                envs.base_name()
            )),
        );
        return configs;
    };
    // Owned, so tagging each value with its environment changes it in place rather than
    // copying the definition.
    for (env_key, v) in table {
        let env = env_key.as_str();
        let Some(index) = envs.index(env) else {
            let chain = envs
                .names()
                .map(|e| format!("`{e}`"))
                .collect::<Vec<_>>()
                .join(", ");
            diags.push(
                Diagnostic::error("unknown-environment", format!("`{env}` is not an environment of this platform ({what})"))
                    .at_key(v.origin, "not in `[platform] environments`")
                    .hint(match crate::diagnostic::did_you_mean(env, envs.names()) {
                        Some(best) => format!("did you mean `{best}`? The environments are {chain}"),
                        None => format!("the environments are {chain}; add `{env}` with `plinth add environment {env}`"),
                    }),
            );
            continue;
        };
        let (v_origin, v_type) = (v.origin, v.type_name());
        let Kind::Table(mut t) = v.kind else {
            diags.push(
                Diagnostic::error(
                    "wrong-type",
                    format!("`config.{env}` of {what} must be a table"),
                )
                .at_value(v_origin, format!("this is a {v_type}")),
            );
            continue;
        };
        for v in t.values_mut() {
            v.tag_env(u16::try_from(index).unwrap_or(Origin::NO_ENV));
        }
        let mut local = Diagnostics::default();
        let checked = keys::check_layer(
            key_table,
            &t,
            keys::Ctx {
                component: what,
                environment: Some(env),
            },
            mode != Mode::Deep,
            &mut local,
        );
        if env != envs.base_name() {
            // What Kubestack would have done with it is the surprising part.
            let silent = "an override of another type than the base's is silently dropped by Kubestack, which would use the base value instead";
            local = local
                .into_iter()
                .map(|d| {
                    if d.code == "wrong-type" && d.hint.is_none() {
                        d.hint(silent)
                    } else {
                        d
                    }
                })
                .fold(Diagnostics::default(), |mut acc, d| {
                    acc.push(d);
                    acc
                });
        }
        for k in t.keys().filter(|k| !checked.contains_key(k)) {
            configs.invalid.insert(k.to_string());
            // A misspelt key (`instance_type`) already got a did-you-mean; do not also report
            // the key it was meant to be as missing.
            if keys::find(key_table, k).is_none()
                && let Some(meant) =
                    crate::diagnostic::did_you_mean(k, key_table.iter().map(|k| k.name))
            {
                configs.invalid.insert(meant.to_string());
            }
        }
        diags.extend(local);
        configs.by_env.insert(
            env_key.clone(),
            EnvConfig {
                origin: v_origin,
                table: checked,
            },
        );
    }
    if !configs.by_env.is_empty() && !configs.by_env.contains_key(envs.base_name()) {
        let first = configs
            .by_env
            .values()
            .next()
            .map_or(component_origin, |c| c.origin);
        diags.push(
            Diagnostic::error(
                "missing-base",
                format!(
                    "{what} has no configuration for the base environment `{}`",
                    envs.base_name()
                ),
            )
            .at_key(
                first,
                "environments inherit from the base, which is missing",
            )
            .label(
                component_origin.file,
                component_origin.key,
                "component defined here",
            )
            .hint(format!(
                "add `config.{}` to {what}: it holds the values every other environment inherits",
                envs.base_name()
            )),
        );
    }
    configs
}

impl Header {
    fn is_empty(&self) -> bool {
        self.inheritance.is_none()
            && self.intent.is_empty()
            && self.description.is_none()
            && self.load.is_empty()
    }

    /// Shared: most node pools declare nothing beside `config`, and a large platform has tens
    /// of thousands of them (one empty header for all, issue 20).
    pub fn shared(self) -> std::sync::Arc<Header> {
        static EMPTY: std::sync::OnceLock<std::sync::Arc<Header>> = std::sync::OnceLock::new();
        if self.is_empty() {
            EMPTY.get_or_init(Default::default).clone()
        } else {
            std::sync::Arc::new(self)
        }
    }
}

/// Reads `inheritance`, `tenant`, `stage`, `workload` and `description` from a component table.
pub fn decode_header(what: &str, table: &Table, diags: &mut Diagnostics) -> Header {
    let mut h = Header::default();
    if let Some(v) = table.get("inheritance") {
        match v.as_str().and_then(Mode::parse) {
            Some(m) => h.inheritance = Some(m),
            None => diags.push(
                Diagnostic::error(
                    "invalid-value",
                    format!("`inheritance` of {what} must be `nested`, `shallow` or `deep`"),
                )
                .at_value(v.origin, "not an inheritance rule")
                .maybe_hint(
                    v.as_str()
                        .and_then(|s| suggest(s, Mode::NAMES.iter().copied())),
                ),
            ),
        }
    }
    h.intent = decode_intent(what, table, diags);
    if let Some(v) = table.get("description") {
        match v.as_str() {
            Some(s) => h.description = Some(s.to_string()),
            None => diags.push(
                Diagnostic::error(
                    "wrong-type",
                    format!("`description` of {what} must be a string"),
                )
                .at_value(v.origin, format!("this is a {}", v.type_name())),
            ),
        }
    }
    h
}

/// Reads `tenant`, `stage` and `workload`.
pub fn decode_intent(what: &str, table: &Table, diags: &mut Diagnostics) -> Intent {
    let mut intent = Intent::default();
    let mut string = |k: &str| -> Option<String> {
        let v = table.get(k)?;
        match &v.kind {
            Kind::String(s) if !s.is_empty() => Some(s.to_string()),
            _ => {
                diags.push(
                    Diagnostic::error(
                        "wrong-type",
                        format!("`{k}` of {what} must be a non-empty string"),
                    )
                    .at_value(v.origin, "expected a name"),
                );
                None
            }
        }
    };
    intent.tenant = string("tenant");
    intent.workload = string("workload");
    if let Some(s) = string("stage") {
        match Stage::parse(&s) {
            Some(st) => intent.stage = Some(st),
            None => {
                let origin = table.get("stage").map_or(Origin::BUILTIN, |v| v.origin);
                diags.push(
                    Diagnostic::error(
                        "invalid-value",
                        format!("`stage` of {what} must be `prod` or `non-prod`"),
                    )
                    .at_value(origin, "not a stage")
                    .maybe_hint(suggest(&s, Stage::NAMES.iter().copied())),
                );
            }
        }
    }
    intent
}

/// Reports keys of a component table that are not among `allowed`, hinting where a
/// configuration key belongs when one was written at the wrong level.
pub fn check_structure(
    what: &str,
    table: &Table,
    allowed: &[&str],
    config_keys: &[Key],
    base: &str,
    diags: &mut Diagnostics,
) {
    for (k, v) in table {
        if allowed.contains(&k.as_str()) {
            continue;
        }
        let hint = if keys::find(config_keys, k).is_some() {
            Some(format!(
                "`{k}` is a configuration key: put it under `config.{base}` (or another environment's `config`)"
            ))
        } else {
            suggest(k, allowed.iter().copied())
        };
        diags.push(
            Diagnostic::error("unknown-key", format!("unknown key `{k}` in {what}"))
                .at_key(v.origin, "not recognised here")
                .maybe_hint(hint),
        );
    }
}

/// Checks a component's key (cluster, pool or service name in the definition).
pub fn check_key(what: &str, key: &str, origin: Origin, diags: &mut Diagnostics) -> bool {
    match crate::environment::check_component_key(key) {
        Ok(()) => true,
        Err(msg) => {
            diags.push(
                Diagnostic::error("invalid-name", format!("{what}: {msg}"))
                    .at_key(origin, "invalid key"),
            );
            false
        }
    }
}
