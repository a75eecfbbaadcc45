//! Generated clusters that would work on each cloud (issue 17).
//!
//! One offline plan shows what Plinth generates: the four examples, an EKS platform using most
//! EKS keys (`fixtures/platforms/eks-heavy`) and the provider-double platform
//! (`fixtures/platforms/doubles`), each a module of one Terraform root, planned in workspace
//! `apps` with the real aws provider (endpoints on moto) and provider doubles for google,
//! azurerm, kind and kustomization. One plan instead of six keeps the suite fast (the aws
//! provider takes seconds to start). Each numbered item of the issue has a test reading it,
//! and checkov scans it against the committed baseline (`.ci/checkov-baseline.toml`).

mod common;

use common::{copy_dir, engines, fixtures};
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The examples, by the module name each gets in the scan root.
const EXAMPLES: &[(&str, &str)] = &[
    ("minimal", "minimal"),
    ("node-pools", "node_pools"),
    ("multi-cloud", "multi_cloud"),
    ("environments", "environments"),
];
/// The fixtures planned beside them.
const FIXTURES: &[(&str, &str)] = &[("eks-heavy", "eks_heavy"), ("doubles", "doubles")];

struct Scan {
    dir: PathBuf,
    plan: Json,
}

static SCAN: OnceLock<Option<Scan>> = OnceLock::new();

/// The plan of every platform, made once per test run (`None` when an engine is missing and
/// engines are optional: the test then skips, loudly).
fn scan() -> Option<&'static Scan> {
    SCAN.get_or_init(build_scan).as_ref()
}

/// `plinth args...` in `dir`, with nothing from the caller's environment but PATH.
fn plinth(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_plinth"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("NO_COLOR", "1")
        .current_dir(dir)
        .output()
        .expect("run plinth")
}

fn plinth_ok(dir: &Path, args: &[&str]) {
    let out = plinth(dir, args);
    assert!(
        out.status.success(),
        "plinth {args:?}:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The aliases of the `aws` provider blocks of a generated root.
fn aws_aliases(providers_tf: &str) -> Vec<String> {
    providers_tf
        .split("provider \"")
        .filter(|block| block.starts_with("aws\""))
        .filter_map(|block| {
            let line = block
                .lines()
                .find(|l| l.trim_start().starts_with("alias"))?;
            Some(line.split('"').nth(1)?.to_string())
        })
        .collect()
}

fn build_scan() -> Option<Scan> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("clouds-scan");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let tf = engines::require(
        "terraform and the real aws provider mirror (tf-plugins)",
        engines::Terraform::new(&dir.join(".engines")),
    )?;
    let moto = engines::require(
        "moto_server (pip install 'moto[server]')",
        engines::Moto::start(),
    )?;
    for (example, _) in EXAMPLES {
        plinth_ok(&dir, &["init", example, "--example", example]);
    }
    for (fixture, _) in FIXTURES {
        copy_dir(
            &fixtures().join("platforms").join(fixture),
            &dir.join(fixture),
        );
    }
    let mut root = String::new();
    for (platform, module) in EXAMPLES.iter().chain(FIXTURES) {
        plinth_ok(&dir, &["generate", platform]);
        let generated = dir.join(platform).join("generated");
        let providers = std::fs::read_to_string(generated.join("providers.tf")).expect("read");
        let aliases = aws_aliases(&providers);
        let aliases: Vec<&str> = aliases.iter().map(String::as_str).collect();
        // Test-only endpoints: generated code never carries them.
        std::fs::write(
            generated.join("moto_override.tf"),
            moto.override_for(&aliases),
        )
        .expect("override");
        root.push_str(&format!(
            "module \"{module}\" {{\n  source = \"./{platform}/generated\"\n"
        ));
        // Sensitive values the definition holds are Terraform variables of the root.
        if let Ok(sensitive) = std::fs::read_to_string(generated.join("sensitive.tf")) {
            for name in sensitive
                .lines()
                .filter_map(|l| l.strip_prefix("variable \""))
                .filter_map(|l| l.split('"').next())
            {
                root.push_str(&format!(
                    "  {name} = \"arn:aws:kms:eu-west-1:111122223333:key/test\"\n"
                ));
            }
        }
        root.push_str("}\n\n");
    }
    std::fs::write(dir.join("main.tf"), root).expect("root");
    tf.run(&dir, &["init"]);
    tf.run(&dir, &["workspace", "select", "-or-create", "apps"]);
    tf.run(&dir, &["plan", "-refresh=false", "-out=scan.tfplan"]);
    let json = tf.run(&dir, &["show", "-json", "scan.tfplan"]);
    std::fs::write(dir.join("scan.json"), &json).expect("write plan json");
    drop(moto);
    Some(Scan {
        dir,
        plan: serde_json::from_str(&json).expect("plan json"),
    })
}

/// The planned changes whose address starts with `prefix`, by address.
fn changes<'a>(plan: &'a Json, prefix: &str) -> BTreeMap<&'a str, &'a Json> {
    plan["resource_changes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|rc| Some((rc["address"].as_str()?, rc)))
        .filter(|(a, _)| a.starts_with(prefix))
        .collect()
}

/// The planned values of the resource at `address` (which must be planned).
fn after<'a>(plan: &'a Json, address: &str) -> &'a Json {
    let all = changes(plan, "");
    match all.get(address) {
        Some(rc) => &rc["change"]["after"],
        None => {
            let module = address.rsplit_once('.').map_or("", |(m, _)| m);
            let near: Vec<&&str> = all.keys().filter(|a| a.starts_with(module)).collect();
            panic!("{address} is not planned; planned nearby: {near:#?}")
        }
    }
}

/// How many instances of `resource` (an address without index) are planned.
fn count(plan: &Json, resource: &str) -> usize {
    changes(plan, resource)
        .keys()
        .filter(|a| a[resource.len()..].starts_with('[') || a.len() == resource.len())
        .count()
}

/// The configuration of a resource in the module a module path leads to (e.g.
/// `["eks_heavy", "eks_private"]`): its expressions, with the references Terraform resolved.
fn configuration<'a>(plan: &'a Json, modules: &[&str], resource: &str) -> &'a Json {
    let mut m = &plan["configuration"]["root_module"];
    for name in modules {
        m = &m["module_calls"][name]["module"];
    }
    m["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["address"] == resource)
        .unwrap_or_else(|| panic!("{resource} is not in the configuration of {modules:?}"))
}

