//! `plinth generate`: render everything, then replace the output tree in one step.
//!
//! The new tree is built in a staging directory beside the output (its name carries the
//! process id, and one lock on the parent directory admits one writer at a time); Terraform's
//! own working files (`.terraform/`, state, plan and lock files) and `*_override.tf` files are
//! carried over; then the two directories are exchanged atomically
//! (`renameat2(RENAME_EXCHANGE)`), so a crash leaves either the old tree or the new one, never a
//! mix. Files whose content did not change are hard-linked, not rewritten.
//!
//! Every file on disk is read and hashed on every run: a file is known by its content, never by
//! its size and modification time (both are set at will with `touch -d`). A generated file
//! edited by hand (its hash no longer matches its header) is never overwritten silently, and any
//! other file in the output tree — Terraform reads every `*.tf` of a root, kustomize whatever an
//! overlay lists — is an error: what the engines read is exactly what Plinth wrote, plus the
//! override files Terraform documents for local adjustments.

use crate::error::{Error, Result};
use crate::platform::Platform;
use crate::render::{self, Provenance, Tree};
use crate::resolve::Resolution;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Renders every generated file of the platform, for writing to `out` (overlays refer to
/// their bases relative to it).
pub fn render_all(p: &Platform, r: &Resolution, out: &Path) -> Result<Tree> {
    // Each renderer spreads over both cores but ends with a sequential merge: run both at once
    // so one's merge overlaps the other's rendering.
    let (tf, k8s) = rayon::join(
        || {
            let mut t = Tree::default();
            render::terraform::render(p, r, &mut t).map(|()| t)
        },
        || {
            let mut t = Tree::default();
            render::kustomize::render(p, r, out, &mut t).map(|()| t)
        },
    );
    let mut tree = tf?;
    tree.extend(k8s?);
    Ok(tree)
}

/// A difference between the tree and the disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub path: String,
    pub kind: ChangeKind,
    pub old: Option<String>,
    pub new: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Modified,
    Removed,
}

/// A generated file found on disk.
#[derive(Debug)]
struct Ours {
    /// Its bytes are exactly what the tree being written holds for it.
    current: bool,
    provenance: Provenance,
}

/// What is on disk in the output directory.
#[derive(Debug, Default)]
struct Existing {
    /// Files Plinth generated, and whether they were edited since.
    ours: BTreeMap<String, Ours>,
    /// Terraform's working files and override files (relative paths): kept as they are.
    kept: Vec<String>,
    /// Everything else (relative paths): files Plinth did not write, symlinks.
    foreign: Vec<String>,
    /// The manifest of sizes and times older versions wrote: removed on the next write.
    legacy_manifest: bool,
}

/// The manifest older versions wrote beside the generated files (sizes and modification times,
/// trusted instead of the content): never read, removed by the next write.
const LEGACY_MANIFEST: &str = ".plinth-manifest";

/// Directories and files Terraform owns in a working directory: never read, always kept.
pub fn is_engine_entry(name: &str) -> bool {
    matches!(
        name,
        ".terraform"
            | "terraform.tfstate.d"
            | ".terraform.lock.hcl"
            | ".terraform.tfstate.lock.info"
            | "crash.log"
    ) || name.starts_with("terraform.tfstate")
        || name.ends_with(".tfstate")
        || name.ends_with(".tfstate.backup")
        || name.ends_with(".tfplan")
}

/// Terraform's documented local adjustment: `override.tf` and `*_override.tf` (and their JSON
/// forms) merge into the configuration of the directory they are in. Kept by `generate`; hashed
/// by the promotion gate when committed, recorded by name and hash when not.
pub fn is_override(name: &str) -> bool {
    name == "override.tf"
        || name == "override.tf.json"
        || name.ends_with("_override.tf")
        || name.ends_with("_override.tf.json")
}

