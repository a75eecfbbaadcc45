//! The fixtures under `tests/fixtures`: valid configurations for each provider must check
//! clean, and each invalid one must report exactly its defects — and nothing once they are
//! fixed, so that every failing fixture fails for the stated reason only.

mod common;

use common::{check, copy_tree, fixture};

#[test]
fn valid_gke_cluster_and_node_pool() {
    assert_eq!(check(&fixture("valid/gke")), Vec::<String>::new());
}

#[test]
fn valid_aks_cluster() {
    assert_eq!(check(&fixture("valid/aks")), Vec::<String>::new());
}

#[test]
fn valid_kind_cluster() {
    assert_eq!(check(&fixture("valid/kind")), Vec::<String>::new());
}

#[test]
fn valid_eks_cluster_through_local_modules() {
    assert_eq!(check(&fixture("valid/eks")), Vec::<String>::new());
}

/// Asserts the problems of `tests/fixtures/invalid/<name>`, then applies `fixes`
/// (file, text, replacement; each text must occur exactly once) to a copy and asserts that
/// the copy checks clean.
fn assert_invalid(name: &str, expected: &[&str], fixes: &[(&str, &str, &str)]) {
    let dir = fixture(&format!("invalid/{name}"));
    assert_eq!(check(&dir), expected, "problems of {name}");

    let copy = copy_tree(&dir);
    for (file, text, replacement) in fixes {
        let path = copy.path().join(file);
        let contents = std::fs::read_to_string(&path).expect("read the fixture copy");
        assert_eq!(
            contents.matches(text).count(),
            1,
            "{text:?} occurs once in {name}/{file}"
        );
        std::fs::write(&path, contents.replacen(text, replacement, 1)).expect("write the fix");
    }
    assert_eq!(
        check(copy.path()),
        Vec::<String>::new(),
        "{name} once fixed"
    );
}

#[test]
fn unknown_attributes_are_named_with_a_suggestion() {
    assert_invalid(
        "unknown_attribute",
        &[
            "main.tf:4:3: error: resource.google_container_cluster.this: unsupported argument \
             \"initial_node_cont\"; did you mean \"initial_node_count\"?",
            "main.tf:11:5: error: resource.google_container_node_pool.default: unsupported \
             argument \"machine_typ\" in node_config; did you mean \"machine_type\"?",
        ],
        &[
            ("main.tf", "initial_node_cont ", "initial_node_count"),
            ("main.tf", "machine_typ ", "machine_type"),
        ],
    );
}

#[test]
fn unknown_resource_types_are_named_with_a_suggestion() {
    assert_invalid(
        "unknown_resource_type",
        &[
            "main.tf:1:10: error: resource.google_container_clustr.this: unknown resource type \
           \"google_container_clustr\" in provider registry.terraform.io/hashicorp/google; did \
           you mean \"google_container_cluster\"?",
        ],
        &[(
            "main.tf",
            "google_container_clustr",
            "google_container_cluster",
        )],
    );
}

#[test]
fn missing_required_arguments_are_reported_at_their_block() {
    assert_invalid(
        "missing_required",
        &[
            "main.tf:1:1: error: resource.aws_eks_node_group.default: missing required argument \
             \"node_role_arn\"",
            "main.tf:5:3: error: resource.aws_eks_node_group.default: missing required argument \
             \"min_size\" in scaling_config",
        ],
        &[
            (
                "main.tf",
                "  subnet_ids    = [",
                "  node_role_arn = \"arn:aws:iam::123456789012:role/nodes\"\n  subnet_ids    = [",
            ),
            (
                "main.tf",
                "    max_size     = 3\n",
                "    max_size     = 3\n    min_size     = 1\n",
            ),
        ],
    );
}

#[test]
fn computed_only_attributes_cannot_be_set() {
    assert_invalid(
        "computed_only",
        &[
            "main.tf:4:3: error: resource.aws_eks_cluster.this: argument \"endpoint\" is computed \
           by the provider and cannot be set",
        ],
        &[(
            "main.tf",
            "  endpoint = \"https://example.eks.amazonaws.com\"\n",
            "",
        )],
    );
}

#[test]
fn a_single_block_may_appear_only_once() {
    assert_invalid(
        "single_block_twice",
        &[
            "main.tf:16:3: error: resource.kind_cluster.this: duplicate \"timeouts\" block: it may \
           appear only once",
        ],
        &[("main.tf", "\n  timeouts {\n    delete = \"5m\"\n  }\n", "")],
    );
}

#[test]
fn literals_that_terraform_cannot_convert_are_reported() {
    // `disk_size_gb = "100"` and `preemptible = "false"` convert, and are not reported.
    assert_invalid(
        "wrong_literal_type",
        &[
            "main.tf:3:24: error: resource.google_container_node_pool.default: inappropriate \
             value for argument \"initial_node_count\": number required, got string \"three\"",
            "main.tf:4:24: error: resource.google_container_node_pool.default: inappropriate \
             value for argument \"node_locations\": set of string required, got string \
             \"europe-west1-b\"",
            "main.tf:9:20: error: resource.google_container_node_pool.default: inappropriate \
             value for argument \"spot\" in node_config: bool required, got number",
            "main.tf:10:20: error: resource.google_container_node_pool.default: inappropriate \
             value for argument \"labels\" in node_config: map of string required, got tuple \
             with 1 element",
        ],
        &[
            ("main.tf", "\"three\"", "3"),
            ("main.tf", "\"europe-west1-b\"", "[\"europe-west1-b\"]"),
            ("main.tf", "= 1\n", "= true\n"),
            ("main.tf", "[\"pool=default\"]", "{ pool = \"default\" }"),
        ],
    );
}

#[test]
fn blocks_and_attributes_cannot_swap_syntax() {
    assert_invalid(
        "block_as_attribute",
        &[
            "main.tf:1:1: error: resource.aws_eks_cluster.this: missing required block \
             \"vpc_config\"",
            "main.tf:5:3: error: resource.aws_eks_cluster.this: \"vpc_config\" is a block, not \
             an argument; write it as vpc_config { ... }",
            "main.tf:9:3: error: resource.aws_eks_cluster.this: \"tags\" is an argument, not a \
             block; write it as tags = ...",
        ],
        &[
            ("main.tf", "vpc_config = {", "vpc_config {"),
            ("main.tf", "tags {", "tags = {"),
        ],
    );
}

#[test]
fn module_calls_must_match_the_modules_variables() {
    assert_invalid(
        "module_call",
        &[
            "main.tf:5:3: error: module.unknown_argument: unsupported argument \"node_imag\": \
             module \"./modules/kind\" declares no variable \"node_imag\"; did you mean \
             \"node_image\"?",
            "main.tf:8:1: error: module.missing_variable: missing required argument \"name\": \
             variable \"name\" of module \"./modules/kind\" has no default",
        ],
        &[
            ("main.tf", "node_imag ", "node_image"),
            (
                "main.tf",
                "source = \"./modules/kind\"\n}",
                "source = \"./modules/kind\"\n  name   = \"plinth-apps-local\"\n}",
            ),
        ],
    );
}
