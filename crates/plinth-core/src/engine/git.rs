//! git, the shared record of what was promoted.
//!
//! Runs the `git` on PATH (or `PLINTH_GIT`) with no system config, no prompts, no pager and a
//! fixed identity fallback, so CI and tests behave alike. Besides the minimal environment it
//! passes `GIT_AUTHOR_*`/`GIT_COMMITTER_*` and `SSH_AUTH_SOCK` through.

use super::{EngineError, Output, command, run, which};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// A file that differs between two revisions; `None` where it does not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedFile {
    /// Relative to the repository root.
    pub path: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// `git diff --raw -z` output: `:<mode> <mode> <old> <new> <status>\0<path>\0` per file, an
/// all-zero object id on the side where the file does not exist.
fn parse_raw_diff(out: &str) -> Vec<ChangedFile> {
    let side = |id: Option<&str>| {
        id.filter(|id| id.bytes().any(|b| b != b'0'))
            .map(String::from)
    };
    let mut files = Vec::new();
    let mut fields = out.split('\0');
    while let (Some(meta), Some(path)) = (fields.next(), fields.next()) {
        let mut parts = meta.trim_start_matches(':').split(' ');
        let (_, _, old, new) = (parts.next(), parts.next(), parts.next(), parts.next());
        if path.is_empty() {
            break;
        }
        files.push(ChangedFile {
            path: path.to_string(),
            old: side(old),
            new: side(new),
        });
    }
    files
}

/// Refuses a revision git would take for an option: `--output=/tmp/x` given as a revision
/// (on the command line, or in a forged record) must never reach git's option parser.
fn refuse_option(rev: &str) -> Result<(), EngineError> {
    if rev.starts_with('-') || rev.contains('\0') {
        return Err(EngineError::Failed {
            command: "git".into(),
            status: "refused".into(),
            stderr: format!("`{rev}` is not a revision (it would be read as an option)"),
            stdout: String::new(),
        });
    }
    Ok(())
}

