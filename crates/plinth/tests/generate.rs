//! `plinth generate`: the generated tree is deterministic, formatted exactly as `terraform fmt`
//! would, valid for the real aws provider, and applies against an AWS API double.

mod common;

use common::{TestEnv, engines};
use std::path::Path;

const EXAMPLES: &[&str] = &["minimal", "node-pools", "multi-cloud", "environments"];

/// Every generated file's content, keyed by path.
fn read_tree(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("ls")
            .map(|e| e.expect("e"))
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = e.file_name().to_string_lossy().into_owned();
            // Terraform's working files.
            if name.starts_with(".terraform") || name == "terraform.tfstate.d" {
                continue;
            }
            if e.path().is_dir() {
                walk(root, &e.path(), out);
            } else {
                let rel = e
                    .path()
                    .strip_prefix(root)
                    .expect("rel")
                    .to_string_lossy()
                    .into_owned();
                out.push((rel, std::fs::read_to_string(e.path()).unwrap_or_default()));
            }
        }
    }
    walk(dir, dir, &mut out);
    out
}

fn generate(env: &TestEnv, example: &str) -> std::path::PathBuf {
    env.run_ok(&["init", "p", "--example", example, "--name", "demo"]);
    env.run_ok(&["generate", "p"]);
    env.join("p/generated")
}

/// The roots of each example, as reviewed snapshots (modules are source files of their own).
#[test]
fn generated_roots_are_snapshotted() {
    for example in EXAMPLES {
        let env = TestEnv::new();
        let out = generate(&env, example);
        let roots: String = read_tree(&out)
            .into_iter()
            .filter(|(p, _)| !p.starts_with("modules/"))
            .map(|(p, c)| format!("==> {p} <==\n{c}\n"))
            .collect();
        insta::assert_snapshot!(format!("roots_{example}"), roots);
    }
}

#[test]
fn output_is_deterministic_and_check_detects_drift() {
    let env = TestEnv::new();
    let out = generate(&env, "node-pools");
    let first = read_tree(&out);
    // Generating again writes nothing and changes nothing.
    let again = env.run(&["generate", "p"]);
    assert!(again.contains("is up to date"), "{again}");
    assert_eq!(first, read_tree(&out));
    assert!(
        env.run(&["generate", "p", "--check"])
            .starts_with("exit: 0")
    );

    // A definition change makes --check fail with a diff, without writing.
    let f = env.join("p/clusters/eks_zero.toml");
    let text = std::fs::read_to_string(&f)
        .expect("read")
        .replace("max_size = 12", "max_size = 15");
    std::fs::write(&f, text).expect("write");
    let out_check = env.run(&["generate", "p", "--check"]);
    assert!(out_check.starts_with("exit: 3"), "{out_check}");
    assert!(
        out_check.contains("-            max_size = 12\n+            max_size = 15"),
        "{out_check}"
    );
    assert_eq!(first, read_tree(&out), "--check wrote files");
}

#[test]
fn hand_edited_files_are_never_overwritten_silently() {
    let env = TestEnv::new();
    let out = generate(&env, "minimal");
    let f = out.join("eks_zero.tf");
    let edited = std::fs::read_to_string(&f)
        .expect("read")
        .replace("max_size", "max_size ");
    std::fs::write(&f, &edited).expect("write");
    let res = env.run(&["generate", "p"]);
    assert!(
        res.starts_with("exit: 1") && res.contains("eks_zero.tf"),
        "{res}"
    );
    assert_eq!(std::fs::read_to_string(&f).expect("read"), edited);
    let res = env.run(&["generate", "p", "--force"]);
    assert!(
        res.starts_with("exit: 0") && res.contains("moved `eks_zero.tf` out of the output"),
        "{res}"
    );
    // Regression for issue 19: the backup is outside the output tree (not a git repository
    // here: beside it), so `generate --check` passes right after `--force`.
    let backups = env.join("p/.plinth-backups");
    let kept: Vec<_> = std::fs::read_dir(&backups)
        .expect("backups")
        .map(|e| e.expect("e").path().join("eks_zero.tf"))
        .collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(std::fs::read_to_string(&kept[0]).expect("read"), edited);
    assert!(!out.join("eks_zero.tf.orig").exists());
    let check = env.run(&["generate", "p", "--check"]);
    assert!(check.starts_with("exit: 0"), "{check}");
}

