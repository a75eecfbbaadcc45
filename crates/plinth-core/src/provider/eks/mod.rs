//! Amazon EKS: key tables (Kubestack's current keys), naming limits and pool shape.

use super::{
    Arch, CIDRS, COUNT, POSITIVE, PoolShape, Provider, ResolvedView, STRING_MAP, STRINGS, Scaffold,
    SizeKeys, TAINTS, base_domain_key, cidrs_overlap, explicit, int, name_prefix_key,
    object_taints, string, string_map, strings,
};
use crate::diagnostic::Diagnostic;
use crate::keys::{Default, DefaultCtx, Field, Key, Ty};
use crate::value::{Kind, Origin, Table, Value};

const LOG_TYPES: &[&str] = &[
    "api",
    "audit",
    "authenticator",
    "controllerManager",
    "scheduler",
];
const AMI_TYPES: &[&str] = &[
    "AL2023_x86_64_STANDARD",
    "AL2023_ARM_64_STANDARD",
    "AL2023_x86_64_NVIDIA",
    "AL2023_x86_64_NEURON",
    "AL2_x86_64",
    "AL2_x86_64_GPU",
    "AL2_ARM_64",
    "BOTTLEROCKET_ARM_64",
    "BOTTLEROCKET_x86_64",
    "BOTTLEROCKET_ARM_64_NVIDIA",
    "BOTTLEROCKET_x86_64_NVIDIA",
];

const MAP_ROLE: &[Field] = &[
    Field::new("rolearn", Ty::String, "ARN of the IAM role.").required(),
    Field::new("username", Ty::String, "Kubernetes user name.").required(),
    Field::new("groups", STRINGS, "Kubernetes groups."),
];
const MAP_USER: &[Field] = &[
    Field::new("userarn", Ty::String, "ARN of the IAM user.").required(),
    Field::new("username", Ty::String, "Kubernetes user name.").required(),
    Field::new("groups", STRINGS, "Kubernetes groups."),
];
const METADATA_OPTIONS: &[Field] = &[
    Field::new(
        "http_endpoint",
        Ty::Enum(&["enabled", "disabled"]),
        "Instance metadata endpoint.",
    ),
    Field::new(
        "http_tokens",
        Ty::Enum(&["optional", "required"]),
        "IMDSv2 tokens.",
    ),
    Field::new(
        "http_put_response_hop_limit",
        Ty::Integer { min: 1 },
        "Hop limit for metadata PUT responses.",
    ),
    Field::new(
        "http_protocol_ipv6",
        Ty::Enum(&["enabled", "disabled"]),
        "IPv6 metadata endpoint.",
    ),
    Field::new(
        "instance_metadata_tags",
        Ty::Enum(&["enabled", "disabled"]),
        "Instance tags in metadata.",
    ),
];

/// The Terraform module, embedded from `terraform/` beside this file.
static MODULE: include_dir::Dir<'static> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/src/provider/eks/terraform");

