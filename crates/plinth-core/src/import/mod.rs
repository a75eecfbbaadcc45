//! `plinth import kubestack`: an existing Kubestack platform repository in, an equivalent
//! Plinth platform out.
//!
//! An import that changed what clusters resolve to would be worse than none, so the rules are:
//! every value Plinth can hold is carried over with the inheritance rule the source used
//! (`shallow` for release-era modules, `nested` for current ones, and for the default pool of a
//! current-era cluster exactly what Kubestack does to its `default_node_pool` table); every
//! value it cannot hold is left out, kept verbatim in a comment block of the file it belongs to
//! and listed in the report as needing a human decision; and nothing is written unless the
//! result validates.
//!
//! [`kubestack`] reads and builds (writing nothing); [`write`] writes the result.

mod build;
pub mod convert;
mod emit;
pub mod hcl;
pub mod migrate;
pub mod report;

pub use report::Report;

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::error::{Error, Result};
use crate::inheritance::Mode;
use crate::provider::{self, Provider};
use crate::source::{FileId, SourceMap, Span};
use ::hcl::edit::Span as _;
use ::hcl::edit::structure::Block;
use hcl::{At, Node, NodeKind, Repo};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The outcome of reading a Kubestack repository.
#[derive(Debug)]
pub struct Import {
    /// The Terraform files read, and the new platform's files as validated.
    pub sources: SourceMap,
    /// Problems: any error means nothing can be written.
    pub diagnostics: Diagnostics,
    pub report: Report,
    /// The new platform: paths relative to its directory and contents. Empty on errors.
    pub files: Vec<(PathBuf, Vec<u8>)>,
}

impl Import {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.has_errors()
    }
}

/// Refuses an output directory that exists and is not empty, before any work is done.
pub fn check_out(out: &Path) -> Result<()> {
    if out.exists() {
        let mut entries = std::fs::read_dir(out).map_err(|e| Error::io("read", out, e))?;
        if entries.next().is_some() {
            return Err(Error::NotEmpty(out.to_path_buf()));
        }
    }
    Ok(())
}

/// Writes a successful import to `out`, all or nothing.
pub fn write(import: &Import, out: &Path) -> Result<()> {
    if import.has_errors() || import.files.is_empty() {
        return Err(Error::refused(
            "the import has errors; nothing was written",
            None,
        ));
    }
    crate::fsutil::create_tree(out, &import.files)
}

/// What to write besides the platform.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// `kubestack-state-migration.sh` (see [`migrate`]).
    pub state_migration: bool,
    /// One Terraform root per cluster (`state = "cluster"`).
    pub per_cluster_state: bool,
}

/// The state migration script's name in the new platform.
pub const MIGRATION_SCRIPT: &str = "kubestack-state-migration.sh";

/// Reads the Kubestack repository in `src` and builds the Plinth platform that resolves the
/// same way, validated; `out` only names the new files in messages. Writes nothing.
pub fn kubestack(src: &Path, out: &Path, options: &Options) -> Import {
    let mut sources = SourceMap::default();
    let mut diags = Diagnostics::default();
    let repo = hcl::read(src, &mut sources, &mut diags);
    let source_name = std::fs::canonicalize(src)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "platform".into());
    let mut report = Report {
        source: src.display().to_string(),
        ..Report::default()
    };
    let modules = classify(&repo, &sources, &mut diags, &mut report);
    if repo.files.is_empty() && !diags.has_errors() {
        diags.push(
            Diagnostic::error(
                "no-kubestack",
                format!("no Terraform files (`*.tf`) in `{}`", src.display()),
            )
            .path(src.display().to_string())
            .hint(
                "point at the directory that holds the Kubestack repository's `*_cluster.tf` files",
            ),
        );
    }
    let mut files = Vec::new();
    if !diags.has_errors() {
        let mut b = build::Builder::new(&repo, &sources, &mut diags, &mut report, src);
        if let Some(mut platform) = b.platform(&modules) {
            platform.per_cluster_state = options.per_cluster_state;
            let (texts, copies) = emit::files(&platform, &source_name, &mut report);
            let script = options.state_migration.then_some(report.source.as_str());
            files = validate(src, out, texts, copies, script, &mut sources, &mut diags);
        }
    }
    if diags.has_errors() {
        files.clear();
    }
    report.files = files
        .iter()
        .map(|(p, _)| p.to_string_lossy().replace('\\', "/"))
        .collect();
    Import {
        sources,
        diagnostics: diags,
        report,
        files,
    }
}

