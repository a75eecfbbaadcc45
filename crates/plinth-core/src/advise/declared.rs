//! Declared load: what a cluster or node pool is expected to run, so `plinth capacity` can say
//! how close each cluster is to the limits of a single Kubernetes cluster, and when it gets
//! there.
//!
//! Written beside `config` (never inside it: `config` is what the engines apply), one table per
//! environment:
//!
//! ```toml
//! [node_pools.default.load.apps]
//! pods = 1200               # expected now
//! containers_per_pod = 2    # average, long-running sidecars included
//! growth_per_month = 150    # pods added per month
//!
//! [node_pools.default.load.ops]
//! pods = 40                 # the rest is inherited from `apps`
//! ```
//!
//! An environment without a table inherits the base environment's whole; an environment's
//! table overrides the base's key by key. Load declared on a cluster runs on its `default`
//! pool: workloads without tolerations land there.

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::environment::Environments;
use crate::keys::{self, Default, Key, Ty};
use crate::value::{Origin, Table, Value};
use std::collections::BTreeMap;

/// The keys of a `load.<env>` table.
pub static LOAD_KEYS: &[Key] = &[
    Key::new("pods", Ty::Integer { min: 0 }, "Pods expected to run now.").default(Default::Int(0)),
    Key::new(
        "containers_per_pod",
        Ty::Number,
        "Average containers per pod, long-running sidecars included (at least 1).",
    )
    .default(Default::Int(1)),
    Key::new(
        "growth_per_month",
        Ty::Integer { min: 0 },
        "Pods added per month (linear growth), to project the month a limit is reached.",
    )
    .default(Default::Int(0)),
];

/// One environment's expected load after inheritance and defaults.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Load {
    pub pods: i64,
    pub containers_per_pod: f64,
    pub growth_per_month: i64,
}

impl Load {
    /// Pods expected `months` from now.
    pub fn pods_at(&self, months: u32) -> i64 {
        self.pods
            .saturating_add(self.growth_per_month.saturating_mul(i64::from(months)))
    }
}

/// `load.<env>` tables of one component, as written (type-checked).
#[derive(Clone, Debug, Default)]
pub struct DeclaredLoad {
    pub by_env: BTreeMap<String, (Origin, Table)>,
}

impl DeclaredLoad {
    pub fn is_empty(&self) -> bool {
        self.by_env.is_empty()
    }

    /// The load in `env`: its own keys, else the base environment's, else the defaults. `None`
    /// when neither declares a table (nothing is known, which is not the same as zero).
    pub fn resolve(&self, env: &str, base: &str) -> Option<Load> {
        let own = self.by_env.get(env).map(|(_, t)| t);
        let inherited = self.by_env.get(base).map(|(_, t)| t);
        if own.is_none() && inherited.is_none() {
            return None;
        }
        let get = |k: &str| -> Option<&Value> {
            own.and_then(|t| t.get(k))
                .or_else(|| inherited.and_then(|t| t.get(k)))
        };
        Some(Load {
            pods: get("pods").and_then(Value::as_i64).unwrap_or(0),
            containers_per_pod: get("containers_per_pod")
                .and_then(Value::as_f64)
                .unwrap_or(1.0),
            growth_per_month: get("growth_per_month").and_then(Value::as_i64).unwrap_or(0),
        })
    }

    /// Where the table that applies to `env` was written, for messages.
    pub fn origin(&self, env: &str, base: &str) -> Option<Origin> {
        self.by_env
            .get(env)
            .or_else(|| self.by_env.get(base))
            .map(|(o, _)| *o)
    }
}

