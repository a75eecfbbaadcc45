//! Per-environment inheritance: how a component's base configuration and one environment's
//! overrides combine.
//!
//! Three rules, selected by `inheritance` on the platform, a cluster, a node pool or a service:
//!
//! * [`Mode::Nested`] (default) is Kubestack's current rule: one level of table merge; an empty
//!   string inherits (it is treated like null); lists are replaced whole; `false`, `0` and `[]`
//!   override.
//! * [`Mode::Shallow`] is Kubestack's release rule: any value set replaces the base value whole.
//! * [`Mode::Deep`] is Plinth's own: tables merge at every depth; scalars and lists replace.
//!
//! In every mode the resolved key set is the union of both tables' keys (TOML has no null, so an
//! absent key is Kubestack's null and inherits). Values keep their [`Origin`], so where each part
//! of a resolved value came from can be traced.

use crate::value::{Kind, Origin, Table, Value};

#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Nested,
    Shallow,
    Deep,
}

impl Mode {
    pub const NAMES: &'static [&'static str] = &["nested", "shallow", "deep"];

    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "nested" => Some(Mode::Nested),
            "shallow" => Some(Mode::Shallow),
            "deep" => Some(Mode::Deep),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Nested => "nested",
            Mode::Shallow => "shallow",
            Mode::Deep => "deep",
        }
    }
}

/// Something about a merge worth telling the user; the merged result does not depend on it.
#[derive(Clone, Debug, PartialEq)]
pub enum Note {
    /// An environment set `""`, which under `nested` inherits the base value instead of clearing it.
    EmptyStringInherits {
        path: String,
        origin: Origin,
        inherited: Option<Value>,
    },
    /// Override and base have different types; Kubestack would silently keep the base value.
    TypeMismatch {
        path: String,
        env: Origin,
        base: Origin,
        env_type: &'static str,
        base_type: &'static str,
    },
}

/// Resolves one environment of a component: `env` over `base` under `mode`.
pub fn merge(base: &Table, env: &Table, mode: Mode) -> (Table, Vec<Note>) {
    let mut notes = Vec::new();
    let out = merge_tables(base, env, mode, 0, "", &mut notes);
    (out, notes)
}

/// Resolves one environment, without notes.
pub fn resolve(base: &Table, env: &Table, mode: Mode) -> Table {
    merge(base, env, mode).0
}

fn is_empty_string(v: &Value) -> bool {
    matches!(&v.kind, Kind::String(s) if s.is_empty())
}

/// Integers and floats are one type (Terraform's `number`); everything else must match. A
/// sensitive value (`{ sensitive = true, ... }`) stands for a scalar: its key's type decides.
fn same_type(a: &Value, b: &Value) -> bool {
    a.sensitive().is_some()
        || b.sensitive().is_some()
        || matches!(
            (&a.kind, &b.kind),
            (Kind::String(_), Kind::String(_))
                | (
                    Kind::Integer(_) | Kind::Float(_),
                    Kind::Integer(_) | Kind::Float(_)
                )
                | (Kind::Boolean(_), Kind::Boolean(_))
                | (Kind::Array(_), Kind::Array(_))
                | (Kind::Table(_), Kind::Table(_))
        )
}

