//! `plinth schema`: the JSON schema of a definition, built from the same key tables that
//! validation uses, so editors complete and check exactly what Plinth accepts.

use crate::inheritance::Mode;
use crate::keys::table_schema;
use crate::platform::PLATFORM_KEYS;
use crate::provider::{self, Provider};
use crate::service::{SERVICE_KEYS, ServiceKind};
use serde_json::{Value, json};

/// Which file the schema describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// `plinth.toml`.
    Root,
    /// `clusters/<key>.toml`.
    ClusterFile,
}

fn env_map(inner: Value, what: &str) -> Value {
    json!({
        "type": "object",
        "description": format!("{what} by environment name: the base environment's table is inherited by every other environment."),
        "additionalProperties": inner,
    })
}

fn intent_props() -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert(
        "tenant".into(),
        json!({"type": "string", "description": "Tenant this component is dedicated to."}),
    );
    m.insert(
        "stage".into(),
        json!({"enum": ["prod", "non-prod"], "description": "Stage of the workloads it runs."}),
    );
    m.insert("workload".into(), json!({"type": "string", "description": "Type of workload it runs, e.g. `web`, `ml`, `ci`."}));
    m.insert("description".into(), json!({"type": "string"}));
    m.insert(
        "inheritance".into(),
        serde_json::to_value(schemars::schema_for!(Mode))
            .unwrap_or_else(|_| json!({"enum": Mode::NAMES})),
    );
    m
}