/// Whether `s` is a full object id (SHA-1 or SHA-256, lowercase hex).
pub fn is_object_id(s: &str) -> bool {
    matches!(s.len(), 40 | 64)
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A repository Plinth reads and records into.
#[derive(Debug, Clone)]
pub struct Git {
    pub bin: PathBuf,
    /// The repository's working tree (or any directory inside it).
    pub dir: PathBuf,
}

impl Git {
    pub fn new(dir: &Path) -> Result<Git, EngineError> {
        let bin = std::env::var_os("PLINTH_GIT")
            .map(PathBuf::from)
            .or_else(|| which("git"))
            .ok_or(EngineError::NotFound {
                program: "git".into(),
                hint: Some("install git: the promotion record is kept in the repository".into()),
            })?;
        Ok(Git {
            bin,
            dir: dir.to_path_buf(),
        })
    }

    fn env() -> Vec<(&'static str, OsString)> {
        let mut env: Vec<(&'static str, OsString)> = vec![
            ("GIT_CONFIG_NOSYSTEM", "1".into()),
            ("GIT_TERMINAL_PROMPT", "0".into()),
            ("GIT_PAGER", "cat".into()),
            ("GIT_OPTIONAL_LOCKS", "0".into()),
        ];
        for k in [
            "GIT_AUTHOR_NAME",
            "GIT_AUTHOR_EMAIL",
            "GIT_COMMITTER_NAME",
            "GIT_COMMITTER_EMAIL",
            "GIT_AUTHOR_DATE",
            "GIT_COMMITTER_DATE",
            "SSH_AUTH_SOCK",
        ] {
            if let Some(v) = std::env::var_os(k) {
                env.push((k, v));
            }
        }
        env
    }

    /// Runs `git args...` in the repository.
    pub fn run(&self, args: &[&str]) -> Result<Output, EngineError> {
        run(command(&self.bin, args, Some(&self.dir), &Self::env()), &[])
    }

    /// Runs git and returns trimmed stdout.
    pub fn out(&self, args: &[&str]) -> Result<String, EngineError> {
        Ok(self.run(args)?.stdout.trim().to_string())
    }

    /// Runs git with `input` on stdin.
    pub fn with_input(&self, args: &[&str], input: &[u8]) -> Result<String, EngineError> {
        use std::io::Write;
        let mut c = command(&self.bin, args, Some(&self.dir), &Self::env());
        c.stdin(std::process::Stdio::piped());
        let desc = super::describe(&c);
        let mut child = c.spawn().map_err(|source| EngineError::Spawn {
            command: desc.clone(),
            source,
        })?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(input)
                .map_err(|source| EngineError::Spawn {
                    command: desc.clone(),
                    source,
                })?;
        }
        let out = child
            .wait_with_output()
            .map_err(|source| EngineError::Spawn {
                command: desc.clone(),
                source,
            })?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        } else {
            Err(EngineError::Failed {
                command: desc,
                status: format!("{}", out.status),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            })
        }
    }

    /// The top of the working tree.
    pub fn toplevel(&self) -> Result<PathBuf, EngineError> {
        Ok(PathBuf::from(self.out(&["rev-parse", "--show-toplevel"])?))
    }

    /// The full commit id of `rev`. A revision that git would read as an option (`-…`, from a
    /// command line or a record) is refused before git sees it.
    pub fn resolve(&self, rev: &str) -> Result<String, EngineError> {
        refuse_option(rev)?;
        self.out(&[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ])
    }

    /// Paths with uncommitted changes (tracked or untracked, not ignored) below `path`.
    pub fn dirty(&self, path: &Path) -> Result<Vec<String>, EngineError> {
        Ok(self.status(path)?.into_iter().map(|(_, p)| p).collect())
    }

    /// `git status --porcelain` below `path`: each change's two-letter code (`??` untracked,
    /// ` M` modified, ...) and path.
    pub fn status(&self, path: &Path) -> Result<Vec<(String, String)>, EngineError> {
        let p = path.to_string_lossy().into_owned();
        let out = self.run(&["status", "--porcelain", "--untracked-files=all", "--", &p])?;
        Ok(out
            .stdout
            .lines()
            .map(|l| {
                (
                    l.get(..2).unwrap_or_default().to_string(),
                    l.get(3..).unwrap_or(l).to_string(),
                )
            })
            .collect())
    }

    /// Files below `dir` that git tracks, relative to `dir`.
    pub fn tracked(&self, dir: &Path) -> Result<Vec<String>, EngineError> {
        self.ls_files(dir, &[])
    }

    /// Files below `dir` that git does not track (ignored ones included), relative to `dir`.
    pub fn untracked(&self, dir: &Path) -> Result<Vec<String>, EngineError> {
        self.ls_files(dir, &["--others"])
    }

    fn ls_files(&self, dir: &Path, extra: &[&str]) -> Result<Vec<String>, EngineError> {
        let mut args = vec!["ls-files", "-z"];
        args.extend_from_slice(extra);
        args.extend(["--", "."]);
        let out = run(command(&self.bin, &args, Some(dir), &Self::env()), &[])?;
        Ok(out
            .stdout
            .split('\0')
            .filter(|p| !p.is_empty())
            .map(String::from)
            .collect())
    }

    /// Writes the files of `commit` below `dir` (which must not exist), as git checks them out
    /// (symlinks stay symlinks), without touching the repository's index or working tree.
    pub fn export(&self, commit: &str, dir: &Path) -> Result<(), EngineError> {
        refuse_option(commit)?;
        std::fs::create_dir_all(dir).map_err(|source| EngineError::Spawn {
            command: format!("mkdir {}", dir.display()),
            source,
        })?;
        let index = dir.with_extension("index");
        let mut env = Self::env();
        env.push(("GIT_INDEX_FILE", index.clone().into_os_string()));
        let prefix = format!("{}/", dir.display());
        let result = run(
            command(&self.bin, &["read-tree", commit], Some(&self.dir), &env),
            &[],
        )
        .and_then(|_| {
            run(
                command(
                    &self.bin,
                    &["checkout-index", "-a", "-f", &format!("--prefix={prefix}")],
                    Some(&self.dir),
                    &env,
                ),
                &[],
            )
        });
        let _ = std::fs::remove_file(&index);
        result.map(|_| ())
    }

    /// Files of `rev` below `prefix` (relative to the repository root), as (path, bytes).
    pub fn files_at(&self, rev: &str, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, EngineError> {
        refuse_option(rev)?;
        let spec = if prefix.is_empty() {
            ".".to_string()
        } else {
            prefix.to_string()
        };
        let listing = self.out(&["ls-tree", "-r", "-z", "--full-tree", rev, "--", &spec])?;
        let mut entries = Vec::new();
        for entry in listing.split('\0').filter(|e| !e.is_empty()) {
            // `<mode> <type> <object>\t<path>`
            let Some((meta, path)) = entry.split_once('\t') else {
                continue;
            };
            let mut parts = meta.split(' ');
            let (_mode, kind, object) = (parts.next(), parts.next(), parts.next());
            if kind == Some("blob") {
                entries.push((path.to_string(), object.unwrap_or_default().to_string()));
            }
        }
        let objects: Vec<String> = entries.iter().map(|(_, o)| o.clone()).collect();
        let blobs = self.cat_blobs(&objects)?;
        Ok(entries
            .into_iter()
            .zip(blobs)
            .filter_map(|((path, _), blob)| Some((path, blob?)))
            .collect())
    }

    /// The content of each object (`None` when git has no such object), in order.
    fn cat_blobs(&self, objects: &[String]) -> Result<Vec<Option<Vec<u8>>>, EngineError> {
        if objects.is_empty() {
            return Ok(Vec::new());
        }
        let input: String = objects.iter().map(|o| format!("{o}\n")).collect();
        let mut c = command(
            &self.bin,
            &["cat-file", "--batch"],
            Some(&self.dir),
            &Self::env(),
        );
        c.stdin(std::process::Stdio::piped());
        let desc = super::describe(&c);
        let mut child = c.spawn().map_err(|source| EngineError::Spawn {
            command: desc.clone(),
            source,
        })?;
        let writer = child.stdin.take();
        let feeder = std::thread::spawn(move || {
            use std::io::Write;
            if let Some(mut w) = writer {
                let _ = w.write_all(input.as_bytes());
            }
        });
        let out = child
            .wait_with_output()
            .map_err(|source| EngineError::Spawn {
                command: desc.clone(),
                source,
            })?;
        let _ = feeder.join();
        let mut bytes = &out.stdout[..];
        let mut blobs = Vec::with_capacity(objects.len());
        for _ in objects {
            let nl = bytes
                .iter()
                .position(|b| *b == b'\n')
                .unwrap_or(bytes.len());
            let header = String::from_utf8_lossy(&bytes[..nl]).into_owned();
            // `<object> missing`, or `<object> <type> <size>` then the content and a newline.
            if header.ends_with(" missing") || header.ends_with(" ambiguous") {
                blobs.push(None);
                bytes = &bytes[(nl + 1).min(bytes.len())..];
                continue;
            }
            let size: usize = header
                .rsplit(' ')
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let start = (nl + 1).min(bytes.len());
            let end = (start + size).min(bytes.len());
            blobs.push(Some(bytes[start..end].to_vec()));
            bytes = &bytes[(end + 1).min(bytes.len())..];
        }
        Ok(blobs)
    }

    /// Files that differ between two revisions, with their blob on each side, so the caller
    /// can read them by object id: naming `rev:path` instead makes `git cat-file` inflate every
    /// tree on the path again for each file (most of its time for a hundred files in one
    /// directory of a thousand).
    pub fn changed_files(&self, base: &str, head: &str) -> Result<Vec<ChangedFile>, EngineError> {
        refuse_option(base)?;
        refuse_option(head)?;
        let out = self.run(&[
            "diff",
            "--raw",
            "-z",
            "--no-renames",
            "--no-abbrev",
            base,
            head,
        ])?;
        Ok(parse_raw_diff(&out.stdout))
    }

    /// The content of each object (`None` when git has no such object), in order: object ids
    /// or `rev:path` names, each read once however often it is named.
    pub fn objects(&self, objects: &[String]) -> Result<Vec<Option<Vec<u8>>>, EngineError> {
        let mut unique: Vec<&String> = objects.iter().collect();
        unique.sort_unstable();
        unique.dedup();
        let owned: Vec<String> = unique.iter().map(|o| (*o).clone()).collect();
        let blobs = self.cat_blobs(&owned)?;
        Ok(objects
            .iter()
            .map(|o| {
                let i = unique.binary_search(&o).ok()?;
                blobs.get(i).cloned().flatten()
            })
            .collect())
    }

    /// `git rev-list --count a..b`.
    pub fn count_between(&self, from: &str, to: &str) -> Result<usize, EngineError> {
        refuse_option(from)?;
        refuse_option(to)?;
        Ok(self
            .out(&["rev-list", "--count", &format!("{from}..{to}")])?
            .parse()
            .unwrap_or(0))
    }

    /// Whether `ancestor` is an ancestor of (or equal to) `rev`.
    pub fn is_ancestor(&self, ancestor: &str, rev: &str) -> bool {
        if refuse_option(ancestor).is_err() || refuse_option(rev).is_err() {
            return false;
        }
        run(
            command(
                &self.bin,
                &["merge-base", "--is-ancestor", ancestor, rev],
                Some(&self.dir),
                &Self::env(),
            ),
            &[],
        )
        .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_diffs_name_each_side_or_none() {
        let a = "1".repeat(40);
        let b = "2".repeat(40);
        let zero = "0".repeat(40);
        let out = format!(
            ":100644 100644 {a} {b} M\0clusters/a b.toml\0:000000 100644 {zero} {b} A\0new.toml\0:100644 000000 {a} {zero} D\0gone.toml\0"
        );
        let files = parse_raw_diff(&out);
        let sides: Vec<(&str, Option<&str>, Option<&str>)> = files
            .iter()
            .map(|f| (f.path.as_str(), f.old.as_deref(), f.new.as_deref()))
            .collect();
        assert_eq!(
            sides,
            [
                ("clusters/a b.toml", Some(a.as_str()), Some(b.as_str())),
                ("new.toml", None, Some(b.as_str())),
                ("gone.toml", Some(a.as_str()), None),
            ]
        );
        assert!(parse_raw_diff("").is_empty());
    }
}
