//! Writing files so that a crash never leaves a half-written file or tree behind: write to a
//! temporary file or directory beside the target, flush it to disk, then rename it into place.

use crate::error::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Replaces `path` with `bytes` atomically (temp file + fsync + rename + directory fsync).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = parent(path);
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
    let tmp = temp_name(path);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io("write", path, e));
    }
    sync_dir(dir);
    Ok(())
}

/// Removes a file; a file already gone is fine.
pub fn remove_file(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => {
            sync_dir(parent(path));
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("remove", path, e)),
    }
}

/// Creates `target` holding exactly `files` (relative paths), all or nothing: the tree is built
/// in a temporary directory beside it and renamed into place. `target` must not exist or be an
/// empty directory.
pub fn create_tree(target: &Path, files: &[(PathBuf, Vec<u8>)]) -> Result<()> {
    if target.exists() {
        let empty = std::fs::read_dir(target)
            .map_err(|e| Error::io("read", target, e))?
            .next()
            .is_none();
        if !empty {
            return Err(Error::NotEmpty(target.to_path_buf()));
        }
    }
    let staging = temp_name(target);
    let build = || -> Result<()> {
        for (rel, bytes) in files {
            let path = staging.join(rel);
            let dir = parent(&path);
            std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
            let mut f = std::fs::File::create(&path).map_err(|e| Error::io("write", &path, e))?;
            f.write_all(bytes)
                .and_then(|()| f.sync_all())
                .map_err(|e| Error::io("write", &path, e))?;
        }
        std::fs::create_dir_all(&staging).map_err(|e| Error::io("create", &staging, e))?;
        if target.exists() {
            std::fs::remove_dir(target).map_err(|e| Error::io("replace", target, e))?;
        }
        std::fs::rename(&staging, target).map_err(|e| Error::io("create", target, e))?;
        sync_dir(parent(target));
        Ok(())
    };
    let result = build();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    result
}

/// Adds `files` (relative paths) to the existing directory `target` — a platform adopted into a
/// repository that holds other things — overwriting nothing: when one of them exists already,
/// nothing is written. A text file named in `merge` that exists gets the lines it lacks appended
/// instead (`.gitignore`). Each file is written beside its place and renamed in, so a crash
/// leaves no half-written file; a failure part-way removes what this call added.
pub fn add_files(target: &Path, files: &[(PathBuf, Vec<u8>)], merge: &[&str]) -> Result<()> {
    // (where, what, whether it exists already and is merged)
    let mut planned: Vec<(PathBuf, Vec<u8>, bool)> = Vec::new();
    for (rel, bytes) in files {
        let path = target.join(rel);
        let mergeable = merge.iter().any(|m| Path::new(m) == rel);
        match std::fs::symlink_metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                planned.push((path, bytes.clone(), false));
            }
            Ok(_) if mergeable => {
                let old =
                    std::fs::read_to_string(&path).map_err(|e| Error::io("read", &path, e))?;
                let have: std::collections::HashSet<&str> = old.lines().map(str::trim).collect();
                let new = String::from_utf8_lossy(bytes);
                let missing: Vec<&str> = new.lines().filter(|l| !have.contains(l.trim())).collect();
                if missing
                    .iter()
                    .any(|l| !l.trim().is_empty() && !l.starts_with('#'))
                {
                    let mut text = old.clone();
                    if !text.is_empty() && !text.ends_with('\n') {
                        text.push('\n');
                    }
                    text.push('\n');
                    for l in missing {
                        text.push_str(l);
                        text.push('\n');
                    }
                    planned.push((path, text.into_bytes(), true));
                }
            }
            Ok(_) => {
                return Err(Error::refused(
                    format!("`{}` exists already", path.display()),
                    Some(format!(
                        "Plinth adds a platform beside what `{}` holds and overwrites nothing: move `{}` away, or choose another directory",
                        target.display(),
                        rel.display()
                    )),
                ));
            }
            Err(e) => return Err(Error::io("read", &path, e)),
        }
    }
    let mut staged: Vec<(PathBuf, &Path, bool)> = Vec::new();
    let mut created_dirs: Vec<PathBuf> = Vec::new();
    let result = (|| -> Result<()> {
        for (path, bytes, merged) in &planned {
            let dir = parent(path);
            let mut missing = dir;
            while !missing.exists() {
                created_dirs.push(missing.to_path_buf());
                missing = parent(missing);
            }
            std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
            let tmp = temp_name(path);
            let mut f = std::fs::File::create(&tmp).map_err(|e| Error::io("write", &tmp, e))?;
            staged.push((tmp.clone(), path, *merged));
            f.write_all(bytes)
                .and_then(|()| f.sync_all())
                .map_err(|e| Error::io("write", &tmp, e))?;
        }
        for (tmp, path, _) in &staged {
            std::fs::rename(tmp, path).map_err(|e| Error::io("write", path, e))?;
        }
        sync_tree(target);
        Ok(())
    })();
    if result.is_err() {
        for (tmp, path, merged) in &staged {
            let _ = std::fs::remove_file(tmp);
            // Files this call created go; a merged file keeps whatever it holds (its rename
            // replaced it whole or not at all).
            if !merged {
                let _ = std::fs::remove_file(path);
            }
        }
        created_dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
        for d in created_dirs {
            let _ = std::fs::remove_dir(d);
        }
    }
    result
}

