//! How a change proves itself on an environment before it may be promoted onward: `[promotion]`
//! (a minimum soak time and verification checks) and `[platform.record]` (signed records).
//!
//! The policy is part of the content hash: weakening it is a change like any other, validated
//! on the internal environment before it governs a promotion.

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::keys::{self, Ctx, Field, Key, Ty};
use crate::value::{Table, Value};

/// A built-in verification check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Builtin {
    /// Every node pool of every cluster has nodes, and every node is Ready.
    NodesReady,
    /// Every Deployment, DaemonSet and StatefulSet of every service is rolled out and available.
    WorkloadsAvailable,
}

impl Builtin {
    pub const NAMES: &'static [&'static str] = &["nodes-ready", "workloads-available"];

    pub fn parse(s: &str) -> Option<Builtin> {
        match s {
            "nodes-ready" => Some(Builtin::NodesReady),
            "workloads-available" => Some(Builtin::WorkloadsAvailable),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// What a verification step runs.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Builtin(Builtin),
    /// A program and its arguments, run from the platform directory without a shell.
    Command(Vec<String>),
}

/// One `[[promotion.verify]]` entry.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Check {
    pub name: String,
    pub step: Step,
    /// Seconds before the check fails (it is stopped).
    pub timeout: u64,
    /// Where it runs; empty: every environment.
    pub environments: Vec<String>,
}

impl Check {
    pub fn applies_to(&self, env: &str) -> bool {
        self.environments.is_empty() || self.environments.iter().any(|e| e == env)
    }
}

/// The promotion policy of a platform.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Policy {
    /// Minimum seconds a revision runs on an environment before it is promoted to the next.
    pub soak: u64,
    pub verify: Vec<Check>,
    /// Records must be signed git tags, verified with `git verify-tag`.
    pub signed: bool,
}

impl Policy {
    /// The checks that run on `env`.
    pub fn checks_for(&self, env: &str) -> Vec<&Check> {
        self.verify.iter().filter(|c| c.applies_to(env)).collect()
    }

    /// The policy as the content hash covers it.
    pub fn canonical(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Default timeout of a verification check.
pub const DEFAULT_TIMEOUT: u64 = 600;

pub const VERIFY_FIELDS: &[Field] = &[
    Field::new(
        "name",
        Ty::String,
        "Name shown in the record and in messages (the check or the program by default).",
    ),
    Field::new(
        "check",
        Ty::Enum(Builtin::NAMES),
        "A built-in check, through the real `kubectl` against each cluster's kubeconfig output: `nodes-ready` (every node pool has nodes, all Ready) or `workloads-available` (every Deployment, DaemonSet and StatefulSet of every service rolled out).",
    ),
    Field::new(
        "command",
        Ty::List(&Ty::String),
        "A program and its arguments, run from the platform directory without a shell; exit 0 passes. It gets `PLINTH_ENVIRONMENT`, `PLINTH_COMMIT`, `PLINTH_KUBECONFIG_DIR` (one `<cluster>.yaml` each) and `KUBECONFIG`.",
    ),
    Field::new(
        "timeout",
        Ty::Pattern(is_duration, "a duration such as `90s`, `10m` or `1h`"),
        "How long the check may take (default `10m`); it fails when stopped.",
    ),
    Field::new(
        "environments",
        Ty::List(&Ty::String),
        "Environments it runs on (default: every environment).",
    ),
];

/// The `[promotion]` keys.
pub static PROMOTION_KEYS: &[Key] = &[
    Key::new(
        "soak",
        Ty::Pattern(is_duration, "a duration such as `30m`, `2h` or `1d`"),
        "Minimum time a revision runs on an environment before `plinth promote` takes it to the next one.",
    )
    .default(keys::Default::Str("0s")),
    Key::new(
        "verify",
        Ty::List(&Ty::Object(VERIFY_FIELDS)),
        "Checks run after every successful apply (and by `plinth verify`); a revision is promoted from an environment only once they all passed there.",
    ),
];

/// The fields of `[platform.record]`.
pub const RECORD_FIELDS: &[Field] = &[Field::new(
    "signed",
    Ty::Boolean,
    "Record tags are signed (`git tag -s`, SSH or GPG as git is configured) and every record a promotion relies on must pass `git verify-tag`.",
)];

/// `90s`, `10m`, `2h`, `1d`, `1h30m`: seconds, or `None`.
pub fn parse_duration(s: &str) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let n: u64 = digits.parse().ok()?;
        digits.clear();
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(unit)?)?;
    }
    digits.is_empty().then_some(total)
}

fn is_duration(s: &str) -> bool {
    parse_duration(s).is_some()
}

