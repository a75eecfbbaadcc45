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

/// Issue 20: thousands of diagnostics in one file used to render in quadratic time (miette read
/// every snippet by scanning the file from its start). Now text output shows the first 50 per
/// file and counts the rest in one line; `-v` shows them all, and JSON always lists every one.
#[test]
fn regression_20_many_diagnostics_in_one_file_are_capped_with_a_summary() {
    let env = TestEnv::new();
    env.run_ok(&["init", "p"]);
    let file = env.read("p/clusters/eks_zero.toml");
    let extra: String = (0..200)
        .map(|i| format!("unknown_key_{i} = {i}\n"))
        .collect();
    env.write(
        "p/clusters/eks_zero.toml",
        &file.replacen("[config.apps]\n", &format!("[config.apps]\n{extra}"), 1),
    );
    let out = env.run(&["validate", "p"]);
    assert!(out.starts_with("exit: 1"), "{out}");
    assert_eq!(out.matches("plinth::unknown-key").count(), 50, "{out}");
    assert!(
        out.contains("… 150 more errors in clusters/eks_zero.toml not shown (`-v` shows them all, `--output json` lists them)"),
        "{out}"
    );
    assert!(out.contains("invalid: 200 errors"), "{out}");
    // The last one shown is still located at its own line.
    assert!(out.contains("clusters/eks_zero.toml:55:"), "{out}");
    let all = env.run(&["validate", "p", "-v"]);
    assert_eq!(all.matches("plinth::unknown-key").count(), 200);
    assert!(
        all.contains("clusters/eks_zero.toml:205:"),
        "the last one, located exactly"
    );
    let out = env
        .cmd()
        .args(["validate", "p", "--output", "json"])
        .output()
        .expect("run");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let n = v["diagnostics"].as_array().map_or(0, Vec::len);
    assert_eq!(n, 200, "{v}");
}
