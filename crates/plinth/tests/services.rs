//! Platform services: overlays per cluster and environment, rendered by the real
//! `kubectl kustomize` and checked against the Kubernetes schemas in strict mode; the
//! platform/application boundary lint; the catalog; Helm sources.

mod common;

use common::{TestEnv, engines, fixtures};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Every overlay directory under `out/services`.
fn overlays(out: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for c in std::fs::read_dir(out.join("services"))
        .expect("services")
        .flatten()
    {
        for e in std::fs::read_dir(c.path()).expect("envs").flatten() {
            for s in std::fs::read_dir(e.path()).expect("svcs").flatten() {
                dirs.push(s.path());
            }
        }
    }
    dirs.sort();
    dirs
}

fn kubectl() -> Option<PathBuf> {
    engines::kubectl()
}

fn kustomize(kubectl: &Path, dir: &Path) -> String {
    let out = std::process::Command::new(kubectl)
        .arg("kustomize")
        .arg(dir)
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .output()
        .expect("kubectl");
    assert!(
        out.status.success(),
        "kubectl kustomize {}:\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf8")
}

/// `kubernetes-validate --strict` of rendered manifests (PyPI; installed by CI).
fn validate_strict(tool: &Path, manifests: &str, scratch: &Path, name: &str) {
    let file = scratch.join(format!("{name}.yaml"));
    std::fs::write(&file, manifests).expect("write");
    let out = std::process::Command::new(tool)
        .args(["--strict", "-k", "1.32.0", "--quiet"])
        .arg(&file)
        .output()
        .expect("kubernetes-validate");
    assert!(
        out.status.success(),
        "{name} fails strict schema validation:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_example_overlay_renders_and_passes_strict_schemas() {
    let Some(kubectl) = engines::require("kubectl (kustomize)", kubectl()) else {
        return;
    };
    let validator = engines::require(
        "kubernetes-validate (pip install kubernetes-validate)",
        engines::which("kubernetes-validate"),
    );
    for example in [
        "minimal",
        "node-pools",
        "multi-cloud",
        "environments",
        "kind",
    ] {
        let env = TestEnv::new();
        env.run_ok(&["init", "p", "--example", example]);
        env.run_ok(&["generate", "p"]);
        let dirs = overlays(&env.join("p/generated"));
        let clusters = if example == "multi-cloud" { 3 } else { 1 };
        let envs = if example == "environments" { 3 } else { 2 };
        assert_eq!(
            dirs.len(),
            clusters * envs * 2,
            "{example}: one overlay per cluster, environment and service"
        );
        for dir in dirs {
            let manifests = kustomize(&kubectl, &dir);
            let rel = dir
                .strip_prefix(env.join("p/generated"))
                .expect("rel")
                .display()
                .to_string();
            let environment = rel
                .split('/')
                .nth(2)
                .expect("services/<cluster>/<env>/<service>");
            // The cluster's metadata labels are on every resource.
            let kinds = manifests.matches("\nkind: ").count()
                + usize::from(manifests.starts_with("kind: "));
            let labelled = manifests
                .matches(&format!("cluster_workspace: {environment}"))
                .count();
            assert!(
                kinds > 0 && labelled >= kinds,
                "{example} {rel}: {labelled} of {kinds} resources carry the workspace label"
            );
            assert!(manifests.contains("_provider_name: "), "{rel}");
            if let Some(v) = &validator {
                validate_strict(v, &manifests, env.path(), &rel.replace('/', "_"));
            }
        }
    }
}

#[test]
fn per_environment_service_settings() {
    let env = TestEnv::new();
    env.copy_fixture(&fixtures().join("platforms/services"), "p");
    env.run_ok(&["generate", "p"]);
    let out = env.join("p/generated/services/eks_zero");
    let mut all = String::new();
    for e in ["ops", "apps", "apps-prod"] {
        let dir = out.join(e).join("metrics");
        let mut files: Vec<PathBuf> = walk(&dir);
        files.sort();
        for f in files {
            all.push_str(&format!(
                "==> {e}/{} <==\n{}\n",
                f.strip_prefix(&dir).expect("rel").display(),
                std::fs::read_to_string(&f).expect("read")
            ));
        }
    }
    insta::assert_snapshot!(all);

    let Some(kubectl) = engines::require("kubectl (kustomize)", kubectl()) else {
        return;
    };
    let ops = kustomize(&kubectl, &out.join("ops/metrics"));
    assert!(
        ops.contains("metrics-agent@sha256:0000")
            && ops.contains("replicas: 1")
            && ops.contains("name: metrics-agent-canary"),
        "{ops}"
    );
    assert!(
        ops.contains("--log-level=debug") && !ops.contains("cpu: 50m"),
        "ops replaces the patch list:\n{ops}"
    );
    let apps = kustomize(&kubectl, &out.join("apps/metrics"));
    assert!(
        apps.contains("metrics-agent:2.5.0-rc.1")
            && apps.contains("replicas: 2")
            && apps.contains("cpu: 50m")
            && apps.contains("--scrape-interval=15s"),
        "{apps}"
    );
    let prod = kustomize(&kubectl, &out.join("apps-prod/metrics"));
    assert!(
        prod.contains("metrics-agent:2.4.1")
            && prod.contains("replicas: 3")
            && prod.contains("name: platform-agents")
            && prod.contains("example.com/owner: platform-team")
            && prod.contains("team: platform"),
        "{prod}"
    );
    if let Some(v) = engines::require("kubernetes-validate", engines::which("kubernetes-validate"))
    {
        for (name, m) in [("ops", &ops), ("apps", &apps), ("prod", &prod)] {
            validate_strict(&v, m, env.path(), name);
        }
    }
    // `plinth render` shows the same manifests.
    let rendered = env.run_ok(&["render", "p", "--env", "apps", "--service", "metrics"]);
    assert!(rendered.contains("metrics-agent:2.5.0-rc.1"), "{rendered}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("ls").flatten() {
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

#[test]
fn the_boundary_lint_fires_on_application_workloads_only() {
    let env = TestEnv::new();
    env.copy_fixture(&fixtures().join("platforms/app-workloads"), "p");
    insta::assert_snapshot!(env.run(&["validate", "p"]));
    let json: serde_json::Value =
        serde_json::from_str(&env.run_ok(&["validate", "p", "--output", "json"])).expect("json");
    let codes: Vec<(&str, &str)> = json["diagnostics"]
        .as_array()
        .expect("list")
        .iter()
        .map(|d| {
            (
                d["code"].as_str().expect("code"),
                d["file"].as_str().expect("file"),
            )
        })
        .collect();
    assert_eq!(
        codes,
        [
            ("application-workload", "services/mesh/routes.yaml"),
            ("application-workload", "services/storefront/app.yaml"),
            ("application-workload", "services/storefront/app.yaml"),
        ]
    );
    // The example platforms' services (ingress controller, cert-manager) are platform plumbing.
    for example in ["minimal", "multi-cloud"] {
        env.run_ok(&["init", example, "--example", example]);
        let out = env.run(&["validate", example]);
        assert!(out.contains("0 warnings"), "{out}");
    }
}

#[test]
fn catalog_and_adding_services() {
    let env = TestEnv::new();
    insta::assert_snapshot!("catalog_list", env.run(&["catalog", "list"]));
    insta::assert_snapshot!("catalog_show", env.run(&["catalog", "show", "kyverno"]));
    insta::assert_snapshot!("catalog_unknown", env.run(&["catalog", "show", "kyvero"]));
    env.run_ok(&["init", "p"]);
    env.run_ok(&[
        "add",
        "service",
        "kyverno",
        "--cluster",
        "eks_zero",
        "--dir",
        "p",
    ]);
    env.run_ok(&[
        "add",
        "service",
        "fluent-bit",
        "--cluster",
        "eks_zero",
        "--dir",
        "p",
    ]);
    let text = env.read("p/clusters/eks_zero.toml");
    assert!(
        text.contains("# kyverno v1.13.2 from Plinth's catalog"),
        "{text}"
    );
    assert!(text.contains(r#"source = { url = "https://github.com/kyverno/kyverno/releases/download/v1.13.2/install.yaml", ref = "v1.13.2" }"#), "{text}");
    env.run_ok(&["generate", "p"]);
    let k = env.read("p/generated/services/eks_zero/ops/kyverno/kustomization.yaml");
    assert!(
        k.contains(
            r#"  - "https://github.com/kyverno/kyverno/releases/download/v1.13.2/install.yaml""#
        ),
        "{k}"
    );
    let helm = env.read("p/generated/services/eks_zero/apps/fluent-bit/kustomization.yaml");
    insta::assert_snapshot!("helm_kustomization", helm);
    let tf = env.read("p/generated/eks_zero.tf");
    assert!(
        tf.contains("fluent-bit = {\n      helm = true\n    }"),
        "{tf}"
    );
    // Not in the catalog and no kind, a missing local base, an unpinned remote: refused.
    insta::assert_snapshot!(
        "add_unknown",
        env.run(&[
            "add",
            "service",
            "mystery",
            "--cluster",
            "eks_zero",
            "--dir",
            "p"
        ])
    );
    insta::assert_snapshot!(
        "add_missing_base",
        env.run(&[
            "add",
            "service",
            "policies",
            "--cluster",
            "eks_zero",
            "--kind",
            "policy",
            "--source",
            "services/policies",
            "--dir",
            "p"
        ])
    );
    insta::assert_snapshot!(
        "add_unpinned",
        env.run(&[
            "add",
            "service",
            "x",
            "--cluster",
            "eks_zero",
            "--kind",
            "other",
            "--source",
            "https://example.com/x",
            "--dir",
            "p"
        ])
    );
    env.run_ok(&[
        "remove",
        "service",
        "fluent-bit",
        "--cluster",
        "eks_zero",
        "p",
    ]);
    assert!(!env.read("p/clusters/eks_zero.toml").contains("fluent-bit"));
}

#[test]
fn helm_sources_render_only_where_helm_exists() {
    let env = TestEnv::new();
    env.run_ok(&["init", "p"]);
    env.run_ok(&[
        "add",
        "service",
        "external-dns",
        "--cluster",
        "eks_zero",
        "--dir",
        "p",
    ]);
    env.run_ok(&["generate", "p"]);
    let out = env.run(&["render", "p", "--env", "ops", "--service", "external-dns"]);
    if engines::which("helm").is_none() {
        assert!(
            out.starts_with("exit: 4") && out.contains("needs `helm` on PATH"),
            "{out}"
        );
        // Not an engine the tests require: the clear error is the check where helm is absent.
        let _ = writeln!(
            std::io::stderr(),
            "\n=== SKIPPED rendering a Helm chart: `helm` is not installed (checked the clear error instead) ===\n"
        );
    } else {
        // Where helm exists (and the chart repository is reachable) the chart renders.
        assert!(
            out.starts_with("exit: 0") && out.contains("kind: Deployment"),
            "{out}"
        );
    }
}

#[test]
fn service_paths_cannot_leave_the_platform() {
    let env = TestEnv::new();
    env.run_ok(&["init", "p"]);
    std::fs::create_dir_all(env.join("outside")).expect("mkdir");
    std::fs::write(env.join("outside/kustomization.yaml"), "resources: []\n").expect("write");
    std::os::unix::fs::symlink(env.join("outside"), env.join("p/services/sneaky"))
        .expect("symlink");
    let f = env.join("p/clusters/eks_zero.toml");
    let mut text = std::fs::read_to_string(&f).expect("read");
    text.push_str("\n[services.escape]\nkind = \"other\"\nsource = { path = \"../outside\" }\n\n[services.sneaky]\nkind = \"other\"\nsource = { path = \"services/sneaky\" }\n");
    std::fs::write(&f, text).expect("write");
    insta::assert_snapshot!(env.run(&["validate", "p"]));
}
