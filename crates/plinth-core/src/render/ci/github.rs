//! The GitHub Actions workflow: `.github/workflows/plinth.yml`.

use super::{Cloud, Ctx, var_suffix};
use crate::render::yaml::quote;
use std::fmt::Write;

/// Installs the Plinth that wrote the workflow, built once from its source and cached.
const INSTALL: &str = "      - name: Restore plinth ${{ env.PLINTH_VERSION }}
        id: plinth-cache
        uses: actions/cache@1bd1e32a3bdc45362d1e726936510720a7c30a57 # v4.2.0
        with:
          path: ~/.cargo/bin/plinth
          key: plinth-${{ runner.os }}-${{ env.PLINTH_VERSION }}
      - name: Build plinth ${{ env.PLINTH_VERSION }} from its source
        if: steps.plinth-cache.outputs.cache-hit != 'true'
        run: cargo install --locked --git \"$PLINTH_SOURCE\" --tag \"v$PLINTH_VERSION\" plinth
";

const CHECKOUT: &str =
    "      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
        with:
          fetch-depth: 0          # every revision and tag: the record, and the revisions to compare
          persist-credentials: false
";

const TERRAFORM: &str =
    "      - uses: hashicorp/setup-terraform@b9cd54a3c349d3f38e8881555d616ced269862dd # v3.1.2
        with:
          terraform_version: \"1.11.4\"
          terraform_wrapper: false
";

/// Where the credentials' names come from: the plan jobs run for pull requests, outside any
/// GitHub environment, so they index repository variables by environment; apply and promote
/// jobs run in the environment and read its own variables.
#[derive(Clone, Copy)]
enum Scope {
    Plan,
    Deploy,
}

fn var(scope: Scope, name: &str) -> String {
    match scope {
        Scope::Plan => format!("${{{{ vars[format('PLINTH_{name}_PLAN_{{0}}', matrix.var)] }}}}"),
        Scope::Deploy => format!("${{{{ vars.PLINTH_{name} }}}}"),
    }
}

fn credentials(ctx: &Ctx<'_>, scope: Scope) -> String {
    let mut s = String::new();
    for cloud in &ctx.clouds {
        match cloud {
            Cloud::Aws => {
                let _ = write!(
                    s,
                    "      - name: AWS credentials (OIDC role assumption)\n        uses: aws-actions/configure-aws-credentials@e3dd6a429d7300a6a4c196c26e071d42e0343502 # v4.0.2\n        with:\n          role-to-assume: {}\n          aws-region: ${{{{ vars.PLINTH_AWS_REGION || 'us-east-1' }}}}\n",
                    var(scope, "AWS_ROLE")
                );
            }
            Cloud::Gcp => {
                let _ = write!(
                    s,
                    "      - name: Google Cloud credentials (workload identity federation)\n        uses: google-github-actions/auth@6fc4af4b145ae7821d527454aa9bd537d1f2dc5f # v2.1.7\n        with:\n          workload_identity_provider: ${{{{ vars.PLINTH_GCP_WORKLOAD_IDENTITY_PROVIDER }}}}\n          service_account: {}\n",
                    var(scope, "GCP_SERVICE_ACCOUNT")
                );
            }
            // azurerm reads GitHub's OIDC token itself (ARM_USE_OIDC): see `azure_env`.
            Cloud::Azure => {}
        }
    }
    s
}

/// The job-level environment for azurerm's own OIDC login.
fn azure_env(ctx: &Ctx<'_>, scope: Scope) -> String {
    if !ctx.clouds.contains(&Cloud::Azure) {
        return String::new();
    }
    format!(
        "      ARM_USE_OIDC: \"true\"\n      ARM_CLIENT_ID: {}\n      ARM_SUBSCRIPTION_ID: {}\n      ARM_TENANT_ID: ${{{{ vars.PLINTH_AZURE_TENANT_ID }}}}\n",
        var(scope, "AZURE_CLIENT_ID"),
        var(scope, "AZURE_SUBSCRIPTION_ID")
    )
}

