//! `plinth ci`: the pipelines a team would commit (issue 19). They parse and fit the CI
//! systems' published schemas (check-jsonschema's vendored GitHub and GitLab schemas), pass a
//! security linter for GitHub Actions (zizmor: template injection, permissions, pinning), fan
//! out one job per (environment, root) from `plinth ci matrix`, use OIDC rather than long-lived
//! keys, and pass nothing from inputs or matrices into a script except through the environment.
//! `plinth ci matrix` lists exactly the roots a change touches.

mod common;

use common::{TestEnv, engines};
use std::path::Path;
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .expect("git");
    assert!(out.status.success(), "git {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A platform at `repo/platform` in a git repository, generated and committed.
fn repo(env: &TestEnv, example: &str) -> std::path::PathBuf {
    let repo = env.join("repo");
    std::fs::create_dir_all(&repo).expect("mkdir");
    git(&repo, &["init", "-q", "-b", "main"]);
    env.run_ok(&["init", "repo/platform", "--example", example]);
    env.run_ok(&["generate", "repo/platform"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "platform"]);
    repo
}

fn load(text: &str) -> yaml_rust2::Yaml {
    yaml_rust2::YamlLoader::load_from_str(text)
        .expect("valid YAML")
        .remove(0)
}

/// Every `run:` script of a workflow or pipeline document.
fn scripts(doc: &yaml_rust2::Yaml, out: &mut Vec<String>) {
    match doc {
        yaml_rust2::Yaml::Hash(h) => {
            for (k, v) in h {
                if matches!(
                    k.as_str(),
                    Some("run" | "script" | "before_script" | "after_script")
                ) {
                    match v {
                        yaml_rust2::Yaml::String(s) => out.push(s.clone()),
                        yaml_rust2::Yaml::Array(a) => {
                            out.extend(a.iter().filter_map(|x| x.as_str().map(String::from)));
                        }
                        _ => {}
                    }
                }
                scripts(v, out);
            }
        }
        yaml_rust2::Yaml::Array(a) => a.iter().for_each(|x| scripts(x, out)),
        _ => {}
    }
}

/// Runs a checker from PATH on `files`; `None` (after a visible skip) when it is missing.
fn check(tool: &str, args: &[&str], files: &[&Path]) -> Option<String> {
    engines::require(tool, engines::which(tool))?;
    let out = Command::new(tool)
        .args(args)
        .args(files)
        .output()
        .expect("run checker");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{tool} {args:?} failed:\n{text}");
    Some(text)
}

#[test]
fn github_workflow_fans_out_with_oidc_and_least_privilege() {
    let env = TestEnv::new();
    let repo = repo(&env, "multi-cloud");
    env.run_ok(&["ci", "github", "repo/platform"]);
    let path = repo.join(".github/workflows/plinth.yml");
    let text = std::fs::read_to_string(&path).expect("workflow");
    insta::assert_snapshot!("github_actions_pipeline", text);
    let doc = load(&text);

    // Nothing by default; only the record jobs may write (push the record's tags).
    assert_eq!(doc["permissions"].as_hash().map(|h| h.len()), Some(0));
    let jobs = doc["jobs"].as_hash().expect("jobs");
    for (name, job) in jobs {
        let name = name.as_str().expect("name");
        let perms = &job["permissions"];
        assert!(perms.as_hash().is_some(), "{name} declares its permissions");
        let writes_contents = perms["contents"].as_str() == Some("write");
        assert_eq!(
            writes_contents,
            name.ends_with("-record"),
            "{name}: {perms:?}"
        );
        // Pull-request jobs never hold a write token to the repository or deploy credentials.
        if job["if"]
            .as_str()
            .is_some_and(|c| c.contains("pull_request"))
            || job["needs"].as_str() == Some("review")
        {
            assert!(!writes_contents, "{name}");
            assert!(
                job["environment"].is_badvalue(),
                "{name} runs outside any environment"
            );
        }
    }
    // Review fans out over the matrix the review job lists, one root per job.
    let plan = &doc["jobs"]["plan"];
    assert_eq!(
        plan["strategy"]["matrix"]["include"].as_str(),
        Some("${{ fromJSON(needs.review.outputs.roots) }}")
    );
    assert!(plan["strategy"]["max-parallel"].as_i64().is_some());
    assert_eq!(plan["permissions"]["id-token"].as_str(), Some("write"));
    let review_runs: Vec<String> = {
        let mut v = Vec::new();
        scripts(&doc["jobs"]["review"], &mut v);
        v
    };
    assert!(
        review_runs
            .iter()
            .any(|r| r.contains("plinth ci matrix \"$PLATFORM\" --base \"$BASE\""))
    );
    assert!(
        review_runs
            .iter()
            .any(|r| r.contains("plinth generate \"$PLATFORM\" --check"))
    );
    // Deployments: pending roots, one apply per root, one record, for ops and for promotions.
    for (jobs_of, env_expr) in [
        ("apply-ops", "ops"),
        ("promote", "${{ inputs.environment }}"),
    ] {
        let apply = &doc["jobs"][jobs_of];
        assert_eq!(apply["environment"].as_str(), Some(env_expr), "{jobs_of}");
        assert_eq!(
            apply["strategy"]["matrix"]["include"].as_str(),
            Some(format!("${{{{ fromJSON(needs.{jobs_of}-roots.outputs.roots) }}}}").as_str())
        );
        let record = &doc["jobs"][format!("{jobs_of}-record").as_str()];
        assert!(record["needs"].as_vec().is_some_and(|n| n.len() == 2));
        assert!(
            record["if"]
                .as_str()
                .is_some_and(|c| c.starts_with("always()"))
        );
    }
    // OIDC, not long-lived keys: no secret is read anywhere; each cloud's federation step is.
    assert!(!text.contains("secrets."), "no long-lived secrets");
    assert!(text.contains("aws-actions/configure-aws-credentials@"));
    assert!(text.contains("google-github-actions/auth@"));
    assert!(text.contains("ARM_USE_OIDC: \"true\""));
    // Inputs, matrix values and event data reach scripts only through the environment.
    let mut runs = Vec::new();
    scripts(&doc, &mut runs);
    assert!(runs.len() > 10);
    for r in &runs {
        assert!(!r.contains("${{"), "expression pasted into a script: {r}");
    }
    // Every action is pinned to a commit.
    for line in text.lines().filter(|l| l.contains("uses: ")) {
        let at = line.split('@').nth(1).expect("pinned");
        assert!(
            at.len() >= 40 && at[..40].bytes().all(|b| b.is_ascii_hexdigit()),
            "{line}"
        );
    }
    // The installed Plinth is this version, built from its own source, never crates.io's.
    assert!(!text.contains("cargo install --locked plinth"));
    assert_eq!(
        doc["env"]["PLINTH_VERSION"].as_str(),
        Some(env!("CARGO_PKG_VERSION"))
    );

    // The published schema and a security linter agree.
    check(
        "check-jsonschema",
        &["--builtin-schema", "vendor.github-workflows"],
        &[&path],
    );
    check("zizmor", &["--offline", "--no-progress"], &[&path]);

    // Refuses to overwrite without --force.
    let again = env.run(&["ci", "github", "repo/platform"]);
    assert!(
        again.starts_with("exit: 1") && again.contains("--force"),
        "{again}"
    );
}

#[test]
fn gitlab_pipeline_uses_child_pipelines_and_oidc() {
    let env = TestEnv::new();
    let repo = repo(&env, "environments");
    env.run_ok(&["ci", "gitlab", "repo/platform"]);
    let main = std::fs::read_to_string(repo.join(".gitlab-ci.yml")).expect("pipeline");
    let templates = std::fs::read_to_string(repo.join(".gitlab/plinth.yml")).expect("templates");
    insta::assert_snapshot!(
        "gitlab_pipeline",
        format!("{main}\n# ---- .gitlab/plinth.yml\n{templates}")
    );
    let doc = load(&main);
    // Everything a run needs is listed in the header.
    for needed in [
        "PLINTH_PUSH_TOKEN",
        "PLINTH_AWS_ROLE",
        "PLINTH_AWS_PLAN_ROLE",
    ] {
        assert!(main.contains(needed), "{needed}");
    }
    assert!(
        !main.contains("$PLINTH_IMAGE"),
        "no image the header does not explain"
    );
    assert_eq!(doc["plan"]["trigger"]["strategy"].as_str(), Some("depend"));
    assert_eq!(
        doc["apply-ops-roots"]["resource_group"].as_str(),
        Some("plinth-ops")
    );
    assert!(main.contains("one of apps, apps-prod"));
    let t = load(&templates);
    assert_eq!(
        t[".plinth-credentials"]["id_tokens"]["PLINTH_AWS_ID_TOKEN"]["aud"].as_str(),
        Some("sts.amazonaws.com")
    );

    // The child pipelines `ci matrix` writes at run time.
    let dir = repo.join("platform");
    let child = env.run_ok(&[
        "ci",
        "matrix",
        dir.to_str().expect("utf8"),
        "--env",
        "ops",
        "--output",
        "gitlab",
        "--job",
        "apply",
    ]);
    let c = load(&child);
    assert_eq!(
        c["apply"]["parallel"]["matrix"][0]["ROOT"].as_str(),
        Some("platform")
    );
    assert_eq!(c["record"]["when"].as_str(), Some("always"));
    let child_path = env.join("child.yml");
    std::fs::write(&child_path, &child).expect("write");
    let files: [&Path; 3] = [
        &repo.join(".gitlab-ci.yml"),
        &repo.join(".gitlab/plinth.yml"),
        &child_path,
    ];
    check(
        "check-jsonschema",
        &["--builtin-schema", "vendor.gitlab-ci"],
        &files,
    );
}

#[test]
fn atlantis_has_one_project_per_root_and_workspace_gated_by_plinth() {
    let env = TestEnv::new();
    let repo = repo(&env, "multi-cloud");
    let toml = env
        .read("repo/platform/plinth.toml")
        .replace("[platform]\n", "[platform]\nstate = \"cluster\"\n");
    env.write("repo/platform/plinth.toml", &toml);
    env.run_ok(&["generate", "repo/platform"]);
    env.run_ok(&["ci", "atlantis", "repo/platform"]);
    let text = std::fs::read_to_string(repo.join("atlantis.yaml")).expect("atlantis.yaml");
    let doc = load(&text);
    let projects = doc["projects"].as_vec().expect("projects");
    // 3 clusters × 2 environments.
    assert_eq!(projects.len(), 6);
    let p = &projects[0];
    assert_eq!(p["dir"].as_str(), Some("platform/generated/aks_zero"));
    assert_eq!(p["workspace"].as_str(), Some("ops"));
    assert_eq!(p["workflow"].as_str(), Some("plinth"));
    let apps = projects
        .iter()
        .find(|p| p["workspace"].as_str() == Some("apps"))
        .expect("apps");
    assert!(
        apps["apply_requirements"]
            .as_vec()
            .is_some_and(|r| r.iter().any(|x| x.as_str() == Some("approved")))
    );
    assert!(
        text.contains("plinth promote \"platform\" --to \"$WORKSPACE\" --check"),
        "{text}"
    );
}

#[test]
fn a_local_backend_with_a_pipeline_is_a_warning() {
    let env = TestEnv::new();
    let _repo = repo(&env, "minimal");
    let out = env.run(&["ci", "github", "repo/platform"]);
    assert!(
        out.starts_with("exit: 0") && out.contains("`local` backend"),
        "{out}"
    );
    // And `validate` keeps saying so while the pipeline exists.
    let out = env.run(&["validate", "repo/platform"]);
    assert!(out.contains("local-backend-in-ci"), "{out}");
    assert!(out.contains(".github/workflows/plinth.yml"), "{out}");
}

/// The platform of `multi-cloud` with per-cluster state and a few more EKS clusters.
fn per_cluster_repo(env: &TestEnv, clusters: usize) -> std::path::PathBuf {
    let repo = env.join("repo");
    std::fs::create_dir_all(&repo).expect("mkdir");
    git(&repo, &["init", "-q", "-b", "main"]);
    env.run_ok(&["init", "repo/platform", "--example", "minimal"]);
    let toml = env
        .read("repo/platform/plinth.toml")
        .replace("[platform]\n", "[platform]\nstate = \"cluster\"\n");
    env.write("repo/platform/plinth.toml", &toml);
    let base = env.read("repo/platform/clusters/eks_zero.toml");
    for i in 1..clusters {
        let region = format!("eu-west-{}", 1 + i % 3);
        let text = base
            .replace(
                "region = \"eu-west-1\"",
                &format!("region = \"{region}\"\nname_prefix = \"c{i}\""),
            )
            .replace("eu-west-1a", &format!("{region}a"))
            .replace("eu-west-1b", &format!("{region}b"))
            .replace("eu-west-1c", &format!("{region}c"));
        env.write(&format!("repo/platform/clusters/eks_{i}.toml"), &text);
    }
    env.run_ok(&["generate", "repo/platform"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "platform"]);
    repo
}

fn matrix(env: &TestEnv, args: &[&str]) -> Vec<(String, String)> {
    let mut all = vec!["ci", "matrix", "repo/platform", "--output", "json"];
    all.extend_from_slice(args);
    let out = env.run_ok(&all);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    v.as_array()
        .expect("list")
        .iter()
        .map(|e| {
            (
                e["environment"].as_str().expect("env").to_string(),
                e["root"].as_str().expect("root").to_string(),
            )
        })
        .collect()
}

#[test]
fn regression_19_a_one_cluster_change_plans_one_root() {
    let env = TestEnv::new();
    let repo = per_cluster_repo(&env, 12);
    let commit = |msg: &str| {
        env.run_ok(&["generate", "repo/platform"]);
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-qm", msg]);
    };
    // An ops-only change of one cluster: one root, one environment.
    let f = "repo/platform/clusters/eks_7.toml";
    env.write(
        f,
        &format!(
            "{}\n[node_pools.default.config.ops.labels]\nteam = \"a\"\n",
            env.read(f)
        ),
    );
    commit("ops label on eks_7");
    assert_eq!(
        matrix(&env, &["--base", "HEAD~1"]),
        [("ops".into(), "eks_7".into())]
    );
    // The base environment's value that ops overrides: apps alone.
    let text = env.read(f).replace("min_size = 3", "min_size = 2");
    env.write(f, &text);
    commit("apps min size on eks_7");
    assert_eq!(
        matrix(&env, &["--base", "HEAD~1"]),
        [("apps".into(), "eks_7".into())]
    );
    // One that every environment inherits: that root in each of them.
    let text = env.read(f).replace("t3a.xlarge", "m5.xlarge");
    env.write(f, &text);
    commit("instance type of eks_7");
    assert_eq!(
        matrix(&env, &["--base", "HEAD~1"]),
        [
            ("ops".into(), "eks_7".into()),
            ("apps".into(), "eks_7".into())
        ]
    );
    // A file of a service base: every root whose clusters apply it, in every environment.
    let svc = "repo/platform/services/cert-manager/deployments.yaml";
    env.write(svc, &format!("{}\n", env.read(svc)));
    commit("touch cert-manager's base");
    let m = matrix(&env, &["--base", "HEAD~1"]);
    assert_eq!(m.len(), 2 * 12, "{m:?}");
    // A commit touching nothing an engine reads plans nothing.
    env.write("repo/README.md", "# infra\n");
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "docs"]);
    assert!(matrix(&env, &["--base", "HEAD~1"]).is_empty());
    // Plinth's own modules changing (an upgrade) replans every root using them.
    let module = "repo/platform/generated/modules/eks/main.tf";
    env.write(module, &format!("{}\n", env.read(module)));
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "module change"]);
    assert_eq!(matrix(&env, &["--base", "HEAD~1"]).len(), 2 * 12);
    // For GitHub: one line each for $GITHUB_OUTPUT.
    let out = env.run_ok(&[
        "ci",
        "matrix",
        "repo/platform",
        "--base",
        "HEAD~4",
        "--head",
        "HEAD~3",
    ]);
    assert_eq!(
        out,
        "roots=[{\"environment\":\"ops\",\"root\":\"eks_7\",\"var\":\"OPS\"},{\"environment\":\"apps\",\"root\":\"eks_7\",\"var\":\"APPS\"}]\ncount=2\n"
    );
}

