//! Provider schemas as dumped by `terraform providers schema -json`, and their conversion to
//! the `tf-provider` schema model served over the plugin protocol.
//!
//! The dump is parsed into our own model first (rather than straight into `tf-provider`'s)
//! because the double needs more than the wire format can carry through `tf-provider`: exact
//! `min_items`/`max_items` (checked in `Validate*`), and the types of every value (to plan and
//! fill unknowns).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde_json::Value as Json;
use tf_provider::schema as tf;

/// A Terraform value type, as written in the schema JSON (`"string"`, `["list","string"]`, ...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ty {
    /// `"string"`
    String,
    /// `"number"`
    Number,
    /// `"bool"`
    Bool,
    /// `"dynamic"`: any type, decided by the configuration.
    Dynamic,
    /// `["list", T]`
    List(Box<Ty>),
    /// `["set", T]`
    Set(Box<Ty>),
    /// `["map", T]`
    Map(Box<Ty>),
    /// `["object", {name: T}]` (a third element, optional attribute names, is kept aside)
    Object(BTreeMap<String, Ty>),
    /// `["tuple", [T...]]`
    Tuple(Vec<Ty>),
}

impl Ty {
    /// Parses Terraform's JSON type notation.
    pub fn from_json(json: &Json) -> Result<Ty, String> {
        match json {
            Json::String(s) => match s.as_str() {
                "string" => Ok(Ty::String),
                "number" => Ok(Ty::Number),
                "bool" => Ok(Ty::Bool),
                "dynamic" => Ok(Ty::Dynamic),
                other => Err(format!("unknown primitive type {other:?}")),
            },
            Json::Array(parts) => {
                let kind = parts.first().and_then(Json::as_str).unwrap_or_default();
                let arg = parts
                    .get(1)
                    .ok_or_else(|| format!("type {json} has no argument"))?;
                match kind {
                    "list" => Ok(Ty::List(Box::new(Ty::from_json(arg)?))),
                    "set" => Ok(Ty::Set(Box::new(Ty::from_json(arg)?))),
                    "map" => Ok(Ty::Map(Box::new(Ty::from_json(arg)?))),
                    "object" => {
                        let fields = arg
                            .as_object()
                            .ok_or_else(|| format!("object type {json} needs a map of fields"))?;
                        let mut out = BTreeMap::new();
                        for (name, ty) in fields {
                            out.insert(name.clone(), Ty::from_json(ty)?);
                        }
                        Ok(Ty::Object(out))
                    }
                    "tuple" => {
                        let elems = arg
                            .as_array()
                            .ok_or_else(|| format!("tuple type {json} needs a list of types"))?;
                        Ok(Ty::Tuple(
                            elems.iter().map(Ty::from_json).collect::<Result<_, _>>()?,
                        ))
                    }
                    other => Err(format!("unknown type constructor {other:?} in {json}")),
                }
            }
            other => Err(format!("invalid type {other}")),
        }
    }

    /// Whether a value of this type is an object (used to give object lists one fake element).
    pub fn is_object(&self) -> bool {
        matches!(self, Ty::Object(_))
    }

    fn to_tf(&self) -> tf::AttributeType {
        match self {
            Ty::String => tf::AttributeType::String,
            Ty::Number => tf::AttributeType::Number,
            Ty::Bool => tf::AttributeType::Bool,
            Ty::Dynamic => tf::AttributeType::Any,
            Ty::List(t) => tf::AttributeType::List(Box::new(t.to_tf())),
            Ty::Set(t) => tf::AttributeType::Set(Box::new(t.to_tf())),
            Ty::Map(t) => tf::AttributeType::Map(Box::new(t.to_tf())),
            Ty::Object(fields) => tf::AttributeType::Object(
                fields
                    .iter()
                    .map(|(name, ty)| (name.clone(), ty.to_tf()))
                    .collect(),
            ),
            Ty::Tuple(elems) => tf::AttributeType::Tuple(elems.iter().map(Ty::to_tf).collect()),
        }
    }
}

/// How a nested block (or nested attribute type) repeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nesting {
    /// One optional object (`single`).
    Single,
    /// One object that is never null (`group`).
    Group,
    /// A list of objects.
    List,
    /// A set of objects.
    Set,
    /// A map of objects, keyed by block label.
    Map,
}

impl Nesting {
    fn parse(s: &str) -> Result<Nesting, String> {
        match s {
            "single" => Ok(Nesting::Single),
            "group" => Ok(Nesting::Group),
            "list" => Ok(Nesting::List),
            "set" => Ok(Nesting::Set),
            "map" => Ok(Nesting::Map),
            other => Err(format!("unknown nesting mode {other:?}")),
        }
    }

