//! Declarative key tables: each configuration key's type, default, requirement and doc.
//!
//! One table per provider (cluster and node pool) and one for services. Validation, defaults,
//! `show`, `plinth schema` and the configuration reference are all derived from these tables,
//! so there is no second list to keep in sync.

use crate::diagnostic::{Diagnostic, Diagnostics, suggest};
use crate::value::{Kind, Origin, Table, Value};

/// The type of a configuration value.
#[derive(Debug)]
pub enum Ty {
    String,
    /// A string that must not be empty and must match a simple rule, described for messages.
    Pattern(fn(&str) -> bool, &'static str),
    Integer {
        min: i64,
    },
    Number,
    Boolean,
    Enum(&'static [&'static str]),
    /// An IPv4 or IPv6 network in CIDR notation.
    Cidr,
    List(&'static Ty),
    /// A table with free-form keys and values of one type.
    Map(&'static Ty),
    /// A table with a fixed set of fields.
    Object(&'static [Field]),
    /// A string, integer, number or boolean (backend settings).
    Scalar,
    /// Anything (Helm values).
    Any,
}

/// A field of an [`Ty::Object`].
#[derive(Debug)]
pub struct Field {
    pub name: &'static str,
    pub ty: Ty,
    pub required: bool,
    pub doc: &'static str,
}

impl Field {
    pub const fn new(name: &'static str, ty: Ty, doc: &'static str) -> Field {
        Field {
            name,
            ty,
            required: false,
            doc,
        }
    }
    pub const fn required(mut self) -> Field {
        self.required = true;
        self
    }
}

/// What a key resolves to when no environment sets it (applied after inheritance).
#[derive(Debug)]
pub enum Default {
    None,
    Str(&'static str),
    Int(i64),
    Num(f64),
    Bool(bool),
    Strs(&'static [&'static str]),
    /// Another key of the same component (e.g. `desired_capacity` follows `min_size`).
    Key(&'static str),
    /// A key of the cluster the node pool belongs to (e.g. its availability zones).
    ClusterKey(&'static str),
    /// A `[platform]` setting (`name_prefix`, `base_domain`).
    Platform(&'static str),
    /// Computed from the resolved component; the string documents the rule.
    Computed(fn(&DefaultCtx<'_>) -> Option<Kind>, &'static str),
}

/// What a computed default may look at.
pub struct DefaultCtx<'a> {
    pub environment: &'a str,
    /// The component's resolved configuration so far (explicit values only).
    pub config: &'a Table,
}

/// One configuration key.
#[derive(Debug)]
pub struct Key {
    pub name: &'static str,
    pub ty: Ty,
    pub required: bool,
    pub default: Default,
    pub doc: &'static str,
    /// Changing it makes the provider replace the cluster or pool: a workload migration.
    pub forces_replacement: bool,
    /// A cluster key whose change replaces every node pool (new subnets) but not the cluster.
    pub replaces_pools: bool,
}

impl Key {
    pub const fn new(name: &'static str, ty: Ty, doc: &'static str) -> Key {
        Key {
            name,
            ty,
            required: false,
            default: Default::None,
            doc,
            forces_replacement: false,
            replaces_pools: false,
        }
    }
    pub const fn required(mut self) -> Key {
        self.required = true;
        self
    }
    pub const fn default(mut self, default: Default) -> Key {
        self.default = default;
        self
    }
    pub const fn replaces(mut self) -> Key {
        self.forces_replacement = true;
        self
    }
    pub const fn replaces_pools(mut self) -> Key {
        self.replaces_pools = true;
        self
    }

    /// The default as a human sentence, for docs and `show`.
    pub fn default_doc(&self) -> Option<String> {
        Some(match &self.default {
            Default::None => return None,
            Default::Str(s) => format!("`\"{s}\"`"),
            Default::Int(i) => format!("`{i}`"),
            Default::Num(n) => format!("`{n}`"),
            Default::Bool(b) => format!("`{b}`"),
            Default::Strs(l) => format!(
                "`[{}]`",
                l.iter()
                    .map(|s| format!("\"{s}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Default::Key(k) => format!("the value of `{k}`"),
            Default::ClusterKey(k) => format!("the cluster's `{k}`"),
            Default::Platform(k) => format!("`[platform] {k}`"),
            Default::Computed(_, doc) => (*doc).to_string(),
        })
    }
}

/// Finds a key by name.
pub fn find<'a>(keys: &'a [Key], name: &str) -> Option<&'a Key> {
    keys.iter().find(|k| k.name == name)
}

/// Where a table of configuration sits, for messages ("cluster `eks_zero`, environment `ops`").
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub component: &'a str,
    pub environment: Option<&'a str>,
}

/// Checks one environment's table of a component against a key table: unknown keys (with
/// did-you-mean) and wrong types. Returns the table without the bad entries.
pub fn check_table(keys: &[Key], table: &Table, ctx: Ctx<'_>, diags: &mut Diagnostics) -> Table {
    check_layer(keys, table, ctx, true, diags)
}

/// [`check_table`] for one layer of a component; `complete` says whether the layer must hold
/// every required field of its tables. Under `deep` inheritance a layer need not: tables merge
/// at every depth, so required fields are checked on the resolved value
/// ([`missing_fields`]). Items of lists are always complete: lists replace whole.
pub fn check_layer(
    keys: &[Key],
    table: &Table,
    ctx: Ctx<'_>,
    complete: bool,
    diags: &mut Diagnostics,
) -> Table {
    let mut good = Vec::with_capacity(table.len());
    for (name, value) in table {
        match find(keys, name) {
            None => diags.push(
                Diagnostic::error(
                    "unknown-key",
                    match ctx.environment {
                        Some(env) => format!(
                            "unknown key `{name}` in {} (environment `{env}`)",
                            ctx.component
                        ),
                        None => format!("unknown key `{name}` in {}", ctx.component),
                    },
                )
                .at_key(value.origin, "not a key of this component")
                .maybe_hint(suggest(name, keys.iter().map(|k| k.name))),
            ),
            Some(key) => {
                if check_value_in(&key.ty, value, At::Key(name), complete, diags) {
                    good.push((name, value));
                }
            }
        }
    }
    if good.len() == table.len() {
        // All good (the usual case): the same table, shared rather than copied.
        return table.clone();
    }
    good.into_iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Keys whose values make up names, domains or provider-side identities: never sensitive.
const NEVER_SENSITIVE: &[&str] = &[
    "name_prefix",
    "base_domain",
    "region",
    "name",
    "node_pool_name",
];

/// Whether a cluster or node pool key may be written as a sensitive value: scalars that are
/// not parts of names and domains.
pub fn may_be_sensitive(key: &str, ty: &Ty) -> bool {
    is_scalar(ty) && !NEVER_SENSITIVE.contains(&key)
}

/// Whether a type is a single value (what `{ sensitive = true, ... }` may stand for).
fn is_scalar(ty: &Ty) -> bool {
    matches!(
        ty,
        Ty::String
            | Ty::Pattern(..)
            | Ty::Integer { .. }
            | Ty::Number
            | Ty::Boolean
            | Ty::Enum(_)
            | Ty::Cidr
    )
}

/// `{ sensitive = true, value = ... }` or `{ sensitive = true, from_env = "NAME" }`: a value
/// rendered as a Terraform sensitive variable and masked in output.
fn check_sensitive(
    ty: &Ty,
    value: &Value,
    t: &crate::value::Table,
    path: &str,
    diags: &mut Diagnostics,
) -> bool {
    if NEVER_SENSITIVE.contains(&path) {
        diags.push(
            Diagnostic::error(
                "invalid-value",
                format!("`{path}` cannot be sensitive: it is part of names and domains"),
            )
            .at_value(value.origin, "must be written plainly"),
        );
        return false;
    }
    let mut ok = true;
    for (k, v) in t {
        if !matches!(k.as_str(), "sensitive" | "value" | "from_env") {
            ok = false;
            diags.push(
                Diagnostic::error(
                    "unknown-key",
                    format!("unknown field `{k}` in the sensitive value `{path}`"),
                )
                .at_key(v.origin, "expected `sensitive`, `value` or `from_env`")
                .maybe_hint(suggest(k, ["sensitive", "value", "from_env"])),
            );
        }
    }
    if t.get("sensitive").and_then(Value::as_bool) != Some(true) {
        ok = false;
        diags.push(
            Diagnostic::error(
                "invalid-value",
                format!("`{path}.sensitive` must be `true`"),
            )
            .at_value(
                t.get("sensitive").map_or(value.origin, |v| v.origin),
                "write `sensitive = true`",
            ),
        );
    }
    match (t.get("value"), t.get("from_env")) {
        (Some(v), None) => ok &= check_value(ty, v, path, diags),
        (None, Some(env)) => {
            let valid = env.as_str().is_some_and(|n| {
                n.chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            });
            if !valid {
                ok = false;
                diags.push(
                    Diagnostic::error(
                        "invalid-value",
                        format!("`{path}.from_env` must be a variable name"),
                    )
                    .at_value(env.origin, "letters, digits and `_`")
                    .hint("it names the Terraform variable, set at apply time as `TF_VAR_<name>`"),
                );
            }
        }
        _ => {
            ok = false;
            diags.push(
                Diagnostic::error(
                    "invalid-value",
                    format!(
                        "the sensitive value `{path}` needs exactly one of `value` or `from_env`"
                    ),
                )
                .at_value(value.origin, "which value?"),
            );
        }
    }
    ok
}

/// Checks a value against a type; reports each problem with its position. True when it fits.
pub fn check_value(ty: &Ty, value: &Value, path: &str, diags: &mut Diagnostics) -> bool {
    check_value_in(ty, value, At::Key(path), true, diags)
}

/// A value that needs a human decision, as `plinth import kubestack` writes it where the source
/// does not say (an AKS cluster's region in a resource group the repository does not declare):
/// `"<decide: what to find out>"`. Every command that validates reports it until it is replaced.
pub fn placeholder(what: &str) -> String {
    format!("{PLACEHOLDER_OPEN}{what}>")
}

const PLACEHOLDER_OPEN: &str = "<decide: ";

/// What a placeholder asks, if `s` is one.
pub fn placeholder_question(s: &str) -> Option<&str> {
    s.strip_prefix(PLACEHOLDER_OPEN)?.strip_suffix('>')
}

/// The code of the diagnostic for a placeholder (the import writes platforms with them).
pub const UNDECIDED: &str = "undecided";

/// Where a value is (`labels.team`, `taints[0]`), spelled out only when a message needs it:
/// checking a fleet's values built a string for every list item and table entry (issue 20).
#[derive(Clone, Copy)]
enum At<'a> {
    Key(&'a str),
    Item(&'a At<'a>, usize),
    Field(&'a At<'a>, &'a str),
}

impl std::fmt::Display for At<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            At::Key(k) => f.write_str(k),
            At::Item(of, i) => write!(f, "{of}[{i}]"),
            At::Field(of, k) => write!(f, "{of}.{k}"),
        }
    }
}

/// [`check_value`]; `complete`: whether tables must hold their required fields (see
/// [`check_layer`]).
fn check_value_in(
    ty: &Ty,
    value: &Value,
    path: At<'_>,
    complete: bool,
    diags: &mut Diagnostics,
) -> bool {
    if let Kind::String(s) = &value.kind
        && let Some(question) = placeholder_question(s)
    {
        diags.push(
            Diagnostic::error(
                UNDECIDED,
                format!("`{path}` is a placeholder that needs a human decision: {question}"),
            )
            .at_value(value.origin, "replace this placeholder with the real value")
            .hint("`plinth import kubestack` could not tell this value from the repository; nothing is generated until it is written here"),
        );
        return false;
    }
    if is_scalar(ty)
        && let Kind::Table(t) = &value.kind
        && t.contains_key("sensitive")
    {
        return check_sensitive(ty, value, t, &path.to_string(), diags);
    }
    let mismatch = |diags: &mut Diagnostics, expected: &str| {
        let mut d = Diagnostic::error(
            "wrong-type",
            format!("`{path}` must be {expected}, found {}", value.type_name()),
        )
        .at_value(value.origin, format!("this is a {}", value.type_name()));
        if let Kind::String(s) = &value.kind {
            if expected.contains("integer") && s.trim().parse::<i64>().is_ok() {
                d = d.hint(format!("write the number without quotes: `{}`", s.trim()));
            } else if expected.contains("boolean") && matches!(s.trim(), "true" | "false") {
                d = d.hint(format!("write `{}` without quotes", s.trim()));
            } else if expected.contains("list") && s.contains(',') {
                d = d.hint(
                    "lists are TOML arrays now, not comma-separated strings: `[\"a\", \"b\"]`",
                );
            } else if expected.contains("table") && s.contains('=') {
                d = d.hint("maps are TOML tables now, not `k=v,k2=v2` strings: `{ k = \"v\" }`");
            }
        }
        if is_scalar(ty)
            && let Kind::Table(t) = &value.kind
            && let Some(k) = t.keys().find(|k| suggest(k, ["sensitive"]).is_some())
        {
            d = d.hint(format!("did you mean `sensitive` (not `{k}`)? A sensitive value is written `{{ sensitive = true, value = ... }}` or `{{ sensitive = true, from_env = \"NAME\" }}`"));
        }
        diags.push(d);
        false
    };
    match (ty, &value.kind) {
        (Ty::String, Kind::String(_)) => true,
        (Ty::String, _) => mismatch(diags, "a string"),
        (Ty::Pattern(ok, rule), Kind::String(s)) => {
            if ok(s) {
                true
            } else {
                diags.push(
                    Diagnostic::error(
                        "invalid-value",
                        format!("`{path}` = \"{s}\" is not valid: {rule}"),
                    )
                    .at_value(value.origin, "invalid"),
                );
                false
            }
        }
        (Ty::Pattern(..), _) => mismatch(diags, "a string"),
        (Ty::Integer { min }, Kind::Integer(i)) => {
            if i < min {
                diags.push(
                    Diagnostic::error(
                        "invalid-value",
                        format!("`{path}` must be at least {min}, found {i}"),
                    )
                    .at_value(value.origin, "too small"),
                );
                false
            } else {
                true
            }
        }
        (Ty::Integer { .. }, _) => mismatch(diags, "an integer"),
        (Ty::Number, Kind::Integer(_) | Kind::Float(_)) => true,
        (Ty::Number, _) => mismatch(diags, "a number"),
        (Ty::Boolean, Kind::Boolean(_)) => true,
        (Ty::Boolean, _) => mismatch(diags, "a boolean (`true` or `false`)"),
        (Ty::Enum(allowed), Kind::String(s)) => {
            if allowed.contains(&s.as_str()) {
                true
            } else {
                diags.push(
                    Diagnostic::error(
                        "invalid-value",
                        format!("`{path}` = \"{s}\" is not an accepted value"),
                    )
                    .at_value(value.origin, "not accepted")
                    .maybe_hint(suggest(s, allowed.iter().copied())),
                );
                false
            }
        }
        (Ty::Enum(_), _) => mismatch(diags, "a string"),
        (Ty::Cidr, Kind::String(s)) => {
            if is_cidr(s) {
                true
            } else {
                diags.push(
                    Diagnostic::error(
                        "invalid-value",
                        format!("`{path}` = \"{s}\" is not a CIDR block"),
                    )
                    .at_value(value.origin, "expected e.g. `10.0.0.0/16`"),
                );
                false
            }
        }
        (Ty::Cidr, _) => mismatch(diags, "a CIDR string"),
        (Ty::List(inner), Kind::Array(items)) => {
            let mut ok = true;
            for (i, item) in items.iter().enumerate() {
                ok &= check_value_in(inner, item, At::Item(&path, i), true, diags);
            }
            ok
        }
        (Ty::List(_), _) => mismatch(diags, "a list"),
        (Ty::Map(inner), Kind::Table(t)) => {
            let mut ok = true;
            for (k, v) in t {
                ok &= check_value_in(inner, v, At::Field(&path, k), complete, diags);
            }
            ok
        }
        (Ty::Map(_), _) => mismatch(diags, "a table"),
        (Ty::Object(fields), Kind::Table(t)) => {
            let mut ok = true;
            for (k, v) in t {
                match fields.iter().find(|f| f.name == k) {
                    Some(f) => {
                        ok &= check_value_in(&f.ty, v, At::Field(&path, k), complete, diags);
                    }
                    None => {
                        ok = false;
                        diags.push(
                            Diagnostic::error(
                                "unknown-key",
                                format!("unknown field `{k}` in `{path}`"),
                            )
                            .at_key(v.origin, "not a field of this table")
                            .maybe_hint(suggest(k, fields.iter().map(|f| f.name))),
                        );
                    }
                }
            }
            if complete {
                ok &= required_fields(fields, t, value, &path, diags);
            }
            ok
        }
        (Ty::Object(_), _) => mismatch(diags, "a table"),
        (Ty::Scalar, Kind::Array(_) | Kind::Table(_)) => {
            mismatch(diags, "a string, number or boolean")
        }
        (Ty::Scalar | Ty::Any, _) => true,
    }
}

/// Reports the required fields `t` lacks.
fn required_fields(
    fields: &[Field],
    t: &Table,
    value: &Value,
    path: &dyn std::fmt::Display,
    diags: &mut Diagnostics,
) -> bool {
    let mut ok = true;
    for f in fields
        .iter()
        .filter(|f| f.required && !t.contains_key(f.name))
    {
        ok = false;
        diags.push(
            Diagnostic::error(
                "missing-key",
                format!("`{path}` needs the field `{}`", f.name),
            )
            .at_value(value.origin, format!("`{}` missing here", f.name))
            .hint(f.doc),
        );
    }
    ok
}

/// The required fields a resolved value lacks in its tables (not in list items, which each
/// layer checks whole): the check `deep` inheritance defers from the layers to the result.
pub fn missing_fields(ty: &Ty, value: &Value, path: &str, diags: &mut Diagnostics) -> bool {
    match (ty, &value.kind) {
        (Ty::Object(fields), Kind::Table(t)) if value.sensitive().is_none() => {
            let mut ok = required_fields(fields, t, value, &path, diags);
            for (k, v) in t {
                if let Some(f) = fields.iter().find(|f| f.name == k) {
                    ok &= missing_fields(&f.ty, v, &format!("{path}.{k}"), diags);
                }
            }
            ok
        }
        (Ty::Map(inner), Kind::Table(t)) => t.iter().fold(true, |ok, (k, v)| {
            missing_fields(inner, v, &format!("{path}.{k}"), diags) && ok
        }),
        _ => true,
    }
}

/// True for `a.b.c.d/n` (n ≤ 32) or an IPv6 address with a prefix length ≤ 128.
pub fn is_cidr(s: &str) -> bool {
    let Some((addr, len)) = s.split_once('/') else {
        return false;
    };
    let Ok(len) = len.parse::<u8>() else {
        return false;
    };
    if let Ok(ip) = addr.parse::<std::net::Ipv4Addr>() {
        let _ = ip;
        len <= 32
    } else {
        addr.parse::<std::net::Ipv6Addr>().is_ok() && len <= 128
    }
}

/// The value a key's default gives, if it has one that needs no other component.
pub fn literal_default(key: &Key) -> Option<Kind> {
    Some(match &key.default {
        Default::Str(s) => Kind::String(crate::value::Str::from_static(s)),
        Default::Int(i) => Kind::Integer(*i),
        Default::Num(n) => Kind::Float(*n),
        Default::Bool(b) => Kind::Boolean(*b),
        Default::Strs(l) => Kind::Array(l.iter().map(|s| Value::string(*s)).collect()),
        _ => return None,
    })
}

/// JSON schema of a type, for `plinth schema`.
pub fn json_schema(ty: &Ty) -> serde_json::Value {
    json_schema_in(ty, false)
}

/// `{ sensitive = true, value = ... }` or `{ sensitive = true, from_env = "NAME" }` in place of
/// the scalar `base`.
fn sensitive_schema(base: serde_json::Value) -> serde_json::Value {
    serde_json::json!({"anyOf": [base.clone(), {
        "type": "object",
        "description": "A sensitive value: a Terraform sensitive variable, masked in output.",
        "properties": {
            "sensitive": {"const": true},
            "value": base,
            "from_env": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$", "description": "Read at plan time from `TF_VAR_<from_env>`."}
        },
        "required": ["sensitive"],
        "additionalProperties": false
    }]})
}

/// `sensitive`: scalars may be written as sensitive values (cluster and node pool config).
fn json_schema_in(ty: &Ty, sensitive: bool) -> serde_json::Value {
    use serde_json::json;
    if sensitive && is_scalar(ty) {
        return sensitive_schema(json_schema_in(ty, false));
    }
    let json_schema = |t: &Ty| json_schema_in(t, sensitive);
    match ty {
        Ty::String => json!({"type": "string"}),
        Ty::Pattern(_, rule) => json!({"type": "string", "description": rule}),
        Ty::Integer { min } => json!({"type": "integer", "minimum": min}),
        Ty::Number => json!({"type": "number"}),
        Ty::Boolean => json!({"type": "boolean"}),
        Ty::Enum(values) => json!({"type": "string", "enum": values}),
        Ty::Cidr => json!({"type": "string", "pattern": r"^[0-9a-fA-F.:]+/[0-9]{1,3}$"}),
        Ty::List(inner) => json!({"type": "array", "items": json_schema(inner)}),
        Ty::Map(inner) => json!({"type": "object", "additionalProperties": json_schema(inner)}),
        Ty::Object(fields) => {
            let props: serde_json::Map<_, _> = fields
                .iter()
                .map(|f| {
                    let mut s = json_schema(&f.ty);
                    s["description"] = f.doc.into();
                    (f.name.to_string(), s)
                })
                .collect();
            let required: Vec<_> = fields
                .iter()
                .filter(|f| f.required)
                .map(|f| f.name)
                .collect();
            json!({"type": "object", "properties": props, "required": required, "additionalProperties": false})
        }
        Ty::Scalar => json!({"type": ["string", "number", "boolean"]}),
        Ty::Any => json!({}),
    }
}

/// JSON schema of a whole key table (one environment's `config`); `sensitive` where values
/// may be marked sensitive (cluster and node pool configuration).
pub fn table_schema(keys: &[Key], sensitive: bool) -> serde_json::Value {
    let props: serde_json::Map<_, _> = keys
        .iter()
        .map(|k| {
            let mut s = json_schema_in(&k.ty, sensitive && !NEVER_SENSITIVE.contains(&k.name));
            let mut doc = k.doc.to_string();
            if let Some(d) = k.default_doc() {
                doc.push_str(&format!(" Default: {d}."));
            }
            if k.required {
                doc.push_str(" Required (in the resolved configuration of every environment).");
            }
            s["description"] = doc.into();
            if let Some(d) = literal_default(k) {
                s["default"] = Value::builtin(d).to_json();
            }
            (k.name.to_string(), s)
        })
        .collect();
    serde_json::json!({"type": "object", "properties": props, "additionalProperties": false})
}

/// A short type name for docs: `list of string`, `table of integer`.
pub fn type_doc(ty: &Ty) -> String {
    match ty {
        Ty::String | Ty::Pattern(..) => "string".into(),
        Ty::Integer { min } if *min > i64::MIN => format!("integer ≥ {min}"),
        Ty::Integer { .. } => "integer".into(),
        Ty::Number => "number".into(),
        Ty::Boolean => "boolean".into(),
        Ty::Enum(v) => v
            .iter()
            .map(|s| format!("\"{s}\""))
            .collect::<Vec<_>>()
            .join(" \\| "),
        Ty::Cidr => "CIDR".into(),
        Ty::List(inner) => format!("list of {}", type_doc(inner)),
        Ty::Map(inner) => format!("table of {}", type_doc(inner)),
        Ty::Object(fields) => format!(
            "table {{{}}}",
            fields.iter().map(|f| f.name).collect::<Vec<_>>().join(", ")
        ),
        Ty::Scalar => "string, number or boolean".into(),
        Ty::Any => "any".into(),
    }
}

/// Markdown reference of an object's fields, for the docs.
pub fn fields_markdown(fields: &[Field]) -> String {
    let mut s = String::from("| field | type | description |\n|---|---|---|\n");
    for f in fields {
        s.push_str(&format!(
            "| `{}` | {} | {} |\n",
            f.name,
            type_doc(&f.ty),
            f.doc
        ));
    }
    s
}

/// Markdown reference of a key table, for the docs; `replaced` names what a replacing key
/// replaces (`the cluster`, `the node pool`).
pub fn markdown(keys: &[Key], replaced: &str) -> String {
    let mut s = String::from("| key | type | default | description |\n|---|---|---|---|\n");
    for k in keys {
        let default = if k.required {
            "**required**".to_string()
        } else {
            k.default_doc().unwrap_or_else(|| "—".into())
        };
        let mut doc = k.doc.to_string();
        if k.forces_replacement {
            doc.push_str(&format!(
                " Changing it replaces {replaced} (a workload migration)."
            ));
        }
        if k.replaces_pools {
            doc.push_str(" Changing it replaces every node pool (their pods are rescheduled).");
        }
        s.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            k.name,
            type_doc(&k.ty),
            default,
            doc
        ));
    }
    s
}

/// Used in [`Ty::Pattern`]: a DNS-1123 label (lowercase letters, digits and `-`).
pub fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// Used in [`Ty::Pattern`]: dot-separated DNS labels, or empty.
pub fn is_domain_or_empty(s: &str) -> bool {
    s.is_empty() || (s.len() <= 253 && s.split('.').all(is_dns_label))
}

/// Origin-preserving default value for `key`, or `None` when it needs other components.
pub fn default_value(key: &Key, ctx: &DefaultCtx<'_>) -> Option<Value> {
    let kind = match &key.default {
        Default::Computed(f, _) => f(ctx)?,
        // The value is the other key's, but nobody wrote it for this key: it is a default.
        Default::Key(other) => ctx.config.get(other)?.kind.clone(),
        _ => literal_default(key)?,
    };
    Some(Value {
        kind,
        origin: Origin::BUILTIN,
    })
}