fn references(expr: &Json) -> Vec<&str> {
    expr["references"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .collect()
}

const PRIVATE: &str = "module.eks_heavy.module.eks_private";

/// Item 1: with `cluster_vpc_subnet_map_public_ip = false` the node subnets were routed to the
/// internet gateway without public IPs and without NAT: nodes could not pull images or join.
#[test]
fn private_eks_nodes_reach_the_internet_through_nat_gateways() {
    let Some(s) = scan() else { return };
    let p = &s.plan;
    assert_eq!(count(p, &format!("{PRIVATE}.aws_nat_gateway.current")), 3);
    assert_eq!(count(p, &format!("{PRIVATE}.aws_eip.nat")), 3);
    assert_eq!(count(p, &format!("{PRIVATE}.aws_route_table.private")), 3);
    for i in 0..3 {
        assert_eq!(
            after(p, &format!("{PRIVATE}.aws_subnet.node[{i}]"))["map_public_ip_on_launch"],
            false
        );
        assert_eq!(
            after(p, &format!("{PRIVATE}.aws_subnet.node[{i}]"))["tags"]["kubernetes.io/role/internal-elb"],
            "1"
        );
    }
    let modules = ["eks_heavy", "eks_private"];
    // `route` is an attribute of aws_route_table (a set of routes), so its references are
    // the whole set's.
    let route = &configuration(p, &modules, "aws_route_table.private")["expressions"]["route"];
    assert!(
        references(route).contains(&"aws_nat_gateway.current"),
        "{route}"
    );
    let nat = &changes(p, &format!("{PRIVATE}.aws_route_table.private[0]"))
        [format!("{PRIVATE}.aws_route_table.private[0]").as_str()]["change"];
    assert_eq!(nat["after"]["route"][0]["cidr_block"], "0.0.0.0/0", "{nat}");
    assert_eq!(nat["after"]["route"][0]["gateway_id"], "", "{nat}");
    assert_eq!(
        nat["after_unknown"]["route"][0]["nat_gateway_id"], true,
        "{nat}"
    );
    let assoc = &configuration(p, &modules, "aws_route_table_association.node")["expressions"];
    assert!(
        references(&assoc["route_table_id"]).contains(&"aws_route_table.private"),
        "{assoc}"
    );
    // Public nodes (Kubestack's default) need no NAT gateway.
    assert_eq!(
        count(p, "module.minimal.module.eks_zero.aws_nat_gateway.current"),
        0
    );
    assert_eq!(
        after(p, "module.minimal.module.eks_zero.aws_subnet.node[0]")["map_public_ip_on_launch"],
        true
    );
}

/// Item 2: `cluster_aws_auth_map_roles/users` were accepted and dropped; they are EKS access
/// entries now, with `system:masters` as the cluster admin policy and node roles as EC2_LINUX.
#[test]
fn eks_aws_auth_mappings_become_access_entries() {
    let Some(s) = scan() else { return };
    let p = &s.plan;
    assert_eq!(
        after(p, &format!("{PRIVATE}.aws_eks_cluster.current"))["access_config"][0]["authentication_mode"],
        "API_AND_CONFIG_MAP"
    );
    let entry = |arn: &str| {
        after(
            p,
            &format!("{PRIVATE}.aws_eks_access_entry.current[\"{arn}\"]"),
        )
    };
    let admin = entry("arn:aws:iam::111122223333:role/platform-admin");
    assert_eq!(admin["type"], "STANDARD");
    assert_eq!(admin["user_name"], "platform-admin");
    let nodes = entry("arn:aws:iam::111122223333:role/legacy-nodes");
    assert_eq!(nodes["type"], "EC2_LINUX");
    assert!(nodes["user_name"].is_null(), "{nodes}");
    let devs = entry("arn:aws:iam::111122223333:role/developers");
    assert_eq!(
        devs["kubernetes_groups"],
        serde_json::json!(["developers", "viewers"])
    );
    assert_eq!(devs["user_name"], "dev:{{SessionName}}");
    let ci = entry("arn:aws:iam::111122223333:user/ci");
    assert_eq!(ci["kubernetes_groups"], serde_json::json!(["deployers"]));
    let admins: BTreeSet<&str> = changes(
        p,
        &format!("{PRIVATE}.aws_eks_access_policy_association.admin"),
    )
    .values()
    .map(|rc| {
        let a = &rc["change"]["after"];
        assert_eq!(
            a["policy_arn"],
            "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
        );
        assert_eq!(a["access_scope"][0]["type"], "cluster");
        rc["index"].as_str().unwrap_or_default()
    })
    .collect();
    assert_eq!(
        admins,
        BTreeSet::from([
            "arn:aws:iam::111122223333:role/platform-admin",
            "arn:aws:iam::111122223333:user/ci"
        ])
    );
}

/// Item 2: what access entries cannot express is refused with a reason, never dropped.
#[test]
fn aws_auth_mappings_access_entries_cannot_hold_are_refused() {
    let codes = validate_eks(
        "cluster_aws_auth_map_accounts = [\"111122223333\"]\ncluster_aws_auth_map_roles = [{ rolearn = \"arn:aws:iam::111122223333:role/x\", username = \"x\", groups = [\"system:authenticated\"] }, { rolearn = \"arn:aws:iam::111122223333:role/n\", username = \"n\", groups = [\"system:nodes\", \"ops\"] }, { rolearn = \"arn:aws:iam::111122223333:role/x\", username = \"eks:admin\" }]\n",
        "",
    );
    for (code, text) in [
        ("unsupported-key", "cluster_aws_auth_map_accounts"),
        ("unsupported-value", "`system:authenticated`"),
        ("unsupported-value", "group `ops` beside a node mapping"),
        ("unsupported-value", "user name `eks:admin`"),
        ("duplicate-name", "mapped twice"),
    ] {
        assert!(
            codes.iter().any(|(c, m)| c == code && m.contains(text)),
            "no {code} about {text}: {codes:#?}"
        );
    }
}

/// Item 3: a pool's secondary CIDR was used for subnets inside a VPC that did not hold it, and
/// its subnets were not routed.
#[test]
fn eks_pool_secondary_cidrs_are_associated_and_routed() {
    let Some(s) = scan() else { return };
    let p = &s.plan;
    let pool = format!("{PRIVATE}.module.node_pool[\"pods\"]");
    assert_eq!(
        after(
            p,
            &format!("{pool}.aws_vpc_ipv4_cidr_block_association.pool[0]")
        )["cidr_block"],
        "100.64.0.0/16"
    );
    let cidrs: Vec<&str> = (0..3)
        .map(|i| {
            after(p, &format!("{pool}.aws_subnet.pool[{i}]"))["cidr_block"]
                .as_str()
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(
        cidrs,
        ["100.64.64.0/18", "100.64.128.0/18", "100.64.192.0/18"]
    );
    assert_eq!(
        count(p, &format!("{pool}.aws_route_table_association.pool")),
        3
    );
    let subnet = &configuration(
        p,
        &["eks_heavy", "eks_private", "node_pool"],
        "aws_subnet.pool",
    )["expressions"];
    assert!(
        references(&subnet["vpc_id"]).contains(&"aws_vpc_ipv4_cidr_block_association.pool"),
        "subnets wait for the association: {subnet}"
    );
}

#[test]
fn eks_secondary_cidrs_that_cannot_work_are_refused() {
    let codes = validate_eks(
        "",
        "\n[node_pools.a.config.apps]\ninstance_types = [\"m5.large\"]\nmax_size = 2\nvpc_secondary_cidr = \"10.0.128.0/20\"\n\n[node_pools.b.config.apps]\ninstance_types = [\"m5.large\"]\nmax_size = 2\nvpc_secondary_cidr = \"100.64.0.0/16\"\n\n[node_pools.c.config.apps]\ninstance_types = [\"m5.large\"]\nmax_size = 2\nvpc_secondary_cidr = \"100.64.0.0/17\"\n\n[node_pools.d.config.apps]\ninstance_types = [\"m5.large\"]\nmax_size = 2\nvpc_subnet_newbits = 4\n",
    );
    for (code, text) in [
        ("overlapping-cidr", "overlaps the VPC CIDR"),
        ("overlapping-cidr", "overlaps node pool `b`'s"),
        ("no-effect", "`vpc_subnet_newbits` has no effect"),
    ] {
        assert!(
            codes.iter().any(|(c, m)| c == code && m.contains(text)),
            "no {code} about {text}: {codes:#?}"
        );
    }
}

/// Item 4: GKE had no network policy, so NetworkPolicies were silently not enforced.
#[test]
fn gke_enforces_network_policies_by_default() {
    let Some(s) = scan() else { return };
    let p = &s.plan;
    for cluster in [
        "module.multi_cloud.module.gke_zero",
        "module.doubles.module.gke_zero",
    ] {
        let c = after(p, &format!("{cluster}.google_container_cluster.current"));
        assert_eq!(c["network_policy"][0]["enabled"], true, "{cluster}");
        assert_eq!(c["network_policy"][0]["provider"], "CALICO", "{cluster}");
        assert_eq!(
            c["addons_config"][0]["network_policy_config"][0]["disabled"], false,
            "{cluster}"
        );
    }
    // Dataplane V2 enforces them itself and refuses the Calico settings.
    let c = after(
        p,
        "module.doubles.module.gke_dpv2.google_container_cluster.current",
    );
    assert_eq!(c["datapath_provider"], "ADVANCED_DATAPATH");
    assert_eq!(c["network_policy"][0]["enabled"], false);
}

/// Item 5: `disable_default_ingress` was a key without an effect; the default ingress is
/// created on every cloud: a DNS zone for the fqdn, records for it and `*`, and static IPs.
#[test]
fn the_default_ingress_is_created_on_every_cloud() {
    let Some(s) = scan() else { return };
    let p = &s.plan;
    let eks = "module.minimal.module.eks_zero";
    let fqdn = after(p, &format!("{eks}.aws_route53_zone.current[0]"))["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(fqdn.starts_with("kbst-apps-eu-west-1.aws."), "{fqdn}");
    assert_eq!(count(p, &format!("{eks}.aws_eip.ingress")), 3);
    assert_eq!(
        after(p, &format!("{eks}.aws_route53_record.host[0]"))["name"],
        fqdn
    );
    assert_eq!(
        after(p, &format!("{eks}.aws_route53_record.wildcard[0]"))["name"],
        format!("*.{fqdn}")
    );
    let gke = "module.multi_cloud.module.gke_zero";
    let zone = after(p, &format!("{gke}.google_dns_managed_zone.current[0]"));
    assert!(
        zone["dns_name"]
            .as_str()
            .unwrap_or_default()
            .starts_with("kbst-apps-europe-west3.gcp."),
        "{zone}"
    );
    assert_eq!(zone["dnssec_config"][0]["state"], "on");
    assert_eq!(
        count(p, &format!("{gke}.google_compute_address.ingress")),
        1
    );
    assert_eq!(
        count(p, &format!("{gke}.google_dns_record_set.wildcard")),
        1
    );
    let aks = "module.multi_cloud.module.aks_zero";
    let ip = after(p, &format!("{aks}.azurerm_public_ip.ingress[0]"));
    assert_eq!(
        (&ip["sku"], &ip["allocation_method"]),
        (&"Standard".into(), &"Static".into())
    );
    assert!(
        after(p, &format!("{aks}.azurerm_dns_zone.current[0]"))["name"]
            .as_str()
            .unwrap_or_default()
            .starts_with("kbst-apps-westeurope.azure."),
    );
    assert_eq!(
        after(p, &format!("{aks}.azurerm_dns_a_record.host[0]"))["name"],
        "@"
    );
    assert_eq!(
        after(p, &format!("{aks}.azurerm_dns_a_record.wildcard[0]"))["name"],
        "*"
    );
    // `disable_default_ingress = true` creates none of it.
    assert_eq!(
        count(
            p,
            "module.eks_heavy.module.eks_china.aws_route53_zone.current"
        ),
        0
    );
    assert_eq!(
        count(p, "module.eks_heavy.module.eks_china.aws_eip.ingress"),
        0
    );
    assert_eq!(
        count(
            p,
            "module.doubles.module.gke_dpv2.google_dns_managed_zone.current"
        ),
        0
    );
}

/// Item 7: node groups did not follow the cluster's Kubernetes version.
#[test]
fn eks_node_groups_follow_the_cluster_version() {
    let Some(s) = scan() else { return };
    let p = &s.plan;
    for pool in ["default", "pods", "arm", "gpu"] {
        let ng = after(
            p,
            &format!("{PRIVATE}.module.node_pool[\"{pool}\"].aws_eks_node_group.pool"),
        );
        assert_eq!(ng["version"], "1.31", "{pool}");
    }
    let ng = configuration(
        p,
        &["eks_heavy", "eks_private", "node_pool"],
        "aws_eks_node_group.pool",
    );
    assert!(references(&ng["expressions"]["version"]).contains(&"var.cluster.version"));
}

/// Item 8: AKS created the resource group Kubestack reads; an existing group (the default)
/// is read, and one is created only with `create_resource_group`.
#[test]
fn aks_reads_an_existing_resource_group_unless_told_to_create_one() {
    let Some(s) = scan() else { return };
    let p = &s.plan;
    let existing = "module.multi_cloud.module.aks_zero";
    assert_eq!(
        count(p, &format!("{existing}.azurerm_resource_group.current")),
        0
    );
    assert_eq!(
        after(p, &format!("{existing}.azurerm_kubernetes_cluster.current"))["resource_group_name"],
        "kbst-apps-westeurope"
    );
    let read: Vec<&Json> = prior_state_resources(p)
        .into_iter()
        .filter(|r| r["address"] == format!("{existing}.data.azurerm_resource_group.current[0]"))
        .collect();
    assert_eq!(read.len(), 1, "the existing group is read");
    let created = after(
        p,
        "module.doubles.module.aks_entra.azurerm_resource_group.current[0]",
    );
    assert_eq!(
        (&created["name"], &created["location"]),
        (&"entra-apps-northeurope".into(), &"northeurope".into())
    );
}

fn prior_state_resources(plan: &Json) -> Vec<&Json> {
    fn walk<'a>(m: &'a Json, out: &mut Vec<&'a Json>) {
        out.extend(m["resources"].as_array().into_iter().flatten());
        for c in m["child_modules"].as_array().into_iter().flatten() {
            walk(c, out);
        }
    }
    let mut out = Vec::new();
    walk(&plan["prior_state"]["values"]["root_module"], &mut out);
    out
}

/// Item 8: `plinth add cluster --provider aks` writes a resource group per environment, and
/// two environments creating the same group are refused.
#[test]
fn aks_resource_groups_are_per_environment_and_never_created_twice() {
    let env = common::TestEnv::new();
    env.run_ok(&["init", "p", "--example", "minimal"]);
    let add = "add cluster aks_zero p --provider aks --region westeurope";
    env.run_ok(&add.split(' ').collect::<Vec<_>>());
    let text = env.read("p/clusters/aks_zero.toml");
    assert!(
        text.contains("[config.apps]\nregion = \"westeurope\"\navailability_zones = [\"1\", \"2\", \"3\"]\nresource_group = \"kbst-apps-westeurope\"")
            && text.contains("[config.ops]\nresource_group = \"kbst-ops-westeurope\""),
        "{text}"
    );
    let valid = env.run(&["validate", "p"]);
    assert!(valid.starts_with("exit: 0"), "{valid}");
    // One group created by both environments.
    let shared = text
        .replace(
            "[config.ops]\nresource_group = \"kbst-ops-westeurope\"\n",
            "",
        )
        .replace(
            "[config.apps]\n",
            "[config.apps]\ncreate_resource_group = true\n",
        );
    env.write("p/clusters/aks_zero.toml", &shared);
    let refused = env
        .cmd()
        .args(["validate", "p", "--output", "json"])
        .output()
        .expect("validate");
    let json: Json = serde_json::from_slice(&refused.stdout).expect("json");
    assert_eq!(
        json["diagnostics"][0]["code"], "shared-resource-group",
        "{json}"
    );
    assert_eq!(
        json["diagnostics"][0]["message"],
        "resource group `kbst-apps-westeurope` is created by cluster `aks_zero` in environment `ops` and also used by cluster `aks_zero` in `apps`"
    );
}

/// Item 10: EBS volumes left `encrypted` unset, and ARNs were written for the `aws` partition.
#[test]
fn eks_volumes_are_encrypted_and_arns_follow_the_partition() {
    let Some(s) = scan() else { return };
    let p = &s.plan;
    let lt = |pool: &str| {
        after(
            p,
            &format!("{PRIVATE}.module.node_pool[\"{pool}\"].aws_launch_template.pool[0]"),
        )
    };
    let default = lt("default");
    let ebs = &default["block_device_mappings"][0]["ebs"][0];
    assert_eq!(
        (&ebs["encrypted"], &ebs["volume_type"]),
        (&"true".into(), &"gp3".into())
    );
    assert_eq!(default["metadata_options"][0]["http_tokens"], "required");
    assert_eq!(
        default["metadata_options"][0]["http_put_response_hop_limit"],
        1
    );
    // Bottlerocket: the size goes to its data volume, and both volumes are encrypted.
    let arm = lt("arm");
    let devices: Vec<(&Json, &Json, &Json)> = arm["block_device_mappings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            (
                &m["device_name"],
                &m["ebs"][0]["volume_size"],
                &m["ebs"][0]["encrypted"],
            )
        })
        .collect();
    assert_eq!(
        devices,
        [
            (&"/dev/xvda".into(), &Json::Null, &"true".into()),
            (&"/dev/xvdb".into(), &50.into(), &"true".into())
        ]
    );
    assert_eq!(arm["metadata_options"][0]["http_put_response_hop_limit"], 2);
    let china = "module.eks_heavy.module.eks_china";
    let arns: BTreeSet<&str> = changes(p, &format!("{china}.aws_iam_role_policy_attachment"))
        .values()
        .filter_map(|rc| rc["change"]["after"]["policy_arn"].as_str())
        .collect();
    assert_eq!(arns.len(), 5);
    assert!(
        arns.iter()
            .all(|a| a.starts_with("arn:aws-cn:iam::aws:policy/")),
        "{arns:?}"
    );
    let node_role = after(p, &format!("{china}.aws_iam_role.node"));
    assert!(
        node_role["assume_role_policy"]
            .as_str()
            .unwrap_or_default()
            .contains("ec2.amazonaws.com.cn"),
        "{node_role}"
    );
}

/// Item 10: AKS had no authorized IP ranges, private cluster, critical-add-ons-only default
/// pool, and only a local-account kubeconfig.
#[test]
fn aks_offers_authorized_ranges_private_clusters_critical_addons_and_entra_id() {
    let Some(s) = scan() else { return };
    let p = &s.plan;
    let c = after(
        p,
        "module.doubles.module.aks_entra.azurerm_kubernetes_cluster.current",
    );
    assert_eq!(
        c["api_server_access_profile"][0]["authorized_ip_ranges"],
        serde_json::json!(["192.0.2.0/24"])
    );
    assert_eq!(c["local_account_disabled"], true);
    assert_eq!(c["role_based_access_control_enabled"], true);
    let aad = &c["azure_active_directory_role_based_access_control"][0];
    assert_eq!(aad["azure_rbac_enabled"], true);
    assert_eq!(
        aad["admin_group_object_ids"],
        serde_json::json!(["00000000-0000-0000-0000-000000000001"])
    );
    assert_eq!(
        c["default_node_pool"][0]["only_critical_addons_enabled"],
        true
    );
    let private = after(
        p,
        "module.doubles.module.aks_private.azurerm_kubernetes_cluster.current",
    );
    assert_eq!(private["private_cluster_enabled"], true);
    // The defaults stay Kubestack's: a local account, a public API server.
    let zero = after(
        p,
        "module.multi_cloud.module.aks_zero.azurerm_kubernetes_cluster.current",
    );
    assert_eq!(zero["local_account_disabled"], false);
    assert_eq!(zero["private_cluster_enabled"], false);
}

/// Item 10: GKE's default pools had `pd-balanced` disks where Kubestack has `pd-standard`.
#[test]
fn gke_pools_default_to_kubestacks_pd_standard_disks() {
    let Some(s) = scan() else { return };
    let pool = after(
        &s.plan,
        "module.multi_cloud.module.gke_zero.module.node_pool[\"default\"].google_container_node_pool.pool",
    );
    assert_eq!(pool["node_config"][0]["disk_type"], "pd-standard");
}

/// `plinth validate --output json` of a minimal platform whose EKS cluster gets `cluster`
/// extra keys in `[config.apps]` and `extra` appended: the diagnostics' codes and messages.
fn validate_eks(cluster: &str, extra: &str) -> Vec<(String, String)> {
    let env = common::TestEnv::new();
    env.run_ok(&["init", "p", "--example", "minimal"]);
    let file = env.read("p/clusters/eks_zero.toml").replacen(
        "[config.apps]\n",
        &format!("[config.apps]\n{cluster}"),
        1,
    );
    env.write("p/clusters/eks_zero.toml", &format!("{file}{extra}"));
    let out = env
        .cmd()
        .args(["validate", "p", "--output", "json"])
        .output()
        .expect("validate");
    let json: Json = serde_json::from_slice(&out.stdout).expect("validate json");
    json["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| {
            (
                d["code"].as_str().unwrap_or_default().to_string(),
                d["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

// ---- the checkov gate ----

/// The checkov version the baseline was written for (`.ci/run` installs it).
const CHECKOV_VERSION: &str = "3.3.30";

/// checkov: `PLINTH_CHECKOV`, the CI's venv, or on PATH.
fn checkov() -> Option<PathBuf> {
    std::env::var_os("PLINTH_CHECKOV")
        .map(PathBuf::from)
        .or_else(|| {
            let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.ci/venv/bin/checkov");
            venv.is_file().then_some(venv)
        })
        .or_else(|| engines::which("checkov"))
}

/// One accepted finding: a check and the resources (globs, `*` any text) it may fail on.
struct Accepted {
    check: String,
    resources: Vec<String>,
    reason: String,
}

fn baseline() -> Vec<Accepted> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.ci/checkov-baseline.toml");
    let text = std::fs::read_to_string(&path).expect("read the checkov baseline");
    let doc: toml_edit::DocumentMut = text.parse().expect("baseline is TOML");
    doc["accept"]
        .as_array_of_tables()
        .expect("[[accept]] tables")
        .iter()
        .map(|t| {
            let s = |k: &str| {
                t.get(k)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            Accepted {
                check: s("check"),
                resources: t
                    .get("resources")
                    .and_then(|v| v.as_array())
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str())
                            .map(String::from)
                            .collect()
                    })
                    .unwrap_or_default(),
                reason: s("reason"),
            }
        })
        .collect()
}

/// `*` matches any text (including `.` and `[`).
fn glob(pattern: &str, s: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == s,
        Some((head, rest)) => {
            s.starts_with(head)
                && (0..=s.len() - head.len())
                    .any(|i| s.is_char_boundary(head.len() + i) && glob(rest, &s[head.len() + i..]))
        }
    }
}

/// checkov over the plan: every failed check must be accepted in the baseline (with a reason),
/// and every accepted finding must still occur, so the baseline never hides a fixed one.
#[test]
fn checkov_finds_nothing_beyond_the_baseline() {
    let Some(s) = scan() else { return };
    let Some(checkov) = engines::require("checkov (pip install checkov==3.3.30)", checkov()) else {
        return;
    };
    let out = Command::new(&checkov)
        .args([
            "-f",
            "scan.json",
            "--framework",
            "terraform_plan",
            "--quiet",
            "--compact",
            "--skip-download",
            "-o",
            "json",
        ])
        .current_dir(&s.dir)
        .env("BC_SKIP_MAPPING", "TRUE")
        .output()
        .expect("run checkov");
    let report: Json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "checkov output is not JSON ({e}):\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let report = if report.is_array() {
        report[0].clone()
    } else {
        report
    };
    assert_eq!(
        report["summary"]["checkov_version"],
        CHECKOV_VERSION,
        "{} is another checkov than the baseline's: `pip install checkov=={CHECKOV_VERSION}` (as `.ci/run` does) or set PLINTH_CHECKOV",
        checkov.display()
    );
    assert_eq!(
        report["summary"]["parsing_errors"], 0,
        "{}",
        report["summary"]
    );
    let failed: Vec<(String, String)> = report["results"]["failed_checks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            (
                f["check_id"].as_str().unwrap_or_default().to_string(),
                f["resource"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let accepted = baseline();
    for a in &accepted {
        assert!(
            a.reason.len() > 20 && !a.resources.is_empty(),
            "{}: every accepted finding names its resources and gives a reason",
            a.check
        );
    }
    let covers = |a: &Accepted, (check, resource): &(String, String)| {
        a.check == *check && a.resources.iter().any(|p| glob(p, resource))
    };
    let new: Vec<&(String, String)> = failed
        .iter()
        .filter(|f| !accepted.iter().any(|a| covers(a, f)))
        .collect();
    let stale: Vec<&str> = accepted
        .iter()
        .filter(|a| !failed.iter().any(|f| covers(a, f)))
        .map(|a| a.check.as_str())
        .collect();
    // The figures the README gives: distinct failed checks per platform and provider.
    let mut figures: BTreeMap<(&str, &str), BTreeSet<&str>> = BTreeMap::new();
    for (check, resource) in &failed {
        let platform = resource.split('.').nth(1).unwrap_or_default();
        let provider = if check.contains("AWS") {
            "aws"
        } else if check.contains("GCP") {
            "google"
        } else if check.contains("AZURE") {
            "azurerm"
        } else {
            "other"
        };
        figures
            .entry((platform, provider))
            .or_default()
            .insert(check);
    }
    eprintln!(
        "checkov {}: {} passed, {} failed on {} resources",
        report["summary"]["checkov_version"],
        report["summary"]["passed"],
        report["summary"]["failed"],
        report["summary"]["resource_count"]
    );
    for ((platform, provider), checks) in &figures {
        eprintln!("  {platform} {provider}: {} failed checks", checks.len());
    }
    assert!(
        new.is_empty(),
        "checkov found what the baseline does not accept (fix it, or accept it in .ci/checkov-baseline.toml with a reason):\n{new:#?}"
    );
    assert!(
        stale.is_empty(),
        "accepted findings checkov no longer reports (remove them from .ci/checkov-baseline.toml): {stale:?}"
    );
}

#[test]
fn baseline_globs() {
    assert!(glob(
        "module.*.aws_eip.ingress[*]",
        "module.minimal.module.eks_zero.aws_eip.ingress[2]"
    ));
    assert!(!glob(
        "module.*.aws_eip.nat[*]",
        "module.minimal.module.eks_zero.aws_eip.ingress[2]"
    ));
    assert!(glob("a", "a") && !glob("a", "ab") && glob("*", ""));
}

// ---- item 6: what replaces a cluster or node group, from the real aws provider ----

/// Each EKS pool key with the pool's value before and after (TOML lines); a pool per key.
const POOL_CHANGES: &[(&str, &str, &str)] = &[
    ("name", "", "name = \"renamed\""),
    ("instance_types", "", "instance_types = [\"m5.large\"]"),
    ("min_size", "", "min_size = 2"),
    ("max_size", "", "max_size = 3"),
    ("desired_capacity", "", "desired_capacity = 2"),
    (
        "availability_zones",
        "",
        "availability_zones = [\"eu-west-1a\"]",
    ),
    ("disk_size", "", "disk_size = 30"),
    ("kubestack_node_group", "", "kubestack_node_group = true"),
    ("ami_type", "", "ami_type = \"BOTTLEROCKET_x86_64\""),
    (
        "ami_release_version",
        "",
        "ami_release_version = \"1.31.0-20250101\"",
    ),
    (
        "metadata_options",
        "",
        "metadata_options = { http_tokens = \"optional\" }",
    ),
    ("vpc_subnet_ids", "", "vpc_subnet_ids = [\"{node_subnet}\"]"),
    (
        "vpc_secondary_cidr",
        "",
        "vpc_secondary_cidr = \"100.70.0.0/16\"",
    ),
    (
        "vpc_subnet_newbits",
        "vpc_secondary_cidr = \"100.64.0.0/16\"",
        "vpc_secondary_cidr = \"100.64.0.0/16\"\nvpc_subnet_newbits = 3",
    ),
    (
        "vpc_subnet_number_offset",
        "vpc_secondary_cidr = \"100.65.0.0/16\"",
        "vpc_secondary_cidr = \"100.65.0.0/16\"\nvpc_subnet_number_offset = 2",
    ),
    (
        "vpc_subnet_map_public_ip",
        "vpc_secondary_cidr = \"100.66.0.0/16\"",
        "vpc_secondary_cidr = \"100.66.0.0/16\"\nvpc_subnet_map_public_ip = false",
    ),
    (
        "taints",
        "",
        "taints = [{ key = \"a\", value = \"b\", effect = \"NO_SCHEDULE\" }]",
    ),
    ("tags", "", "tags = { team = \"x\" }"),
    ("labels", "", "labels = { team = \"x\" }"),
];

/// How each EKS cluster key reaches the provider, which decides what its change replaces.
enum Mechanism {
    /// An attribute of `aws_eks_cluster` (a replace path prefix): the plan says if it forces.
    Cluster(&'static [&'static str]),
    /// The control plane subnets (`vpc_config.subnet_ids`).
    ControlSubnets,
    /// The node subnets every node group without subnets of its own uses.
    NodeSubnets,
    /// Both.
    AllSubnets,
    /// Renames or moves every resource (a new name, region or VPC: EKS cannot move a cluster
    /// to another VPC, whatever the provider plans for its subnets).
    Everything,
    /// Neither the cluster nor a node group.
    Elsewhere,
    /// Refused by validation.
    Refused,
}

const CLUSTER_MECHANISMS: &[(&str, Mechanism)] = &[
    ("name_prefix", Mechanism::Everything),
    ("base_domain", Mechanism::Elsewhere),
    ("region", Mechanism::Everything),
    ("cluster_availability_zones", Mechanism::AllSubnets),
    ("cluster_version", Mechanism::Cluster(&["version"])),
    ("cluster_vpc_cidr", Mechanism::Everything),
    ("cluster_vpc_subnet_newbits", Mechanism::AllSubnets),
    (
        "cluster_vpc_control_subnet_newbits",
        Mechanism::ControlSubnets,
    ),
    ("cluster_vpc_node_subnet_newbits", Mechanism::NodeSubnets),
    (
        "cluster_vpc_node_subnet_number_offset",
        Mechanism::NodeSubnets,
    ),
    ("cluster_vpc_legacy_node_subnets", Mechanism::NodeSubnets),
    ("cluster_vpc_subnet_map_public_ip", Mechanism::Elsewhere),
    ("cluster_vpc_nat_gateways", Mechanism::Elsewhere),
    ("cluster_vpc_dns_hostnames", Mechanism::Elsewhere),
    ("cluster_vpc_dns_support", Mechanism::Elsewhere),
    ("cluster_aws_auth_map_roles", Mechanism::Elsewhere),
    ("cluster_aws_auth_map_users", Mechanism::Elsewhere),
    ("cluster_aws_auth_map_accounts", Mechanism::Refused),
    (
        "enabled_cluster_log_types",
        Mechanism::Cluster(&["enabled_cluster_log_types"]),
    ),
    ("disable_openid_connect_provider", Mechanism::Elsewhere),
    (
        "cluster_endpoint_private_access",
        Mechanism::Cluster(&["vpc_config", "0", "endpoint_private_access"]),
    ),
    (
        "cluster_endpoint_public_access",
        Mechanism::Cluster(&["vpc_config", "0", "endpoint_public_access"]),
    ),
    (
        "cluster_public_access_cidrs",
        Mechanism::Cluster(&["vpc_config", "0", "public_access_cidrs"]),
    ),
    (
        "cluster_service_cidr",
        Mechanism::Cluster(&["kubernetes_network_config"]),
    ),
    (
        "cluster_encryption_key_arn",
        Mechanism::Cluster(&["encryption_config"]),
    ),
    ("disable_default_ingress", Mechanism::Elsewhere),
];

/// The cluster's keys before (`[config.apps]` lines) and the lines the changed plan adds.
const CLUSTER_BASE: &str = "region = \"eu-west-1\"\ncluster_availability_zones = [\"eu-west-1a\", \"eu-west-1b\"]\ncluster_version = \"1.31\"\ncluster_vpc_subnet_map_public_ip = false\ncluster_encryption_key_arn = \"arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-00000000000a\"\n";
const CLUSTER_CHANGES: &str = "cluster_version = \"1.32\"\nenabled_cluster_log_types = [\"api\", \"audit\"]\ncluster_endpoint_private_access = true\ncluster_endpoint_public_access = false\ncluster_public_access_cidrs = [\"192.0.2.0/24\"]\ncluster_service_cidr = \"10.100.0.0/16\"\ncluster_encryption_key_arn = \"arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-00000000000b\"\ncluster_vpc_control_subnet_newbits = 7\ncluster_vpc_subnet_map_public_ip = true\ncluster_vpc_nat_gateways = \"single\"\ncluster_vpc_dns_hostnames = true\ncluster_vpc_dns_support = false\ndisable_openid_connect_provider = true\ndisable_default_ingress = true\nbase_domain = \"other.example.com\"\ncluster_aws_auth_map_roles = [{ rolearn = \"arn:aws:iam::123456789012:role/admin\", username = \"admin\", groups = [\"system:masters\"] }]\ncluster_aws_auth_map_users = [{ userarn = \"arn:aws:iam::123456789012:user/dev\", username = \"dev\", groups = [\"developers\"] }]\n";

/// The `keys` platform: one EKS cluster with a node pool per pool key; `changed` applies
/// the cluster changes (`CLUSTER_CHANGES`, or `cluster` lines instead) and every pool's.
fn keys_platform(cluster: Option<&str>, pools_changed: bool, node_subnet: &str) -> String {
    let mut s = format!(
        "provider = \"eks\"\n\n[config.apps]\n{}\n[node_pools.default.config.apps]\n{POOL_BASE}",
        overlay(CLUSTER_BASE, cluster.unwrap_or_default())
    );
    for (key, before, after) in POOL_CHANGES {
        let lines = if pools_changed { after } else { before };
        s.push_str(&format!(
            "\n[node_pools.p_{key}.config.apps]\n{}",
            overlay(POOL_BASE, &lines.replace("{node_subnet}", node_subnet))
        ));
    }
    s
}

const POOL_BASE: &str = "instance_types = [\"t3a.large\"]\nmax_size = 2\n";

/// `base` TOML lines with those `changes` sets replaced by `changes`.
fn overlay(base: &str, changes: &str) -> String {
    let key = |line: &str| line.split(" = ").next().unwrap_or_default().to_string();
    let changed: BTreeSet<String> = changes.lines().map(key).collect();
    base.lines()
        .filter(|l| !changed.contains(&key(l)))
        .chain(changes.lines())
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The planned changes of `plan`: address → (actions, replace paths other than moto's
/// invented `remote_access`).
fn replacements(plan: &Json) -> BTreeMap<String, (Vec<String>, Vec<Vec<String>>)> {
    changes(plan, "")
        .into_iter()
        .map(|(a, rc)| {
            let actions = rc["change"]["actions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|x| x.as_str().map(String::from))
                .collect();
            let paths = rc["change"]["replace_paths"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| {
                    p.as_array()
                        .into_iter()
                        .flatten()
                        .map(|s| s.as_str().map_or_else(|| s.to_string(), String::from))
                        .collect::<Vec<String>>()
                })
                // moto invents a `remote_access` block on node groups (engines.md): a fidelity
                // gap, not a replacement Plinth causes.
                .filter(|p: &Vec<String>| p.first().map(String::as_str) != Some("remote_access"))
                .collect();
            (a.to_string(), (actions, paths))
        })
        .collect()
}

/// Item 6: changing an EKS pool's instance types replaced its node group with an outage and
/// `plinth plan` did not say so. Every pool key and cluster key is changed against a cluster
/// applied to moto, and what the real aws provider plans to replace must match the key tables
/// (`.replaces()`, `.replaces_pools()`) that `plinth plan` flags workload migrations from.
#[test]
fn eks_replacement_table_matches_the_real_aws_provider() {
    use plinth_core::provider::eks::{CLUSTER_KEYS, POOL_KEYS};
    // Every key of both tables is accounted for.
    let covered: BTreeSet<&str> = POOL_CHANGES.iter().map(|(k, _, _)| *k).collect();
    let all: BTreeSet<&str> = POOL_KEYS.iter().map(|k| k.name).collect();
    assert_eq!(covered, all, "a pool key without a change to plan");
    let covered: BTreeSet<&str> = CLUSTER_MECHANISMS.iter().map(|(k, _)| *k).collect();
    let all: BTreeSet<&str> = CLUSTER_KEYS.iter().map(|k| k.name).collect();
    assert_eq!(covered, all, "a cluster key without a mechanism");

    let env = common::TestEnv::new();
    let Some(tf) = engines::require(
        "terraform and the real aws provider mirror (tf-plugins)",
        engines::Terraform::new(env.path()),
    ) else {
        return;
    };
    let Some(moto) = engines::require(
        "moto_server (pip install 'moto[server]')",
        engines::Moto::start(),
    ) else {
        return;
    };
    env.write(
        "keys/plinth.toml",
        "[platform]\nname = \"keys\"\nbase_domain = \"example.com\"\n",
    );
    env.write("keys/clusters/keys.toml", &keys_platform(None, false, ""));
    env.run_ok(&["generate", "keys"]);
    let out = env.join("keys/generated");
    std::fs::write(out.join("moto_override.tf"), moto.override_for(&["keys"])).expect("override");
    tf.run(&out, &["init"]);
    tf.run(&out, &["workspace", "select", "-or-create", "apps"]);
    let applied = tf.run(&out, &["apply", "-auto-approve", "-parallelism=20"]);
    assert!(applied.contains("Apply complete!"), "{applied}");

    // The applied cluster: private nodes route through NAT gateways (item 1), the secondary
    // CIDR belongs to the VPC and its subnets are routed (item 3), node groups run the
    // cluster's version (item 7).
    let state: Json = serde_json::from_str(&tf.run(&out, &["show", "-json"])).expect("state");
    let resources: BTreeMap<String, &Json> = {
        fn walk<'a>(m: &'a Json, out: &mut Vec<&'a Json>) {
            out.extend(m["resources"].as_array().into_iter().flatten());
            for c in m["child_modules"].as_array().into_iter().flatten() {
                walk(c, out);
            }
        }
        let mut v = Vec::new();
        walk(&state["values"]["root_module"], &mut v);
        v.into_iter()
            .filter_map(|r| Some((r["address"].as_str()?.to_string(), &r["values"])))
            .collect()
    };
    let get = |a: &str| {
        *resources
            .get(a)
            .unwrap_or_else(|| panic!("{a} was not applied"))
    };
    let nats: BTreeSet<&str> = (0..2)
        .map(|i| {
            get(&format!("module.keys.aws_nat_gateway.current[{i}]"))["id"]
                .as_str()
                .unwrap_or_default()
        })
        .collect();
    for i in 0..2 {
        let table = get(&format!(
            "module.keys.aws_route_table_association.node[{i}]"
        ))["route_table_id"]
            .clone();
        let private = get(&format!("module.keys.aws_route_table.private[{i}]"));
        assert_eq!(
            private["id"], table,
            "node subnet {i} uses its zone's private table"
        );
        let via = private["route"][0]["nat_gateway_id"]
            .as_str()
            .unwrap_or_default();
        assert!(
            nats.contains(via),
            "the private route goes through a NAT gateway: {private}"
        );
    }
    let pool = "module.keys.module.node_pool[\"p_vpc_subnet_newbits\"]";
    assert_eq!(
        get(&format!(
            "{pool}.aws_vpc_ipv4_cidr_block_association.pool[0]"
        ))["cidr_block"],
        "100.64.0.0/16"
    );
    assert!(resources.contains_key(&format!("{pool}.aws_route_table_association.pool[1]")));
    let version = get("module.keys.aws_eks_cluster.current")["version"].clone();
    assert_eq!(version, "1.31");
    for (key, _, _) in POOL_CHANGES {
        let ng = get(&format!(
            "module.keys.module.node_pool[\"p_{key}\"].aws_eks_node_group.pool"
        ));
        assert_eq!(ng["version"], version, "p_{key}");
    }

    // Plan 1: every pool key changed on its own pool, and the cluster keys that reach the
    // cluster resource (each through its own attribute) changed together.
    let node_subnet = get("module.keys.aws_subnet.node[0]")["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let plan = |definition: &str, name: &str| -> Json {
        env.write("keys/clusters/keys.toml", definition);
        env.run_ok(&["generate", "keys"]);
        tf.run(
            &out,
            &["plan", "-refresh=false", &format!("-out={name}.tfplan")],
        );
        let json = tf.run(&out, &["show", "-json", &format!("{name}.tfplan")]);
        // Kept for reading when this test fails.
        let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("replacement-{name}.json"));
        std::fs::write(keep, &json).expect("keep the plan");
        serde_json::from_str(&json).expect("plan json")
    };
    let first = replacements(&plan(
        &keys_platform(Some(CLUSTER_CHANGES), true, &node_subnet),
        "keys",
    ));
    let mut wrong = Vec::new();
    for key in POOL_KEYS {
        let (actions, paths) = &first[&format!(
            "module.keys.module.node_pool[\"p_{}\"].aws_eks_node_group.pool",
            key.name
        )];
        let replaced = !paths.is_empty();
        if replaced != key.forces_replacement {
            wrong.push(format!(
                "pool key `{}`: the provider replaces: {replaced} ({paths:?}), the table says {}",
                key.name, key.forces_replacement
            ));
        }
        if replaced {
            assert_eq!(
                actions,
                &["create", "delete"],
                "{}: the new node group comes first",
                key.name
            );
        }
    }
    let (_, cluster_paths) = &first["module.keys.aws_eks_cluster.current"];
    let forced = |prefix: &[&str]| {
        cluster_paths
            .iter()
            .any(|p| p.len() >= prefix.len() && p.iter().zip(prefix).all(|(a, b)| a == b))
    };
    let control_subnets_replace = forced(&["vpc_config", "0", "subnet_ids"]);
    assert!(
        first.iter().any(
            |(a, (_, p))| a.starts_with("module.keys.aws_subnet.control[")
                && p.iter().any(|p| p == &["cidr_block"])
        ),
        "the control subnets' new CIDRs replace them"
    );

    // Plan 2: the node subnets move; every node group in them is replaced, the cluster is not.
    let second = replacements(&plan(
        &keys_platform(
            Some("cluster_vpc_node_subnet_number_offset = 2\n"),
            false,
            &node_subnet,
        ),
        "nodes",
    ));
    let (_, default_paths) =
        &second["module.keys.module.node_pool[\"default\"].aws_eks_node_group.pool"];
    let node_subnets_replace_pools = default_paths.iter().any(|p| p == &["subnet_ids"]);
    let (cluster_actions, _) = &second["module.keys.aws_eks_cluster.current"];
    assert!(
        !cluster_actions.contains(&"delete".to_string()),
        "{cluster_actions:?}"
    );

    for key in CLUSTER_KEYS {
        let mechanism = &CLUSTER_MECHANISMS
            .iter()
            .find(|(k, _)| *k == key.name)
            .expect("covered")
            .1;
        let (replaces, pools) = match mechanism {
            Mechanism::Cluster(prefix) => (forced(prefix), false),
            Mechanism::ControlSubnets => (control_subnets_replace, false),
            Mechanism::NodeSubnets => (false, node_subnets_replace_pools),
            Mechanism::AllSubnets => (control_subnets_replace, node_subnets_replace_pools),
            Mechanism::Everything => (true, false),
            Mechanism::Elsewhere | Mechanism::Refused => (false, false),
        };
        if (replaces, pools) != (key.forces_replacement, key.replaces_pools) {
            wrong.push(format!(
                "cluster key `{}`: the provider replaces the cluster: {replaces}, every pool: {pools}; the table says {}, {}",
                key.name, key.forces_replacement, key.replaces_pools
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "the key tables disagree with the real aws provider:\n{}\ncluster replace paths: {cluster_paths:?}",
        wrong.join("\n")
    );
}
