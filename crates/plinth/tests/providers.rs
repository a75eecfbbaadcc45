//! Generated Terraform against the real provider schemas (aws 5.100.0, google 6.50.0,
//! azurerm 4.51.0, tehcyx/kind 0.11.0): statically with `tfcheck`, and dynamically with real
//! `terraform` through provider doubles that serve those schemas.

mod common;

use common::{TestEnv, engines, fixtures};
use std::path::{Path, PathBuf};

fn schemas() -> tfcheck::Schemas {
    let files = engines::schema_files();
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    tfcheck::Schemas::load(&refs).expect("provider schemas")
}

/// `tfcheck`'s errors for a generated root.
fn schema_errors(root: &Path, schemas: &tfcheck::Schemas) -> Vec<String> {
    tfcheck::check_dir(root, schemas)
        .expect("parse generated code")
        .iter()
        .filter(|p| p.is_error())
        .map(ToString::to_string)
        .collect()
}

/// A private mirror with the google, azurerm and kind doubles.
fn doubles_mirror(env: &TestEnv) -> tf_double::Mirror {
    tf_double::Mirror::builder()
        .schemas_dir(engines::schemas_dir())
        .doubles(&[tf_double::GOOGLE, tf_double::AZURERM, tf_double::KIND])
        .create(&env.join("mirror"))
        .expect("provider double mirror")
}

/// Platforms covering every provider, node pools with taints, GPUs, arm64 and spot, and three
/// environments.
fn platforms(env: &TestEnv) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for example in [
        "minimal",
        "node-pools",
        "multi-cloud",
        "environments",
        "kind",
    ] {
        env.run_ok(&["init", example, "--example", example]);
        out.push((example.to_string(), env.join(example)));
    }
    out.push((
        "doubles".into(),
        env.copy_fixture(&fixtures().join("platforms/doubles"), "doubles"),
    ));
    out
}

#[test]
fn generated_code_matches_the_real_provider_schemas() {
    let schemas = schemas();
    let env = TestEnv::new();
    for (name, dir) in platforms(&env) {
        for state in ["platform", "cluster"] {
            if state == "cluster" {
                let f = dir.join("plinth.toml");
                let text = std::fs::read_to_string(&f).expect("read").replacen(
                    "[platform]\n",
                    "[platform]\nstate = \"cluster\"\n",
                    1,
                );
                std::fs::write(&f, text).expect("write");
            }
            env.run_ok(&["generate", dir.to_str().expect("utf8")]);
            let out = dir.join("generated");
            let roots: Vec<PathBuf> = if state == "platform" {
                vec![out.clone()]
            } else {
                std::fs::read_dir(&out)
                    .expect("ls")
                    .map(|e| e.expect("e").path())
                    .filter(|p| p.is_dir() && !p.ends_with("modules"))
                    .collect()
            };
            for root in roots {
                let errors = schema_errors(&root, &schemas);
                assert!(
                    errors.is_empty(),
                    "{name} ({state} state), {}:\n{}",
                    root.display(),
                    errors.join("\n")
                );
            }
        }
    }
}

