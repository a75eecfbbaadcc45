//! Credentials never belong in the code base: they come from the environment or the CI's
//! secret store. This lint scans every string of the definition for the shapes of well-known
//! credentials and reports each with its position. Values that are merely confidential can be
//! marked `{ sensitive = true, value = ... }` (or read from the environment with
//! `{ sensitive = true, from_env = "NAME" }`); see [`crate::keys`].

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::platform::Platform;
use crate::resolve::Resolution;
use crate::value::{Kind, Sensitive, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;

/// The kind of credential a string looks like, if any. Linear in the string's length, and
/// quick for the usual short value: a search runs only when every byte its marker needs is in
/// the string.
pub fn looks_like_secret(s: &str) -> Option<&'static str> {
    let bytes = s.as_bytes();
    let present = ByteSet::of(bytes);
    let may_hold = |marker: &str| present.has_all(marker.as_bytes()) && s.contains(marker);
    if may_hold("-----BEGIN") && may_hold("PRIVATE KEY") {
        return Some("a private key");
    }
    if may_hold("\"private_key\"") && may_hold("\"client_email\"") {
        return Some("a Google service account key");
    }
    if present.has_all(b"A") {
        for prefix in ["AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "AIPA"] {
            if !present.has_all(prefix.as_bytes()) {
                continue;
            }
            for (i, _) in s.match_indices(prefix) {
                let rest = &bytes[i + 4..];
                if rest.len() >= 16
                    && rest[..16]
                        .iter()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
                    && rest.get(16).is_none_or(|b| !b.is_ascii_alphanumeric())
                    && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric())
                {
                    return Some("an AWS access key id");
                }
            }
        }
    }
    // A prefix followed by at least `min` token characters: each match looks at no more than
    // `min` of them, so a string of repeated prefixes costs linear time, not quadratic.
    let token = |prefix: &str, min: usize| {
        present.has_all(prefix.as_bytes())
            && s.match_indices(prefix).any(|(i, _)| {
                let run = bytes[i + prefix.len()..]
                    .iter()
                    .take(min)
                    .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_' || **b == b'-')
                    .count();
                run >= min && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric())
            })
    };
    for (prefix, min, what) in [
        ("ghp_", 30, "a GitHub token"),
        ("gho_", 30, "a GitHub token"),
        ("ghs_", 30, "a GitHub token"),
        ("ghu_", 30, "a GitHub token"),
        ("github_pat_", 30, "a GitHub token"),
        ("glpat-", 20, "a GitLab token"),
        ("xoxb-", 10, "a Slack token"),
        ("xoxp-", 10, "a Slack token"),
        ("AIza", 35, "a Google API key"),
        ("sk_live_", 20, "a Stripe secret key"),
    ] {
        if token(prefix, min) {
            return Some(what);
        }
    }
    if may_hold("AccountKey=")
        || may_hold("SharedAccessSignature=")
        || may_hold("sig=") && may_hold("sv=")
    {
        return Some("an Azure storage key or SAS token");
    }
    // `scheme://user:password@host`
    if present.has_all(b":/@")
        && let Some((_, rest)) = s.split_once("://")
    {
        let authority = rest.split('/').next().unwrap_or_default();
        if let Some((userinfo, _)) = authority.rsplit_once('@')
            && userinfo
                .split_once(':')
                .is_some_and(|(_, pw)| !pw.is_empty())
        {
            return Some("a password in a URL");
        }
    }
    // A JSON Web Token: three base64url parts, the first two JSON objects (`eyJ`). The parts
    // are counted, not collected (a long value of dots made a vector of millions).
    if s.starts_with("eyJ") {
        let mut parts = s.split('.');
        let three = [parts.next(), parts.next(), parts.next()];
        if parts.next().is_none()
            && let [Some(a), Some(b), Some(c)] = three
            && b.starts_with("eyJ")
            && [a, b, c].iter().all(|p| p.len() >= 10)
        {
            return Some("a JSON Web Token");
        }
    }
    None
}

/// Which byte values occur in a string, gathered in one pass.
struct ByteSet([u64; 4]);

impl ByteSet {
    fn of(bytes: &[u8]) -> ByteSet {
        let mut set = [0u64; 4];
        for &b in bytes {
            set[usize::from(b >> 6)] |= 1 << (b & 63);
        }
        ByteSet(set)
    }

    fn has_all(&self, bytes: &[u8]) -> bool {
        bytes
            .iter()
            .all(|&b| self.0[usize::from(b >> 6)] & (1 << (b & 63)) != 0)
    }
}

