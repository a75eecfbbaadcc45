//! Amazon EKS: key tables (Kubestack's current keys), naming limits and pool shape.

use super::{
    Arch, CIDRS, COUNT, POSITIVE, PoolShape, Provider, STRING_MAP, STRINGS, Scaffold, SizeKeys,
    TAINTS, base_domain_key, int, kind_str, name_prefix_key, object_taints, string, string_map,
    strings,
};
use crate::keys::{Default, DefaultCtx, Field, Key, Ty};
use crate::value::{Kind, Table};

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
    "CUSTOM",
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

pub static CLUSTER_KEYS: &[Key] = &[
    name_prefix_key(),
    base_domain_key(),
    Key::new(
        "region",
        Ty::String,
        "AWS region, e.g. `eu-west-1` (Kubestack takes it from the aliased `aws` provider).",
    )
    .required()
    .replaces(),
    Key::new(
        "cluster_availability_zones",
        STRINGS,
        "Availability zones of the control plane subnets.",
    )
    .required()
    .replaces(),
    Key::new(
        "cluster_version",
        Ty::String,
        "Kubernetes version, e.g. `1.32`; the provider's default when unset.",
    ),
    Key::new("cluster_vpc_cidr", Ty::Cidr, "CIDR of the cluster's VPC.")
        .default(Default::Str("10.0.0.0/16"))
        .replaces(),
    Key::new(
        "cluster_vpc_subnet_newbits",
        COUNT,
        "Legacy: newbits of node subnets (use the control/node variants).",
    ),
    Key::new(
        "cluster_vpc_control_subnet_newbits",
        COUNT,
        "Newbits of the control plane subnets.",
    )
    .default(Default::Int(8)),
    Key::new(
        "cluster_vpc_node_subnet_newbits",
        COUNT,
        "Newbits of the node subnets.",
    )
    .default(Default::Int(4)),
    Key::new(
        "cluster_vpc_node_subnet_number_offset",
        COUNT,
        "Offset of the node subnets' numbers.",
    )
    .default(Default::Int(1)),
    Key::new(
        "cluster_vpc_legacy_node_subnets",
        Ty::Boolean,
        "Keep the node subnets of older Kubestack versions.",
    )
    .default(Default::Bool(false)),
    Key::new(
        "cluster_vpc_subnet_map_public_ip",
        Ty::Boolean,
        "Map public IPs on launch in the control subnets.",
    )
    .default(Default::Bool(true)),
    Key::new(
        "cluster_vpc_dns_hostnames",
        Ty::Boolean,
        "DNS hostnames in the VPC.",
    )
    .default(Default::Bool(false)),
    Key::new(
        "cluster_vpc_dns_support",
        Ty::Boolean,
        "DNS support in the VPC.",
    )
    .default(Default::Bool(true)),
    Key::new(
        "cluster_aws_auth_map_roles",
        Ty::List(&Ty::Object(MAP_ROLE)),
        "IAM roles mapped to Kubernetes users.",
    ),
    Key::new(
        "cluster_aws_auth_map_users",
        Ty::List(&Ty::Object(MAP_USER)),
        "IAM users mapped to Kubernetes users.",
    ),
    Key::new(
        "cluster_aws_auth_map_accounts",
        STRINGS,
        "AWS accounts whose IAM users map automatically.",
    ),
    Key::new(
        "enabled_cluster_log_types",
        Ty::List(&Ty::Enum(LOG_TYPES)),
        "Control plane log types sent to CloudWatch.",
    )
    .default(Default::Strs(LOG_TYPES)),
    Key::new(
        "disable_openid_connect_provider",
        Ty::Boolean,
        "Do not create the IAM OIDC provider for service account roles.",
    )
    .default(Default::Bool(false)),
    Key::new(
        "cluster_endpoint_private_access",
        Ty::Boolean,
        "Private API endpoint.",
    )
    .default(Default::Bool(false)),
    Key::new(
        "cluster_endpoint_public_access",
        Ty::Boolean,
        "Public API endpoint.",
    )
    .default(Default::Bool(true)),
    Key::new(
        "cluster_public_access_cidrs",
        CIDRS,
        "CIDRs allowed to reach the public API endpoint.",
    ),
    Key::new("cluster_service_cidr", Ty::Cidr, "Kubernetes service CIDR.").replaces(),
    Key::new(
        "cluster_encryption_key_arn",
        Ty::String,
        "KMS key ARN for secrets encryption.",
    )
    .replaces(),
    Key::new(
        "disable_default_ingress",
        Ty::Boolean,
        "Do not create the default ingress DNS zone and records.",
    )
    .default(Default::Bool(false)),
];

