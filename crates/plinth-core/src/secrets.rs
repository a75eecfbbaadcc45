//! Credentials never belong in the code base: they come from the environment or the CI's
//! secret store. This lint scans every string of the definition for the shapes of well-known
//! credentials and reports each with its position. Values that are merely confidential can be
//! marked `{ sensitive = true, value = ... }` (or read from the environment with
//! `{ sensitive = true, from_env = "NAME" }`); see [`crate::keys`].

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::platform::Platform;
use crate::resolve::Resolution;
use crate::source::{FileId, SourceMap, Span};
use crate::value::{Kind, Origin, Sensitive, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;

/// The kind of credential a string looks like, if any.
pub fn looks_like_secret(s: &str) -> Option<&'static str> {
    find_secrets(s).into_iter().next().map(|(_, kind)| kind)
}

/// What each searched-for marker starts, in the order of [`MARKERS`].
#[derive(Clone, Copy)]
enum Rule {
    PrivateKey,
    ServiceAccount,
    AwsKeyId,
    Token(usize, &'static str),
    Azure,
    AzureSig,
    Url,
    Jwt,
}

const MARKERS: &[(&str, Rule)] = &[
    ("-----BEGIN", Rule::PrivateKey),
    ("\"private_key\"", Rule::ServiceAccount),
    ("AKIA", Rule::AwsKeyId),
    ("ASIA", Rule::AwsKeyId),
    ("AGPA", Rule::AwsKeyId),
    ("AIDA", Rule::AwsKeyId),
    ("AROA", Rule::AwsKeyId),
    ("ANPA", Rule::AwsKeyId),
    ("AIPA", Rule::AwsKeyId),
    ("ghp_", Rule::Token(30, "a GitHub token")),
    ("gho_", Rule::Token(30, "a GitHub token")),
    ("ghs_", Rule::Token(30, "a GitHub token")),
    ("ghu_", Rule::Token(30, "a GitHub token")),
    ("ghr_", Rule::Token(30, "a GitHub token")),
    ("github_pat_", Rule::Token(30, "a GitHub token")),
    ("glpat-", Rule::Token(20, "a GitLab token")),
    ("xoxb-", Rule::Token(10, "a Slack token")),
    ("xoxp-", Rule::Token(10, "a Slack token")),
    ("AIza", Rule::Token(35, "a Google API key")),
    ("sk_live_", Rule::Token(20, "a Stripe secret key")),
    ("AccountKey=", Rule::Azure),
    ("SharedAccessSignature=", Rule::Azure),
    ("sig=", Rule::AzureSig),
    ("://", Rule::Url),
    ("eyJ", Rule::Jwt),
];

/// One automaton for every marker: a whole file is searched in one pass. (Building it cannot
/// fail for these fixed strings; if it did, only the 40-character rule would run.)
fn markers() -> Option<&'static aho_corasick::AhoCorasick> {
    static AC: std::sync::OnceLock<Option<aho_corasick::AhoCorasick>> = std::sync::OnceLock::new();
    AC.get_or_init(|| aho_corasick::AhoCorasick::new(MARKERS.iter().map(|(m, _)| *m)).ok())
        .as_ref()
}

/// Every credential in `s` (a value, or a whole file), where it is and what kind it looks like,
/// in order. The markers are found in one pass; each is then checked by its rule.
pub fn find_secrets(s: &str) -> Vec<(std::ops::Range<usize>, &'static str)> {
    find_in(s, s.contains(CLIENT_EMAIL))
}

/// What tells a Google service account key's `"private_key"` from any other.
const CLIENT_EMAIL: &str = "\"client_email\"";

/// Texts longer than this are searched in pieces, one per core.
const SPLIT_FROM: usize = 256 * 1024;