/// Terraform in `dir` through the doubles' mirror: its exit code and everything it said.
fn terraform_in(mirror: &tf_double::Mirror, dir: &Path, args: &[&str]) -> (i32, String) {
    let o = mirror
        .terraform(dir)
        .args(args)
        .arg("-no-color")
        .output()
        .expect("terraform");
    (
        o.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

/// GKE, AKS and kind through provider doubles: init, validate, then in every environment's
/// workspace plan, apply, and a second plan with no changes.
#[test]
fn gke_aks_and_kind_apply_through_provider_doubles() {
    let Some(_) = engines::require("terraform", engines::terraform()) else {
        return;
    };
    let env = TestEnv::new();
    let dir = env.copy_fixture(&fixtures().join("platforms/doubles"), "doubles");
    env.run_ok(&["generate", "doubles"]);
    let out = dir.join("generated");
    let mirror = doubles_mirror(&env);
    let run = |args: &[&str]| terraform_in(&mirror, &out, args);
    let ok = |args: &[&str]| {
        let (code, text) = run(args);
        assert_eq!(code, 0, "terraform {args:?}:\n{text}");
        text
    };
    ok(&["init"]);
    assert!(ok(&["validate"]).contains("The configuration is valid"));
    for ws in ["ops", "apps", "apps-prod"] {
        ok(&["workspace", "new", ws]);
        let (code, plan) = run(&["plan", "-detailed-exitcode"]);
        assert_eq!(code, 2, "{ws}: first plan should have changes:\n{plan}");
        for want in [
            "google_container_cluster.current",
            "google_container_node_pool",
            "azurerm_kubernetes_cluster.current",
            "azurerm_kubernetes_cluster_node_pool",
            "kind_cluster.current",
        ] {
            assert!(plan.contains(want), "{ws}: plan lacks {want}:\n{plan}");
        }
        ok(&["apply", "-auto-approve"]);
        let (code, again) = run(&["plan", "-detailed-exitcode"]);
        assert_eq!(
            code, 0,
            "{ws}: the second plan must show no changes:\n{again}"
        );
    }
}

/// Issue 18: the network shapes that adopt a Kubestack cluster's network (`network_mode =
/// "auto"` on GKE, `network_layout` on AKS) match the real provider schemas and plan through
/// the provider doubles: Kubestack's auto-mode VPC with no subnetwork of Plinth's, no virtual
/// network at all where AKS manages it, Kubestack's legacy names, and Plinth's own shapes
/// beside them unchanged.
#[test]
fn kubestack_network_shapes_match_the_schemas_and_plan_through_provider_doubles() {
    let Some(_) = engines::require("terraform", engines::terraform()) else {
        return;
    };
    let env = TestEnv::new();
    let dir = env.copy_fixture(&fixtures().join("platforms/doubles"), "doubles");
    for (cluster, key) in [
        ("gke_zero", "network_mode = \"auto\""),
        ("aks_zero", "network_layout = \"managed\""),
        ("aks_private", "network_layout = \"kubestack-legacy\""),
    ] {
        let f = dir.join(format!("clusters/{cluster}.toml"));
        let text = std::fs::read_to_string(&f).expect("read").replacen(
            "[config.apps-prod]\n",
            &format!("[config.apps-prod]\n{key}\n"),
            1,
        );
        std::fs::write(&f, text).expect("write");
    }
    env.run_ok(&["generate", "doubles"]);
    let out = dir.join("generated");
    let errors = schema_errors(&out, &schemas());
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let mirror = doubles_mirror(&env);
    let tf = |args: &[&str]| -> String {
        let (code, text) = terraform_in(&mirror, &out, args);
        assert_eq!(code, 0, "terraform {args:?}:\n{text}");
        text
    };
    tf(&["init"]);
    tf(&["workspace", "new", "ops"]);
    tf(&["plan", "-out=ops.tfplan"]);
    let plan: serde_json::Value = serde_json::from_str(
        tf(&["show", "-json", "ops.tfplan"])
            .lines()
            .next()
            .unwrap_or_default(),
    )
    .expect("plan json");
    let changes = plan["resource_changes"]
        .as_array()
        .expect("resource_changes");
    let after = |address: &str| -> Option<&serde_json::Value> {
        changes
            .iter()
            .find(|c| c["address"] == address)
            .map(|c| &c["change"]["after"])
    };
    let gke = "module.gke_zero";
    assert_eq!(
        after(&format!("{gke}.google_compute_network.current")).expect("network")["auto_create_subnetworks"],
        true
    );
    assert!(after(&format!("{gke}.google_compute_subnetwork.current[0]")).is_none());
    // The custom-mode cluster beside it keeps Plinth's network and subnetwork.
    assert_eq!(
        after("module.gke_dpv2.google_compute_network.current").expect("network")["auto_create_subnetworks"],
        false
    );
    assert!(after("module.gke_dpv2.google_compute_subnetwork.current[0]").is_some());
    let aks = "module.aks_zero";
    assert!(after(&format!("{aks}.azurerm_virtual_network.current[0]")).is_none());
    assert!(after(&format!("{aks}.azurerm_subnet.nodes[0]")).is_none());
    assert!(after(&format!("{aks}.azurerm_role_assignment.subnet[0]")).is_none());
    assert_eq!(
        after(&format!("{aks}.azurerm_kubernetes_cluster.current")).expect("cluster")["default_node_pool"]
            [0]["vnet_subnet_id"],
        serde_json::Value::Null
    );
    let legacy = "module.aks_private";
    assert_eq!(
        after(&format!("{legacy}.azurerm_virtual_network.current[0]")).expect("vnet")["name"],
        "vnet-aks-ops-cluster"
    );
    assert_eq!(
        after(&format!("{legacy}.azurerm_subnet.nodes[0]")).expect("subnet")["name"],
        "aks-node-subnet"
    );
    assert_eq!(
        after("module.aks_entra.azurerm_subnet.nodes[0]").expect("subnet")["name"],
        "entra-ops-northeurope-nodes"
    );
}
