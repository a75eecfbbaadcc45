//! `plinth ci github|gitlab`: the pipeline scaffold parses as YAML, reviews every environment,
//! applies only the internal one on merge, and promotes on demand with secrets from the CI.

mod common;

use common::TestEnv;

fn pipeline(env: &TestEnv, system: &str) -> (String, yaml_rust2::Yaml) {
    env.run_ok(&["ci", system, "p"]);
    let path = if system == "github" {
        "p/.github/workflows/plinth.yml"
    } else {
        "p/.gitlab-ci.yml"
    };
    let text = env.read(path);
    let doc = yaml_rust2::YamlLoader::load_from_str(&text)
        .expect("valid YAML")
        .remove(0);
    (text, doc)
}

#[test]
fn github_actions_pipeline() {
    let env = TestEnv::new();
    env.run_ok(&["init", "p", "--example", "multi-cloud"]);
    let (text, doc) = pipeline(&env, "github");
    insta::assert_snapshot!(text);
    let jobs = &doc["jobs"];
    assert!(
        jobs["review"]["if"]
            .as_str()
            .is_some_and(|c| c.contains("pull_request"))
    );
    assert!(
        jobs["apply-ops"]["if"]
            .as_str()
            .is_some_and(|c| c.contains("push"))
    );
    assert!(
        jobs["promote"]["if"]
            .as_str()
            .is_some_and(|c| c.contains("workflow_dispatch"))
    );
    let steps = jobs["review"]["steps"].as_vec().expect("steps");
    let runs: Vec<&str> = steps.iter().filter_map(|s| s["run"].as_str()).collect();
    assert!(
        runs.iter()
            .any(|r| r.contains("plinth generate \"$PLATFORM\" --check"))
    );
    assert!(
        runs.iter().any(|r| r.contains("--env ops"))
            && runs.iter().any(|r| r.contains("--env apps"))
    );
    // Every provider's credentials come from secrets; nothing is a literal.
    for k in [
        "AWS_ACCESS_KEY_ID",
        "GOOGLE_CREDENTIALS",
        "ARM_CLIENT_SECRET",
    ] {
        assert_eq!(
            doc["env"][k].as_str(),
            Some(format!("${{{{ secrets.{k} }}}}").as_str())
        );
    }
    // Refuses to overwrite without --force.
    let again = env.run(&["ci", "github", "p"]);
    assert!(
        again.starts_with("exit: 1") && again.contains("--force"),
        "{again}"
    );
}

#[test]
fn gitlab_pipeline() {
    let env = TestEnv::new();
    env.run_ok(&["init", "p", "--example", "environments"]);
    let (text, doc) = pipeline(&env, "gitlab");
    insta::assert_snapshot!(text);
    assert_eq!(
        doc["apply-ops"]["resource_group"].as_str(),
        Some("plinth-ops")
    );
    assert!(
        doc["review"]["script"][2]
            .as_str()
            .is_some_and(|s| s.contains("for env in ops apps apps-prod"))
    );
    assert!(text.contains("one of apps, apps-prod"));
}