fn needs_oidc(ctx: &Ctx<'_>) -> &'static str {
    if ctx.clouds.is_empty() {
        ""
    } else {
        "      id-token: write   # OIDC: short-lived cloud credentials for this job only\n"
    }
}

pub fn workflow(ctx: &Ctx<'_>) -> String {
    let internal = ctx.internal;
    let subject = "`repo:OWNER/REPO:environment:<env>`";
    let mut setup = vec![format!(
        "GitHub environments {} (Settings → Environments); protect the external ones with\nrequired reviewers. Their variables name the credentials applies use: {}.",
        ctx.p
            .environments
            .chain_names()
            .map(|e| format!("`{e}`"))
            .collect::<Vec<_>>()
            .join(", "),
        deploy_vars(ctx)
    )];
    if !ctx.clouds.is_empty() {
        setup.push(format!(
            "Repository variables for plans of pull requests (read-only credentials), per environment:\n{}.",
            plan_vars(ctx)
        ));
    }
    setup.extend(ctx.credential_notes(subject, "`repo:OWNER/REPO:pull_request`"));
    setup.push("The record is pushed as git tags with the job's own GITHUB_TOKEN (`contents: write` in the\nrecord jobs only); allow it to push tags if tag protection rules exist.".into());
    setup.push("Actions are pinned to commit SHAs (the version in the comment beside each); update them\ndeliberately (Dependabot or Renovate can). Pull requests from forks get no credentials and\ncannot plan.".into());
    let mut s = ctx.header("github", &setup);
    let external = ctx.external.join(", ");
    let _ = write!(
        s,
        "\nname: plinth

on:
  pull_request:
  push:
    branches: [main]
  workflow_dispatch:
    inputs:
      environment:
        description: Environment to promote to
        required: true
        type: choice
        options: [{external}]
      revision:
        description: Revision to promote (the head of main when empty); it must have been validated on the previous environment
        required: false
        type: string

# Nothing by default: every job asks for what it needs.
permissions: {{}}

# Reviews of one pull request replace each other; deployments (merges, promotions) queue.
concurrency:
  group: ${{{{ github.event_name == 'pull_request' && format('plinth-review-{{0}}', github.ref) || 'plinth-deploy' }}}}
  cancel-in-progress: ${{{{ github.event_name == 'pull_request' }}}}

env:
  PLATFORM: {platform}
  PLINTH_VERSION: {version}
  PLINTH_SOURCE: {source}
  TF_IN_AUTOMATION: \"1\"
  NO_COLOR: \"1\"

jobs:
",
        platform = quote(&ctx.platform_dir),
        version = quote(crate::VERSION),
        source = quote(plinth_source()),
    );
    // Review.
    let _ = write!(
        s,
        "  # Pull requests: validate, check the generated output is committed, and list the
  # Terraform roots the change touches in each environment.
  review:
    if: github.event_name == 'pull_request'
    runs-on: ubuntu-latest
    permissions:
      contents: read
    outputs:
      roots: ${{{{ steps.roots.outputs.roots }}}}
      count: ${{{{ steps.roots.outputs.count }}}}
    steps:
{CHECKOUT}{INSTALL}      - run: plinth validate \"$PLATFORM\"
      - run: plinth generate \"$PLATFORM\" --check
      - name: Terraform roots the change touches
        id: roots
        env:
          BASE: ${{{{ github.event.pull_request.base.sha }}}}
        run: plinth ci matrix \"$PLATFORM\" --base \"$BASE\" >> \"$GITHUB_OUTPUT\"

  # One plan per (environment, root), in parallel.
  plan:
    name: plan ${{{{ matrix.environment }}}} ${{{{ matrix.root }}}}
    needs: review
    if: needs.review.outputs.count != '0'
    runs-on: ubuntu-latest
    permissions:
      contents: read
{oidc}    strategy:
      fail-fast: false
      max-parallel: 20
      matrix:
        include: ${{{{ fromJSON(needs.review.outputs.roots) }}}}
    env:
      ENVIRONMENT: ${{{{ matrix.environment }}}}
      ROOT: ${{{{ matrix.root }}}}
{azure}    steps:
{CHECKOUT}{TERRAFORM}{INSTALL}{creds}      - name: Plan
        run: |
          set +e
          plinth plan \"$PLATFORM\" --env \"$ENVIRONMENT\" --root \"$ROOT\" > plan.txt 2>&1
          code=$?
          cat plan.txt
          mkdir -p plans
          {{ printf '### `%s` — `%s`\\n\\n```\\n' \"$ENVIRONMENT\" \"$ROOT\"; cat plan.txt; printf '```\\n'; }} > \"plans/$ENVIRONMENT-$ROOT.md\"
          [ \"$code\" -eq 0 ] || [ \"$code\" -eq 3 ]
      - uses: actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.2
        if: always()
        with:
          name: plan-${{{{ matrix.environment }}}}-${{{{ matrix.root }}}}
          path: plans/

  # The plans, as one comment on the pull request.
  comment:
    needs: [review, plan]
    if: always() && github.event_name == 'pull_request' && needs.review.result == 'success'
    runs-on: ubuntu-latest
    permissions:
      pull-requests: write
    steps:
      - uses: actions/download-artifact@d3f86a106a0bac45b974a628896c90dbdf5c8093 # v4.3.0
        with:
          pattern: plan-*
          merge-multiple: true
          path: plans
      - name: Comment the plans
        env:
          GH_TOKEN: ${{{{ github.token }}}}
          PR: ${{{{ github.event.pull_request.number }}}}
          REPO: ${{{{ github.repository }}}}
        run: |
          {{ echo '## plinth plan'; echo; if ls plans/*.md >/dev/null 2>&1; then cat plans/*.md; else echo 'No Terraform root is affected.'; fi; }} > plan.md
          gh pr comment \"$PR\" --repo \"$REPO\" --body-file plan.md
",
        oidc = needs_oidc(ctx),
        azure = azure_env(ctx, Scope::Plan),
        creds = credentials(ctx, Scope::Plan),
    );
    deploy(
        &mut s,
        ctx,
        &format!("apply-{internal}"),
        "github.event_name == 'push'",
        &format!("plinth ci matrix \"$PLATFORM\" --env {internal} >> \"$GITHUB_OUTPUT\""),
        internal,
        "plinth apply \"$PLATFORM\" --env \"$ENVIRONMENT\" --root \"$ROOT\" --receipt \"receipts/$ROOT.json\"",
        &format!("plinth record \"$PLATFORM\" --env {internal} --receipts receipts"),
        &format!(
            "# Merges to main: apply `{internal}`'s pending roots in parallel, then record the outcome once."
        ),
    );
    deploy(
        &mut s,
        ctx,
        "promote",
        "github.event_name == 'workflow_dispatch'",
        "plinth ci matrix \"$PLATFORM\" --env \"$ENVIRONMENT\" --promote ${REVISION:+--from-revision \"$REVISION\"} >> \"$GITHUB_OUTPUT\"",
        "${{ inputs.environment }}",
        "plinth promote \"$PLATFORM\" --to \"$ENVIRONMENT\" --root \"$ROOT\" ${REVISION:+--from-revision \"$REVISION\"} --receipt \"receipts/$ROOT.json\"",
        "plinth record \"$PLATFORM\" --env \"$ENVIRONMENT\" --promote ${REVISION:+--from-revision \"$REVISION\"} --receipts receipts",
        "# A manual run: promote a revision validated on the previous environment, the same way.",
    );
    s
}

/// The three jobs of a deployment: the pending roots, one apply per root, one record.
#[allow(clippy::too_many_arguments)]
fn deploy(
    s: &mut String,
    ctx: &Ctx<'_>,
    name: &str,
    when: &str,
    list: &str,
    env_value: &str,
    run: &str,
    record: &str,
    comment: &str,
) {
    let inputs = if name == "promote" {
        "      REVISION: ${{ inputs.revision }}\n"
    } else {
        ""
    };
    let _ = write!(
        s,
        "
  {comment}
  {name}-roots:
    if: {when}
    runs-on: ubuntu-latest
    permissions:
      contents: read
    outputs:
      roots: ${{{{ steps.roots.outputs.roots }}}}
      count: ${{{{ steps.roots.outputs.count }}}}
    env:
      ENVIRONMENT: {env_value}
{inputs}    steps:
{CHECKOUT}{INSTALL}      - name: Roots whose content differs from what the environment last applied
        id: roots
        run: {list}

  {name}:
    name: {name} ${{{{ matrix.root }}}}
    needs: {name}-roots
    if: needs.{name}-roots.outputs.count != '0'
    runs-on: ubuntu-latest
    environment: {env_value}
    permissions:
      contents: read
{oidc}    strategy:
      fail-fast: false
      max-parallel: 10
      matrix:
        include: ${{{{ fromJSON(needs.{name}-roots.outputs.roots) }}}}
    env:
      ENVIRONMENT: {env_value}
      ROOT: ${{{{ matrix.root }}}}
{inputs}{azure}    steps:
{CHECKOUT}{TERRAFORM}{INSTALL}{creds}      - run: {run}
      - uses: actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.2
        if: always()
        with:
          name: receipt-${{{{ matrix.root }}}}
          path: receipts/

  {name}-record:
    needs: [{name}-roots, {name}]
    if: always() && needs.{name}-roots.result == 'success'
    runs-on: ubuntu-latest
    permissions:
      contents: write   # pushes the record (git tags)
    env:
      ENVIRONMENT: {env_value}
{inputs}    steps:
{CHECKOUT}{INSTALL}      - uses: actions/download-artifact@d3f86a106a0bac45b974a628896c90dbdf5c8093 # v4.3.0
        with:
          pattern: receipt-*
          merge-multiple: true
          path: receipts
      - name: Record the outcome once every root has one
        run: |
          git config user.name plinth-ci
          git config user.email plinth-ci@users.noreply.github.com
          mkdir -p receipts
          {record}
      - name: Push the record
        if: always()
        env:
          GH_TOKEN: ${{{{ github.token }}}}
        # The token goes in a header for this one command, never into .git/config.
        run: |
          auth=$(printf 'x-access-token:%s' \"$GH_TOKEN\" | base64 -w0)
          git -c \"http.https://github.com/.extraheader=AUTHORIZATION: basic $auth\" push origin --tags
",
        oidc = needs_oidc(ctx),
        azure = azure_env(ctx, Scope::Deploy),
        creds = credentials(ctx, Scope::Deploy),
    );
}

fn deploy_vars(ctx: &Ctx<'_>) -> String {
    let mut v: Vec<&str> = Vec::new();
    for c in &ctx.clouds {
        match c {
            Cloud::Aws => v.push("PLINTH_AWS_ROLE"),
            Cloud::Gcp => v.push("PLINTH_GCP_SERVICE_ACCOUNT"),
            Cloud::Azure => v.extend(["PLINTH_AZURE_CLIENT_ID", "PLINTH_AZURE_SUBSCRIPTION_ID"]),
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

fn plan_vars(ctx: &Ctx<'_>) -> String {
    let mut v: Vec<String> = Vec::new();
    let envs: Vec<String> = ctx.p.environments.chain_names().map(var_suffix).collect();
    for c in &ctx.clouds {
        let names: &[&str] = match c {
            Cloud::Aws => &["AWS_ROLE"],
            Cloud::Gcp => &["GCP_SERVICE_ACCOUNT"],
            Cloud::Azure => &["AZURE_CLIENT_ID", "AZURE_SUBSCRIPTION_ID"],
        };
        for n in names {
            v.push(format!("`PLINTH_{n}_PLAN_<{}>`", envs.join("|")));
        }
    }
    if ctx.clouds.contains(&Cloud::Aws) {
        v.push("`PLINTH_AWS_REGION` (for STS; `us-east-1` when unset)".into());
    }
    if ctx.clouds.contains(&Cloud::Gcp) {
        v.push("`PLINTH_GCP_WORKLOAD_IDENTITY_PROVIDER`".into());
    }
    if ctx.clouds.contains(&Cloud::Azure) {
        v.push("`PLINTH_AZURE_TENANT_ID`".into());
    }
    v.join(", ")
}

/// Where CI builds Plinth from: this build's repository.
pub fn plinth_source() -> &'static str {
    env!("CARGO_PKG_REPOSITORY")
}
