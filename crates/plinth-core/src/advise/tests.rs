//! The advisor on the guide's four examples and on one fixture per "don't" case, the capacity
//! planner on hand-computed numbers, and the diagrams' structure.

use super::*;
use crate::environment::Stage;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/advise")
}

/// Reads a platform; only the validation errors the advisor covers itself are allowed.
fn load(dir: &Path) -> (Platform, Resolution) {
    let checked = crate::check(dir);
    let errors: Vec<_> = checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error() && !COVERED_ERRORS.contains(&d.code))
        .collect();
    assert!(errors.is_empty(), "{}: {errors:#?}", dir.display());
    (
        checked.platform.expect("platform"),
        checked.resolution.expect("resolution"),
    )
}

fn example(name: &str) -> (tempfile::TempDir, Platform, Resolution) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join(name);
    let ex = crate::scaffold::example(name).expect("example");
    crate::scaffold::init(&dir, ex, name).expect("init");
    let (p, r) = load(&dir);
    (tmp, p, r)
}

const EXAMPLES: [&str; 4] = ["minimal", "node-pools", "multi-cloud", "environments"];

#[test]
fn the_four_examples_follow_the_guide() {
    for name in EXAMPLES {
        let (_tmp, p, r) = example(name);
        let advice = advise(&p, &r);
        assert!(
            advice.findings.is_empty(),
            "{name}: {:#?}",
            advice
                .findings
                .iter()
                .map(|f| &f.diagnostic)
                .collect::<Vec<_>>()
        );
        assert_eq!(
            advice.scores.len(),
            1,
            "{name}: only the current architecture"
        );
    }
}

#[test]
fn the_examples_score_as_worked_out_in_the_model() {
    let expect = [
        // (environments, clusters running, pools running, overhead, protection)
        ("minimal", (2, 2, 2, 12, 3)),
        ("node-pools", (2, 2, 6, 16, 5)),
        ("multi-cloud", (2, 6, 6, 24, 7)),
        ("environments", (3, 3, 3, 18, 6)),
    ];
    for (name, (e, c, np, overhead, protection)) in expect {
        let (_tmp, p, r) = example(name);
        let row = &advise(&p, &r).scores[0];
        assert_eq!(
            (
                row.environments,
                row.clusters,
                row.node_pools,
                row.score.overhead,
                row.score.protection
            ),
            (e, c, np, overhead, protection),
            "{name}"
        );
    }
}

/// Every fixture names the one rule it must trigger on its first line: `# expect: PA00x`.
#[test]
fn each_dont_case_triggers_exactly_its_rule() {
    let mut seen = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(fixtures()).expect("fixtures") {
        let dir = entry.expect("entry").path();
        let text = std::fs::read_to_string(dir.join("plinth.toml")).expect("plinth.toml");
        let Some(expected) = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
        else {
            continue;
        };
        let (p, r) = load(&dir);
        let advice = advise(&p, &r);
        assert_eq!(advice.ids(), [expected], "{}", dir.display());
        let f = &advice.findings[0];
        assert!(
            f.diagnostic
                .hint
                .as_deref()
                .is_some_and(|h| h.contains("why: "))
        );
        assert!(!f.fix.is_empty());
        assert!(
            !f.diagnostic.labels.is_empty() || f.diagnostic.path.is_some(),
            "{expected} has no location"
        );
        seen.insert(expected.to_string());
    }
    let all: std::collections::BTreeSet<String> = rules::CHECKS
        .iter()
        .map(|c| c.rule.id.to_string())
        .collect();
    assert_eq!(seen, all, "every rule has a fixture");
}

#[test]
fn errors_only_for_the_missing_internal_environment() {
    for (case, errors) in [
        ("one-environment", true),
        ("no-internal-environment", true),
        ("prod-split-by-clusters", false),
    ] {
        let (p, r) = load(&fixtures().join(case));
        assert_eq!(advise(&p, &r).has_errors(), errors, "{case}");
    }
}

