//! Reading a platform directory: `plinth.toml` and `clusters/<key>.toml`.
//!
//! Every problem becomes a [`Diagnostic`] with a position; reading goes on after a problem so
//! `validate` reports everything at once. Nothing here writes.

use crate::cluster::ClusterDef;
use crate::component::{self, Header};
use crate::diagnostic::{Diagnostic, Diagnostics, suggest};
use crate::environment::{self, Environment, Environments};
use crate::inheritance::Mode;
use crate::keys::{self, Ctx};
use crate::node_pool::{DEFAULT_POOL, NodePoolDef};
use crate::platform::{PLATFORM_KEYS, Platform, Priority, Settings, StateLayout};
use crate::provider;
use crate::service::{self, SERVICE_KEYS, ServiceDef, ServiceKind};
use crate::source::{FileId, SourceMap, Span, display_path};
use crate::value::{Kind, Origin, Table, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The definition's root file.
pub const ROOT_FILE: &str = "plinth.toml";
/// Directory of per-cluster files, `clusters/<key>.toml`.
pub const CLUSTERS_DIR: &str = "clusters";
/// Files larger than this are refused before parsing.
pub const MAX_FILE_BYTES: u64 = 64 << 20;

/// The outcome of reading a platform.
#[derive(Debug)]
pub struct Loaded {
    /// `None` when not even the root file could be read.
    pub platform: Option<Platform>,
    pub sources: SourceMap,
    pub diagnostics: Diagnostics,
}

/// Files to read from memory instead of disk (`None` = deleted), keyed by path relative to the
/// platform root; used to check an edit before writing it.
pub type Overlay = BTreeMap<PathBuf, Option<String>>;

/// Warns about a promotion chain whose names say it is upside down: the first environment is
/// the internal one, where every change lands first, so `ops` (Kubestack's internal
/// environment) after another one, or a production environment first, is almost certainly a
/// mistake that would send changes to users before they are validated.
fn check_order(chain: &[Environment], at: Origin, diags: &mut Diagnostics) {
    let first = &chain[0].name;
    let looks_prod = |n: &str| n.split('-').any(|p| p == "prod" || p == "production");
    let message = if let Some(i) = chain
        .iter()
        .position(|e| e.name == "ops")
        .filter(|&i| i > 0)
    {
        let mut fixed: Vec<&str> = chain.iter().map(|e| e.name.as_str()).collect();
        let ops = fixed.remove(i);
        fixed.insert(0, ops);
        Some((
            format!(
                "`ops` is the internal environment's usual name, but the chain starts with `{first}`: every change would land on `{first}` first and reach `ops` last"
            ),
            format!(
                "the first environment is the internal one: `environments = [{}]`",
                fixed
                    .iter()
                    .map(|n| format!("\"{n}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ))
    } else if looks_prod(first) && chain.len() > 1 {
        Some((
            format!(
                "the chain starts with `{first}`, which sounds like production: the first environment is the internal one, where every change lands before it is validated"
            ),
            "put the internal environment first, e.g. `environments = [\"ops\", \"apps\", \"apps-prod\"]`".to_string(),
        ))
    } else {
        None
    };
    if let Some((message, hint)) = message {
        diags.push(
            Diagnostic::warning("environment-order", message)
                .at_value(at, "the promotion chain, internal environment first")
                .hint(hint),
        );
    }
}

/// A file in `dir` that is `plinth.toml` but for case (`Plinth.toml`, `PLINTH.TOML`), or
/// `plinth.tml`-style near misses: the likely mistake behind "no platform here".
fn miscased_root(dir: &Path) -> Option<String> {
    let entries = std::fs::read_dir(dir).ok()?;
    let mut names: Vec<String> = entries
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n != ROOT_FILE)
        .collect();
    names.sort();
    names
        .iter()
        .find(|n| n.eq_ignore_ascii_case(ROOT_FILE))
        .or_else(|| {
            names
                .iter()
                .find(|n| strsim::levenshtein(&n.to_ascii_lowercase(), ROOT_FILE) <= 2)
        })
        .cloned()
}

/// The platform directory for a command run without one: the nearest of `start` and its
/// ancestors holding `plinth.toml`, as git finds `.git` and cargo `Cargo.toml`. `None` when
/// there is none up to the filesystem root.
pub fn discover(start: &Path) -> Option<PathBuf> {
    let abs = std::path::absolute(start).ok()?;
    let up = abs.ancestors().position(|d| d.join(ROOT_FILE).is_file())?;
    // Said the way the user would: `.`, `..`, `../..` from a relative start.
    let mut found = if start == Path::new(".") {
        PathBuf::new()
    } else {
        start.to_path_buf()
    };
    for _ in 0..up {
        found.push("..");
    }
    Some(if found.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        found
    })
}

pub fn load(dir: &Path) -> Loaded {
    load_with(dir, &Overlay::new())
}

/// Reads a platform from the given files only (a revision read from git), never from disk.
pub fn load_virtual(dir: &Path, files: &Overlay) -> Loaded {
    load_inner(dir, files, false)
}

pub fn load_with(dir: &Path, overlay: &Overlay) -> Loaded {
    load_inner(dir, overlay, true)
}

fn load_inner(dir: &Path, overlay: &Overlay, disk: bool) -> Loaded {
    let mut sources = SourceMap::default();
    let mut diags = Diagnostics::default();
    let root_path = dir.join(ROOT_FILE);
    let root = match read(
        dir,
        Path::new(ROOT_FILE),
        overlay,
        disk,
        &mut sources,
        &mut diags,
    ) {
        Read::Parsed(file, table) => Some((file, table)),
        Read::Missing => {
            let hint = match miscased_root(dir) {
                Some(found) => format!(
                    "found `{found}`: Plinth reads `{ROOT_FILE}`, all lowercase (file names are case-sensitive here); rename it"
                ),
                None => "create a platform with `plinth init <dir> --example minimal`, or point at the directory that holds `plinth.toml`".to_string(),
            };
            diags.push(
                Diagnostic::error(
                    "no-platform",
                    format!("no `{ROOT_FILE}` in `{}`", dir.display()),
                )
                .path(root_path.display().to_string())
                .hint(hint),
            );
            None
        }
        Read::Failed => None,
    };

    // Read the cluster files in order, then parse them on both cores.
    let mut fetched = Vec::new();
    for rel in cluster_file_paths(dir, overlay, disk, &mut diags) {
        let stem = rel
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Ok(Some(file)) = fetch(dir, &rel, overlay, disk, &mut sources, &mut diags) {
            fetched.push((stem, file));
        }
    }
    use rayon::prelude::*;
    let parsed: Vec<(Option<Table>, Diagnostics)> = fetched
        .par_iter()
        .map(|(_, file)| parse(&sources, *file))
        .collect();
    let mut cluster_files = Vec::new();
    for ((stem, file), (table, local)) in fetched.into_iter().zip(parsed) {
        diags.extend(local);
        if let Some(table) = table {
            redact_sensitive(&table, &mut sources);
            cluster_files.push((stem, file, table));
        }
    }
    if let Some((_, t)) = &root {
        redact_sensitive(t, &mut sources);
    }

    let Some((root_file, root)) = root else {
        return Loaded {
            platform: None,
            sources,
            diagnostics: diags,
        };
    };

    let mut loader = Loader {
        diags: &mut diags,
        mode: Mode::Nested,
    };
    let platform = loader.platform(dir, root_file, root, cluster_files, &sources);
    Loaded {
        platform: platform.map(|mut p| {
            p.sources = sources.clone();
            p
        }),
        sources,
        diagnostics: diags,
    }
}

/// Marks the text of every sensitive value written in `table` so no diagnostic snippet shows
/// it (wherever it is, even where a sensitive value is not allowed).
fn redact_sensitive(table: &Table, sources: &mut SourceMap) {
    for (file, span) in sensitive_spans(table) {
        sources.redact(file, span);
    }
}

/// Where every sensitive value written in `table` is; a table of many (a fleet's clusters) is
/// searched on every core (one core took 4 ms of the fleet's `show`, issue 20).
fn sensitive_spans(table: &Table) -> Vec<(FileId, Span)> {
    fn walk(v: &Value, out: &mut Vec<(FileId, Span)>) {
        if let Some(crate::value::Sensitive::Value(inner)) = v.sensitive() {
            out.push((inner.origin.file, inner.origin.value));
            return;
        }
        match &v.kind {
            Kind::Table(t) if t.len() >= 64 => out.extend(sensitive_spans(t)),
            Kind::Table(t) => t.values().for_each(|x| walk(x, out)),
            Kind::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let values: Vec<&Value> = table.values().collect();
    if values.len() < 64 {
        let mut out = Vec::new();
        values.into_iter().for_each(|v| walk(v, &mut out));
        return out;
    }
    use rayon::prelude::*;
    values
        .par_iter()
        .map(|v| {
            let mut out = Vec::new();
            walk(v, &mut out);
            out
        })
        .flatten()
        .collect()
}

enum Read {
    Parsed(FileId, Table),
    Missing,
    Failed,
}

/// Reads and parses one file; problems go to `diags` with the file's position.
fn read(
    dir: &Path,
    rel: &Path,
    overlay: &Overlay,
    disk: bool,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> Read {
    match fetch(dir, rel, overlay, disk, sources, diags) {
        Ok(Some(file)) => {
            let (table, local) = parse(sources, file);
            diags.extend(local);
            table.map_or(Read::Failed, |t| Read::Parsed(file, t))
        }
        Ok(None) => Read::Missing,
        Err(()) => Read::Failed,
    }
}

/// Reads a file's text into `sources`: `Ok(None)` when it does not exist.
fn fetch(
    dir: &Path,
    rel: &Path,
    overlay: &Overlay,
    disk: bool,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> Result<Option<FileId>, ()> {
    let name = display_path(rel, Path::new(""));
    let path = dir.join(rel);
    let text = match overlay.get(rel) {
        Some(Some(text)) => text.clone(),
        Some(None) => return Ok(None),
        None if !disk => return Ok(None),
        None => match outside(dir, &path) {
            Some(real) => {
                diags.push(
                    Diagnostic::error(
                        "invalid-path",
                        format!(
                            "`{name}` resolves to `{}`, outside the platform directory",
                            real.display()
                        ),
                    )
                    .path(name)
                    .hint("definition files live inside the platform directory, where git records them: copy the file instead of linking to it"),
                );
                return Err(());
            }
            None => match read_text(&path, &name, sources, diags)? {
                Some(t) => t,
                None => return Ok(None),
            },
        },
    };
    Ok(Some(sources.add(name, path, text)))
}

/// Where `path` really is, when a symlink takes it outside the platform directory `dir`.
fn outside(dir: &Path, path: &Path) -> Option<PathBuf> {
    let real = std::fs::canonicalize(path).ok()?;
    let root = std::fs::canonicalize(dir).ok()?;
    (!real.starts_with(&root)).then_some(real)
}

/// Parses a file already in `sources` into values with origins (independent of other files,
/// so cluster files parse in parallel).
fn parse(sources: &SourceMap, file: FileId) -> (Option<Table>, Diagnostics) {
    let mut diags = Diagnostics::default();
    let text = sources.get(file).map_or("", |f| f.text.as_str());
    if let Some(table) = crate::syntax::read(file, text, &mut diags) {
        return (Some(table), diags);
    }
    // Invalid (or holding what only `toml` reads, such as a date): `toml` reads it and says why.
    let table = match toml::de::DeTable::parse(text) {
        Ok(t) => Some(crate::value::from_toml(file, t.get_ref(), &mut diags)),
        Err(e) => {
            let span = e.span().map_or(Span::EMPTY, Span::new);
            let msg = e.message().trim().to_string();
            diags.push(
                Diagnostic::error("toml-syntax", format!("invalid TOML: {msg}"))
                    .label(file, span, msg.clone())
                    .maybe_hint(toml_hint(&msg)),
            );
            None
        }
    };
    (table, diags)
}

fn toml_hint(msg: &str) -> Option<String> {
    if msg.contains("duplicate key") {
        Some("each key may appear once per table; merge the two entries".into())
    } else if msg.contains("invalid table header") || msg.contains("duplicate") {
        Some("each table header may appear once per file".into())
    } else {
        None
    }
}

/// Reads a file's bytes; `Ok(None)` when it does not exist.
fn read_text(
    path: &Path,
    name: &str,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> Result<Option<String>, ()> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // A dangling symlink is "there" but unreadable; a plain absence is not an error here.
            if std::fs::symlink_metadata(path).is_ok() {
                diags.push(
                    Diagnostic::error("unreadable", format!("cannot read `{name}`: {e}"))
                        .path(name),
                );
                return Err(());
            }
            return Ok(None);
        }
        Err(e) => {
            diags.push(
                Diagnostic::error("unreadable", format!("cannot read `{name}`: {e}")).path(name),
            );
            return Err(());
        }
    };
    if !meta.is_file() {
        diags.push(
            Diagnostic::error("unreadable", format!("`{name}` is not a regular file")).path(name),
        );
        return Err(());
    }
    if meta.len() > MAX_FILE_BYTES {
        diags.push(
            Diagnostic::error(
                "file-too-large",
                format!(
                    "`{name}` is {} MiB; definition files are limited to {} MiB",
                    meta.len() >> 20,
                    MAX_FILE_BYTES >> 20
                ),
            )
            .path(name)
            .hint("split the definition into `clusters/<key>.toml` files"),
        );
        return Err(());
    }
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            diags.push(
                Diagnostic::error("unreadable", format!("cannot read `{name}`: {e}")).path(name),
            );
            return Err(());
        }
    };
    match String::from_utf8(bytes) {
        Ok(s) => Ok(Some(s)),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
            // Offsets in the lossy text: the valid prefix is unchanged, and the first invalid
            // sequence became one U+FFFD (three bytes): the span covers that whole character.
            let file = sources.add(name.to_string(), path.to_path_buf(), lossy);
            let end = at + char::REPLACEMENT_CHARACTER.len_utf8();
            diags.push(
                Diagnostic::error("not-utf8", format!("`{name}` is not valid UTF-8"))
                    .label(file, Span::new(at..end), "invalid byte here")
                    .hint("save the file as UTF-8"),
            );
            Err(())
        }
    }
}

/// `clusters/*.toml`, sorted, relative to the platform root, including overlay additions.
fn cluster_file_paths(
    dir: &Path,
    overlay: &Overlay,
    disk: bool,
    diags: &mut Diagnostics,
) -> Vec<PathBuf> {
    let mut out = std::collections::BTreeSet::new();
    let cdir = dir.join(CLUSTERS_DIR);
    match std::fs::read_dir(&cdir).and_then(|d| {
        if disk {
            Ok(d)
        } else {
            Err(std::io::ErrorKind::NotFound.into())
        }
    }) {
        Ok(entries) => {
            for entry in entries.flatten() {
                let raw = entry.file_name();
                let name = raw.to_string_lossy();
                if name.ends_with(".toml") && !name.starts_with('.') {
                    if raw.to_str().is_none() {
                        // Its lossy name is no file: reading it would silently find nothing.
                        diags.push(
                            Diagnostic::error(
                                "invalid-name",
                                format!("cluster file `{CLUSTERS_DIR}/{name}`: the name is not valid UTF-8"),
                            )
                            .path(format!("{CLUSTERS_DIR}/{name}"))
                            .hint("the file name (without `.toml`) is the cluster's key: lowercase letters, digits, `_` and `-`"),
                        );
                        continue;
                    }
                    out.insert(Path::new(CLUSTERS_DIR).join(name.as_ref()));
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => diags.push(
            Diagnostic::error("unreadable", format!("cannot list `{CLUSTERS_DIR}/`: {e}"))
                .path(CLUSTERS_DIR),
        ),
    }
    for (p, content) in overlay {
        if p.parent() == Some(Path::new(CLUSTERS_DIR)) && p.extension().is_some_and(|e| e == "toml")
        {
            if content.is_some() {
                out.insert(p.clone());
            } else {
                out.remove(p);
            }
        }
    }
    out.into_iter().collect()
}

/// Takes `key` out of a table value: owned from here on, so tagging it with its environments
/// changes it in place instead of copying it.
fn take(v: &mut Value, key: &str) -> Option<Value> {
    v.as_table_mut()?.remove(key)
}

/// A cluster to read, or the reason one cannot be, in the order problems are reported.
enum Pending {
    Read {
        key: String,
        value: Value,
        file: FileId,
    },
    Refused(Diagnostic),
}

struct Loader<'a> {
    diags: &'a mut Diagnostics,
    /// The platform's inheritance rule, once `[platform]` is read.
    mode: Mode,
}

impl Loader<'_> {
    fn platform(
        &mut self,
        dir: &Path,
        root_file: FileId,
        mut root: Table,
        cluster_files: Vec<(String, FileId, Table)>,
        sources: &SourceMap,
    ) -> Option<Platform> {
        for (k, v) in &root {
            if !["platform", "environments", "clusters", "promotion"].contains(&k.as_str()) {
                self.diags.push(
                    Diagnostic::error(
                        "unknown-key",
                        format!("unknown top-level key `{k}` in `{ROOT_FILE}`"),
                    )
                    .at_key(v.origin, "not recognised")
                    .maybe_hint(suggest(
                        k,
                        ["platform", "environments", "clusters", "promotion"],
                    )),
                );
            }
        }
        let raw = match root.get("platform") {
            Some(v) => match v.as_table() {
                Some(t) => t.clone(),
                None => {
                    self.diags.push(
                        Diagnostic::error("wrong-type", "`platform` must be a table")
                            .at_value(v.origin, "write `[platform]`"),
                    );
                    Table::new()
                }
            },
            None => Table::new(),
        };
        let dir_name = std::fs::canonicalize(dir)
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "platform".into());
        let (mut settings, envs) = self.settings(raw, dir_name, root_file)?;
        self.mode = settings.inheritance;
        let mut envs = envs;
        let chain: Vec<String> = envs.chain_names().map(String::from).collect();
        settings.policy = crate::promote::policy::decode(
            root.get("promotion"),
            settings.raw.get("record"),
            &chain,
            self.diags,
        );
        self.environment_intents(root.get("environments"), &mut envs);

        let mut clusters = BTreeMap::new();
        let mut defined_at: BTreeMap<String, Origin> = BTreeMap::new();
        // Taken out of the document: each cluster is then read from a value nothing else
        // holds, and changed in place rather than copied.
        if let Some(v) = root.remove("clusters") {
            match v.kind {
                Kind::Table(t) => {
                    let pending = t
                        .into_iter()
                        .map(|(key, value)| Pending::Read {
                            key: key.to_string(),
                            value,
                            file: root_file,
                        })
                        .collect();
                    for (key, at, c) in self.read_clusters(pending, &envs) {
                        defined_at.insert(key.clone(), at);
                        clusters.insert(key, c);
                    }
                }
                _ => self.diags.push(
                    Diagnostic::error("wrong-type", "`clusters` must be a table of clusters")
                        .at_value(v.origin, "write `[clusters.<key>]`"),
                ),
            }
        }
        let mut pending = Vec::with_capacity(cluster_files.len());
        for (stem, file, table) in cluster_files {
            let name = sources.name(file).to_string();
            let text = sources.get(file).map_or("", |f| f.text.as_str());
            // The file's first character (a byte-order mark is three bytes).
            let first = text.chars().next().map_or(0, char::len_utf8);
            let origin = Origin {
                file,
                key: Span::new(0..first),
                value: Span::new(0..text.len()),
                env: Origin::NO_ENV,
            };
            if let Err(msg) = environment::check_component_key(&stem) {
                pending.push(Pending::Refused(
                    Diagnostic::error("invalid-name", format!("cluster file `{name}`: {msg}"))
                        .path(name.clone())
                        .hint("the file name (without `.toml`) is the cluster's key"),
                ));
                continue;
            }
            if table.contains_key("clusters") || table.contains_key("platform") {
                let v = table
                    .get("clusters")
                    .or(table.get("platform"))
                    .map_or(origin, |v| v.origin);
                pending.push(Pending::Refused(
                    Diagnostic::error("unknown-key", format!("`{name}` holds one cluster: its keys go at the top level"))
                        .at_key(v, "not expected in a cluster file")
                        .hint(format!("write `provider = ...` and `[config.<env>]` directly; the file name `{stem}` is the key")),
                ));
                continue;
            }
            if let Some(prev) = defined_at.get(&stem) {
                let first_line = sources
                    .get(file)
                    .map_or(0, |f| f.text.find('\n').unwrap_or(f.text.len()));
                pending.push(Pending::Refused(
                    Diagnostic::error("duplicate-cluster", format!("cluster `{stem}` is defined twice"))
                        .at_key(*prev, "defined here")
                        .label(file, Span::new(0..first_line), format!("and again here: `{name}` defines cluster `{stem}`"))
                        .hint(format!("keep one definition: either `[clusters.{stem}]` in `{ROOT_FILE}` or `{name}`")),
                ));
                continue;
            }
            let value = Value {
                kind: Kind::Table(table),
                origin,
            };
            pending.push(Pending::Read {
                key: stem,
                value,
                file,
            });
        }
        for (key, _, c) in self.read_clusters(pending, &envs) {
            clusters.insert(key, c);
        }
        if clusters.is_empty() && !self.diags.has_errors() {
            self.diags.push(
                Diagnostic::error("no-clusters", "the platform defines no cluster")
                    .label(root_file, Span::EMPTY, "")
                    .path(ROOT_FILE)
                    .hint(
                        "add one with `plinth add cluster <key> --provider eks --region eu-west-1`",
                    ),
            );
        }
        Some(Platform {
            root: dir.to_path_buf(),
            sources: SourceMap::default(),
            settings,
            environments: envs,
            clusters,
        })
    }

    fn settings(
        &mut self,
        raw: Table,
        dir_name: String,
        root_file: FileId,
    ) -> Option<(Settings, Environments)> {
        let checked = keys::check_table(
            PLATFORM_KEYS,
            &raw,
            Ctx {
                component: "`[platform]`",
                environment: None,
            },
            self.diags,
        );
        let get_str = |k: &str| -> String {
            checked
                .get(k)
                .and_then(Value::as_str)
                .map(String::from)
                .or_else(|| {
                    keys::find(PLATFORM_KEYS, k)
                        .and_then(keys::literal_default)
                        .and_then(|d| Value::builtin(d).as_str().map(String::from))
                })
                .unwrap_or_default()
        };
        // The chain.
        let mut chain: Vec<Environment> = Vec::new();
        match checked.get("environments") {
            Some(list) => {
                for item in list.as_array().unwrap_or_default() {
                    let name = item.as_str().unwrap_or_default().to_string();
                    if let Err(msg) = environment::check_name(&name) {
                        self.diags.push(
                            Diagnostic::error("invalid-name", msg)
                                .at_value(item.origin, "invalid environment name"),
                        );
                        continue;
                    }
                    if let Some(prev) = chain.iter().find(|e| e.name == name) {
                        self.diags.push(
                            Diagnostic::error(
                                "duplicate-environment",
                                format!(
                                    "environment `{name}` appears twice in the promotion chain"
                                ),
                            )
                            .at_value(item.origin, "again here")
                            .at_value(prev.origin, "first here")
                            .hint("each environment has one place in the promotion order"),
                        );
                        continue;
                    }
                    chain.push(Environment {
                        name,
                        intent: Default::default(),
                        origin: item.origin,
                        local: false,
                    });
                }
                if chain.len() < 2
                    && raw
                        .get("environments")
                        .is_some_and(|v| v.as_array().is_some())
                {
                    let origin = list.origin;
                    self.diags.push(
                        Diagnostic::error(
                            "too-few-environments",
                            format!("a platform needs at least two environments; this chain has {}", chain.len()),
                        )
                        .at_value(origin, "the promotion chain")
                        .hint("every change is validated on an internal environment (`ops`) before it reaches the external one (`apps`): write `environments = [\"ops\", \"apps\"]`"),
                    );
                }
            }
            None => {
                for name in ["ops", "apps"] {
                    chain.push(Environment {
                        name: name.into(),
                        intent: Default::default(),
                        origin: Origin::BUILTIN,
                        local: false,
                    });
                }
            }
        }
        if chain.is_empty() {
            return None;
        }
        if let Some(list) = checked.get("environments") {
            check_order(&chain, list.origin, self.diags);
        }
        let base_name = get_str("base_environment");
        let base = match chain.iter().position(|e| e.name == base_name) {
            Some(i) => i,
            None => {
                let origin = raw.get("base_environment").map(|v| v.origin);
                let names = chain.iter().map(|e| e.name.as_str()).collect::<Vec<_>>();
                let mut d = Diagnostic::error(
                    "unknown-environment",
                    format!("the base environment `{base_name}` is not in the promotion chain"),
                );
                d = match origin {
                    Some(o) => d.at_value(o, "not one of `environments`"),
                    None => d.label(
                        root_file,
                        raw.get("environments")
                            .map_or(Span::EMPTY, |v| v.origin.value),
                        "`apps` is the default base",
                    ),
                };
                let hint = match crate::diagnostic::did_you_mean(&base_name, names.iter().copied())
                {
                    Some(b) => format!("did you mean `{b}`?"),
                    None => format!(
                        "set `base_environment` to one of {}",
                        names
                            .iter()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                self.diags.push(d.hint(hint));
                return None;
            }
        };
        let mode = Mode::parse(&get_str("inheritance")).unwrap_or(Mode::Nested);
        let state = if get_str("state") == "cluster" {
            StateLayout::Cluster
        } else {
            StateLayout::Platform
        };
        let priority = checked.get("priority").and_then(Value::as_str).map(|p| {
            if p == "utilization" {
                Priority::Utilization
            } else {
                Priority::BlastRadius
            }
        });
        let name = checked
            .get("name")
            .and_then(Value::as_str)
            .map_or(dir_name, String::from);
        let backend = checked
            .get("backend")
            .and_then(Value::as_table)
            .cloned()
            .unwrap_or_default();
        crate::render::backend::check(&backend, self.diags);
        let settings = Settings {
            name,
            base_domain: get_str("base_domain"),
            name_prefix: get_str("name_prefix"),
            label_namespace: get_str("label_namespace"),
            name_delimiter: get_str("name_delimiter"),
            inheritance: mode,
            state,
            priority,
            backend,
            policy: Default::default(),
            raw,
        };
        Some((
            settings,
            Environments {
                chain,
                base,
                local: Vec::new(),
            },
        ))
    }

    fn environment_intents(&mut self, v: Option<&Value>, envs: &mut Environments) {
        let Some(v) = v else { return };
        let Some(t) = v.as_table() else {
            self.diags.push(
                Diagnostic::error(
                    "wrong-type",
                    "`environments` must be a table of environments",
                )
                .at_value(v.origin, "write `[environments.<name>]`")
                .hint("the promotion chain itself is `[platform] environments = [...]`"),
            );
            return;
        };
        for (name, ev) in t {
            let what = format!("environment `{name}`");
            let Some(et) = ev.as_table() else {
                self.diags.push(
                    Diagnostic::error("wrong-type", format!("{what} must be a table"))
                        .at_value(ev.origin, "expected a table"),
                );
                continue;
            };
            let local = match et.get("local") {
                None => false,
                Some(v) => match v.as_bool() {
                    Some(b) => b,
                    None => {
                        self.diags.push(
                            Diagnostic::error(
                                "wrong-type",
                                format!("`local` of {what} must be `true` or `false`"),
                            )
                            .at_value(v.origin, format!("this is a {}", v.type_name())),
                        );
                        false
                    }
                },
            };
            let index = envs.chain.iter().position(|e| e.name == name.as_str());
            let i = match (index, local) {
                (Some(i), false) => i,
                (Some(_), true) => {
                    let at = et.get("local").map_or(ev.origin, |v| v.origin);
                    self.diags.push(
                        Diagnostic::error(
                            "invalid-value",
                            format!("{what} is in the promotion chain, so it cannot be local"),
                        )
                        .at_value(at, "a local environment is outside the chain")
                        .hint(format!("remove `{name}` from `[platform] environments` to make it a local development environment, or drop `local = true`")),
                    );
                    continue;
                }
                (None, true) => {
                    if let Err(msg) = environment::check_name(name) {
                        self.diags.push(
                            Diagnostic::error("invalid-name", msg)
                                .at_key(ev.origin, "invalid environment name"),
                        );
                        continue;
                    }
                    envs.local.push(Environment {
                        name: name.to_string(),
                        intent: Default::default(),
                        origin: ev.origin,
                        local: true,
                    });
                    envs.chain.len() + envs.local.len() - 1
                }
                (None, false) => {
                    self.diags.push(
                        Diagnostic::error(
                            "unknown-environment",
                            format!("`[environments.{name}]` is not in the promotion chain"),
                        )
                        .at_key(ev.origin, "unknown environment")
                        .hint(match suggest(name, envs.chain_names()) {
                            Some(h) => h,
                            None => "add it to `[platform] environments`, or write `local = true` for a development environment outside the promotion chain".to_string(),
                        }),
                    );
                    continue;
                }
            };
            component::check_structure(
                &what,
                et,
                &["tenant", "stage", "workload", "description", "local"],
                &[],
                envs.base_name(),
                self.diags,
            );
            let intent = component::decode_intent(&what, et, self.diags);
            if let Some(e) = envs.chain.get_mut(i) {
                e.intent = intent;
            } else if let Some(e) = envs.local.last_mut() {
                e.intent = intent;
            }
        }
    }

    /// Reads clusters on every core (a fleet's thousands: 7 ms on one, issue 20), reporting
    /// each one's problems in the order given, as reading them one after another would.
    fn read_clusters(
        &mut self,
        pending: Vec<Pending>,
        envs: &Environments,
    ) -> Vec<(String, Origin, ClusterDef)> {
        use rayon::prelude::*;
        let mode = self.mode;
        let read: Vec<_> = pending
            .into_par_iter()
            .map(|p| {
                let mut diags = Diagnostics::default();
                let c = match p {
                    Pending::Refused(d) => {
                        diags.push(d);
                        None
                    }
                    Pending::Read { key, value, file } => {
                        let at = value.origin;
                        let mut loader = Loader {
                            diags: &mut diags,
                            mode,
                        };
                        loader
                            .cluster(&key, value, file, envs)
                            .map(|c| (key, at, c))
                    }
                };
                (c, diags)
            })
            .collect();
        let mut out = Vec::with_capacity(read.len());
        for (c, local) in read {
            self.diags.extend(local);
            out.extend(c);
        }
        out
    }

    fn cluster(
        &mut self,
        key: &str,
        mut v: Value,
        file: FileId,
        envs: &Environments,
    ) -> Option<ClusterDef> {
        let what = format!("cluster `{key}`");
        if !component::check_key("cluster", key, v.origin, self.diags) {
            return None;
        }
        let Some(t) = v.as_table() else {
            self.diags.push(
                Diagnostic::error("wrong-type", format!("{what} must be a table"))
                    .at_value(v.origin, "expected a table"),
            );
            return None;
        };
        let provider = match t.get("provider") {
            None => {
                self.diags.push(
                    Diagnostic::error("missing-key", format!("{what} has no `provider`"))
                        .at_key(v.origin, "which cloud?")
                        .hint("add `provider = \"eks\"` (or `aks`, `gke`, `kind`)"),
                );
                return None;
            }
            Some(p) => {
                let id = p.as_str().unwrap_or_default();
                match provider::by_id(id) {
                    Some(p) => p,
                    None => {
                        let by_cloud = provider::ALL.iter().find(|x| {
                            x.provider_name == id
                                || (id == "google" && x.id == "gke")
                                || (id == "azurerm" && x.id == "aks")
                        });
                        let hint = match by_cloud {
                            Some(x) => {
                                Some(format!("Plinth calls {} clusters `{}`", x.title, x.id))
                            }
                            None => suggest(id, provider::ids()),
                        };
                        self.diags.push(
                            Diagnostic::error(
                                "unknown-provider",
                                format!("{what}: unknown provider `{id}`"),
                            )
                            .at_value(p.origin, "not a provider")
                            .maybe_hint(hint),
                        );
                        return None;
                    }
                }
            }
        };
        component::check_structure(
            &what,
            t,
            &[
                "provider",
                "inheritance",
                "tenant",
                "stage",
                "workload",
                "description",
                "config",
                "load",
                "node_pools",
                "services",
                "kubestack",
            ],
            provider.cluster_keys,
            envs.base_name(),
            self.diags,
        );
        let mut header = component::decode_header(&what, t, self.diags);
        header.load = crate::advise::declared::decode(&what, t.get("load"), envs, self.diags);
        let mode = header.inheritance.unwrap_or(self.mode);
        // Read before the tables below are taken out of `v`.
        let kubestack_origin = t.get("kubestack").cloned();
        let config = take(&mut v, "config");
        let no_config = config.is_none();
        let configs = component::decode_configs(
            &what,
            config,
            v.origin,
            provider.cluster_keys,
            mode,
            envs,
            self.diags,
        );
        if no_config {
            self.diags.push(
                Diagnostic::error("missing-base", format!("{what} has no configuration"))
                    .at_key(v.origin, "no `config` tables")
                    .hint(format!(
                        "add `[clusters.{key}.config.{}]` with at least `region`",
                        envs.base_name()
                    )),
            );
        }
        let mut node_pools = BTreeMap::new();
        let pools = take(&mut v, "node_pools");
        let pools_lack_default = pools
            .as_ref()
            .is_none_or(|v| v.as_table().is_some_and(|p| !p.contains_key(DEFAULT_POOL)));
        if let Some(np) = pools {
            match np.kind {
                Kind::Table(pools) => {
                    for (pk, pv) in pools {
                        if let Some(p) = self.node_pool(key, &pk, pv, provider, mode, envs) {
                            node_pools.insert(pk.to_string(), p);
                        }
                    }
                }
                _ => self.diags.push(
                    Diagnostic::error(
                        "wrong-type",
                        format!("`node_pools` of {what} must be a table of pools"),
                    )
                    .at_value(np.origin, "expected a table"),
                ),
            }
        }
        if !node_pools.contains_key(DEFAULT_POOL) && pools_lack_default {
            self.diags.push(
                Diagnostic::error("missing-default-pool", format!("{what} has no `default` node pool"))
                    .at_key(v.origin, "every cluster needs its default pool")
                    .hint(format!(
                        "add `[clusters.{key}.node_pools.default.config.{}]`: it is the pool created with the cluster",
                        envs.base_name()
                    )),
            );
        }
        let mut services = BTreeMap::new();
        if let Some(sv) = take(&mut v, "services") {
            match sv.kind {
                Kind::Table(st) => {
                    for (sk, s) in st {
                        if let Some(s) = self.service(key, &sk, s, mode, envs) {
                            services.insert(sk.to_string(), s);
                        }
                    }
                }
                _ => self.diags.push(
                    Diagnostic::error(
                        "wrong-type",
                        format!("`services` of {what} must be a table of services"),
                    )
                    .at_value(sv.origin, "expected a table"),
                ),
            }
        }
        let kubestack = kubestack_origin.as_ref().and_then(|k| {
            let pools: Vec<&String> = node_pools.keys().collect();
            let svcs: Vec<&String> = services.keys().collect();
            crate::import::migrate::decode(&what, k, &pools, &svcs, self.diags)
        });
        Some(ClusterDef {
            key: key.to_string(),
            provider,
            header: header.shared(),
            configs,
            node_pools,
            services,
            origin: v.origin,
            file,
            kubestack,
        })
    }

    fn node_pool(
        &mut self,
        cluster: &str,
        key: &str,
        mut v: Value,
        provider: &'static provider::Provider,
        cluster_mode: Mode,
        envs: &Environments,
    ) -> Option<NodePoolDef> {
        let what = format!("node pool `{cluster}.{key}`");
        if !component::check_key("node pool", key, v.origin, self.diags) {
            return None;
        }
        let Some(t) = v.as_table() else {
            self.diags.push(
                Diagnostic::error("wrong-type", format!("{what} must be a table"))
                    .at_value(v.origin, "expected a table"),
            );
            return None;
        };
        component::check_structure(
            &what,
            t,
            &[
                "inheritance",
                "tenant",
                "stage",
                "workload",
                "description",
                "config",
                "load",
            ],
            provider.pool_keys,
            envs.base_name(),
            self.diags,
        );
        let mut header = component::decode_header(&what, t, self.diags);
        header.load = crate::advise::declared::decode(&what, t.get("load"), envs, self.diags);
        let configs = component::decode_configs(
            &what,
            take(&mut v, "config"),
            v.origin,
            provider.pool_keys,
            header.inheritance.unwrap_or(cluster_mode),
            envs,
            self.diags,
        );
        Some(NodePoolDef {
            key: key.to_string(),
            header: header.shared(),
            configs,
            origin: v.origin,
        })
    }

    fn service(
        &mut self,
        cluster: &str,
        key: &str,
        mut v: Value,
        cluster_mode: Mode,
        envs: &Environments,
    ) -> Option<ServiceDef> {
        let what = format!("service `{cluster}.{key}`");
        if !component::check_key("service", key, v.origin, self.diags) {
            return None;
        }
        let Some(t) = v.as_table() else {
            self.diags.push(
                Diagnostic::error("wrong-type", format!("{what} must be a table"))
                    .at_value(v.origin, "expected a table"),
            );
            return None;
        };
        component::check_structure(
            &what,
            t,
            &[
                "kind",
                "source",
                "catalog",
                "inheritance",
                "description",
                "config",
            ],
            SERVICE_KEYS,
            envs.base_name(),
            self.diags,
        );
        let header = component::decode_header(&what, t, self.diags);
        let kind = match t.get("kind") {
            Some(k) => match k.as_str().and_then(ServiceKind::parse) {
                Some(kind) => Some(kind),
                None => {
                    self.diags.push(
                        Diagnostic::error(
                            "invalid-value",
                            format!("`kind` of {what} is not a service kind"),
                        )
                        .at_value(k.origin, "unknown kind")
                        .maybe_hint(suggest(
                            k.as_str().unwrap_or_default(),
                            ServiceKind::NAMES.iter().copied(),
                        )),
                    );
                    None
                }
            },
            None => {
                self.diags.push(
                    Diagnostic::error("missing-key", format!("{what} has no `kind`"))
                        .at_key(v.origin, "what does it do?")
                        .hint(format!(
                            "add `kind = ...`, one of {}",
                            ServiceKind::NAMES.join(", ")
                        )),
                );
                None
            }
        };
        let source = service::decode_source(&what, t.get("source"), v.origin, self.diags);
        let catalog = t.get("catalog").and_then(Value::as_str).map(String::from);
        let source_origin = t.get("source").map_or(v.origin, |s| s.origin);
        let configs = component::decode_configs(
            &what,
            take(&mut v, "config"),
            v.origin,
            SERVICE_KEYS,
            header.inheritance.unwrap_or(cluster_mode),
            envs,
            self.diags,
        );
        Some(ServiceDef {
            key: key.to_string(),
            kind: kind?,
            source_origin,
            source: source?,
            catalog,
            header: Header { ..header },
            configs,
            origin: v.origin,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 20: clusters are read on every core; their problems still come in the order one
    /// reading after another gives: `plinth.toml`'s clusters by key, then the cluster files by
    /// path, a refused file where it stands.
    #[test]
    fn regression_20_clusters_read_in_parallel_report_in_order() {
        let mut root = String::from("[platform]\nname = \"p\"\n");
        for i in (0..80).rev() {
            root.push_str(&format!(
                "[clusters.c{i:02}]\nprovider = \"eks\"\nbad_{i:02} = 1\n"
            ));
        }
        let mut overlay: Overlay = [(PathBuf::from(ROOT_FILE), Some(root))]
            .into_iter()
            .collect();
        for (stem, text) in [
            ("f1", "provider = \"eks\"\nbad_f1 = 1\n"),
            ("F-2", "provider = \"eks\"\n"),
            ("f3", "provider = \"eks\"\nbad_f3 = 1\n"),
            ("c05", "provider = \"eks\"\n"),
        ] {
            overlay.insert(
                PathBuf::from(format!("{CLUSTERS_DIR}/{stem}.toml")),
                Some(text.to_string()),
            );
        }
        let loaded = load_virtual(Path::new("/nonexistent"), &overlay);
        let order: Vec<String> = loaded
            .diagnostics
            .iter()
            .map(|d| {
                let m = &d.message;
                m.split('`').nth(1).unwrap_or(m).to_string()
            })
            .collect();
        // Each cluster: its unknown key, then the two required keys it lacks.
        let mut expected: Vec<String> = (0..80)
            .flat_map(|i| {
                [
                    format!("bad_{i:02}"),
                    format!("c{i:02}"),
                    format!("c{i:02}"),
                ]
            })
            .collect();
        expected.extend(
            [
                "clusters/F-2.toml",
                "c05",
                "bad_f1",
                "f1",
                "f1",
                "bad_f3",
                "f3",
                "f3",
            ]
            .map(String::from),
        );
        assert_eq!(order, expected, "{:#?}", loaded.diagnostics);
    }
}
