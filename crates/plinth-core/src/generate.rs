//! `plinth generate`: render everything, then replace the output tree in one step.
//!
//! The new tree is built in a staging directory beside the output; files Plinth does not own
//! (Terraform's `.terraform/`, state, lock files, `*_override.tf`, anything else) are carried
//! over; then the two directories are exchanged atomically (`renameat2(RENAME_EXCHANGE)`), so a
//! crash leaves either the old tree or the new one, never a mix. Files whose content did not
//! change are hard-linked, not rewritten. A generated file edited by hand (its hash no longer
//! matches its header) is never overwritten silently.

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
    /// SHA-256 of the whole file.
    hash: [u8; 32],
    provenance: Provenance,
}

/// What is on disk in the output directory.
#[derive(Debug, Default)]
struct Existing {
    /// Files Plinth generated, and whether they were edited since.
    ours: BTreeMap<String, Ours>,
    /// Files Plinth did not generate (relative paths).
    foreign: Vec<String>,
}

/// The manifest of the last write: size, modification time and hash of every generated file.
/// A file whose size and time still match is known without reading it, as git's index does;
/// any other file is read and checked against its header.
const MANIFEST: &str = ".plinth-manifest";

/// The manifest format this version writes; another version's stamps are not trusted.
const MANIFEST_VERSION: u32 = 1;

/// Read as a map of owned entries; written from a borrowed view of the stamps (`F`), so the
/// shape is declared once.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Manifest<F = BTreeMap<String, (u64, u64, u32, String)>> {
    version: u32,
    /// path → (size, modified seconds, modified nanoseconds, hex SHA-256).
    files: F,
}

/// The manifest's `files`, serialized from stamps and hashes without building a map first
/// (tens of thousands of owned entries took a tenth of a second at platform scale).
struct StampedFiles<'a> {
    stamps: &'a [(&'a str, (u64, u64, u32))],
    hashes: &'a BTreeMap<&'a str, [u8; 32]>,
}

impl serde::Serialize for StampedFiles<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_map(
            self.stamps
                .iter()
                .filter_map(|(path, (size, secs, nanos))| {
                    let hash = self.hashes.get(path)?;
                    Some((path, (size, secs, nanos, render::hex(hash))))
                }),
        )
    }
}

fn stamp(meta: &std::fs::Metadata) -> (u64, u64, u32) {
    let t = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .unwrap_or_default();
    (meta.len(), t.as_secs(), t.subsec_nanos())
}

fn sha(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}

