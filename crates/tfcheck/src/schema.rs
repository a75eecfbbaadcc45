//! Provider schemas as printed by `terraform providers schema -json`, and their types.

use crate::problem::Error;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

/// The address of Terraform's built-in provider (`terraform_data`, `terraform_remote_state`).
pub(crate) const BUILTIN_PROVIDER: &str = "terraform.io/builtin/terraform";

/// Provider schemas loaded from one or more `terraform providers schema -json` dumps.
///
/// The built-in `terraform.io/builtin/terraform` provider (`terraform_data`,
/// `terraform_remote_state`) is always present.
#[derive(Debug, Clone)]
pub struct Schemas {
    providers: BTreeMap<String, ProviderSchema>,
}

/// One provider's schemas.
#[derive(Debug, Clone, Default)]
pub(crate) struct ProviderSchema {
    pub(crate) provider: Block,
    pub(crate) resources: BTreeMap<String, Block>,
    pub(crate) data_sources: BTreeMap<String, Block>,
}

/// The schema of a block body: its attributes and nested block types.
#[derive(Debug, Clone, Default)]
pub(crate) struct Block {
    pub(crate) attributes: BTreeMap<String, Attribute>,
    pub(crate) block_types: BTreeMap<String, BlockType>,
    pub(crate) deprecated: bool,
}

/// The schema of one attribute.
#[derive(Debug, Clone)]
pub(crate) struct Attribute {
    pub(crate) ty: Type,
    pub(crate) required: bool,
    pub(crate) optional: bool,
    pub(crate) computed: bool,
    pub(crate) deprecated: bool,
}

/// A nested block type.
#[derive(Debug, Clone)]
pub(crate) struct BlockType {
    pub(crate) nesting: NestingMode,
    pub(crate) min_items: u64,
    /// 0 means unlimited.
    pub(crate) max_items: u64,
    pub(crate) block: Block,
}

/// How a nested block type may be repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NestingMode {
    Single,
    Group,
    List,
    Set,
    Map,
}

/// A cty type, as written in schema JSON (`"string"`, `["list", "string"]`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Type {
    String,
    Number,
    Bool,
    Dynamic,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Object {
        attributes: BTreeMap<String, Type>,
        optional: BTreeSet<String>,
    },
    Tuple(Vec<Type>),
}

impl Schemas {
    /// Loads and merges schema dumps (`terraform providers schema -json` format).
    ///
    /// Each file's `provider_schemas` is keyed by provider address, e.g.
    /// `registry.terraform.io/hashicorp/google`. A provider address may appear in only one
    /// file.
    pub fn load(paths: &[&Path]) -> Result<Schemas, Error> {
        let mut providers = BTreeMap::from([(BUILTIN_PROVIDER.to_owned(), builtin_provider())]);
        for path in paths {
            let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
                path: path.to_path_buf(),
                source,
            })?;
            let json: Value = serde_json::from_str(&text).map_err(|source| Error::Json {
                path: path.to_path_buf(),
                source,
            })?;
            let schema_error = |message: String| Error::Schema {
                path: path.to_path_buf(),
                message,
            };
            for (address, provider) in parse_dump(&json).map_err(schema_error)? {
                if providers.contains_key(&address) {
                    let message = format!("provider {address} is defined more than once");
                    return Err(schema_error(message));
                }
                providers.insert(address, provider);
            }
        }
        Ok(Schemas { providers })
    }

    /// The provider addresses with a schema, e.g. `registry.terraform.io/hashicorp/aws`.
    pub fn provider_addresses(&self) -> impl Iterator<Item = &str> {
        self.providers.keys().map(String::as_str)
    }

    pub(crate) fn provider(&self, address: &str) -> Option<&ProviderSchema> {
        self.providers.get(address)
    }
}

/// Maps a `required_providers` source (`hashicorp/google`, `tehcyx/kind`,
/// `registry.terraform.io/hashicorp/aws`) to a full provider address.
pub(crate) fn provider_address(source: &str) -> String {
    let source = source.trim().to_ascii_lowercase();
    match source.split('/').count() {
        1 => default_provider_address(&source),
        2 => format!("registry.terraform.io/{source}"),
        _ => source,
    }
}

/// The address Terraform assumes for a provider local name without a `source`.
pub(crate) fn default_provider_address(local_name: &str) -> String {
    if local_name == "terraform" {
        BUILTIN_PROVIDER.to_owned()
    } else {
        format!("registry.terraform.io/hashicorp/{local_name}")
    }
}

