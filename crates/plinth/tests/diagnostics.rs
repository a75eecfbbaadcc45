//! Every kind of bad input gets a located diagnostic: one fixture per case under
//! `fixtures/invalid/`, its output the snapshot. (Its own test binary: insta's `glob!` context is
//! process-wide and would leak into snapshots of tests running beside it.)

mod common;

use common::TestEnv;

/// Each fixture under `fixtures/invalid/` is one bad input; its diagnostics are the snapshot.
#[test]
fn invalid_definitions_get_located_diagnostics() {
    insta::glob!("fixtures/invalid/*/plinth.toml", |path| {
        let env = TestEnv::new();
        let case = path.parent().expect("case dir");
        let dir = env.copy_fixture(case, "p");
        let out = env.cmd().arg("validate").arg(&dir).output().expect("run");
        assert_eq!(
            out.status.code(),
            Some(if case.ends_with("empty-string-inherits") {
                0
            } else {
                1
            }),
            "{}",
            common::normalize(&out, env.path())
        );
        insta::assert_snapshot!(common::normalize(&out, env.path()));
        // Validation writes nothing.
        let mut after = Vec::new();
        walk(&dir, &mut after);
        let mut before = Vec::new();
        walk(case, &mut before);
        assert_eq!(after.len(), before.len(), "validate wrote files");
    });
}

fn walk(dir: &std::path::Path, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
        if e.path().is_dir() {
            walk(&e.path(), out);
        } else {
            out.push(e.file_name().to_string_lossy().into_owned());
        }
    }
}