// Which keys replace the cluster (`.replaces()`) or its node groups (`.replaces_pools()`,
// `.replaces()` on pool keys) is what the real aws provider 5.100.0 plans when the key changes:
// `eks_replacement_table_matches_the_real_aws_provider` applies a cluster against moto, changes
// every key, and compares the plan's replacements with these tables.
pub static CLUSTER_KEYS: &[Key] = &[
    name_prefix_key(),
    base_domain_key(),
    Key::new(
        "region",
        Ty::String,
        "AWS region of every resource, e.g. `eu-west-1`: set on the cluster's aliased `aws` provider (Kubestack takes it from that provider).",
    )
    .required()
    .replaces(),
    Key::new(
        "cluster_availability_zones",
        STRINGS,
        "Availability zones of the VPC: one control plane subnet, one node subnet, and (for private subnets) one NAT gateway each; node pools use them unless they set their own. A change updates the control plane's subnets in place.",
    )
    .required()
    .replaces_pools(),
    Key::new(
        "cluster_version",
        Ty::String,
        "Kubernetes version of the control plane (`aws_eks_cluster.version`), e.g. `1.32`; every node group follows it. The provider's default when unset; upgrades happen in place.",
    ),
    Key::new(
        "cluster_vpc_cidr",
        Ty::Cidr,
        "CIDR of the cluster's VPC (`aws_vpc`); the control and node subnets are cut from it.",
    )
    .default(Default::Str("10.0.0.0/16"))
    .replaces(),
    Key::new(
        "cluster_vpc_subnet_newbits",
        COUNT,
        "Legacy (Kubestack release): newbits of both the control and the node subnets; overrides the two keys below when set.",
    )
    .replaces_pools(),
    Key::new(
        "cluster_vpc_control_subnet_newbits",
        COUNT,
        "Newbits of the control plane subnets (`aws_subnet.control`, numbers 0, 1, … in the VPC CIDR), which also hold the NAT gateways and internet-facing load balancers. A change replaces those subnets and moves the control plane to the new ones.",
    )
    .default(Default::Int(8)),
    Key::new(
        "cluster_vpc_node_subnet_newbits",
        COUNT,
        "Newbits of the node subnets (`aws_subnet.node`) shared by the node pools that bring no subnets of their own.",
    )
    .default(Default::Int(4))
    .replaces_pools(),
    Key::new(
        "cluster_vpc_node_subnet_number_offset",
        COUNT,
        "Number of the first node subnet within the VPC CIDR (at `cluster_vpc_node_subnet_newbits`), so node subnets do not overlap the control subnets.",
    )
    .default(Default::Int(1))
    .replaces_pools(),
    Key::new(
        "cluster_vpc_legacy_node_subnets",
        Ty::Boolean,
        "Kubestack's older layout: no node subnets, nodes run in the control plane subnets.",
    )
    .default(Default::Bool(false))
    .replaces_pools(),
    Key::new(
        "cluster_vpc_subnet_map_public_ip",
        Ty::Boolean,
        "Whether nodes in the node subnets get public IPs (`map_public_ip_on_launch`). `false` makes the node subnets private: they route through NAT gateways (`cluster_vpc_nat_gateways`) and take internal load balancers. The control subnets assign no public IPs unless nodes run in them (`cluster_vpc_legacy_node_subnets`).",
    )
    .default(Default::Bool(true)),
    Key::new(
        "cluster_vpc_nat_gateways",
        Ty::Enum(&["one_per_zone", "single"]),
        "NAT gateways (`aws_nat_gateway` with an Elastic IP) for private subnets (`cluster_vpc_subnet_map_public_ip = false`, or a pool's `vpc_subnet_map_public_ip = false`): one per zone, as Kubestack (a zone's outage leaves the others their egress), or a single one in the first zone (cheaper). None while every subnet is public.",
    )
    .default(Default::Str("one_per_zone")),
    Key::new(
        "cluster_vpc_dns_hostnames",
        Ty::Boolean,
        "DNS hostnames for instances in the VPC (`enable_dns_hostnames`).",
    )
    .default(Default::Bool(false)),
    Key::new(
        "cluster_vpc_dns_support",
        Ty::Boolean,
        "The Amazon DNS server in the VPC (`enable_dns_support`).",
    )
    .default(Default::Bool(true)),
    Key::new(
        "cluster_aws_auth_map_roles",
        Ty::List(&Ty::Object(MAP_ROLE)),
        "IAM roles given access to the cluster: an EKS access entry (`aws_eks_access_entry`, authentication mode `API_AND_CONFIG_MAP`) per role. Group `system:masters` adds the AmazonEKSClusterAdminPolicy association; `system:bootstrappers`/`system:nodes` make a node (EC2_LINUX) entry; other groups become the entry's Kubernetes groups (other `system:` groups are refused).",
    ),
    Key::new(
        "cluster_aws_auth_map_users",
        Ty::List(&Ty::Object(MAP_USER)),
        "IAM users given access to the cluster: an EKS access entry per user, with groups mapped as for `cluster_aws_auth_map_roles`.",
    ),
    Key::new(
        "cluster_aws_auth_map_accounts",
        STRINGS,
        "Refused when set: aws-auth's account-wide mapping has no EKS access entry counterpart; list the account's roles and users in `cluster_aws_auth_map_roles`/`_users` instead.",
    ),
    Key::new(
        "enabled_cluster_log_types",
        Ty::List(&Ty::Enum(LOG_TYPES)),
        "Control plane log types sent to CloudWatch Logs (`enabled_cluster_log_types`).",
    )
    .default(Default::Strs(LOG_TYPES)),
    Key::new(
        "disable_openid_connect_provider",
        Ty::Boolean,
        "Do not create the IAM OIDC provider (`aws_iam_openid_connect_provider`) that IAM roles for service accounts need.",
    )
    .default(Default::Bool(false)),
    Key::new(
        "cluster_endpoint_private_access",
        Ty::Boolean,
        "The API server's private endpoint inside the VPC (`endpoint_private_access`).",
    )
    .default(Default::Bool(false)),
    Key::new(
        "cluster_endpoint_public_access",
        Ty::Boolean,
        "The API server's public endpoint (`endpoint_public_access`), as Kubestack; limit it with `cluster_public_access_cidrs`.",
    )
    .default(Default::Bool(true)),
    Key::new(
        "cluster_public_access_cidrs",
        CIDRS,
        "CIDRs allowed to reach the public API endpoint (`public_access_cidrs`); everyone (`0.0.0.0/0`) when unset.",
    ),
    Key::new(
        "cluster_service_cidr",
        Ty::Cidr,
        "Kubernetes service CIDR (`kubernetes_network_config.service_ipv4_cidr`); EKS picks one when unset.",
    )
    .replaces(),
    Key::new(
        "cluster_encryption_key_arn",
        Ty::String,
        "KMS key ARN that encrypts Kubernetes secrets (`encryption_config`); EKS's own envelope encryption (an AWS-owned key) when unset. Adding it is an in-place update; EKS refuses to change or remove it afterwards.",
    ),
    Key::new(
        "disable_default_ingress",
        Ty::Boolean,
        "Do not create the default ingress: a Route 53 zone for the cluster's fqdn (`aws_route53_zone`), A records for the fqdn and `*.<fqdn>`, and one Elastic IP per zone for the ingress controller's network load balancer (module output `default_ingress`).",
    )
    .default(Default::Bool(false)),
];

