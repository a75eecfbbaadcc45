//! `plinth ci github|gitlab`: the GitOps pipeline. Pull requests are reviewed (validate,
//! generate --check, a plan of every environment attached to the request); a merge to the main
//! branch applies to the internal environment and pushes the record; a manual run promotes a
//! revision validated on the previous environment. Credentials come from the CI's secret
//! store, never from files Plinth writes.

use crate::error::{Error, Result};
use crate::platform::Platform;
use std::collections::BTreeSet;
use std::fmt::Write;
use std::path::PathBuf;

/// Secret variables each provider's Terraform and Plinth need in CI.
fn credentials(p: &Platform) -> Vec<(&'static str, &'static str)> {
    let mut set = BTreeSet::new();
    for c in p.clusters.values() {
        match c.provider.id {
            "eks" => set.extend([
                ("AWS_ACCESS_KEY_ID", "EKS"),
                ("AWS_SECRET_ACCESS_KEY", "EKS"),
            ]),
            "gke" => set.extend([("GOOGLE_CREDENTIALS", "GKE")]),
            "aks" => set.extend([
                ("ARM_CLIENT_ID", "AKS"),
                ("ARM_CLIENT_SECRET", "AKS"),
                ("ARM_SUBSCRIPTION_ID", "AKS"),
                ("ARM_TENANT_ID", "AKS"),
            ]),
            _ => {}
        }
    }
    set.into_iter().collect()
}

fn header(p: &Platform, system: &str) -> String {
    let mut s = format!(
        "# Plinth's GitOps pipeline for platform `{}`, written by `plinth ci {system}`. Edit freely:\n# Plinth does not overwrite it unless asked (`--force`).\n#\n# review → plan → apply to `{}` → promote the same validated revision onward ({}):\n#   - merge/pull requests: validate, check the generated output, plan every environment;\n#   - the main branch: apply to `{}` (the internal environment), push the record (git tags);\n#   - a manual run: promote a revision validated on the previous environment.\n",
        super::one_line(&p.settings.name),
        p.environments.internal(),
        p.environments.names().collect::<Vec<_>>().join(" → "),
        p.environments.internal()
    );
    let creds = credentials(p);
    if !creds.is_empty() {
        s.push_str("#\n# Secrets to define in the CI (never commit them):\n");
        for (k, what) in &creds {
            let _ = writeln!(s, "#   {k:<24} ({what})");
        }
    }
    s.push_str("# The record is pushed with a token allowed to push tags.\n");
    s
}

