//! Kubestack values to Plinth values: release-era keys to current ones, and HCL values to the
//! types of Plinth's key tables.
//!
//! The key tables decide the types, so there is no second list of types here: a release-era
//! `"3"` for an integer key becomes `3`, `"a,b"` for a list key `["a", "b"]`, `"k=v,k2=v2"` for
//! a table key `{ k = "v", k2 = "v2" }`, and a YAML heredoc for a list of tables (EKS
//! `cluster_aws_auth_map_*`) the list it holds. Current-era values are already typed; they get
//! the conversions Terraform's type system applies to a typed variable (numbers and booleans
//! written as strings, and the other way round), never the comma parsing.

use super::hcl::{Entry, Node, NodeKind};
use crate::diagnostic::Diagnostics;
use crate::keys::{self, Ty};
use crate::value::{Kind, Table, Value};

/// A release-era key of the default pool: `(release key, pool key, field of that pool key)`.
type PoolKey = (&'static str, &'static str, Option<&'static str>);

/// The release-era keys of the default pool inside a cluster's configuration, per provider.
const RELEASE_POOL_KEYS: &[(&str, &[PoolKey])] = &[
    (
        "eks",
        &[
            ("cluster_instance_type", "instance_types", None),
            ("cluster_instance_types", "instance_types", None),
            ("cluster_desired_capacity", "desired_capacity", None),
            ("cluster_min_size", "min_size", None),
            ("cluster_max_size", "max_size", None),
            ("cluster_disk_size", "disk_size", None),
            ("cluster_ami_type", "ami_type", None),
            ("cluster_ami_release_version", "ami_release_version", None),
            ("worker_root_device_volume_size", "disk_size", None),
            ("cluster_additional_node_tags", "tags", None),
        ],
    ),
    (
        "aks",
        &[
            ("default_node_pool_name", "node_pool_name", None),
            ("default_node_pool_vm_size", "vm_size", None),
            ("default_node_pool_min_count", "min_count", None),
            ("default_node_pool_max_count", "max_count", None),
            ("default_node_pool_node_count", "node_count", None),
            (
                "default_node_pool_enable_auto_scaling",
                "enable_auto_scaling",
                None,
            ),
            ("default_node_pool_os_disk_size_gb", "os_disk_size_gb", None),
            ("default_node_pool_os_disk_type", "os_disk_type", None),
            ("default_node_pool_max_pods", "max_pods", None),
            (
                "default_node_pool_availability_zones",
                "availability_zones",
                None,
            ),
            // Kubestack's release spells it without the `r`; the correct spelling is accepted too.
            (
                "upgade_settings_max_surge",
                "upgrade_settings",
                Some("max_surge"),
            ),
            (
                "upgrade_settings_max_surge",
                "upgrade_settings",
                Some("max_surge"),
            ),
        ],
    ),
    (
        "gke",
        &[
            ("cluster_machine_type", "machine_type", None),
            ("cluster_min_node_count", "min_node_count", None),
            ("cluster_max_node_count", "max_node_count", None),
            ("cluster_node_location_policy", "location_policy", None),
            ("cluster_initial_node_count", "initial_node_count", None),
            ("cluster_disk_size_gb", "disk_size_gb", None),
            ("cluster_disk_type", "disk_type", None),
            ("cluster_image_type", "image_type", None),
            ("cluster_preemptible", "preemptible", None),
            ("cluster_auto_repair", "auto_repair", None),
            ("cluster_auto_upgrade", "auto_upgrade", None),
            ("cluster_extra_oauth_scopes", "extra_oauth_scopes", None),
            ("cluster_instance_tags", "instance_tags", None),
            (
                "cluster_service_account_email",
                "service_account_email",
                None,
            ),
        ],
    ),
];

/// Where a release-era cluster key of the default pool goes: `(pool key, field)`.
pub fn release_pool_key(provider: &str, key: &str) -> Option<(&'static str, Option<&'static str>)> {
    RELEASE_POOL_KEYS
        .iter()
        .find(|(p, _)| *p == provider)?
        .1
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, to, field)| (*to, *field))
}

/// Why a value could not be converted.
#[derive(Debug, PartialEq)]
pub enum Problem {
    /// An expression Plinth cannot evaluate (a reference, a function call).
    NotStatic,
    /// Not of the key's type, even after Terraform's conversions.
    Type { expected: String, found: String },
    /// Of the type, but not a value Plinth accepts (an enum value, a CIDR).
    Invalid(String),
}

impl Problem {
    pub fn describe(&self) -> String {
        match self {
            Problem::NotStatic => "not a static value".into(),
            Problem::Type { expected, found } => format!("expected {expected}, found {found}"),
            Problem::Invalid(msg) => msg.clone(),
        }
    }
}