pub static POOL_KEYS: &[Key] = &[
    Key::new("name", Ty::String, "Prefix of the node group's name (`node_group_name_prefix`, with a generated suffix so a replacement is created before the old group is destroyed); the pool's key when unset. At most 36 characters.").replaces(),
    Key::new("instance_types", STRINGS, "EC2 instance types of the node group; the first decides the AMI type (arm64, GPU).").required().replaces(),
    Key::new("min_size", COUNT, "Minimum nodes (`scaling_config.min_size`).").default(Default::Int(1)),
    Key::new("max_size", POSITIVE, "Maximum nodes (`scaling_config.max_size`).").required(),
    Key::new("desired_capacity", COUNT, "Nodes at creation (`scaling_config.desired_size`); the cluster autoscaler owns it afterwards, so later changes are ignored.").default(Default::Key("min_size")),
    Key::new("availability_zones", STRINGS, "Zones of the pool: its subnets are the cluster's node subnets (or its own subnets) in these zones.").default(Default::ClusterKey("cluster_availability_zones")).replaces(),
    Key::new("disk_size", POSITIVE, "Size in GiB of each node's encrypted gp3 data volume (the root volume; Bottlerocket's data volume), in the pool's launch template.").default(Default::Int(20)),
    Key::new("ami_type", Ty::Enum(AMI_TYPES), "EKS AMI type of the node group.").default(Default::Computed(default_ami_type, "follows the first instance type: arm64 → `AL2023_ARM_64_STANDARD`, GPU → `AL2023_x86_64_NVIDIA`, else `AL2023_x86_64_STANDARD`")).replaces(),
    Key::new("kubestack_node_group", Ty::Boolean, "Keep the node group and its launch template as Kubestack creates them: a fixed name (`node_group_name`), and a launch template only with `metadata_options`, holding the root volume's size and those options as given (without it, `disk_size` is on the node group). Volumes are then encrypted only by the account's EBS default and instance metadata is as AWS defaults it. `plinth import kubestack` sets it so that migrating replaces no node group and rolls no node; a change that replaces the node group then fails on the name in use instead of creating the new group first.").default(Default::Bool(false)).replaces(),
    Key::new("ami_release_version", Ty::String, "AMI release version of the node group (`release_version`); the latest for the cluster's version when unset."),
    Key::new("metadata_options", Ty::Object(METADATA_OPTIONS), "Instance metadata options of the pool's launch template. Unset fields: endpoint `enabled`, tokens `required` (IMDSv2 only), hop limit 1 (pods without host networking cannot reach the node's credentials: use IAM roles for service accounts; give add-ons their region and VPC explicitly or raise it to 2); a `kubestack_node_group` leaves them to AWS, as Kubestack did."),
    Key::new("vpc_subnet_ids", STRINGS, "Existing subnets for the node group instead of the cluster's node subnets.").replaces(),
    Key::new("vpc_secondary_cidr", Ty::Cidr, "A secondary CIDR associated with the cluster's VPC (`aws_vpc_ipv4_cidr_block_association`) in which the pool gets subnets of its own, one per zone, routed like the node subnets. Each pool needs its own CIDR, outside the VPC CIDR (e.g. in `100.64.0.0/10`).").replaces(),
    Key::new("vpc_subnet_newbits", COUNT, "Newbits of the pool's own subnets within `vpc_secondary_cidr` (2 when unset); only with `vpc_secondary_cidr`.").replaces(),
    Key::new("vpc_subnet_number_offset", COUNT, "Number of the pool's first subnet within `vpc_secondary_cidr`; only with `vpc_secondary_cidr`.").default(Default::Int(1)).replaces(),
    Key::new("vpc_subnet_map_public_ip", Ty::Boolean, "Public IPs for nodes in the pool's own subnets; `false` routes them through the cluster's NAT gateways. Only with `vpc_secondary_cidr`.").default(Default::Bool(true)),
    Key::new("taints", TAINTS, "Kubernetes taints of the node group: `{ key, value, effect }` with effect `NO_SCHEDULE`, `NO_EXECUTE` or `PREFER_NO_SCHEDULE`."),
    Key::new("tags", STRING_MAP, "Extra AWS tags on the node group, its launch template, instances and volumes (beside the cluster's)."),
    Key::new("labels", STRING_MAP, "Kubernetes labels of the pool's nodes."),
];

