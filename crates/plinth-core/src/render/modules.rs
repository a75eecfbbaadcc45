//! Plinth's Terraform modules: real `.tf` files kept per provider in
//! `src/provider/<id>/terraform/`, embedded in the binary and written beside generated roots.
//!
//! Their input types are not written by hand: `variables.tf` (and `node_pool/variables.tf`)
//! are generated from the provider's key tables, so Terraform type-checks exactly what Plinth
//! validates. The generated files are committed; a test fails when they are stale.

use super::hcl::{Block, Body, Expr};
use crate::keys::{Key, Ty};
use crate::provider::Provider;

/// Every file of a provider's module, as (path inside the module, content).
pub fn files(p: &Provider) -> Vec<(String, String)> {
    dir_files(p.terraform.module)
}

/// Every `.tf` file below an embedded directory, as (relative path, content).
pub fn dir_files(dir: &include_dir::Dir<'_>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    collect(dir, &mut out);
    out.sort();
    out
}

fn collect(dir: &include_dir::Dir<'_>, out: &mut Vec<(String, String)>) {
    for f in dir.files() {
        let path = f.path().to_string_lossy().replace('\\', "/");
        if path.ends_with(".tf") {
            out.push((path, f.contents_utf8().unwrap_or_default().to_string()));
        }
    }
    for d in dir.dirs() {
        collect(d, out);
    }
}

/// The HCL type constraint of a key type.
pub fn hcl_type(ty: &Ty) -> Expr {
    match ty {
        Ty::String | Ty::Pattern(..) | Ty::Enum(_) | Ty::Cidr => Expr::raw("string"),
        Ty::Integer { .. } | Ty::Number => Expr::raw("number"),
        Ty::Boolean => Expr::raw("bool"),
        Ty::List(inner) => Expr::Call("list".into(), vec![hcl_type(inner)]),
        Ty::Map(inner) => Expr::Call("map".into(), vec![hcl_type(inner)]),
        Ty::Object(fields) => Expr::Call(
            "object".into(),
            vec![Expr::Object(
                fields
                    .iter()
                    .map(|f| {
                        let t = hcl_type(&f.ty);
                        (
                            f.name.to_string(),
                            if f.required {
                                t
                            } else {
                                Expr::Call("optional".into(), vec![t])
                            },
                        )
                    })
                    .collect(),
            )],
        ),
        Ty::Scalar | Ty::Any => Expr::raw("any"),
    }
}

/// `object({...})` of a key table: required keys plain, the rest optional (Plinth passes every
/// key it resolved, defaults included; optional ones may be absent).
fn table_type(keys: &[Key]) -> Expr {
    Expr::Call(
        "object".into(),
        vec![Expr::Object(
            keys.iter()
                .map(|k| {
                    let t = hcl_type(&k.ty);
                    let always = k.required
                        || !matches!(
                            k.default,
                            crate::keys::Default::None | crate::keys::Default::ClusterKey(_)
                        );
                    (
                        k.name.to_string(),
                        if always {
                            t
                        } else {
                            Expr::Call("optional".into(), vec![t])
                        },
                    )
                })
                .collect(),
        )],
    )
}

fn metadata_type() -> Expr {
    let s = || Expr::raw("string");
    Expr::Call(
        "object".into(),
        vec![Expr::Object(vec![
            ("name".into(), s()),
            ("domain".into(), s()),
            ("fqdn".into(), s()),
            ("workspace".into(), s()),
            ("provider_name".into(), s()),
            ("region".into(), s()),
            ("labels".into(), Expr::Call("map".into(), vec![s()])),
            ("tags".into(), Expr::Call("list".into(), vec![s()])),
        ])],
    )
}

fn variable(name: &str, description: &str, ty: Expr) -> Block {
    Block::new("variable", &[name])
        .attr("description", Expr::str(description))
        .attr("type", ty)
}

const HEADER: &str = "Generated from Plinth's key tables (src/provider/<id>/mod.rs); do not edit.\nRegenerate with `PLINTH_UPDATE_MODULES=1 cargo test -p plinth-core modules`.";

fn pool_type(p: &Provider) -> Expr {
    Expr::Call(
        "object".into(),
        vec![Expr::Object(vec![
            ("name".into(), Expr::raw("string")),
            ("config".into(), table_type(p.pool_keys)),
        ])],
    )
}

/// `variables.tf` of the cluster module: `metadata`, `config` and `node_pools`.
pub fn cluster_variables(p: &Provider) -> String {
    let mut b = Body::default();
    b.comment(HEADER).blank();
    b.block(variable("metadata", "The cluster's name, domain, fqdn, labels and tags in this environment, computed by Plinth.", metadata_type()));
    b.blank();
    b.block(variable("config", "The cluster's configuration in this environment, resolved by Plinth (inheritance and defaults applied).", table_type(p.cluster_keys)));
    b.blank();
    b.block(variable(
        "node_pools",
        "Node pools by key, each with its provider-side name and resolved configuration; `default` is created with the cluster.",
        Expr::Call("map".into(), vec![pool_type(p)]),
    ));
    b.render()
}

/// `node_pool/variables.tf`: `metadata` and `pool` (the `cluster` input is provider-specific
/// and written by hand beside it).
pub fn node_pool_variables(p: &Provider) -> String {
    let mut b = Body::default();
    b.comment(HEADER).blank();
    b.block(variable("metadata", "The cluster's name, domain, fqdn, labels and tags in this environment, computed by Plinth.", metadata_type()));
    b.blank();
    b.block(variable(
        "pool",
        "The node pool: its provider-side name and resolved configuration.",
        pool_type(p),
    ));
    b.render()
}

/// The generated files of a provider's module, as (path inside the module, content).
pub fn generated(p: &Provider) -> Vec<(String, String)> {
    let mut out = vec![("variables.tf".to_string(), cluster_variables(p))];
    if p.terraform.module.get_dir("node_pool").is_some() {
        out.push(("node_pool/variables.tf".to_string(), node_pool_variables(p)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::ALL;

    /// The committed `variables.tf` files match the key tables.
    #[test]
    fn module_variables_are_current() {
        let update = std::env::var_os("PLINTH_UPDATE_MODULES").is_some();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/provider");
        let mut stale = Vec::new();
        for p in ALL {
            for (rel, content) in generated(p) {
                let path = root.join(p.id).join("terraform").join(&rel);
                let current = std::fs::read_to_string(&path).unwrap_or_default();
                if current != content {
                    if update {
                        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
                        std::fs::write(&path, &content).expect("write");
                    } else {
                        stale.push(path.display().to_string());
                    }
                }
            }
        }
        assert!(
            stale.is_empty(),
            "stale module variables (run with PLINTH_UPDATE_MODULES=1): {stale:?}"
        );
    }
}
