//! The promotion gate's inputs, without engines (issue 16): what `validate`, `generate`, `show`
//! and `unlock` refuse or hide so that nothing reaches an environment unhashed, unlinted or
//! unnoticed. The gate's runs with real terraform are in `lifecycle.rs`.

mod common;

use common::TestEnv;
use std::process::Command;

/// The `minimal` example in `p`, in a git repository.
fn platform(env: &TestEnv) -> std::path::PathBuf {
    env.run_ok(&["init", "p", "--example", "minimal"]);
    let dir = env.join("p");
    git(&dir, &["init", "-q", "-b", "main"]);
    dir
}

fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "T")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "T")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn append(env: &TestEnv, rel: &str, text: &str) {
    let mut s = env.read(rel);
    s.push_str(text);
    env.write(rel, &s);
}

/// Regression for issue 16.5: `plinth unlock --env ../../../..` deleted `*.lock` files outside
/// the repository (the name became a path). Every environment name from the command line is
/// checked against the chain first.
#[test]
fn regression_16_5_unlock_refuses_a_name_outside_the_chain() {
    let env = TestEnv::new();
    let dir = platform(&env);
    git(&dir, &["add", "-A"]);
    git(&dir, &["commit", "-q", "-m", "p"]);
    // What the traversal reached: a `*.lock` beside the repository.
    env.write("Cargo.lock", "# not Plinth's\n");
    env.write("p/.git/x.lock", "# git's own\n");
    for name in [
        "../../../..",
        "../..",
        "../../Cargo",
        "ops/../../..",
        "OPS",
        "-x",
    ] {
        let out = env.run(&["unlock", "p", "--env", name]);
        assert!(
            out.starts_with("exit: 1") || out.starts_with("exit: 2"),
            "{name}: {out}"
        );
        assert!(!out.contains("broke the lock"), "{name}: {out}");
    }
    let out = env.run(&["unlock", "p", "--env", "opss"]);
    assert!(
        out.contains("`opss` is not an environment") && out.contains("did you mean `ops`?"),
        "{out}"
    );
    assert_eq!(env.read("Cargo.lock"), "# not Plinth's\n");
    assert!(env.join("p/.git/x.lock").exists());
    // The same names are refused by every other command that takes one.
    for args in [
        vec!["apply", "p", "--env", "../.."],
        vec!["plan", "p", "--env", "../..", "--no-engine"],
        vec!["promote", "p", "--to", "../.."],
        vec!["verify", "p", "--env", "../.."],
    ] {
        let out = env.run(&args);
        assert!(out.starts_with("exit: 1"), "{args:?}: {out}");
        assert!(out.contains("is not an environment"), "{args:?}: {out}");
    }
}

/// Regression for issue 16.5: a revision starting with `-` reached git as an option.
#[test]
fn regression_16_5_a_revision_that_looks_like_an_option_is_refused() {
    let env = TestEnv::new();
    let dir = platform(&env);
    git(&dir, &["add", "-A"]);
    git(&dir, &["commit", "-q", "-m", "p"]);
    let marker = env.join("injected");
    let rev = format!("--output={}", marker.display());
    let (base, head, from) = (
        format!("--base={rev}"),
        format!("--head={rev}"),
        format!("--from-revision={rev}"),
    );
    for args in [
        vec!["affected", "p", base.as_str()],
        vec!["affected", "p", "--base", "HEAD", head.as_str()],
        vec!["promote", "p", "--to", "apps", from.as_str()],
    ] {
        let out = env.run(&args);
        assert!(out.starts_with("exit: 1"), "{args:?}: {out}");
        assert!(!marker.exists(), "{args:?} reached git as an option");
    }
}

