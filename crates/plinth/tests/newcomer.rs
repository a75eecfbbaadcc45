//! The newcomer's path (issue 19): typos that exited 0 are errors with a did-you-mean, one
//! argument style everywhere, the platform found upwards from the working directory, `init` in
//! an existing repository and on kind, and a promotion chain that reads upside down.

mod common;

use common::TestEnv;

fn minimal(env: &TestEnv) {
    env.run_ok(&["init", "demo", "--example", "minimal"]);
}

#[test]
fn regression_19_explain_of_a_misspelt_key_is_an_error_with_a_suggestion() {
    let env = TestEnv::new();
    minimal(&env);
    let out = env.run(&["show", "demo", "--explain", "eks_zero.regoin"]);
    assert!(out.starts_with("exit: 1"), "{out}");
    assert!(
        out.contains("cluster `eks_zero` (Amazon EKS) has no key `regoin`"),
        "{out}"
    );
    assert!(out.contains("did you mean `region`?"), "{out}");
    let out = env.run(&[
        "show",
        "demo",
        "--explain",
        "eks_zero.node_pools.default.min_sizee",
    ]);
    assert!(out.starts_with("exit: 1"), "{out}");
    assert!(out.contains("did you mean `min_size`?"), "{out}");
    let out = env.run(&[
        "show",
        "demo",
        "--explain",
        "eks_zero.services.cert-manager.namespac",
    ]);
    assert!(
        out.starts_with("exit: 1") && out.contains("did you mean `namespace`?"),
        "{out}"
    );
    // A known key that nobody set is still explained as unset (exit 0).
    let out = env.run(&["show", "demo", "--explain", "eks_zero.cluster_version"]);
    assert!(
        out.starts_with("exit: 0") && out.contains("is unset"),
        "{out}"
    );
}

#[test]
fn regression_19_render_of_an_unknown_service_is_an_error_with_a_suggestion() {
    let env = TestEnv::new();
    minimal(&env);
    env.run_ok(&["generate", "demo"]);
    let out = env.run(&["render", "demo", "--env", "ops", "--service", "nginx"]);
    assert!(out.starts_with("exit: 1"), "{out}");
    assert!(
        out.contains("there is no service `nginx` in any cluster of `ops`"),
        "{out}"
    );
    assert!(out.contains("did you mean `ingress-nginx`?"), "{out}");
}

#[test]
fn regression_19_catalog_typos_suggest_the_entry() {
    let env = TestEnv::new();
    let out = env.run(&["catalog", "show", "nginx"]);
    assert!(
        out.starts_with("exit: 1") && out.contains("did you mean `ingress-nginx`?"),
        "{out}"
    );
    // The hint is about the catalog, never about configuration keys.
    let out = env.run(&["catalog", "show", "zzzz"]);
    assert!(
        out.contains("`plinth catalog list` shows every entry"),
        "{out}"
    );
    assert!(!out.contains("plinth schema"), "{out}");
}

#[test]
fn regression_19_a_miscased_plinth_toml_is_named_in_the_hint() {
    let env = TestEnv::new();
    minimal(&env);
    std::fs::rename(env.join("demo/plinth.toml"), env.join("demo/Plinth.toml")).expect("mv");
    let out = env.run(&["validate", "demo"]);
    assert!(out.starts_with("exit: 1"), "{out}");
    assert!(out.contains("found `Plinth.toml`"), "{out}");
    assert!(out.contains("all lowercase"), "{out}");
}