/// A converted value, and whether converting changed its type or shape.
#[derive(Debug)]
pub struct Converted {
    pub value: Value,
    pub changed: bool,
}

/// Converts `node` to `ty`; `release` allows the release era's flat-string encodings. The
/// result also passes Plinth's own check of the type (enums, patterns, CIDRs).
pub fn typed(node: &Node, ty: &Ty, release: bool, path: &str) -> Result<Converted, Problem> {
    let mut changed = false;
    let kind = kind(node, ty, release, &mut changed)?;
    let value = Value::builtin(kind);
    let mut diags = Diagnostics::default();
    if !keys::check_value(ty, &value, path, &mut diags) {
        let msg = diags
            .iter()
            .next()
            .map_or_else(|| "not accepted".to_string(), |d| d.message.clone());
        return Err(Problem::Invalid(msg));
    }
    Ok(Converted { value, changed })
}

fn mismatch(ty: &Ty, node: &Node) -> Problem {
    Problem::Type {
        expected: keys::type_doc(ty),
        found: format!("{} {}", node.type_name(), node.show()),
    }
}

fn kind(node: &Node, ty: &Ty, release: bool, changed: &mut bool) -> Result<Kind, Problem> {
    use NodeKind as N;
    if let N::Expr(_) = node.kind {
        return Err(Problem::NotStatic);
    }
    match ty {
        Ty::String | Ty::Pattern(..) | Ty::Enum(_) | Ty::Cidr => match &node.kind {
            N::Str(s) => Ok(Kind::String(s.into())),
            N::Bool(b) => {
                *changed = true;
                Ok(Kind::String(b.to_string().into()))
            }
            N::Int(i) => {
                *changed = true;
                Ok(Kind::String(i.to_string().into()))
            }
            N::Float(f) => {
                *changed = true;
                Ok(Kind::String(f.to_string().into()))
            }
            _ => Err(mismatch(ty, node)),
        },
        Ty::Integer { .. } => match &node.kind {
            N::Int(i) => Ok(Kind::Integer(*i)),
            N::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => {
                *changed = true;
                Ok(Kind::Integer(*f as i64))
            }
            N::Str(s) => match s.trim().parse::<i64>() {
                Ok(i) => {
                    *changed = true;
                    Ok(Kind::Integer(i))
                }
                Err(_) => Err(mismatch(ty, node)),
            },
            _ => Err(mismatch(ty, node)),
        },
        Ty::Number => match &node.kind {
            N::Int(i) => Ok(Kind::Integer(*i)),
            N::Float(f) => Ok(Kind::Float(*f)),
            N::Str(s) => {
                *changed = true;
                if let Ok(i) = s.trim().parse::<i64>() {
                    Ok(Kind::Integer(i))
                } else {
                    match s.trim().parse::<f64>() {
                        Ok(f) if f.is_finite() => Ok(Kind::Float(f)),
                        _ => Err(mismatch(ty, node)),
                    }
                }
            }
            _ => Err(mismatch(ty, node)),
        },
        Ty::Boolean => match &node.kind {
            N::Bool(b) => Ok(Kind::Boolean(*b)),
            N::Str(s) => match s.trim() {
                "true" => {
                    *changed = true;
                    Ok(Kind::Boolean(true))
                }
                "false" => {
                    *changed = true;
                    Ok(Kind::Boolean(false))
                }
                _ => Err(mismatch(ty, node)),
            },
            _ => Err(mismatch(ty, node)),
        },
        Ty::List(inner) => match &node.kind {
            N::List(items) => items
                .iter()
                .map(|i| kind(i, inner, release, changed).map(Value::builtin))
                .collect::<Result<Vec<_>, _>>()
                .map(|v| Kind::Array(v.into())),
            // A YAML list in a string: Kubestack's aws-auth maps are YAML heredocs in both
            // dialects (`optional(string)` in the current modules' types).
            N::Str(s) if release || yaml_sequence(s) => {
                *changed = true;
                let items = if s.contains('\n') || !release {
                    yaml_node(s, node)
                        .and_then(|n| match n.kind {
                            N::List(items) => Some(items),
                            _ => None,
                        })
                        .ok_or_else(|| mismatch(ty, node))?
                } else {
                    comma_list(s)
                        .into_iter()
                        .map(|x| Node::new(N::Str(x), node.at))
                        .collect()
                };
                items
                    .iter()
                    .map(|i| kind(i, inner, release, changed).map(Value::builtin))
                    .collect::<Result<Vec<_>, _>>()
                    .map(|v| Kind::Array(v.into()))
            }
            _ => Err(mismatch(ty, node)),
        },
        Ty::Map(inner) => {
            let entries = entries_of(node, ty, release, changed)?;
            let mut t = Table::new();
            for e in &entries {
                if matches!(e.value.kind, N::Null) {
                    continue;
                }
                t.insert(
                    e.key.clone(),
                    Value::builtin(kind(&e.value, inner, release, changed)?),
                );
            }
            Ok(Kind::Table(t))
        }
        Ty::Object(fields) => {
            let entries = entries_of(node, ty, release, changed)?;
            let mut t = Table::new();
            for e in &entries {
                // An optional attribute set to null is unset.
                if matches!(e.value.kind, N::Null) {
                    continue;
                }
                let Some(f) = fields.iter().find(|f| f.name == e.key) else {
                    return Err(Problem::Invalid(format!(
                        "`{}` is not a field of {}",
                        e.key,
                        keys::type_doc(ty)
                    )));
                };
                t.insert(
                    e.key.clone(),
                    Value::builtin(kind(&e.value, &f.ty, release, changed)?),
                );
            }
            Ok(Kind::Table(t))
        }
        Ty::Scalar => match &node.kind {
            N::Str(s) => Ok(Kind::String(s.into())),
            N::Bool(b) => Ok(Kind::Boolean(*b)),
            N::Int(i) => Ok(Kind::Integer(*i)),
            N::Float(f) => Ok(Kind::Float(*f)),
            _ => Err(mismatch(ty, node)),
        },
        Ty::Any => any(node),
    }
}