/// Reports every string of the definition that looks like a credential, and sensitive values
/// where they cannot stay hidden.
pub fn lint(p: &Platform, diags: &mut Diagnostics) {
    for v in p.settings.raw.values() {
        scan(v, "`[platform]`", diags);
        misplaced_sensitive(
            v,
            "`[platform]`",
            "platform settings name and place things",
            diags,
        );
    }
    let load = "expected load is read by `plinth capacity`, not applied";
    for c in p.clusters.values() {
        let cw = format!("cluster `{}`", c.key);
        for cfg in c.configs.by_env.values() {
            cfg.table.values().for_each(|v| scan(v, &cw, diags));
        }
        for (_, t) in c.header.load.by_env.values() {
            t.values()
                .for_each(|v| misplaced_sensitive(v, &cw, load, diags));
        }
        for pool in c.node_pools.values() {
            let what = format!("node pool `{}.{}`", c.key, pool.key);
            for cfg in pool.configs.by_env.values() {
                cfg.table.values().for_each(|v| scan(v, &what, diags));
            }
            for (_, t) in pool.header.load.by_env.values() {
                t.values()
                    .for_each(|v| misplaced_sensitive(v, &what, load, diags));
            }
        }
        for s in c.services.values() {
            let what = format!("service `{}.{}`", c.key, s.key);
            let why = "service configuration is rendered into manifests committed to git";
            for cfg in s.configs.by_env.values() {
                cfg.table.values().for_each(|v| scan(v, &what, diags));
                cfg.table
                    .values()
                    .for_each(|v| misplaced_sensitive(v, &what, why, diags));
            }
        }
    }
}

fn scan(v: &Value, what: &str, diags: &mut Diagnostics) {
    match &v.kind {
        Kind::String(s) => {
            if let Some(kind) = looks_like_secret(s) {
                diags.push(
                    Diagnostic::error("secret-in-definition", format!("{what}: this looks like {kind}"))
                        .at_value(v.origin, "a credential in the code base")
                        .hint("credentials come from the environment or the CI's secret store, never from the definition: rotate this one, remove it, and pass it in at apply time (for a configuration value: `{ sensitive = true, from_env = \"NAME\" }`, set as `TF_VAR_NAME`)"),
                );
            }
        }
        Kind::Array(a) => a.iter().for_each(|x| scan(x, what, diags)),
        Kind::Table(t) => t.values().for_each(|x| scan(x, what, diags)),
        _ => {}
    }
}

/// Sensitive values become Terraform variables: only cluster and node pool configuration is
/// rendered that way. Anywhere else one would be shown or written.
fn misplaced_sensitive(v: &Value, what: &str, why: &str, diags: &mut Diagnostics) {
    if v.sensitive().is_some() {
        diags.push(
            Diagnostic::error("misplaced-sensitive", format!("{what}: a sensitive value is only allowed in cluster and node pool configuration"))
                .at_value(v.origin, why)
                .hint("give a service its secrets at run time with a Kubernetes Secret from your secret store (e.g. the external-secrets operator); write other settings plainly"),
        );
    } else if let Kind::Table(t) = &v.kind {
        t.values()
            .for_each(|x| misplaced_sensitive(x, what, why, diags));
    }
}

/// A value marked sensitive, as the Terraform variable that carries it: generated files
/// reference `var.<name>` and never contain the value.
#[derive(Debug, Clone, PartialEq)]
pub struct SensitiveVar {
    pub name: String,
    /// What it configures, for the variable's description and messages.
    pub what: String,
    /// Terraform's type of the variable.
    pub ty: &'static str,
    /// The value as `TF_VAR_<name>` passes it, when written in the definition; `None` when
    /// read from the environment of the plan/apply (`from_env`).
    pub literal: Option<String>,
    /// The environments whose configuration uses it.
    pub environments: BTreeSet<String>,
    /// The clusters whose configuration uses it (each root declares what its clusters use).
    pub clusters: BTreeSet<String>,
}

/// The variable name of a sensitive value written at `path` (cluster, environment, pool, keys
/// and list indices). Double underscores separate the parts, so different places do not meet.
pub fn variable_name<S: AsRef<str>>(path: &[S]) -> String {
    let mut name = String::from("sensitive");
    for part in path {
        name.push_str("__");
        name.extend(part.as_ref().chars().map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        }));
    }
    name
}

/// Whether a value is, or holds anywhere inside, a sensitive value.
pub fn contains_sensitive(v: &Value) -> bool {
    v.sensitive().is_some()
        || match &v.kind {
            Kind::Table(t) => t.values().any(contains_sensitive),
            Kind::Array(a) => a.iter().any(contains_sensitive),
            _ => false,
        }
}