/// The EKS AMI type Kubestack picks from the first instance type.
fn default_ami_type(ctx: &DefaultCtx<'_>) -> Option<Kind> {
    // Computed for every pool of every environment: read in place, the name shared.
    let first = ctx
        .config
        .get("instance_types")?
        .as_array()?
        .iter()
        .find_map(Value::as_str)?;
    let (arch, gpu) = classify(first);
    Some(Kind::String(crate::value::Str::from_static(
        match (arch, gpu) {
            (Arch::Arm64, _) => "AL2023_ARM_64_STANDARD",
            (Arch::Amd64, true) => "AL2023_x86_64_NVIDIA",
            (Arch::Amd64, false) => "AL2023_x86_64_STANDARD",
        },
    )))
}

/// Architecture and GPU of an EC2 instance type, from its family (`m7g.large` → arm64).
pub fn classify(instance_type: &str) -> (Arch, bool) {
    let family = instance_type
        .split('.')
        .next()
        .unwrap_or_default()
        .split('-')
        .next()
        .unwrap_or_default();
    let letters = family
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(family.len());
    let (prefix, rest) = family.split_at(letters);
    let attrs = rest.trim_start_matches(|c: char| c.is_ascii_digit());
    // Graviton families carry a `g` after the generation (m7g, c6gn, t4g, x2gd); `a1` too.
    let arm = family == "a1" || attrs.contains('g');
    let gpu = matches!(prefix, "p" | "g" | "gr");
    (if arm { Arch::Arm64 } else { Arch::Amd64 }, gpu)
}

/// EKS cluster names: 1–100 characters, letters, digits, `-` and `_`, starting alphanumeric.
fn check_cluster_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 100 {
        return Err(format!(
            "EKS cluster names have 1 to 100 characters; `{name}` has {}",
            name.len()
        ));
    }
    let ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "EKS cluster names are letters, digits, `-` and `_`, starting with a letter or digit: `{name}`"
        ))
    }
}

/// EKS node group names: 1–63 characters, letters, digits, `-` and `_`, starting alphanumeric.
/// Plinth's node groups are `<name>-` plus Terraform's 26-character unique suffix, so the name
/// itself has at most 36 characters (the provider's limit on `node_group_name_prefix` is 37).
fn check_pool_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 36
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "EKS node pool names have 1 to 36 letters, digits, `-` and `_` (the node group adds `-` and a 26-character suffix to them): `{name}`"
        ))
    }
}

