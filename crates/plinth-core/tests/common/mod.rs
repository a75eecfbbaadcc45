//! Shared pieces of the fuzz harness: a small TOML model and writer, generators of platform
//! definitions driven by Plinth's own key tables, byte-level mutations of the examples, the
//! pipeline run under a watchdog, and the properties every case must satisfy.

#![allow(dead_code)]

use plinth_core::keys::{Field, Key, Ty};
use plinth_core::load::Overlay;
use proptest::prelude::*;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// A TOML value model and a writer that escapes everything.

/// A TOML value as the generators build it; written by [`Doc`].
#[derive(Clone, Debug)]
pub enum V {
    S(String),
    I(i64),
    F(f64),
    B(bool),
    A(Vec<V>),
    T(Vec<(String, V)>),
    /// Raw TOML text for a value (`inf`, `nan`, dates, out-of-range integers).
    Raw(String),
}

impl V {
    pub fn s(s: impl Into<String>) -> V {
        V::S(s.into())
    }

    pub fn t(entries: Vec<(&str, V)>) -> V {
        V::T(
            entries
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    }
}

/// A tiny deterministic generator, so that the layout of a document (header tables or inline
/// tables, basic or literal strings) is part of the case and shrinks with it.
#[derive(Clone, Debug)]
pub struct Style(u64);

impl Style {
    pub fn new(seed: u64) -> Style {
        Style(seed | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn one_in(&mut self, n: u64) -> bool {
        self.next().is_multiple_of(n)
    }
}

fn bare_key(k: &str) -> bool {
    !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A TOML key: bare when possible, a basic string otherwise.
pub fn toml_key(k: &str) -> String {
    if bare_key(k) {
        k.to_string()
    } else {
        toml_basic(k)
    }
}

/// A TOML basic string: every character TOML forbids raw is escaped.
pub fn toml_basic(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    plinth_core::value::write_toml_string(&mut out, s);
    out
}

fn toml_string(s: &str, style: &mut Style) -> String {
    let literal_ok = !s.contains('\'') && !s.chars().any(|c| c.is_control() && c != '\t');
    if literal_ok && style.one_in(4) {
        format!("'{s}'")
    } else {
        toml_basic(s)
    }
}

fn toml_float(f: f64) -> String {
    if f.is_nan() {
        "nan".into()
    } else if f.is_infinite() {
        if f > 0.0 { "inf".into() } else { "-inf".into() }
    } else {
        let s = format!("{f:?}");
        if s.contains('.') || s.contains('e') || s.contains("inf") {
            s
        } else {
            format!("{s}.0")
        }
    }
}

/// A value on one line.
pub fn inline(v: &V, style: &mut Style) -> String {
    match v {
        V::S(s) => toml_string(s, style),
        V::I(i) => i.to_string(),
        V::F(f) => toml_float(*f),
        V::B(b) => b.to_string(),
        V::Raw(r) => r.clone(),
        V::A(items) => {
            let parts: Vec<String> = items.iter().map(|i| inline(i, style)).collect();
            format!("[{}]", parts.join(", "))
        }
        V::T(entries) => {
            if entries.is_empty() {
                return "{}".into();
            }
            let parts: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{} = {}", toml_key(k), inline(v, style)))
                .collect();
            format!("{{ {} }}", parts.join(", "))
        }
    }
}

/// Writes a table as a TOML document: plain entries first, then sub-tables as `[a.b]` headers
/// (or inline, at random).
pub fn document(entries: &[(String, V)], style: &mut Style) -> String {
    let mut out = String::new();
    body(&mut out, &[], entries, style);
    out
}

fn body(out: &mut String, path: &[String], entries: &[(String, V)], style: &mut Style) {
    let mut plain: Vec<(&String, &V)> = Vec::new();
    let mut subs: Vec<(&String, &Vec<(String, V)>)> = Vec::new();
    for (k, v) in entries {
        match v {
            V::T(inner) if !style.one_in(5) => subs.push((k, inner)),
            _ => plain.push((k, v)),
        }
    }
    // Entries written here belong to this table: it needs its header (the root has none).
    if !path.is_empty() && (!plain.is_empty() || subs.is_empty() || style.one_in(3)) {
        let header: Vec<String> = path.iter().map(|s| toml_key(s)).collect();
        let _ = writeln!(out, "\n[{}]", header.join("."));
    }
    for (k, v) in plain {
        let _ = writeln!(out, "{} = {}", toml_key(k), inline(v, style));
    }
    for (k, inner) in subs {
        let mut p = path.to_vec();
        p.push(k.clone());
        body(out, &p, inner, style);
    }
}

// ---------------------------------------------------------------------------------------------
// Strings.

/// Strings that have broken writers before: quoting, escapes, templates, YAML and HCL syntax,
/// paths, control and line-separator characters.
pub const HOSTILE: &[&str] = &[
    "\"",
    "\\",
    "\\\"",
    "${file(\"/etc/passwd\")}",
    "$${x}",
    "${",
    "%{ if true }x%{ endif }",
    "%{",
    "a\nb",
    "x\nkind: Secret",
    "x\n---\nkind: Secret\n",
    "x\nresource \"null_resource\" \"pwn\" {}\n",
    "\r",
    "a\rb",
    "\r\n",
    "\0",
    "a\0b",
    "\u{2028}",
    "\u{2029}",
    "\u{85}",
    "\u{feff}",
    "\u{202e}abc",
    "\u{7f}",
    "\u{1b}[31m",
    "\t",
    ": ",
    "a: b",
    "- ",
    "- item",
    "&a",
    "*a",
    "!!binary",
    "!!python/object:os.system",
    "? x",
    "| x",
    "> x",
    "@x",
    "`x`",
    "#",
    "# comment",
    "//",
    "/*",
    "*/",
    "<<EOF\nx\nEOF",
    "<<-EOT",
    "EOF",
    "../",
    "../../../etc/passwd",
    "/etc/passwd",
    "/",
    ".",
    "..",
    "C:\\Windows\\System32",
    "..\\..\\x",
    "\\\\server\\share",
    "~",
    "'",
    "''",
    "'''",
    "\"\"\"",
    "]]",
    "[x]",
    "{}",
    "{{ .Values.x }}",
    "null",
    "true",
    "no",
    "yes",
    "~null",
    "0x10",
    "1e3",
    "-1",
    "",
    " ",
    "  leading and trailing  ",
    "ünïcödé",
    "日本語",
    "🚀",
    "e\u{301}",
];

/// A string strategy from a regular expression, compiled once (a `&str` strategy would parse
/// its expression again for every value).
pub fn re(pattern: &str) -> BoxedStrategy<String> {
    proptest::string::string_regex(pattern)
        .expect("regex")
        .boxed()
}

thread_local! {
    static HOSTILE_S: BoxedStrategy<String> = prop_oneof![
        4 => proptest::sample::select(HOSTILE).prop_map(String::from),
        2 => (
            proptest::sample::select(HOSTILE),
            proptest::sample::select(HOSTILE),
            re("[a-z]{0,3}")
        )
            .prop_map(|(a, b, c)| format!("{a}{c}{b}")),
        1 => re("\\PC{0,12}"),
        1 => any::<String>().prop_map(|s| s.chars().take(16).collect()),
    ]
    .boxed();
    static TEXT_S: BoxedStrategy<String> = prop_oneof![
        6 => re("[a-z][a-z0-9-]{0,10}"),
        1 => re("[A-Za-z0-9_./:=-]{0,16}"),
        3 => hostile(),
    ]
    .boxed();
}

pub fn hostile() -> BoxedStrategy<String> {
    HOSTILE_S.with(Clone::clone)
}

/// Mostly well-formed identifiers, sometimes hostile.
pub fn text() -> BoxedStrategy<String> {
    TEXT_S.with(Clone::clone)
}

/// Candidates for pattern-typed keys: each key's own rule picks the ones it accepts.
const PATTERN_POOL: &[&str] = &[
    "eu-west-1",
    "us-east-1",
    "europe-west1",
    "europe-west1-b",
    "westeurope",
    "eu-west-1a",
    "eu-west-1b",
    "kbst",
    "apps",
    "ingress-nginx",
    "cert-manager",
    "example.com",
    "infra.example.com",
    "a",
    "x-1",
    "1.30",
    "1.29.4",
    "t3a.xlarge",
    "Standard_D2_v2",
    "e2-standard-4",
    "10.0.0.0/16",
    "172.16.0.0/12",
    "fd00::/8",
    "NoSchedule",
    "gpu=true:NoSchedule",
    "",
];

fn from_rule(ok: fn(&str) -> bool, profile: Profile) -> BoxedStrategy<String> {
    let good: Vec<&'static str> = PATTERN_POOL.iter().copied().filter(|s| ok(s)).collect();
    if good.is_empty() {
        return text();
    }
    let fallback = good[0].to_string();
    let generated = re("[a-z]{1,8}(-[a-z0-9]{1,6}){0,2}")
        .prop_map(move |s| if ok(&s) { s } else { fallback.clone() });
    let valid = prop_oneof![
        4 => proptest::sample::select(good).prop_map(String::from),
        4 => generated,
    ];
    match profile {
        Profile::Clean => valid.boxed(),
        Profile::Dirty => prop_oneof![8 => valid, 1 => text()].boxed(),
    }
}

// ---------------------------------------------------------------------------------------------
// Values from key tables.

/// Any value at all, of a random type.
pub fn any_value(depth: u32) -> BoxedStrategy<V> {
    let leaf = prop_oneof![
        4 => text().prop_map(V::S),
        2 => any::<i64>().prop_map(V::I),
        1 => (-2i64..100).prop_map(V::I),
        1 => any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(V::F),
        1 => any::<bool>().prop_map(V::B),
        1 => proptest::sample::select(&[
            "inf", "nan", "-inf", "1979-05-27T07:32:00Z", "07:32:00", "0x7FFFFFFFFFFFFFFF",
            "99999999999999999999", "1e400", "-0.0", "0o777", "0b101",
        ][..])
        .prop_map(|s| V::Raw(s.to_string())),
    ];
    if depth == 0 {
        return leaf.boxed();
    }
    prop_oneof![
        6 => leaf,
        1 => proptest::collection::vec(any_value(depth - 1), 0..4).prop_map(V::A),
        1 => proptest::collection::vec((text(), any_value(depth - 1)), 0..4).prop_map(V::T),
    ]
    .boxed()
}

/// Whether a case stays close to valid (only free-form strings are hostile, so it reaches the
/// renderer) or is perturbed everywhere (wrong types, unknown keys, odd numbers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    Clean,
    Dirty,
}

/// Keys whose values become parts of names (clusters, node pools, DNS): in clean cases they
/// are names every provider accepts.
const NAME_KEYS: &[&str] = &["region", "name_prefix", "name", "node_pool_name"];

/// Files and directories inside the fuzz platform directory that services may refer to.
const SERVICE_FILES: &[&str] = &[
    "services/cert-manager/crds.yaml",
    "services/cert-manager/namespace.yaml",
    "services/ingress-nginx/rbac.yaml",
    "services/ingress-nginx",
];

/// Values that a key's type allows but its meaning constrains further, for clean cases.
fn clean_special(name: &'static str, ty: &'static Ty) -> Option<BoxedStrategy<V>> {
    if NAME_KEYS.contains(&name) {
        return Some(re("[a-z][a-z0-9]{0,8}").prop_map(V::S).boxed());
    }
    if let Ty::Integer { min } = ty {
        let min = *min;
        let range = if name.starts_with("min_") {
            min..min + 3
        } else if name.starts_with("max_") {
            min + 8..min + 20
        } else if matches!(
            name,
            "desired_capacity" | "initial_node_count" | "node_count"
        ) {
            min + 3..min + 6
        } else {
            return None;
        };
        return Some(range.prop_map(V::I).boxed());
    }
    // Kubernetes labels and taints: what the API server accepts.
    let label = || re("[a-z]([a-z0-9._-]{0,10}[a-z0-9])?");
    let labels = || {
        proptest::collection::vec((label(), label()), 0..4)
            .prop_map(|kv| dedup(kv.into_iter().map(|(k, v)| (k, V::S(v))).collect()))
            .boxed()
    };
    match name {
        "labels" | "node_labels" | "common_labels" | "additional_metadata_labels" => {
            return Some(labels());
        }
        "taints" => {
            return Some(
                proptest::collection::vec(
                    (
                        label(),
                        label(),
                        proptest::sample::select(plinth_core::provider::TAINT_EFFECTS_PUBLIC),
                    )
                        .prop_map(|(k, v, e)| {
                            V::t(vec![
                                ("key", V::S(k)),
                                ("value", V::S(v)),
                                ("effect", V::s(e)),
                            ])
                        }),
                    0..3,
                )
                .prop_map(V::A)
                .boxed(),
            );
        }
        // Valid only together with other keys (or never): checked by their own tests.
        "cluster_aws_auth_map_accounts"
        | "cluster_aws_auth_map_roles"
        | "cluster_aws_auth_map_users"
        | "entra_id_admin_group_object_ids"
        | "api_server_authorized_ip_ranges"
        | "node_taints" => return Some(Just(V::A(Vec::new())).boxed()),
        "disable_managed_identities"
        | "default_node_pool_only_critical_addons"
        | "create_resource_group"
        | "private_cluster_enabled"
        | "use_spot"
        | "cluster_vpc_legacy_node_subnets"
        | "enable_private_endpoint"
        | "disable_workload_identity" => return Some(Just(V::B(false)).boxed()),
        _ => {}
    }
    let target = object(plinth_core::service::TARGET_FIELDS, Profile::Clean);
    match name {
        "resources" => Some(
            proptest::collection::vec(proptest::sample::select(SERVICE_FILES).prop_map(V::s), 0..3)
                .prop_map(V::A)
                .boxed(),
        ),
        "patches" => Some(
            proptest::collection::vec(
                prop_oneof![
                    (text(), target.clone())
                        .prop_map(|(p, t)| V::t(vec![("patch", V::S(p)), ("target", t)])),
                    (proptest::sample::select(&SERVICE_FILES[..3]), target)
                        .prop_map(|(p, t)| V::t(vec![("path", V::s(p)), ("target", t)])),
                ],
                0..3,
            )
            .prop_map(V::A)
            .boxed(),
        ),
        _ => None,
    }
}

/// A value for key `name` of type `ty`; in clean cases sensitive values only in the base
/// environment (an override of another shape is a type mismatch).
pub fn value_for(
    name: &'static str,
    ty: &'static Ty,
    profile: Profile,
    base: bool,
) -> BoxedStrategy<V> {
    let can_hide = plinth_core::keys::may_be_sensitive(name, ty);
    match (profile, can_hide && base) {
        (Profile::Clean, _) if clean_special(name, ty).is_some() => {
            clean_special(name, ty).expect("checked")
        }
        (Profile::Clean, false) => valid_value(ty, profile),
        (Profile::Clean, true) => prop_oneof![
            30 => valid_value(ty, profile),
            1 => sensitive(ty, profile),
        ]
        .boxed(),
        (Profile::Dirty, _) => prop_oneof![
            8 => valid_value(ty, profile),
            2 => any_value(2),
            1 => sensitive(ty, profile),
        ]
        .boxed(),
    }
}

fn sensitive(ty: &'static Ty, profile: Profile) -> BoxedStrategy<V> {
    let valid = prop_oneof![
        2 => valid_value(ty, profile).prop_map(|v| V::t(vec![("sensitive", V::B(true)), ("value", v)])),
        1 => re("[A-Za-z_][A-Za-z0-9_]{0,8}").prop_map(|n| V::t(vec![("sensitive", V::B(true)), ("from_env", V::S(n))])),
    ];
    match profile {
        Profile::Clean => valid.boxed(),
        Profile::Dirty => prop_oneof![
            3 => valid,
            1 => text().prop_map(|n| V::t(vec![("sensitive", V::B(true)), ("from_env", V::S(n))])),
            1 => any_value(1).prop_map(|v| V::t(vec![("sensitive", V::B(false)), ("value", v)])),
            1 => any_value(1).prop_map(|v| V::t(vec![("sensitive", V::B(true)), ("value", v), ("from_env", V::s("X"))])),
        ]
        .boxed(),
    }
}

fn valid_value(ty: &'static Ty, profile: Profile) -> BoxedStrategy<V> {
    let dirty = profile == Profile::Dirty;
    match ty {
        Ty::String => text().prop_map(V::S).boxed(),
        Ty::Pattern(ok, _) => from_rule(*ok, profile).prop_map(V::S).boxed(),
        Ty::Integer { min } if dirty => {
            let min = *min;
            prop_oneof![
                6 => (min..min.saturating_add(12)).prop_map(V::I),
                1 => any::<i64>().prop_map(V::I),
                1 => proptest::sample::select(&[i64::MAX, i64::MIN, i64::MAX / 2, i64::MAX / 3 + 1, -1, 0][..]).prop_map(V::I),
            ]
            .boxed()
        }
        Ty::Integer { min } => {
            let min = *min;
            prop_oneof![
                8 => (min..min.saturating_add(12)).prop_map(V::I),
                1 => (min.max(0)..i64::MAX).prop_map(V::I),
            ]
            .boxed()
        }
        Ty::Number => prop_oneof![
            (0i64..100).prop_map(V::I),
            (0.0f64..100.0).prop_map(V::F),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(V::F),
        ]
        .boxed(),
        Ty::Boolean => any::<bool>().prop_map(V::B).boxed(),
        Ty::Enum(values) if dirty => prop_oneof![
            9 => proptest::sample::select(*values).prop_map(V::s),
            1 => text().prop_map(V::S),
        ]
        .boxed(),
        Ty::Enum(values) => proptest::sample::select(*values).prop_map(V::s).boxed(),
        Ty::Cidr => valid_value(&Ty::Pattern(plinth_core::keys::is_cidr, "a CIDR"), profile),
        Ty::List(inner) => proptest::collection::vec(valid_value(inner, profile), 0..4)
            .prop_map(V::A)
            .boxed(),
        Ty::Map(inner) => proptest::collection::vec((text(), valid_value(inner, profile)), 0..4)
            .prop_map(dedup)
            .boxed(),
        Ty::Object(fields) => object(fields, profile),
        Ty::Scalar => prop_oneof![
            text().prop_map(V::S),
            (0i64..1000).prop_map(V::I),
            any::<bool>().prop_map(V::B),
        ]
        .boxed(),
        Ty::Any if dirty => any_value(3),
        // One shape in every environment (a table), so inheritance has nothing to refuse.
        Ty::Any => proptest::collection::vec((text(), any_value(2)), 0..4)
            .prop_map(dedup)
            .prop_filter("no raw TOML", |v| !has_raw(v))
            .boxed(),
    }
}

fn has_raw(v: &V) -> bool {
    match v {
        V::Raw(_) => true,
        V::A(items) => items.iter().any(has_raw),
        V::T(entries) => entries.iter().any(|(_, v)| has_raw(v)),
        _ => false,
    }
}

fn dedup(entries: Vec<(String, V)>) -> V {
    let mut seen = std::collections::BTreeSet::new();
    V::T(
        entries
            .into_iter()
            .filter(|(k, _)| seen.insert(k.clone()))
            .collect(),
    )
}

fn object(fields: &'static [Field], profile: Profile) -> BoxedStrategy<V> {
    let per_field: Vec<BoxedStrategy<Option<(String, V)>>> = fields
        .iter()
        .map(|f| {
            let name = f.name.to_string();
            let v = valid_value(&f.ty, profile).prop_map(move |v| Some((name.clone(), v)));
            match (f.required, profile) {
                (true, Profile::Clean) => v.boxed(),
                (true, Profile::Dirty) => prop_oneof![19 => v, 1 => Just(None)].boxed(),
                (false, _) => prop_oneof![1 => v, 1 => Just(None)].boxed(),
            }
        })
        .collect();
    per_field
        .prop_map(|entries| V::T(entries.into_iter().flatten().collect()))
        .boxed()
}

/// Keys clean cases leave out: they only work with others set in a particular way (a
/// secondary CIDR and its subnet keys, BGP advertisement without an ASN), which their own
/// tests cover.
const CLEAN_SKIP: &[&str] = &[
    "vpc_secondary_cidr",
    "vpc_subnet_newbits",
    "vpc_subnet_number_offset",
    "vpc_subnet_map_public_ip",
    "router_advertise_config",
];

/// One environment's configuration from a key table: required keys in the base environment,
/// a few optional ones, in dirty cases now and then an unknown key.
pub fn env_config(keys: &'static [Key], base: bool, profile: Profile) -> BoxedStrategy<V> {
    let per_key: Vec<BoxedStrategy<Option<(String, V)>>> = keys
        .iter()
        .map(|k| {
            let name = k.name.to_string();
            let v =
                value_for(k.name, &k.ty, profile, base).prop_map(move |v| Some((name.clone(), v)));
            // AKS pools autoscale by default, and then need `max_count`.
            let needed = k.required || k.name == "max_count";
            if profile == Profile::Clean && CLEAN_SKIP.contains(&k.name) {
                return Just(None).boxed();
            }
            match (needed && base, profile) {
                (true, Profile::Clean) => v.boxed(),
                (true, Profile::Dirty) => prop_oneof![30 => v, 1 => Just(None)].boxed(),
                (false, _) => prop_oneof![1 => v, 4 => Just(None)].boxed(),
            }
        })
        .collect();
    let roll = if profile == Profile::Dirty {
        0u8..10
    } else {
        1u8..2
    };
    (
        per_key,
        proptest::collection::vec((text(), any_value(1)), 0..2),
        roll,
    )
        .prop_map(|(entries, unknown, roll)| {
            let mut t: Vec<(String, V)> = entries.into_iter().flatten().collect();
            if roll == 0 {
                t.extend(unknown);
            }
            dedup(t)
        })
        .boxed()
}

// ---------------------------------------------------------------------------------------------
// Whole platforms.

pub const ENV_POOL: &[&str] = &["ops", "apps", "apps-prod", "staging", "dev", "prod"];

fn maybe<T: std::fmt::Debug + Clone + 'static>(
    p: f64,
    s: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<Option<T>> {
    if p <= 0.0 {
        Just(None).boxed()
    } else if p >= 1.0 {
        s.prop_map(Some).boxed()
    } else {
        proptest::option::weighted(p, s).boxed()
    }
}

/// A name part that naming rules accept in clean cases (it ends up in cluster names and DNS).
fn name_part(profile: Profile) -> BoxedStrategy<String> {
    match profile {
        Profile::Clean => prop_oneof![
            Just(String::new()),
            Just("kbst".to_string()),
            re("[a-z][a-z0-9]{0,5}"),
        ]
        .boxed(),
        Profile::Dirty => text(),
    }
}

/// `[platform]` and the promotion chain.
fn platform_table(profile: Profile) -> BoxedStrategy<(V, Vec<String>)> {
    let dirty = profile == Profile::Dirty;
    let chain = if dirty {
        prop_oneof![
            4 => Just(vec!["ops".to_string(), "apps".to_string()]),
            2 => proptest::sample::subsequence(ENV_POOL, 0..5)
                .prop_map(|v| v.into_iter().map(String::from).collect::<Vec<_>>()),
            1 => proptest::collection::vec(text(), 0..4),
        ]
        .boxed()
    } else {
        prop_oneof![
            6 => Just(vec!["ops".to_string(), "apps".to_string()]),
            2 => proptest::sample::subsequence(&ENV_POOL[2..], 0..3).prop_map(|extra| {
                let mut v = vec!["ops".to_string(), "apps".to_string()];
                v.extend(extra.into_iter().map(String::from));
                v
            }),
        ]
        .boxed()
    };
    let backend = prop_oneof![
        4 => Just(None),
        1 => Just(Some(V::t(vec![("type", V::s("local"))]))),
        1 => (text(), text(), text()).prop_map(|(b, k, r)| Some(V::t(vec![
            ("type", V::s("s3")), ("bucket", V::S(b)), ("key", V::S(k)), ("region", V::S(r))
        ]))),
        1 => (text(), text()).prop_map(|(b, p)| Some(V::t(vec![
            ("type", V::s("gcs")), ("bucket", V::S(b)), ("prefix", V::S(p))
        ]))),
        1 => (text(), text(), text()).prop_map(|(a, c, k)| Some(V::t(vec![
            ("type", V::s("azurerm")), ("storage_account_name", V::S(a)),
            ("container_name", V::S(c)), ("key", V::S(k))
        ]))),
        1 => (text(), text()).prop_map(|(o, p)| Some(V::t(vec![
            ("type", V::s("remote")), ("organization", V::S(o)), ("workspaces_prefix", V::S(p))
        ]))),
        1 => text().prop_map(|s| Some(V::t(vec![("type", V::s("pg")), ("schema_name", V::S(s))]))),
        if dirty { 1 } else { 0 } => proptest::collection::vec((text(), any_value(1)), 0..4).prop_map(|t| Some(V::T(t))),
    ];
    let enum_or = move |values: &'static [&'static str]| -> BoxedStrategy<String> {
        if dirty {
            prop_oneof![4 => proptest::sample::select(values).prop_map(String::from), 1 => text()]
                .boxed()
        } else {
            proptest::sample::select(values)
                .prop_map(String::from)
                .boxed()
        }
    };
    let domain = if dirty {
        from_rule(plinth_core::keys::is_domain_or_empty, profile)
    } else {
        proptest::sample::select(&["", "example.com", "infra.example.com", "a.b"][..])
            .prop_map(String::from)
            .boxed()
    };
    (
        chain,
        maybe(0.6, text()),
        maybe(if dirty { 0.3 } else { 0.0 }, text()),
        maybe(0.5, domain),
        maybe(0.5, name_part(profile)),
        maybe(
            0.2,
            prop_oneof![
                Just("kubestack.com/".to_string()),
                Just("example.org/".to_string()),
                text()
            ],
        ),
        maybe(
            0.1,
            prop_oneof![Just("-".to_string()), Just(String::new()), text()],
        ),
        maybe(0.3, enum_or(&["nested", "shallow", "deep"])),
        maybe(0.3, enum_or(&["platform", "cluster"])),
        maybe(0.1, enum_or(&["blast-radius", "utilization"])),
        backend,
        maybe(if dirty { 0.1 } else { 0.0 }, (text(), any_value(1))),
    )
        .prop_map(
            |(
                chain,
                name,
                base,
                domain,
                prefix,
                labels,
                delim,
                inheritance,
                state,
                priority,
                backend,
                unknown,
            )| {
                let mut t: Vec<(String, V)> = Vec::new();
                let mut put = |k: &str, v: V| t.push((k.to_string(), v));
                put(
                    "environments",
                    V::A(chain.iter().cloned().map(V::S).collect()),
                );
                for (k, v) in [
                    ("name", name),
                    ("base_environment", base),
                    ("base_domain", domain),
                    ("name_prefix", prefix),
                    ("label_namespace", labels),
                    ("name_delimiter", delim),
                    ("inheritance", inheritance),
                    ("state", state),
                    ("priority", priority),
                ] {
                    if let Some(v) = v {
                        put(k, V::S(v));
                    }
                }
                if let Some(b) = backend {
                    put("backend", b);
                }
                if let Some((k, v)) = unknown {
                    put(&k, v);
                }
                (V::T(t), chain)
            },
        )
        .boxed()
}

/// Marks an environment key until the chain is known: `<mark>base` or `<mark><n>` (the n-th
/// environment other than the base). [`bind_envs`] replaces them.
const ENV_MARK: char = '\u{e000}';

fn env_slot(profile: Profile) -> BoxedStrategy<String> {
    let slot = (0usize..4).prop_map(|i| format!("{ENV_MARK}{i}"));
    match profile {
        Profile::Clean => slot.boxed(),
        Profile::Dirty => prop_oneof![9 => slot, 1 => text()].boxed(),
    }
}

/// Replaces environment marks with the chain's names (the base, or the others in turn).
fn bind_envs(v: V, base: &str, others: &[String]) -> V {
    match v {
        V::T(entries) => dedup(
            entries
                .into_iter()
                .map(|(k, v)| {
                    let k = match k.strip_prefix(ENV_MARK) {
                        Some("base") => base.to_string(),
                        Some(n) => match n.parse::<usize>() {
                            Ok(i) if !others.is_empty() => others[i % others.len()].clone(),
                            _ => "ops".to_string(),
                        },
                        None => k,
                    };
                    (k, bind_envs(v, base, others))
                })
                .collect(),
        ),
        V::A(items) => V::A(
            items
                .into_iter()
                .map(|v| bind_envs(v, base, others))
                .collect(),
        ),
        other => other,
    }
}

/// `config = { <env> = {...} }` for a component: the base environment and a few others, in
/// dirty cases now and then an environment outside the chain or no base.
fn configs(keys: &'static [Key], profile: Profile) -> BoxedStrategy<V> {
    let dirty = profile == Profile::Dirty;
    (
        maybe(
            if dirty { 0.95 } else { 1.0 },
            env_config(keys, true, profile),
        ),
        proptest::collection::vec((env_slot(profile), env_config(keys, false, profile)), 0..3),
    )
        .prop_map(move |(b, others)| {
            let mut t = Vec::new();
            if let Some(b) = b {
                t.push((format!("{ENV_MARK}base"), b));
            }
            t.extend(others);
            V::T(t)
        })
        .boxed()
}

fn inheritance(profile: Profile) -> BoxedStrategy<Option<V>> {
    let mode = proptest::sample::select(&["nested", "shallow", "deep"][..]).prop_map(V::s);
    match profile {
        Profile::Clean => maybe(0.15, mode),
        Profile::Dirty => maybe(0.15, prop_oneof![4 => mode, 1 => any_value(0)]),
    }
}

fn intent(profile: Profile) -> BoxedStrategy<Vec<(String, V)>> {
    let stage = match profile {
        Profile::Clean => proptest::sample::select(&["prod", "non-prod"][..]).boxed(),
        Profile::Dirty => proptest::sample::select(&["prod", "non-prod", "x"][..]).boxed(),
    };
    (
        maybe(0.1, text()),
        maybe(0.1, stage),
        maybe(0.1, text()),
        maybe(0.1, text()),
    )
        .prop_map(|(tenant, stage, workload, description)| {
            let mut t = Vec::new();
            if let Some(x) = tenant {
                t.push(("tenant".to_string(), V::S(x)));
            }
            if let Some(x) = stage {
                t.push(("stage".to_string(), V::s(x)));
            }
            if let Some(x) = workload {
                t.push(("workload".to_string(), V::S(x)));
            }
            if let Some(x) = description {
                t.push(("description".to_string(), V::S(x)));
            }
            t
        })
        .boxed()
}

fn node_pool(keys: &'static [Key], profile: Profile) -> BoxedStrategy<V> {
    (
        configs(keys, profile),
        inheritance(profile),
        intent(profile),
    )
        .prop_map(|(config, inh, intent)| {
            let mut t = vec![("config".to_string(), config)];
            if let Some(i) = inh {
                t.push(("inheritance".to_string(), i));
            }
            t.extend(intent);
            V::T(t)
        })
        .boxed()
}

/// Service bases the fuzz platform directory holds on disk.
pub const BASES: &[&str] = &["services/ingress-nginx", "services/cert-manager"];

fn service(profile: Profile) -> BoxedStrategy<V> {
    let dirty = profile == Profile::Dirty;
    let source = prop_oneof![
        6 => proptest::sample::select(BASES).prop_map(|p| V::t(vec![("path", V::s(p))])),
        if dirty { 1 } else { 0 } => text().prop_map(|p| V::t(vec![("path", V::S(p))])),
        2 => (nonempty(), nonempty()).prop_map(|(u, r)| V::t(vec![("url", V::S(u)), ("ref", V::S(r))])),
        2 => (nonempty(), nonempty(), version(profile), proptest::option::of(nonempty())).prop_map(|(r, c, v, n)| {
            let mut t = vec![("repo", V::S(r)), ("chart", V::S(c)), ("version", V::S(v))];
            if let Some(n) = n {
                t.push(("release_name", V::S(n)));
            }
            V::t(t)
        }),
        if dirty { 1 } else { 0 } => any_value(2),
    ];
    let kinds = plinth_core::service::ServiceKind::NAMES;
    let kind = if dirty {
        prop_oneof![
            9 => proptest::sample::select(kinds).prop_map(V::s),
            1 => any_value(0),
        ]
        .boxed()
    } else {
        // Operators may bring any resource: the boundary lint stays quiet for them.
        prop_oneof![
            3 => Just(V::s("operator")),
            1 => proptest::sample::select(kinds).prop_map(V::s),
        ]
        .boxed()
    };
    (
        kind,
        source,
        configs(plinth_core::service::SERVICE_KEYS, profile),
        inheritance(profile),
        maybe(0.1, text()),
    )
        .prop_map(|(kind, source, config, inh, catalog)| {
            let mut t = vec![
                ("kind".to_string(), kind),
                ("source".to_string(), source),
                ("config".to_string(), config),
            ];
            if let Some(i) = inh {
                t.push(("inheritance".to_string(), i));
            }
            if let Some(c) = catalog {
                t.push(("catalog".to_string(), V::S(c)));
            }
            V::T(t)
        })
        .boxed()
}

fn nonempty() -> BoxedStrategy<String> {
    text()
        .prop_map(|s| if s.is_empty() { "x".into() } else { s })
        .boxed()
}

/// A chart version: pinned in clean cases (a range is reported).
fn version(profile: Profile) -> BoxedStrategy<String> {
    match profile {
        Profile::Clean => re("[0-9]\\.[0-9]{1,2}\\.[0-9]"),
        Profile::Dirty => nonempty(),
    }
}

/// Node pool keys: their names by default, which every provider accepts in clean cases.
fn pool_key(profile: Profile) -> BoxedStrategy<String> {
    match profile {
        Profile::Clean => re("[a-z][a-z0-9]{0,8}"),
        Profile::Dirty => component_key(profile),
    }
}

/// Keys of clusters, pools and services: valid, in dirty cases now and then not.
fn component_key(profile: Profile) -> BoxedStrategy<String> {
    let valid = prop_oneof![
        6 => re("[a-z][a-z0-9_-]{0,6}"),
        1 => proptest::sample::select(&["default", "eks_zero", "gke_zero", "aks_zero", "gpu"][..]).prop_map(String::from),
    ];
    match profile {
        Profile::Clean => valid.boxed(),
        Profile::Dirty => prop_oneof![8 => valid, 1 => text()].boxed(),
    }
}

fn cluster(profile: Profile) -> BoxedStrategy<V> {
    let mut options: Vec<(u32, BoxedStrategy<V>)> = plinth_core::provider::ALL
        .iter()
        .map(|p| (6, cluster_of(p, Just(p.id.to_string()).boxed(), profile)))
        .collect();
    if profile == Profile::Dirty {
        options.push((
            1,
            cluster_of(plinth_core::provider::ALL[0], text(), profile),
        ));
    }
    proptest::strategy::Union::new_weighted(options).boxed()
}

/// A cluster of provider `p` (`provider = id`).
fn cluster_of(
    p: &'static plinth_core::provider::Provider,
    id: BoxedStrategy<String>,
    profile: Profile,
) -> BoxedStrategy<V> {
    let dirty = profile == Profile::Dirty;
    (
        id,
        configs(p.cluster_keys, profile),
        prop_oneof![
            20 => node_pool(p.pool_keys, profile).prop_map(Some),
            if dirty { 1 } else { 0 } => Just(None),
        ],
        proptest::collection::vec((pool_key(profile), node_pool(p.pool_keys, profile)), 0..3),
        proptest::collection::vec((component_key(profile), service(profile)), 0..3),
        inheritance(profile),
        intent(profile),
        (0u8..10).prop_map(move |roll| dirty && roll == 0),
        proptest::collection::vec((text(), any_value(1)), 0..2),
    )
        .prop_map(
            |(id, config, default_pool, pools, services, inh, intent, unknown_keys, unknown)| {
                let mut pool_entries = Vec::new();
                if let Some(d) = default_pool {
                    pool_entries.push(("default".to_string(), d));
                }
                pool_entries.extend(pools);
                let mut t = vec![
                    ("provider".to_string(), V::S(id)),
                    ("config".to_string(), config),
                    ("node_pools".to_string(), dedup(pool_entries)),
                ];
                if !services.is_empty() {
                    t.push(("services".to_string(), dedup(services)));
                }
                if let Some(i) = inh {
                    t.push(("inheritance".to_string(), i));
                }
                t.extend(intent);
                if unknown_keys {
                    t.extend(unknown);
                }
                V::T(t)
            },
        )
        .boxed()
}

/// Where a cluster is written.
#[derive(Clone, Copy, Debug)]
enum Place {
    Root,
    File,
    Both,
}

/// A generated platform: the files, as the loader reads them.
#[derive(Clone, Debug)]
pub struct Case {
    pub files: Vec<(String, String)>,
}

impl Case {
    pub fn overlay(&self) -> Overlay {
        self.files
            .iter()
            .map(|(p, t)| (PathBuf::from(p), Some(t.clone())))
            .collect()
    }
}

/// Platforms: three in four clean (close to valid, hostile strings in free-form fields), the
/// rest perturbed everywhere.
pub fn platform() -> BoxedStrategy<Case> {
    prop_oneof![3 => platform_of(Profile::Clean), 1 => platform_of(Profile::Dirty)].boxed()
}

pub fn platform_of(profile: Profile) -> BoxedStrategy<Case> {
    let dirty = profile == Profile::Dirty;
    let place = prop_oneof![
        10 => Just(Place::File),
        6 => Just(Place::Root),
        if dirty { 1 } else { 0 } => Just(Place::Both),
    ];
    let file_name = prop_oneof![
        20 => Just(None),
        if dirty { 1 } else { 0 } => text().prop_map(Some),
    ];
    let env_intents = maybe(
        0.1,
        proptest::collection::vec((env_slot(profile), intent(profile).prop_map(V::T)), 0..3),
    );
    let count = if dirty { 0..4 } else { 1..4 };
    (
        platform_table(profile),
        proptest::collection::vec(
            (component_key(profile), cluster(profile), place, file_name),
            count,
        ),
        env_intents,
        any::<u64>(),
    )
        .prop_map(|((table, chain), clusters, env_intents, seed)| {
            let base = if chain.iter().any(|e| e == "apps") {
                "apps".to_string()
            } else {
                chain.last().cloned().unwrap_or_else(|| "apps".into())
            };
            let others: Vec<String> = chain.iter().filter(|e| **e != base).cloned().collect();
            let mut style = Style::new(seed);
            let mut root = vec![("platform".to_string(), table)];
            let mut in_root = Vec::new();
            let mut files = Vec::new();
            let mut keys = std::collections::BTreeSet::new();
            for (key, c, place, file_name) in clusters {
                if !keys.insert(key.clone()) {
                    continue;
                }
                let c = bind_envs(c, &base, &others);
                let stem = file_name.unwrap_or_else(|| key.clone());
                if matches!(place, Place::Root | Place::Both) {
                    in_root.push((key.clone(), c.clone()));
                }
                if matches!(place, Place::File | Place::Both)
                    && let V::T(entries) = &c
                {
                    files.push((
                        format!("clusters/{stem}.toml"),
                        document(entries, &mut style),
                    ));
                }
            }
            if !in_root.is_empty() {
                root.push(("clusters".to_string(), V::T(in_root)));
            }
            if let Some(e) = env_intents {
                root.push((
                    "environments".to_string(),
                    bind_envs(V::T(e), &base, &others),
                ));
            }
            let mut out = vec![("plinth.toml".to_string(), document(&root, &mut style))];
            out.extend(files);
            Case { files: out }
        })
        .boxed()
}

// ---------------------------------------------------------------------------------------------
// Byte-level mutations.

/// One edit of a file's bytes.
#[derive(Clone, Debug)]
pub enum Mutation {
    Flip {
        at: usize,
        bit: u8,
    },
    Insert {
        at: usize,
        bytes: Vec<u8>,
    },
    Delete {
        at: usize,
        len: usize,
    },
    Truncate {
        at: usize,
    },
    /// Copies a range of another example file (`from` indexes all example files) to `at`.
    Splice {
        at: usize,
        from: usize,
        start: usize,
        len: usize,
    },
    DuplicateLine {
        line: usize,
    },
    SwapLines {
        a: usize,
        b: usize,
    },
    DeleteLine {
        line: usize,
    },
    Token {
        at: usize,
        token: &'static str,
    },
}

/// Text that matters to the TOML parser and to the model.
const TOKENS: &[&str] = &[
    "[",
    "]",
    "[[",
    "]]",
    "{",
    "}",
    "=",
    ".",
    ",",
    "\"",
    "'",
    "'''",
    "\"\"\"",
    "#",
    "\n",
    "\r\n",
    "\r",
    "\\",
    "\\u0000",
    "\\uD800",
    "\\U0010FFFF",
    "inf",
    "nan",
    "-0",
    "1e999",
    "99999999999999999999",
    "0x",
    "1979-05-27",
    "true",
    "\n[config.ops]\n",
    "\n[config.nowhere]\n",
    "\n[node_pools.default.config.ops]\nmin_size = 100\n",
    "\n[services.x]\nkind = \"other\"\nsource = { path = \"../../etc\" }\n",
    "\n[clusters.x]\nprovider = \"kind\"\n",
    "\ninheritance = \"deep\"\n",
    "\ninheritance = \"shallow\"\n",
    "\nprovider = \"gke\"\n",
    "\nprovider = \"aks\"\n",
    "\nprovider = \"kind\"\n",
    "\nsensitive = true\n",
    "{ sensitive = true, value = \"x\" }",
    "{ sensitive = true, from_env = \"X\" }",
    "\"${file(\\\"/etc/passwd\\\")}\"",
    "\"a\\nkind: Secret\"",
    "\u{2028}",
    "\u{feff}",
    "\u{0}",
    "ü",
];

/// Bytes that are never valid UTF-8 where they land.
const INVALID_UTF8: &[&[u8]] = &[
    b"\xff",
    b"\xfe\xff",
    b"\xc0\x80",
    b"\xed\xa0\x80",
    b"\x80",
    b"\xe2\x82",
    b"\xf4\x90\x80\x80",
];

pub fn mutation() -> BoxedStrategy<Mutation> {
    let at = any::<usize>();
    prop_oneof![
        3 => (at, 0u8..8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        2 => (at, proptest::collection::vec(any::<u8>(), 1..4))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        1 => (at, proptest::sample::select(INVALID_UTF8))
            .prop_map(|(at, b)| Mutation::Insert { at, bytes: b.to_vec() }),
        2 => (at, 1usize..64).prop_map(|(at, len)| Mutation::Delete { at, len }),
        1 => at.prop_map(|at| Mutation::Truncate { at }),
        2 => (at, any::<usize>(), any::<usize>(), 1usize..200)
            .prop_map(|(at, from, start, len)| Mutation::Splice { at, from, start, len }),
        2 => any::<usize>().prop_map(|line| Mutation::DuplicateLine { line }),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines { a, b }),
        1 => any::<usize>().prop_map(|line| Mutation::DeleteLine { line }),
        4 => (at, proptest::sample::select(TOKENS)).prop_map(|(at, token)| Mutation::Token { at, token }),
    ]
    .boxed()
}

fn lines(bytes: &[u8]) -> Vec<Vec<u8>> {
    bytes
        .split_inclusive(|b| *b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

/// Applies `m` to `bytes`; `corpus` is every example file, for splices.
pub fn apply(bytes: &mut Vec<u8>, m: &Mutation, corpus: &[Vec<u8>]) {
    let pos = |at: usize, len: usize| if len == 0 { 0 } else { at % (len + 1) };
    match m {
        Mutation::Flip { at, bit } => {
            if !bytes.is_empty() {
                let i = at % bytes.len();
                bytes[i] ^= 1 << bit;
            }
        }
        Mutation::Insert { at, bytes: ins } => {
            let i = pos(*at, bytes.len());
            bytes.splice(i..i, ins.iter().copied());
        }
        Mutation::Delete { at, len } => {
            let i = pos(*at, bytes.len());
            let end = (i + len).min(bytes.len());
            bytes.drain(i..end);
        }
        Mutation::Truncate { at } => {
            let i = pos(*at, bytes.len());
            bytes.truncate(i);
        }
        Mutation::Splice {
            at,
            from,
            start,
            len,
        } => {
            if corpus.is_empty() {
                return;
            }
            let src = &corpus[from % corpus.len()];
            let s = pos(*start, src.len());
            let e = (s + len).min(src.len());
            let i = pos(*at, bytes.len());
            bytes.splice(i..i, src[s..e].iter().copied());
        }
        Mutation::DuplicateLine { line } => {
            let mut ls = lines(bytes);
            if !ls.is_empty() {
                let i = line % ls.len();
                let l = ls[i].clone();
                ls.insert(i, l);
                *bytes = ls.concat();
            }
        }
        Mutation::SwapLines { a, b } => {
            let mut ls = lines(bytes);
            if !ls.is_empty() {
                let n = ls.len();
                ls.swap(a % n, b % n);
                *bytes = ls.concat();
            }
        }
        Mutation::DeleteLine { line } => {
            let mut ls = lines(bytes);
            if !ls.is_empty() {
                let n = ls.len();
                ls.remove(line % n);
                *bytes = ls.concat();
            }
        }
        Mutation::Token { at, token } => {
            let i = pos(*at, bytes.len());
            bytes.splice(i..i, token.bytes());
        }
    }
}

/// The files of the four examples (plinth.toml and cluster files), as `(example, path, bytes)`.
pub fn example_files() -> Vec<(&'static str, String, Vec<u8>)> {
    let mut out = Vec::new();
    for ex in plinth_core::scaffold::EXAMPLES {
        for (path, bytes) in ex.files_named(ex.name) {
            let p = path.to_string_lossy().into_owned();
            if p == "plinth.toml" || p.starts_with("clusters/") {
                out.push((ex.name, p, bytes));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Running a case.

/// What one case did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The definition was valid and generated files were checked.
    pub rendered: bool,
    pub files: usize,
}

/// The platform directory cases are checked against: the service bases every example ships,
/// nothing else (the definition comes from memory).
pub struct Scratch {
    pub tmp: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Scratch {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("fuzz");
        let ex = plinth_core::scaffold::example("multi-cloud").expect("example");
        plinth_core::scaffold::init(&dir, ex, "fuzz").expect("init");
        // The definition comes from the overlay: nothing on disk may leak into a case.
        std::fs::remove_file(dir.join("plinth.toml")).expect("rm");
        std::fs::remove_dir_all(dir.join("clusters")).expect("rm");
        Scratch { tmp }
    }

    pub fn dir(&self) -> PathBuf {
        self.tmp.path().join("fuzz")
    }
}

/// Loads, validates, resolves and (when valid) renders the files in memory; checks the
/// properties. `Err` describes the broken property.
pub fn run_overlay(dir: &Path, overlay: &Overlay) -> Result<Outcome, String> {
    let loaded = plinth_core::load::load_virtual(dir, overlay);
    finish(dir, loaded)
}

/// Same for files given as bytes that may not be UTF-8: those are read from a directory on
/// disk (the loader's own UTF-8 check is under test).
pub fn run_bytes(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<Outcome, String> {
    if files.iter().all(|(_, b)| std::str::from_utf8(b).is_ok()) {
        let overlay: Overlay = files
            .iter()
            .map(|(p, b)| {
                (
                    PathBuf::from(p),
                    Some(String::from_utf8(b.clone()).expect("checked utf8")),
                )
            })
            .collect();
        return run_overlay(dir, &overlay);
    }
    let case = tempfile::tempdir_in(dir.parent().unwrap_or(dir)).expect("tempdir");
    for (p, b) in files {
        let path = case.path().join(p);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, b).expect("write");
    }
    let loaded = plinth_core::load::load(case.path());
    finish(case.path(), loaded)
}

fn finish(dir: &Path, loaded: plinth_core::load::Loaded) -> Result<Outcome, String> {
    let checked = plinth_core::check_loaded(loaded);
    check_diagnostics(&checked)?;
    if checked.has_errors() {
        return Ok(Outcome::default());
    }
    let (Some(p), Some(r)) = (&checked.platform, &checked.resolution) else {
        return Err("no errors, but no platform or resolution".into());
    };
    let out = dir.join("generated");
    let tree = plinth_core::generate::render_all(p, r, &out)
        .map_err(|e| format!("a valid platform failed to render: {e}"))?;
    check_tree(&tree)?;
    // What the read commands compute from the same platform: the advisor, capacity and the
    // diagrams must not panic on it either.
    let _ = plinth_core::advise::advise(p, r);
    let _ = plinth_core::advise::capacity::plan(p, r);
    let diagram = plinth_core::advise::diagram::build(p, r, None);
    for format in [
        plinth_core::advise::diagram::Format::Svg,
        plinth_core::advise::diagram::Format::Dot,
        plinth_core::advise::diagram::Format::Mermaid,
    ] {
        let _ = plinth_core::advise::diagram::render(&diagram, format);
    }
    Ok(Outcome {
        rendered: true,
        files: tree.len(),
    })
}

/// Every error has a location: a label in a file that was read, inside its text and on
/// character boundaries, or a path.
pub fn check_diagnostics(c: &plinth_core::Checked) -> Result<(), String> {
    for d in c.diagnostics.iter() {
        for l in &d.labels {
            let Some(f) = c.sources.get(l.file) else {
                return Err(format!(
                    "diagnostic `{}` ({}) points into a file that was not read",
                    d.code, d.message
                ));
            };
            let (s, e) = (l.span.start as usize, l.span.end as usize);
            if s > e || e > f.text.len() {
                return Err(format!(
                    "diagnostic `{}` ({}) has span {s}..{e} outside `{}` ({} bytes)",
                    d.code,
                    d.message,
                    f.name,
                    f.text.len()
                ));
            }
            if !f.text.is_char_boundary(s) || !f.text.is_char_boundary(e) {
                return Err(format!(
                    "diagnostic `{}` ({}) has span {s}..{e} inside a character of `{}`",
                    d.code, d.message, f.name
                ));
            }
        }
        if d.is_error() && d.location(&c.sources).is_none() {
            return Err(format!("error `{}` has no location: {}", d.code, d.message));
        }
    }
    Ok(())
}

/// Top-level keys a generated kustomization may have.
const KUSTOMIZATION_KEYS: &[&str] = &[
    "apiVersion",
    "kind",
    "namespace",
    "namePrefix",
    "nameSuffix",
    "resources",
    "labels",
    "commonAnnotations",
    "images",
    "replicas",
    "patches",
    "helmCharts",
];

/// Top-level blocks a generated Terraform file may have.
const TERRAFORM_BLOCKS: &[&str] = &[
    "terraform",
    "locals",
    "module",
    "provider",
    "resource",
    "output",
    "variable",
    "data",
];

/// Generated files keep their header, parse, and have only the structure Plinth writes.
pub fn check_tree(tree: &plinth_core::render::Tree) -> Result<(), String> {
    use plinth_core::render::{Provenance, provenance};
    for (path, content) in tree.files() {
        if !plinth_core::render::is_safe_relative(path) {
            return Err(format!("unsafe path `{path}`"));
        }
        // Copied user files (patches, extra resources) are theirs; modules are fixed text.
        if path.starts_with("modules/")
            || path.contains("/patches/")
            || path.contains("/resources/")
        {
            continue;
        }
        if provenance(content) != Provenance::Generated {
            return Err(format!(
                "`{path}`: the generated header is broken:\n{content}"
            ));
        }
        if path.ends_with(".tf") {
            let body = hcl::parse(content)
                .map_err(|e| format!("`{path}` is not valid HCL: {e}\n{content}"))?;
            for s in body.iter() {
                match s {
                    hcl::Structure::Block(b) if TERRAFORM_BLOCKS.contains(&b.identifier()) => {}
                    other => {
                        return Err(format!(
                            "`{path}` has an unexpected top-level item {other:?}\n{content}"
                        ));
                    }
                }
            }
        } else if path.ends_with(".yaml") {
            let docs = yaml_rust2::YamlLoader::load_from_str(content)
                .map_err(|e| format!("`{path}` is not valid YAML: {e}\n{content}"))?;
            let [doc] = docs.as_slice() else {
                return Err(format!(
                    "`{path}` holds {} YAML documents\n{content}",
                    docs.len()
                ));
            };
            let Some(map) = doc.as_hash() else {
                return Err(format!("`{path}` is not a YAML map\n{content}"));
            };
            for k in map.keys() {
                let k = k.as_str().unwrap_or_default();
                if !KUSTOMIZATION_KEYS.contains(&k) {
                    return Err(format!("`{path}` has an unexpected key `{k}`\n{content}"));
                }
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The watchdog and the budget.

/// Cases per fuzz test: `PLINTH_FUZZ_CASES`, small by default so CI stays fast.
pub fn budget(default: u32) -> u32 {
    std::env::var("PLINTH_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Per-case deadline: `PLINTH_FUZZ_DEADLINE_MS`, 2 s by default (10 s in debug builds, which
/// are an order of magnitude slower).
pub fn deadline() -> Duration {
    let default = if cfg!(debug_assertions) {
        10_000
    } else {
        2_000
    };
    Duration::from_millis(
        std::env::var("PLINTH_FUZZ_DEADLINE_MS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default),
    )
}

/// The proptest configuration: the budget, a fixed seed unless `PLINTH_FUZZ_SEED` says
/// otherwise (`random`, or a number), no regression files written into the source tree.
pub fn config(cases: u32) -> ProptestConfig {
    use proptest::test_runner::{RngAlgorithm, RngSeed};
    let seed = match std::env::var("PLINTH_FUZZ_SEED").ok().as_deref() {
        Some("random") => RngSeed::Random,
        Some(n) => RngSeed::Fixed(n.parse().expect("PLINTH_FUZZ_SEED: a number or `random`")),
        None => RngSeed::Fixed(0x706c_696e_7468),
    };
    ProptestConfig {
        cases,
        failure_persistence: None,
        rng_seed: seed,
        // Cheaper than ChaCha per value, and as good for finding bugs.
        rng_algorithm: RngAlgorithm::XorShift,
        max_shrink_iters: 2_000,
        max_shrink_time: 120_000,
        ..ProptestConfig::default()
    }
}

/// Counters for the report at the end of a run.
#[derive(Default)]
pub struct Stats {
    pub cases: AtomicU64,
    pub rendered: AtomicU64,
    pub files: AtomicU64,
    pub slowest_us: AtomicU64,
    /// Set once a case hung: later cases (proptest shrinking) are not run again, so one hung
    /// thread does not become many; the failure is reported with the original input.
    pub hung: AtomicBool,
}

impl Stats {
    pub fn report(&self, what: &str, started: Instant) {
        eprintln!(
            "fuzz[{what}]: {} cases in {:.1} s ({} valid and rendered, {} generated files checked, slowest case {:.1} ms)",
            self.cases.load(Ordering::Relaxed),
            started.elapsed().as_secs_f64(),
            self.rendered.load(Ordering::Relaxed),
            self.files.load(Ordering::Relaxed),
            self.slowest_us.load(Ordering::Relaxed) as f64 / 1000.0,
        );
    }
}

/// Runs `f` on its own thread: a panic or a run past the deadline is a failure, described
/// with `input`.
pub fn bounded<F>(stats: &Stats, input: impl Fn() -> String, f: F) -> Result<(), TestCaseError>
where
    F: FnOnce() -> Result<Outcome, String> + Send + 'static,
{
    if stats.hung.load(Ordering::Relaxed) {
        return Ok(());
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let started = Instant::now();
    std::thread::Builder::new()
        .name("fuzz-case".into())
        .stack_size(16 << 20)
        .spawn(move || {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|p| {
                p.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_string()))
                    .unwrap_or_else(|| "a panic".into())
            });
            let _ = tx.send(r);
        })
        .expect("spawn");
    let result = rx.recv_timeout(deadline());
    let us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    stats.slowest_us.fetch_max(us, Ordering::Relaxed);
    stats.cases.fetch_add(1, Ordering::Relaxed);
    match result {
        Ok(Ok(Ok(outcome))) => {
            if outcome.rendered {
                stats.rendered.fetch_add(1, Ordering::Relaxed);
                stats
                    .files
                    .fetch_add(outcome.files as u64, Ordering::Relaxed);
            }
            Ok(())
        }
        Ok(Ok(Err(property))) => Err(TestCaseError::fail(format!(
            "{property}\n--- input ---\n{}",
            input()
        ))),
        Ok(Err(panic)) => Err(TestCaseError::fail(format!(
            "PANIC: {panic}\n--- input ---\n{}",
            input()
        ))),
        Err(_) => {
            stats.hung.store(true, Ordering::Relaxed);
            Err(TestCaseError::fail(format!(
                "HANG: the case did not finish within {:?}\n--- input ---\n{}",
                deadline(),
                input()
            )))
        }
    }
}

/// Files for printing, as Rust literals that paste into a regression test.
pub fn show(files: &[(String, Vec<u8>)]) -> String {
    files
        .iter()
        .map(|(p, b)| match std::str::from_utf8(b) {
            Ok(t) => format!("{p:?}: {t:?}\n"),
            Err(_) => format!("{p:?}: (not UTF-8) {b:?}\n"),
        })
        .collect()
}
