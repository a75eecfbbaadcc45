//! The double's behaviour on values: planning, applying (filling unknowns with fakes) and
//! checking block counts, all on Terraform's MessagePack encoding of `cty` values.
//!
//! Values are handled as raw MessagePack trees (`rmpv`) rather than through `tf-provider`'s
//! typed `ValueAny`, because that one has no floats and drops unknown refinements; a tree
//! round-trips everything Terraform sends, byte for byte, except what the double changes.

use std::fmt::Write as _;

use base64::Engine as _;
use rmpv::Value;

use crate::schema::{Attribute, Block, Nesting, Ty};

/// Terraform's MessagePack extension code for an unknown value (code 12 adds refinements).
const UNKNOWN_EXT: i8 = 0;

/// An unknown value, as Terraform encodes it.
pub fn unknown() -> Value {
    Value::Ext(UNKNOWN_EXT, vec![0])
}

/// Whether `v` is an unknown value (plain or refined).
pub fn is_unknown(v: &Value) -> bool {
    matches!(v, Value::Ext(..))
}

/// Decodes a MessagePack value (empty input is null).
pub fn decode(bytes: &[u8]) -> Result<Value, String> {
    if bytes.is_empty() {
        return Ok(Value::Nil);
    }
    let mut rd = bytes;
    rmpv::decode::read_value(&mut rd).map_err(|e| format!("invalid MessagePack value: {e}"))
}

/// Encodes a MessagePack value.
pub fn encode(v: &Value) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, v)
        .map_err(|e| format!("cannot encode MessagePack: {e}"))?;
    Ok(out)
}

fn map_entries(v: Value, mut f: impl FnMut(&str, Value) -> Value) -> Value {
    match v {
        Value::Map(entries) => Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| {
                    let v = match k.as_str() {
                        Some(name) => f(name, v),
                        None => v,
                    };
                    (k, v)
                })
                .collect(),
        ),
        other => other,
    }
}

/// The value of `key` in an object.
pub(crate) fn get<'v>(v: &'v Value, key: &str) -> Option<&'v Value> {
    match v {
        Value::Map(entries) => entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v),
        _ => None,
    }
}

/// Plans a resource: the proposed new state with every computed attribute that is still null
/// marked unknown.
///
/// Terraform's proposed state already holds the configuration plus the prior value of every
/// computed attribute the configuration leaves null, so a computed attribute that is null
/// there is one the configuration leaves null and that has no prior value: on create, all of
/// them; on update, those of new nested blocks. Everything else is kept, which is what makes
/// the plan valid and a plan after apply empty.
pub fn plan_block(block: &Block, proposed: Value) -> Value {
    map_entries(proposed, |name, v| {
        if let Some(attr) = block.attributes.get(name) {
            plan_attr(attr, v)
        } else if let Some(bt) = block.block_types.get(name) {
            plan_nested(bt.nesting, &bt.block, v)
        } else {
            v
        }
    })
}

fn plan_attr(attr: &Attribute, v: Value) -> Value {
    if attr.computed && v.is_nil() {
        return unknown();
    }
    match &attr.nested {
        Some((nesting, block)) => plan_nested(*nesting, block, v),
        None => v,
    }
}

fn plan_nested(nesting: Nesting, block: &Block, v: Value) -> Value {
    match (nesting, v) {
        (Nesting::Single | Nesting::Group, v) => plan_block(block, v),
        (Nesting::List | Nesting::Set, Value::Array(items)) => Value::Array(
            items
                .into_iter()
                .map(|item| plan_block(block, item))
                .collect(),
        ),
        (Nesting::Map, v @ Value::Map(_)) => map_entries(v, |_, item| plan_block(block, item)),
        (_, v) => v,
    }
}