/// [`find_secrets`] on every core: every rule but one reads no further than the line it
/// matched on, so pieces that end with a line find what the whole does; the one that looks at
/// the whole text (a service account key's `"client_email"`) is answered for it first. A fleet's
/// 1.5 MB definition took 4.5 ms on one core (issue 20).
fn find_secrets_parallel(s: &str) -> Vec<(std::ops::Range<usize>, &'static str)> {
    let threads = rayon::current_num_threads();
    if s.len() < SPLIT_FROM || threads < 2 {
        return find_secrets(s);
    }
    find_split(s, s.len().div_ceil(threads))
}

/// [`find_secrets`] in pieces of about `step` bytes that end with a line, on every core.
fn find_split(s: &str, step: usize) -> Vec<(std::ops::Range<usize>, &'static str)> {
    use rayon::prelude::*;
    let whole = s.contains(CLIENT_EMAIL);
    let mut pieces = Vec::new();
    let mut start = 0;
    while start < s.len() {
        // A newline byte is always where a character ends, whatever the text around it.
        let end = s
            .as_bytes()
            .get(start + step..)
            .and_then(|rest| rest.iter().position(|b| *b == b'\n'))
            .map_or(s.len(), |n| start + step + n + 1);
        pieces.push(start..end);
        start = end;
    }
    pieces
        .par_iter()
        .map(|r| {
            let mut found = s
                .get(r.clone())
                .map_or_else(Vec::new, |p| find_in(p, whole));
            for (range, _) in &mut found {
                *range = range.start + r.start..range.end + r.start;
            }
            found
        })
        .flatten()
        .collect()
}

/// [`find_secrets`] in a text of whole lines, told whether the whole text names a client email.
fn find_in(s: &str, client_email: bool) -> Vec<(std::ops::Range<usize>, &'static str)> {
    let bytes = s.as_bytes();
    let mut found = Vec::new();
    let line_end = |i: usize| s[i..].find('\n').map_or(s.len(), |n| i + n);
    let line_of = |i: usize| {
        let start = s[..i].rfind('\n').map_or(0, |n| n + 1);
        &s[start..line_end(i)]
    };
    let word_start = |i: usize| i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
    if s.len() >= 9
        && let Some(ac) = markers()
    {
        for m in ac.find_overlapping_iter(s) {
            let (i, len) = (m.start(), m.end() - m.start());
            match MARKERS[m.pattern().as_usize()].1 {
                Rule::PrivateKey => {
                    if line_of(i).contains("PRIVATE KEY") {
                        found.push((i..line_end(i), "a private key"));
                    }
                }
                Rule::ServiceAccount => {
                    if client_email {
                        found.push((i..line_end(i), "a Google service account key"));
                    }
                }
                Rule::AwsKeyId => {
                    let rest = &bytes[i + 4..];
                    if rest.len() >= 16
                        && rest[..16]
                            .iter()
                            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
                        && rest.get(16).is_none_or(|b| !b.is_ascii_alphanumeric())
                        && word_start(i)
                    {
                        found.push((i..i + 20, "an AWS access key id"));
                    }
                }
                Rule::Token(min, what) => {
                    // Capped: a value of repeated prefixes costs linear time, not quadratic.
                    let run = bytes[i + len..]
                        .iter()
                        .take(256)
                        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_' || **b == b'-')
                        .count();
                    if run >= min && word_start(i) {
                        found.push((i..i + len + run, what));
                    }
                }
                Rule::Azure => found.push((i..line_end(i), "an Azure storage key or SAS token")),
                Rule::AzureSig => {
                    if line_of(i).contains("sv=") {
                        found.push((i..line_end(i), "an Azure storage key or SAS token"));
                    }
                }
                // `scheme://user:password@host`
                Rule::Url => {
                    let rest = &s[i + 3..];
                    let authority_len = rest
                        .find(|c: char| c == '/' || c.is_whitespace() || c == '"' || c == '\'')
                        .unwrap_or(rest.len());
                    if let Some((userinfo, _)) = rest[..authority_len].rsplit_once('@')
                        && userinfo
                            .split_once(':')
                            .is_some_and(|(_, pw)| !pw.is_empty())
                    {
                        found.push((i + 3..i + 3 + userinfo.len(), "a password in a URL"));
                    }
                }
                // A JSON Web Token: three base64url parts, the first two JSON objects (`eyJ`).
                Rule::Jwt => {
                    if !word_start(i) {
                        continue;
                    }
                    let len = bytes[i..]
                        .iter()
                        .take_while(|b| {
                            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')
                        })
                        .count();
                    let parts: Vec<&str> = s[i..i + len].split('.').collect();
                    if parts.len() == 3
                        && parts[1].starts_with("eyJ")
                        && parts.iter().all(|p| p.len() >= 10)
                    {
                        found.push((i..i + len, "a JSON Web Token"));
                    }
                }
            }
        }
    }
    if s.len() >= 40 {
        found.extend(aws_secret_access_keys(s).map(|r| (r, "an AWS secret access key")));
    }
    found.sort_by_key(|(r, _)| (r.start, r.end));
    found
}

