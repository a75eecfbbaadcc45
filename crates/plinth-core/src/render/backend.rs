//! Terraform backends from `[platform.backend]`: one key table per backend type, credentials
//! refused (they come from the environment or the CI's secret store, never from files Plinth
//! writes), and per-cluster state keys when `state = "cluster"`.

use super::hcl::{Block, Expr};
use crate::diagnostic::{Diagnostic, Diagnostics, suggest};
use crate::value::{Kind, Origin, Table, Value};

/// Derives a cluster's state setting from the platform's: `(value, cluster) -> value`.
type Derive = fn(&str, &str) -> String;

struct BackendType {
    name: &'static str,
    required: &'static [&'static str],
    optional: &'static [&'static str],
    /// The setting that makes each cluster's state separate, and how.
    per_cluster: Option<(&'static str, Derive)>,
}

const TYPES: &[BackendType] = &[
    BackendType {
        name: "local",
        required: &[],
        optional: &["path", "workspace_dir"],
        per_cluster: None,
    },
    BackendType {
        name: "s3",
        required: &["bucket", "key", "region"],
        optional: &[
            "dynamodb_table",
            "encrypt",
            "kms_key_id",
            "workspace_key_prefix",
            "use_lockfile",
            "acl",
            "profile",
            "endpoint",
        ],
        per_cluster: Some(("key", |v, c| format!("{c}/{v}"))),
    },
    BackendType {
        name: "gcs",
        required: &["bucket"],
        optional: &[
            "prefix",
            "impersonate_service_account",
            "kms_encryption_key",
        ],
        per_cluster: Some(("prefix", |v, c| {
            if v.is_empty() {
                c.to_string()
            } else {
                format!("{}/{c}", v.trim_end_matches('/'))
            }
        })),
    },
    BackendType {
        name: "azurerm",
        required: &["storage_account_name", "container_name", "key"],
        optional: &[
            "resource_group_name",
            "subscription_id",
            "tenant_id",
            "use_azuread_auth",
            "use_oidc",
            "environment",
        ],
        per_cluster: Some(("key", |v, c| format!("{c}.{v}"))),
    },
    BackendType {
        name: "pg",
        required: &[],
        optional: &[
            "conn_str",
            "schema_name",
            "skip_schema_creation",
            "skip_table_creation",
            "skip_index_creation",
        ],
        per_cluster: Some(("schema_name", |v, c| {
            format!(
                "{}_{}",
                if v.is_empty() {
                    "terraform_remote_state"
                } else {
                    v
                },
                c.replace('-', "_")
            )
        })),
    },
    BackendType {
        name: "remote",
        required: &["organization", "workspaces_prefix"],
        optional: &["hostname"],
        per_cluster: Some(("workspaces_prefix", |v, c| format!("{v}{c}-"))),
    },
];

/// Keys that hold credentials: never written into generated files.
const SECRET_KEYS: &[&str] = &[
    "access_key",
    "secret_key",
    "token",
    "password",
    "sas_token",
    "client_secret",
    "client_certificate_password",
    "credentials",
    "access_token",
];

/// The backend type name (`local` when unset).
pub fn kind(backend: &Table) -> &str {
    backend
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("local")
}

/// Checks `[platform.backend]`; problems point at the definition.
pub fn check(backend: &Table, diags: &mut Diagnostics) {
    let name = kind(backend);
    let Some(t) = TYPES.iter().find(|t| t.name == name) else {
        let origin = backend.get("type").map_or(Origin::BUILTIN, |v| v.origin);
        diags.push(
            Diagnostic::error("unknown-backend", format!("unknown backend type `{name}`"))
                .at_value(origin, "not a backend Plinth supports")
                .maybe_hint(suggest(name, TYPES.iter().map(|t| t.name))),
        );
        return;
    };
    for (k, v) in backend {
        if k == "type" {
            continue;
        }
        if SECRET_KEYS.contains(&k.as_str())
            || (k == "conn_str" && v.as_str().is_some_and(has_password))
        {
            diags.push(
                Diagnostic::error("secret-in-definition", format!("`backend.{k}` holds a credential"))
                    .at_value(v.origin, "a secret in the code base")
                    .hint("credentials come from the environment or the CI's secret store (e.g. `AWS_*`, `ARM_*`, `PG_CONN_STR`), never from files Plinth writes"),
            );
            continue;
        }
        if !t.required.contains(&k.as_str()) && !t.optional.contains(&k.as_str()) {
            let all = t.required.iter().chain(t.optional).copied();
            diags.push(
                Diagnostic::error(
                    "unknown-key",
                    format!("`{k}` is not a setting of the `{name}` backend"),
                )
                .at_key(v.origin, "unknown setting")
                .maybe_hint(suggest(k, all)),
            );
        }
    }
    for r in t.required {
        if !backend.contains_key(r) {
            let origin = backend.get("type").map_or(Origin::BUILTIN, |v| v.origin);
            diags.push(
                Diagnostic::error("missing-key", format!("the `{name}` backend needs `{r}`"))
                    .at_value(origin, "incomplete backend")
                    .hint(format!("add `{r} = ...` to `[platform.backend]`")),
            );
        }
    }
}

