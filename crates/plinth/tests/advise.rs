//! `plinth advise`, `plinth capacity` and `plinth diagram` as a user runs them: the guide's four
//! examples pass, each "don't" fixture reports exactly its rule, capacity numbers and diagrams
//! are snapshots, and the committed docs diagrams are current.

mod common;

use common::TestEnv;
use std::path::{Path, PathBuf};

const EXAMPLES: [&str; 4] = ["minimal", "node-pools", "multi-cloud", "environments"];

/// The fixtures live with the library's tests; both suites use them.
fn advise_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../plinth-core/tests/fixtures/advise")
}

/// `(case, expected rule)` for every fixture that names one on its first line.
fn dont_cases() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(advise_fixtures())
        .expect("fixtures")
        .filter_map(|e| {
            let dir = e.ok()?.path();
            let text = std::fs::read_to_string(dir.join("plinth.toml")).ok()?;
            let rule = text.lines().next()?.strip_prefix("# expect: ")?.to_string();
            Some((dir.file_name()?.to_string_lossy().into_owned(), rule))
        })
        .collect();
    out.sort();
    out
}

fn json(env: &TestEnv, args: &[&str]) -> (i32, serde_json::Value) {
    let out = env.cmd().args(args).output().expect("run");
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", common::normalize(&out, env.path())));
    (out.status.code().unwrap_or(-1), v)
}

#[test]
fn the_four_examples_pass_advise_without_warnings() {
    for example in EXAMPLES {
        let env = TestEnv::new();
        env.run_ok(&["init", "demo", "--example", example]);
        let out = env.run(&["advise", "demo"]);
        assert!(out.starts_with("exit: 0"), "{example}: {out}");
        assert!(out.contains("advise: no findings"), "{example}: {out}");
        assert!(
            !out.contains('\u{26a0}') && !out.contains("PA0"),
            "{example}: {out}"
        );
        let (code, v) = json(&env, &["advise", "demo", "--output", "json"]);
        assert_eq!(code, 0);
        assert_eq!(v["findings"], serde_json::json!([]), "{example}");
        assert_eq!(v["warnings"], 0);
    }
}

#[test]
fn each_dont_case_reports_exactly_its_rule() {
    let cases = dont_cases();
    assert!(cases.len() >= 10, "{cases:?}");
    for (case, rule) in cases {
        let env = TestEnv::new();
        let dir = env.copy_fixture(&advise_fixtures().join(&case), "p");
        let dir = dir.to_string_lossy().into_owned();
        let (code, v) = json(&env, &["advise", &dir, "--output", "json"]);
        let ids: Vec<&str> = v["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter_map(|f| f["rule"].as_str())
            .collect();
        assert_eq!(ids, [rule.as_str()], "{case}");
        let f = &v["findings"][0];
        assert!(
            f["file"].is_string() && f["reason"].is_string() && f["fix"].is_string(),
            "{case}: {f}"
        );
        // Errors (PA001) fail the command; warnings do not.
        assert_eq!(code, if rule == "PA001" { 1 } else { 0 }, "{case}");
        insta::assert_snapshot!(format!("advise_{case}"), env.run(&["advise", "p"]));
    }
}

#[test]
fn advise_stops_on_other_validation_errors() {
    let env = TestEnv::new();
    env.write(
        "p/plinth.toml",
        "[platform]\nenvironments = [\"ops\", \"apps\"]\n\n[clusters.eks_zero]\nprovider = \"eks\"\n",
    );
    let out = env.run(&["advise", "p"]);
    assert!(out.starts_with("exit: 1"), "{out}");
    assert!(out.contains("the advisor needs a valid platform"), "{out}");
    assert!(!out.contains("Architecture score"), "{out}");
}

#[test]
fn advise_lists_its_rules() {
    let env = TestEnv::new();
    let out = env.run_ok(&["advise", "--rules"]);
    for id in [
        "PA001", "PA002", "PA003", "PA004", "PA005", "PA006", "PC001", "PC006",
    ] {
        assert!(out.contains(id), "{id}: {out}");
    }
    let (_, v) = json(&env, &["advise", "--rules", "--output", "json"]);
    assert_eq!(v[0]["id"], "PA001");
    assert_eq!(v[0]["severity"], "error");
    assert!(
        v[0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("at least two environments"))
    );
}

#[test]
fn capacity_report() {
    let env = TestEnv::new();
    env.copy_fixture(&advise_fixtures().join("capacity"), "p");
    let out = env.run(&["capacity", "p"]);
    assert!(out.starts_with("exit: 0"), "warnings do not fail: {out}");
    insta::assert_snapshot!("capacity_text", out);

    let (code, v) = json(&env, &["capacity", "p", "--output", "json"]);
    assert_eq!(code, 0);
    let apps = &v["environments"][1];
    assert_eq!(apps["environment"], "apps");
    let gke = apps["clusters"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["key"] == "gke_zero"))
        .expect("gke_zero");
    assert_eq!(gke["containers"]["now"], 250_000);
    assert_eq!(gke["containers"]["crossings"]["critical"], 1);
    assert_eq!(gke["pods"]["crossings"]["limit"], 20);
    let mut rules: Vec<&str> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["rule"].as_str())
        .collect();
    rules.sort_unstable();
    assert_eq!(rules, ["PC001", "PC003", "PC004", "PC005", "PC006"]);
}

