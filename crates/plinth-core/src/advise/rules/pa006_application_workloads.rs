//! PA006: application workload manifests in the platform, as the services lint finds them.

use super::{Ctx, Finding, Rule};
use crate::diagnostic::{Diagnostic, Severity};
use crate::platform::Platform;

pub static RULE: Rule = Rule {
    id: "PA006",
    title: "keep application workload manifests out of the platform",
    severity: Severity::Warning,
    reason: "\u{201c}Do not maintain application workload manifests inside the platform repository. Include everything required so that your platform is ready to run workloads. But exclude manifests that merely define workloads.\u{201d} \u{201c}Deploying application workloads as part of the Kubestack automation is discouraged, because it breaks separation between the platform and application layer and often leads to circular dependencies.\u{201d}",
    fix: "move the manifest to the application team's repository, or declare the service's platform role with `kind = ...`",
};

pub fn check(ctx: &Ctx<'_>) -> Vec<Finding> {
    services_lint(ctx.platform)
        .into_iter()
        .map(|d| {
            let fix = d.hint.clone().unwrap_or_else(|| RULE.fix.to_string());
            let mut f = Finding::new(&RULE, d.message.clone(), fix);
            // The lint's labels point into the platform's source map, which `plinth_core::check`
            // leaves holding every file the lint read: the ids are valid in `Checked::sources`.
            f.diagnostic.labels = d.labels;
            f.diagnostic.path = d.path;
            f
        })
        .collect()
}

/// THE call site of the services lint (shared rule 6): every finding it makes becomes a PA006.
fn services_lint(p: &Platform) -> Vec<Diagnostic> {
    crate::service::lint::workload_findings(p)
}
