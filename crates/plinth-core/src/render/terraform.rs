//! Terraform roots: one for the platform (Kubestack's layout) or one per cluster
//! (`state = "cluster"`). Each holds every environment's resolved configuration and selects
//! it with `terraform.workspace`; a workspace that is not an environment fails the plan.

use super::hcl::{Block, Body, Expr};
use super::{Tree, backend, modules, with_header};
use crate::cluster::ResolvedCluster;
use crate::error::Result;
use crate::platform::{Platform, StateLayout};
use crate::provider::Provider;
use crate::resolve::Resolution;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// Terraform versions Plinth's output is written for.
pub const REQUIRED_VERSION: &str = ">= 1.5.0";

/// Adds the Terraform roots and the modules they use to `tree`.
pub fn render(p: &Platform, r: &Resolution, tree: &mut Tree) -> Result<()> {
    let name = &p.settings.name;
    let mut used: BTreeMap<&str, &'static Provider> = BTreeMap::new();
    for c in p.clusters.values() {
        used.insert(c.provider.id, c.provider);
    }
    for prov in used.values() {
        let generated: BTreeMap<String, String> = modules::generated(prov).into_iter().collect();
        for (rel, content) in modules::files(prov) {
            let body = generated.get(&rel).cloned().unwrap_or(content);
            tree.insert(
                format!("modules/{}/{rel}", prov.id),
                with_header("#", name, &body),
            )?;
        }
    }
    if p.clusters.values().any(|c| !c.services.is_empty()) {
        for (rel, content) in modules::dir_files(&crate::service::TERRAFORM_MODULE) {
            tree.insert(
                format!("modules/services/{rel}"),
                with_header("#", name, &content),
            )?;
        }
    }
    match p.settings.state {
        StateLayout::Platform => {
            let keys: Vec<&str> = p.clusters.keys().map(String::as_str).collect();
            root(p, r, &keys, "", None, tree)?;
        }
        StateLayout::Cluster => {
            // One root per cluster, rendered on both cores, inserted in key order.
            use rayon::prelude::*;
            let keys: Vec<&String> = p.clusters.keys().collect();
            let roots: Vec<Tree> = keys
                .par_iter()
                .map(|key| {
                    let mut t = Tree::default();
                    root(p, r, &[key.as_str()], &format!("{key}/"), Some(key), &mut t)?;
                    Ok(t)
                })
                .collect::<Result<_>>()?;
            for t in roots {
                tree.extend(t);
            }
        }
    }
    Ok(())
}