#[test]
fn capacity_without_declared_load() {
    let env = TestEnv::new();
    env.run_ok(&["init", "demo", "--example", "node-pools"]);
    let out = env.run(&["capacity", "demo"]);
    assert!(out.starts_with("exit: 0"), "{out}");
    assert!(out.contains("no expected load declared"), "{out}");
    assert!(
        out.contains("pools may grow to 25 nodes holding 2,750 pods"),
        "{out}"
    );
}

#[test]
fn diagram_formats() {
    let env = TestEnv::new();
    env.run_ok(&[
        "init",
        "demo",
        "--example",
        "node-pools",
        "--name",
        "node-pools",
    ]);
    for (format, ext) in [("svg", "svg"), ("dot", "dot"), ("mermaid", "mmd")] {
        let out = env.run_ok(&["diagram", "demo", "--output", format]);
        insta::assert_snapshot!(format!("diagram_node_pools_{ext}"), out);
    }
    let one = env.run_ok(&["diagram", "demo", "--env", "apps", "-o", "mermaid"]);
    assert!(
        one.contains("ENV__apps") && !one.contains("ENV__ops"),
        "{one}"
    );
}

#[test]
fn diagram_writes_a_file_and_refuses_unknown_environments() {
    let env = TestEnv::new();
    env.run_ok(&["init", "demo", "--example", "minimal"]);
    let out = env.run(&["diagram", "demo", "--out", "out/minimal.svg"]);
    assert!(out.contains("Wrote out/minimal.svg"), "{out}");
    assert!(
        out.contains("----- stdout -----\n----- stderr"),
        "nothing on stdout: {out}"
    );
    assert!(env.read("out/minimal.svg").starts_with("<svg "));
    let out = env.run(&["diagram", "demo", "--env", "prod"]);
    assert!(out.starts_with("exit: 1"), "{out}");
    assert!(out.contains("`prod` is not an environment"), "{out}");
}

/// `docs/architecture/<example>.svg` are what `scripts/render-diagrams.sh` writes.
#[test]
fn committed_docs_diagrams_are_current() {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/architecture");
    for example in EXAMPLES {
        let env = TestEnv::new();
        env.run_ok(&["init", "demo", "--example", example, "--name", example]);
        let svg = env.run_ok(&["diagram", "demo"]);
        let committed =
            std::fs::read_to_string(docs.join(format!("{example}.svg"))).unwrap_or_default();
        assert!(
            committed == svg,
            "docs/architecture/{example}.svg is stale: run scripts/render-diagrams.sh and look at the PNGs"
        );
    }
}
