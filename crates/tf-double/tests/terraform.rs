//! End to end: the real `terraform` CLI (on PATH) runs init → validate → workspace new →
//! plan → apply → plan (no changes) against the provider double, installed as hashicorp/google,
//! hashicorp/azurerm and tehcyx/kind in a private mirror, each test in its own temp dir.
//!
//! A missing `terraform` fails these tests with a message saying so: they never pass silently.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Instant;

use serde_json::Value;
use tf_double::{
    AZURERM, GOOGLE, KIND, Mirror, ProviderAddr, real_plugins_dir, required_providers,
    terraform_binary,
};

const DOUBLE: &str = env!("CARGO_BIN_EXE_terraform-provider-double");

/// A terraform working directory with its own mirror, removed when dropped.
struct Work {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    mirror: Mirror,
}

fn work(providers: &[ProviderAddr<'_>], main_tf: &str) -> Work {
    if let Err(e) = terraform_binary() {
        panic!("{e}");
    }
    work_with(
        Mirror::builder().binary(DOUBLE).doubles(providers),
        providers,
        main_tf,
    )
}

fn work_with(
    builder: tf_double::MirrorBuilder,
    providers: &[ProviderAddr<'_>],
    main_tf: &str,
) -> Work {
    let tmp = tempfile::tempdir().expect("temp dir");
    let mirror = builder.create(&tmp.path().join("tf")).expect("mirror");
    let dir = tmp.path().join("work");
    std::fs::create_dir_all(&dir).expect("work dir");
    let text = format!("{}\n{main_tf}", required_providers(providers));
    std::fs::write(dir.join("main.tf"), text).expect("main.tf");
    Work {
        _tmp: tmp,
        dir,
        mirror,
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `text` on one line: terraform wraps diagnostics at 78 columns.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Work {
    fn run(&self, args: &[&str]) -> Output {
        let start = Instant::now();
        let out = self
            .mirror
            .terraform(&self.dir)
            .args(args)
            .output()
            .expect("terraform runs");
        eprintln!(
            "terraform {} -> {} in {:?}",
            args.join(" "),
            out.status,
            start.elapsed()
        );
        out
    }

    /// Runs terraform, expecting exit code `code`; returns stdout and stderr.
    fn expect(&self, args: &[&str], code: i32) -> String {
        let out = self.run(args);
        let text = text(&out);
        assert_eq!(
            out.status.code(),
            Some(code),
            "terraform {} exited {}:\n{text}",
            args.join(" "),
            out.status
        );
        text
    }

    fn ok(&self, args: &[&str]) -> String {
        self.expect(args, 0)
    }

    fn write(&self, main_tf: &str, providers: &[ProviderAddr<'_>]) {
        let text = format!("{}\n{main_tf}", required_providers(providers));
        std::fs::write(self.dir.join("main.tf"), text).expect("main.tf");
    }

    /// init → validate → workspace `ops` → plan → apply → plan with no changes.
    fn lifecycle(&self) {
        self.ok(&["init", "-no-color"]);
        assert!(self.dir.join(".terraform.lock.hcl").is_file(), "lock file");
        let valid = self.ok(&["validate", "-no-color"]);
        assert!(valid.contains("The configuration is valid"), "{valid}");
        self.ok(&["workspace", "new", "ops"]);
        // -detailed-exitcode returns 2 when there are changes: the first plan has them.
        let plan = self.expect(
            &["plan", "-no-color", "-detailed-exitcode", "-input=false"],
            2,
        );
        assert!(plan.contains("to add"), "{plan}");
        let apply = self.ok(&["apply", "-auto-approve", "-no-color", "-input=false"]);
        assert!(apply.contains("Apply complete!"), "{apply}");
        assert!(
            self.dir
                .join("terraform.tfstate.d/ops/terraform.tfstate")
                .is_file(),
            "state lives in the ops workspace"
        );
        let again = self.expect(
            &["plan", "-no-color", "-detailed-exitcode", "-input=false"],
            0,
        );
        assert!(again.contains("No changes."), "{again}");
    }

    /// `terraform show -json`'s root module resources.
    fn resources(&self) -> Vec<Value> {
        let out = self.ok(&["show", "-json", "-no-color"]);
        let json_line = out.lines().next().unwrap_or_default();
        let state: Value = serde_json::from_str(json_line).expect("show -json");
        state["values"]["root_module"]["resources"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

fn resource<'r>(resources: &'r [Value], address: &str) -> &'r Value {
    resources
        .iter()
        .find(|r| r["address"] == address)
        .unwrap_or_else(|| panic!("{address} in {resources:?}"))
}

const KIND_TF: &str = r#"
provider "kind" {}

resource "kind_cluster" "this" {
  name           = "plinth-ops-local"
  node_image     = "kindest/node:v1.31.0"
  wait_for_ready = true

  kind_config {
    kind        = "Cluster"
    api_version = "kind.x-k8s.io/v1alpha4"

    networking {
      api_server_address = "127.0.0.1"
    }

    node {
      role   = "control-plane"
      labels = { "ingress-ready" = "true" }

      extra_port_mappings {
        container_port = 80
        host_port      = 8080
      }
    }

    node {
      role = "worker"
    }
    # EXTRA NODE
  }
}

output "endpoint" {
  value = kind_cluster.this.endpoint
}

output "ca" {
  value = base64decode(kind_cluster.this.cluster_ca_certificate)
}
"#;

#[test]
fn kind_cluster_plans_applies_updates_and_destroys() {
    let w = work(&[KIND], KIND_TF);
    w.lifecycle();

    let resources = w.resources();
    let cluster = &resource(&resources, "kind_cluster.this")["values"];
    let id = cluster["id"].as_str().expect("id");
    assert!(id.starts_with("double-kind_cluster-"), "{id}");
    assert_eq!(cluster["name"], "plinth-ops-local");
    assert_eq!(cluster["kind_config"][0]["node"][1]["role"], "worker");
    assert_eq!(cluster["completed"], false);

    // An update (a third node) plans a change, applies, and then plans nothing again.
    let updated = KIND_TF.replace("# EXTRA NODE", "node {\n      role = \"worker\"\n    }");
    w.write(&updated, &[KIND]);
    let plan = w.expect(
        &["plan", "-no-color", "-detailed-exitcode", "-input=false"],
        2,
    );
    assert!(plan.contains("1 to change"), "{plan}");
    w.ok(&["apply", "-auto-approve", "-no-color", "-input=false"]);
    w.expect(
        &["plan", "-no-color", "-detailed-exitcode", "-input=false"],
        0,
    );
    let after = w.resources();
    let cluster = &resource(&after, "kind_cluster.this")["values"];
    assert_eq!(cluster["id"].as_str(), Some(id), "computed values are kept");

    let destroy = w.ok(&["destroy", "-auto-approve", "-no-color", "-input=false"]);
    assert!(destroy.contains("1 destroyed"), "{destroy}");
    assert!(w.resources().is_empty());
}

const GOOGLE_TF: &str = r#"
provider "google" {
  project = "plinth-test"
  region  = "europe-west1"
}

data "google_client_config" "current" {}

resource "google_container_cluster" "this" {
  name                     = "plinth-ops-europe-west1"
  location                 = "europe-west1"
  remove_default_node_pool = true
  initial_node_count       = 1
  deletion_protection      = false
  resource_labels          = { env = "ops" }

  release_channel {
    channel = "REGULAR"
  }

  workload_identity_config {
    workload_pool = "plinth-test.svc.id.goog"
  }

  ip_allocation_policy {}

  master_auth {
    client_certificate_config {
      issue_client_certificate = false
    }
  }
}

resource "google_container_node_pool" "default" {
  name     = "default"
  cluster  = google_container_cluster.this.id
  location = "europe-west1"

  autoscaling {
    min_node_count = 1
    max_node_count = 3
  }

  management {
    auto_repair  = true
    auto_upgrade = true
  }

  node_config {
    machine_type = "e2-standard-4"
    oauth_scopes = ["https://www.googleapis.com/auth/cloud-platform"]
    labels       = { pool = "default" }

    taint {
      key    = "dedicated"
      value  = "ops"
      effect = "NO_SCHEDULE"
    }
  }
}

output "endpoint" {
  value = google_container_cluster.this.endpoint
}

output "ca" {
  value = base64decode(google_container_cluster.this.master_auth[0].cluster_ca_certificate)
}

output "token" {
  value     = data.google_client_config.current.access_token
  sensitive = true
}
"#;

#[test]
fn gke_cluster_and_node_pool_reach_a_stable_state() {
    let w = work(&[GOOGLE], GOOGLE_TF);
    w.lifecycle();
    let resources = w.resources();
    let pool = &resource(&resources, "google_container_node_pool.default")["values"];
    let cluster = &resource(&resources, "google_container_cluster.this")["values"];
    assert_eq!(
        pool["cluster"], cluster["id"],
        "references resolve to fakes"
    );
    assert_eq!(pool["node_config"][0]["taint"][0]["effect"], "NO_SCHEDULE");
}

const AZURERM_TF: &str = r#"
provider "azurerm" {
  features {}
}

resource "azurerm_resource_group" "this" {
  name     = "plinth-ops-westeurope"
  location = "westeurope"
}

resource "azurerm_kubernetes_cluster" "this" {
  name                = "plinth-ops-westeurope"
  location            = azurerm_resource_group.this.location
  resource_group_name = azurerm_resource_group.this.name
  dns_prefix          = "plinth-ops"
  tags                = { env = "ops" }

  default_node_pool {
    name                 = "default"
    vm_size              = "Standard_D4s_v5"
    auto_scaling_enabled = true
    min_count            = 1
    max_count            = 3
    node_labels          = { pool = "default" }

    upgrade_settings {
      max_surge = "10%"
    }
  }

  identity {
    type = "SystemAssigned"
  }

  network_profile {
    network_plugin = "azure"
  }
}

resource "azurerm_kubernetes_cluster_node_pool" "extra" {
  name                  = "extra"
  kubernetes_cluster_id = azurerm_kubernetes_cluster.this.id
  vm_size               = "Standard_D4s_v5"
  node_count            = 1
  node_taints           = ["dedicated=ops:NoSchedule"]
}

output "host" {
  value     = azurerm_kubernetes_cluster.this.kube_config[0].host
  sensitive = true
}
"#;

#[test]
fn aks_cluster_and_node_pool_reach_a_stable_state() {
    let w = work(&[AZURERM], AZURERM_TF);
    w.lifecycle();
    let resources = w.resources();
    let pool = &resource(&resources, "azurerm_kubernetes_cluster_node_pool.extra")["values"];
    assert_eq!(pool["node_taints"][0], "dedicated=ops:NoSchedule");
    assert_eq!(pool["node_count"], 1);
}

#[test]
fn validate_checks_the_real_schemas() {
    let w = work(
        &[GOOGLE, AZURERM],
        r#"
provider "azurerm" {
  features {}
}

resource "google_container_cluster" "this" {
  name            = "x"
  no_such_setting = true
}

resource "azurerm_kubernetes_cluster" "this" {
  name                = "x"
  location            = "westeurope"
  resource_group_name = "rg"
}
"#,
    );
    w.ok(&["init", "-no-color"]);
    let out = w.expect(&["validate", "-no-color"], 1);
    assert!(out.contains("Unsupported argument"), "{out}");
    assert!(out.contains("no_such_setting"), "{out}");
    // min_items = 1 cannot be served as is; the double checks it itself.
    assert!(
        out.contains("Insufficient default_node_pool blocks"),
        "{out}"
    );
}

#[test]
fn a_missing_schema_is_a_clear_error() {
    if let Err(e) = terraform_binary() {
        panic!("{e}");
    }
    let empty = tempfile::tempdir().expect("temp dir");
    let w = work_with(
        Mirror::builder()
            .binary(DOUBLE)
            .schemas_dir(empty.path())
            .double(KIND),
        &[KIND],
        "resource \"kind_cluster\" \"this\" {\n  name = \"x\"\n}\n",
    );
    w.ok(&["init", "-no-color"]);
    let out = one_line(&w.expect(&["validate", "-no-color"], 1));
    assert!(
        out.contains("provider double for \"kind\" has no schema"),
        "{out}"
    );
    assert!(out.contains("kind.json"), "{out}");
}

#[test]
fn the_real_aws_provider_installs_beside_doubles() {
    if let Err(e) = terraform_binary() {
        panic!("{e}");
    }
    let Some(plugins) = real_plugins_dir() else {
        tf_double::skip(
            "the_real_aws_provider_installs_beside_doubles",
            "no `tf-plugins` mirror of real providers on this machine",
        );
        return;
    };
    let aws = tf_double::AWS;
    let w = work_with(
        Mirror::builder().binary(DOUBLE).double(KIND).real_aws(),
        &[aws, KIND],
        "resource \"kind_cluster\" \"this\" {\n  name = \"x\"\n}\n",
    );
    let init = w.ok(&["init", "-no-color"]);
    assert!(init.contains("hashicorp/aws v5.100.0"), "{init}");
    let lock = std::fs::read_to_string(w.dir.join(".terraform.lock.hcl")).expect("lock file");
    assert!(
        lock.contains("registry.terraform.io/hashicorp/aws"),
        "{lock}"
    );
    assert!(lock.contains("registry.terraform.io/tehcyx/kind"), "{lock}");
    assert_eq!(w.mirror.real_aws_dir().map(Path::to_path_buf), {
        Some(plugins.join("registry.terraform.io/hashicorp/aws"))
    });
}