/// One root module at `dir` holding `clusters`.
fn root(
    p: &Platform,
    r: &Resolution,
    clusters: &[&str],
    dir: &str,
    state_key: Option<&str>,
    tree: &mut Tree,
) -> Result<()> {
    let name = &p.settings.name;
    let modules_path = if dir.is_empty() {
        "./modules"
    } else {
        "../modules"
    };
    let mut providers: BTreeMap<&str, (&str, &str)> = BTreeMap::new();
    let mut with_services = Vec::new();
    for key in clusters {
        if let Some(c) = p.clusters.get(*key) {
            let t = &c.provider.terraform;
            providers.insert(t.local_name, (t.source, t.version));
            if !c.services.is_empty() {
                with_services.push(*key);
            }
        }
    }
    if !with_services.is_empty() {
        providers.insert("kustomization", crate::service::KUSTOMIZATION_PROVIDER);
    }

    // versions.tf: Terraform and provider versions, and the backend.
    let mut required = Vec::new();
    for (local, (source, version)) in &providers {
        required.push((
            local.to_string(),
            Expr::Object(vec![
                ("source".into(), Expr::str(*source)),
                ("version".into(), Expr::str(*version)),
            ]),
        ));
    }
    let mut terraform = Block::new("terraform", &[])
        .attr("required_version", Expr::str(REQUIRED_VERSION))
        .blank();
    let mut rp = Block::new("required_providers", &[]);
    for (k, v) in required {
        rp = rp.attr(&k, v);
    }
    terraform = terraform
        .block(rp)
        .blank()
        .block(backend::block(&p.settings.backend, state_key));
    let mut versions = Body::default();
    versions.block(terraform);
    tree.insert(
        format!("{dir}versions.tf"),
        with_header("#", name, &versions.render()),
    )?;

    // platform.tf: the environments and the workspace guard.
    let envs: Vec<&str> = p.environments.names().collect();
    let mut platform = Body::default();
    platform.block(
        Block::new("locals", &[])
            .attr("platform", Expr::str(name.clone()))
            .attr("environments", Expr::List(envs.iter().map(|e| Expr::str(*e)).collect()))
            .blank()
            .block_comment("The workspace selects the environment. Any other workspace fails the plan (below);")
            .block_comment("until then the internal environment stands in, so `terraform validate` works.")
            .attr(
                "environment",
                Expr::raw(format!("contains(local.environments, terraform.workspace) ? terraform.workspace : {}", super::hcl::quote(envs[0]))),
            ),
    );
    platform.blank();
    // A quoted template that keeps `${terraform.workspace}` live; the platform name is escaped
    // as any HCL string is (quotes, backslashes, control characters, `${` and `%{`), so it
    // stays text whatever it holds.
    let quoted_name = super::hcl::quote(name);
    let message = format!(
        "\"Workspace \\\"${{terraform.workspace}}\\\" is not an environment of platform {}. Select one of {} with `terraform workspace select <environment>`.\"",
        &quoted_name[1..quoted_name.len() - 1],
        envs.join(", ")
    );
    platform.block(
        Block::new("resource", &["terraform_data", "workspace"])
            .attr("input", Expr::raw("terraform.workspace"))
            .blank()
            .block(
                Block::new("lifecycle", &[]).block(
                    Block::new("precondition", &[])
                        .attr(
                            "condition",
                            Expr::raw("contains(local.environments, terraform.workspace)"),
                        )
                        .attr("error_message", Expr::Raw(message)),
                ),
            ),
    );
    tree.insert(
        format!("{dir}platform.tf"),
        with_header("#", name, &platform.render()),
    )?;

    // providers.tf: one aliased provider per cluster.
    let mut pbody = Body::default();
    for (i, key) in clusters.iter().enumerate() {
        let Some(c) = p.clusters.get(*key) else {
            continue;
        };
        let t = &c.provider.terraform;
        let cfg = format!("local.{key}[local.environment].config");
        let mut b = Block::new("provider", &[t.local_name]).attr("alias", Expr::str(*key));
        for (k, v) in (t.provider_settings)(&cfg) {
            b = b.attr(k, Expr::Raw(v));
        }
        if !t.provider_blocks.is_empty() {
            b = b.blank();
            for nested in t.provider_blocks {
                b = b.block(Block::new(nested, &[]));
            }
        }
        if i > 0 {
            pbody.blank();
        }
        pbody.block(b);
        if with_services.contains(key) {
            // Services are applied through the cluster's own kubeconfig.
            pbody.blank();
            pbody.block(
                Block::new("provider", &["kustomization"])
                    .attr("alias", Expr::str(*key))
                    .attr(
                        "kubeconfig_raw",
                        Expr::Raw(format!("module.{key}.kubeconfig")),
                    ),
            );
        }
    }
    tree.insert(
        format!("{dir}providers.tf"),
        with_header("#", name, &pbody.render()),
    )?;

    // <cluster>.tf: the heavy part (every environment's resolved values), rendered on both cores.
    use rayon::prelude::*;
    let files: Vec<(String, String)> = clusters
        .par_iter()
        .filter_map(|key| {
            let def = p.clusters.get(*key)?;
            let body = cluster_file(r, key, def, modules_path, dir);
            Some((format!("{dir}{key}.tf"), with_header("#", name, &body)))
        })
        .collect();
    for (path, content) in files {
        tree.insert(path, content)?;
    }
    if let Some(moved) = crate::import::migrate::moved_file(p, r, clusters) {
        tree.insert(
            format!("{dir}kubestack_moved.tf"),
            with_header("#", name, &moved),
        )?;
    }
    let in_root: std::collections::BTreeSet<&str> = clusters.iter().map(|c| &c[..]).collect();
    let sensitive = crate::secrets::variables_of(r, |c| in_root.contains(c));
    if !sensitive.is_empty() {
        tree.insert(
            format!("{dir}sensitive.tf"),
            with_header("#", name, &sensitive_file(&sensitive)),
        )?;
    }

    // outputs.tf.
    let mut outputs = Body::default();
    for (i, key) in clusters.iter().enumerate() {
        if !p.clusters.contains_key(*key) {
            continue;
        }
        if i > 0 {
            outputs.blank();
        }
        outputs.block(
            Block::new("output", &[key])
                .attr(
                    "description",
                    Expr::str(format!(
                        "Cluster `{key}` in the current environment: its name and API endpoint."
                    )),
                )
                .attr(
                    "value",
                    Expr::Object(vec![
                        ("name".into(), Expr::Raw(format!("module.{key}.name"))),
                        (
                            "endpoint".into(),
                            Expr::Raw(format!("module.{key}.endpoint")),
                        ),
                    ]),
                ),
        );
        outputs.blank();
        outputs.block(
            Block::new("output", &[&format!("{key}_kubeconfig")])
                .attr(
                    "description",
                    Expr::str(format!(
                        "Kubeconfig of cluster `{key}` in the current environment."
                    )),
                )
                .attr("value", Expr::Raw(format!("module.{key}.kubeconfig")))
                .attr("sensitive", Expr::Bool(true)),
        );
    }
    tree.insert(
        format!("{dir}outputs.tf"),
        with_header("#", name, &outputs.render()),
    )?;
    Ok(())
}

