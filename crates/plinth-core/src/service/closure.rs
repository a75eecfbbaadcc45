//! Everything kustomize reads for a platform's services: the closure the content hash covers,
//! the secrets lint scans and `validate` checks.
//!
//! kustomize reads a kustomization directory's files (its default load restrictor refuses any
//! file outside that directory) and follows `resources`, `bases` and `components` to other
//! directories, which may be anywhere. So the closure of a base is every file below every
//! kustomization directory reachable from it, whatever its kustomization lists: nothing kustomize
//! can read is left out, whichever field reads it. Symlinks are followed and must stay inside
//! the platform directory; a reference leaving it is an error at the reference.

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::fsutil::ReadProblem;
use crate::source::{SourceMap, Span};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A problem found walking the closure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub message: String,
    /// The kustomization file and the reference written in it, when a reference is at fault.
    pub at: Option<(PathBuf, String)>,
    /// The path concerned, relative to the platform.
    pub path: String,
    /// A warning does not stop anything (an unpinned remote base).
    pub warning: bool,
    /// What to do about it.
    pub hint: &'static str,
}

const OUTSIDE: &str = "everything a service applies must live inside the platform directory, where git records it and the promotion gate hashes it: copy it in instead of referring or linking to it";
const MISSING: &str = "fix the reference: kustomize fails on what does not exist";
const UNREADABLE: &str = "kustomize reads every file of a base: make it a regular UTF-8 file of at most 64 MiB, or move it out of the base";
const NOT_KUSTOMIZATION: &str = "kustomize loads a directory it is given as a kustomization: add a `kustomization.yaml`, or list the files themselves";
const BAD_YAML: &str = "fix the YAML: kustomize reads this file";

/// The files kustomize reads, and what is wrong on the way.
#[derive(Debug, Default)]
pub struct Closure {
    /// Path relative to the platform (as reached, symlinks not resolved) → real path.
    pub files: BTreeMap<String, PathBuf>,
    pub problems: Vec<Problem>,
}

/// The kustomization file of a directory, if any.
pub fn kustomization_file(dir: &Path) -> Option<PathBuf> {
    ["kustomization.yaml", "kustomization.yml", "Kustomization"]
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
}

/// A reference kustomize fetches over the network rather than from the platform.
pub fn is_remote(r: &str) -> bool {
    r.contains("://")
        || r.starts_with("git@")
        || r.starts_with("github.com/")
        || r.starts_with("gitlab.com/")
        || r.starts_with("bitbucket.org/")
        || r.contains("?ref=")
}

/// Names never walked: git's and Terraform's working directories.
const SKIPPED: &[&str] = &[".git", ".terraform"];

struct Walk<'a> {
    root: &'a Path,
    real_root: PathBuf,
    /// Real paths never entered (the generated output: it holds the overlays, not bases).
    excluded: Vec<PathBuf>,
    kustomizations: BTreeSet<PathBuf>,
    trees: BTreeSet<PathBuf>,
    out: Closure,
}

/// The closure of the kustomization directories `starts` (relative to the platform `root`);
/// `output` (the generated tree) is never entered.
pub fn of(root: &Path, starts: &[String], output: Option<&Path>) -> Closure {
    let real_root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let mut w = Walk {
        root,
        excluded: output
            .and_then(|o| std::fs::canonicalize(o).ok())
            .into_iter()
            .collect(),
        real_root,
        kustomizations: BTreeSet::new(),
        trees: BTreeSet::new(),
        out: Closure::default(),
    };
    let mut starts: Vec<&String> = starts.iter().collect();
    starts.sort();
    starts.dedup();
    for s in starts {
        w.kustomization(s, 0);
    }
    w.out
}

