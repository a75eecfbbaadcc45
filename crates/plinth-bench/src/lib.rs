//! Synthetic platforms for measuring Plinth at platform scale: E environments × C clusters
//! (mixed providers and regions) × P node pools × S services, with realistic per-environment
//! overrides. Deterministic for a seed, so runs are comparable.

use std::fmt::Write;
use std::path::Path;

/// The size of a synthetic platform.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spec {
    pub environments: usize,
    pub clusters: usize,
    pub pools: usize,
    pub services: usize,
    pub seed: u64,
}

impl Spec {
    pub const TARGET: Spec = Spec {
        environments: 3,
        clusters: 500,
        pools: 10,
        services: 20,
        seed: 1,
    };
}

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const REGIONS: &[(&str, &[&str])] = &[
    ("eks", &["eu-west-1", "us-east-1", "ap-southeast-2"]),
    ("gke", &["europe-west3", "us-central1", "asia-east1"]),
    ("aks", &["westeurope", "eastus", "southeastasia"]),
];

/// Environment names: `ops`, `apps`, then `apps-2`, `apps-3`, ... (the last is the base).
pub fn environments(n: usize) -> Vec<String> {
    let mut v = vec!["ops".to_string(), "apps".to_string()];
    for i in 2..n.max(2) {
        v.push(format!("apps-{i}"));
    }
    v.truncate(n.max(2));
    v
}

/// `plinth.toml` and `clusters/<key>.toml` of a synthetic platform, as (path, text).
pub fn files(spec: &Spec) -> Vec<(String, String)> {
    let mut rng = Rng(spec.seed);
    let envs = environments(spec.environments);
    let base = envs.last().cloned().unwrap_or_else(|| "apps".into());
    let mut out = Vec::with_capacity(spec.clusters + 1);
    let chain = envs
        .iter()
        .map(|e| format!("\"{e}\""))
        .collect::<Vec<_>>()
        .join(", ");
    out.push((
        "plinth.toml".to_string(),
        format!("[platform]\nname = \"synthetic\"\nenvironments = [{chain}]\nbase_environment = \"{base}\"\nbase_domain = \"infra.example.com\"\nstate = \"cluster\"\n"),
    ));
    for c in 0..spec.clusters {
        let (provider, regions) = REGIONS[c % REGIONS.len()];
        let region = regions[rng.below(regions.len())];
        let key = format!("{provider}_{c:04}");
        let mut s = String::with_capacity(4096);
        let _ = writeln!(
            s,
            "provider = \"{provider}\"\ntenant = \"team-{}\"\n",
            c % 37
        );
        let _ = writeln!(
            s,
            "[config.{base}]\nname_prefix = \"t{c}\"\nregion = \"{region}\""
        );
        match provider {
            "eks" => {
                let _ = writeln!(
                    s,
                    "cluster_availability_zones = [\"{region}a\", \"{region}b\", \"{region}c\"]\ncluster_version = \"1.32\""
                );
            }
            "gke" => {
                let _ = writeln!(
                    s,
                    "project_id = \"p-{c}\"\ncluster_release_channel = \"REGULAR\""
                );
            }
            _ => {
                let _ = writeln!(
                    s,
                    "resource_group = \"rg-{c}\"\navailability_zones = [\"1\", \"2\", \"3\"]\nsku_tier = \"Standard\""
                );
            }
        }
        // Internal environments run smaller, newer and cheaper.
        let _ = writeln!(s, "\n[config.ops]\nname_prefix = \"t{c}\"");
        if provider == "eks" {
            let _ = writeln!(s, "cluster_version = \"1.33\"");
        }
        for p in 0..spec.pools {
            let pool = if p == 0 {
                "default".to_string()
            } else {
                format!("pool{p}")
            };
            let max = 3 + rng.below(30);
            let _ = writeln!(s, "\n[node_pools.{pool}.config.{base}]");
            match provider {
                "eks" => {
                    let _ = writeln!(
                        s,
                        "instance_types = [\"m6i.xlarge\"]\nmin_size = 1\nmax_size = {max}\nlabels = {{ pool = \"{pool}\", tier = \"t{}\" }}",
                        p % 3
                    );
                    if p % 4 == 3 {
                        let _ = writeln!(
                            s,
                            "taints = [{{ key = \"dedicated\", value = \"{pool}\", effect = \"NO_SCHEDULE\" }}]"
                        );
                    }
                }
                "gke" => {
                    let _ = writeln!(
                        s,
                        "machine_type = \"e2-standard-8\"\nmin_node_count = 1\nmax_node_count = {max}\nlabels = {{ pool = \"{pool}\" }}"
                    );
                }
                _ => {
                    let name = if p == 0 {
                        String::new()
                    } else {
                        format!("node_pool_name = \"p{p}\"\n")
                    };
                    let _ = writeln!(
                        s,
                        "{name}vm_size = \"Standard_D4s_v5\"\nmin_count = 1\nmax_count = {max}\nnode_labels = {{ pool = \"{pool}\" }}"
                    );
                }
            }
            let small = match provider {
                "eks" => "max_size = 2",
                "gke" => "max_node_count = 2",
                _ => "max_count = 2",
            };
            let _ = writeln!(s, "\n[node_pools.{pool}.config.ops]\n{small}");
        }
        for sv in 0..spec.services {
            let name = format!("svc{sv:02}");
            let _ = writeln!(
                s,
                "\n[services.{name}]\nkind = \"{}\"\nsource = {{ url = \"https://example.com/platform/{name}\", ref = \"v1.{sv}.0\" }}\n\n[services.{name}.config.{base}]\nnamespace = \"{name}\"\nreplicas = {{ controller = 3 }}\ncommon_labels = {{ team = \"platform\" }}\n\n[services.{name}.config.ops]\nreplicas = {{ controller = 1 }}",
                ["operator", "monitoring", "logging", "admission", "ingress"][sv % 5]
            );
        }
        out.push((format!("clusters/{key}.toml"), s));
    }
    out
}