/// Replaces unknown values with deterministic fakes: strings
/// `double-<resource type>-<hash of seed and path>`, numbers 0, bools false, empty lists, sets
/// and maps, except that lists and sets of objects get one fake element so that references
/// like `kube_config[0].host` work. Strings under a path naming a certificate (or a client
/// key) are base64-encoded, so `base64decode()` of them works as with the real providers.
pub struct Faker<'a> {
    type_name: &'a str,
    seed: u64,
}

fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

impl<'a> Faker<'a> {
    /// A faker for `type_name`, whose fakes also depend on `seed` (e.g. the encoded plan), so
    /// two resources of one type with different configurations get different ids.
    pub fn new(type_name: &'a str, seed: &[u8]) -> Faker<'a> {
        Faker {
            type_name,
            seed: fnv1a(FNV_OFFSET, seed),
        }
    }

    /// Fills every unknown in a value of `block`.
    pub fn fill_block(&self, block: &Block, v: Value) -> Value {
        self.block(block, v, &mut Vec::new())
    }

    fn block(&self, block: &Block, v: Value, path: &mut Vec<String>) -> Value {
        if is_unknown(&v) {
            return self.fake(&block.implied_type(), path);
        }
        map_entries(v, |name, v| {
            path.push(name.to_owned());
            let out = if let Some(attr) = block.attributes.get(name) {
                self.attr(attr, v, path)
            } else if let Some(bt) = block.block_types.get(name) {
                self.nested(bt.nesting, &bt.block, v, path)
            } else {
                v
            };
            path.pop();
            out
        })
    }

    fn attr(&self, attr: &Attribute, v: Value, path: &mut Vec<String>) -> Value {
        match &attr.nested {
            Some(_) if is_unknown(&v) => self.fake(&attr.ty, path),
            Some((nesting, block)) => self.nested(*nesting, block, v, path),
            None => self.value(&attr.ty, v, path),
        }
    }

    fn nested(&self, nesting: Nesting, block: &Block, v: Value, path: &mut Vec<String>) -> Value {
        match (nesting, v) {
            (Nesting::Single | Nesting::Group, v) => self.block(block, v, path),
            (Nesting::List | Nesting::Set, Value::Array(items)) => Value::Array(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, item)| {
                        path.push(i.to_string());
                        let out = self.block(block, item, path);
                        path.pop();
                        out
                    })
                    .collect(),
            ),
            (Nesting::Map, v @ Value::Map(_)) => map_entries(v, |key, item| {
                path.push(key.to_owned());
                let out = self.block(block, item, path);
                path.pop();
                out
            }),
            (nesting, v) if is_unknown(&v) => {
                let object = block.implied_type();
                let ty = match nesting {
                    Nesting::Single | Nesting::Group => object,
                    Nesting::List => Ty::List(Box::new(object)),
                    Nesting::Set => Ty::Set(Box::new(object)),
                    Nesting::Map => Ty::Map(Box::new(object)),
                };
                self.fake(&ty, path)
            }
            (_, v) => v,
        }
    }

    fn value(&self, ty: &Ty, v: Value, path: &mut Vec<String>) -> Value {
        if is_unknown(&v) {
            return self.fake(ty, path);
        }
        match (ty, v) {
            (Ty::List(elem) | Ty::Set(elem), Value::Array(items)) => Value::Array(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, item)| {
                        path.push(i.to_string());
                        let out = self.value(elem, item, path);
                        path.pop();
                        out
                    })
                    .collect(),
            ),
            (Ty::Tuple(elems), Value::Array(items)) => Value::Array(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, item)| match elems.get(i) {
                        Some(elem) => {
                            path.push(i.to_string());
                            let out = self.value(elem, item, path);
                            path.pop();
                            out
                        }
                        None => item,
                    })
                    .collect(),
            ),
            (Ty::Map(elem), v @ Value::Map(_)) => map_entries(v, |key, item| {
                path.push(key.to_owned());
                let out = self.value(elem, item, path);
                path.pop();
                out
            }),
            (Ty::Object(fields), v @ Value::Map(_)) => {
                map_entries(v, |key, item| match fields.get(key) {
                    Some(field) => {
                        path.push(key.to_owned());
                        let out = self.value(field, item, path);
                        path.pop();
                        out
                    }
                    None => item,
                })
            }
            (_, v) => v,
        }
    }

    /// A known fake value of type `ty` for the attribute at `path`.
    pub fn fake(&self, ty: &Ty, path: &mut Vec<String>) -> Value {
        match ty {
            Ty::String => Value::from(self.fake_string(path)),
            Ty::Number => Value::from(0),
            Ty::Bool => Value::Boolean(false),
            Ty::Dynamic => Value::Nil,
            Ty::List(elem) | Ty::Set(elem) if elem.is_object() => {
                path.push("0".to_owned());
                let item = self.fake(elem, path);
                path.pop();
                Value::Array(vec![item])
            }
            Ty::List(_) | Ty::Set(_) => Value::Array(Vec::new()),
            Ty::Map(_) => Value::Map(Vec::new()),
            Ty::Object(fields) => Value::Map(
                fields
                    .iter()
                    .map(|(name, field)| {
                        path.push(name.clone());
                        let v = self.fake(field, path);
                        path.pop();
                        (Value::from(name.as_str()), v)
                    })
                    .collect(),
            ),
            Ty::Tuple(elems) => Value::Array(
                elems
                    .iter()
                    .enumerate()
                    .map(|(i, elem)| {
                        path.push(i.to_string());
                        let v = self.fake(elem, path);
                        path.pop();
                        v
                    })
                    .collect(),
            ),
        }
    }

    fn fake_string(&self, path: &[String]) -> String {
        let joined = path.join(".");
        let mut hash = fnv1a(self.seed, self.type_name.as_bytes());
        hash = fnv1a(hash, &[0]);
        hash = fnv1a(hash, joined.as_bytes());
        let mut s = String::new();
        // Writing to a String cannot fail.
        let _ = write!(s, "double-{}-{:08x}", self.type_name, hash & 0xffff_ffff);
        let encoded = joined.contains("certificate") || path.iter().any(|p| p == "client_key");
        if encoded {
            base64::engine::general_purpose::STANDARD.encode(s)
        } else {
            s
        }
    }
}