/// Every sensitive value of every environment, by variable name.
pub fn variables(r: &Resolution) -> BTreeMap<String, SensitiveVar> {
    variables_of(r, |_| true)
}

/// The sensitive values of the clusters `keep` selects (one Terraform root's), by variable
/// name: a root's file is rendered from its own clusters, not by filtering the platform's.
pub fn variables_of(r: &Resolution, keep: impl Fn(&str) -> bool) -> BTreeMap<String, SensitiveVar> {
    let mut out: BTreeMap<String, SensitiveVar> = BTreeMap::new();
    for env in &r.environments {
        let e = env.environment.as_str();
        for c in env.clusters.values().filter(|c| keep(&c.key)) {
            let what = format!("cluster `{}`", c.key);
            let mut path = vec![c.key.clone(), e.to_string()];
            for (k, v) in &c.config {
                collect(v, k, &mut path, (&what, 2, e), &mut out);
            }
            for pool in c.node_pools.values() {
                let what = format!("node pool `{}.{}`", c.key, pool.key);
                let mut path = vec![c.key.clone(), e.to_string(), pool.key.clone()];
                for (k, v) in &pool.config {
                    collect(v, k, &mut path, (&what, 3, e), &mut out);
                }
            }
        }
    }
    out
}

/// Records `v` (at `path` + `step`) and any sensitive value inside it. `at` is the component
/// (for messages), how many entries of `path` name its place, and the environment.
fn collect(
    v: &Value,
    step: &str,
    path: &mut Vec<String>,
    at: (&str, usize, &str),
    out: &mut BTreeMap<String, SensitiveVar>,
) {
    let (what, place, env) = at;
    if !contains_sensitive(v) {
        return;
    }
    path.push(step.to_string());
    match (v.sensitive(), &v.kind) {
        (Some(s), _) => {
            let (name, literal, ty) = match s {
                Sensitive::Value(inner) => (
                    variable_name(path),
                    Some(tf_var_text(inner)),
                    tf_type(inner),
                ),
                Sensitive::FromEnv(n) => (n.to_string(), None, "string"),
            };
            let var = out.entry(name.clone()).or_insert_with(|| SensitiveVar {
                name,
                what: format!("`{}` of {what}", path[place..].join(".")),
                ty,
                literal,
                environments: BTreeSet::new(),
                clusters: BTreeSet::new(),
            });
            var.environments.insert(env.to_string());
            var.clusters.insert(path[0].clone());
        }
        (None, Kind::Table(t)) => {
            for (k, x) in t {
                collect(x, k, path, at, out);
            }
        }
        (None, Kind::Array(a)) => {
            for (i, x) in a.iter().enumerate() {
                collect(x, &i.to_string(), path, at, out);
            }
        }
        _ => {}
    }
    path.pop();
}

/// Clusters using a sensitive value. Masked output cannot show whether such a value changed,
/// so their Terraform roots are always planned rather than skipped as unchanged.
pub fn clusters_with_sensitive(r: &Resolution) -> BTreeSet<String> {
    variables(r)
        .into_values()
        .flat_map(|v| v.clusters)
        .collect()
}

/// A scalar as Terraform reads it from `TF_VAR_<name>`: strings raw, the rest as literals.
fn tf_var_text(v: &Value) -> String {
    match &v.kind {
        Kind::String(s) => s.to_string(),
        _ => v.to_json().to_string(),
    }
}

fn tf_type(v: &Value) -> &'static str {
    match &v.kind {
        Kind::Integer(_) | Kind::Float(_) => "number",
        Kind::Boolean(_) => "bool",
        _ => "string",
    }
}