/// Groups of a node role's aws-auth mapping: such a mapping becomes an EC2_LINUX access entry.
const NODE_GROUPS: &[&str] = &["system:bootstrappers", "system:nodes"];
/// Prefixes EKS refuses in an access entry's user name.
const RESERVED_USER_PREFIXES: &[&str] = &["system:", "eks:", "aws:", "amazon:", "iam:"];

fn check_resolved(v: &ResolvedView<'_>, out: &mut Vec<Diagnostic>) {
    let c = v.cluster;
    if let Some(accounts) = explicit(c, "cluster_aws_auth_map_accounts")
        && !accounts.str_list().is_empty()
    {
        out.push(
            Diagnostic::error(
                "unsupported-key",
                format!("{}: `cluster_aws_auth_map_accounts` has no effect on EKS access entries", v.what),
            )
            .at_value(accounts.origin, "aws-auth's account-wide mapping")
            .hint("Plinth grants access with EKS access entries, which name each principal: list the account's roles in `cluster_aws_auth_map_roles` (or users in `cluster_aws_auth_map_users`) and remove this key"),
        );
    }
    check_access(v, out);
    let private = c
        .get("cluster_vpc_subnet_map_public_ip")
        .and_then(Value::as_bool)
        == Some(false);
    let legacy = c
        .get("cluster_vpc_legacy_node_subnets")
        .and_then(Value::as_bool)
        == Some(true);
    if private && legacy {
        let d = Diagnostic::error(
            "unsupported-combination",
            format!("{}: private nodes need node subnets of their own", v.what),
        );
        let d = v.at(
            d,
            c,
            "cluster_vpc_subnet_map_public_ip",
            "no public IPs for nodes",
        );
        out.push(
            v.at(d, c, "cluster_vpc_legacy_node_subnets", "nodes in the control subnets")
                .hint("with `cluster_vpc_legacy_node_subnets = true` nodes run in the control subnets, which route to the internet gateway: without public IPs they have no egress. Remove `cluster_vpc_legacy_node_subnets`, or keep public IPs"),
        );
    }
    let own_subnets =
        |p: &Table| p.contains_key("vpc_secondary_cidr") && !p.contains_key("vpc_subnet_ids");
    let private_pools = v.pools.values().any(|p| {
        own_subnets(&p.config)
            && p.config
                .get("vpc_subnet_map_public_ip")
                .and_then(Value::as_bool)
                == Some(false)
    });
    if let Some(nat) = explicit(c, "cluster_vpc_nat_gateways")
        && !private
        && !private_pools
    {
        out.push(
            Diagnostic::warning(
                "no-effect",
                format!("{}: `cluster_vpc_nat_gateways` has no effect: every subnet is public", v.what),
            )
            .at_value(nat.origin, "no NAT gateway is created")
            .hint("NAT gateways are created for private subnets: `cluster_vpc_subnet_map_public_ip = false`, or a pool's `vpc_subnet_map_public_ip = false`"),
        );
    }
    if c.contains_key("cluster_vpc_subnet_newbits") {
        for key in [
            "cluster_vpc_control_subnet_newbits",
            "cluster_vpc_node_subnet_newbits",
        ] {
            if let Some(x) = explicit(c, key) {
                out.push(
                    Diagnostic::warning(
                        "no-effect",
                        format!(
                            "{}: `{key}` has no effect beside `cluster_vpc_subnet_newbits`",
                            v.what
                        ),
                    )
                    .at_value(x.origin, "overridden")
                    .hint("the legacy `cluster_vpc_subnet_newbits` sets both; remove one of them"),
                );
            }
        }
    }
    if legacy {
        for key in [
            "cluster_vpc_node_subnet_newbits",
            "cluster_vpc_node_subnet_number_offset",
        ] {
            if let Some(x) = explicit(c, key) {
                out.push(
                    Diagnostic::warning("no-effect", format!("{}: `{key}` has no effect with `cluster_vpc_legacy_node_subnets = true`", v.what))
                        .at_value(x.origin, "there are no node subnets")
                        .hint("nodes run in the control plane subnets in the legacy layout"),
                );
            }
        }
    }
    let vpc_cidr = c
        .get("cluster_vpc_cidr")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut secondary: Vec<(&str, &str, &Value)> = Vec::new();
    for (key, pool) in v.pools {
        let p = &pool.config;
        let what = format!("node pool `{key}` of {}", v.what);
        let cidr = p.get("vpc_secondary_cidr");
        for k in [
            "vpc_subnet_newbits",
            "vpc_subnet_number_offset",
            "vpc_subnet_map_public_ip",
        ] {
            let Some(x) = explicit(p, k) else { continue };
            let why = if cidr.is_none() {
                "the pool has no `vpc_secondary_cidr`, so it creates no subnets"
            } else if p.contains_key("vpc_subnet_ids") {
                "the pool uses `vpc_subnet_ids`, so it creates no subnets"
            } else {
                continue;
            };
            out.push(
                Diagnostic::error("no-effect", format!("{what}: `{k}` has no effect: {why}"))
                    .at_value(x.origin, "only for the pool's own subnets")
                    .hint("set `vpc_secondary_cidr` for subnets of the pool's own, or remove this key"),
            );
        }
        if let (Some(cidr), Some(ids)) = (cidr, p.get("vpc_subnet_ids")) {
            out.push(
                Diagnostic::error(
                    "unsupported-combination",
                    format!("{what}: `vpc_secondary_cidr` and `vpc_subnet_ids` exclude each other"),
                )
                .at_value(cidr.origin, "subnets in a secondary CIDR")
                .at_value(ids.origin, "or existing subnets")
                .hint(
                    "keep one: existing subnets, or subnets of the pool's own in a secondary CIDR",
                ),
            );
        }
        let Some(c) = cidr else { continue };
        let Some(s) = c.as_str() else { continue };
        if cidrs_overlap(s, vpc_cidr) {
            out.push(
                Diagnostic::error("overlapping-cidr", format!("{what}: `vpc_secondary_cidr` `{s}` overlaps the VPC CIDR `{vpc_cidr}`"))
                    .at_value(c.origin, "must lie outside the VPC CIDR")
                    .hint("a secondary CIDR adds addresses to the VPC; pick one outside it, e.g. in `100.64.0.0/10`"),
            );
        }
        if let Some((other, _, o)) = secondary.iter().find(|(_, x, _)| cidrs_overlap(x, s)) {
            out.push(
                Diagnostic::error("overlapping-cidr", format!("{what}: `vpc_secondary_cidr` `{s}` overlaps node pool `{other}`'s"))
                    .at_value(c.origin, "this pool's")
                    .at_value(o.origin, "that pool's")
                    .hint("each pool associates its secondary CIDR with the VPC: give every pool its own range"),
            );
        }
        secondary.push((key, s, c));
    }
}