/// Reads the `load` table of a cluster or node pool: environment names must be in the chain and
/// each table is checked against [`LOAD_KEYS`].
pub fn decode(
    what: &str,
    value: Option<&Value>,
    envs: &Environments,
    diags: &mut Diagnostics,
) -> DeclaredLoad {
    let mut out = DeclaredLoad::default();
    let Some(value) = value else { return out };
    let Some(table) = value.as_table() else {
        diags.push(
            Diagnostic::error(
                "wrong-type",
                format!("`load` of {what} must be a table of environments"),
            )
            .at_value(value.origin, format!("this is a {}", value.type_name()))
            .hint(format!(
                "write `[<component>.load.{}]` with `pods = ...`",
                envs.base_name()
            )),
        );
        return out;
    };
    for (env, v) in table {
        if envs.index(env).is_none() {
            let names: Vec<&str> = envs.names().collect();
            diags.push(
                Diagnostic::error(
                    "unknown-environment",
                    format!(
                        "`load.{env}` of {what}: `{env}` is not an environment of this platform"
                    ),
                )
                .at_key(v.origin, "not in `[platform] environments`")
                .maybe_hint(crate::diagnostic::suggest(env, names.iter().copied())),
            );
            continue;
        }
        let Some(t) = v.as_table() else {
            diags.push(
                Diagnostic::error(
                    "wrong-type",
                    format!("`load.{env}` of {what} must be a table"),
                )
                .at_value(v.origin, format!("this is a {}", v.type_name()))
                .hint("write `pods = ...`, `containers_per_pod = ...`, `growth_per_month = ...`"),
            );
            continue;
        };
        let component = format!("`load` of {what}");
        let checked = keys::check_table(
            LOAD_KEYS,
            t,
            keys::Ctx {
                component: &component,
                environment: Some(env),
            },
            diags,
        );
        if let Some(c) = checked.get("containers_per_pod")
            && c.as_f64().is_some_and(|n| !(1.0..=1000.0).contains(&n))
        {
            diags.push(
                Diagnostic::error(
                    "invalid-value",
                    format!("`containers_per_pod` of {what} must be between 1 and 1000"),
                )
                .at_value(c.origin, "every pod runs at least one container"),
            );
        }
        out.by_env.insert(env.to_string(), (v.origin, checked));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::environment::Environment;
    use crate::value::Kind;

    fn envs() -> Environments {
        let e = |n: &str| Environment {
            name: n.into(),
            intent: crate::environment::Intent::default(),
            origin: Origin::BUILTIN,
            local: false,
        };
        Environments {
            chain: vec![e("ops"), e("apps")],
            base: 1,
            local: Vec::new(),
        }
    }

    fn table(pairs: &[(&str, Kind)]) -> Value {
        Value::table(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_string(), Value::builtin(v.clone())))
                .collect(),
        )
    }

    #[test]
    fn environments_inherit_the_base_key_by_key() {
        let mut diags = Diagnostics::default();
        let v = table(&[
            (
                "apps",
                Kind::Table(
                    [
                        ("pods".to_string(), Value::builtin(Kind::Integer(1000))),
                        (
                            "containers_per_pod".to_string(),
                            Value::builtin(Kind::Float(1.5)),
                        ),
                        (
                            "growth_per_month".to_string(),
                            Value::builtin(Kind::Integer(50)),
                        ),
                    ]
                    .into_iter()
                    .collect(),
                ),
            ),
            (
                "ops",
                Kind::Table(
                    [("pods".to_string(), Value::builtin(Kind::Integer(20)))]
                        .into_iter()
                        .collect(),
                ),
            ),
        ]);
        let d = decode("pool", Some(&v), &envs(), &mut diags);
        assert!(diags.is_empty(), "{diags:?}");
        let ops = d.resolve("ops", "apps").expect("ops load");
        assert_eq!(ops.pods, 20);
        assert_eq!(ops.containers_per_pod, 1.5);
        assert_eq!(ops.growth_per_month, 50);
        assert_eq!(ops.pods_at(4), 220);
        assert_eq!(d.resolve("apps", "apps").map(|l| l.pods), Some(1000));
        assert_eq!(DeclaredLoad::default().resolve("apps", "apps"), None);
    }

    #[test]
    fn bad_tables_are_diagnosed() {
        let mut diags = Diagnostics::default();
        let v = table(&[
            ("prod", Kind::Table(Table::new())),
            (
                "apps",
                Kind::Table(
                    [
                        ("pod".to_string(), Value::builtin(Kind::Integer(1))),
                        (
                            "containers_per_pod".to_string(),
                            Value::builtin(Kind::Float(0.5)),
                        ),
                    ]
                    .into_iter()
                    .collect(),
                ),
            ),
        ]);
        decode("pool", Some(&v), &envs(), &mut diags);
        let codes: Vec<_> = diags.iter().map(|d| d.code).collect();
        assert_eq!(
            codes,
            ["unknown-key", "invalid-value", "unknown-environment"]
        );
    }
}