/// The entries of a map value; a release-era `k=v,k2=v2` string is one too.
fn entries_of(
    node: &Node,
    ty: &Ty,
    release: bool,
    changed: &mut bool,
) -> Result<Vec<Entry>, Problem> {
    match &node.kind {
        NodeKind::Map(entries) => Ok(entries.clone()),
        NodeKind::Str(s) if release => {
            *changed = true;
            let mut out = Vec::new();
            for pair in comma_list(s) {
                let Some((k, v)) = pair.split_once('=') else {
                    return Err(mismatch(ty, node));
                };
                out.push(Entry {
                    key: k.trim().to_string(),
                    key_at: node.at,
                    value: Node::new(NodeKind::Str(v.trim().to_string()), node.at),
                });
            }
            Ok(out)
        }
        _ => Err(mismatch(ty, node)),
    }
}

fn any(node: &Node) -> Result<Kind, Problem> {
    Ok(match &node.kind {
        NodeKind::Str(s) => Kind::String(s.into()),
        NodeKind::Bool(b) => Kind::Boolean(*b),
        NodeKind::Int(i) => Kind::Integer(*i),
        NodeKind::Float(f) => Kind::Float(*f),
        NodeKind::List(items) => Kind::Array(
            items
                .iter()
                .map(|i| any(i).map(Value::builtin))
                .collect::<Result<_, _>>()?,
        ),
        NodeKind::Map(entries) => Kind::Table(
            entries
                .iter()
                .filter(|e| !matches!(e.value.kind, NodeKind::Null))
                .map(|e| any(&e.value).map(|k| (e.key.clone(), Value::builtin(k))))
                .collect::<Result<_, _>>()?,
        ),
        NodeKind::Null | NodeKind::Expr(_) => return Err(Problem::NotStatic),
    })
}

/// `"a, b,,c"` → `["a", "b", "c"]`: items trimmed, empty items dropped (an empty string is an
/// empty list).
pub fn comma_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(String::from)
        .collect()
}

/// Whether `s` is a YAML sequence, or empty (no items).
fn yaml_sequence(s: &str) -> bool {
    s.trim().is_empty()
        || yaml_rust2::YamlLoader::load_from_str(s)
            .ok()
            .and_then(|d| d.into_iter().next())
            .is_some_and(|y| matches!(y, yaml_rust2::Yaml::Array(_)))
}

/// A YAML document (Kubestack's EKS `aws-auth` maps are YAML heredocs) as a node; an empty
/// document is an empty list.
fn yaml_node(text: &str, at: &Node) -> Option<Node> {
    let docs = yaml_rust2::YamlLoader::load_from_str(text).ok()?;
    match docs.first() {
        Some(d) => from_yaml(d, at),
        None => Some(Node::new(NodeKind::List(Vec::new()), at.at)),
    }
}

