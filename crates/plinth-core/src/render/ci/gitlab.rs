//! GitLab CI: `.gitlab-ci.yml` (the stages), `.gitlab/plinth.yml` (job templates), and the
//! child pipelines `plinth ci matrix --output gitlab` writes at run time, one job per root.

use super::{Cloud, Ctx, MatrixEntry};
use crate::render::yaml::quote;
use std::fmt::Write;
use std::path::PathBuf;

pub const TEMPLATES: &str = ".gitlab/plinth.yml";

pub fn pipeline(ctx: &Ctx<'_>) -> Vec<(PathBuf, String)> {
    let internal = ctx.internal;
    let mut setup = vec![
        format!(
            "CI/CD variables, protected and scoped to each environment ({}): {}.",
            ctx.p
                .environments
                .chain_names()
                .map(|e| format!("`{e}`"))
                .collect::<Vec<_>>()
                .join(", "),
            scoped_vars(ctx)
        ),
        "`PLINTH_PUSH_TOKEN`: a project access token with `write_repository`, masked and protected:\nthe record jobs push the record (git tags) with it.".into(),
    ];
    setup.extend(ctx.credential_notes(
        "`project_path:GROUP/PROJECT:ref_type:branch:ref:main`",
        "merge requests (`project_path:GROUP/PROJECT:ref_type:branch:ref:*`)",
    ));
    setup.push(format!(
        "Protect the external environments ({}) with required approvals.",
        ctx.external
            .iter()
            .map(|e| format!("`{e}`"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let mut s = ctx.header("gitlab", &setup);
    let _ = write!(
        s,
        "
stages: [build, review, plan, deploy]

variables:
  PLATFORM: {platform}
  PLINTH_VERSION: {version}
  PLINTH_SOURCE: {source}
  GIT_DEPTH: \"0\"
  TF_IN_AUTOMATION: \"1\"
  NO_COLOR: \"1\"
  # Set when running the pipeline by hand (Build → Pipelines → Run pipeline) to promote:
  # PROMOTE_TO is one of {external}; PROMOTE_REVISION the revision (HEAD when empty).
  PROMOTE_TO: \"\"
  PROMOTE_REVISION: \"\"

include:
  - local: {templates}

workflow:
  rules:
    - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH && $CI_PIPELINE_SOURCE == \"push\"
    - if: $CI_PIPELINE_SOURCE == \"web\" && $PROMOTE_TO != \"\"

# Plinth itself, built once per version from its source and cached.
plinth:
  stage: build
  extends: .plinth-build

# Merge requests: validate, check the generated output is committed, and write a child pipeline
# that plans each (environment, root) the change touches, in parallel.
review:
  stage: review
  extends: .plinth
  needs: [plinth]
  rules:
    - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"
  script:
    - plinth validate \"$PLATFORM\"
    - plinth generate \"$PLATFORM\" --check
    - plinth ci matrix \"$PLATFORM\" --base \"$CI_MERGE_REQUEST_DIFF_BASE_SHA\" --output gitlab --job plan > plinth-pipeline.yml
  artifacts:
    paths: [plinth-pipeline.yml]

plan:
  stage: plan
  needs: [review]
  rules:
    - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"
  variables:
    PLINTH_PARENT_PIPELINE: $CI_PIPELINE_ID
  trigger:
    include:
      - artifact: plinth-pipeline.yml
        job: review
    strategy: depend

# Merges to the default branch: `{internal}`'s pending roots, applied in parallel by a child
# pipeline whose last job records the outcome once.
apply-{internal}-roots:
  stage: review
  extends: .plinth
  needs: [plinth]
  rules:
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH && $CI_PIPELINE_SOURCE == \"push\"
  resource_group: plinth-{internal}
  script:
    - plinth ci matrix \"$PLATFORM\" --env {internal} --output gitlab --job apply > plinth-pipeline.yml
  artifacts:
    paths: [plinth-pipeline.yml]

apply-{internal}:
  stage: deploy
  needs: [apply-{internal}-roots]
  rules:
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH && $CI_PIPELINE_SOURCE == \"push\"
  variables:
    PLINTH_PARENT_PIPELINE: $CI_PIPELINE_ID
  trigger:
    include:
      - artifact: plinth-pipeline.yml
        job: apply-{internal}-roots
    strategy: depend

# A manual run with PROMOTE_TO set: the same, gated on the previous environment's record.
promote-roots:
  stage: review
  extends: .plinth
  needs: [plinth]
  rules:
    - if: $CI_PIPELINE_SOURCE == \"web\" && $PROMOTE_TO != \"\"
  script:
    - plinth ci matrix \"$PLATFORM\" --env \"$PROMOTE_TO\" --promote ${{PROMOTE_REVISION:+--from-revision \"$PROMOTE_REVISION\"}} --output gitlab --job promote > plinth-pipeline.yml
  artifacts:
    paths: [plinth-pipeline.yml]

promote:
  stage: deploy
  needs: [promote-roots]
  rules:
    - if: $CI_PIPELINE_SOURCE == \"web\" && $PROMOTE_TO != \"\"
  variables:
    PLINTH_PARENT_PIPELINE: $CI_PIPELINE_ID
    PROMOTE_TO: $PROMOTE_TO
    PROMOTE_REVISION: $PROMOTE_REVISION
  trigger:
    include:
      - artifact: plinth-pipeline.yml
        job: promote-roots
    strategy: depend
",
        platform = quote(&ctx.platform_dir),
        version = quote(crate::VERSION),
        source = quote(super::github::plinth_source()),
        external = ctx.external.join(", "),
        templates = TEMPLATES,
    );
    vec![
        (PathBuf::from(".gitlab-ci.yml"), s),
        (PathBuf::from(TEMPLATES), templates(ctx)),
    ]
}

fn scoped_vars(ctx: &Ctx<'_>) -> String {
    let mut v: Vec<&str> = Vec::new();
    for c in &ctx.clouds {
        match c {
            Cloud::Aws => v.extend(["PLINTH_AWS_ROLE", "PLINTH_AWS_PLAN_ROLE"]),
            Cloud::Gcp => v.extend([
                "PLINTH_GCP_WORKLOAD_IDENTITY_PROVIDER",
                "PLINTH_GCP_SERVICE_ACCOUNT",
                "PLINTH_GCP_PLAN_SERVICE_ACCOUNT",
            ]),
            Cloud::Azure => v.extend([
                "PLINTH_AZURE_TENANT_ID",
                "PLINTH_AZURE_SUBSCRIPTION_ID",
                "PLINTH_AZURE_CLIENT_ID",
                "PLINTH_AZURE_PLAN_CLIENT_ID",
            ]),
        }
    }
    if v.is_empty() {
        "none (no cloud clusters)".into()
    } else {
        v.iter()
            .map(|x| format!("`{x}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The job templates the pipeline and its child pipelines extend.
fn templates(ctx: &Ctx<'_>) -> String {
    let mut s = format!(
        "# Job templates of Plinth's pipeline (see .gitlab-ci.yml), written by `plinth ci gitlab`
# (Plinth {}). Child pipelines that `plinth ci matrix --output gitlab` writes extend them.

.plinth-build:
  image: rust:1-alpine
  cache:
    key: plinth-$PLINTH_VERSION
    paths: [.plinth/]
  script:
    - test -x .plinth/bin/plinth || {{ apk add --no-cache musl-dev git && cargo install --locked --root .plinth --git \"$PLINTH_SOURCE\" --tag \"v$PLINTH_VERSION\" plinth; }}
  artifacts:
    paths: [.plinth/bin/plinth]
    expire_in: 1 day

# terraform, git and a POSIX shell; Plinth comes from the `plinth` job.
.plinth:
  image:
    name: hashicorp/terraform:1.11.4
    entrypoint: [\"\"]
  before_script:
    - export PATH=\"$CI_PROJECT_DIR/.plinth/bin:$PATH\"
    - git fetch --force --tags origin
",
        crate::VERSION
    );
    // Credentials from OIDC: one ID token per cloud, each with that cloud's audience.
    let _ = write!(
        s,
        "
# Short-lived cloud credentials from GitLab's OIDC ID tokens. `PLINTH_CREDENTIALS` is `PLAN`
# in merge requests (read-only) and empty when deploying; the variables are scoped per
# environment.
.plinth-credentials:
"
    );
    if ctx.clouds.is_empty() {
        s.push_str("  variables: {}\n");
        return s;
    }
    s.push_str("  id_tokens:\n");
    for c in &ctx.clouds {
        match c {
            Cloud::Aws => s.push_str("    PLINTH_AWS_ID_TOKEN:\n      aud: sts.amazonaws.com\n"),
            Cloud::Gcp => s.push_str(
                "    PLINTH_GCP_ID_TOKEN:\n      aud: https://iam.googleapis.com/$PLINTH_GCP_WORKLOAD_IDENTITY_PROVIDER\n",
            ),
            Cloud::Azure => {
                s.push_str("    PLINTH_AZURE_ID_TOKEN:\n      aud: api://AzureADTokenExchange\n");
            }
        }
    }
    s.push_str("  before_script:\n    - export PATH=\"$CI_PROJECT_DIR/.plinth/bin:$PATH\"\n    - git fetch --force --tags origin\n");
    for c in &ctx.clouds {
        match c {
            Cloud::Aws => s.push_str(
                "    - printf '%s' \"$PLINTH_AWS_ID_TOKEN\" > \"$CI_PROJECT_DIR/.aws-id-token\"\n    - export AWS_WEB_IDENTITY_TOKEN_FILE=\"$CI_PROJECT_DIR/.aws-id-token\"\n    - if [ \"$PLINTH_CREDENTIALS\" = PLAN ]; then export AWS_ROLE_ARN=\"$PLINTH_AWS_PLAN_ROLE\"; else export AWS_ROLE_ARN=\"$PLINTH_AWS_ROLE\"; fi\n",
            ),
            Cloud::Gcp => s.push_str(
                "    - printf '%s' \"$PLINTH_GCP_ID_TOKEN\" > \"$CI_PROJECT_DIR/.gcp-id-token\"\n    - if [ \"$PLINTH_CREDENTIALS\" = PLAN ]; then sa=\"$PLINTH_GCP_PLAN_SERVICE_ACCOUNT\"; else sa=\"$PLINTH_GCP_SERVICE_ACCOUNT\"; fi\n    - printf '{\"type\":\"external_account\",\"audience\":\"//iam.googleapis.com/%s\",\"subject_token_type\":\"urn:ietf:params:oauth:token-type:jwt\",\"token_url\":\"https://sts.googleapis.com/v1/token\",\"credential_source\":{\"file\":\"%s\"},\"service_account_impersonation_url\":\"https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/%s:generateAccessToken\"}' \"$PLINTH_GCP_WORKLOAD_IDENTITY_PROVIDER\" \"$CI_PROJECT_DIR/.gcp-id-token\" \"$sa\" > \"$CI_PROJECT_DIR/.gcp-credentials.json\"\n    - export GOOGLE_APPLICATION_CREDENTIALS=\"$CI_PROJECT_DIR/.gcp-credentials.json\"\n",
            ),
            Cloud::Azure => s.push_str(
                "    - export ARM_USE_OIDC=true ARM_OIDC_TOKEN=\"$PLINTH_AZURE_ID_TOKEN\" ARM_TENANT_ID=\"$PLINTH_AZURE_TENANT_ID\" ARM_SUBSCRIPTION_ID=\"$PLINTH_AZURE_SUBSCRIPTION_ID\"\n    - if [ \"$PLINTH_CREDENTIALS\" = PLAN ]; then export ARM_CLIENT_ID=\"$PLINTH_AZURE_PLAN_CLIENT_ID\"; else export ARM_CLIENT_ID=\"$PLINTH_AZURE_CLIENT_ID\"; fi\n",
            ),
        }
    }
    s
}

/// A child pipeline for `job` (`plan`, `apply` or `promote`) over `entries`: one parallel job
/// per root (and, to deploy, one job recording the outcome once they all ran). An empty matrix
/// still needs a job: GitLab refuses an empty pipeline.
pub fn child_pipeline(entries: &[MatrixEntry], job: &str, environment: Option<&str>) -> String {
    let mut s = format!(
        "# Written by `plinth ci matrix --output gitlab --job {job}` (Plinth {}).\ninclude:\n  - local: {TEMPLATES}\n\nstages: [{job}, record]\n",
        crate::VERSION
    );
    let fetch = "  needs:\n    - pipeline: $PLINTH_PARENT_PIPELINE\n      job: plinth\n";
    if entries.is_empty() {
        let _ = write!(
            s,
            "\nnothing:\n  stage: {job}\n  image: alpine:3\n  script:\n    - echo 'No Terraform root to {job}.'\n"
        );
    } else {
        let (env_line, credentials, run) = match job {
            "plan" => (
                "  environment:\n    name: $ENVIRONMENT\n    action: prepare\n",
                "PLAN",
                "plinth plan \"$PLATFORM\" --env \"$ENVIRONMENT\" --root \"$ROOT\"; code=$?; [ \"$code\" -eq 0 ] || [ \"$code\" -eq 3 ]",
            ),
            "apply" => (
                "  environment:\n    name: $ENVIRONMENT\n",
                "",
                "plinth apply \"$PLATFORM\" --env \"$ENVIRONMENT\" --root \"$ROOT\" --receipt \"receipts/$ROOT.json\"",
            ),
            _ => (
                "  environment:\n    name: $ENVIRONMENT\n",
                "",
                "plinth promote \"$PLATFORM\" --to \"$ENVIRONMENT\" --root \"$ROOT\" ${PROMOTE_REVISION:+--from-revision \"$PROMOTE_REVISION\"} --receipt \"receipts/$ROOT.json\"",
            ),
        };
        let _ = write!(
            s,
            "\n{job}:\n  stage: {job}\n  extends: [.plinth, .plinth-credentials]\n{fetch}{env_line}  variables:\n    PLINTH_CREDENTIALS: \"{credentials}\"\n  parallel:\n    matrix:\n"
        );
        for e in entries {
            let _ = write!(
                s,
                "      - ENVIRONMENT: {}\n        ROOT: {}\n",
                quote(&e.environment),
                quote(&e.root)
            );
        }
        let _ = writeln!(s, "  script:\n    - {run}");
        if job != "plan" {
            s.push_str("  artifacts:\n    when: always\n    paths: [receipts/]\n");
        }
    }
    if job != "plan" {
        let env = environment.unwrap_or("$ENVIRONMENT");
        let promote = if job == "promote" {
            " --promote ${PROMOTE_REVISION:+--from-revision \"$PROMOTE_REVISION\"}"
        } else {
            ""
        };
        let needs = if entries.is_empty() {
            ""
        } else {
            "    - job: {job}\n      artifacts: true\n"
        };
        let _ = write!(
            s,
            "\nrecord:\n  stage: record\n  extends: .plinth\n  when: always\n  needs:\n    - pipeline: $PLINTH_PARENT_PIPELINE\n      job: plinth\n{}  script:\n    - git config user.name plinth-ci && git config user.email \"plinth-ci@$CI_SERVER_HOST\"\n    - mkdir -p receipts\n    - plinth record \"$PLATFORM\" --env {}{promote} --receipts receipts\n  after_script:\n    - git push \"https://oauth2:${{PLINTH_PUSH_TOKEN}}@${{CI_SERVER_HOST}}/${{CI_PROJECT_PATH}}.git\" --tags\n",
            needs.replace("{job}", job),
            quote(env),
        );
    }
    s
}
