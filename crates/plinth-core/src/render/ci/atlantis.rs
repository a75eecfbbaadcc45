//! Atlantis: `atlantis.yaml`, one project per (root, workspace).
//!
//! Atlantis runs Terraform itself, so Plinth's part is the gate: the project's plan and apply
//! first ask `plinth promote --check` whether the revision may reach that environment (the
//! internal one needs no check), and an apply ends with `plinth apply` (internal) or `plinth
//! promote` (external), which find every root planning no changes and record the revision, so
//! the next environment's gate can see it.

use super::Ctx;
use crate::render::yaml::quote;
use std::fmt::Write;

pub fn repo_config(ctx: &Ctx<'_>) -> String {
    let setup = vec![
        "The server-side repo config must allow this file's custom workflow\n(`allowed_overrides: [workflow]`, `allow_custom_workflows: true`), and the Atlantis image\nneeds `plinth` on PATH (the same version that wrote this file) and git.".to_string(),
        "Atlantis's own cloud credentials apply (e.g. an instance role or workload identity per\nenvironment); Plinth adds none. Keep the external environments' projects behind\n`apply_requirements: [approved, mergeable]` (set below).".into(),
    ];
    let mut s = ctx.header("atlantis", &setup);
    let _ = write!(
        s,
        "
version: 3
automerge: false
parallel_plan: true
parallel_apply: true

projects:
"
    );
    // Files every root reads besides its own directory: Plinth's modules and the platform's
    // service bases (a change there replans every root that uses them).
    let modules = if ctx.per_cluster {
        "../modules/**/*.tf"
    } else {
        "modules/**/*.tf"
    };
    let services = if ctx.per_cluster {
        "../services/**/*"
    } else {
        "services/**/*"
    };
    let bases = if ctx.per_cluster {
        "../../services/**/*"
    } else {
        "../services/**/*"
    };
    for env in ctx.p.environments.chain_names() {
        for (root, dir) in ctx.roots() {
            let internal = env == ctx.internal;
            let _ = write!(
                s,
                "  - name: {name}
    dir: {dir}
    workspace: {env}
    workflow: plinth
    autoplan:
      enabled: true
      when_modified: [\"*.tf\", {modules}, {services}, {bases}]
{requirements}",
                name = quote(&format!("{env}-{root}")),
                dir = quote(&dir),
                env = quote(env),
                modules = quote(modules),
                services = quote(services),
                bases = quote(bases),
                requirements = if internal {
                    "    apply_requirements: [mergeable]\n"
                } else {
                    "    apply_requirements: [approved, mergeable]\n"
                },
            );
        }
    }
    let platform = quote(&ctx.platform_dir);
    let _ = write!(
        s,
        "
workflows:
  plinth:
    plan:
      steps:
        # The gate: an external environment only plans a revision validated on the one before.
        - run: cd \"$(git rev-parse --show-toplevel)\" && if [ \"$WORKSPACE\" != {internal} ]; then plinth promote {platform} --to \"$WORKSPACE\" --check; fi
        - init
        - plan
    apply:
      steps:
        - run: cd \"$(git rev-parse --show-toplevel)\" && if [ \"$WORKSPACE\" != {internal} ]; then plinth promote {platform} --to \"$WORKSPACE\" --check; fi
        - apply
        # Record the revision for the environment: every root now plans no changes.
        - run: cd \"$(git rev-parse --show-toplevel)\" && if [ \"$WORKSPACE\" = {internal} ]; then plinth apply {platform} --env {internal}; else plinth promote {platform} --to \"$WORKSPACE\"; fi
",
        internal = quote(ctx.internal),
    );
    s
}