fn from_yaml(y: &yaml_rust2::Yaml, at: &Node) -> Option<Node> {
    use yaml_rust2::Yaml;
    let kind = match y {
        Yaml::String(s) => NodeKind::Str(s.clone()),
        Yaml::Integer(i) => NodeKind::Str(i.to_string()),
        Yaml::Real(r) => NodeKind::Str(r.clone()),
        Yaml::Boolean(b) => NodeKind::Bool(*b),
        Yaml::Array(a) => {
            NodeKind::List(a.iter().map(|x| from_yaml(x, at)).collect::<Option<_>>()?)
        }
        Yaml::Hash(h) => NodeKind::Map(
            h.iter()
                .map(|(k, v)| {
                    Some(Entry {
                        key: k.as_str()?.to_string(),
                        key_at: at.at,
                        value: from_yaml(v, at)?,
                    })
                })
                .collect::<Option<_>>()?,
        ),
        Yaml::Null => NodeKind::Null,
        _ => return None,
    };
    Some(Node::new(kind, at.at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::hcl::At;
    use crate::source::{FileId, Span};

    fn n(kind: NodeKind) -> Node {
        Node::new(
            kind,
            At {
                file: FileId(0),
                span: Span::EMPTY,
            },
        )
    }

    fn s(x: &str) -> Node {
        n(NodeKind::Str(x.into()))
    }

    fn show(c: Result<Converted, Problem>) -> String {
        match c {
            Ok(c) => format!("{}{}", c.value, if c.changed { " (changed)" } else { "" }),
            Err(p) => format!("error: {}", p.describe()),
        }
    }

    #[test]
    fn release_strings_become_typed_values() {
        let list = Ty::List(&Ty::String);
        let map = Ty::Map(&Ty::String);
        let int = Ty::Integer { min: 0 };
        assert_eq!(show(typed(&s("3"), &int, true, "k")), "3 (changed)");
        assert_eq!(
            show(typed(&s("eu-west-1a, eu-west-1b"), &list, true, "k")),
            "[\"eu-west-1a\", \"eu-west-1b\"] (changed)"
        );
        assert_eq!(show(typed(&s(""), &list, true, "k")), "[] (changed)");
        assert_eq!(
            show(typed(&s("team=p,cost=1"), &map, true, "k")),
            "{ cost = \"1\", team = \"p\" } (changed)"
        );
        assert_eq!(
            show(typed(&s("false"), &Ty::Boolean, true, "k")),
            "false (changed)"
        );
        // Current-era values are typed already; a comma string is not a list there.
        assert!(show(typed(&s("a,b"), &list, false, "k")).starts_with("error: expected list"));
        assert_eq!(
            show(typed(&s("three"), &int, true, "k")),
            "error: expected integer ≥ 0, found string \"three\""
        );
    }

    #[test]
    fn yaml_heredocs_become_lists_of_tables() {
        static FIELDS: &[keys::Field] = &[
            keys::Field::new("userarn", Ty::String, "").required(),
            keys::Field::new("username", Ty::String, "").required(),
            keys::Field::new("groups", Ty::List(&Ty::String), ""),
        ];
        static OBJECT: Ty = Ty::Object(FIELDS);
        let ty = Ty::List(&OBJECT);
        let yaml =
            "- userarn: arn:aws:iam::1:user/pst\n  username: pst\n  groups:\n  - system:masters\n";
        let expected = "[{ groups = [\"system:masters\"], userarn = \"arn:aws:iam::1:user/pst\", username = \"pst\" }] (changed)";
        assert_eq!(show(typed(&s(yaml), &ty, true, "k")), expected);
        // Issue 18: the current modules' `optional(string)` holds the same YAML.
        assert_eq!(show(typed(&s(yaml), &ty, false, "k")), expected);
        assert_eq!(show(typed(&s(""), &ty, false, "k")), "[] (changed)");
        let accounts = Ty::List(&Ty::String);
        assert_eq!(
            show(typed(
                &s("- \"111122223333\"\n- 444455556666\n"),
                &accounts,
                false,
                "k"
            )),
            "[\"111122223333\", \"444455556666\"] (changed)"
        );
        // A string that is no YAML list stays a type error in the current dialect.
        assert!(show(typed(&s("userarn: x"), &ty, false, "k")).starts_with("error: expected list"));
    }

    #[test]
    fn default_pool_keys_of_the_release() {
        assert_eq!(
            release_pool_key("eks", "cluster_min_size"),
            Some(("min_size", None))
        );
        assert_eq!(
            release_pool_key("aks", "upgade_settings_max_surge"),
            Some(("upgrade_settings", Some("max_surge")))
        );
        assert_eq!(
            release_pool_key("gke", "cluster_machine_type"),
            Some(("machine_type", None))
        );
        assert_eq!(release_pool_key("eks", "cluster_availability_zones"), None);
    }
}