/// `2h`, `1h30m`, `45s`: a duration for messages.
pub fn format_duration(secs: u64) -> String {
    if secs == 0 {
        return "0s".into();
    }
    let parts = [
        (secs / 86_400, "d"),
        (secs % 86_400 / 3600, "h"),
        (secs % 3600 / 60, "m"),
        (secs % 60, "s"),
    ];
    parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, u)| format!("{n}{u}"))
        .collect()
}

/// Reads `[promotion]` (and `[platform.record]`, from the checked `[platform]` table); problems
/// go to `diags` with their positions.
pub fn decode(
    promotion: Option<&Value>,
    record: Option<&Value>,
    chain: &[String],
    diags: &mut Diagnostics,
) -> Policy {
    let mut policy = Policy::default();
    if let Some(signed) = record
        .and_then(Value::as_table)
        .and_then(|t| t.get("signed"))
        .and_then(Value::as_bool)
    {
        policy.signed = signed;
    }
    let Some(v) = promotion else { return policy };
    let Some(t) = v.as_table() else {
        diags.push(
            Diagnostic::error("wrong-type", "`promotion` must be a table")
                .at_value(v.origin, "write `[promotion]`"),
        );
        return policy;
    };
    let checked: Table = keys::check_table(
        PROMOTION_KEYS,
        t,
        Ctx {
            component: "`[promotion]`",
            environment: None,
        },
        diags,
    );
    policy.soak = checked
        .get("soak")
        .and_then(Value::as_str)
        .and_then(parse_duration)
        .unwrap_or(0);
    for item in checked
        .get("verify")
        .and_then(Value::as_array)
        .unwrap_or_default()
    {
        let Some(c) = item.as_table() else { continue };
        let s = |k: &str| c.get(k).and_then(Value::as_str);
        let step = match (s("check"), c.get("command").and_then(Value::as_array)) {
            (Some(b), None) => Builtin::parse(b).map(Step::Builtin),
            (None, Some(argv)) if !argv.is_empty() => Some(Step::Command(
                argv.iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect(),
            )),
            (None, Some(_)) => {
                diags.push(
                    Diagnostic::error("invalid-value", "a verification `command` needs a program")
                        .at_value(item.origin, "empty command")
                        .hint("e.g. `command = [\"scripts/smoke-test.sh\"]`"),
                );
                None
            }
            _ => {
                diags.push(
                    Diagnostic::error(
                        "invalid-value",
                        "a `[[promotion.verify]]` entry has exactly one of `check` or `command`",
                    )
                    .at_value(item.origin, "which check?")
                    .hint(format!(
                        "built-in checks: {}; or `command = [\"program\", \"arg\"]`",
                        Builtin::NAMES
                            .iter()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                );
                None
            }
        };
        let Some(step) = step else { continue };
        let mut environments = Vec::new();
        for e in c
            .get("environments")
            .and_then(Value::as_array)
            .unwrap_or_default()
        {
            let Some(name) = e.as_str() else { continue };
            if chain.iter().any(|c| c == name) {
                environments.push(name.to_string());
            } else {
                diags.push(
                    Diagnostic::error(
                        "unknown-environment",
                        format!("`{name}` is not an environment of the promotion chain"),
                    )
                    .at_value(e.origin, "unknown environment")
                    .maybe_hint(crate::diagnostic::suggest(
                        name,
                        chain.iter().map(String::as_str),
                    )),
                );
            }
        }
        let name = s("name").map(String::from).unwrap_or_else(|| match &step {
            Step::Builtin(b) => b.as_str().to_string(),
            Step::Command(argv) => argv.first().cloned().unwrap_or_default(),
        });
        if policy.verify.iter().any(|v| v.name == name) {
            diags.push(
                Diagnostic::error(
                    "duplicate-check",
                    format!("two verification checks are named `{name}`"),
                )
                .at_value(item.origin, "again here")
                .hint("give each `[[promotion.verify]]` entry its own `name`"),
            );
            continue;
        }
        policy.verify.push(Check {
            name,
            step,
            timeout: s("timeout")
                .and_then(parse_duration)
                .unwrap_or(DEFAULT_TIMEOUT),
            environments,
        });
    }
    policy
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Some(90));
        assert_eq!(parse_duration("2h"), Some(7200));
        assert_eq!(parse_duration("1h30m"), Some(5400));
        assert_eq!(parse_duration("1d"), Some(86_400));
        assert_eq!(parse_duration("0s"), Some(0));
        for bad in ["", "2", "h", "2x", "-1h", "1.5h", "99999999999999999999d"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
        assert_eq!(format_duration(5400), "1h30m");
        assert_eq!(format_duration(90_061), "1d1h1m1s");
        assert_eq!(format_duration(0), "0s");
    }
}