#[test]
fn the_platform_is_found_upwards_from_the_working_directory() {
    let env = TestEnv::new();
    minimal(&env);
    std::fs::create_dir_all(env.join("demo/services/ingress-nginx/deep")).expect("mkdir");
    let out = env
        .cmd()
        .current_dir(env.join("demo/services/ingress-nginx/deep"))
        .args(["validate"])
        .output()
        .expect("run");
    let text = common::normalize(&out, env.path());
    assert!(out.status.success(), "{text}");
    assert!(text.contains("valid: platform `demo`"), "{text}");
    // Generation from below writes where the platform is, and says so relatively.
    let out = env
        .cmd()
        .current_dir(env.join("demo/clusters"))
        .args(["generate"])
        .output()
        .expect("run");
    let text = common::normalize(&out, env.path());
    assert!(out.status.success(), "{text}");
    assert!(text.contains("`../generated`"), "{text}");
    assert!(env.join("demo/generated").is_dir());
    assert!(!env.join("demo/clusters/generated").exists());
    // Nowhere to be found: the usual error, from the working directory.
    let out = env.run(&["validate"]);
    assert!(
        out.starts_with("exit: 1") && out.contains("no `plinth.toml` in `.`"),
        "{out}"
    );
}

#[test]
fn add_and_remove_take_the_directory_like_every_other_command() {
    let env = TestEnv::new();
    minimal(&env);
    env.run_ok(&[
        "add",
        "node-pool",
        "eks_zero",
        "gpu",
        "demo",
        "--instance-type",
        "g5.xlarge",
        "--min",
        "0",
        "--max",
        "2",
    ]);
    assert!(
        env.read("demo/clusters/eks_zero.toml")
            .contains("[node_pools.gpu")
    );
    env.run_ok(&["remove", "node-pool", "eks_zero", "gpu", "demo"]);
    // `remove service` reads like `add service`: the service, then `--cluster`.
    env.run_ok(&[
        "remove",
        "service",
        "cert-manager",
        "--cluster",
        "eks_zero",
        "demo",
    ]);
    env.run_ok(&[
        "add",
        "service",
        "cert-manager",
        "--cluster",
        "eks_zero",
        "demo",
    ]);
    // The old spelling still works for scripts, but is not what help teaches.
    env.run_ok(&[
        "remove",
        "service",
        "cert-manager",
        "--cluster",
        "eks_zero",
        "--dir",
        "demo",
    ]);
    let help = env.run_ok(&["remove", "service", "--help"]);
    assert!(
        help.contains("Usage: plinth remove service [OPTIONS] --cluster <CLUSTER> <SERVICE> [DIR]"),
        "{help}"
    );
    assert!(!help.contains("--dir"), "{help}");
    // Every command that takes a platform shows it as optional.
    for cmd in [
        &["validate"][..],
        &["generate"],
        &["add", "cluster"],
        &["remove", "cluster"],
        &["init"],
    ] {
        let mut args = cmd.to_vec();
        args.push("--help");
        let help = env.run_ok(&args);
        let usage = help
            .lines()
            .find(|l| l.starts_with("Usage:"))
            .expect("usage");
        assert!(usage.contains("[DIR]"), "{usage}");
        assert!(!usage.contains("<DIR>"), "{usage}");
    }
}

#[test]
fn regression_19_diagram_o_is_a_format_and_out_refuses_png() {
    let env = TestEnv::new();
    minimal(&env);
    let out = env.run_ok(&["diagram", "demo", "-o", "mermaid"]);
    assert!(out.starts_with("flowchart"), "{out}");
    // `-o x.png` used to write SVG under a PNG name.
    let out = env.run(&["diagram", "demo", "-o", "x.png"]);
    assert!(out.starts_with("exit: 2"), "{out}");
    assert!(!env.join("x.png").exists());
    let out = env.run(&["diagram", "demo", "--out", "x.png"]);
    assert!(
        out.starts_with("exit: 1") && out.contains("rsvg-convert"),
        "{out}"
    );
    assert!(!env.join("x.png").exists());
    // The extension picks the format.
    env.run_ok(&["diagram", "demo", "--out", "p.dot"]);
    assert!(env.read("p.dot").starts_with("digraph"));
    env.run_ok(&["diagram", "demo", "--out", "p.svg"]);
    assert!(env.read("p.svg").starts_with("<svg"));
}