/// One step of the path to a problem in a configuration value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathStep {
    /// An attribute or block name.
    Attr(String),
    /// An index into a list.
    Index(i64),
    /// A key of a map.
    Key(String),
}

/// A block count outside the schema's `min_items`/`max_items`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountProblem {
    /// Where, from the top of the configuration.
    pub path: Vec<PathStep>,
    /// Terraform's own wording for this error.
    pub summary: String,
    /// More detail.
    pub detail: String,
}

/// Checks every nested block count in a configuration against the schema's exact
/// `min_items`/`max_items`, with Terraform core's wording. This is needed because the served
/// schema can only approximate the limits (see [`Block::to_tf`]); unknown block lists (a
/// `dynamic` block over an unknown collection) are skipped, as core does.
pub fn check_block_counts(block: &Block, config: &Value) -> Vec<CountProblem> {
    let mut out = Vec::new();
    counts(block, config, &mut Vec::new(), false, &mut out);
    out
}

fn counts(
    block: &Block,
    v: &Value,
    path: &mut Vec<PathStep>,
    frozen: bool,
    out: &mut Vec<CountProblem>,
) {
    if !matches!(v, Value::Map(_)) {
        return;
    }
    for (name, bt) in &block.block_types {
        let Some(val) = get(v, name) else { continue };
        let pushed = !frozen;
        if pushed {
            path.push(PathStep::Attr(name.clone()));
        }
        nested_counts(
            name,
            bt.nesting,
            (bt.min_items, bt.max_items),
            &bt.block,
            val,
            path,
            frozen,
            out,
        );
        if pushed {
            path.pop();
        }
    }
    for (name, attr) in &block.attributes {
        let (Some((nesting, inner)), Some(val)) = (&attr.nested, get(v, name)) else {
            continue;
        };
        let pushed = !frozen;
        if pushed {
            path.push(PathStep::Attr(name.clone()));
        }
        nested_counts(name, *nesting, (0, 0), inner, val, path, frozen, out);
        if pushed {
            path.pop();
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn nested_counts(
    name: &str,
    nesting: Nesting,
    (min, max): (u64, u64),
    block: &Block,
    val: &Value,
    path: &mut Vec<PathStep>,
    frozen: bool,
    out: &mut Vec<CountProblem>,
) {
    match nesting {
        Nesting::Single | Nesting::Group => {
            if min > 0 && val.is_nil() {
                out.push(CountProblem {
                    path: path.clone(),
                    summary: format!("Missing required {name} block"),
                    detail: format!("A \"{name}\" block is required."),
                });
            }
            counts(block, val, path, frozen, out);
        }
        Nesting::List | Nesting::Set => {
            let items: &[Value] = match val {
                Value::Array(items) => items,
                Value::Nil => &[],
                _ => return,
            };
            let set_with_unknowns = nesting == Nesting::Set && items.iter().any(is_unknown);
            let n = items.len() as u64;
            if !set_with_unknowns && min > 0 && n < min {
                out.push(CountProblem {
                    path: path.clone(),
                    summary: format!("Insufficient {name} blocks"),
                    detail: format!("At least {min} \"{name}\" blocks are required."),
                });
            }
            if max > 0 && n > max {
                out.push(CountProblem {
                    path: path.clone(),
                    summary: format!("Too many {name} blocks"),
                    detail: format!("No more than {max} \"{name}\" blocks are allowed."),
                });
            }
            for (i, item) in items.iter().enumerate() {
                if nesting == Nesting::List && !frozen {
                    path.push(PathStep::Index(i as i64));
                    counts(block, item, path, false, out);
                    path.pop();
                } else {
                    // Set elements have no stable path: report at the set itself.
                    counts(block, item, path, true, out);
                }
            }
        }
        Nesting::Map => {
            if let Value::Map(entries) = val {
                for (k, item) in entries {
                    let key = k.as_str().unwrap_or_default().to_owned();
                    if frozen {
                        counts(block, item, path, true, out);
                    } else {
                        path.push(PathStep::Key(key));
                        counts(block, item, path, false, out);
                        path.pop();
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::ProviderSchema;
    use serde_json::json;

    fn schema() -> ProviderSchema {
        let doc = json!({"provider_schemas": {"registry.terraform.io/x/demo": {
            "provider": {"block": {}},
            "resource_schemas": {"demo_thing": {"block": {
                "attributes": {
                    "id": {"type": "string", "computed": true, "optional": true},
                    "name": {"type": "string", "required": true},
                    "size": {"type": "number", "computed": true},
                    "ca_certificate": {"type": "string", "computed": true},
                    "kube_config": {"type": ["list", ["object", {"host": "string"}]], "computed": true},
                    "tags": {"type": ["map", "string"], "computed": true, "optional": true}
                },
                "block_types": {
                    "pool": {"nesting_mode": "list", "min_items": 1, "max_items": 1, "block": {
                        "attributes": {
                            "name": {"type": "string", "required": true},
                            "zone": {"type": "string", "computed": true, "optional": true}
                        }
                    }},
                    "taint": {"nesting_mode": "set", "max_items": 2, "block": {
                        "attributes": {"key": {"type": "string", "optional": true}}
                    }}
                }
            }}}
        }}});
        ProviderSchema::parse(&doc.to_string(), "demo").expect("valid schema")
    }

    fn obj(fields: &[(&str, Value)]) -> Value {
        Value::Map(
            fields
                .iter()
                .map(|(k, v)| (Value::from(*k), v.clone()))
                .collect(),
        )
    }

    fn config(pool_zone: Value, pools: usize, taints: usize) -> Value {
        let pool = obj(&[("name", Value::from("p")), ("zone", pool_zone)]);
        let taint = obj(&[("key", Value::from("k"))]);
        obj(&[
            ("id", Value::Nil),
            ("name", Value::from("n")),
            ("size", Value::Nil),
            ("ca_certificate", Value::Nil),
            ("kube_config", Value::Nil),
            ("tags", Value::Nil),
            ("pool", Value::Array(vec![pool; pools])),
            ("taint", Value::Array(vec![taint; taints])),
        ])
    }

    #[test]
    fn plans_computed_nulls_as_unknown_and_keeps_the_rest() {
        let schema = schema();
        let block = &schema.resources["demo_thing"].block;
        let planned = plan_block(block, config(Value::from("z"), 1, 0));
        assert!(is_unknown(get(&planned, "id").expect("id")));
        assert!(is_unknown(get(&planned, "size").expect("size")));
        assert_eq!(get(&planned, "name"), Some(&Value::from("n")));
        let pool = match get(&planned, "pool") {
            Some(Value::Array(items)) => items[0].clone(),
            other => panic!("pool: {other:?}"),
        };
        assert_eq!(get(&pool, "zone"), Some(&Value::from("z")));

        let nested = plan_block(block, config(Value::Nil, 1, 0));
        let Some(Value::Array(pools)) = get(&nested, "pool") else {
            panic!("pool list")
        };
        assert!(is_unknown(get(&pools[0], "zone").expect("zone")));
    }

    #[test]
    fn fills_unknowns_deterministically_and_plans_nothing_afterwards() {
        let schema = schema();
        let block = &schema.resources["demo_thing"].block;
        let planned = plan_block(block, config(Value::Nil, 1, 0));
        let seed = encode(&planned).expect("encodes");
        let applied = Faker::new("demo_thing", &seed).fill_block(block, planned.clone());
        let again = Faker::new("demo_thing", &seed).fill_block(block, planned);
        assert_eq!(applied, again, "fakes are deterministic");

        let id = get(&applied, "id").and_then(Value::as_str).expect("id");
        assert!(
            id.starts_with("double-demo_thing-") && id.len() == 26,
            "{id}"
        );
        assert_eq!(get(&applied, "size"), Some(&Value::from(0)));
        assert_eq!(get(&applied, "tags"), Some(&Value::Map(vec![])));
        let cert = get(&applied, "ca_certificate")
            .and_then(Value::as_str)
            .expect("certificate");
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(cert)
            .expect("certificates are base64");
        assert!(decoded.starts_with(b"double-demo_thing-"));
        let Some(Value::Array(kube)) = get(&applied, "kube_config") else {
            panic!("kube_config")
        };
        assert_eq!(kube.len(), 1, "object lists get one element");

        // Once applied, nothing is left to plan: the plan is the state itself.
        assert_eq!(plan_block(block, applied.clone()), applied);
        let bytes = encode(&applied).expect("encodes");
        assert_eq!(decode(&bytes).expect("decodes"), applied);
    }

    #[test]
    fn checks_exact_block_counts() {
        let schema = schema();
        let block = &schema.resources["demo_thing"].block;
        assert!(check_block_counts(block, &config(Value::Nil, 1, 2)).is_empty());

        let missing = check_block_counts(block, &config(Value::Nil, 0, 0));
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].summary, "Insufficient pool blocks");
        assert_eq!(missing[0].path, vec![PathStep::Attr("pool".into())]);

        let too_many = check_block_counts(block, &config(Value::Nil, 1, 3));
        assert_eq!(too_many[0].summary, "Too many taint blocks");

        let mut unknown_pools = config(Value::Nil, 0, 0);
        if let Value::Map(entries) = &mut unknown_pools {
            for (k, v) in entries.iter_mut() {
                if k.as_str() == Some("pool") {
                    *v = unknown();
                }
            }
        }
        assert!(check_block_counts(block, &unknown_pools).is_empty());
    }
}
