//! PA001: at least two environments, and an internal one before the external ones.

use super::{Ctx, Finding, Rule};
use crate::diagnostic::Severity;
use crate::load::ROOT_FILE;

pub static RULE: Rule = Rule {
    id: "PA001",
    title: "an internal environment validates every change before the external ones",
    severity: Severity::Error,
    reason: "\u{201c}A platform should have at least two environments, one internal to the platform team and one external, or user-facing one.\u{201d} \u{201c}You review and validate any change against an internal environment before promoting it to an external, user-facing environment.\u{201d}",
    fix: "put an internal environment that runs no application workloads (`ops`) first in `[platform] environments`",
};

pub fn check(ctx: &Ctx<'_>) -> Vec<Finding> {
    let p = ctx.platform;
    let envs = &p.environments;
    let mut shape = ctx.arch.shape;
    shape.environments += 1;
    shape.internal = true;
    let alternative = super::Alternative {
        label: "internal `ops` environment first".into(),
        shape,
    };
    let Some(first) = envs.chain.first() else {
        return Vec::new();
    };
    let ops = ctx.new_environment_name("ops");
    if envs.len() < 2 {
        let f = Finding::new(
            &RULE,
            format!(
                "the platform has one environment, `{}`: no change is validated before it reaches users",
                first.name
            ),
            format!(
                "write `environments = [\"{ops}\", \"{}\"]` in `[platform]` of `{ROOT_FILE}` (`{ops}` inherits `{}` and only overrides what differs, e.g. smaller node pools)",
                first.name, first.name
            ),
        )
        .at(p.settings.origin("environments"), "one environment")
        .in_file(ROOT_FILE)
        .suggest(alternative);
        return vec![f];
    }
    if ctx.arch.shape.internal {
        return Vec::new();
    }
    let i = &first.intent;
    let declared: Vec<String> = [
        i.stage.map(|s| format!("stage = \"{}\"", s.as_str())),
        i.tenant.as_ref().map(|t| format!("tenant = \"{t}\"")),
        i.workload.as_ref().map(|w| format!("workload = \"{w}\"")),
    ]
    .into_iter()
    .flatten()
    .collect();
    let f = Finding::new(
        &RULE,
        format!(
            "the first environment, `{}`, declares {}: it runs application workloads, so no internal environment validates a change before it reaches users",
            first.name,
            super::list(&declared)
        ),
        format!(
            "insert an internal environment before it: `plinth add environment {ops} --before {}`; it runs no application workloads, only the platform, and every change is validated there first",
            first.name
        ),
    )
    .at(first.origin, "first in the promotion chain")
    .in_file(ROOT_FILE)
    .suggest(alternative);
    vec![f]
}