/// Why a file Plinth reads was refused.
#[derive(Debug)]
pub enum ReadProblem {
    /// A FIFO, socket or device: reading could block forever or never end.
    NotRegular,
    /// Larger than the cap (its size in bytes).
    TooLarge(u64),
    NotUtf8,
    Io(std::io::Error),
}

impl std::fmt::Display for ReadProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadProblem::NotRegular => f.write_str("is not a regular file"),
            ReadProblem::TooLarge(n) => write!(
                f,
                "is {} MiB; files Plinth reads are limited to {} MiB",
                n >> 20,
                crate::load::MAX_FILE_BYTES >> 20
            ),
            ReadProblem::NotUtf8 => f.write_str("is not UTF-8 text"),
            ReadProblem::Io(e) => write!(f, "cannot be read: {e}"),
        }
    }
}

/// Reads a regular file of at most `max` bytes. The file is opened without blocking (a FIFO
/// would otherwise wait for a writer forever), then checked through its open handle (no window
/// between the check and the read), and read no further than the cap (a sparse file claiming
/// gigabytes is refused, never loaded).
pub fn read_regular(path: &Path, max: u64) -> std::result::Result<Vec<u8>, ReadProblem> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let flags = rustix::fs::OFlags::NONBLOCK.bits();
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(i32::try_from(flags).unwrap_or(0))
        .open(path)
        .map_err(ReadProblem::Io)?;
    let meta = file.metadata().map_err(ReadProblem::Io)?;
    if !meta.is_file() {
        return Err(ReadProblem::NotRegular);
    }
    if meta.len() > max {
        return Err(ReadProblem::TooLarge(meta.len()));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadProblem::Io)?;
    if bytes.len() as u64 > max {
        return Err(ReadProblem::TooLarge(bytes.len() as u64));
    }
    Ok(bytes)
}

/// [`read_regular`] with the definition files' cap, as UTF-8 text.
pub fn read_text(path: &Path) -> std::result::Result<String, ReadProblem> {
    let bytes = read_regular(path, crate::load::MAX_FILE_BYTES)?;
    String::from_utf8(bytes).map_err(|_| ReadProblem::NotUtf8)
}

/// An exclusive advisory lock (`flock(2)`) on a directory, released when dropped — and by the
/// kernel when the process dies, so a crash never leaves it held. Writers of a platform (edits,
/// generation) take it on the platform's directory (generation: on the output's parent), so
/// two commands never interleave their writes.
#[derive(Debug)]
pub struct DirLock {
    _dir: Option<std::fs::File>,
}

/// Called once when a lock is held by another process and this one starts waiting (the CLI
/// says so on stderr).
static ON_WAIT: std::sync::OnceLock<fn(&Path)> = std::sync::OnceLock::new();

/// Sets what to do when a lock is busy (the CLI prints a line).
pub fn on_lock_wait(f: fn(&Path)) {
    let _ = ON_WAIT.set(f);
}