/// Checks the new platform as Plinth will read it (from memory: nothing is written yet) and
/// returns its files, with the state migration script for the repository `script` names.
/// Service bases are checked where they are in the source, which holds the same files at the
/// same relative paths.
fn validate(
    src: &Path,
    out: &Path,
    texts: Vec<(PathBuf, String)>,
    copies: BTreeSet<PathBuf>,
    script: Option<&str>,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> Vec<(PathBuf, Vec<u8>)> {
    let overlay: crate::load::Overlay = texts
        .iter()
        .map(|(p, t)| (p.clone(), Some(t.clone())))
        .collect();
    let checked = crate::check_loaded(crate::load::load_virtual(src, &overlay));
    // A placeholder is a decision the import leaves to a person (the report lists it): the
    // platform is written, and `validate` reports the placeholder until it is replaced.
    let undecided = |d: &Diagnostic| d.code == crate::keys::UNDECIDED;
    let errors = checked
        .diagnostics
        .iter()
        .filter(|d| d.severity == crate::Severity::Error && !undecided(d))
        .count();
    // Positions in the validated files are re-homed in the import's source map, under the
    // names the files have (or would have had) in `out`.
    let mut ids = BTreeMap::new();
    for (id, f) in checked.sources.files() {
        let name = if overlay.contains_key(Path::new(&f.name)) {
            if errors > 0 {
                format!("{}/{} (not written)", out.display(), f.name)
            } else {
                format!("{}/{}", out.display(), f.name)
            }
        } else {
            f.name.clone()
        };
        ids.insert(id, sources.add(name, f.path.clone(), f.text.clone()));
    }
    for mut d in checked.diagnostics.into_iter() {
        for l in &mut d.labels {
            l.file = ids.get(&l.file).copied().unwrap_or(FileId::BUILTIN);
        }
        if undecided(&d) {
            d.severity = crate::Severity::Warning;
        }
        diags.push(d);
    }
    if errors > 0 {
        diags.push(
            Diagnostic::error(
                "import-invalid",
                format!(
                    "the imported platform would not be valid ({errors} error{}); nothing was written",
                    if errors == 1 { "" } else { "s" }
                ),
            )
            .hint("the errors above point into the files as they would have been written; most mean the Kubestack repository leaves a required value empty or unset"),
        );
        return Vec::new();
    }
    let mut files: Vec<(PathBuf, Vec<u8>)> = texts
        .into_iter()
        .map(|(p, t)| (p, t.into_bytes()))
        .collect();
    if let (Some(source), Some(p), Some(r)) = (script, &checked.platform, &checked.resolution) {
        files.push((
            PathBuf::from(MIGRATION_SCRIPT),
            migrate::script(p, r, source).into_bytes(),
        ));
    }
    for rel in copies {
        copy_into(src, &rel, &mut files, diags);
    }
    files
}

/// Adds `rel` (a file, or a directory tree) from `src` to `files`.
fn copy_into(src: &Path, rel: &Path, files: &mut Vec<(PathBuf, Vec<u8>)>, diags: &mut Diagnostics) {
    let full = src.join(rel);
    if full.is_dir() {
        let Ok(entries) = std::fs::read_dir(&full) else {
            diags.push(
                Diagnostic::error("unreadable", format!("cannot read `{}`", rel.display()))
                    .path(rel.display().to_string()),
            );
            return;
        };
        let mut names: Vec<_> = entries.flatten().map(|e| e.file_name()).collect();
        names.sort();
        for n in names {
            if n.to_string_lossy().starts_with('.') {
                continue;
            }
            copy_into(src, &rel.join(n), files, diags);
        }
    } else {
        match std::fs::read(&full) {
            Ok(bytes) => {
                if !files.iter().any(|(p, _)| p == rel) {
                    files.push((rel.to_path_buf(), bytes));
                }
            }
            Err(e) => diags.push(
                Diagnostic::error(
                    "unreadable",
                    format!("cannot read `{}`: {e}", rel.display()),
                )
                .path(rel.display().to_string()),
            ),
        }
    }
}

/// Kubestack's dialects: the last release's flat string keys and shallow inheritance, or the
/// main branch's typed keys and one-level nested inheritance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Release,
    Current,
}