#[test]
fn regression_19_init_adopts_an_existing_git_repository() {
    let env = TestEnv::new();
    let repo = env.join("repo");
    std::fs::create_dir_all(&repo).expect("mkdir");
    let git = |args: &[&str]| {
        let ok = std::process::Command::new("git")
            .args(args)
            .current_dir(&repo)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", env.path())
            .output()
            .expect("git");
        assert!(ok.status.success(), "{ok:?}");
    };
    git(&["init", "-q"]);
    std::fs::write(repo.join("README.md"), "# infra\n").expect("w");
    std::fs::write(repo.join(".gitignore"), "/target\n").expect("w");
    let out = env
        .cmd()
        .current_dir(&repo)
        .args(["init", "--example", "minimal"])
        .output()
        .expect("run");
    let text = common::normalize(&out, env.path());
    assert!(out.status.success(), "{text}");
    assert!(text.contains("plinth validate\n"), "{text}");
    // What was there is kept; the .gitignore gains Plinth's lines.
    assert_eq!(env.read("repo/README.md"), "# infra\n");
    let ignore = env.read("repo/.gitignore");
    assert!(ignore.starts_with("/target\n"), "{ignore}");
    assert!(ignore.contains("generated/**/.terraform/"), "{ignore}");
    let out = env
        .cmd()
        .current_dir(&repo)
        .args(["validate"])
        .output()
        .expect("run");
    assert!(out.status.success());
    // A second init overwrites nothing and says why.
    let before = env.read("repo/plinth.toml");
    let out = env
        .cmd()
        .current_dir(&repo)
        .args(["init", "--example", "kind"])
        .output()
        .expect("run");
    let text = common::normalize(&out, env.path());
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("plinth.toml` exists already"), "{text}");
    assert_eq!(env.read("repo/plinth.toml"), before);
    assert!(!env.join("repo/clusters/kind_zero.toml").exists());
}

#[test]
fn init_kind_is_a_local_platform_that_validates_and_generates() {
    let env = TestEnv::new();
    env.run_ok(&["init", "local", "--example", "kind"]);
    let out = env.run(&["validate", "local"]);
    assert!(
        out.starts_with("exit: 0") && out.contains("0 warnings"),
        "{out}"
    );
    env.run_ok(&["generate", "local"]);
    let show = env.run_ok(&["show", "local", "--output", "json"]);
    let v: serde_json::Value = serde_json::from_str(&show).expect("json");
    let names: Vec<&str> = v
        .as_array()
        .expect("envs")
        .iter()
        .map(|e| e["clusters"]["kind_zero"]["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["kbst-ops-localhost", "kbst-apps-localhost"]);
    // Both environments' clusters can run on one machine: their ingress ports differ.
    let ports: Vec<i64> = v
        .as_array()
        .expect("envs")
        .iter()
        .map(|e| {
            e["clusters"]["kind_zero"]["config"]["http_port"]
                .as_i64()
                .expect("port")
        })
        .collect();
    assert_eq!(ports, [8080, 80]);
}

#[test]
fn regression_19_an_upside_down_chain_is_a_warning() {
    let env = TestEnv::new();
    minimal(&env);
    let toml = env.read("demo/plinth.toml").replace(
        "environments = [\"ops\", \"apps\"]",
        "environments = [\"apps\", \"ops\"]",
    );
    env.write("demo/plinth.toml", &toml);
    let out = env.run(&["validate", "demo"]);
    assert!(out.starts_with("exit: 0"), "{out}");
    assert!(out.contains("the chain starts with `apps`"), "{out}");
    assert!(out.contains("environments = [\"ops\", \"apps\"]"), "{out}");
    assert!(out.contains("1 warning"), "{out}");
    let toml = toml
        .replace("[\"apps\", \"ops\"]", "[\"apps-prod\", \"apps\"]")
        .replace(
            "base_environment = \"apps\"",
            "base_environment = \"apps-prod\"",
        );
    env.write("demo/plinth.toml", &toml);
    let out = env.run(&["validate", "demo"]);
    assert!(out.contains("sounds like production"), "{out}");
}