fn unhex(s: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if s.len() != 64 {
        return None;
    }
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(s.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Directories and files Terraform owns in a working directory: never read, always kept.
fn is_engine_entry(name: &str) -> bool {
    matches!(
        name,
        ".terraform" | "terraform.tfstate.d" | ".terraform.lock.hcl"
    ) || name.ends_with(".tfstate")
        || name.ends_with(".tfstate.backup")
        || name.ends_with(".tfplan")
}

fn scan(out: &Path) -> Result<Existing> {
    use rayon::prelude::*;
    let mut ex = Existing::default();
    if !out.is_dir() {
        return Ok(ex);
    }
    let manifest: Manifest = std::fs::read(out.join(MANIFEST))
        .ok()
        .and_then(|b| serde_json::from_slice::<Manifest>(&b).ok())
        // Another version's stamps are not trusted: every file is read and hashed instead.
        .filter(|m| m.version == MANIFEST_VERSION)
        .unwrap_or_default();
    let mut files = Vec::new();
    list_dir(out, "", &mut files, &mut ex.foreign)?;
    // Both cores: a file the manifest vouches for costs a `stat`; any other is read and hashed.
    let classified: Vec<(String, Option<Ours>)> = files
        .into_par_iter()
        .map(|rel| {
            let path = out.join(&rel);
            let meta = std::fs::symlink_metadata(&path).ok();
            if let (Some(meta), Some((size, secs, nanos, hash))) = (&meta, manifest.files.get(&rel))
                && stamp(meta) == (*size, *secs, *nanos)
                && let Some(hash) = unhex(hash)
            {
                return (
                    rel,
                    Some(Ours {
                        hash,
                        provenance: Provenance::Generated,
                    }),
                );
            }
            let bytes = std::fs::read(&path).unwrap_or_default();
            let class =
                std::str::from_utf8(&bytes)
                    .ok()
                    .and_then(|t| match render::provenance(t) {
                        Provenance::Foreign => None,
                        p => Some(Ours {
                            hash: sha(&bytes),
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
    Ok(ex)
}

/// The current content of a file on disk (for diffs and `.orig` copies).
fn read_old(out: &Path, path: &str) -> String {
    std::fs::read_to_string(out.join(path)).unwrap_or_default()
}

/// Hashes of every file of `tree`, computed on both cores.
fn tree_hashes(tree: &Tree) -> BTreeMap<&str, [u8; 32]> {
    use rayon::prelude::*;
    let files: Vec<(&str, &str)> = tree.files().collect();
    files
        .par_iter()
        .map(|(p, c)| (*p, sha(c.as_bytes())))
        .collect::<Vec<_>>()
        .into_iter()
        .collect()
}

/// Files below `dir` (relative), and Terraform's own entries and symlinks as foreign.
///
/// Subdirectories are walked on both cores: a generated tree has a directory for almost every
/// file (tens of thousands at platform scale), each costing an open and a read.
fn list_dir(
    dir: &Path,
    prefix: &str,
    files: &mut Vec<String>,
    foreign: &mut Vec<String>,
) -> Result<()> {
    use rayon::prelude::*;
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io("read", dir, e))?;
    let mut subdirs = Vec::new();
    for entry in entries.filter_map(|e| e.ok()) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = format!("{prefix}{name}");
        if prefix.is_empty() && name == MANIFEST {
            continue;
        }
        let ft = entry
            .file_type()
            .map_err(|e| Error::io("read", entry.path(), e))?;
        if is_engine_entry(&name) || ft.is_symlink() {
            foreign.push(rel);
        } else if ft.is_dir() {
            subdirs.push((entry.path(), format!("{rel}/")));
        } else {
            files.push(rel);
        }
    }
    let nested = subdirs
        .par_iter()
        .map(|(path, rel)| {
            let (mut f, mut g) = (Vec::new(), Vec::new());
            list_dir(path, rel, &mut f, &mut g).map(|()| (f, g))
        })
        .collect::<Result<Vec<_>>>()?;
    for (f, g) in nested {
        files.extend(f);
        foreign.extend(g);
    }
    Ok(())
}

/// Differences between what `tree` would write and the generated files on disk.
pub fn changes(out: &Path, tree: &Tree) -> Result<Vec<Change>> {
    let ex = scan(out)?;
    let hashes = tree_hashes(tree);
    let mut v = Vec::new();
    for (path, new) in tree.files() {
        match ex.ours.get(path) {
            Some(o) if hashes.get(path) == Some(&o.hash) => {}
            Some(_) => v.push(Change {
                path: path.into(),
                kind: ChangeKind::Modified,
                old: Some(read_old(out, path)),
                new: Some(new.into()),
            }),
            None => {
                let old = ex
                    .foreign
                    .iter()
                    .any(|f| f == path)
                    .then(|| read_old(out, path));
                let kind = if old.is_some() {
                    ChangeKind::Modified
                } else {
                    ChangeKind::Added
                };
                v.push(Change {
                    path: path.into(),
                    kind,
                    old,
                    new: Some(new.into()),
                });
            }
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
    /// Hand-edited or foreign files replaced under `--force`, kept as `<path>.orig`.
    pub kept_as_orig: Vec<String>,
}

/// Writes `tree` to `out` atomically. Hand-edited generated files, and files Plinth did not
/// generate where it would write, stop the write unless `force` (which keeps `<path>.orig`).
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
    recover(out)?;
    let ex = scan(out)?;
    let hashes = tree_hashes(tree);
    let mut conflicts = Vec::new();
    for (path, o) in &ex.ours {
        if o.provenance == Provenance::Edited && hashes.get(path.as_str()) != Some(&o.hash) {
            conflicts.push(path.clone());
        }
    }
    for path in &ex.foreign {
        if tree.contains(path) || tree.has_dir(path) {
            conflicts.push(path.clone());
        }
    }
    conflicts.sort();
    if !conflicts.is_empty() && !force {
        return Err(Error::refused(
            format!("{} generated file(s) were changed by hand and would be overwritten: {}", conflicts.len(), conflicts.join(", ")),
            Some("move the change into the platform definition, or run again with `--force` (each file is kept as `<file>.orig`)".into()),
        ));
    }

    let mut report = Report::default();
    let unchanged = |path: &str, _new: &str| {
        ex.ours
            .get(path)
            .is_some_and(|o| hashes.get(path) == Some(&o.hash))
    };
    if out.is_dir()
        && conflicts.is_empty()
        && tree.files().all(|(p, c)| unchanged(p, c))
        && ex.ours.keys().all(|p| tree.contains(p))
    {
        report.unchanged = tree.len();
        // Nothing to write; keep the manifest complete so the next run reads nothing.
        if !out.join(MANIFEST).exists() {
            write_manifest(out, out, &hashes)?;
        }
        return Ok(report);
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
        // Each file's stamp for the manifest comes from its open handle (no second lookup).
        let files: Vec<(&str, &str)> = tree.files().collect();
        let stamps = files
            .par_iter()
            .map(|(path, content)| {
                let dst = staging.join(path);
                if unchanged(path, content)
                    && std::fs::hard_link(out.join(path), &dst).is_ok()
                    && let Ok(meta) = std::fs::symlink_metadata(&dst)
                {
                    return Ok((*path, stamp(&meta)));
                }
                let written = std::fs::File::create(&dst).and_then(|mut f| {
                    use std::io::Write;
                    f.write_all(content.as_bytes())?;
                    f.metadata()
                });
                written
                    .map(|meta| (*path, stamp(&meta)))
                    .map_err(|e| Error::io("write", &dst, e))
            })
            .collect::<Result<Vec<_>>>()?;
        for path in &conflicts {
            let src = out.join(path);
            if src.is_file() {
                let orig = format!("{path}.orig");
                std::fs::copy(&src, staging.join(&orig)).map_err(|e| Error::io("keep", &src, e))?;
            }
        }
        // Edited generated files that are no longer generated are kept as `.orig` too.
        for (path, o) in &ex.ours {
            if o.provenance == Provenance::Edited && !tree.contains(path) {
                write_synced(
                    &staging.join(format!("{path}.orig")),
                    read_old(out, path).as_bytes(),
                )?;
            }
        }
        // Carry over everything Plinth does not own, by linking: the output keeps it until the
        // swap, so a crash before then loses nothing (Terraform's state included).
        for path in &ex.foreign {
            if conflicts.contains(path) {
                continue;
            }
            keep(&out.join(path), &staging.join(path))?;
        }
        save_manifest(&staging, stamps, &hashes)
    };
    if let Err(e) = build() {
        // Nothing of the output was touched except foreign entries already moved: move them back.
        let _ = recover(out);
        return Err(e);
    }
    // One flush of the whole staging tree before it replaces the output: the swap never exposes
    // files whose content is not on disk (one `syncfs` instead of an fsync per file).
    crate::fsutil::sync_tree(&staging);
    swap(&staging, out)?;
    let _ = std::fs::remove_file(&linked);

    for (path, content) in tree.files() {
        if unchanged(path, content) {
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
    report.kept_as_orig = conflicts.iter().map(|p| format!("{p}.orig")).collect();
    report.kept_as_orig.extend(
        ex.ours
            .iter()
            .filter(|(p, o)| o.provenance == Provenance::Edited && !tree.contains(p))
            .map(|(p, _)| format!("{p}.orig")),
    );
    Ok(report)
}

/// Records the size, time and hash of every generated file below `root` into `dir`'s manifest.
fn write_manifest(dir: &Path, root: &Path, hashes: &BTreeMap<&str, [u8; 32]>) -> Result<()> {
    use rayon::prelude::*;
    let paths: Vec<&str> = hashes.keys().copied().collect();
    let stamps = paths
        .par_iter()
        .filter_map(|path| {
            let meta = std::fs::symlink_metadata(root.join(path)).ok()?;
            Some((*path, stamp(&meta)))
        })
        .collect();
    save_manifest(dir, stamps, hashes)
}

/// Writes `dir`'s manifest from each file's stamp (size, modification time) and hash.
fn save_manifest(
    dir: &Path,
    mut stamps: Vec<(&str, (u64, u64, u32))>,
    hashes: &BTreeMap<&str, [u8; 32]>,
) -> Result<()> {
    stamps.sort_unstable_by(|a, b| a.0.cmp(b.0));
    stamps.dedup_by(|a, b| a.0 == b.0);
    let manifest = Manifest {
        version: MANIFEST_VERSION,
        files: StampedFiles {
            stamps: &stamps,
            hashes,
        },
    };
    // About 160 bytes an entry: sized once rather than grown by doubling.
    let mut bytes = Vec::with_capacity(64 + stamps.len() * 160);
    let _ = serde_json::to_writer(&mut bytes, &manifest);
    std::fs::write(dir.join(MANIFEST), bytes).map_err(|e| Error::io("write", dir.join(MANIFEST), e))
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
    }
    let mut f = std::fs::File::create(path).map_err(|e| Error::io("write", path, e))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| Error::io("write", path, e))
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
    } else {
        std::fs::copy(src, dst).map(|_| ())
    };
    copied.map_err(|e| Error::io("keep", src, e))
}

fn carry_over(src: &Path, dst: &Path) -> Result<()> {
    if let Some(parent) = dst.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
    }
    std::fs::rename(src, dst).map_err(|e| Error::io("move", src, e))
}

/// `.<out>.plinth-staging` beside the output directory.
fn staging_path(out: &Path) -> PathBuf {
    sibling(out, "plinth-staging")
}

fn sibling(out: &Path, suffix: &str) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    parent.join(format!(".{name}.{suffix}"))
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
    if let Some(parent) = out.parent() {
        crate::fsutil::sync_dir(parent);
    }
    if staging.exists() {
        std::fs::remove_dir_all(staging).map_err(|e| Error::io("remove", staging, e))?;
    }
    Ok(())
}

/// Finishes or undoes an interrupted write: the output tree is whole again afterwards.
pub fn recover(out: &Path) -> Result<()> {
    let backup = sibling(out, "plinth-old");
    if backup.exists() {
        if out.exists() {
            std::fs::remove_dir_all(&backup).map_err(|e| Error::io("remove", &backup, e))?;
        } else {
            std::fs::rename(&backup, out).map_err(|e| Error::io("restore", out, e))?;
        }
    }
    let staging = staging_path(out);
    let linked = linked_path(out);
    if staging.exists() {
        // A write that links (this one) left nothing of the output in staging, only new files,
        // some perhaps half-written: they must not be taken for the user's. Older writes moved
        // foreign entries into staging: those go back where they were.
        if !linked.exists() {
            let moved = scan(&staging)?;
            for path in moved.foreign {
                let dst = out.join(&path);
                if !dst.exists() {
                    let _ = carry_over(&staging.join(&path), &dst);
                }
            }
        }
        std::fs::remove_dir_all(&staging).map_err(|e| Error::io("remove", &staging, e))?;
    }
    if linked.exists() {
        std::fs::remove_file(&linked).map_err(|e| Error::io("remove", &linked, e))?;
    }
    Ok(())
}

/// `.<out>.plinth-linked` beside the output: present while a write builds its staging tree.
fn linked_path(out: &Path) -> PathBuf {
    sibling(out, "plinth-linked")
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
        assert_eq!(r.kept_as_orig, ["a.tf.orig"]);
        assert_eq!(
            std::fs::read_to_string(out.join("a.tf.orig")).expect("r"),
            edited
        );
        assert!(
            std::fs::read_to_string(out.join("a.tf"))
                .expect("r")
                .contains("a = 3")
        );
    }

    #[test]
    fn interrupted_writes_are_recovered() {
        let tmp = tempfile::tempdir().expect("tmp");
        let out = tmp.path().join("out");
        write(&out, &tree(&[("a.tf", "a = 1\n")]), false).expect("write");
        // A crash after a foreign file was moved into staging, before the swap.
        let staging = staging_path(&out);
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
    fn the_manifest_written_from_stamps_is_what_serde_reads() {
        let dir = tempfile::tempdir().expect("tmp");
        let paths = ["b/x.tf", "a \"quoted\"\\path\u{1}.yaml", "c.tf"];
        let hashes: BTreeMap<&str, [u8; 32]> = paths
            .iter()
            .enumerate()
            .map(|(i, p)| (*p, [u8::try_from(i).expect("small") * 70 + 3; 32]))
            .collect();
        // Out of order, repeated, and one without a hash (left out).
        let stamps = vec![
            ("c.tf", (3, 1_700_000_000, 5)),
            (paths[1], (10, 1, 999_999_999)),
            ("b/x.tf", (0, 0, 0)),
            ("c.tf", (3, 1_700_000_000, 5)),
            ("unhashed", (1, 1, 1)),
        ];
        save_manifest(dir.path(), stamps, &hashes).expect("save");
        let read: Manifest =
            serde_json::from_slice(&std::fs::read(dir.path().join(MANIFEST)).expect("read"))
                .expect("parses");
        assert_eq!(read.version, 1);
        let expected: BTreeMap<String, (u64, u64, u32, String)> = [
            ("b/x.tf", (0, 0, 0, render::hex(&[3; 32]))),
            (paths[1], (10, 1, 999_999_999, render::hex(&[73; 32]))),
            ("c.tf", (3, 1_700_000_000, 5, render::hex(&[143; 32]))),
        ]
        .into_iter()
        .map(|(p, v)| (p.to_string(), v))
        .collect();
        assert_eq!(read.files, expected);
        assert_eq!(render::hex(&[0x0f, 0xa0, 0xff]), "0fa0ff");
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