/// What is in `out`, every file read and compared byte for byte with what `tree` holds for it
/// (cheaper than hashing both, and as exact).
fn scan(out: &Path, tree: &Tree) -> Result<Existing> {
    use rayon::prelude::*;
    let mut ex = Existing::default();
    if !out.is_dir() {
        return Ok(ex);
    }
    let mut files = Vec::new();
    ex.legacy_manifest = list_dir(out, "", &mut files, &mut ex.kept, &mut ex.foreign)?;
    // Both cores: every file is read (tens of thousands at platform scale).
    let classified: Vec<(String, Option<Ours>)> = files
        .into_par_iter()
        .map(|rel| {
            let bytes = crate::fsutil::read_regular(&out.join(&rel), crate::load::MAX_FILE_BYTES)
                .unwrap_or_default();
            if tree
                .get(&rel)
                .is_some_and(|t| t.as_bytes() == bytes.as_slice())
            {
                let ours = Ours {
                    current: true,
                    provenance: Provenance::Generated,
                };
                return (rel, Some(ours));
            }
            let class =
                std::str::from_utf8(&bytes)
                    .ok()
                    .and_then(|t| match render::provenance(t) {
                        Provenance::Foreign => None,
                        p => Some(Ours {
                            current: false,
                            provenance: p,
                        }),
                    });
            (rel, class)
        })
        .collect();
    for (rel, class) in classified {
        match class {
            Some(c) => {
                ex.ours.insert(rel, c);
            }
            None => ex.foreign.push(rel),
        }
    }
    ex.foreign.sort();
    ex.kept.sort();
    Ok(ex)
}

/// The current content of a file on disk (for diffs and backups).
fn read_old(out: &Path, path: &str) -> String {
    crate::fsutil::read_text(&out.join(path)).unwrap_or_default()
}

/// Files below `dir` (relative), Terraform's entries and override files as kept, symlinks and
/// anything that is neither a file nor a directory as foreign. Returns whether the top level
/// holds an older version's manifest.
///
/// Subdirectories are walked on both cores: a generated tree has a directory for almost every
/// file (tens of thousands at platform scale), each costing an open and a read.
fn list_dir(
    dir: &Path,
    prefix: &str,
    files: &mut Vec<String>,
    kept: &mut Vec<String>,
    foreign: &mut Vec<String>,
) -> Result<bool> {
    use rayon::prelude::*;
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io("read", dir, e))?;
    let mut subdirs = Vec::new();
    let mut legacy = false;
    for entry in entries.filter_map(|e| e.ok()) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = format!("{prefix}{name}");
        if prefix.is_empty() && name == LEGACY_MANIFEST {
            legacy = true;
            continue;
        }
        let ft = entry
            .file_type()
            .map_err(|e| Error::io("read", entry.path(), e))?;
        if is_engine_entry(&name) || (is_override(&name) && ft.is_file()) {
            kept.push(rel);
        } else if ft.is_dir() {
            subdirs.push((entry.path(), format!("{rel}/")));
        } else if ft.is_file() {
            files.push(rel);
        } else {
            foreign.push(rel);
        }
    }
    let nested = subdirs
        .par_iter()
        .map(|(path, rel)| {
            let (mut f, mut k, mut g) = (Vec::new(), Vec::new(), Vec::new());
            list_dir(path, rel, &mut f, &mut k, &mut g).map(|_| (f, k, g))
        })
        .collect::<Result<Vec<_>>>()?;
    for (f, k, g) in nested {
        files.extend(f);
        kept.extend(k);
        foreign.extend(g);
    }
    Ok(legacy)
}

/// Every file of the output tree an engine reads (relative paths, sorted): all regular files
/// but Terraform's working files — generated files, override files, anything else. Symlinks and
/// special files are refused: `generate` never leaves one there.
pub fn engine_files(out: &Path) -> Result<Vec<String>> {
    let (mut files, mut kept, mut other) = (Vec::new(), Vec::new(), Vec::new());
    if out.is_dir() {
        list_dir(out, "", &mut files, &mut kept, &mut other)?;
    }
    refuse_foreign(out, &other)?;
    files.extend(kept.into_iter().filter(|k| {
        let name = k.rsplit('/').next().unwrap_or(k);
        is_override(name)
    }));
    files.sort();
    Ok(files)
}