/// Regression for issue 16.6: two `plinth add node-pool` at once both printed "added" and one
/// pool was lost. Edits take the platform's lock: both land.
#[test]
fn regression_16_6_two_concurrent_add_node_pool_both_land() {
    let env = TestEnv::new();
    env.run_ok(&["init", "p", "--example", "minimal"]);
    for round in 0..5 {
        let pools: Vec<String> = (0..4).map(|i| format!("r{round}p{i}")).collect();
        let spawned: Vec<_> = pools
            .iter()
            .map(|pool| {
                env.std_cmd()
                    .args([
                        "add",
                        "node-pool",
                        "eks_zero",
                        pool,
                        "--dir",
                        "p",
                        "--instance-type",
                        "m5.large",
                    ])
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .expect("spawn")
            })
            .collect();
        for child in spawned {
            let out = child.wait_with_output().expect("wait");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let text = env.read("p/clusters/eks_zero.toml");
        for pool in &pools {
            assert!(
                text.contains(&format!("[node_pools.{pool}.config.apps]")),
                "round {round}: pool `{pool}` was lost:\n{text}"
            );
        }
    }
    env.run_ok(&["validate", "p"]);
}

/// Regression for issue 16.7: `show --explain` printed sensitive values (nested ones too) in
/// text and JSON, and the misplaced-sensitive error for a service showed the value in its
/// snippet.
#[test]
fn regression_16_7_sensitive_values_are_masked_in_explain_and_snippets() {
    let env = TestEnv::new();
    env.run_ok(&["init", "p", "--example", "minimal"]);
    env.write(
        "p/clusters/eks_zero.toml",
        &env.read("p/clusters/eks_zero.toml").replace(
            "max_size = 9\n",
            "max_size = 9\nlabels = { team = \"platform\", cost-center = { sensitive = true, value = \"cc-4711-hidden\" } }\n",
        ),
    );
    for format in ["text", "json"] {
        for key in [
            "eks_zero.node_pools.default.labels",
            "eks_zero.node_pools.default.labels.cost-center",
        ] {
            let out = env.run(&[
                "show",
                "p",
                "--env",
                "ops",
                "--explain",
                key,
                "--output",
                format,
            ]);
            assert!(out.starts_with("exit: 0"), "{out}");
            assert!(!out.contains("cc-4711-hidden"), "{key} ({format}):\n{out}");
            assert!(out.contains("sensitive"), "{key} ({format}):\n{out}");
        }
    }
    append(
        &env,
        "p/clusters/eks_zero.toml",
        "\n[services.cert-manager.config.ops.common_annotations]\ntoken = { sensitive = true, value = \"svc-secret-value-9\" }\n",
    );
    let out = env.run(&["validate", "p"]);
    assert!(out.contains("misplaced-sensitive"), "{out}");
    assert!(!out.contains("svc-secret-value-9"), "{out}");
}

/// Regression for issue 16.8: credentials in table keys, service sources, base manifests, patch
/// and extra-resource files, intents, and AWS secret access keys anywhere went unreported.
#[test]
fn regression_16_8_credentials_anywhere_plinth_copies_or_renders_are_reported() {
    let aws_key = format!("AKIA{}", "IOSFODNN7EXAMPLZ");
    let github = format!("ghp_{}", "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8");
    let secret_key = format!("Zx8Hq2LmP0vR7tYc/4KdN1sW{}", "b9Fe+Gj3Ua6Ih5Ow");
    let pem = format!("-----BEGIN {}PRIVATE KEY-----", "RSA ");
    let cases: Vec<(&str, String, String)> = vec![
        (
            "a tag key",
            "p/clusters/eks_zero.toml".into(),
            format!("\n[node_pools.default.config.ops.tags]\n\"{aws_key}\" = \"ci\"\n"),
        ),
        (
            "a remote source url",
            "p/clusters/eks_zero.toml".into(),
            "\n[services.extra]\nkind = \"other\"\nsource = { url = \"https://robot:hunter22@git.example.com/o/r//d\", ref = \"v1\" }\n".into(),
        ),
        (
            "a source ref",
            "p/clusters/eks_zero.toml".into(),
            format!("\n[services.extra]\nkind = \"other\"\nsource = {{ url = \"https://git.example.com/o/r//d\", ref = \"{github}\" }}\n"),
        ),
        (
            "a tenant",
            "p/clusters/eks_zero.toml".into(),
            format!("\ntenant = \"{github}\"\n"),
        ),
        (
            "a base manifest",
            "p/services/ingress-nginx/controller.yaml".into(),
            format!("\n# {pem}\n"),
        ),
        (
            "an AWS secret access key in a base",
            "p/services/ingress-nginx/controller.yaml".into(),
            format!("\n# key: {secret_key}\n"),
        ),
    ];
    for (what, file, text) in cases {
        let env = TestEnv::new();
        env.run_ok(&["init", "p", "--example", "minimal"]);
        // Keys before any table of the file belong at its top.
        if text.starts_with("\ntenant") {
            let body = env.read(&file);
            env.write(&file, &format!("{}{body}", text.trim_start()));
        } else {
            append(&env, &file, &text);
        }
        let out = env.run(&["validate", "p"]);
        assert!(out.starts_with("exit: 1"), "{what}:\n{out}");
        assert!(out.contains("secret-in-definition"), "{what}:\n{out}");
        // The diagnostic points at it without echoing it.
        for secret in [&aws_key, &github, &secret_key, &"hunter22".to_string()] {
            assert!(!out.contains(secret.as_str()), "{what} echoed:\n{out}");
        }
    }
    // Patch and extra-resource files.
    let env = TestEnv::new();
    env.run_ok(&["init", "p", "--example", "minimal"]);
    env.write(
        "p/patches/p.yaml",
        &format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: {aws_key}\n"),
    );
    env.write(
        "p/extra/s.yaml",
        &format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\ndata:\n  t: {github}\n"),
    );
    append(
        &env,
        "p/clusters/eks_zero.toml",
        "\n[services.cert-manager.config.ops]\npatches = [{ path = \"patches/p.yaml\" }]\nresources = [\"extra/s.yaml\"]\n",
    );
    let out = env.run(&["validate", "p"]);
    assert!(
        out.contains(
            "`patches/p.yaml` (applied by a service): this looks like an AWS access key id"
        ) && out.contains("`extra/s.yaml` (applied by a service): this looks like a GitHub token"),
        "{out}"
    );
}

/// Regression for issue 16.9: a FIFO among the extra resources made `generate` block forever,
/// a 3 GB sparse file was read whole. They are refused like definition files, with the place
/// that names them.
#[test]
fn regression_16_9_a_fifo_or_a_huge_extra_resource_is_refused_where_it_is_named() {
    let env = TestEnv::new();
    env.run_ok(&["init", "p", "--example", "minimal"]);
    std::fs::create_dir_all(env.join("p/extra")).expect("mkdir");
    let made = Command::new("mkfifo")
        .arg(env.join("p/extra/fifo.yaml"))
        .status()
        .expect("mkfifo");
    assert!(made.success());
    std::fs::File::create(env.join("p/extra/huge.yaml"))
        .and_then(|f| f.set_len(3 << 30))
        .expect("sparse");
    append(
        &env,
        "p/clusters/eks_zero.toml",
        "\n[services.cert-manager.config.ops]\nresources = [\"extra/fifo.yaml\", \"extra/huge.yaml\"]\n",
    );
    for cmd in [vec!["validate", "p"], vec!["generate", "p"]] {
        let started = std::time::Instant::now();
        let out = env.run(&cmd);
        assert!(started.elapsed().as_secs() < 60, "{cmd:?} blocked");
        assert!(out.starts_with("exit: 1"), "{cmd:?}:\n{out}");
        assert!(
            out.contains("`extra/fifo.yaml` is not a regular file")
                && out.contains("`extra/huge.yaml` is 3072 MiB")
                && out.contains("clusters/eks_zero.toml:"),
            "{cmd:?}:\n{out}"
        );
    }
}

/// Regression for issue 16.2: references from a base to anything outside the platform (a
/// directory, a symlink) are refused by `validate` at the reference.
#[test]
fn regression_16_2_a_base_reference_leaving_the_platform_is_refused_at_the_reference() {
    let env = TestEnv::new();
    env.run_ok(&["init", "p", "--example", "minimal"]);
    env.write("outside/kustomization.yaml", "resources: []\n");
    let k = "p/services/ingress-nginx/kustomization.yaml";
    append(&env, k, "  - ../../../outside\n");
    let out = env.run(&["validate", "p"]);
    assert!(out.starts_with("exit: 1"), "{out}");
    assert!(
        out.contains("refers to `../../../outside`, outside the platform directory")
            && out.contains("services/ingress-nginx/kustomization.yaml:"),
        "{out}"
    );
    env.write(k, &env.read(k).replace("  - ../../../outside\n", ""));
    std::os::unix::fs::symlink(
        env.join("outside"),
        env.join("p/services/ingress-nginx/linked"),
    )
    .expect("ln");
    let out = env.run(&["validate", "p"]);
    assert!(out.starts_with("exit: 1"), "{out}");
    assert!(
        out.contains("`services/ingress-nginx/linked` resolves to")
            && out.contains("outside the platform"),
        "{out}"
    );
}

/// Regression for issue 16.2: a hand-written `generated/zz_extra.tf` passed `generate --check`
/// ("up to date") and was applied. Anything in the output Plinth did not write is an error.
#[test]
fn regression_16_2_generate_check_refuses_files_plinth_did_not_write() {
    let env = TestEnv::new();
    env.run_ok(&["init", "p", "--example", "minimal"]);
    env.run_ok(&["generate", "p"]);
    env.write(
        "p/generated/zz_extra.tf",
        "resource \"terraform_data\" \"x\" {}\n",
    );
    env.write("p/generated/local_override.tf", "# a local adjustment\n");
    for args in [vec!["generate", "p", "--check"], vec!["generate", "p"]] {
        let out = env.run(&args);
        assert!(out.starts_with("exit: 1"), "{args:?}:\n{out}");
        assert!(out.contains("`zz_extra.tf`"), "{args:?}:\n{out}");
        assert!(!out.contains("local_override.tf"), "{args:?}:\n{out}");
    }
}

/// Regression for issue 16.3: a hand edit of a generated file that kept its size and
/// modification time (`touch -d`) was trusted from the manifest of the last write, and
/// `generate --check` said "up to date". Files are known by their content.
#[test]
fn regression_16_3_a_hand_edit_with_the_same_size_and_time_is_seen() {
    let env = TestEnv::new();
    env.run_ok(&["init", "p", "--example", "minimal"]);
    env.run_ok(&["generate", "p"]);
    let f = env.join("p/generated/eks_zero.tf");
    let before = std::fs::metadata(&f).expect("meta");
    let text = std::fs::read_to_string(&f).expect("read");
    let edited = text.replacen("max_size", "max_sizf", 1);
    assert_eq!(edited.len(), text.len());
    std::fs::write(&f, &edited).expect("write");
    std::fs::File::options()
        .write(true)
        .open(&f)
        .and_then(|h| h.set_modified(before.modified()?))
        .expect("touch -d");
    let out = env.run(&["generate", "p", "--check"]);
    assert!(out.starts_with("exit: 3"), "{out}");
    assert!(out.contains("-") && out.contains("max_sizf"), "{out}");
    let out = env.run(&["generate", "p"]);
    assert!(
        out.starts_with("exit: 1") && out.contains("changed by hand"),
        "{out}"
    );
}

/// Regression for issue 16.6: two `generate`s into one fresh output directory shared one
/// staging path: some runs left a mix of both trees, or nothing, with exit 0. Each run now
/// stages under its own name and takes the output's lock: the result is one whole tree.
#[test]
fn regression_16_6_concurrent_generates_into_a_fresh_output_leave_one_tree() {
    let env = TestEnv::new();
    env.run_ok(&["init", "a", "--example", "minimal"]);
    env.run_ok(&["init", "b", "--example", "node-pools"]);
    env.run_ok(&["generate", "a", "--out", "ref-a"]);
    env.run_ok(&["generate", "b", "--out", "ref-b"]);
    let listing = |dir: &std::path::Path| -> Vec<(String, Vec<u8>)> {
        let mut files = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).expect("ls").flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    let rel = p.strip_prefix(dir).expect("rel").display().to_string();
                    files.push((rel, std::fs::read(&p).expect("read")));
                }
            }
        }
        files.sort();
        files
    };
    let (ref_a, ref_b) = (listing(&env.join("ref-a")), listing(&env.join("ref-b")));
    for round in 0..12 {
        let out = format!("out{round}");
        let children: Vec<_> = ["a", "b"]
            .iter()
            .map(|p| {
                env.std_cmd()
                    .args(["generate", p, "--out", &out])
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .expect("spawn")
            })
            .collect();
        let codes: Vec<Option<i32>> = children
            .into_iter()
            .map(|c| c.wait_with_output().expect("wait").status.code())
            .collect();
        let got = listing(&env.join(&out));
        // One whole tree: the one written last; the other run wrote the same output first, or
        // failed loudly (its files would be the other platform's, Plinth's own, not foreign).
        assert!(
            got == ref_a || got == ref_b,
            "round {round}: a mix of both trees (exit codes {codes:?})"
        );
        assert!(codes.contains(&Some(0)), "round {round}: {codes:?}");
        let stray: Vec<_> = std::fs::read_dir(env.path())
            .expect("ls")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("plinth-staging") || n.contains("plinth-linked"))
            .collect();
        assert!(stray.is_empty(), "round {round}: {stray:?}");
    }
}

/// Terraform's working files committed in the output (a state, a plugin directory) would be
/// read by Terraform without being generated or hashed: `apply` refuses them before anything
/// runs. The provider lock file is meant to be committed.
#[test]
fn committed_terraform_working_files_are_refused() {
    let env = TestEnv::new();
    let dir = platform(&env);
    env.run_ok(&["generate", "p"]);
    env.write(
        "p/generated/terraform.tfstate.d/ops/terraform.tfstate",
        "{\"version\": 4}\n",
    );
    env.write("p/generated/.terraform.lock.hcl", "# providers\n");
    git(&dir, &["add", "-f", "-A"]);
    git(&dir, &["commit", "-q", "-m", "p"]);
    let out = env.run(&["apply", "p", "--env", "ops"]);
    assert!(out.starts_with("exit: 1"), "{out}");
    assert!(
        out.contains("Terraform's working files are committed")
            && out.contains("terraform.tfstate.d/ops/")
            && !out.contains(".terraform.lock.hcl`"),
        "{out}"
    );
}
