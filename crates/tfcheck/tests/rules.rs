//! Individual rules, on small modules written to a temporary directory.

mod common;

use common::{check, module, schemas};
use tfcheck::{Error, Schemas};

const KIND_PROVIDER: &str = r#"
terraform {
  required_providers {
    kind = { source = "tehcyx/kind" }
  }
}
"#;

fn check_files(files: &[(&str, &str)]) -> Vec<String> {
    let dir = module(files);
    check(dir.path())
}

#[test]
fn providers_resolve_through_required_providers_or_default_to_hashicorp() {
    let resource = "resource \"kind_cluster\" \"this\" {\n  name = \"local\"\n}\n";
    assert_eq!(
        check_files(&[("versions.tf", KIND_PROVIDER), ("main.tf", resource)]),
        Vec::<String>::new()
    );
    // Without required_providers, `kind` means hashicorp/kind, which has no schema.
    assert_eq!(
        check_files(&[("main.tf", resource)]),
        [
            "main.tf:1:10: error: resource.kind_cluster.this: no schema loaded for provider \
          registry.terraform.io/hashicorp/kind, needed by resource type \"kind_cluster\""
        ]
    );
}

#[test]
fn the_provider_meta_argument_selects_the_provider() {
    let files = [(
        "main.tf",
        r#"
terraform {
  required_providers {
    local_kind = { source = "tehcyx/kind" }
  }
}

provider "local_kind" {
  alias = "second"
}

resource "kind_cluster" "this" {
  provider = local_kind.second
  name     = "local"
}
"#,
    )];
    assert_eq!(check_files(&files), Vec::<String>::new());
}

#[test]
fn modules_inherit_no_required_providers() {
    let files = [
        (
            "main.tf",
            &format!("{KIND_PROVIDER}\nmodule \"child\" {{\n  source = \"./child\"\n}}\n")[..],
        ),
        (
            "child/main.tf",
            "resource \"kind_cluster\" \"this\" {\n  name = \"local\"\n}\n",
        ),
    ];
    assert_eq!(
        check_files(&files),
        [
            "child/main.tf:1:10: error: resource.kind_cluster.this: no schema loaded for provider \
          registry.terraform.io/hashicorp/kind, needed by resource type \"kind_cluster\""
        ]
    );
}

#[test]
fn meta_arguments_and_lifecycle_are_checked() {
    let files = [
        ("versions.tf", KIND_PROVIDER),
        (
            "main.tf",
            r#"
resource "kind_cluster" "this" {
  count    = 1
  for_each = toset(["a"])
  name     = "local"

  lifecycle {
    prevent_destroy = true
    ignore_change   = all
  }

  provisioner "local-exec" {
    command = "echo created"
  }

  connection {
    host = "localhost"
  }
}

data "google_client_config" "current" {
  depends_on = "kind_cluster.this"

  lifecycle {
    create_before_destroy = true

    postcondition {
      condition = self.project != ""
    }
  }
}
"#,
        ),
    ];
    assert_eq!(
        check_files(&files),
        [
            "main.tf:4:3: error: resource.kind_cluster.this: \"count\" and \"for_each\" cannot \
             both be set",
            "main.tf:9:5: error: resource.kind_cluster.this: unsupported argument \
             \"ignore_change\" in lifecycle; did you mean \"ignore_changes\"?",
            "main.tf:22:16: error: data.google_client_config.current: inappropriate value for \
             argument \"depends_on\": list of any value required, got string \
             \"kind_cluster.this\"",
            "main.tf:25:5: error: data.google_client_config.current: unsupported argument \
             \"create_before_destroy\" in lifecycle",
            "main.tf:27:5: error: data.google_client_config.current: missing required argument \
             \"error_message\" in lifecycle.postcondition",
        ]
    );
}

