//! Hermetic CLI runs: a cleared environment, a temporary HOME and working directory, no colours,
//! a fixed width, and temporary paths replaced by `[TMP]` so snapshots are stable.

#![allow(dead_code)]

pub mod engines;

use std::path::{Path, PathBuf};

pub struct TestEnv {
    tmp: tempfile::TempDir,
}

impl TestEnv {
    pub fn new() -> TestEnv {
        TestEnv {
            tmp: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    pub fn join(&self, p: &str) -> PathBuf {
        self.tmp.path().join(p)
    }

    /// `plinth` with nothing from the caller's environment but PATH.
    pub fn cmd(&self) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::cargo_bin("plinth").expect("binary");
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path())
            .env("NO_COLOR", "1")
            .env("COLUMNS", "100")
            .current_dir(self.path());
        cmd
    }

    /// `plinth` as a plain `std::process::Command`, with the same environment as [`Self::cmd`].
    pub fn std_cmd(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_plinth"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path())
            .env("NO_COLOR", "1")
            .env("COLUMNS", "100")
            .current_dir(self.path());
        cmd
    }

    /// Runs `plinth args...` and returns exit code, stdout and stderr as one normalized text.
    pub fn run(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().expect("run");
        normalize(&out, self.path())
    }

    pub fn run_ok(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().expect("run");
        assert!(
            out.status.success(),
            "plinth {args:?} failed:\n{}",
            normalize(&out, self.path())
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Copies a fixture directory into the environment.
    pub fn copy_fixture(&self, src: &Path, name: &str) -> PathBuf {
        let dst = self.join(name);
        copy_dir(src, &dst);
        dst
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.join(rel)).expect("read")
    }
}

pub fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).expect("mkdir");
    for entry in std::fs::read_dir(src).expect("read_dir") {
        let entry = entry.expect("entry");
        let to = dst.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &to);
        } else {
            std::fs::copy(entry.path(), to).expect("copy");
        }
    }
}

pub fn normalize(out: &std::process::Output, tmp: &Path) -> String {
    let code = out
        .status
        .code()
        .map_or_else(|| "signal".to_string(), |c| c.to_string());
    let clean = |b: &[u8]| {
        let s = String::from_utf8_lossy(b).into_owned();
        let real = std::fs::canonicalize(tmp).unwrap_or_else(|_| tmp.to_path_buf());
        s.replace(&real.display().to_string(), "[TMP]")
            .replace(&tmp.display().to_string(), "[TMP]")
    };
    format!(
        "exit: {code}\n----- stdout -----\n{}----- stderr -----\n{}",
        clean(&out.stdout),
        clean(&out.stderr)
    )
}

/// The `.gitignore` every example ships.
pub const GITIGNORE: &str = include_str!("../../../plinth-core/scaffolds/_common/gitignore");

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}