impl Dialect {
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Release => "release",
            Dialect::Current => "current",
        }
    }

    pub fn mode(self) -> Mode {
        match self {
            Dialect::Release => Mode::Shallow,
            Dialect::Current => Mode::Nested,
        }
    }
}

/// The last tagged release of Kubestack's flat-string modules (v0.19.2-beta.0); later tags are
/// the typed modules of the main branch.
pub const LAST_RELEASE: Version = (0, 19, 2);

/// A Kubestack version: major, minor, patch (pre-release suffixes are ignored).
pub type Version = (u32, u32, u32);

/// What a module's `?ref=` says: the version it pins, and the dialect that suggests. The
/// configuration's shape decides the dialect where it can (see `build::shape_dialect`): a
/// future tag of the typed modules is current-era whatever its number.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Pin {
    pub reference: Option<String>,
    pub version: Option<Version>,
    pub dialect: Option<Dialect>,
}

impl Pin {
    pub fn of(reference: Option<&str>) -> Pin {
        let Some(r) = reference else {
            return Pin::default();
        };
        let version = parse_version(r);
        let dialect = Some(match version {
            Some(v) if v <= LAST_RELEASE => Dialect::Release,
            _ => Dialect::Current,
        });
        Pin {
            reference: Some(r.to_string()),
            version,
            dialect,
        }
    }
}

/// `v0.19.2-beta.0` → `(0, 19, 2)`; branches and commits are no versions.
pub fn parse_version(r: &str) -> Option<Version> {
    let tag = r.strip_prefix('v')?;
    let core = tag.split(['-', '+']).next()?;
    let mut parts = core.split('.').map(|p| p.parse::<u32>().ok());
    let v = (
        parts.next()??,
        parts.next()??,
        parts.next().flatten().unwrap_or(0),
    );
    parts.next().is_none().then_some(v)
}