/// Files in `out` that Plinth did not write and that are not Terraform's: an error for every
/// command that relies on the output being what Plinth generated.
fn refuse_foreign(out: &Path, foreign: &[String]) -> Result<()> {
    if foreign.is_empty() {
        return Ok(());
    }
    let shown: Vec<String> = foreign.iter().take(10).map(|f| format!("`{f}`")).collect();
    let more = if foreign.len() > shown.len() {
        format!(" and {} more", foreign.len() - shown.len())
    } else {
        String::new()
    };
    Err(Error::refused(
        format!(
            "`{}` holds {} file(s) Plinth did not generate: {}{more}",
            out.display(),
            foreign.len(),
            shown.join(", ")
        ),
        Some(
            "Terraform reads every `*.tf` file of a root and kustomize whatever an overlay lists, so the output may hold only what Plinth generates (plus Terraform's working files): move the change into the platform definition, name a deliberate local adjustment `*_override.tf`, or run `plinth generate --force` to move these files out (kept in a backup)".into(),
        ),
    ))
}

/// Differences between what `tree` would write and the generated files on disk. Files Plinth
/// did not write are an error, not a difference.
pub fn changes(out: &Path, tree: &Tree) -> Result<Vec<Change>> {
    let ex = scan(out, tree)?;
    refuse_foreign(out, &ex.foreign)?;
    let mut v = Vec::new();
    for (path, new) in tree.files() {
        match ex.ours.get(path) {
            Some(o) if o.current => {}
            Some(_) => v.push(Change {
                path: path.into(),
                kind: ChangeKind::Modified,
                old: Some(read_old(out, path)),
                new: Some(new.into()),
            }),
            None => v.push(Change {
                path: path.into(),
                kind: ChangeKind::Added,
                old: None,
                new: Some(new.into()),
            }),
        }
    }
    for path in ex.ours.keys() {
        if !tree.contains(path) {
            v.push(Change {
                path: path.clone(),
                kind: ChangeKind::Removed,
                old: Some(read_old(out, path)),
                new: None,
            });
        }
    }
    if ex.legacy_manifest {
        v.push(Change {
            path: LEGACY_MANIFEST.into(),
            kind: ChangeKind::Removed,
            old: Some(String::new()),
            new: None,
        });
    }
    v.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(v)
}

/// A unified diff of changes, `a/` being the disk and `b/` what would be generated.
pub fn unified_diff(changes: &[Change]) -> String {
    let mut out = String::new();
    for c in changes {
        let old = c.old.as_deref().unwrap_or_default();
        let new = c.new.as_deref().unwrap_or_default();
        let a = if c.old.is_some() {
            format!("a/{}", c.path)
        } else {
            "/dev/null".into()
        };
        let b = if c.new.is_some() {
            format!("b/{}", c.path)
        } else {
            "/dev/null".into()
        };
        let diff = similar::TextDiff::from_lines(old, new);
        out.push_str(
            &diff
                .unified_diff()
                .context_radius(3)
                .header(&a, &b)
                .to_string(),
        );
    }
    out
}

/// What a write did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub written: Vec<String>,
    pub unchanged: usize,
    pub removed: Vec<String>,
    /// Hand-edited generated files and files Plinth did not write, moved out of the output
    /// under `--force` (paths relative to the output).
    pub backed_up: Vec<String>,
    /// Where they were put: outside the output tree, so they are neither read by the engines
    /// nor taken for generated files.
    pub backup_dir: Option<PathBuf>,
}