/// The `TF_VAR_*` variables a plan or apply of `env` passes to Terraform: every value written
/// in the definition, and those the environment supplies. A value `env` reads from the
/// environment that is not set refuses the run before Terraform starts.
pub fn terraform_inputs(
    r: &Resolution,
    env: &str,
) -> Result<Vec<(String, OsString)>, crate::Error> {
    let mut inputs = Vec::new();
    let mut missing = Vec::new();
    for v in variables(r).into_values() {
        let key = format!("TF_VAR_{}", v.name);
        match v.literal {
            Some(text) => inputs.push((key, OsString::from(text))),
            None if v.environments.contains(env) && std::env::var_os(&key).is_none() => {
                missing.push(format!("`{key}` ({})", v.what));
            }
            None => {}
        }
    }
    if missing.is_empty() {
        Ok(inputs)
    } else {
        Err(crate::Error::refused(
            format!(
                "`{env}` reads sensitive values from the environment, and these are not set: {}",
                missing.join(", ")
            ),
            Some(
                "set them in the shell or the CI job's secret store before `plinth plan`/`apply`"
                    .to_string(),
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sensitive values anywhere in a pool's configuration (inside tables and lists) become
    /// variables, and the rendered Terraform references them without holding the value.
    #[test]
    fn sensitive_values_in_tables_and_lists_become_variables() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("plinth.toml"),
            r#"
[platform]
name = "s"

[clusters.c]
provider = "eks"

[clusters.c.config.apps]
region = "eu-west-1"
cluster_availability_zones = ["eu-west-1a"]
cluster_encryption_key_arn = { sensitive = true, from_env = "kms_key" }

[clusters.c.node_pools.default.config.apps]
instance_types = [{ sensitive = true, value = "p5.hidden" }]
min_size = 1
max_size = 2
labels = { cost-center = { sensitive = true, value = "cc-4711" } }

[clusters.c.node_pools.default.config.ops]
labels = { cost-center = "public" }
"#,
        )
        .expect("write");
        let checked = crate::check(dir.path());
        assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
        let (p, r) = (
            checked.platform.expect("platform"),
            checked.resolution.expect("resolution"),
        );
        let vars = variables(&r);
        let names: Vec<&str> = vars.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "kms_key",
                "sensitive__c__apps__default__instance_types__0",
                "sensitive__c__apps__default__labels__cost_center",
                "sensitive__c__ops__default__instance_types__0",
            ]
        );
        let kms = &vars["kms_key"];
        assert_eq!((kms.literal.as_deref(), kms.environments.len()), (None, 2));
        let label = &vars["sensitive__c__apps__default__labels__cost_center"];
        assert_eq!(label.literal.as_deref(), Some("cc-4711"));
        assert_eq!(label.what, "`labels.cost-center` of node pool `c.default`");

        let tree = crate::generate::render_all(&p, &r, dir.path()).expect("render");
        let all: String = tree.files().map(|(_, c)| c).collect();
        assert!(
            !all.contains("cc-4711") && !all.contains("p5.hidden"),
            "a value leaked"
        );
        let cluster = tree.get("c.tf").expect("c.tf");
        assert!(
            cluster.contains(
                "instance_types     = [var.sensitive__c__ops__default__instance_types__0]"
            ),
            "{cluster}"
        );
        assert!(cluster.contains("cost-center = \"public\""), "{cluster}");
        let declared = tree.get("sensitive.tf").expect("sensitive.tf");
        assert_eq!(declared.matches("variable \"").count(), 4, "{declared}");

        // Promotion compares content hashes: a new sensitive value is new content, though the
        // generated files did not change.
        let before = crate::promote::hash::content_hash(&p, &r).expect("hash");
        let path = dir.path().join("plinth.toml");
        let text = std::fs::read_to_string(&path).expect("read");
        std::fs::write(&path, text.replace("cc-4711", "cc-4712")).expect("write");
        let checked = crate::check(dir.path());
        let (p2, r2) = (
            checked.platform.expect("platform"),
            checked.resolution.expect("resolution"),
        );
        let tree2 = crate::generate::render_all(&p2, &r2, dir.path()).expect("render");
        assert!(
            tree.files().eq(tree2.files()),
            "generated files hold no values"
        );
        assert_ne!(
            crate::promote::hash::content_hash(&p2, &r2).expect("hash"),
            before
        );
        assert_eq!(
            clusters_with_sensitive(&r2).into_iter().collect::<Vec<_>>(),
            ["c"]
        );
    }

    #[test]
    fn credentials_are_recognised_and_ordinary_values_are_not() {
        let fake_aws = format!("AKIA{}", "IOSFODNN7EXAMPLE");
        for (s, what) in [
            (fake_aws.as_str(), "an AWS access key id"),
            ("-----BEGIN RSA PRIVATE KEY-----\nMIIE...", "a private key"),
            (&format!("ghp_{}", "a".repeat(36)), "a GitHub token"),
            (
                "postgres://admin:hunter2@db.internal/platform",
                "a password in a URL",
            ),
            (
                "DefaultEndpointsProtocol=https;AccountName=x;AccountKey=abc==",
                "an Azure storage key or SAS token",
            ),
            (
                "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
                "a JSON Web Token",
            ),
        ] {
            assert_eq!(looks_like_secret(s), Some(what), "{s}");
        }
        for s in [
            "eu-west-1",
            "arn:aws:kms:eu-west-1:123456789012:key/abcd",
            "https://github.com/org/repo//deploy?ref=v1.2.3",
            "t3a.xlarge",
            "AKIAFOO",
            "10.0.0.0/16",
            "kubestack.com/cluster_name",
            "postgres://db.internal/platform?sslmode=disable",
        ] {
            assert_eq!(looks_like_secret(s), None, "{s}");
        }
    }
}