/// 40-character AWS secret access keys: base64 characters with no fixed prefix, so one is told
/// from identifiers by its shape — upper- and lowercase letters and digits mixed as random text
/// mixes them (at least 16 changes between character classes and no class run longer than 8,
/// which 98.8% of random keys have and camel-case names and hex digests do not) — or by a name
/// on its line that says what it is.
fn aws_secret_access_keys(s: &str) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    let bytes = s.as_bytes();
    let b64 = |b: u8| b.is_ascii_alphanumeric() || b == b'+' || b == b'/';
    let bound = move |b: u8| !(b64(b) || matches!(b, b'=' | b'_' | b'-' | b'.'));
    let class = |b: u8| match b {
        b'A'..=b'Z' => 0,
        b'a'..=b'z' => 1,
        b'0'..=b'9' => 2,
        _ => 3,
    };
    let named = move |at: usize| {
        let start = s[..at].rfind('\n').map_or(0, |n| n + 1);
        let end = s[at..].find('\n').map_or(s.len(), |n| at + n);
        let line = s[start..end].to_ascii_lowercase();
        [
            "secret_access_key",
            "secretaccesskey",
            "aws_secret",
            "secret-access-key",
        ]
        .iter()
        .any(|n| line.contains(n))
    };
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < bytes.len() {
            if !b64(bytes[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && b64(bytes[i]) {
                i += 1;
            }
            if i - start != 40
                || (start > 0 && !bound(bytes[start - 1]))
                || bytes.get(i).is_some_and(|b| !bound(*b))
            {
                continue;
            }
            let run = &bytes[start..i];
            let has = |c: u8| run.iter().any(|b| class(*b) == c);
            if !(has(0) && has(1) && has(2)) {
                continue;
            }
            let changes = run
                .windows(2)
                .filter(|w| class(w[0]) != class(w[1]))
                .count();
            let longest = run
                .chunk_by(|a, b| class(*a) == class(*b))
                .map(<[u8]>::len)
                .max()
                .unwrap_or(0);
            if (changes >= 16 && longest <= 8) || named(start) {
                return Some(start..i);
            }
        }
        None
    })
}

const SECRET_HINT: &str = "credentials come from the environment or the CI's secret store, never from the code base: rotate this one, remove it, and pass it in at apply time (for a configuration value: `{ sensitive = true, from_env = \"NAME\" }`, set as `TF_VAR_NAME`; for a service: a Kubernetes Secret from your secret store)";

/// What the lint found so far: one report per line, and every credential kept out of snippets.
struct Found<'a> {
    sources: &'a mut SourceMap,
    diags: &'a mut Diagnostics,
    lines: BTreeSet<(FileId, usize)>,
}