/// What a `module` block is.
#[derive(Clone, Debug)]
pub(crate) enum Kind {
    /// A Kubestack cluster module and what its source pins.
    Cluster(&'static Provider, Pin),
    NodePool(&'static Provider, Pin),
    /// A Kubestack module Plinth does the work of itself (the EKS ingress DNS zone).
    Covered(&'static str),
    /// A Kubestack module of a cloud Plinth has no provider for (Scaleway): a decision.
    Unsupported(&'static str),
    /// A catalog service: entry and version.
    Catalog(String, Option<String>),
    /// Anything else: a kustomization overlay when it uses a `kustomization` provider.
    Other,
}

/// One `module` block.
pub(crate) struct Module<'r> {
    pub name: String,
    pub file: FileId,
    pub block: &'r Block,
    /// The block's `module "name"` text.
    pub at: At,
    pub source: String,
    pub source_at: At,
    pub kind: Kind,
}

/// The Kubestack cluster modules by path below the repository root.
const CLUSTER_PATHS: &[(&str, &str)] = &[
    ("aws/cluster", "eks"),
    ("azurerm/cluster", "aks"),
    ("google/cluster", "gke"),
    ("kind/cluster", "kind"),
];

/// Kubestack's cluster modules of clouds Plinth has no provider for.
const UNSUPPORTED_PATHS: &[(&str, &str)] = &[(
    "scaleway/cluster",
    "Plinth has no Scaleway Kapsule provider; this cluster (and its node pools and services) stays with Kubestack, the other clusters are imported",
)];

/// Sorts every `module` block into what it is. Unknown Kubestack sources are errors: they are
/// almost always a cluster or pool the import would otherwise lose.
fn classify<'r>(
    repo: &'r Repo,
    sources: &SourceMap,
    diags: &mut Diagnostics,
    report: &mut Report,
) -> Vec<Module<'r>> {
    let mut out = Vec::new();
    for (file, block) in repo.blocks("module") {
        let Some(name) = block.labels.first().map(|l| l.as_str().to_string()) else {
            continue;
        };
        let at = At::new(
            file,
            match (
                block.ident.span(),
                block.labels.last().and_then(|l| l.span()),
            ) {
                (Some(a), Some(b)) => Some(a.start..b.end),
                (a, _) => a,
            },
        );
        let Some(src_attr) = block.body.get_attribute("source") else {
            diags.push(
                Diagnostic::error("unknown-module", format!("module `{name}` has no `source`"))
                    .label(at.file, at.span, "which module is this?"),
            );
            continue;
        };
        let source_at = At::new(file, src_attr.value.span());
        let Some(source) = src_attr.value.as_str().map(String::from) else {
            diags.push(
                Diagnostic::error(
                    "unknown-module",
                    format!("the `source` of module `{name}` is not a literal string"),
                )
                .label(
                    source_at.file,
                    source_at.span,
                    "Terraform requires a literal here",
                ),
            );
            continue;
        };
        let version = block
            .body
            .get_attribute("version")
            .and_then(|a| a.value.as_str().map(String::from));
        let kind = match source_kind(&source, version) {
            Ok(k) => k,
            Err(hint) => {
                diags.push(
                    Diagnostic::error(
                        "unknown-module",
                        format!(
                            "module `{name}`: `{source}` is not a Kubestack module Plinth knows"
                        ),
                    )
                    .label(source_at.file, source_at.span, "unknown Kubestack module")
                    .hint(hint),
                );
                continue;
            }
        };
        if let Kind::Covered(why) | Kind::Unsupported(why) = kind {
            report.decisions.push(report::Decision {
                component: None,
                environment: None,
                at: at.show(sources),
                message: format!("module `{name}` ({source}) is not imported: {why}"),
                verbatim: None,
                kept_in: None,
            });
            continue;
        }
        out.push(Module {
            name,
            file,
            block,
            at,
            source,
            source_at,
            kind,
        });
    }
    out
}

/// Classifies a module source; `Err` is a hint for a Kubestack source Plinth does not know.
fn source_kind(source: &str, version: Option<String>) -> std::result::Result<Kind, String> {
    let (addr, reference) = match source.split_once("?ref=") {
        Some((a, r)) => (a, Some(r)),
        None => (source, None),
    };
    let pin = Pin::of(reference);
    if let Some(rest) = addr.strip_prefix("kbst.xyz/catalog/") {
        return match rest.split_once('/') {
            Some((entry, "kustomization")) if !entry.is_empty() => {
                Ok(Kind::Catalog(entry.to_string(), version))
            }
            _ => Err("catalog modules are `kbst.xyz/catalog/<entry>/kustomization`".into()),
        };
    }
    let is_module = |p: &str, c: &str| {
        p == c || p.ends_with(&format!("/{c}")) || p.ends_with(&format!("/{c}/node-pool"))
    };
    let kubestack_path = addr
        .split_once("terraform-kubestack//")
        .map(|(_, p)| p.trim_end_matches('/'))
        .or_else(|| {
            // A vendored copy (Kubestack's own tests use `../aws/cluster`).
            (addr.starts_with("./") || addr.starts_with("../"))
                .then(|| addr.trim_end_matches('/'))
                .filter(|p| {
                    CLUSTER_PATHS
                        .iter()
                        .chain(UNSUPPORTED_PATHS)
                        .any(|(c, _)| is_module(p, c))
                })
        });
    let Some(path) = kubestack_path else {
        return Ok(Kind::Other);
    };
    for (c, id) in CLUSTER_PATHS {
        let Some(p) = provider::by_id(id) else {
            continue;
        };
        if path == *c || path.ends_with(&format!("/{c}")) {
            return Ok(Kind::Cluster(p, pin));
        }
        if path == format!("{c}/node-pool") || path.ends_with(&format!("/{c}/node-pool")) {
            return Ok(Kind::NodePool(p, pin));
        }
    }
    // Remote or vendored, the same way: not imported, and said so.
    for (c, why) in UNSUPPORTED_PATHS {
        if is_module(path, c) {
            return Ok(Kind::Unsupported(why));
        }
    }
    if path.ends_with("aws/cluster/elb-dns") {
        return Ok(Kind::Covered(
            "Plinth creates the default ingress DNS zone and records itself (`disable_default_ingress = false`)",
        ));
    }
    let known = CLUSTER_PATHS
        .iter()
        .flat_map(|(c, _)| [c.to_string(), format!("{c}/node-pool")])
        .collect::<Vec<_>>();
    let hint = match crate::diagnostic::did_you_mean(path, known.iter().map(String::as_str)) {
        Some(best) => format!("did you mean `//{best}`?"),
        None => format!(
            "Plinth imports Kubestack's cluster and node-pool modules: {}",
            known
                .iter()
                .map(|k| format!("`//{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    Err(hint)
}

/// The text of a node as written, for verbatim blocks.
pub(crate) fn verbatim(sources: &SourceMap, key_at: Option<At>, node: &Node) -> String {
    let span = match key_at {
        Some(k) if k.file == node.at.file && k.span.start <= node.at.span.start => Span {
            start: k.span.start,
            end: node.at.span.end,
        },
        _ => node.at.span,
    };
    let Some(text) = sources.snippet(node.at.file, span) else {
        return node.show();
    };
    // Continuation lines lose the indentation of the line the text starts on.
    let indent = sources
        .line_col(node.at.file, span.start)
        .map_or(0, |lc| lc.column.saturating_sub(1));
    let mut lines = text.lines();
    let mut out = lines.next().unwrap_or_default().to_string();
    for l in lines {
        out.push('\n');
        let strip = l.len() - l.trim_start_matches(' ').len();
        out.push_str(&l[strip.min(indent)..]);
    }
    let comments: String = node
        .comments
        .leading
        .iter()
        .map(|c| format!("# {c}\n"))
        .collect();
    format!("{comments}{out}")
}

/// `""`: under Kubestack's nested rule it inherits like null.
pub(crate) fn is_empty_string(n: &Node) -> bool {
    matches!(&n.kind, NodeKind::Str(s) if s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_sources() {
        let k = |s: &str| source_kind(s, None);
        assert!(matches!(
            k("github.com/kbst/terraform-kubestack//aws/cluster?ref=v0.19.2-beta.0"),
            Ok(Kind::Cluster(p, Pin { dialect: Some(Dialect::Release), version: Some((0, 19, 2)), .. })) if p.id == "eks"
        ));
        assert!(matches!(
            k("github.com/kbst/terraform-kubestack//google/cluster/node-pool?ref=main"),
            Ok(Kind::NodePool(p, Pin { dialect: Some(Dialect::Current), version: None, .. })) if p.id == "gke"
        ));
        // A later tag is the typed modules' (the configuration's shape decides in the end).
        assert!(matches!(
            k("github.com/kbst/terraform-kubestack//google/cluster?ref=v0.20.0-beta.0"),
            Ok(Kind::Cluster(
                _,
                Pin {
                    dialect: Some(Dialect::Current),
                    version: Some((0, 20, 0)),
                    ..
                }
            ))
        ));
        assert!(
            matches!(k("../azurerm/cluster"), Ok(Kind::Cluster(p, Pin { dialect: None, .. })) if p.id == "aks")
        );
        // Scaleway, remote or vendored: not imported, the same way.
        for s in [
            "github.com/kbst/terraform-kubestack//scaleway/cluster?ref=main",
            "../scaleway/cluster",
            "./vendor/terraform-kubestack/scaleway/cluster/node-pool",
        ] {
            assert!(matches!(k(s), Ok(Kind::Unsupported(_))), "{s}");
        }
        assert!(matches!(
            k("kbst.xyz/catalog/nginx/kustomization"),
            Ok(Kind::Catalog(e, None)) if e == "nginx"
        ));
        assert!(matches!(
            k("terraform-aws-modules/vpc/aws"),
            Ok(Kind::Other)
        ));
        assert_eq!(
            k("github.com/kbst/terraform-kubestack//aws/clustr?ref=v0.19.2-beta.0").err(),
            Some("did you mean `//aws/cluster`?".to_string())
        );
    }

    #[test]
    fn versions_of_refs() {
        assert_eq!(parse_version("v0.19.2-beta.0"), Some((0, 19, 2)));
        assert_eq!(parse_version("v0.15.1-beta.1"), Some((0, 15, 1)));
        assert_eq!(parse_version("v1.2"), Some((1, 2, 0)));
        assert_eq!(parse_version("main"), None);
        assert_eq!(parse_version("4f1c2d9e"), None);
        assert_eq!(parse_version("v1.2.3.4"), None);
    }
}