/// `cluster_aws_auth_map_roles/users` as access entries: what access entries cannot express.
fn check_access(v: &ResolvedView<'_>, out: &mut Vec<Diagnostic>) {
    let mut seen: Vec<(String, &Value)> = Vec::new();
    for (key, arn_field) in [
        ("cluster_aws_auth_map_roles", "rolearn"),
        ("cluster_aws_auth_map_users", "userarn"),
    ] {
        let Some(list) = v.cluster.get(key).and_then(Value::as_array) else {
            continue;
        };
        for m in list {
            let Some(t) = m.as_table() else { continue };
            let Some(arn) = t.get(arn_field) else {
                continue;
            };
            let arn_s = arn.as_str().unwrap_or_default().to_string();
            if let Some((_, first)) = seen.iter().find(|(a, _)| *a == arn_s) {
                out.push(
                    Diagnostic::error(
                        "duplicate-name",
                        format!("{}: `{arn_s}` is mapped twice", v.what),
                    )
                    .at_value(arn.origin, "again here")
                    .at_value(first.origin, "first here")
                    .hint("an access entry per principal: merge the two mappings' groups"),
                );
            }
            seen.push((arn_s, arn));
            let groups: Vec<(&str, Origin)> = t
                .get("groups")
                .and_then(Value::as_array)
                .unwrap_or_default()
                .iter()
                .filter_map(|g| Some((g.as_str()?, g.origin)))
                .collect();
            let node = groups.iter().any(|(g, _)| NODE_GROUPS.contains(g));
            for (g, o) in &groups {
                if node && !NODE_GROUPS.contains(g) {
                    out.push(
                        Diagnostic::error("unsupported-value", format!("{}: group `{g}` beside a node mapping", v.what))
                            .at_value(*o, "dropped by a node access entry")
                            .hint("a mapping with `system:bootstrappers` or `system:nodes` becomes an EC2_LINUX access entry, which takes no other groups: map this principal separately"),
                    );
                } else if g.starts_with("system:")
                    && !NODE_GROUPS.contains(g)
                    && *g != "system:masters"
                {
                    out.push(
                        Diagnostic::error("unsupported-value", format!("{}: EKS access entries cannot hold the group `{g}`", v.what))
                            .at_value(*o, "a `system:` group")
                            .hint("`system:masters` maps to the cluster admin access policy and `system:bootstrappers`/`system:nodes` to a node entry; bind other permissions to a group of your own with RBAC"),
                    );
                }
            }
            if !node
                && let Some(user) = t.get("username")
                && let Some(u) = user.as_str()
                && let Some(prefix) = RESERVED_USER_PREFIXES.iter().find(|p| u.starts_with(**p))
            {
                out.push(
                    Diagnostic::error("unsupported-value", format!("{}: EKS refuses the user name `{u}`", v.what))
                        .at_value(user.origin, format!("starts with `{prefix}`"))
                        .hint("access entry user names cannot start with `system:`, `eks:`, `aws:`, `amazon:` or `iam:`; `{{SessionName}}` may be used in them"),
                );
            }
        }
    }
}

