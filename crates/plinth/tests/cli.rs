//! The CLI as a user runs it: scaffolding, validation diagnostics for every kind of bad input,
//! resolved output, explanations and edits.

mod common;

use common::{TestEnv, fixtures};

#[test]
fn every_example_scaffolds_and_validates_cleanly() {
    for example in [
        "minimal",
        "node-pools",
        "multi-cloud",
        "environments",
        "kind",
    ] {
        let env = TestEnv::new();
        env.run_ok(&["init", "demo", "--example", example]);
        let out = env.run(&["validate", "demo"]);
        assert!(out.starts_with("exit: 0"), "{out}");
        assert!(out.contains("0 warnings"), "{out}");
        assert!(!out.contains("warning["), "{out}");
    }
}

#[test]
fn newcomer_flow_multi_cloud() {
    let env = TestEnv::new();
    insta::assert_snapshot!(
        "init_multi_cloud",
        env.run(&["init", "demo", "--example", "multi-cloud"])
    );
    insta::assert_snapshot!(
        "show_multi_cloud_ops",
        env.run(&["show", "demo", "--env", "ops"])
    );
}

#[test]
fn show_json_has_the_documented_shape() {
    let env = TestEnv::new();
    env.run_ok(&["init", "demo", "--example", "environments"]);
    let out = env.run_ok(&["show", "demo", "--env", "apps", "--output", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    insta::assert_json_snapshot!("show_environments_apps_json", v);
    let c = &v["clusters"]["eks_zero"];
    assert_eq!(v["environment"], "apps");
    assert_eq!(c["name"], "kbst-apps-eu-west-1");
    assert_eq!(c["fqdn"], "kbst-apps-eu-west-1.aws.infra.example.com");
    // apps overrides the instance type and max size of the apps-prod base, inherits min size.
    let pool = &c["node_pools"]["default"]["config"];
    assert_eq!(
        pool["instance_types"],
        serde_json::json!(["t3a.large"])
            .get(0)
            .map(|_| serde_json::json!(["t3a.xlarge"]))
            .expect("x")
    );
    assert_eq!(pool["max_size"], 6);
    assert_eq!(pool["min_size"], 3);
    // Documented defaults for keys nobody set.
    assert_eq!(pool["disk_size"], 20);
    assert_eq!(c["config"]["cluster_vpc_cidr"], "10.0.0.0/16");

    // Without --env: every environment, in promotion order.
    let all: serde_json::Value =
        serde_json::from_str(&env.run_ok(&["show", "demo", "--output", "json"])).expect("json");
    let order: Vec<_> = all
        .as_array()
        .expect("array")
        .iter()
        .map(|e| e["environment"].as_str().expect("s").to_string())
        .collect();
    assert_eq!(order, ["ops", "apps", "apps-prod"]);
}

#[test]
fn explain_traces_each_part_to_its_file_and_line() {
    let env = TestEnv::new();
    env.run_ok(&["init", "demo", "--example", "node-pools"]);
    insta::assert_snapshot!(env.run(&[
        "show",
        "demo",
        "--explain",
        "eks_zero.node_pools.prod.max_size"
    ]));
    insta::assert_snapshot!(
        "explain_labels",
        env.run(&[
            "show",
            "demo",
            "--env",
            "ops",
            "--explain",
            "eks_zero.node_pools.gpu.labels"
        ])
    );
    insta::assert_snapshot!(
        "explain_unknown_pool",
        env.run(&[
            "show",
            "demo",
            "--explain",
            "eks_zero.node_pools.prd.max_size"
        ])
    );
}

#[test]
fn unknown_environment_on_the_command_line() {
    let env = TestEnv::new();
    env.run_ok(&["init", "demo"]);
    insta::assert_snapshot!(env.run(&["show", "demo", "--env", "opps"]));
}

#[test]
fn edits_keep_comments_and_refuse_what_breaks_the_platform() {
    let env = TestEnv::new();
    env.run_ok(&["init", "demo"]);
    insta::assert_snapshot!(
        "add_pool",
        env.run(&[
            "add",
            "node-pool",
            "eks_zero",
            "gpu",
            "--dir",
            "demo",
            "--instance-type",
            "g5.xlarge",
            "--min",
            "0",
            "--max",
            "2",
            "--taint",
            "nvidia.com/gpu=present:NoSchedule",
            "--label",
            "accelerator=nvidia"
        ])
    );
    let text = env.read("demo/clusters/eks_zero.toml");
    assert!(text.starts_with("# One Amazon EKS cluster."), "{text}");
    insta::assert_snapshot!("add_pool_file", text);

    // A pool whose min is above its max is refused and nothing is written.
    let before = env.read("demo/clusters/eks_zero.toml");
    insta::assert_snapshot!(
        "add_pool_refused",
        env.run(&[
            "add",
            "node-pool",
            "eks_zero",
            "big",
            "--dir",
            "demo",
            "--min",
            "5",
            "--max",
            "2"
        ])
    );
    assert_eq!(before, env.read("demo/clusters/eks_zero.toml"));

    insta::assert_snapshot!(
        "add_cluster",
        env.run(&[
            "add",
            "cluster",
            "aks_zero",
            "--provider",
            "aks",
            "--region",
            "westeurope",
            "--dir",
            "demo"
        ])
    );
    insta::assert_snapshot!("add_cluster_file", env.read("demo/clusters/aks_zero.toml"));
    insta::assert_snapshot!(
        "add_environment",
        env.run(&[
            "add",
            "environment",
            "apps-prod",
            "--after",
            "apps",
            "--dir",
            "demo"
        ])
    );
    assert!(
        env.read("demo/plinth.toml")
            .contains(r#"environments = ["ops", "apps", "apps-prod"]"#)
    );
    insta::assert_snapshot!("list_after_edits", env.run(&["list", "demo"]));
    insta::assert_snapshot!(
        "remove_default_pool",
        env.run(&[
            "remove",
            "node-pool",
            "eks_zero",
            "default",
            "--dir",
            "demo"
        ])
    );
    env.run_ok(&["remove", "cluster", "aks_zero", "--dir", "demo"]);
    assert!(!env.join("demo/clusters/aks_zero.toml").exists());
    insta::assert_snapshot!(
        "remove_last_cluster",
        env.run(&["remove", "cluster", "eks_zero", "--dir", "demo"])
    );
}

#[test]
fn init_overwrites_nothing() {
    let env = TestEnv::new();
    env.write("demo/keep.txt", "mine");
    env.write("demo/clusters/eks_zero.toml", "# mine");
    insta::assert_snapshot!(env.run(&["init", "demo"]));
    assert_eq!(env.read("demo/keep.txt"), "mine");
    assert_eq!(env.read("demo/clusters/eks_zero.toml"), "# mine");
    assert!(!env.join("demo/plinth.toml").exists(), "all or nothing");
}

#[test]
fn missing_platform_and_unreadable_files() {
    let env = TestEnv::new();
    insta::assert_snapshot!("no_platform", env.run(&["validate", "nowhere"]));
    // A directory where the root file should be.
    std::fs::create_dir_all(env.join("d/plinth.toml")).expect("mkdir");
    insta::assert_snapshot!("root_is_a_directory", env.run(&["validate", "d"]));
}

#[test]
fn non_utf8_is_located() {
    let env = TestEnv::new();
    env.run_ok(&["init", "demo"]);
    let mut bytes = b"provider = \"eks\"\n# caf".to_vec();
    bytes.extend([0xe9, b'\n']);
    std::fs::write(env.join("demo/clusters/bad.toml"), bytes).expect("write");
    insta::assert_snapshot!(env.run(&["validate", "demo"]));
}

#[test]
fn huge_and_deeply_nested_files_are_diagnosed_not_crashed() {
    let env = TestEnv::new();
    env.run_ok(&["init", "demo"]);
    // Nesting far beyond any sensible definition.
    let deep = format!(
        "provider = \"eks\"\nx = {}1{}\n",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    env.write("demo/clusters/deep.toml", &deep);
    let out = env.run(&["validate", "demo"]);
    assert!(out.starts_with("exit: 1"), "{out}");
    assert!(out.contains("clusters/deep.toml"), "{out}");
    std::fs::remove_file(env.join("demo/clusters/deep.toml")).expect("rm");
    // A file over the size limit is refused before parsing.
    let f = std::fs::File::create(env.join("demo/clusters/huge.toml")).expect("create");
    f.set_len(plinth_core_limit() + 1).expect("set_len");
    let out = env.run(&["validate", "demo"]);
    assert!(out.starts_with("exit: 1"), "{out}");
    assert!(
        out.contains("definition files are limited to 64 MiB"),
        "{out}"
    );
}

fn plinth_core_limit() -> u64 {
    64 << 20
}

#[test]
fn validate_json_lists_diagnostics_with_positions() {
    let env = TestEnv::new();
    let dir = env.copy_fixture(&fixtures().join("invalid/inconsistent-sizes"), "p");
    let out = env
        .cmd()
        .args(["validate", "--output", "json"])
        .arg(&dir)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["valid"], false);
    let d = &v["diagnostics"][0];
    assert_eq!(d["code"], "inconsistent-sizes");
    assert_eq!(d["file"], "plinth.toml");
    assert_eq!(d["line"], 11);
    assert_eq!(d["column"], 12);
    assert_eq!(d["labels"].as_array().expect("labels").len(), 2);
}

#[test]
fn usage_errors_exit_2_and_completions_work() {
    let env = TestEnv::new();
    let out = env
        .cmd()
        .args(["show", "--output", "yaml"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let out = env.run_ok(&["completions", "bash"]);
    assert!(out.contains("plinth"));
    let schema: serde_json::Value =
        serde_json::from_str(&env.run_ok(&["schema"])).expect("schema json");
    assert!(
        schema["properties"]["clusters"]["additionalProperties"]["oneOf"]
            .as_array()
            .expect("providers")
            .len()
            == 4
    );
}

#[test]
fn help_is_the_cli_reference() {
    let env = TestEnv::new();
    let mut all = String::new();
    for cmd in [
        vec![],
        vec!["init"],
        vec!["validate"],
        vec!["show"],
        vec!["list"],
        vec!["add", "node-pool"],
        vec!["remove", "environment"],
    ] {
        let mut args = cmd.clone();
        args.push("--help");
        all.push_str(&format!(
            "$ plinth {}\n{}\n",
            args.join(" "),
            env.run_ok(&args)
        ));
    }
    insta::assert_snapshot!(all);
}
