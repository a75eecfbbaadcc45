//! Helpers shared by the integration tests.
// Each test crate uses only some of these helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use tfcheck::Schemas;

/// The real provider schemas vendored in the repository's `provider-schemas/`.
pub fn schemas() -> &'static Schemas {
    static SCHEMAS: OnceLock<Schemas> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../provider-schemas");
        let files: Vec<PathBuf> = ["aws", "google", "azurerm", "kind"]
            .iter()
            .map(|name| dir.join(format!("{name}.json")))
            .collect();
        let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
        Schemas::load(&paths).expect("the vendored provider schemas load")
    })
}

/// `tests/fixtures/<name>`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Checks `dir` and renders each problem as `file:line:column: severity: address: message`,
/// with the file relative to `dir`.
pub fn check(dir: &Path) -> Vec<String> {
    tfcheck::check_dir(dir, schemas())
        .expect("the module can be read and parsed")
        .into_iter()
        .map(|problem| {
            let file = problem
                .file
                .strip_prefix(dir)
                .expect("problems are reported in files under the checked directory")
                .display()
                .to_string();
            format!(
                "{file}:{}:{}: {}: {}: {}",
                problem.line, problem.column, problem.severity, problem.address, problem.message
            )
        })
        .collect()
}

/// Writes `files` (relative path, contents) into a fresh temporary directory.
pub fn module(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for (path, contents) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().expect("a file has a parent directory"))
            .expect("create the module directory");
        std::fs::write(&path, contents).expect("write the .tf file");
    }
    dir
}

/// Copies the directory tree `from` into a fresh temporary directory.
pub fn copy_tree(from: &Path) -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).expect("create a directory");
        for entry in std::fs::read_dir(from).expect("read a fixture directory") {
            let entry = entry.expect("a directory entry");
            let target = to.join(entry.file_name());
            if entry.path().is_dir() {
                copy(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), &target).expect("copy a fixture file");
            }
        }
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    copy(from, dir.path());
    dir
}