impl Attribute {
    /// Set by the provider only: may not be written in configuration.
    pub(crate) fn is_computed_only(&self) -> bool {
        self.computed && !self.optional && !self.required
    }

    /// The object type of an attribute that may also be written as repeated blocks (Terraform
    /// accepts block syntax for attributes of type list or set of objects).
    pub(crate) fn block_syntax_object(&self) -> Option<&Type> {
        match &self.ty {
            Type::List(element) | Type::Set(element)
                if matches!(**element, Type::Object { .. }) =>
            {
                Some(element)
            }
            _ => None,
        }
    }

    pub(crate) fn new_optional(ty: Type) -> Attribute {
        Attribute {
            ty,
            required: false,
            optional: true,
            computed: false,
            deprecated: false,
        }
    }

    pub(crate) fn new_required(ty: Type) -> Attribute {
        Attribute {
            required: true,
            optional: false,
            ..Attribute::new_optional(ty)
        }
    }

    fn new_computed(ty: Type) -> Attribute {
        Attribute {
            optional: false,
            computed: true,
            ..Attribute::new_optional(ty)
        }
    }
}

impl Block {
    /// The settable attribute and block type names, for did-you-mean suggestions.
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        let attributes = self
            .attributes
            .iter()
            .filter(|(_, attribute)| !attribute.is_computed_only())
            .map(|(name, _)| name.as_str());
        attributes.chain(self.block_types.keys().map(String::as_str))
    }

    /// The block schema used when an object type is written with block syntax: every object
    /// attribute becomes an optional argument.
    pub(crate) fn from_object(ty: &Type) -> Block {
        let attributes = match ty {
            Type::Object { attributes, .. } => attributes
                .iter()
                .map(|(name, ty)| (name.clone(), Attribute::new_optional(ty.clone())))
                .collect(),
            _ => BTreeMap::new(),
        };
        Block {
            attributes,
            ..Block::default()
        }
    }
}

impl BlockType {
    pub(crate) fn new(nesting: NestingMode, block: Block) -> BlockType {
        BlockType {
            nesting,
            min_items: 0,
            max_items: 0,
            block,
        }
    }

    /// The most blocks of this type that may be written, if limited.
    pub(crate) fn max(&self) -> Option<u64> {
        match self.nesting {
            NestingMode::Single | NestingMode::Group => Some(1),
            _ if self.max_items > 0 => Some(self.max_items),
            _ => None,
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::String => f.write_str("string"),
            Type::Number => f.write_str("number"),
            Type::Bool => f.write_str("bool"),
            Type::Dynamic => f.write_str("any value"),
            Type::List(element) => write!(f, "list of {element}"),
            Type::Set(element) => write!(f, "set of {element}"),
            Type::Map(element) => write!(f, "map of {element}"),
            Type::Object { .. } => f.write_str("object"),
            Type::Tuple(elements) => write!(f, "tuple with {} elements", elements.len()),
        }
    }
}

// --- JSON parsing -------------------------------------------------------------------------

type Parsed<T> = Result<T, String>;

fn object<'v>(value: &'v Value, at: &str) -> Parsed<&'v Map<String, Value>> {
    value
        .as_object()
        .ok_or_else(|| format!("{at}: expected an object"))
}

fn field<'v>(map: &'v Map<String, Value>, key: &str, at: &str) -> Parsed<&'v Value> {
    map.get(key)
        .ok_or_else(|| format!("{at}: missing \"{key}\""))
}