fn pool_shape(_key: &str, pool: &Table, _cluster: &Table) -> PoolShape {
    let instance_types = strings(pool, "instance_types");
    let (arch, gpu) = instance_types
        .first()
        .map_or((Arch::Amd64, false), |t| classify(t));
    let ami = string(pool, "ami_type").unwrap_or_default();
    let arch = if ami.contains("ARM") {
        Arch::Arm64
    } else {
        arch
    };
    PoolShape {
        min_nodes: int(pool, "min_size").unwrap_or(0),
        max_nodes: int(pool, "max_size").unwrap_or(0),
        arch,
        gpus_per_node: u32::from(gpu),
        gpu_type: gpu.then(|| "nvidia".to_string()),
        taints: object_taints(pool.get("taints")),
        labels: string_map(pool.get("labels")),
        max_pods_per_node: super::DEFAULT_MAX_PODS,
        spot: false,
        zones: strings(pool, "availability_zones"),
        instance_types,
    }
}

pub static EKS: Provider = Provider {
    id: "eks",
    provider_name: "aws",
    title: "Amazon EKS",
    cluster_keys: CLUSTER_KEYS,
    pool_keys: POOL_KEYS,
    dash_label_namespace: false,
    check_cluster_name,
    max_cluster_name: 100,
    check_pool_name,
    pool_name_key: "name",
    size_keys: Some(SizeKeys {
        min: "min_size",
        max: "max_size",
        initial: Some("desired_capacity"),
    }),
    pool_shape,
    pool_flags: super::PoolFlags {
        instance: Some(("instance_types", true)),
        taints: ("taints", false),
        labels: "labels",
    },
    terraform: super::TerraformSpec {
        local_name: "aws",
        source: "hashicorp/aws",
        version: "~> 5.100.0",
        module: &MODULE,
        provider_settings: |cfg| vec![("region", format!("{cfg}.region"))],
        provider_blocks: &[],
    },
    check_resolved,
    scaffold: Scaffold {
        cluster: "cluster_availability_zones = [\"{region}a\", \"{region}b\", \"{region}c\"]\n",
        per_environment: "",
        default_pool: "instance_types = [\"t3a.xlarge\"]\nmin_size = 3\nmax_size = 9\n",
        extra_pool: "instance_types = [\"t3a.xlarge\"]\nmin_size = 1\nmax_size = 3\n",
        example_region: "eu-west-1",
    },
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_families() {
        assert_eq!(classify("t3a.xlarge"), (Arch::Amd64, false));
        assert_eq!(classify("m7g.large"), (Arch::Arm64, false));
        assert_eq!(classify("c6gn.2xlarge"), (Arch::Arm64, false));
        assert_eq!(classify("a1.medium"), (Arch::Arm64, false));
        assert_eq!(classify("g4dn.xlarge"), (Arch::Amd64, true));
        assert_eq!(classify("p4d.24xlarge"), (Arch::Amd64, true));
        assert_eq!(classify("g5g.xlarge"), (Arch::Arm64, true));
        assert_eq!(classify("m7i-flex.large"), (Arch::Amd64, false));
        assert_eq!(classify("inf1.xlarge"), (Arch::Amd64, false));
    }
}