#[test]
fn dynamic_blocks_are_checked_against_the_generated_block_type() {
    let files = [(
        "main.tf",
        r#"
resource "google_container_node_pool" "this" {
  cluster = "c"

  node_config {
    dynamic "taint" {
      for_each = var.taints
      content {
        key    = taint.value.key
        effect = taint.value.effect
      }
    }

    dynamic "taints" {
      for_each = var.taints
      content {}
    }

    dynamic "guest_accelerator" {
      iterator = gpu
    }
  }
}
"#,
    )];
    assert_eq!(
        check_files(&files),
        [
            "main.tf:8:7: error: resource.google_container_node_pool.this: missing required \
             argument \"value\" in node_config.taint",
            "main.tf:14:13: error: resource.google_container_node_pool.this: unsupported block \
             type \"taints\" in node_config in dynamic block; did you mean \"taint\"?",
            "main.tf:19:5: error: resource.google_container_node_pool.this: missing required \
             argument \"for_each\" in dynamic \"guest_accelerator\" in node_config",
            "main.tf:19:5: error: resource.google_container_node_pool.this: missing required \
             block \"content\" in dynamic \"guest_accelerator\" in node_config",
        ]
    );
}

#[test]
fn block_counts_follow_min_and_max_items() {
    let files = [
        ("versions.tf", KIND_PROVIDER),
        (
            "main.tf",
            r#"
resource "kind_cluster" "this" {
  name = "local"

  kind_config {
    kind        = "Cluster"
    api_version = "kind.x-k8s.io/v1alpha4"
  }

  kind_config {
    kind        = "Cluster"
    api_version = "kind.x-k8s.io/v1alpha4"
  }
}

resource "azurerm_kubernetes_cluster" "this" {
  name                = "aks"
  location            = "westeurope"
  resource_group_name = "rg"

  dynamic "default_node_pool" {
    for_each = [1]
    content {
      name = "default"
    }
  }
}

resource "azurerm_kubernetes_cluster" "missing" {
  name                = "aks"
  location            = "westeurope"
  resource_group_name = "rg"
}
"#,
        ),
    ];
    // A dynamic block may generate the required default_node_pool.
    assert_eq!(
        check_files(&files),
        [
            "main.tf:10:3: error: resource.kind_cluster.this: too many \"kind_config\" blocks: at \
             most 1 allowed, found 2",
            "main.tf:29:1: error: resource.azurerm_kubernetes_cluster.missing: missing required \
             block \"default_node_pool\"",
        ]
    );
}

#[test]
fn list_of_object_attributes_accept_attribute_and_block_syntax() {
    let files = [(
        "main.tf",
        r#"
resource "aws_security_group" "attribute_syntax" {
  ingress = [{
    from_port   = 443
    to_port     = "443"
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
    colour      = "blue"
  }]
}

resource "aws_security_group" "block_syntax" {
  ingress {
    from_port = 443
    to_port   = 443
    protocol  = "tcp"
    colour    = "blue"
  }
}
"#,
    )];
    // In attribute syntax every attribute of the object type must be given and extra ones
    // are discarded; in block syntax they are optional and unknown ones are errors.
    let missing = |name: &str| {
        format!(
            "main.tf:3:14: error: resource.aws_security_group.attribute_syntax: inappropriate \
             value for argument \"ingress\" at [0]: attribute \"{name}\" is required"
        )
    };
    assert_eq!(
        check_files(&files),
        [
            missing("description"),
            missing("ipv6_cidr_blocks"),
            missing("prefix_list_ids"),
            missing("security_groups"),
            missing("self"),
            "main.tf:8:5: warning: resource.aws_security_group.attribute_syntax: value of \
             argument \"ingress\" at [0]: attribute \"colour\" is not in the object type and \
             will be discarded"
                .to_owned(),
            "main.tf:17:5: error: resource.aws_security_group.block_syntax: unsupported argument \
             \"colour\" in ingress"
                .to_owned(),
        ]
    );
}