impl Found<'_> {
    fn line(&self, file: FileId, offset: u32) -> usize {
        self.sources.line_col(file, offset).map_or(0, |lc| lc.line)
    }

    /// Reports a credential at `span` of `file` unless its line was reported already.
    fn report(&mut self, file: FileId, span: Span, message: String, label: &str) {
        let line = self.line(file, span.start);
        // The diagnostic never echoes the credential (CI logs are read widely).
        self.sources.redact(file, span);
        if self.lines.insert((file, line)) {
            self.diags.push(
                Diagnostic::error("secret-in-definition", message)
                    .label(file, span, label)
                    .hint(SECRET_HINT),
            );
        }
    }

    /// What a scan found, in the order it found it.
    fn apply(&mut self, scan: Scan) {
        for finding in scan.0 {
            match finding {
                Finding::Credential {
                    file,
                    span,
                    message,
                    label,
                } => self.report(file, span, message, label),
                Finding::Misplaced(d) => self.diags.push(d),
            }
        }
    }
}

/// A finding of a [`Scan`], reported later in the order found.
enum Finding {
    Credential {
        file: FileId,
        span: Span,
        message: String,
        label: &'static str,
    },
    Misplaced(Diagnostic),
}

/// What one part of the definition holds, found without touching what the lint shares (so the
/// clusters are scanned on every core) and reported afterwards in order.
#[derive(Default)]
struct Scan(Vec<Finding>);

impl Scan {
    /// A decoded string (or a key) of the definition: escapes can spell a credential the text
    /// does not show. `what` is only spelled out for a finding.
    fn value(&mut self, s: &str, origin: Origin, key: bool, what: &dyn Fn() -> String) {
        if let Some(kind) = looks_like_secret(s) {
            let span = if key { origin.key } else { origin.value };
            let label = if key {
                "a credential in a key"
            } else {
                "a credential in the code base"
            };
            self.0.push(Finding::Credential {
                file: origin.file,
                span,
                message: format!("{}: this looks like {kind}", what()),
                label,
            });
        }
    }

    fn scan(&mut self, v: &Value, what: &dyn Fn() -> String) {
        match &v.kind {
            Kind::String(s) => self.value(s, v.origin, false, what),
            Kind::Array(a) => a.iter().for_each(|x| self.scan(x, what)),
            Kind::Table(t) => {
                for (k, x) in t {
                    // Table keys reach generated files too (tags, labels).
                    self.value(k, x.origin, true, what);
                    self.scan(x, what);
                }
            }
            _ => {}
        }
    }

    /// A value marked sensitive where it cannot stay hidden: sensitive values become Terraform
    /// variables, and only cluster and node pool configuration is rendered that way.
    fn misplaced(&mut self, v: &Value, what: &dyn Fn() -> String, why: &str) {
        if v.sensitive().is_some() {
            self.0.push(Finding::Misplaced(
                Diagnostic::error("misplaced-sensitive", format!("{}: a sensitive value is only allowed in cluster and node pool configuration", what()))
                    .at_value(v.origin, why)
                    .hint("give a service its secrets at run time with a Kubernetes Secret from your secret store (e.g. the external-secrets operator); write other settings plainly"),
            ));
        } else if let Kind::Table(t) = &v.kind {
            t.values().for_each(|x| self.misplaced(x, what, why));
        }
    }

    /// A cluster's or a pool's configuration (scanned) and expected load (never sensitive).
    fn component(
        &mut self,
        configs: &crate::component::Configs,
        load: &crate::advise::declared::DeclaredLoad,
        what: &dyn Fn() -> String,
    ) {
        let why = "expected load is read by `plinth capacity`, not applied";
        for cfg in configs.by_env.values() {
            cfg.table.values().for_each(|v| self.scan(v, what));
        }
        for (_, t) in load.by_env.values() {
            t.values().for_each(|v| self.misplaced(v, what, why));
        }
    }