/// The pipeline file for `system` (`github` or `gitlab`), and where it goes.
pub fn pipeline(system: &str, p: &Platform, prefix: &str) -> Result<(PathBuf, String)> {
    let platform = if prefix.is_empty() { "." } else { prefix };
    let internal = p.environments.internal();
    let external: Vec<&str> = p.environments.names().skip(1).collect();
    let all: Vec<&str> = p.environments.names().collect();
    let creds = credentials(p);
    match system {
        "github" => {
            let mut s = header(p, system);
            let _ = write!(
                s,
                "name: plinth\n\non:\n  pull_request:\n  push:\n    branches: [main]\n  workflow_dispatch:\n    inputs:\n      environment:\n        description: Environment to promote to\n        required: true\n        type: choice\n        options: [{}]\n      revision:\n        description: Revision to promote (the head of main when empty); must be validated on the previous environment\n        required: false\n\npermissions:\n  contents: write\n  pull-requests: write\n\nenv:\n  PLATFORM: {platform}\n",
                external.join(", ")
            );
            for (k, _) in &creds {
                let _ = writeln!(s, "  {k}: ${{{{ secrets.{k} }}}}");
            }
            let setup = "    steps:\n      - uses: actions/checkout@v4\n        with:\n          fetch-depth: 0\n      - uses: hashicorp/setup-terraform@v3\n        with:\n          terraform_wrapper: false\n      - name: Install plinth\n        run: cargo install --locked plinth\n      - name: Fetch the record\n        run: git fetch --force --tags origin\n      - name: Identify record commits\n        run: git config user.name plinth-ci && git config user.email plinth-ci@users.noreply.github.com\n";
            let _ = write!(
                s,
                "\njobs:\n  review:\n    if: github.event_name == 'pull_request'\n    runs-on: ubuntu-latest\n{setup}      - run: plinth validate \"$PLATFORM\"\n      - run: plinth generate \"$PLATFORM\" --check\n"
            );
            for env in &all {
                let _ = write!(
                    s,
                    "      - name: Plan {env}\n        shell: bash\n        run: |\n          set +e\n          plinth plan \"$PLATFORM\" --env {env} --color never > plan-{env}.txt 2>&1\n          code=$?\n          {{ echo '### plinth plan --env {env}'; echo '```'; cat plan-{env}.txt; echo '```'; }} >> plan.md\n          [ \"$code\" -eq 0 ] || [ \"$code\" -eq 3 ]\n"
                );
            }
            s.push_str("      - name: Attach the plans to the pull request\n        if: always()\n        env:\n          GH_TOKEN: ${{ github.token }}\n        run: gh pr comment ${{ github.event.pull_request.number }} --body-file plan.md\n");
            let _ = write!(
                s,
                "\n  apply-{internal}:\n    if: github.event_name == 'push'\n    runs-on: ubuntu-latest\n    environment: {internal}\n    concurrency: plinth-{internal}\n{setup}      - run: plinth apply \"$PLATFORM\" --env {internal}\n      - name: Push the record\n        if: always()\n        run: git push origin --tags\n"
            );
            if let Some(next) = external.first() {
                let _ = write!(
                    s,
                    "      - name: Plan {next}, the next environment\n        shell: bash\n        run: plinth plan \"$PLATFORM\" --env {next} || [ $? -eq 3 ]\n"
                );
            }
            let _ = write!(
                s,
                "\n  promote:\n    if: github.event_name == 'workflow_dispatch'\n    runs-on: ubuntu-latest\n    environment: ${{{{ inputs.environment }}}}\n    concurrency: plinth-${{{{ inputs.environment }}}}\n{setup}      - name: Promote\n        shell: bash\n        run: |\n          rev=\"${{{{ inputs.revision }}}}\"\n          plinth promote \"$PLATFORM\" --to \"${{{{ inputs.environment }}}}\" ${{rev:+--from-revision \"$rev\"}}\n      - name: Push the record\n        if: always()\n        run: git push origin --tags\n"
            );
            Ok((PathBuf::from(".github/workflows/plinth.yml"), s))
        }
        "gitlab" => {
            let mut s = header(p, system);
            let _ = write!(
                s,
                "stages: [review, apply, promote]\n\nvariables:\n  PLATFORM: \"{platform}\"\n  GIT_DEPTH: \"0\"\n  # Set when running the pipeline by hand to promote: one of {}.\n  PROMOTE_TO: \"\"\n  PROMOTE_REVISION: \"\"\n\ndefault:\n  # An image with plinth, terraform, kubectl and git, built by the platform team.\n  image: $PLINTH_IMAGE\n  before_script:\n    - git fetch --force --tags origin\n    - git config user.name plinth-ci && git config user.email plinth-ci@$CI_SERVER_HOST\n",
                external.join(", ")
            );
            let _ = write!(
                s,
                "\nreview:\n  stage: review\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"\n  script:\n    - plinth validate \"$PLATFORM\"\n    - plinth generate \"$PLATFORM\" --check\n    - |\n      for env in {}; do\n        plinth plan \"$PLATFORM\" --env \"$env\" --color never | tee \"plan-$env.txt\"\n        code=${{PIPESTATUS[0]}}\n        [ \"$code\" -eq 0 ] || [ \"$code\" -eq 3 ] || exit \"$code\"\n      done\n  artifacts:\n    expose_as: plans\n    paths: [\"plan-*.txt\"]\n",
                all.join(" ")
            );
            let _ = write!(
                s,
                "\napply-{internal}:\n  stage: apply\n  rules:\n    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH && $CI_PIPELINE_SOURCE == \"push\"\n  resource_group: plinth-{internal}\n  environment: {internal}\n  script:\n    - plinth apply \"$PLATFORM\" --env {internal}\n  after_script:\n    - git push \"https://oauth2:${{PLINTH_PUSH_TOKEN}}@${{CI_SERVER_HOST}}/${{CI_PROJECT_PATH}}.git\" --tags\n"
            );
            let _ = write!(
                s,
                "\npromote:\n  stage: promote\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"web\" && $PROMOTE_TO != \"\"\n  resource_group: plinth-$PROMOTE_TO\n  environment: $PROMOTE_TO\n  script:\n    - plinth promote \"$PLATFORM\" --to \"$PROMOTE_TO\" ${{PROMOTE_REVISION:+--from-revision \"$PROMOTE_REVISION\"}}\n  after_script:\n    - git push \"https://oauth2:${{PLINTH_PUSH_TOKEN}}@${{CI_SERVER_HOST}}/${{CI_PROJECT_PATH}}.git\" --tags\n"
            );
            Ok((PathBuf::from(".gitlab-ci.yml"), s))
        }
        other => Err(Error::refused(
            format!("no pipeline for `{other}`"),
            Some("use `github` or `gitlab`".into()),
        )),
    }
}