/// Issue 18: a local environment (Kubestack's `loc`) is outside the promotion chain: the
/// pipelines are the same as without it, and the review matrix plans the chain only.
#[test]
fn a_local_environment_stays_out_of_the_pipelines() {
    let env = TestEnv::new();
    let repo = repo(&env, "minimal");
    let pipelines = |force: bool| {
        let mut texts = Vec::new();
        for (system, file) in [
            ("github", ".github/workflows/plinth.yml"),
            ("gitlab", ".gitlab-ci.yml"),
            ("atlantis", "atlantis.yaml"),
        ] {
            let mut args = vec!["ci", system, "repo/platform"];
            if force {
                args.push("--force");
            }
            env.run_ok(&args);
            texts.push(std::fs::read_to_string(repo.join(file)).expect(file));
        }
        texts
    };
    let without = pipelines(false);
    let toml = env.read("repo/platform/plinth.toml");
    env.write(
        "repo/platform/plinth.toml",
        &format!("{toml}\n[environments.loc]\nlocal = true\n"),
    );
    env.run_ok(&["generate", "repo/platform"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "a local environment"]);
    assert_eq!(pipelines(true), without);
    // A change every environment sees is planned in the chain's only.
    let cluster = env.read("repo/platform/clusters/eks_zero.toml");
    assert!(cluster.contains("max_size = 9"), "{cluster}");
    env.write(
        "repo/platform/clusters/eks_zero.toml",
        &cluster.replacen("max_size = 9", "max_size = 12", 1),
    );
    env.run_ok(&["generate", "repo/platform"]);
    git(&repo, &["commit", "-qam", "bigger"]);
    let m = matrix(&env, &["--base", "HEAD~1"]);
    assert!(!m.is_empty());
    assert!(m.iter().all(|(e, _)| e != "loc"), "{m:?}");
}