/// Writes `tree` to `out` atomically. Hand-edited generated files and files Plinth did not
/// write stop the write unless `force`, which moves them to a backup outside the output.
pub fn write(out: &Path, tree: &Tree, force: bool) -> Result<Report> {
    // The swap below exchanges whatever `out` is: a file or a symlink there would be moved
    // aside and deleted with the old tree.
    if let Ok(meta) = std::fs::symlink_metadata(out)
        && !meta.is_dir()
    {
        return Err(Error::refused(
            format!(
                "`{}` is not a directory: the generated tree would replace it",
                out.display()
            ),
            Some("move it away, or write elsewhere with `--out <dir>`".into()),
        ));
    }
    let parent = parent_dir(out);
    std::fs::create_dir_all(&parent).map_err(|e| Error::io("create", &parent, e))?;
    // One writer at a time: a second `generate` into the same output (or a second edit of the
    // platform) waits here, then sees the first one's result.
    let _lock = crate::fsutil::DirLock::acquire(&parent)?;
    recover(out)?;
    let ex = scan(out, tree)?;
    let edited: Vec<String> = ex
        .ours
        .iter()
        .filter(|(_, o)| o.provenance == Provenance::Edited && !o.current)
        .map(|(p, _)| p.clone())
        .collect();
    if !force {
        if !edited.is_empty() {
            return Err(Error::refused(
                format!(
                    "{} generated file(s) were changed by hand and would be overwritten: {}",
                    edited.len(),
                    edited.join(", ")
                ),
                Some("move the change into the platform definition, or run again with `--force` (each file is moved to a backup outside the output)".into()),
            ));
        }
        refuse_foreign(out, &ex.foreign)?;
    }
    let moved_out: Vec<String> = edited.iter().chain(&ex.foreign).cloned().collect();

    let mut report = Report::default();
    let unchanged = |path: &str| ex.ours.get(path).is_some_and(|o| o.current);
    if out.is_dir()
        && moved_out.is_empty()
        && !ex.legacy_manifest
        && tree.files().all(|(p, _)| unchanged(p))
        && ex.ours.keys().all(|p| tree.contains(p))
    {
        report.unchanged = tree.len();
        return Ok(report);
    }
    if !moved_out.is_empty() {
        let dir = backup_dir(out);
        for path in &moved_out {
            let dst = dir.join(path);
            if let Some(p) = dst.parent() {
                std::fs::create_dir_all(p).map_err(|e| Error::io("create", p, e))?;
            }
            // A symlink is kept as a symlink; a file's bytes are copied (the output keeps it
            // until the swap, so a crash loses nothing).
            keep(&out.join(path), &dst)?;
        }
        crate::fsutil::sync_tree(&dir);
        report.backed_up = moved_out.clone();
        report.backup_dir = Some(dir);
    }

    let staging = staging_path(out);
    let linked = linked_path(out);
    let build = || -> Result<()> {
        use rayon::prelude::*;
        // Says that staging holds only new files and links (nothing moved out of `out`), for
        // `recover` after a crash.
        std::fs::write(&linked, b"").map_err(|e| Error::io("create", &linked, e))?;
        std::fs::create_dir_all(&staging).map_err(|e| Error::io("create", &staging, e))?;
        let mut dirs: Vec<&str> = tree
            .files()
            .filter_map(|(p, _)| p.rsplit_once('/').map(|(d, _)| d))
            .collect();
        dirs.sort_unstable();
        dirs.dedup();
        // On both cores: tens of thousands of directories at platform scale (`create_dir_all`
        // tolerates another thread creating a shared parent first).
        dirs.par_iter().try_for_each(|d| {
            let dir = staging.join(d);
            std::fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))
        })?;
        // Unchanged files are linked (same inode, no write); the rest written, both cores busy.
        let files: Vec<(&str, &str)> = tree.files().collect();
        files.par_iter().try_for_each(|(path, content)| {
            let dst = staging.join(path);
            if unchanged(path) && std::fs::hard_link(out.join(path), &dst).is_ok() {
                return Ok(());
            }
            std::fs::write(&dst, content.as_bytes()).map_err(|e| Error::io("write", &dst, e))
        })?;
        // Carry over Terraform's files and overrides, by linking: the output keeps them until
        // the swap, so a crash before then loses nothing (Terraform's state included).
        for path in &ex.kept {
            keep(&out.join(path), &staging.join(path))?;
        }
        Ok(())
    };
    if let Err(e) = build() {
        let _ = recover(out);
        return Err(e);
    }
    // One flush of the whole staging tree before it replaces the output: the swap never exposes
    // files whose content is not on disk (one `syncfs` instead of an fsync per file).
    crate::fsutil::sync_tree(&staging);
    swap(&staging, out)?;
    let _ = std::fs::remove_file(&linked);

    for (path, _) in tree.files() {
        if unchanged(path) {
            report.unchanged += 1;
        } else {
            report.written.push(path.to_string());
        }
    }
    report.removed = ex
        .ours
        .keys()
        .filter(|p| !tree.contains(p))
        .cloned()
        .collect();
    Ok(report)
}

/// The directory `out` lives in.
fn parent_dir(out: &Path) -> PathBuf {
    out.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf()
}