/// The `<cluster>.tf` body: the cluster's resolved values per environment and its module calls.
fn cluster_file(
    r: &Resolution,
    key: &str,
    def: &crate::cluster::ClusterDef,
    modules_path: &str,
    dir: &str,
) -> String {
    let mut per_env = Vec::new();
    for env in &r.environments {
        if let Some(c) = env.clusters.get(key) {
            per_env.push((env.environment.clone(), cluster_value(c, &env.environment)));
        }
    }
    let mut body = Body::default();
    body.block(
        Block::new("locals", &[])
            .block_comment(&format!(
                "Cluster `{key}` ({}), resolved by Plinth for every environment:",
                def.provider.title
            ))
            .block_comment("inheritance and defaults are applied; `local.environment` picks one.")
            .attr(key, Expr::Object(per_env)),
    );
    body.blank();
    let sel = |what: &str| Expr::Raw(format!("local.{key}[local.environment].{what}"));
    body.block(
        Block::new("module", &[key])
            .attr(
                "source",
                Expr::str(format!("{modules_path}/{}", def.provider.id)),
            )
            .blank()
            .attr(
                "providers",
                Expr::Object(vec![(
                    def.provider.terraform.local_name.to_string(),
                    Expr::Raw(format!("{}.{key}", def.provider.terraform.local_name)),
                )]),
            )
            .blank()
            .attr("metadata", sel("metadata"))
            .attr("config", sel("config"))
            .attr("node_pools", sel("node_pools")),
    );
    if !def.services.is_empty() {
        let overlays = if dir.is_empty() {
            "${path.root}/services"
        } else {
            "${path.root}/../services"
        };
        body.blank();
        body.block(
        Block::new("module", &[&format!("{key}_services")])
            .block_comment("Platform services: one kustomize overlay per service, for this cluster and environment.")
            .block_comment("They reach the cluster through its provider (configured from the cluster's kubeconfig),")
            .block_comment("so they are applied after it; a `depends_on` here would defer reading the overlays to")
            .block_comment("apply time and make the plan impossible.")
            .attr("source", Expr::str(format!("{modules_path}/services")))
            .attr(
            "for_each",
            Expr::Object(
                def.services
                .values()
                .map(|s| {
                    let helm = matches!(s.source, crate::service::Source::Helm { .. });
                    (s.key.clone(), Expr::Object(vec![("helm".into(), Expr::Bool(helm))]))
                })
                .collect(),
            ),
            )
            .blank()
            .attr("providers", Expr::Object(vec![("kustomization".into(), Expr::Raw(format!("kustomization.{key}")))]))
            .blank()
            .attr("path", Expr::Raw(format!("\"{overlays}/{key}/${{local.environment}}/${{each.key}}\"")))
            .attr("helm", Expr::raw("each.value.helm")),
        );
    }
    body.render()
}

/// A component's resolved configuration as an HCL object; sensitive values become references
/// to their variables (see [`crate::secrets`]), so generated files never hold them. `path` is
/// the component's place (cluster, environment[, pool]), extended by keys and list indices.
fn config_expr<'a>(t: &'a crate::value::Table, path: &mut Vec<Cow<'a, str>>) -> Expr {
    Expr::Object(
        t.iter()
            .map(|(k, v)| {
                path.push(Cow::Borrowed(k));
                let e = value_expr(v, path);
                path.pop();
                (k.to_string(), e)
            })
            .collect(),
    )
}