/// Writes a synthetic platform into `dir`.
pub fn write(dir: &Path, spec: &Spec) -> std::io::Result<u64> {
    let mut bytes = 0;
    std::fs::create_dir_all(dir.join("clusters"))?;
    for (path, text) in files(spec) {
        bytes += text.len() as u64;
        std::fs::write(dir.join(path), text)?;
    }
    Ok(bytes)
}

/// The same platform as one `plinth.toml` (for parser measurements on one big file).
pub fn single_file(spec: &Spec) -> String {
    let mut out = String::new();
    for (path, text) in files(spec) {
        if path == "plinth.toml" {
            out.push_str(&text);
            continue;
        }
        let key = path
            .trim_start_matches("clusters/")
            .trim_end_matches(".toml");
        // Re-root every table header and top-level key under `[clusters.<key>]`.
        let mut top = String::new();
        let mut rest = String::new();
        let mut in_table = false;
        for line in text.lines() {
            if let Some(h) = line.strip_prefix('[') {
                in_table = true;
                let _ = writeln!(rest, "[clusters.{key}.{h}");
            } else if in_table {
                let _ = writeln!(rest, "{line}");
            } else if !line.trim().is_empty() {
                let _ = writeln!(top, "{line}");
            }
        }
        let _ = write!(out, "\n[clusters.{key}]\n{top}{rest}");
    }
    out
}

/// A fleet: one `plinth.toml` holding every cluster inline (`[clusters.<key>]`), all EKS,
/// `inheritance = "shallow"` (Kubestack's release rule), no services, every environment
/// overriding something. Unlike [`files`] (one file per cluster, mixed providers, nested
/// inheritance, services), this is the shape of a platform written by a script of its own:
/// 500 clusters × 10 node pools is about 1.5 MB in one file.
pub fn fleet(clusters: usize, pools: usize, seed: u64) -> String {
    const REGIONS: &[&str] = &["eu-west-1", "eu-central-1", "us-east-1", "us-west-2"];
    const TYPES: &[&str] = &["m6i.2xlarge", "m7g.xlarge", "c6i.4xlarge", "r6i.2xlarge"];
    let mut rng = Rng(seed);
    let mut s = String::with_capacity(clusters * 3200 + 256);
    s.push_str(
        "[platform]\nname = \"fleet\"\nenvironments = [\"ops\", \"apps\", \"apps-prod\"]\nbase_environment = \"apps-prod\"\ninheritance = \"shallow\"\nbase_domain = \"fleet.example.com\"\nstate = \"cluster\"\n",
    );
    for c in 0..clusters {
        let key = format!("fleet_{c:04}");
        let region = REGIONS[rng.below(REGIONS.len())];
        let _ = write!(
            s,
            "\n[clusters.{key}]\nprovider = \"eks\"\ntenant = \"team-{:02}\"\n\n\
             [clusters.{key}.config.apps-prod]\nname_prefix = \"f{c}\"\nregion = \"{region}\"\n\
             cluster_availability_zones = [\"{region}a\", \"{region}b\", \"{region}c\"]\n\
             cluster_version = \"1.31\"\ncluster_vpc_cidr = \"10.{}.0.0/16\"\n\
             cluster_endpoint_private_access = true\nenabled_cluster_log_types = [\"api\", \"audit\"]\n\n\
             [clusters.{key}.config.apps]\ncluster_version = \"1.32\"\n\n\
             [clusters.{key}.config.ops]\ncluster_version = \"1.33\"\nenabled_cluster_log_types = [\"api\"]\n",
            c % 40,
            c % 250
        );
        for p in 0..pools {
            let pool = if p == 0 {
                "default".to_string()
            } else {
                format!("pool{p:02}")
            };
            let max = 4 + rng.below(60);
            let _ = write!(
                s,
                "\n[clusters.{key}.node_pools.{pool}.config.apps-prod]\n\
                 instance_types = [\"{}\"]\nmin_size = 2\nmax_size = {max}\ndisk_size = 100\n\
                 labels = {{ pool = \"{pool}\", tier = \"t{}\" }}\n",
                TYPES[rng.below(TYPES.len())],
                p % 3
            );
            if p % 5 == 4 {
                let _ = writeln!(
                    s,
                    "taints = [{{ key = \"dedicated\", value = \"{pool}\", effect = \"NO_SCHEDULE\" }}]"
                );
            }
            let _ = write!(
                s,
                "\n[clusters.{key}.node_pools.{pool}.config.ops]\nmax_size = 3\n"
            );
        }
    }
    s
}