#[test]
fn stage_split_alternatives_are_scored() {
    // Two clusters (prod, non-prod) × ops, apps: overhead 3·2 + 2·4 + 1·4 = 18, protection
    // 3 + 2 = 5. Prod on a tainted pool of eks_zero: 2 clusters, 4 pools running: 6 + 4 + 4 =
    // 14, protection 3 + 1 = 4. Prod in its own environment: 3 environments of one cluster
    // with one pool: 9 + 6 + 3 = 18, protection 3 + 3 = 6.
    let (p, r) = load(&fixtures().join("prod-split-by-clusters"));
    let rows: Vec<_> = advise(&p, &r)
        .scores
        .iter()
        .map(|r| {
            (
                r.label.clone(),
                r.environments,
                r.clusters,
                r.node_pools,
                r.score.overhead,
                r.score.protection,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("current".to_string(), 2, 4, 4, 18, 5),
            ("prod on tainted node pools".to_string(), 2, 2, 4, 14, 4),
            ("prod in its own environment".to_string(), 3, 3, 3, 18, 6),
        ]
    );
}

#[test]
fn tenant_split_alternatives_are_scored() {
    // ops → apps-mail → apps-video, one cluster: 9 + 6 + 3 + 3 (a promotion-only
    // environment) = 21; protection 3 + 3 = 6. On clusters: 2 environments × 2 clusters:
    // 6 + 8 + 4 = 18, protection 3 + 2 = 5. On tainted pools: 2 environments × 1 cluster × 2
    // pools: 6 + 4 + 4 = 14, protection 3 + 1 = 4.
    let (p, r) = load(&fixtures().join("tenants-split-by-environments"));
    let advice = advise(&p, &r);
    let rows: Vec<_> = advice
        .scores
        .iter()
        .map(|r| (r.score.overhead, r.score.protection))
        .collect();
    assert_eq!(rows, [(21, 6), (18, 5), (14, 4)]);
    assert!(
        advice.findings[0]
            .diagnostic
            .message
            .contains("`apps-mail` (tenant `mail`)")
    );
}

#[test]
fn stages_are_read_from_declarations_at_every_level() {
    let (_tmp, p, r) = example("node-pools");
    let arch = arch::Architecture::of(&p, &r);
    let apps = &arch.stages[0];
    assert_eq!(apps.environment, "apps");
    assert_eq!(
        apps.prod_pools.get("eks_zero"),
        Some(&vec!["prod".to_string()])
    );
    assert!(apps.shared() && !apps.split_by_clusters());
    assert_eq!(arch.shape.tainted_pools, 2);

    let (_tmp, p, r) = example("environments");
    let arch = arch::Architecture::of(&p, &r);
    let dedicated: Vec<_> = arch
        .stages
        .iter()
        .map(|s| s.dedicated.get("eks_zero").copied())
        .collect();
    assert_eq!(dedicated, [Some(Stage::NonProd), Some(Stage::Prod)]);
    assert!(arch.stages.iter().all(|s| !s.shared()));
}

#[test]
fn untainted_pool_findings_name_the_provider_specific_fix() {
    let (p, r) = load(&fixtures().join("untainted-gpu-pool"));
    let advice = advise(&p, &r);
    let f = &advice.findings[0];
    assert!(
        f.diagnostic
            .message
            .contains("`aks_zero.gpu` has GPUs (Standard_NC6s_v3)"),
        "{}",
        f.diagnostic.message
    );
    assert!(
        f.fix
            .contains("node_taints = [\"nvidia.com/gpu=present:NoSchedule\"]"),
        "{}",
        f.fix
    );
    assert!(
        f.fix
            .contains("[clusters.aks_zero.node_pools.gpu.config.apps]"),
        "{}",
        f.fix
    );

    let (p, r) = load(&fixtures().join("untainted-prod-pool"));
    let f = &advise(&p, &r).findings[0];
    assert!(
        f.diagnostic.message.contains("in `ops` and `apps`"),
        "{}",
        f.diagnostic.message
    );
    assert!(f.fix.contains("effect = \"NO_SCHEDULE\""), "{}", f.fix);
}

#[test]
fn capacity_of_the_worked_example() {
    let (p, r) = load(&fixtures().join("capacity"));
    let report = capacity::plan(&p, &r);
    assert!(report.declared);
    let apps = report
        .environments
        .iter()
        .find(|e| e.environment == "apps")
        .expect("apps");
    let cluster = |k: &str| apps.clusters.iter().find(|c| c.key == k).expect("cluster");

    let eks = cluster("eks_zero");
    assert_eq!(eks.max_nodes, 6_034);
    let default = eks
        .pools
        .iter()
        .find(|p| p.key == "default")
        .expect("default");
    assert_eq!(
        (default.capacity, default.pods.now, default.nodes_needed),
        (3_300, 2_400, 22)
    );
    assert!((default.pods.percent - 72.727).abs() < 0.001);
    // 2,400 + 100n ≥ 2,805 (85 % of 3,300) → n = 5; ≥ 3,300 → n = 9.
    assert_eq!(default.pods.crossings.critical, Some(5));
    assert_eq!(default.pods.crossings.limit, Some(9));
    // Containers: 2,400 × 2 + 400 × 1 = 5,200.
    assert_eq!(eks.containers.now, 5_200);

    let gke = cluster("gke_zero");
    assert_eq!(gke.max_nodes, 1_500);
    assert_eq!(gke.pod_capacity, 165_000);
    assert_eq!(
        (gke.pods.now, gke.containers.now, gke.nodes.now),
        (100_000, 250_000, 910)
    );
    assert_eq!(gke.containers.crossings.critical, Some(1));
    assert_eq!(gke.containers.crossings.limit, Some(8));
    assert_eq!(gke.pods.per_month, 2_500.0);
    assert_eq!(gke.containers.per_month, 6_250.0);

    let aks = cluster("aks_zero");
    assert_eq!((aks.pods.now, aks.nodes.now), (100_000, 400));
    assert_eq!(aks.pods.crossings.warn, Some(2));
    assert_eq!(aks.pods.crossings.critical, Some(11));
    assert_eq!(aks.pods.crossings.limit, Some(20));
    assert_eq!(apps.first_critical, Some(1));
    assert_eq!(apps.totals.pods, 202_800);

    // ops inherits containers_per_pod from apps but declares its own pods.
    let ops = &report.environments[0];
    assert!(ops.internal);
    let gke_ops = ops
        .clusters
        .iter()
        .find(|c| c.key == "gke_zero")
        .expect("gke ops");
    assert_eq!(
        (gke_ops.pods.now, gke_ops.containers.now, gke_ops.max_nodes),
        (200, 500, 6)
    );

    let mut codes: Vec<_> = report
        .findings
        .iter()
        .map(|f| {
            (
                f.rule.id,
                f.diagnostic
                    .message
                    .split(' ')
                    .take(3)
                    .collect::<Vec<_>>()
                    .join(" "),
            )
        })
        .collect();
    codes.sort();
    assert_eq!(
        codes,
        [
            (
                "PC001",
                "cluster `gke_zero` (kbst-apps-europe-west3)".to_string()
            ),
            (
                "PC003",
                "cluster `aks_zero` (kbst-apps-westeurope)".to_string()
            ),
            ("PC004", "node pool `eks_zero.default`".to_string()),
            ("PC005", "node pool `eks_zero.web`".to_string()),
            ("PC006", "the node pools".to_string()),
        ]
    );
}

#[test]
fn capacity_without_declared_load_reports_ceilings_only() {
    let (_tmp, p, r) = example("multi-cloud");
    let report = capacity::plan(&p, &r);
    assert!(!report.declared);
    assert!(report.findings.is_empty());
    let apps = &report.environments[1];
    // EKS 9 + GKE 3 per zone × 3 zones + AKS 9.
    let max: Vec<_> = apps
        .clusters
        .iter()
        .map(|c| (c.key.as_str(), c.max_nodes))
        .collect();
    assert_eq!(max, [("aks_zero", 9), ("eks_zero", 9), ("gke_zero", 9)]);
}

#[test]
fn diagrams_show_every_environment_in_promotion_order() {
    let (_tmp, p, r) = example("environments");
    let d = diagram::build(&p, &r, None);
    let names: Vec<_> = d
        .environments
        .iter()
        .map(|e| (e.name.as_str(), e.internal, e.base))
        .collect();
    assert_eq!(
        names,
        [
            ("ops", true, false),
            ("apps", false, false),
            ("apps-prod", false, true)
        ]
    );
    let svg = diagram::render(&d, diagram::Format::Svg);
    for needle in [
        "kbst-ops-eu-west-1",
        "kbst-apps-prod-eu-west-1",
        "m6i.xlarge \u{b7} 3\u{2013}12 nodes",
        ">internal<",
        ">promote<",
        "cert-manager \u{b7} operator",
    ] {
        assert!(svg.contains(needle), "{needle}");
    }
    assert!(
        !svg.contains("http://") || svg.matches("http://").count() == 1,
        "only the SVG namespace"
    );
    assert!(!svg.contains("<script") && !svg.contains("@import") && !svg.contains("href="));
    assert_eq!(
        svg,
        diagram::render(&diagram::build(&p, &r, None), diagram::Format::Svg)
    );

    let one = diagram::build(&p, &r, Some("apps"));
    assert_eq!(one.environments.len(), 1);
    assert_eq!(one.chain, ["ops", "apps", "apps-prod"]);
}

#[test]
fn diagrams_badge_gpu_arm_and_taints() {
    let (_tmp, p, r) = example("node-pools");
    let d = diagram::build(&p, &r, Some("apps"));
    let pools = &d.environments[0].clusters[0].pools;
    let keys: Vec<_> = pools.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, ["default", "gpu", "prod"], "default first");
    let badges = |k: &str| -> Vec<String> {
        pools
            .iter()
            .find(|p| p.key == k)
            .map(|p| p.badges().iter().map(|b| b.text().to_string()).collect())
            .unwrap_or_default()
    };
    assert_eq!(badges("gpu"), ["GPU \u{d7}1", "workload ml"]);
    assert_eq!(badges("prod"), ["arm64", "prod"]);
    assert_eq!(badges("default"), ["non-prod"]);
    let dot = diagram::render(&d, diagram::Format::Dot);
    assert!(
        dot.contains("taint nvidia.com/gpu=present:NoSchedule"),
        "{dot}"
    );
    let mermaid = diagram::render(&d, diagram::Format::Mermaid);
    assert!(mermaid.starts_with("flowchart LR\n"));
    assert!(
        mermaid.contains("class apps__eks_zero__prod prod"),
        "{mermaid}"
    );
}