    /// The type of a value nesting `object` this way.
    fn wrap(self, object: Ty) -> Ty {
        match self {
            Nesting::Single | Nesting::Group => object,
            Nesting::List => Ty::List(Box::new(object)),
            Nesting::Set => Ty::Set(Box::new(object)),
            Nesting::Map => Ty::Map(Box::new(object)),
        }
    }
}

/// A schema attribute.
#[derive(Clone, Debug, PartialEq)]
pub struct Attribute {
    /// Its value type (for a nested attribute type: the implied object collection type).
    pub ty: Ty,
    /// Set for protocol-6 nested attribute types (`nested_type`).
    pub nested: Option<(Nesting, Block)>,
    /// Must be set in configuration.
    pub required: bool,
    /// May be set in configuration.
    pub optional: bool,
    /// The provider may decide the value.
    pub computed: bool,
    /// Hidden in terraform's output.
    pub sensitive: bool,
    /// Deprecated by the provider.
    pub deprecated: bool,
    /// Documentation text.
    pub description: String,
    /// Whether `description` is markdown.
    pub markdown: bool,
}

/// A nested block type with its repetition and count limits.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockType {
    /// How the block repeats.
    pub nesting: Nesting,
    /// Minimum number of blocks (0 = no minimum).
    pub min_items: u64,
    /// Maximum number of blocks (0 = no maximum).
    pub max_items: u64,
    /// The block's own schema.
    pub block: Block,
}

/// A configuration block: attributes and nested block types.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Block {
    /// Attributes by name.
    pub attributes: BTreeMap<String, Attribute>,
    /// Nested block types by name.
    pub block_types: BTreeMap<String, BlockType>,
    /// Documentation text.
    pub description: String,
    /// Whether `description` is markdown.
    pub markdown: bool,
    /// Deprecated by the provider.
    pub deprecated: bool,
}

/// A versioned schema: the provider block, a resource or a data source.
#[derive(Clone, Debug, PartialEq)]
pub struct SchemaDef {
    /// Schema version (drives `UpgradeResourceState`).
    pub version: i64,
    /// The top-level block.
    pub block: Block,
}

/// Everything one provider serves.
#[derive(Clone, Debug, PartialEq)]
pub struct ProviderSchema {
    /// Provider source address, e.g. `registry.terraform.io/hashicorp/google`.
    pub address: String,
    /// The `provider "x" {}` block.
    pub provider: SchemaDef,
    /// Managed resources by full type name (`google_container_cluster`).
    pub resources: BTreeMap<String, SchemaDef>,
    /// Data sources by full type name.
    pub data_sources: BTreeMap<String, SchemaDef>,
}

fn flag(json: &Json, key: &str) -> bool {
    json.get(key).and_then(Json::as_bool).unwrap_or(false)
}