/// Sensitive values replace each other whole: they are one value, not tables to merge.
fn atomic(b: Option<&Value>, e: &Value) -> bool {
    e.sensitive().is_some() || b.is_some_and(|b| b.sensitive().is_some())
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

fn merge_tables(
    base: &Table,
    env: &Table,
    mode: Mode,
    depth: usize,
    prefix: &str,
    notes: &mut Vec<Note>,
) -> Table {
    let mut out = base.clone();
    for (k, e) in env {
        let path = join(prefix, k);
        let b = base.get(k);
        if let Some(b) = b
            && !(same_type(e, b) || mode == Mode::Nested && is_empty_string(e))
        {
            notes.push(Note::TypeMismatch {
                path,
                env: e.origin,
                base: b.origin,
                env_type: e.type_name(),
                base_type: b.type_name(),
            });
            continue; // the base value stays, as in Kubestack; the note makes it an error.
        }
        match resolve_one(b, e, mode, depth, &path, notes) {
            Some(v) => {
                out.insert(k.clone(), v);
            }
            None => {
                out.remove(k);
            }
        }
    }
    out
}

/// The resolved value of one key given the base value (if any) and the environment's value.
fn resolve_one(
    b: Option<&Value>,
    e: &Value,
    mode: Mode,
    depth: usize,
    path: &str,
    notes: &mut Vec<Note>,
) -> Option<Value> {
    match mode {
        Mode::Shallow => Some(e.clone()),
        Mode::Deep => match (b.map(|b| &b.kind), &e.kind) {
            (Some(Kind::Table(bt)), Kind::Table(et)) if !atomic(b, e) => Some(Value {
                kind: Kind::Table(merge_tables(bt, et, mode, depth + 1, path, notes)),
                origin: e.origin,
            }),
            _ => Some(e.clone()),
        },
        Mode::Nested => {
            if is_empty_string(e) {
                notes.push(Note::EmptyStringInherits {
                    path: path.to_string(),
                    origin: e.origin,
                    inherited: b.cloned(),
                });
                // "the first of (env, base) that is neither null nor empty, else base".
                return b.cloned();
            }
            match (b.map(|b| &b.kind), &e.kind) {
                (Some(Kind::Table(bt)), Kind::Table(et)) if depth == 0 && !atomic(b, e) => {
                    // One level deep: nested keys pick env unless null or "", tables below replace.
                    let mut merged = bt.clone();
                    for (n, ev) in et {
                        let npath = join(path, n);
                        let bv = bt.get(n);
                        if let Some(bv) = bv
                            && !(same_type(ev, bv) || is_empty_string(ev))
                        {
                            notes.push(Note::TypeMismatch {
                                path: npath,
                                env: ev.origin,
                                base: bv.origin,
                                env_type: ev.type_name(),
                                base_type: bv.type_name(),
                            });
                            continue;
                        }
                        if is_empty_string(ev) {
                            notes.push(Note::EmptyStringInherits {
                                path: npath,
                                origin: ev.origin,
                                inherited: bv.cloned(),
                            });
                            if bv.is_none() {
                                merged.remove(n);
                            }
                        } else {
                            merged.insert(n.clone(), ev.clone());
                        }
                    }
                    Some(Value {
                        kind: Kind::Table(merged),
                        origin: e.origin,
                    })
                }
                _ => Some(e.clone()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(s: &str) -> Table {
        let mut d = crate::diagnostic::Diagnostics::default();
        let t = toml::de::DeTable::parse(s).expect("valid toml");
        crate::value::from_toml(crate::source::FileId(0), t.get_ref(), &mut d)
    }

    fn json(t: &Table) -> String {
        Value::table(t.clone()).to_json().to_string()
    }

    #[test]
    fn facts_examples_shallow() {
        let base = parse("a = 'x'\ntags = { team = 'p', cost = '1' }");
        let ops = parse("tags = { cost = '2' }");
        assert_eq!(
            json(&resolve(&base, &ops, Mode::Shallow)),
            r#"{"a":"x","tags":{"cost":"2"}}"#
        );
    }

    #[test]
    fn facts_examples_nested() {
        let base = parse("a = 'x'\ntags = { team = 'p', cost = '1' }");
        let ops = parse("a = ''\ntags = { cost = '2' }");
        let (out, notes) = merge(&base, &ops, Mode::Nested);
        assert_eq!(json(&out), r#"{"a":"x","tags":{"cost":"2","team":"p"}}"#);
        assert!(matches!(&notes[..], [Note::EmptyStringInherits { path, .. }] if path == "a"));

        let base = parse("pool = { size = { min = 1, max = 3 }, type = 'm5' }");
        let ops = parse("pool = { size = { max = 9 } }");
        assert_eq!(
            json(&resolve(&base, &ops, Mode::Nested)),
            r#"{"pool":{"size":{"max":9},"type":"m5"}}"#
        );
    }

    #[test]
    fn nested_false_zero_and_empty_list_override() {
        let base = parse("b = true\nn = 3\nl = ['a']");
        let ops = parse("b = false\nn = 0\nl = []");
        assert_eq!(
            json(&resolve(&base, &ops, Mode::Nested)),
            r#"{"b":false,"l":[],"n":0}"#
        );
    }

    #[test]
    fn shallow_empty_string_overrides() {
        let base = parse("a = 'x'");
        let ops = parse("a = ''");
        assert_eq!(json(&resolve(&base, &ops, Mode::Shallow)), r#"{"a":""}"#);
    }

    #[test]
    fn deep_merges_every_level() {
        let base = parse("pool = { size = { min = 1, max = 3 }, type = 'm5' }");
        let ops = parse("pool = { size = { max = 9 } }");
        assert_eq!(
            json(&resolve(&base, &ops, Mode::Deep)),
            r#"{"pool":{"size":{"max":9,"min":1},"type":"m5"}}"#
        );
    }

    #[test]
    fn type_mismatch_keeps_base_and_reports() {
        let base = parse("n = 3");
        let ops = parse("n = 'three'");
        for mode in [Mode::Nested, Mode::Shallow, Mode::Deep] {
            let (out, notes) = merge(&base, &ops, mode);
            assert_eq!(json(&out), r#"{"n":3}"#);
            assert!(matches!(&notes[..], [Note::TypeMismatch { .. }]));
        }
    }

    #[test]
    fn keys_only_in_the_environment_are_kept() {
        let base = parse("a = 1");
        let ops = parse("b = 2");
        for mode in [Mode::Nested, Mode::Shallow, Mode::Deep] {
            assert_eq!(json(&resolve(&base, &ops, mode)), r#"{"a":1,"b":2}"#);
        }
    }

    // ---- properties ----

    fn leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            "[a-c]{0,2}".prop_map(Value::string),
            (0i64..3).prop_map(|i| Value::builtin(Kind::Integer(i))),
            any::<bool>().prop_map(|b| Value::builtin(Kind::Boolean(b))),
            proptest::collection::vec(
                (0i64..3).prop_map(|i| Value::builtin(Kind::Integer(i))),
                0..3
            )
            .prop_map(|v| Value::builtin(Kind::Array(v.into()))),
        ]
    }

    fn value() -> impl Strategy<Value = Value> {
        leaf().prop_recursive(3, 24, 4, |inner| {
            proptest::collection::btree_map("[a-d]", inner, 0..4)
                .prop_map(|m| Value::table(m.into_iter().collect()))
        })
    }

    fn table() -> impl Strategy<Value = Table> {
        proptest::collection::btree_map("[a-e]", value(), 0..5)
            .prop_map(|m| m.into_iter().collect())
    }

    fn mode() -> impl Strategy<Value = Mode> {
        prop_oneof![Just(Mode::Nested), Just(Mode::Shallow), Just(Mode::Deep)]
    }

    /// Walks both tables: every path of the result exists in base or env.
    fn keys_are_union(out: &Table, base: &Table, env: &Table) -> bool {
        out.keys()
            .all(|k| base.contains_key(k) || env.contains_key(k))
    }

    proptest! {
        #[test]
        fn base_environment_resolves_to_itself(base in table(), m in mode()) {
            // Even taken as its own override, the base resolves to exactly itself.
            prop_assert_eq!(resolve(&base, &base, m), base);
        }

        #[test]
        fn merging_never_changes_the_base(base in table(), env in table(), m in mode()) {
            let before = base.clone();
            let _ = resolve(&base, &env, m);
            prop_assert_eq!(base, before);
        }

        #[test]
        fn absent_environment_equals_base(base in table(), m in mode()) {
            prop_assert_eq!(resolve(&base, &Table::new(), m), base);
        }

        #[test]
        fn key_set_is_the_union(base in table(), env in table(), m in mode()) {
            let (out, notes) = merge(&base, &env, m);
            prop_assert!(keys_are_union(&out, &base, &env));
            // Nothing of the base is lost, except where nested mode resolves "" to a missing base.
            for k in base.keys() {
                prop_assert!(out.contains_key(k));
            }
            for k in env.keys() {
                let inherits_nothing = m == Mode::Nested && is_empty_string(&env[k]) && !base.contains_key(k);
                prop_assert!(out.contains_key(k) || inherits_nothing, "{k} lost; notes {notes:?}");
            }
        }

        #[test]
        fn env_value_wins_when_set(base in table(), env in table(), m in mode()) {
            let (out, _) = merge(&base, &env, m);
            for (k, e) in &env {
                let b = base.get(k);
                let mismatch = b.is_some_and(|b| !same_type(e, b));
                let nested_special = m == Mode::Nested && (is_empty_string(e) || (matches!(e.kind, Kind::Table(_)) && b.is_some()));
                let deep_table = m == Mode::Deep && matches!(e.kind, Kind::Table(_)) && b.is_some();
                if !mismatch && !nested_special && !deep_table {
                    prop_assert_eq!(&out[k], e);
                }
            }
        }

        #[test]
        fn shallow_is_replacement(base in table(), env in table()) {
            let out = resolve(&base, &env, Mode::Shallow);
            for (k, e) in &env {
                if base.get(k).is_none_or(|b| same_type(e, b)) {
                    prop_assert_eq!(&out[k], e);
                }
            }
        }

        #[test]
        fn deep_is_associative(a in table(), b in table(), c in table()) {
            // Type mismatches are rejected as errors before resolution, so only well-typed
            // triples are meaningful; where a merge reported a mismatch the property is moot.
            let (ab, n1) = merge(&a, &b, Mode::Deep);
            let (left, n2) = merge(&ab, &c, Mode::Deep);
            let (bc, n3) = merge(&b, &c, Mode::Deep);
            let (right, n4) = merge(&a, &bc, Mode::Deep);
            prop_assume!(n1.is_empty() && n2.is_empty() && n3.is_empty() && n4.is_empty());
            prop_assert_eq!(left, right);
        }

        #[test]
        fn nested_empty_string_never_clears(base in table(), env in table()) {
            let out = resolve(&base, &env, Mode::Nested);
            for (k, e) in &env {
                if is_empty_string(e) {
                    prop_assert_eq!(out.get(k), base.get(k));
                }
            }
        }
    }
}
