//! A small YAML writer for kustomizations: block style, two-space indents, and every string
//! double-quoted with JSON-style escapes, so no value from a definition can become a YAML
//! boolean, number, anchor, tag or a key of its own.

use crate::value::{Kind, Value};
use std::fmt::Write;

#[derive(Clone, Debug, PartialEq)]
pub enum Yaml {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    List(Vec<Yaml>),
    Map(Vec<(String, Yaml)>),
}

impl Yaml {
    pub fn str(s: impl Into<String>) -> Yaml {
        Yaml::Str(s.into())
    }

    pub fn map(items: Vec<(&str, Yaml)>) -> Yaml {
        Yaml::Map(items.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    pub fn value(v: &Value) -> Yaml {
        match &v.kind {
            Kind::String(s) => Yaml::Str(s.to_string()),
            Kind::Integer(i) => Yaml::Int(*i),
            Kind::Float(f) => Yaml::Float(*f),
            Kind::Boolean(b) => Yaml::Bool(*b),
            Kind::Array(a) => Yaml::List(a.iter().map(Yaml::value).collect()),
            Kind::Table(t) => Yaml::Map(
                t.iter()
                    .map(|(k, v)| (k.to_string(), Yaml::value(v)))
                    .collect(),
            ),
        }
    }

    /// A table as a YAML map, without cloning it into a value first.
    pub fn table(t: &crate::value::Table) -> Yaml {
        Yaml::Map(
            t.iter()
                .map(|(k, v)| (k.to_string(), Yaml::value(v)))
                .collect(),
        )
    }

    /// Appends the value when it is written on its key's line; `false` for a block.
    fn push_scalar(&self, out: &mut String) -> bool {
        match self {
            Yaml::Str(s) => push_quoted(out, s),
            Yaml::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Yaml::Float(f) => {
                let _ = write!(out, "{f:?}");
            }
            Yaml::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Yaml::List(l) if l.is_empty() => out.push_str("[]"),
            Yaml::Map(m) if m.is_empty() => out.push_str("{}"),
            _ => return false,
        }
        true
    }
}

/// Renders a top-level map as a YAML document.
pub fn render(doc: &Yaml) -> String {
    let mut out = String::new();
    match doc {
        Yaml::Map(items) => write_map(&mut out, items, 0),
        other => {
            other.push_scalar(&mut out);
            out.push('\n');
        }
    }
    out
}

/// Longest key written as an implicit (`key: value`) key: YAML parsers refuse implicit keys of
/// more than 1024 characters, so longer ones are written explicitly (`? key` / `: value`).
const MAX_IMPLICIT_KEY: usize = 1000;

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// Writes `key: value` lines straight into `out` (generation writes tens of thousands of
/// these files: no string is built per key or value).
fn write_map(out: &mut String, items: &[(String, Yaml)], indent: usize) {
    for (k, v) in items {
        pad(out, indent);
        let at = out.len();
        push_key(out, k);
        if out[at..].chars().count() > MAX_IMPLICIT_KEY {
            out.insert_str(at, "? ");
            out.push('\n');
            pad(out, indent);
        }
        out.push_str(": ");
        if v.push_scalar(out) {
            out.push('\n');
            continue;
        }
        out.pop();
        out.push('\n');
        match v {
            Yaml::Map(m) => write_map(out, m, indent + 2),
            Yaml::List(l) => write_list(out, l, indent + 2),
            _ => {}
        }
    }
}

fn write_list(out: &mut String, items: &[Yaml], indent: usize) {
    for v in items {
        pad(out, indent);
        match v {
            Yaml::Map(m) if !m.is_empty() => {
                // The first key shares the dash's line; the rest align under it.
                out.push_str("- ");
                let at = out.len();
                write_map(out, &m[..1], indent + 2);
                out.replace_range(at..at + indent + 2, "");
                write_map(out, &m[1..], indent + 2);
            }
            Yaml::List(l) if !l.is_empty() => {
                out.push_str("-\n");
                write_list(out, l, indent + 2);
            }
            other => {
                out.push_str("- ");
                other.push_scalar(out);
                out.push('\n');
            }
        }
    }
}

/// Keys stay plain when they are unambiguous (letters, digits, `_ . / -`, not a YAML keyword).
fn push_key(out: &mut String, k: &str) {
    let plain = k
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-'))
        && !["y", "n", "yes", "no", "on", "off", "true", "false", "null"]
            .iter()
            .any(|w| k.eq_ignore_ascii_case(w));
    if plain {
        out.push_str(k);
    } else {
        push_quoted(out, k);
    }
}

/// A YAML double-quoted string (JSON escapes are valid YAML escapes).
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    push_quoted(&mut out, s);
    out
}

fn push_quoted(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20
                || c as u32 == 0x7f
                || c == '\u{85}'
                || c == '\u{2028}'
                || c == '\u{2029}' =>
            {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_block_yaml() {
        let doc = Yaml::map(vec![
            ("kind", Yaml::str("Kustomization")),
            ("resources", Yaml::List(vec![Yaml::str("../base")])),
            (
                "images",
                Yaml::List(vec![Yaml::map(vec![
                    ("name", Yaml::str("nginx")),
                    ("newTag", Yaml::str("1.27")),
                ])]),
            ),
            (
                "labels",
                Yaml::List(vec![Yaml::map(vec![
                    (
                        "pairs",
                        Yaml::map(vec![("kubestack.com/cluster_name", Yaml::str("x"))]),
                    ),
                    ("includeSelectors", Yaml::Bool(false)),
                ])]),
            ),
            ("on", Yaml::str("yes")),
            ("empty", Yaml::List(vec![])),
        ]);
        let expected = "kind: \"Kustomization\"\nresources:\n  - \"../base\"\nimages:\n  - name: \"nginx\"\n    newTag: \"1.27\"\nlabels:\n  - pairs:\n      kubestack.com/cluster_name: \"x\"\n    includeSelectors: false\n\"on\": \"yes\"\nempty: []\n";
        assert_eq!(render(&doc), expected);
        let parsed = yaml_rust2::YamlLoader::load_from_str(&render(&doc)).expect("valid yaml");
        assert_eq!(parsed[0]["images"][0]["newTag"].as_str(), Some("1.27"));
        assert_eq!(parsed[0]["on"].as_str(), Some("yes"));
    }

    #[test]
    fn long_keys_are_explicit() {
        let long = "k".repeat(5000);
        let doc = Yaml::map(vec![
            (long.as_str(), Yaml::str("v")),
            (
                "list",
                Yaml::List(vec![Yaml::map(vec![
                    (long.as_str(), Yaml::map(vec![("a", Yaml::Int(1))])),
                    ("b", Yaml::List(vec![Yaml::str("x")])),
                ])]),
            ),
        ]);
        let text = render(&doc);
        let parsed = yaml_rust2::YamlLoader::load_from_str(&text).expect("valid yaml");
        assert_eq!(parsed[0][long.as_str()].as_str(), Some("v"), "{text}");
        assert_eq!(parsed[0]["list"][0][long.as_str()]["a"].as_i64(), Some(1));
        assert_eq!(parsed[0]["list"][0]["b"][0].as_str(), Some("x"));
    }

    #[test]
    fn hostile_strings_stay_strings() {
        for s in [
            "x\nkind: Secret",
            "&anchor",
            "*alias",
            "!!binary",
            "- item",
            "\"quoted\"",
            "no",
            "0x10",
            "\u{2028}",
        ] {
            let doc = Yaml::map(vec![("k", Yaml::str(s))]);
            let parsed = yaml_rust2::YamlLoader::load_from_str(&render(&doc)).expect("valid yaml");
            assert_eq!(parsed[0]["k"].as_str(), Some(s), "{s:?}");
        }
    }
}