fn text(json: &Json, key: &str) -> String {
    json.get(key)
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn count(json: &Json, key: &str) -> u64 {
    json.get(key).and_then(Json::as_u64).unwrap_or(0)
}

impl Attribute {
    fn from_json(name: &str, json: &Json) -> Result<Attribute, String> {
        let nested = match json.get("nested_type") {
            Some(nested) => {
                let nesting = Nesting::parse(&text(nested, "nesting_mode"))?;
                let mut block = Block::default();
                if let Some(attrs) = nested.get("attributes").and_then(Json::as_object) {
                    for (n, a) in attrs {
                        block
                            .attributes
                            .insert(n.clone(), Attribute::from_json(n, a)?);
                    }
                }
                Some((nesting, block))
            }
            None => None,
        };
        let ty = match (&nested, json.get("type")) {
            (Some((nesting, block)), _) => nesting.wrap(block.implied_type()),
            (None, Some(ty)) => Ty::from_json(ty).map_err(|e| format!("attribute {name}: {e}"))?,
            (None, None) => {
                return Err(format!("attribute {name} has neither type nor nested_type"));
            }
        };
        Ok(Attribute {
            ty,
            nested,
            required: flag(json, "required"),
            optional: flag(json, "optional"),
            computed: flag(json, "computed"),
            sensitive: flag(json, "sensitive"),
            deprecated: flag(json, "deprecated"),
            description: text(json, "description"),
            markdown: text(json, "description_kind") == "markdown",
        })
    }

    fn to_tf(&self) -> tf::Attribute {
        let attr_type = match &self.nested {
            Some((nesting, block)) => {
                let attrs: HashMap<String, tf::Attribute> = block
                    .attributes
                    .iter()
                    .map(|(n, a)| (n.clone(), a.to_tf()))
                    .collect();
                match nesting {
                    Nesting::Single | Nesting::Group => tf::AttributeType::AttributeSingle(attrs),
                    Nesting::List => tf::AttributeType::AttributeList(attrs),
                    Nesting::Set => tf::AttributeType::AttributeSet(attrs),
                    Nesting::Map => tf::AttributeType::AttributeMap(attrs),
                }
            }
            None => self.ty.to_tf(),
        };
        let constraint = if self.required {
            tf::AttributeConstraint::Required
        } else if self.optional && self.computed {
            tf::AttributeConstraint::OptionalComputed
        } else if self.computed {
            tf::AttributeConstraint::Computed
        } else {
            tf::AttributeConstraint::Optional
        };
        tf::Attribute {
            attr_type,
            description: description(&self.description, self.markdown),
            constraint,
            sensitive: self.sensitive,
            deprecated: self.deprecated,
        }
    }
}

fn description(content: &str, markdown: bool) -> tf::Description {
    if markdown {
        tf::Description::markdown(content)
    } else {
        tf::Description::plain(content)
    }
}

impl Block {
    /// Parses a `block` object of the schema JSON.
    pub fn from_json(json: &Json) -> Result<Block, String> {
        let mut block = Block {
            description: text(json, "description"),
            markdown: text(json, "description_kind") == "markdown",
            deprecated: flag(json, "deprecated"),
            ..Block::default()
        };
        if let Some(attrs) = json.get("attributes").and_then(Json::as_object) {
            for (name, attr) in attrs {
                block
                    .attributes
                    .insert(name.clone(), Attribute::from_json(name, attr)?);
            }
        }
        if let Some(types) = json.get("block_types").and_then(Json::as_object) {
            for (name, bt) in types {
                let inner = bt
                    .get("block")
                    .ok_or_else(|| format!("block type {name} has no block"))?;
                block.block_types.insert(
                    name.clone(),
                    BlockType {
                        nesting: Nesting::parse(&text(bt, "nesting_mode"))
                            .map_err(|e| format!("block type {name}: {e}"))?,
                        min_items: count(bt, "min_items"),
                        max_items: count(bt, "max_items"),
                        block: Block::from_json(inner).map_err(|e| format!("{name}.{e}"))?,
                    },
                );
            }
        }
        Ok(block)
    }

    /// The object type a value of this block has.
    pub fn implied_type(&self) -> Ty {
        let mut fields: BTreeMap<String, Ty> = self
            .attributes
            .iter()
            .map(|(n, a)| (n.clone(), a.ty.clone()))
            .collect();
        for (name, bt) in &self.block_types {
            fields.insert(name.clone(), bt.nesting.wrap(bt.block.implied_type()));
        }
        Ty::Object(fields)
    }

    /// Converts to `tf-provider`'s model.
    ///
    /// `tf-provider` fixes `min_items`/`max_items` per nesting mode, so the closest mode is
    /// chosen and the exact limits are checked by [`crate::values::check_block_counts`]:
    /// `single` becomes `group` (its `single` would make the block required), a list of at
    /// most one block becomes `Optional` (list, 0..1), other lists and sets become unbounded.
    pub fn to_tf(&self) -> tf::Block {
        tf::Block {
            version: 0,
            attributes: self
                .attributes
                .iter()
                .map(|(n, a)| (n.clone(), a.to_tf()))
                .collect(),
            blocks: self
                .block_types
                .iter()
                .map(|(n, bt)| {
                    let inner = bt.block.to_tf();
                    let nested = match bt.nesting {
                        Nesting::Single | Nesting::Group => tf::NestedBlock::Group(inner),
                        Nesting::List if bt.max_items == 1 => tf::NestedBlock::Optional(inner),
                        Nesting::List => tf::NestedBlock::List(inner),
                        Nesting::Set => tf::NestedBlock::Set(inner),
                        Nesting::Map => tf::NestedBlock::Map(inner),
                    };
                    (n.clone(), nested)
                })
                .collect(),
            description: description(&self.description, self.markdown),
            deprecated: self.deprecated,
        }
    }
}

impl SchemaDef {
    fn from_json(json: &Json) -> Result<SchemaDef, String> {
        let block = json.get("block").ok_or("schema has no block")?;
        Ok(SchemaDef {
            version: json.get("version").and_then(Json::as_i64).unwrap_or(0),
            block: Block::from_json(block)?,
        })
    }

    /// Converts to `tf-provider`'s model (see [`Block::to_tf`]).
    pub fn to_tf(&self) -> tf::Schema {
        tf::Schema {
            version: self.version,
            block: self.block.to_tf(),
        }
    }
}

impl ProviderSchema {
    /// Parses a `terraform providers schema -json` document and picks the provider whose
    /// address ends in `/<provider_type>` (or the only one).
    pub fn parse(json: &str, provider_type: &str) -> Result<ProviderSchema, String> {
        let doc: Json = serde_json::from_str(json).map_err(|e| format!("invalid JSON: {e}"))?;
        let schemas = doc
            .get("provider_schemas")
            .and_then(Json::as_object)
            .ok_or("no \"provider_schemas\" object")?;
        let suffix = format!("/{provider_type}");
        let (address, body) = schemas
            .iter()
            .find(|(addr, _)| addr.ends_with(&suffix))
            .or_else(|| {
                if schemas.len() == 1 {
                    schemas.iter().next()
                } else {
                    None
                }
            })
            .ok_or_else(|| format!("no provider schema for type {provider_type:?}"))?;
        let provider = match body.get("provider") {
            Some(p) => SchemaDef::from_json(p).map_err(|e| format!("provider block: {e}"))?,
            None => SchemaDef {
                version: 0,
                block: Block::default(),
            },
        };
        let section = |key: &str| -> Result<BTreeMap<String, SchemaDef>, String> {
            let mut out = BTreeMap::new();
            if let Some(map) = body.get(key).and_then(Json::as_object) {
                for (name, s) in map {
                    out.insert(
                        name.clone(),
                        SchemaDef::from_json(s).map_err(|e| format!("{name}: {e}"))?,
                    );
                }
            }
            Ok(out)
        };
        Ok(ProviderSchema {
            address: address.clone(),
            provider,
            resources: section("resource_schemas")?,
            data_sources: section("data_source_schemas")?,
        })
    }

    /// Loads `<dir>/<provider_type>.json`.
    pub fn load(dir: &Path, provider_type: &str) -> Result<ProviderSchema, String> {
        let path = dir.join(format!("{provider_type}.json"));
        let json = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "cannot read the schema of provider {provider_type:?} at {}: {e}",
                path.display()
            )
        })?;
        ProviderSchema::parse(&json, provider_type).map_err(|e| format!("{}: {e}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_types() {
        let ty =
            Ty::from_json(&json!(["list", ["object", {"a": "string", "b": ["map", "number"]}]]))
                .expect("valid type");
        let mut fields = BTreeMap::new();
        fields.insert("a".to_owned(), Ty::String);
        fields.insert("b".to_owned(), Ty::Map(Box::new(Ty::Number)));
        assert_eq!(ty, Ty::List(Box::new(Ty::Object(fields))));
        assert!(Ty::from_json(&json!("float")).is_err());
    }

    #[test]
    fn converts_nesting_modes_and_constraints() {
        let doc = json!({"format_version": "1.0", "provider_schemas": {
        "registry.terraform.io/x/demo": {
            "provider": {"version": 0, "block": {}},
            "resource_schemas": {"demo_thing": {"version": 2, "block": {
                "attributes": {
                    "id": {"type": "string", "computed": true, "optional": true},
                    "name": {"type": "string", "required": true},
                    "secret": {"type": "string", "computed": true, "sensitive": true}
                },
                "block_types": {
                    "one": {"nesting_mode": "list", "max_items": 1, "min_items": 1, "block": {}},
                    "many": {"nesting_mode": "set", "block": {}},
                    "timeouts": {"nesting_mode": "single", "block": {}}
                }
            }}}
        }}});
        let schema = ProviderSchema::parse(&doc.to_string(), "demo").expect("valid schema");
        let thing = &schema.resources["demo_thing"];
        assert_eq!(thing.version, 2);
        assert_eq!(thing.block.block_types["one"].min_items, 1);
        let tf = thing.to_tf();
        assert_eq!(tf.version, 2);
        assert!(matches!(
            tf.block.blocks["one"],
            tf::NestedBlock::Optional(_)
        ));
        assert!(matches!(tf.block.blocks["many"], tf::NestedBlock::Set(_)));
        assert!(matches!(
            tf.block.blocks["timeouts"],
            tf::NestedBlock::Group(_)
        ));
        assert_eq!(
            tf.block.attributes["id"].constraint,
            tf::AttributeConstraint::OptionalComputed
        );
        assert_eq!(
            tf.block.attributes["name"].constraint,
            tf::AttributeConstraint::Required
        );
        assert!(tf.block.attributes["secret"].sensitive);
    }

    #[test]
    fn loads_every_vendored_schema() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../provider-schemas");
        for (ty, resource) in [
            ("google", "google_container_cluster"),
            ("azurerm", "azurerm_kubernetes_cluster"),
            ("kind", "kind_cluster"),
            ("aws", "aws_eks_cluster"),
        ] {
            let schema = ProviderSchema::load(&dir, ty).expect("vendored schema loads");
            assert!(schema.resources.contains_key(resource), "{ty}: {resource}");
            assert!(schema.address.ends_with(&format!("/{ty}")));
        }
        let missing = ProviderSchema::load(&dir, "nope").expect_err("no such schema");
        assert!(missing.contains("nope.json"), "{missing}");
    }
}