    /// A cluster's configuration, its pools' and its services'.
    fn cluster(&mut self, c: &crate::cluster::ClusterDef) {
        self.component(&c.configs, &c.header.load, &|| {
            format!("cluster `{}`", c.key)
        });
        for pool in c.node_pools.values() {
            self.component(&pool.configs, &pool.header.load, &|| {
                format!("node pool `{}.{}`", c.key, pool.key)
            });
        }
        for s in c.services.values() {
            let what = || format!("service `{}.{}`", c.key, s.key);
            let why = "service configuration is rendered into manifests committed to git";
            for text in source_strings(&s.source) {
                self.value(text, s.source_origin, false, &|| {
                    format!("the source of {}", what())
                });
            }
            for cfg in s.configs.by_env.values() {
                cfg.table.values().for_each(|v| self.scan(v, &what));
                cfg.table
                    .values()
                    .for_each(|v| self.misplaced(v, &what, why));
            }
        }
    }
}

/// Reports every credential in the code base with its position: in every string and key of the
/// definition (decoded), in every byte of the definition files as written (comments, intents
/// and sources too), and in every file a service applies — the kustomize closure of its bases
/// and extra resources, and its patch files — since Plinth copies or renders all of them.
/// Also reports sensitive values where they cannot stay hidden.
pub fn lint(
    p: &Platform,
    closure: &crate::service::closure::Closure,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) {
    use rayon::prelude::*;
    let definition: Vec<(FileId, String)> = p
        .sources
        .files()
        .map(|(id, f)| (id, f.name.clone()))
        .collect();
    let mut platform = Scan::default();
    let what = || "`[platform]`".to_string();
    for v in p.settings.raw.values() {
        platform.scan(v, &what);
        platform.misplaced(v, &what, "platform settings name and place things");
    }
    // The clusters' values and the definition's text, searched on every core at once.
    type Hits = Vec<(std::ops::Range<usize>, &'static str)>;
    let (clusters, texts): (Vec<Scan>, Vec<Hits>) = {
        let sources = &*sources;
        rayon::join(
            || {
                p.clusters
                    .par_iter()
                    .map(|(_, c)| {
                        let mut scan = Scan::default();
                        scan.cluster(c);
                        scan
                    })
                    .collect()
            },
            || {
                definition
                    .iter()
                    .map(|(id, _)| {
                        sources
                            .get(*id)
                            .map(|f| find_secrets_parallel(&f.text))
                            .unwrap_or_default()
                    })
                    .collect()
            },
        )
    };
    let mut found = Found {
        sources,
        diags,
        lines: BTreeSet::new(),
    };
    found.apply(platform);
    clusters.into_iter().for_each(|scan| found.apply(scan));
    for ((id, name), hits) in definition.iter().zip(texts) {
        for (range, kind) in hits {
            found.report(
                *id,
                Span::new(range),
                format!("`{name}`: this looks like {kind}"),
                "a credential in the code base",
            );
        }
    }
    // The files services apply, read and scanned on both cores.
    let files = service_files(p, closure);
    let hits: Vec<(&std::path::PathBuf, Hits)> = files
        .par_iter()
        .filter_map(|f| {
            let text = crate::fsutil::read_text(f).ok()?;
            let hits = find_secrets(&text);
            (!hits.is_empty()).then_some((f, hits))
        })
        .collect();
    for (path, hits) in hits {
        let Some(id) = found.sources.find_or_read(&p.root, path) else {
            continue;
        };
        let name = found.sources.name(id).to_string();
        for (range, kind) in hits {
            found.report(
                id,
                Span::new(range),
                format!("`{name}` (applied by a service): this looks like {kind}"),
                "a credential in the code base",
            );
        }
    }
}

/// Every string of a service's source (addresses, refs, chart names).
fn source_strings(s: &crate::service::Source) -> Vec<&str> {
    use crate::service::Source;
    match s {
        Source::Path { path } => vec![path],
        Source::Remote { url, r#ref } => vec![url, r#ref],
        Source::Helm {
            repo,
            chart,
            version,
            release_name,
        } => {
            let mut v = vec![repo.as_str(), chart, version];
            v.extend(release_name.as_deref());
            v
        }
    }
}

/// The files a platform's services apply: the kustomize closure, and the patch and extra
/// resource files copied into overlays (real paths inside the platform, each once).
pub fn service_files(
    p: &Platform,
    closure: &crate::service::closure::Closure,
) -> Vec<std::path::PathBuf> {
    let mut out: BTreeSet<std::path::PathBuf> = closure.files.values().cloned().collect();
    for c in p.clusters.values() {
        for s in c.services.values() {
            let patches = s
                .layer_items("patches")
                .filter_map(|x| x.as_table().and_then(|t| t.get("path")));
            for v in s.layer_items("resources").chain(patches) {
                if let Some(real) = v
                    .as_str()
                    .and_then(|rel| crate::service::resolve_path(&p.root, rel).ok())
                    .filter(|r| r.is_file())
                {
                    out.insert(real);
                }
            }
        }
    }
    out.into_iter().collect()
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
                "instance_types       = [var.sensitive__c__ops__default__instance_types__0]"
            ),
            "{cluster}"
        );
        assert!(cluster.contains("cost-center = \"public\""), "{cluster}");
        let declared = tree.get("sensitive.tf").expect("sensitive.tf");
        assert_eq!(declared.matches("variable \"").count(), 4, "{declared}");

        // Promotion compares content hashes: a new sensitive value is new content, though the
        // generated files did not change.
        let out = dir.path().join("generated");
        crate::generate::write(&out, &tree, false).expect("write");
        let none = BTreeSet::new();
        let before = crate::promote::hash::content(&p, &r, &out, &none).expect("hash");
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
        let after = crate::promote::hash::content(&p2, &r2, &out, &none).expect("hash");
        assert_ne!(after.hash, before.hash);
        assert_ne!(after.roots["platform"], before.roots["platform"]);
    }

    proptest::proptest! {
        /// Issue 20: a large definition's text is searched in pieces on every core; pieces end
        /// with a line, and find exactly what one search of the whole finds.
        #[test]
        fn regression_20_a_text_searched_in_pieces_finds_what_the_whole_does(
            lines in proptest::collection::vec(proptest::sample::select(vec![
                "AKIAIOSFODNN7EXAMPLE", "-----BEGIN RSA PRIVATE KEY-----", "  \"private_key\": \"k\",",
                "\"client_email\": \"x@y\"", "token = \"ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
                "url = \"postgres://admin:hunter2@db/x\"", "sig=abc&sv=2020", "AccountKey=abc==",
                "Zx8Hq2LmP0vR7tYc/4KdN1sWb9Fe+Gj3Ua6Ih5Ow", "aws_secret = \"abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123\"",
                "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
                "region = \"eu-west-1\"", "", "# note", "a\r", "naïve = \"日本\"",
            ]), 0..40),
            step in 1usize..80,
        ) {
            let text = lines.join("\n");
            proptest::prop_assert_eq!(find_split(&text, step), find_secrets(&text));
        }
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
            (
                "token: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
                "a JSON Web Token",
            ),
            // Issue 16.8: a secret access key has no prefix; its shape (or its name) gives it away.
            (
                "Zx8Hq2LmP0vR7tYc/4KdN1sWb9Fe+Gj3Ua6Ih5Ow",
                "an AWS secret access key",
            ),
            (
                "AWS_SECRET_ACCESS_KEY: abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123",
                "an AWS secret access key",
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
            // 40 characters that are not keys: a commit id, camel-case names, a digest.
            "3f786850e387550fdab836ed7e6dc881de23001b",
            "ThisIsAVeryLongCamelCaseIdentifierName12",
            "nodeSelectorTermsMatchExpressionsValues1",
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "image: registry.example.com/team/controller-manager-with-long-name:v1.2.3",
        ] {
            assert_eq!(looks_like_secret(s), None, "{s}");
        }
    }
}