/// Where `--force` puts what it moves out of the output: `plinth/backups/<time>-<pid>/` in the
/// repository's git directory when the output is in one (never committed, never read by an
/// engine), else `.plinth-backups/<time>-<pid>/` beside the output.
fn backup_dir(out: &Path) -> PathBuf {
    let parent = parent_dir(out);
    let stamp = format!(
        "{}-{}",
        crate::promote::record::now().replace(':', ""),
        std::process::id()
    );
    let git_dir = crate::engine::git::Git::new(&parent)
        .ok()
        .and_then(|g| g.out(&["rev-parse", "--git-common-dir"]).ok())
        .filter(|d| !d.is_empty())
        .map(|d| {
            let d = PathBuf::from(d);
            if d.is_absolute() { d } else { parent.join(d) }
        });
    match git_dir {
        Some(g) => g.join("plinth").join("backups").join(stamp),
        None => parent.join(".plinth-backups").join(stamp),
    }
}

/// Puts `src` (a file, symlink or directory Plinth does not own) at `dst` too, without
/// moving it: files and symlinks are hard-linked (no data copied; copied where the file system
/// cannot link), directories recreated around them.
fn keep(src: &Path, dst: &Path) -> Result<()> {
    if let Some(parent) = dst.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
    }
    let meta = std::fs::symlink_metadata(src).map_err(|e| Error::io("read", src, e))?;
    if meta.is_dir() {
        std::fs::create_dir_all(dst).map_err(|e| Error::io("create", dst, e))?;
        let entries = std::fs::read_dir(src).map_err(|e| Error::io("read", src, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("read", src, e))?;
            keep(&entry.path(), &dst.join(entry.file_name()))?;
        }
        return Ok(());
    }
    if std::fs::hard_link(src, dst).is_ok() {
        return Ok(());
    }
    let copied = if meta.file_type().is_symlink() {
        std::fs::read_link(src).and_then(|target| std::os::unix::fs::symlink(target, dst))
    } else if meta.is_file() {
        std::fs::copy(src, dst).map(|_| ())
    } else {
        // A FIFO or device is not copied (reading it could block): it is left behind.
        Ok(())
    };
    copied.map_err(|e| Error::io("keep", src, e))
}

fn carry_over(src: &Path, dst: &Path) -> Result<()> {
    if let Some(parent) = dst.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
    }
    std::fs::rename(src, dst).map_err(|e| Error::io("move", src, e))
}

/// `.<out>.plinth-staging-<pid>` beside the output directory: two processes never share one
/// (the lock already admits one writer; the name keeps a crashed writer's leftovers apart).
fn staging_path(out: &Path) -> PathBuf {
    sibling(out, &format!("plinth-staging-{}", std::process::id()))
}

/// `.<out>.plinth-linked-<pid>` beside the output: present while a write builds its staging tree.
fn linked_path(out: &Path) -> PathBuf {
    sibling(out, &format!("plinth-linked-{}", std::process::id()))
}

fn sibling(out: &Path, suffix: &str) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    parent_dir(out).join(format!(".{name}.{suffix}"))
}

/// Exchanges the staging tree and the output in one step, then removes the old tree.
fn swap(staging: &Path, out: &Path) -> Result<()> {
    if !out.exists() {
        std::fs::rename(staging, out).map_err(|e| Error::io("create", out, e))?;
    } else {
        match rustix::fs::renameat_with(
            rustix::fs::CWD,
            staging,
            rustix::fs::CWD,
            out,
            rustix::fs::RenameFlags::EXCHANGE,
        ) {
            Ok(()) => {}
            Err(_) => {
                // No atomic exchange on this file system: rename the old tree aside first;
                // `recover` puts it back if a crash falls between the two renames.
                let backup = sibling(out, "plinth-old");
                std::fs::rename(out, &backup).map_err(|e| Error::io("replace", out, e))?;
                std::fs::rename(staging, out).map_err(|e| Error::io("replace", out, e))?;
                std::fs::rename(&backup, staging).map_err(|e| Error::io("replace", &backup, e))?;
            }
        }
    }
    crate::fsutil::sync_dir(&parent_dir(out));
    if staging.exists() {
        std::fs::remove_dir_all(staging).map_err(|e| Error::io("remove", staging, e))?;
    }
    Ok(())
}