impl DirLock {
    /// Takes the lock, waiting for another holder at most `PLINTH_LOCK_WAIT` seconds (60 by
    /// default), then failing with a message that says why.
    pub fn acquire(dir: &Path) -> Result<DirLock> {
        use rustix::fs::{FlockOperation, flock};
        // Nothing to protect in a directory that does not exist (the caller reports it).
        if !dir.is_dir() {
            return Ok(DirLock { _dir: None });
        }
        let handle = std::fs::File::open(dir).map_err(|e| Error::io("lock", dir, e))?;
        let wait = std::env::var("PLINTH_LOCK_WAIT")
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(60);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(wait);
        let mut told = false;
        loop {
            match flock(&handle, FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => return Ok(DirLock { _dir: Some(handle) }),
                Err(rustix::io::Errno::WOULDBLOCK) => {}
                Err(e) => return Err(Error::io("lock", dir, e.into())),
            }
            if !told {
                if let Some(f) = ON_WAIT.get() {
                    f(dir);
                }
                told = true;
            }
            if std::time::Instant::now() >= deadline {
                return Err(Error::refused(
                    format!(
                        "another plinth command has been writing `{}` for {wait} s",
                        dir.display()
                    ),
                    Some("let it finish and run this again (`PLINTH_LOCK_WAIT=<seconds>` waits longer)".into()),
                ));
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// `.<name>.plinth-tmp-<pid>-<n>` beside `path`: hidden, and unique per process and call.
pub fn temp_name(path: &Path) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    parent(path).join(format!(".{name}.plinth-tmp-{}-{n}", std::process::id()))
}

/// Flushes everything written below `dir` (the file system it lives on) to disk.
pub fn sync_tree(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = rustix::fs::syncfs(&d);
    }
}

/// Makes a rename durable; best effort where directories cannot be opened.
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_a_tree_or_nothing() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let target = tmp.path().join("new");
        create_tree(&target, &[("a/b.txt".into(), b"x".to_vec())]).expect("create");
        assert_eq!(
            std::fs::read_to_string(target.join("a/b.txt")).expect("read"),
            "x"
        );
        // A non-empty target is refused and left alone.
        let err = create_tree(&target, &[("c".into(), b"y".to_vec())]).expect_err("refused");
        assert!(matches!(err, Error::NotEmpty(_)));
        assert!(!target.join("c").exists());
        // Nothing else was left beside it.
        let names: Vec<_> = std::fs::read_dir(tmp.path())
            .expect("ls")
            .map(|e| e.expect("e").file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("new")]);
    }

    /// Regression for issue 16.9: a FIFO among the files Plinth reads blocked it forever, and a
    /// sparse file claiming gigabytes was read whole.
    #[test]
    fn regression_16_9_a_fifo_or_a_huge_file_is_refused_without_blocking() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let fifo = tmp.path().join("fifo.yaml");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo");
        assert!(made.success());
        assert!(matches!(read_text(&fifo), Err(ReadProblem::NotRegular)));
        let big = tmp.path().join("big.yaml");
        let f = std::fs::File::create(&big).expect("create");
        f.set_len(3 << 30).expect("sparse");
        assert!(matches!(read_text(&big), Err(ReadProblem::TooLarge(n)) if n == 3 << 30));
        std::fs::write(tmp.path().join("bin"), [0xff, 0xfe]).expect("w");
        assert!(matches!(
            read_text(&tmp.path().join("bin")),
            Err(ReadProblem::NotUtf8)
        ));
        std::fs::write(tmp.path().join("ok"), "a: 1\n").expect("w");
        assert_eq!(read_text(&tmp.path().join("ok")).expect("ok"), "a: 1\n");
    }

    #[test]
    fn atomic_write_replaces() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let p = tmp.path().join("f");
        write_atomic(&p, b"1").expect("write");
        write_atomic(&p, b"2").expect("write");
        assert_eq!(std::fs::read_to_string(&p).expect("read"), "2");
        assert_eq!(std::fs::read_dir(tmp.path()).expect("ls").count(), 1);
    }
}