fn value_expr<'a>(v: &'a crate::value::Value, path: &mut Vec<Cow<'a, str>>) -> Expr {
    use crate::value::{Kind, Sensitive};
    match (v.sensitive(), &v.kind) {
        (Some(Sensitive::Value(_)), _) => {
            Expr::Raw(format!("var.{}", crate::secrets::variable_name(path)))
        }
        (Some(Sensitive::FromEnv(name)), _) => Expr::Raw(format!("var.{name}")),
        (None, Kind::Table(t)) if crate::secrets::contains_sensitive(v) => config_expr(t, path),
        (None, Kind::Array(items)) if crate::secrets::contains_sensitive(v) => Expr::List(
            items
                .iter()
                .enumerate()
                .map(|(i, x)| {
                    path.push(Cow::Owned(i.to_string()));
                    let e = value_expr(x, path);
                    path.pop();
                    e
                })
                .collect(),
        ),
        (None, _) => Expr::value(v),
    }
}

/// `sensitive.tf`: a sensitive variable for each value marked sensitive. Values written in the
/// definition are required (Plinth passes them as `TF_VAR_*` at plan time); values read from
/// the environment default to null, so environments that do not use one need not set it.
fn sensitive_file(vars: &BTreeMap<String, crate::secrets::SensitiveVar>) -> String {
    let mut body = Body::default();
    for (i, v) in vars.values().enumerate() {
        if i > 0 {
            body.blank();
        }
        let description = match &v.literal {
            Some(_) => format!(
                "{}, marked sensitive in the definition (passed by Plinth as `TF_VAR_{}`).",
                v.what, v.name
            ),
            None => format!(
                "{}, read from `TF_VAR_{}` at plan time (environments: {}).",
                v.what,
                v.name,
                v.environments
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let mut b = Block::new("variable", &[&v.name])
            .attr(
                "description",
                Expr::str(crate::render::one_line(&description)),
            )
            .attr("type", Expr::raw(v.ty))
            .attr("sensitive", Expr::Bool(true));
        if v.literal.is_none() {
            b = b.attr("default", Expr::raw("null"));
        }
        body.block(b);
    }
    body.render()
}

/// `{ metadata, config, node_pools }` of one cluster in one environment.
fn cluster_value(c: &ResolvedCluster, env: &str) -> Expr {
    let m = &c.meta;
    let metadata = Expr::Object(vec![
        ("name".into(), Expr::str(m.name.clone())),
        ("domain".into(), Expr::str(m.domain.clone())),
        ("fqdn".into(), Expr::str(m.fqdn.clone())),
        (
            "workspace".into(),
            Expr::str(
                m.labels
                    .iter()
                    .find(|(k, _)| k.ends_with("cluster_workspace"))
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default(),
            ),
        ),
        ("provider_name".into(), Expr::str(c.provider.provider_name)),
        ("region".into(), Expr::str(c.region.clone())),
        (
            "labels".into(),
            Expr::Object(
                m.labels
                    .iter()
                    .map(|(k, v)| (k.clone(), Expr::str(v.clone())))
                    .collect(),
            ),
        ),
        (
            "tags".into(),
            Expr::List(m.tags.iter().map(|t| Expr::str(t.clone())).collect()),
        ),
    ]);
    let pools = Expr::Object(
        c.node_pools
            .values()
            .map(|pool| {
                (
                    pool.key.clone(),
                    Expr::Object(vec![
                        ("name".into(), Expr::str(pool.name.clone())),
                        (
                            "config".into(),
                            config_expr(
                                &pool.config,
                                &mut vec![
                                    Cow::Borrowed(c.key.as_str()),
                                    Cow::Borrowed(env),
                                    Cow::Borrowed(pool.key.as_str()),
                                ],
                            ),
                        ),
                    ]),
                )
            })
            .collect(),
    );
    Expr::Object(vec![
        ("metadata".into(), metadata),
        (
            "config".into(),
            config_expr(
                &c.config,
                &mut vec![Cow::Borrowed(c.key.as_str()), Cow::Borrowed(env)],
            ),
        ),
        ("node_pools".into(), pools),
    ])
}