fn flag(map: &Map<String, Value>, key: &str) -> bool {
    map.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// A whole dump: provider address (lowercased) and schema, per provider.
fn parse_dump(json: &Value) -> Parsed<Vec<(String, ProviderSchema)>> {
    let dump = object(json, "$")?;
    let by_address = object(field(dump, "provider_schemas", "$")?, "$.provider_schemas")?;
    by_address
        .iter()
        .map(|(address, provider)| {
            let at = format!("$.provider_schemas[{address:?}]");
            Ok((address.to_ascii_lowercase(), parse_provider(provider, &at)?))
        })
        .collect()
}

fn parse_provider(value: &Value, at: &str) -> Parsed<ProviderSchema> {
    let map = object(value, at)?;
    let provider = match map.get("provider") {
        Some(provider) => parse_schema(provider, &format!("{at}.provider"))?,
        None => Block::default(),
    };
    Ok(ProviderSchema {
        provider,
        resources: parse_schemas(
            map.get("resource_schemas"),
            &format!("{at}.resource_schemas"),
        )?,
        data_sources: parse_schemas(
            map.get("data_source_schemas"),
            &format!("{at}.data_source_schemas"),
        )?,
    })
}

fn parse_schemas(value: Option<&Value>, at: &str) -> Parsed<BTreeMap<String, Block>> {
    let Some(value) = value else {
        return Ok(BTreeMap::new());
    };
    object(value, at)?
        .iter()
        .map(|(name, schema)| Ok((name.clone(), parse_schema(schema, &format!("{at}.{name}"))?)))
        .collect()
}

/// A `{"version": N, "block": {...}}` schema.
fn parse_schema(value: &Value, at: &str) -> Parsed<Block> {
    let map = object(value, at)?;
    parse_block(field(map, "block", at)?, &format!("{at}.block"))
}

fn parse_block(value: &Value, at: &str) -> Parsed<Block> {
    let map = object(value, at)?;
    let mut block = Block {
        deprecated: flag(map, "deprecated"),
        ..Block::default()
    };
    if let Some(attributes) = map.get("attributes") {
        let at = format!("{at}.attributes");
        for (name, attribute) in object(attributes, &at)? {
            let attribute = parse_attribute(attribute, &format!("{at}.{name}"))?;
            block.attributes.insert(name.clone(), attribute);
        }
    }
    if let Some(block_types) = map.get("block_types") {
        let at = format!("{at}.block_types");
        for (name, block_type) in object(block_types, &at)? {
            let block_type = parse_block_type(block_type, &format!("{at}.{name}"))?;
            block.block_types.insert(name.clone(), block_type);
        }
    }
    Ok(block)
}

fn parse_attribute(value: &Value, at: &str) -> Parsed<Attribute> {
    let map = object(value, at)?;
    let ty = match (map.get("type"), map.get("nested_type")) {
        (Some(ty), _) => parse_type(ty, &format!("{at}.type"))?,
        (None, Some(nested)) => parse_nested_type(nested, &format!("{at}.nested_type"))?,
        (None, None) => return Err(format!("{at}: missing \"type\" or \"nested_type\"")),
    };
    Ok(Attribute {
        ty,
        required: flag(map, "required"),
        optional: flag(map, "optional"),
        computed: flag(map, "computed"),
        deprecated: flag(map, "deprecated"),
    })
}

fn parse_block_type(value: &Value, at: &str) -> Parsed<BlockType> {
    let map = object(value, at)?;
    let nesting = match field(map, "nesting_mode", at)?.as_str() {
        Some("single") => NestingMode::Single,
        Some("group") => NestingMode::Group,
        Some("list") => NestingMode::List,
        Some("set") => NestingMode::Set,
        Some("map") => NestingMode::Map,
        _ => return Err(format!("{at}.nesting_mode: unknown nesting mode")),
    };
    let count = |key: &str| map.get(key).and_then(Value::as_u64).unwrap_or(0);
    Ok(BlockType {
        nesting,
        min_items: count("min_items"),
        max_items: count("max_items"),
        block: parse_block(field(map, "block", at)?, &format!("{at}.block"))?,
    })
}

fn parse_type(value: &Value, at: &str) -> Parsed<Type> {
    let bad = || format!("{at}: unknown type {value}");
    match value {
        Value::String(name) => match name.as_str() {
            "string" => Ok(Type::String),
            "number" => Ok(Type::Number),
            "bool" => Ok(Type::Bool),
            "dynamic" => Ok(Type::Dynamic),
            _ => Err(bad()),
        },
        Value::Array(parts) => {
            let (kind, rest) = parts.split_first().ok_or_else(bad)?;
            let inner = rest.first().ok_or_else(bad)?;
            let element = || parse_type(inner, at).map(Box::new);
            match kind.as_str() {
                Some("list") => Ok(Type::List(element()?)),
                Some("set") => Ok(Type::Set(element()?)),
                Some("map") => Ok(Type::Map(element()?)),
                Some("tuple") => {
                    let elements = inner.as_array().ok_or_else(bad)?;
                    let elements = elements.iter().map(|ty| parse_type(ty, at));
                    Ok(Type::Tuple(elements.collect::<Parsed<_>>()?))
                }
                Some("object") => {
                    let attributes = object(inner, at)?
                        .iter()
                        .map(|(name, ty)| Ok((name.clone(), parse_type(ty, at)?)))
                        .collect::<Parsed<_>>()?;
                    let optional = rest
                        .get(1)
                        .and_then(Value::as_array)
                        .map(|names| names.iter().filter_map(Value::as_str).map(str::to_owned))
                        .into_iter()
                        .flatten()
                        .collect();
                    Ok(Type::Object {
                        attributes,
                        optional,
                    })
                }
                _ => Err(bad()),
            }
        }
        _ => Err(bad()),
    }
}

/// A plugin-framework nested attribute type, as the equivalent cty type.
fn parse_nested_type(value: &Value, at: &str) -> Parsed<Type> {
    let map = object(value, at)?;
    let attributes_at = format!("{at}.attributes");
    let mut attributes = BTreeMap::new();
    let mut optional = BTreeSet::new();
    for (name, attribute) in object(field(map, "attributes", at)?, &attributes_at)? {
        let attribute = parse_attribute(attribute, &format!("{attributes_at}.{name}"))?;
        if !attribute.required {
            optional.insert(name.clone());
        }
        attributes.insert(name.clone(), attribute.ty);
    }
    let object = Type::Object {
        attributes,
        optional,
    };
    match field(map, "nesting_mode", at)?.as_str() {
        Some("single") => Ok(object),
        Some("list") => Ok(Type::List(Box::new(object))),
        Some("set") => Ok(Type::Set(Box::new(object))),
        Some("map") => Ok(Type::Map(Box::new(object))),
        _ => Err(format!("{at}.nesting_mode: unknown nesting mode")),
    }
}

/// Terraform's built-in provider: `terraform_data` and the `terraform_remote_state` data
/// source.
fn builtin_provider() -> ProviderSchema {
    let block = |attributes: Vec<(&str, Attribute)>| Block {
        attributes: attributes
            .into_iter()
            .map(|(name, attribute)| (name.to_owned(), attribute))
            .collect(),
        ..Block::default()
    };
    let terraform_data = block(vec![
        ("id", Attribute::new_computed(Type::String)),
        ("input", Attribute::new_optional(Type::Dynamic)),
        ("output", Attribute::new_computed(Type::Dynamic)),
        ("triggers_replace", Attribute::new_optional(Type::Dynamic)),
    ]);
    let remote_state = block(vec![
        ("backend", Attribute::new_required(Type::String)),
        ("config", Attribute::new_optional(Type::Dynamic)),
        ("defaults", Attribute::new_optional(Type::Dynamic)),
        ("outputs", Attribute::new_computed(Type::Dynamic)),
        ("workspace", Attribute::new_optional(Type::String)),
    ]);
    ProviderSchema {
        provider: Block::default(),
        resources: BTreeMap::from([("terraform_data".to_owned(), terraform_data)]),
        data_sources: BTreeMap::from([("terraform_remote_state".to_owned(), remote_state)]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_nested_and_optional_object_types() {
        let ty = parse_type(
            &json!(["list", ["object", {"a": "string", "b": ["set", "number"]}, ["b"]]]),
            "$",
        )
        .expect("valid type");
        let Type::List(element) = ty else {
            panic!("expected a list, got {ty:?}");
        };
        assert_eq!(
            *element,
            Type::Object {
                attributes: BTreeMap::from([
                    ("a".to_owned(), Type::String),
                    ("b".to_owned(), Type::Set(Box::new(Type::Number))),
                ]),
                optional: BTreeSet::from(["b".to_owned()]),
            }
        );
        assert!(parse_type(&json!(["list"]), "$").is_err());
        assert!(parse_type(&json!("float"), "$").is_err());
    }

    #[test]
    fn nested_type_attributes_become_object_types() {
        let attribute = parse_attribute(
            &json!({"nested_type": {"nesting_mode": "set", "attributes": {
                "x": {"type": "string", "required": true},
                "y": {"type": "bool", "optional": true}}}, "optional": true}),
            "$",
        )
        .expect("valid attribute");
        assert_eq!(attribute.ty.to_string(), "set of object");
        assert!(attribute.block_syntax_object().is_some());
    }

    #[test]
    fn maps_sources_to_addresses() {
        assert_eq!(
            provider_address("hashicorp/google"),
            "registry.terraform.io/hashicorp/google"
        );
        assert_eq!(
            provider_address("tehcyx/kind"),
            "registry.terraform.io/tehcyx/kind"
        );
        assert_eq!(
            provider_address("registry.terraform.io/hashicorp/aws"),
            "registry.terraform.io/hashicorp/aws"
        );
        assert_eq!(
            provider_address("azurerm"),
            "registry.terraform.io/hashicorp/azurerm"
        );
        assert_eq!(default_provider_address("terraform"), BUILTIN_PROVIDER);
    }
}