impl Walk<'_> {
    fn problem(
        &mut self,
        path: &str,
        message: String,
        at: Option<(PathBuf, String)>,
        hint: &'static str,
    ) {
        self.out.problems.push(Problem {
            message,
            at,
            path: path.to_string(),
            warning: false,
            hint,
        });
    }

    /// Where `rel` really is, if it is inside the platform; a problem otherwise.
    fn inside(&mut self, rel: &str, at: Option<(PathBuf, String)>) -> Option<PathBuf> {
        let real = match std::fs::canonicalize(self.root.join(rel)) {
            Ok(r) => r,
            Err(e) => {
                let (message, hint) = if e.kind() == std::io::ErrorKind::NotFound {
                    (format!("`{rel}` does not exist"), MISSING)
                } else {
                    (format!("`{rel}` cannot be read: {e}"), UNREADABLE)
                };
                self.problem(rel, message, at, hint);
                return None;
            }
        };
        if !real.starts_with(&self.real_root) {
            self.problem(
                rel,
                format!(
                    "`{rel}` resolves to `{}`, outside the platform directory: kustomize would read it, but git records only the platform",
                    real.display()
                ),
                at,
                OUTSIDE,
            );
            return None;
        }
        Some(real)
    }

    /// A kustomization directory: its whole tree, then the directories it refers to. A
    /// starting directory (depth 0) that is missing, outside or not a kustomization is the
    /// definition's problem, reported where it names it (`service::check_files`).
    fn kustomization(&mut self, rel: &str, depth: usize) {
        let real = if depth == 0 {
            match std::fs::canonicalize(self.root.join(rel)) {
                Ok(r) if r.starts_with(&self.real_root) => r,
                _ => return,
            }
        } else {
            let Some(real) = self.inside(rel, None) else {
                return;
            };
            real
        };
        if depth > 32 || !self.kustomizations.insert(real.clone()) {
            return;
        }
        self.tree(rel, &real);
        let Some(kfile) = kustomization_file(&real) else {
            if depth > 0 {
                self.problem(
                    rel,
                    format!("`{rel}` has no kustomization.yaml"),
                    None,
                    NOT_KUSTOMIZATION,
                );
            }
            return;
        };
        let text = match crate::fsutil::read_text(&kfile) {
            Ok(t) => t,
            // Reported for the file by the tree walk.
            Err(_) => return,
        };
        let Ok(docs) = yaml_rust2::YamlLoader::load_from_str(&text) else {
            let name = format!("{rel}/{}", file_name(&kfile));
            self.problem(&name, format!("`{name}` is not valid YAML"), None, BAD_YAML);
            return;
        };
        let Some(doc) = docs.first() else { return };
        let shown_kfile = self.root.join(rel).join(file_name(&kfile));
        for key in ["resources", "bases", "components", "crds"] {
            for r in doc[key].as_vec().map(Vec::as_slice).unwrap_or_default() {
                let Some(r) = r.as_str() else { continue };
                let at = Some((shown_kfile.clone(), r.to_string()));
                if is_remote(r) {
                    if !r.contains("ref=") && !r.contains("version=") {
                        self.out.problems.push(Problem {
                            message: format!(
                                "`{rel}` refers to the remote base `{r}` without a ref: it is fetched when Terraform runs, and the content hash covers its address, not its content"
                            ),
                            at,
                            path: rel.to_string(),
                            warning: true,
                            hint: "pin it to a commit (`?ref=<commit>`), or vendor it into the platform as a local base",
                        });
                    }
                    continue;
                }
                let target = normalize_rel(&format!("{rel}/{r}"));
                let Some(target) = target else {
                    self.problem(
                        rel,
                        format!("`{rel}` refers to `{r}`, outside the platform directory: git records only the platform, so the promotion gate could not cover it"),
                        at,
                        OUTSIDE,
                    );
                    continue;
                };
                let Some(real_target) = self.inside(&target, at) else {
                    continue;
                };
                if real_target.is_dir() {
                    self.kustomization(&target, depth + 1);
                } else if !self.out.files.contains_key(&target) {
                    self.file(&target, &real_target);
                }
            }
        }
    }

    /// Every file below a directory, through symlinks that stay inside the platform.
    fn tree(&mut self, rel: &str, real: &Path) {
        if self.excluded.iter().any(|e| real.starts_with(e))
            || !self.trees.insert(real.to_path_buf())
        {
            return;
        }
        let Ok(entries) = std::fs::read_dir(real) else {
            self.problem(rel, format!("`{rel}` cannot be read"), None, UNREADABLE);
            return;
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for name in names {
            if SKIPPED.contains(&name.as_str()) {
                continue;
            }
            let child = format!("{rel}/{name}");
            let Some(child_real) = self.inside(&child, None) else {
                continue;
            };
            if child_real.is_dir() {
                self.tree(&child, &child_real);
            } else {
                self.file(&child, &child_real);
            }
        }
    }

    fn file(&mut self, rel: &str, real: &Path) {
        match std::fs::metadata(real) {
            Ok(m) if m.is_file() && m.len() <= crate::load::MAX_FILE_BYTES => {
                self.out.files.insert(rel.to_string(), real.to_path_buf());
            }
            Ok(m) if m.is_file() => self.problem(
                rel,
                format!("`{rel}` {}", ReadProblem::TooLarge(m.len())),
                None,
                UNREADABLE,
            ),
            Ok(_) => self.problem(
                rel,
                format!("`{rel}` {}", ReadProblem::NotRegular),
                None,
                UNREADABLE,
            ),
            Err(e) => self.problem(
                rel,
                format!("`{rel}` cannot be read: {e}"),
                None,
                UNREADABLE,
            ),
        }
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `a/b/../c` → `a/c`; `None` when `..` climbs above the platform.
fn normalize_rel(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// The kustomization directories a platform's services start from: local bases and extra
/// resources that are directories, in every environment (of `clusters` only, when given).
pub fn starts(p: &crate::platform::Platform, clusters: Option<&BTreeSet<String>>) -> Vec<String> {
    let mut out = Vec::new();
    for c in p
        .clusters
        .values()
        .filter(|c| clusters.is_none_or(|k| k.contains(&c.key)))
    {
        for s in c.services.values() {
            if let super::Source::Path { path } = &s.source {
                out.push(path.trim_end_matches('/').to_string());
            }
            for r in s.layer_items("resources") {
                if let Some(path) = r.as_str()
                    && p.root.join(path).is_dir()
                {
                    out.push(path.trim_end_matches('/').to_string());
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The closure of every service of `p`, with its problems reported: references and symlinks
/// leaving the platform and unreadable files are errors at the reference, unpinned remote
/// bases warnings. Returned for the checks that read the files (the secrets lint).
pub fn check(
    p: &crate::platform::Platform,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> Closure {
    let c = of(&p.root, &starts(p, None), Some(&p.root.join("generated")));
    for prob in &c.problems {
        let mut d = if prob.warning {
            Diagnostic::warning("unpinned-source", prob.message.clone())
        } else {
            Diagnostic::error("invalid-path", prob.message.clone())
        }
        .hint(prob.hint);
        let located = prob.at.as_ref().and_then(|(kfile, r)| {
            let id = sources.find_or_read(&p.root, kfile)?;
            let text = &sources.get(id)?.text;
            Some((id, locate(text, r)))
        });
        d = match located {
            Some((id, span)) => d.label(id, span, "referred to here"),
            None => d.path(prob.path.clone()),
        };
        diags.push(d);
    }
    c
}

/// Where a reference is written in a kustomization file: its first occurrence as a list item
/// or quoted, else anywhere.
fn locate(text: &str, r: &str) -> Span {
    let found = text.match_indices(r).find(|(i, _)| {
        let before = text[..*i].trim_end_matches(['"', '\'']);
        before.ends_with("- ") || before.ends_with('-') || before.ends_with(": ")
    });
    let start = found.map(|(i, _)| i).or_else(|| text.find(r)).unwrap_or(0);
    Span::new(
        start
            ..start
                + if found.is_some() || text.contains(r) {
                    r.len()
                } else {
                    0
                },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }

    #[test]
    fn the_closure_follows_references_and_symlinks_inside_the_platform() {
        let tmp = tempfile::tempdir().expect("tmp");
        let root = tmp.path().join("p");
        write(
            &root,
            "services/x/kustomization.yaml",
            "resources:\n- deploy.yaml\n- ../common\n- linked\n- https://github.com/o/r//d?ref=v1\n",
        );
        write(&root, "services/x/deploy.yaml", "kind: Deployment\n");
        write(
            &root,
            "services/common/kustomization.yaml",
            "resources:\n- cm.yaml\n",
        );
        write(&root, "services/common/cm.yaml", "kind: ConfigMap\n");
        write(&root, "shared/kustomization.yaml", "resources: []\n");
        write(&root, "shared/sa.yaml", "kind: ServiceAccount\n");
        std::os::unix::fs::symlink("../../shared", root.join("services/x/linked")).expect("ln");
        write(&root, "generated/services/a/kustomization.yaml", "x\n");
        let c = of(&root, &["services/x".into()], Some(&root.join("generated")));
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert_eq!(
            c.files.keys().map(String::as_str).collect::<Vec<_>>(),
            [
                "services/common/cm.yaml",
                "services/common/kustomization.yaml",
                "services/x/deploy.yaml",
                "services/x/kustomization.yaml",
                "services/x/linked/kustomization.yaml",
                "services/x/linked/sa.yaml",
            ]
        );
    }

    #[test]
    fn references_leaving_the_platform_are_problems_at_the_reference() {
        let tmp = tempfile::tempdir().expect("tmp");
        let root = tmp.path().join("p");
        write(
            &tmp.path().join("outside"),
            "kustomization.yaml",
            "resources: []\n",
        );
        write(
            &root,
            "services/x/kustomization.yaml",
            "resources:\n- ../../../outside\n- github.com/o/r//d\n",
        );
        std::os::unix::fs::symlink("../../../outside", root.join("services/x/out")).expect("ln");
        let c = of(&root, &["services/x".into()], None);
        let errors: Vec<&Problem> = c.problems.iter().filter(|p| !p.warning).collect();
        assert_eq!(errors.len(), 2, "{:?}", c.problems);
        assert!(
            errors
                .iter()
                .any(|p| p.path == "services/x/out" && p.message.contains("outside the platform"))
        );
        assert!(
            errors
                .iter()
                .any(|p| p.at.as_ref().is_some_and(|(_, r)| r == "../../../outside"))
        );
        assert!(
            c.problems
                .iter()
                .any(|p| p.warning && p.message.contains("without a ref"))
        );
        assert!(!c.files.keys().any(|f| f.contains("out/")));
    }
}