pub static POOL_KEYS: &[Key] = &[
    Key::new("name", Ty::String, "Node group name; the pool's key when unset.").replaces(),
    Key::new("instance_types", STRINGS, "EC2 instance types; the first decides the AMI type (arm64, GPU).").required(),
    Key::new("min_size", COUNT, "Minimum nodes.").default(Default::Int(1)),
    Key::new("max_size", POSITIVE, "Maximum nodes.").required(),
    Key::new("desired_capacity", COUNT, "Nodes at creation; the autoscaler owns it afterwards.").default(Default::Key("min_size")),
    Key::new("availability_zones", STRINGS, "Zones of the pool's subnets.").default(Default::ClusterKey("cluster_availability_zones")).replaces(),
    Key::new("disk_size", POSITIVE, "Root volume size in GiB.").default(Default::Int(20)).replaces(),
    Key::new("ami_type", Ty::Enum(AMI_TYPES), "EKS AMI type.").default(Default::Computed(default_ami_type, "follows the first instance type: arm64 → `AL2023_ARM_64_STANDARD`, GPU → `AL2023_x86_64_NVIDIA`, else `AL2023_x86_64_STANDARD`")).replaces(),
    Key::new("ami_release_version", Ty::String, "AMI release version; the latest when unset."),
    Key::new("metadata_options", Ty::Object(METADATA_OPTIONS), "Instance metadata options (launch template)."),
    Key::new("vpc_subnet_ids", STRINGS, "Existing subnets to use instead of creating the pool's own.").replaces(),
    Key::new("vpc_secondary_cidr", Ty::Cidr, "Secondary VPC CIDR for the pool's subnets.").replaces(),
    Key::new("vpc_subnet_newbits", COUNT, "Newbits of the pool's subnets.").replaces(),
    Key::new("vpc_subnet_number_offset", COUNT, "Offset of the pool's subnet numbers.").default(Default::Int(1)).replaces(),
    Key::new("vpc_subnet_map_public_ip", Ty::Boolean, "Map public IPs on launch in the pool's subnets.").default(Default::Bool(true)),
    Key::new("taints", TAINTS, "Kubernetes taints: `{ key, value, effect }` with effect `NO_SCHEDULE`, `NO_EXECUTE` or `PREFER_NO_SCHEDULE`."),
    Key::new("tags", STRING_MAP, "Extra AWS tags."),
    Key::new("labels", STRING_MAP, "Kubernetes node labels."),
];

/// The EKS AMI type Kubestack picks from the first instance type.
fn default_ami_type(ctx: &DefaultCtx<'_>) -> Option<Kind> {
    let first = strings(ctx.config, "instance_types").into_iter().next()?;
    let (arch, gpu) = classify(&first);
    Some(kind_str(match (arch, gpu) {
        (Arch::Arm64, _) => "AL2023_ARM_64_STANDARD",
        (Arch::Amd64, true) => "AL2023_x86_64_NVIDIA",
        (Arch::Amd64, false) => "AL2023_x86_64_STANDARD",
    }))
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
    let prefix: String = family
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    let attrs: String = family
        .chars()
        .skip(prefix.len())
        .skip_while(char::is_ascii_digit)
        .collect();
    // Graviton families carry a `g` after the generation (m7g, c6gn, t4g, x2gd); `a1` too.
    let arm = family == "a1" || attrs.contains('g');
    let gpu = matches!(prefix.as_str(), "p" | "g" | "gr");
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
fn check_pool_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 63
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
            "EKS node group names have 1 to 63 letters, digits, `-` and `_`: `{name}`"
        ))
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
    scaffold: Scaffold {
        cluster: "cluster_availability_zones = [\"{region}a\", \"{region}b\", \"{region}c\"]\n",
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