/// Finishes or undoes an interrupted write: the output tree is whole again afterwards. Called
/// with the output's lock held, so every staging tree beside it belongs to a writer that died.
pub fn recover(out: &Path) -> Result<()> {
    let backup = sibling(out, "plinth-old");
    if backup.exists() {
        if out.exists() {
            std::fs::remove_dir_all(&backup).map_err(|e| Error::io("remove", &backup, e))?;
        } else {
            std::fs::rename(&backup, out).map_err(|e| Error::io("restore", out, e))?;
        }
    }
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let prefix = format!(".{name}.plinth-");
    let Ok(entries) = std::fs::read_dir(parent_dir(out)) else {
        return Ok(());
    };
    let mut staged = Vec::new();
    let mut markers = Vec::new();
    for e in entries.filter_map(|e| e.ok()) {
        let entry = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = entry.strip_prefix(&prefix) else {
            continue;
        };
        if let Some(id) = rest.strip_prefix("staging") {
            staged.push((e.path(), id.to_string()));
        } else if let Some(id) = rest.strip_prefix("linked") {
            markers.push((e.path(), id.to_string()));
        }
    }
    for (staging, id) in staged {
        // A write that links left nothing of the output in staging, only new files, some
        // perhaps half-written: they must not be taken for the user's. Versions before the
        // marker moved foreign entries into staging: those go back where they were.
        let linked = markers.iter().any(|(_, m)| *m == id);
        if !linked {
            let moved = scan(&staging, &Tree::default())?;
            for path in moved.kept.iter().chain(&moved.foreign) {
                let dst = out.join(path);
                if !dst.exists() {
                    let _ = carry_over(&staging.join(path), &dst);
                }
            }
        }
        std::fs::remove_dir_all(&staging).map_err(|e| Error::io("remove", &staging, e))?;
    }
    for (marker, _) in markers {
        std::fs::remove_file(&marker).map_err(|e| Error::io("remove", &marker, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> Tree {
        let mut t = Tree::default();
        for (p, c) in files {
            t.insert(*p, render::with_header("#", "t", c))
                .expect("insert");
        }
        t
    }

    #[test]
    fn writes_keeps_engine_files_and_removes_stale_ones() {
        let tmp = tempfile::tempdir().expect("tmp");
        let out = tmp.path().join("out");
        write(
            &out,
            &tree(&[("a.tf", "a = 1\n"), ("old/b.tf", "b = 1\n")]),
            false,
        )
        .expect("write");
        std::fs::create_dir_all(out.join(".terraform/providers")).expect("mkdir");
        std::fs::write(out.join(".terraform/providers/x"), "bin").expect("w");
        std::fs::write(out.join("mine_override.tf"), "# user").expect("w");
        let ino_before = std::fs::metadata(out.join("a.tf"))
            .map(|m| std::os::unix::fs::MetadataExt::ino(&m))
            .expect("ino");
        let r = write(
            &out,
            &tree(&[("a.tf", "a = 1\n"), ("c.tf", "c = 1\n")]),
            false,
        )
        .expect("write");
        assert_eq!(r.written, ["c.tf"]);
        assert_eq!(r.removed, ["old/b.tf"]);
        assert_eq!(r.unchanged, 1);
        assert!(out.join(".terraform/providers/x").exists());
        assert_eq!(
            std::fs::read_to_string(out.join("mine_override.tf")).expect("r"),
            "# user"
        );
        assert!(!out.join("old/b.tf").exists());
        // The unchanged file was linked, not rewritten.
        let ino_after = std::fs::metadata(out.join("a.tf"))
            .map(|m| std::os::unix::fs::MetadataExt::ino(&m))
            .expect("ino");
        assert_eq!(ino_before, ino_after);
        // Nothing left beside the output.
        let names: Vec<_> = std::fs::read_dir(tmp.path())
            .expect("ls")
            .map(|e| e.expect("e").file_name())
            .collect();
        assert_eq!(names.len(), 1);
        // A second identical write touches nothing.
        let r = write(
            &out,
            &tree(&[("a.tf", "a = 1\n"), ("c.tf", "c = 1\n")]),
            false,
        )
        .expect("write");
        assert!(r.written.is_empty() && r.removed.is_empty());
    }

    #[test]
    fn hand_edits_stop_the_write_unless_forced() {
        let tmp = tempfile::tempdir().expect("tmp");
        let out = tmp.path().join("out");
        write(&out, &tree(&[("a.tf", "a = 1\n")]), false).expect("write");
        let edited = std::fs::read_to_string(out.join("a.tf"))
            .expect("r")
            .replace("a = 1", "a = 2");
        std::fs::write(out.join("a.tf"), &edited).expect("w");
        let err = write(&out, &tree(&[("a.tf", "a = 3\n")]), false).expect_err("refused");
        assert!(err.to_string().contains("a.tf"), "{err}");
        assert_eq!(
            std::fs::read_to_string(out.join("a.tf")).expect("r"),
            edited
        );
        let r = write(&out, &tree(&[("a.tf", "a = 3\n")]), true).expect("forced");
        assert_eq!(r.backed_up, ["a.tf"]);
        let backup = r.backup_dir.expect("backup dir");
        assert!(!backup.starts_with(&out), "{}", backup.display());
        assert_eq!(
            std::fs::read_to_string(backup.join("a.tf")).expect("r"),
            edited
        );
        assert!(
            std::fs::read_to_string(out.join("a.tf"))
                .expect("r")
                .contains("a = 3")
        );
        // Regression for issue 19: nothing is left in the output that `--check` would reject.
        assert!(!out.join("a.tf.orig").exists());
        assert!(
            changes(&out, &tree(&[("a.tf", "a = 3\n")]))
                .expect("check")
                .is_empty()
        );
    }

    /// Regression for issue 16.2: a hand-written `*.tf` in the output tree was kept by
    /// `generate` and passed `generate --check` (Terraform would apply it). It is an error now;
    /// `--force` moves it out; override files stay (Terraform's documented local adjustment).
    #[test]
    fn regression_16_2_files_plinth_did_not_write_are_refused() {
        let tmp = tempfile::tempdir().expect("tmp");
        let out = tmp.path().join("out");
        let t = tree(&[("a.tf", "a = 1\n")]);
        write(&out, &t, false).expect("write");
        std::fs::write(out.join("zz_extra.tf"), "resource \"x\" \"y\" {}\n").expect("w");
        std::fs::create_dir_all(out.join("services/c")).expect("mkdir");
        std::fs::write(out.join("services/c/extra.yaml"), "kind: Pod\n").expect("w");
        std::fs::write(out.join("mine_override.tf"), "# local\n").expect("w");
        for err in [
            changes(&out, &t).expect_err("check refuses"),
            write(&out, &t, false).expect_err("write refuses"),
        ] {
            let text = err.to_string();
            assert!(
                text.contains("`zz_extra.tf`") && text.contains("`services/c/extra.yaml`"),
                "{text}"
            );
            assert!(!text.contains("mine_override.tf"), "{text}");
        }
        let r = write(&out, &t, true).expect("forced");
        assert_eq!(r.backed_up, ["services/c/extra.yaml", "zz_extra.tf"]);
        assert!(!out.join("zz_extra.tf").exists());
        assert!(out.join("mine_override.tf").exists());
        assert!(changes(&out, &t).expect("check").is_empty());
    }

    /// Regression for issue 16.3: a hand edit that kept the file's size and modification time
    /// was trusted from the manifest of the last write. Files are known by their content now.
    #[test]
    fn regression_16_3_an_edit_with_the_same_size_and_time_is_seen() {
        let tmp = tempfile::tempdir().expect("tmp");
        let out = tmp.path().join("out");
        let t = tree(&[("a.tf", "a = 1\n")]);
        write(&out, &t, false).expect("write");
        let path = out.join("a.tf");
        let before = std::fs::metadata(&path).expect("meta");
        let text = std::fs::read_to_string(&path).expect("r");
        std::fs::write(&path, text.replace("a = 1", "a = 7")).expect("w");
        std::fs::File::options()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_modified(before.modified()?))
            .expect("touch -d");
        assert_eq!(std::fs::metadata(&path).expect("m").len(), before.len());
        let c = changes(&out, &t).expect("check");
        assert_eq!(c.len(), 1, "{c:?}");
        assert_eq!(c[0].kind, ChangeKind::Modified);
        assert!(
            write(&out, &t, false).is_err(),
            "an edited file is not overwritten silently"
        );
    }

    /// Regression for issue 16.6: two writers of one fresh output shared one staging path and
    /// left a mix of both trees (or nothing) with success. Each stages under its own name, and
    /// the lock admits one at a time: the result is exactly one writer's tree.
    #[test]
    fn regression_16_6_concurrent_writes_leave_one_whole_tree() {
        for round in 0..10 {
            let tmp = tempfile::tempdir().expect("tmp");
            let out = tmp.path().join("out");
            let a: Vec<(String, String)> = (0..200)
                .map(|i| (format!("d{i}/a.tf"), format!("a = {i}\n")))
                .collect();
            let b: Vec<(String, String)> = (0..150)
                .map(|i| (format!("d{i}/b.tf"), format!("b = {i}\n")))
                .collect();
            let ta = tree(
                &a.iter()
                    .map(|(p, c)| (p.as_str(), c.as_str()))
                    .collect::<Vec<_>>(),
            );
            let tb = tree(
                &b.iter()
                    .map(|(p, c)| (p.as_str(), c.as_str()))
                    .collect::<Vec<_>>(),
            );
            let (ra, rb) = std::thread::scope(|s| {
                let ha = s.spawn(|| write(&out, &ta, false));
                let hb = s.spawn(|| write(&out, &tb, false));
                (ha.join().expect("a"), hb.join().expect("b"))
            });
            ra.expect("a writes");
            rb.expect("b writes");
            let on_disk = changes(&out, &ta).expect("scan").is_empty()
                || changes(&out, &tb).expect("scan").is_empty();
            assert!(on_disk, "round {round}: a mix of both trees");
            let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
                .expect("ls")
                .map(|e| e.expect("e").file_name())
                .collect();
            assert_eq!(leftovers.len(), 1, "round {round}: {leftovers:?}");
        }
    }

    #[test]
    fn interrupted_writes_are_recovered() {
        let tmp = tempfile::tempdir().expect("tmp");
        let out = tmp.path().join("out");
        write(&out, &tree(&[("a.tf", "a = 1\n")]), false).expect("write");
        // A crash of an older version after a foreign file was moved into staging, before the
        // swap (its staging name had no process id).
        let staging = sibling(&out, "plinth-staging");
        std::fs::create_dir_all(staging.join("dir")).expect("mkdir");
        std::fs::write(staging.join("dir/state.tfstate"), "{}").expect("w");
        std::fs::write(
            staging.join("a.tf"),
            render::with_header("#", "t", "a = 9\n"),
        )
        .expect("w");
        write(&out, &tree(&[("a.tf", "a = 2\n")]), false).expect("write");
        assert_eq!(
            std::fs::read_to_string(out.join("dir/state.tfstate")).expect("r"),
            "{}"
        );
        assert!(
            std::fs::read_to_string(out.join("a.tf"))
                .expect("r")
                .contains("a = 2")
        );
        assert!(!staging.exists());
    }

    #[test]
    fn check_reports_a_diff() {
        let tmp = tempfile::tempdir().expect("tmp");
        let out = tmp.path().join("out");
        write(
            &out,
            &tree(&[("a.tf", "a = 1\n"), ("b.tf", "b = 1\n")]),
            false,
        )
        .expect("write");
        let c = changes(&out, &tree(&[("a.tf", "a = 2\n"), ("c.tf", "c = 1\n")])).expect("changes");
        assert_eq!(
            c.iter()
                .map(|c| (c.path.as_str(), c.kind))
                .collect::<Vec<_>>(),
            [
                ("a.tf", ChangeKind::Modified),
                ("b.tf", ChangeKind::Removed),
                ("c.tf", ChangeKind::Added)
            ]
        );
        let d = unified_diff(&c);
        assert!(d.contains("\n-a = 1\n") && d.contains("\n+a = 2\n"), "{d}");
        assert!(d.contains("+++ /dev/null"), "{d}");
    }
}