#[test]
fn per_cluster_state_gives_one_root_per_cluster() {
    let env = TestEnv::new();
    env.run_ok(&["init", "p", "--example", "multi-cloud", "--name", "demo"]);
    let f = env.join("p/plinth.toml");
    let text = std::fs::read_to_string(&f).expect("read").replace(
        "[platform]\n",
        "[platform]\nstate = \"cluster\"\nbackend = { type = \"s3\", bucket = \"acme-state\", key = \"platform.tfstate\", region = \"eu-west-1\" }\n",
    );
    std::fs::write(&f, text).expect("write");
    env.run_ok(&["generate", "p"]);
    let tree = read_tree(&env.join("p/generated"));
    let roots: Vec<&str> = tree
        .iter()
        .filter(|(p, _)| p.ends_with("/versions.tf") && !p.starts_with("modules/"))
        .map(|(p, _)| p.as_str())
        .collect();
    assert_eq!(
        roots,
        [
            "aks_zero/versions.tf",
            "eks_zero/versions.tf",
            "gke_zero/versions.tf"
        ]
    );
    let eks = &tree
        .iter()
        .find(|(p, _)| p == "eks_zero/versions.tf")
        .expect("eks")
        .1;
    assert!(
        eks.contains(r#"key    = "eks_zero/platform.tfstate""#),
        "{eks}"
    );
    assert!(
        eks.contains("hashicorp/aws") && !eks.contains("hashicorp/google"),
        "only its own provider:\n{eks}"
    );
    let module = &tree
        .iter()
        .find(|(p, _)| p == "eks_zero/eks_zero.tf")
        .expect("module")
        .1;
    assert!(module.contains(r#"source = "../modules/eks""#), "{module}");
}

/// Every generated file is byte-identical to `terraform fmt` of itself.
#[test]
fn output_is_terraform_fmt_clean() {
    let Some(tf) = engines::require("terraform", engines::terraform()) else {
        return;
    };
    for example in EXAMPLES {
        let env = TestEnv::new();
        let out = generate(&env, example);
        for (path, content) in read_tree(&out)
            .into_iter()
            .filter(|(p, _)| p.ends_with(".tf"))
        {
            assert_eq!(
                engines::fmt(&tf, &content),
                content,
                "{example}: {path} is not `terraform fmt` output"
            );
        }
        let status = std::process::Command::new(&tf)
            .args(["fmt", "-check", "-recursive"])
            .current_dir(&out)
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_CLI_CONFIG_FILE", "/dev/null")
            .status()
            .expect("fmt");
        assert!(
            status.success(),
            "{example}: terraform fmt -check -recursive"
        );
    }
}

/// EKS output passes `terraform init && terraform validate` with the real aws provider.
#[test]
fn eks_output_validates_with_the_real_aws_provider() {
    let env = TestEnv::new();
    let Some(tf) = engines::require(
        "terraform and the real aws provider mirror (tf-plugins)",
        engines::Terraform::new(env.path()),
    ) else {
        return;
    };
    for example in ["minimal", "node-pools", "environments"] {
        env.run_ok(&["init", example, "--example", example]);
        env.run_ok(&["generate", example]);
        let out = env.join(&format!("{example}/generated"));
        tf.run(&out, &["init", "-backend=false"]);
        let v = tf.run(&out, &["validate"]);
        assert!(v.contains("The configuration is valid"), "{example}: {v}");
    }
}

/// Real `terraform apply` against moto creates the VPC, IAM roles, cluster and node groups,
/// in `ops` then `apps`; a second plan changes nothing Plinth generated. The examples run at
/// once (each has its own directory and moto): most of each one's time is waiting on moto.
#[test]
fn eks_applies_against_moto_in_every_environment() {
    std::thread::scope(|scope| {
        let runs: Vec<_> = ["minimal", "node-pools"]
            .map(|example| scope.spawn(move || eks_applies_against_moto(example)))
            .into_iter()
            .collect();
        for run in runs {
            if let Err(panic) = run.join() {
                std::panic::resume_unwind(panic);
            }
        }
    });
}

fn eks_applies_against_moto(example: &str) {
    let env = TestEnv::new();
    let Some(tf) = engines::require(
        "terraform and the real aws provider mirror (tf-plugins)",
        engines::Terraform::new(env.path()),
    ) else {
        return;
    };
    env.run_ok(&["init", "p", "--example", example]);
    env.run_ok(&["generate", "p"]);
    let out = env.join("p/generated");
    for ws in ["ops", "apps"] {
        // A fresh AWS double per environment: moto gives every cluster of a process the
        // same OIDC issuer, where real EKS issuers are per cluster.
        let Some(moto) = engines::require(
            "moto_server (pip install 'moto[server]')",
            engines::Moto::start(),
        ) else {
            return;
        };
        std::fs::write(
            out.join("moto_override.tf"),
            moto.override_for(&["eks_zero"]),
        )
        .expect("override");
        if ws == "ops" {
            tf.run(&out, &["init"]);
        }
        tf.run(&out, &["workspace", "select", "-or-create", ws]);
        let applied = tf.run(&out, &["apply", "-auto-approve"]);
        assert!(applied.contains("Apply complete!"), "{applied}");
        let state = tf.run(&out, &["state", "list"]);
        for want in [
            "module.eks_zero.aws_vpc.current",
            "module.eks_zero.aws_eks_cluster.current",
            "module.eks_zero.aws_iam_role.master",
            "module.eks_zero.aws_iam_role.node",
            "module.eks_zero.module.node_pool[\"default\"].aws_eks_node_group.pool",
        ] {
            assert!(
                state.contains(want),
                "{example}/{ws}: {want} missing from\n{state}"
            );
        }
        let name = tf.run(&out, &["output", "-json", "eks_zero"]);
        let v: serde_json::Value = serde_json::from_str(&name).expect("output json");
        assert_eq!(v["name"], format!("kbst-{ws}-eu-west-1"));
        // A second plan: nothing Plinth generated changes. moto's fidelity gaps show, and
        // only they may differ: it invents a `remote_access` block on node groups
        // (engines.md), returns no `access_config` for clusters, and lists a launch
        // template's own tags as one of its tag specifications.
        let plan = tf.run(&out, &["plan", "-out=second.tfplan"]);
        let json = tf.run(&out, &["show", "-json", "second.tfplan"]);
        let plan_json: serde_json::Value = serde_json::from_str(&json).expect("plan json");
        for rc in plan_json["resource_changes"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let actions = &rc["change"]["actions"];
            if actions == &serde_json::json!(["no-op"]) {
                continue;
            }
            let addr = rc["address"].as_str().unwrap_or_default();
            // The kustomization provider double reads nothing from a cluster: service
            // resources are out of scope for this check. Data sources are read again.
            if addr.starts_with("module.eks_zero_services") || rc["mode"] == "data" {
                continue;
            }
            let gaps: &[&str] = if addr.ends_with("aws_eks_cluster.current") {
                &["access_config"]
            } else if addr.ends_with("aws_launch_template.pool[0]") {
                &["tag_specifications", "latest_version"]
            } else {
                assert!(
                    addr.ends_with("aws_eks_node_group.pool"),
                    "{example}/{ws}: unexpected change to {addr}:\n{plan}"
                );
                &[]
            };
            if !gaps.is_empty() {
                let (before, after) = (&rc["change"]["before"], &rc["change"]["after"]);
                for (key, value) in after.as_object().into_iter().flatten() {
                    if !gaps.contains(&key.as_str()) && !value.is_null() {
                        assert_eq!(&before[key], value, "{example}/{ws}: {addr}.{key} changed");
                    }
                }
                continue;
            }
            let before = &rc["change"]["before"];
            let after = &rc["change"]["after"];
            for key in [
                "instance_types",
                "ami_type",
                "labels",
                "taint",
                "scaling_config",
                "subnet_ids",
                "node_group_name",
                "disk_size",
            ] {
                if after.get(key).is_some_and(|v| !v.is_null()) {
                    assert_eq!(
                        before[key], after[key],
                        "{example}/{ws}: {addr}.{key} changed"
                    );
                }
            }
        }
    }
    if example == "node-pools" {
        let state = tf.run(
            &out,
            &[
                "state",
                "show",
                "module.eks_zero.module.node_pool[\"prod\"].aws_eks_node_group.pool",
            ],
        );
        assert!(
            state.contains("NO_SCHEDULE") && state.contains("workload-stage"),
            "taint applied:\n{state}"
        );
        assert!(
            state.contains("AL2023_ARM_64_STANDARD"),
            "arm64 AMI for Graviton:\n{state}"
        );
    }
}