fn service_schema() -> Value {
    let mut props = intent_props();
    props.insert("kind".into(), json!({"enum": ServiceKind::NAMES}));
    props.insert(
        "catalog".into(),
        json!({"type": "string", "description": "Catalog entry the service was added from."}),
    );
    props.insert(
        "source".into(),
        json!({
            "description": "A kustomize base inside the platform, a pinned remote base, or a pinned Helm chart.",
            "oneOf": [
                {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"], "additionalProperties": false},
                {"type": "object", "properties": {"url": {"type": "string"}, "ref": {"type": "string"}}, "required": ["url", "ref"], "additionalProperties": false},
                {"type": "object", "properties": {"repo": {"type": "string"}, "chart": {"type": "string"}, "version": {"type": "string"}, "release_name": {"type": "string"}}, "required": ["repo", "chart", "version"], "additionalProperties": false}
            ]
        }),
    );
    props.insert(
        "config".into(),
        env_map(table_schema(SERVICE_KEYS, false), "Service configuration"),
    );
    json!({"type": "object", "properties": props, "required": ["kind", "source"], "additionalProperties": false})
}

/// Expected load by environment (`plinth capacity`).
fn load_schema() -> Value {
    env_map(
        table_schema(crate::advise::declared::LOAD_KEYS, false),
        "Expected load (for `plinth capacity`)",
    )
}

/// The schema of one cluster of `provider` (the body of `[clusters.<key>]`).
pub fn cluster_schema(p: &Provider) -> Value {
    let mut pool_props = intent_props();
    pool_props.insert(
        "config".into(),
        env_map(table_schema(p.pool_keys, true), "Node pool configuration"),
    );
    pool_props.insert("load".into(), load_schema());
    let pool = json!({"type": "object", "properties": pool_props, "additionalProperties": false});
    let mut props = intent_props();
    props.insert(
        "provider".into(),
        json!({"const": p.id, "description": p.title}),
    );
    props.insert(
        "config".into(),
        env_map(table_schema(p.cluster_keys, true), "Cluster configuration"),
    );
    props.insert("load".into(), load_schema());
    props.insert(
        "node_pools".into(),
        json!({"type": "object", "description": "Node pools; `default` is created with the cluster.", "required": ["default"], "additionalProperties": pool}),
    );
    props.insert(
        "services".into(),
        json!({"type": "object", "additionalProperties": service_schema()}),
    );
    let names = |doc: &str| json!({"type": "object", "description": doc, "additionalProperties": {"type": "string"}});
    props.insert(
        "kubestack".into(),
        json!({"type": "object", "description": "The Kubestack module `plinth import kubestack` made this cluster from: `plinth generate` writes `moved` blocks from it so the first plan moves the state instead of replacing anything. Remove it once every environment was applied by Plinth.", "properties": {
            "module": {"type": "string", "description": "Kubestack's cluster module name."},
            "layout": {"enum": ["release", "current"], "description": "`release`: resources in `module.cluster` (v0.19.2-beta.0 and before); `current`: the main branch's flat modules."},
            "node_pools": names("Pool key → Kubestack node-pool module."),
            "services": names("Service key → Kubestack catalog module."),
            "resources": names("Kubestack root resource → its address in the cluster's module.")
        }, "required": ["module"], "additionalProperties": false}),
    );
    json!({"type": "object", "title": p.title, "properties": props, "required": ["provider", "config", "node_pools"], "additionalProperties": false})
}

fn any_cluster() -> Value {
    json!({"oneOf": provider::ALL.iter().map(|p| cluster_schema(p)).collect::<Vec<_>>()})
}

pub fn schema(target: Target) -> Value {
    let mut out = match target {
        Target::ClusterFile => any_cluster(),
        Target::Root => {
            let intent = json!({"type": "object", "properties": {
                "tenant": {"type": "string"}, "stage": {"enum": ["prod", "non-prod"]},
                "workload": {"type": "string"}, "description": {"type": "string"},
                "local": {"type": "boolean", "description": "A development environment outside the promotion chain (not listed in `[platform] environments`): resolved, generated and applied, never promoted to."}}, "additionalProperties": false});
            json!({
                "type": "object",
                "properties": {
                    "platform": table_schema(PLATFORM_KEYS, false),
                    "promotion": table_schema(crate::promote::policy::PROMOTION_KEYS, false),
                    "environments": {"type": "object", "description": "What each environment separates; `local = true` declares a development environment outside the promotion chain.", "additionalProperties": intent},
                    "clusters": {"type": "object", "additionalProperties": any_cluster()},
                },
                "additionalProperties": false,
            })
        }
    };
    out["$schema"] = "https://json-schema.org/draft/2020-12/schema".into();
    out["title"] = match target {
        Target::Root => "Plinth platform definition (plinth.toml)",
        Target::ClusterFile => "Plinth cluster file (clusters/<key>.toml)",
    }
    .into();
    out
}

/// The configuration reference in Markdown, generated from the key tables (for docs).
pub fn reference_markdown() -> String {
    let mut s = String::from(
        "<!-- Generated by `plinth schema --markdown`; do not edit. -->\n# Configuration reference\n\n",
    );
    s.push_str("## `[platform]`\n\n");
    s.push_str(&crate::keys::markdown(PLATFORM_KEYS, ""));
    s.push_str("\n## `[promotion]`\n\n");
    s.push_str("What a revision must prove on an environment before `plinth promote` takes it to the next one. Both are part of the content hash: changing them is validated on the internal environment first.\n\n");
    s.push_str(&crate::keys::markdown(
        crate::promote::policy::PROMOTION_KEYS,
        "",
    ));
    s.push_str("\nEach `[[promotion.verify]]` entry:\n\n");
    s.push_str(&crate::keys::fields_markdown(
        crate::promote::policy::VERIFY_FIELDS,
    ));
    for p in provider::ALL {
        s.push_str(&format!(
            "\n## {} (`provider = \"{}\"`)\n\n### Cluster `config.<env>`\n\n",
            p.title, p.id
        ));
        s.push_str(&crate::keys::markdown(p.cluster_keys, "the cluster"));
        s.push_str("\n### Node pool `config.<env>`\n\n");
        s.push_str(&crate::keys::markdown(p.pool_keys, "the node pool"));
    }
    s.push_str("\n## Sensitive values\n\n");
    s.push_str("Any single value (string, number, boolean) of a cluster's or node pool's `config.<env>`, also inside a table or list, may be written as a sensitive value — except the keys that form names and domains (`name_prefix`, `base_domain`, `region`, `name`, `node_pool_name`):\n\n");
    s.push_str("- `{ sensitive = true, value = ... }`: the value is in the definition, but generated files hold only a reference to a Terraform sensitive variable (`sensitive.tf`), which `plinth plan`/`apply` pass as `TF_VAR_*` in Terraform's environment; `plinth show`, JSON output and the promotion record show `{\"sensitive\": true}`.\n");
    s.push_str("- `{ sensitive = true, from_env = \"NAME\" }`: the value is not in the repository; the variable `NAME` is read from `TF_VAR_NAME` at plan time, and a plan of an environment that uses it is refused while it is unset.\n\n");
    s.push_str("Credentials (cloud access keys, private keys, tokens, passwords in URLs) are refused anywhere in the definition; service configuration, `[platform]` and `load` cannot hold sensitive values (services get secrets at run time from a Kubernetes Secret).\n");
    s.push_str("\n## Services `config.<env>`\n\n");
    s.push_str(&crate::keys::markdown(SERVICE_KEYS, ""));
    s.push_str("\n## Expected load `load.<env>` (clusters and node pools)\n\n");
    s.push_str("Beside `config`, for `plinth capacity`. An environment without a table inherits the base environment's; a table overrides the base's keys one by one. Load declared on a cluster runs on its `default` pool.\n\n");
    s.push_str(&crate::keys::markdown(
        crate::advise::declared::LOAD_KEYS,
        "",
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed reference is generated from the key tables; this fails when they drift.
    #[test]
    fn committed_reference_is_current() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/configuration.md");
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == reference_markdown(),
            "docs/configuration.md is stale: run `cargo run -- schema --markdown > docs/configuration.md`"
        );
    }

    #[test]
    fn schema_lists_every_provider_key() {
        let s = schema(Target::ClusterFile);
        let providers = s["oneOf"].as_array().expect("providers");
        assert_eq!(providers.len(), provider::ALL.len());
        for (p, schema) in provider::ALL.iter().zip(providers) {
            let keys = &schema["properties"]["config"]["additionalProperties"]["properties"];
            for k in p.cluster_keys {
                assert!(keys.get(k.name).is_some(), "{} lacks {}", p.id, k.name);
            }
        }
    }
}