#[test]
fn deprecated_arguments_are_warnings() {
    let files = [(
        "main.tf",
        r#"
provider "aws" {
  version = "~> 5.0"
}

resource "aws_iam_role" "this" {
  assume_role_policy  = "{}"
  managed_policy_arns = []
}
"#,
    )];
    assert_eq!(
        check_files(&files),
        [
            "main.tf:3:3: warning: provider.aws: argument \"version\" is deprecated",
            "main.tf:8:3: warning: resource.aws_iam_role.this: argument \"managed_policy_arns\" \
             is deprecated",
        ]
    );
}

#[test]
fn builtin_and_schemaless_blocks_are_accepted() {
    let files = [(
        "main.tf",
        r#"
locals {
  anything = { goes = "here" }
}

variable "x" {
  type = string
}

output "y" {
  value = local.anything
}

moved {
  from = terraform_data.old
  to   = terraform_data.this
}

import {
  to = terraform_data.this
  id = "x"
}

removed {
  from = terraform_data.gone
}

check "health" {
  assert {
    condition     = true
    error_message = "never"
  }
}

resource "terraform_data" "this" {
  input            = { a = 1 }
  triggers_replace = [var.x]
}

resource "terraform_data" "wrong" {
  output = "x"
  inputs = 1
}

data "terraform_remote_state" "network" {
  backend = "local"
}
"#,
    )];
    assert_eq!(
        check_files(&files),
        [
            "main.tf:41:3: error: resource.terraform_data.wrong: argument \"output\" is computed \
             by the provider and cannot be set",
            "main.tf:42:3: error: resource.terraform_data.wrong: unsupported argument \"inputs\"; \
             did you mean \"input\"?",
        ]
    );
}

#[test]
fn module_sources_are_checked() {
    let files = [(
        "main.tf",
        r#"
module "remote" {
  source  = "terraform-aws-modules/eks/aws"
  version = "~> 20.0"
  anything = true
}

module "missing" {
  source = "./modules/missing"
}

module "computed" {
  source = "${path.module}/x"
}

module "no_source" {
}
"#,
    )];
    assert_eq!(
        check_files(&files),
        [
            "main.tf:9:12: error: module.missing: module source \"./modules/missing\" is not a \
             directory",
            "main.tf:13:12: error: module.computed: argument \"source\" must be a literal string",
            "main.tf:16:1: error: module.no_source: missing required argument \"source\"",
        ]
    );
}

#[test]
fn syntax_errors_are_errors_not_problems() {
    let dir = module(&[("main.tf", "resource \"x\" {\n  a = \n}\n")]);
    let error = tfcheck::check_dir(dir.path(), schemas()).expect_err("invalid HCL");
    let Error::Parse { path, line, .. } = &error else {
        panic!("expected a parse error, got {error}");
    };
    assert_eq!(path, &dir.path().join("main.tf"));
    assert_eq!(*line, 2);
    let missing = tfcheck::check_dir(&dir.path().join("nope"), schemas()).expect_err("no dir");
    assert!(matches!(missing, Error::Io { .. }), "{missing}");
}

#[test]
fn schema_files_must_be_provider_schema_dumps() {
    let dir = module(&[
        ("bad.json", "{"),
        ("wrong.json", r#"{"provider_schemas": []}"#),
    ]);
    let load = |name: &str| Schemas::load(&[dir.path().join(name).as_path()]);
    assert!(matches!(load("bad.json"), Err(Error::Json { .. })));
    let wrong = load("wrong.json").expect_err("not a dump");
    assert!(
        wrong
            .to_string()
            .ends_with("not a provider schema dump: $.provider_schemas: expected an object"),
        "{wrong}"
    );
    assert!(matches!(load("absent.json"), Err(Error::Io { .. })));
    let loaded: Vec<&str> = schemas().provider_addresses().collect();
    assert_eq!(
        loaded,
        [
            "registry.terraform.io/hashicorp/aws",
            "registry.terraform.io/hashicorp/azurerm",
            "registry.terraform.io/hashicorp/google",
            "registry.terraform.io/tehcyx/kind",
            "terraform.io/builtin/terraform",
        ]
    );
}