/// `user:password@` in a connection string.
fn has_password(s: &str) -> bool {
    s.split_once("://").is_some_and(|(_, rest)| {
        rest.split('@')
            .next()
            .is_some_and(|auth| rest.contains('@') && auth.contains(':'))
    }) || s.contains("password=")
}

/// The `backend "<type>" { ... }` block; `cluster` makes the state key per cluster.
pub fn block(backend: &Table, cluster: Option<&str>) -> Block {
    let name = kind(backend);
    let t = TYPES.iter().find(|t| t.name == name);
    let mut b = Block::new("backend", &[name]);
    let mut settings: Vec<(String, Expr)> = backend
        .iter()
        .filter(|(k, _)| k.as_str() != "type" && k.as_str() != "workspaces_prefix")
        .map(|(k, v)| (k.to_string(), Expr::value(v)))
        .collect();
    if let (Some(c), Some(t)) = (cluster, t)
        && let Some((key, derive)) = t.per_cluster
        && key != "workspaces_prefix"
    {
        let current = backend.get(key).and_then(Value::as_str).unwrap_or_default();
        settings.retain(|(k, _)| k != key);
        settings.push((key.to_string(), Expr::Str(derive(current, c))));
        settings.sort_by(|a, b| a.0.cmp(&b.0));
    }
    for (k, v) in settings {
        b = b.attr(&k, v);
    }
    if name == "remote" {
        let prefix = backend
            .get("workspaces_prefix")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let prefix = match (cluster, t.and_then(|t| t.per_cluster)) {
            (Some(c), Some((_, derive))) => derive(prefix, c),
            _ => prefix.to_string(),
        };
        b = b
            .blank()
            .block(Block::new("workspaces", &[]).attr("prefix", Expr::Str(prefix)));
    }
    b
}

/// A backend table from literal settings (tests and defaults).
pub fn table(settings: &[(&str, &str)]) -> Table {
    settings
        .iter()
        .map(|(k, v)| ((*k).to_string(), Value::builtin(Kind::String((*v).into()))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::hcl::Body;

    fn render(b: Block) -> String {
        let mut body = Body::default();
        body.block(b);
        body.render()
    }

    #[test]
    fn per_cluster_state_keys() {
        let s3 = table(&[
            ("type", "s3"),
            ("bucket", "b"),
            ("key", "platform.tfstate"),
            ("region", "eu-west-1"),
        ]);
        assert!(
            render(block(&s3, Some("eks_zero")))
                .contains(r#"key    = "eks_zero/platform.tfstate""#)
        );
        let gcs = table(&[("type", "gcs"), ("bucket", "b"), ("prefix", "plinth/")]);
        assert!(render(block(&gcs, Some("gke_zero"))).contains(r#"prefix = "plinth/gke_zero""#));
        let remote = table(&[
            ("type", "remote"),
            ("organization", "acme"),
            ("workspaces_prefix", "platform-"),
        ]);
        assert!(render(block(&remote, Some("c"))).contains(r#"prefix = "platform-c-""#));
    }

    #[test]
    fn credentials_are_refused() {
        let mut diags = Diagnostics::default();
        check(
            &table(&[
                ("type", "s3"),
                ("bucket", "b"),
                ("key", "k"),
                ("region", "r"),
                ("secret_key", "x"),
            ]),
            &mut diags,
        );
        assert_eq!(
            diags.iter().map(|d| d.code).collect::<Vec<_>>(),
            ["secret-in-definition"]
        );
        let mut diags = Diagnostics::default();
        check(
            &table(&[("type", "pg"), ("conn_str", "postgres://u:p@db/x")]),
            &mut diags,
        );
        assert_eq!(
            diags.iter().map(|d| d.code).collect::<Vec<_>>(),
            ["secret-in-definition"]
        );
        let mut diags = Diagnostics::default();
        check(
            &table(&[
                ("type", "pg"),
                ("conn_str", "postgres://db/x?sslmode=disable"),
            ]),
            &mut diags,
        );
        assert!(diags.is_empty());
    }
}
