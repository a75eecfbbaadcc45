//! The provider double itself: `tf-provider` trait implementations over a loaded
//! [`ProviderSchema`], and [`serve`], the binary's entry point.
//!
//! Every state, configuration and private state is an untyped MessagePack tree (`rmpv::Value`,
//! whose serde support round-trips Terraform's unknown-value extension), so one implementation
//! serves any schema.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use rmpv::Value;
use tf_provider::schema::Schema;
use tf_provider::{
    AttributePath, DataSource, Diagnostics, DynamicDataSource, DynamicResource, Provider, Resource,
};

use crate::SCHEMAS_ENV;
use crate::force_new;
use crate::schema::{Block, ProviderSchema, SchemaDef};
use crate::values::{self, Faker, PathStep};

/// Extracts the provider type from an executable name `terraform-provider-<type>[_v<version>]`
/// (the name Terraform installs and runs a provider under).
pub fn provider_type_from_exe(file_name: &str) -> Option<&str> {
    let rest = file_name.strip_prefix("terraform-provider-")?;
    // Provider types cannot contain `_`, so the first one starts the version.
    let ty = rest.split('_').next().unwrap_or(rest);
    (!ty.is_empty()).then_some(ty)
}

/// Terraform's form of a path into a value.
fn attribute_path(steps: Vec<PathStep>) -> AttributePath {
    let mut path = AttributePath::root();
    for step in steps {
        match step {
            PathStep::Attr(name) => path.add_attribute(name),
            PathStep::Index(i) => path.add_index(i),
            PathStep::Key(k) => path.add_key(k),
        };
    }
    path
}

/// Reports block counts outside the schema's exact limits as errors on their blocks.
fn check_counts(diags: &mut Diagnostics, block: &Block, config: &Value) {
    for problem in values::check_block_counts(block, config) {
        diags.error(
            problem.summary,
            problem.detail,
            attribute_path(problem.path),
        );
    }
}

/// The provider: one loaded schema, or the reason it could not be loaded (reported as a
/// diagnostic on the first schema request, so `terraform init/validate` show it).
pub struct DoubleProvider {
    provider_type: String,
    schema: Result<Arc<ProviderSchema>, String>,
}

impl DoubleProvider {
    /// A provider serving `schema` under the provider type `provider_type`.
    pub fn new(provider_type: &str, schema: Result<ProviderSchema, String>) -> DoubleProvider {
        DoubleProvider {
            provider_type: provider_type.to_owned(),
            schema: schema.map(Arc::new),
        }
    }

    /// Loads `<dir>/<provider_type>.json`, `dir` coming from [`SCHEMAS_ENV`].
    pub fn from_env(provider_type: &str) -> DoubleProvider {
        let schema = match std::env::var_os(SCHEMAS_ENV) {
            Some(dir) => ProviderSchema::load(Path::new(&dir), provider_type),
            None => Err(format!(
                "{SCHEMAS_ENV} is not set: it must name a directory holding {provider_type}.json \
                 (a `terraform providers schema -json` dump)"
            )),
        };
        DoubleProvider::new(provider_type, schema)
    }

    /// The load error, if any.
    pub fn error(&self) -> Option<&str> {
        self.schema.as_ref().err().map(String::as_str)
    }

    /// Schemas of `map` whose names start with `<type>_`, keyed without it: `tf-provider`
    /// adds the prefix back.
    fn entries(&self, map: &BTreeMap<String, SchemaDef>) -> Vec<(String, Entry)> {
        let prefix = format!("{}_", self.provider_type);
        map.iter()
            .filter_map(|(name, def)| match name.strip_prefix(&prefix) {
                Some(short) => Some((
                    short.to_owned(),
                    Entry {
                        type_name: name.clone(),
                        def: def.clone(),
                    },
                )),
                None => {
                    eprintln!(
                        "terraform-provider-double: skipping {name}: it lacks the prefix {prefix}"
                    );
                    None
                }
            })
            .collect()
    }
}

#[async_trait]
impl Provider for DoubleProvider {
    type Config<'a> = Value;
    type MetaState<'a> = Value;

    fn schema(&self, diags: &mut Diagnostics) -> Option<Schema> {
        match &self.schema {
            Ok(schema) => Some(schema.provider.to_tf()),
            Err(e) => {
                diags.root_error(
                    format!("provider double for {:?} has no schema", self.provider_type),
                    e.clone(),
                );
                // An empty schema rather than `None`: with `None`, tf-provider adds an
                // "internal error" (with a backtrace) that buries this message.
                Some(Schema {
                    version: 0,
                    block: tf_provider::schema::Block::default(),
                })
            }
        }
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Value) -> Option<()> {
        if let Ok(schema) = &self.schema {
            check_counts(diags, &schema.provider.block, &config);
        }
        Some(())
    }

    fn get_resources(
        &self,
        _diags: &mut Diagnostics,
    ) -> Option<HashMap<String, Box<dyn DynamicResource>>> {
        let Ok(schema) = &self.schema else {
            return Some(HashMap::new());
        };
        Some(
            self.entries(&schema.resources)
                .into_iter()
                .map(|(short, entry)| {
                    let resource: Box<dyn DynamicResource> = Box::new(DoubleResource(entry));
                    (short, resource)
                })
                .collect(),
        )
    }

    fn get_data_sources(
        &self,
        _diags: &mut Diagnostics,
    ) -> Option<HashMap<String, Box<dyn DynamicDataSource>>> {
        let Ok(schema) = &self.schema else {
            return Some(HashMap::new());
        };
        Some(
            self.entries(&schema.data_sources)
                .into_iter()
                .map(|(short, entry)| {
                    let source: Box<dyn DynamicDataSource> = Box::new(DoubleDataSource(entry));
                    (short, source)
                })
                .collect(),
        )
    }
}

/// One resource or data source type: its full name (for fakes) and schema.
struct Entry {
    type_name: String,
    def: SchemaDef,
}

impl Entry {
    fn plan(&self, proposed: Value) -> Value {
        values::plan_block(&self.def.block, proposed)
    }

    /// The value with every unknown replaced by a fake seeded by the value itself.
    fn fill(&self, planned: Value) -> Value {
        let seed = values::encode(&planned).unwrap_or_default();
        Faker::new(&self.type_name, &seed).fill_block(&self.def.block, planned)
    }
}

/// A managed resource type of the double.
struct DoubleResource(Entry);

/// A data source type of the double.
struct DoubleDataSource(Entry);

#[async_trait]
impl Resource for DoubleResource {
    type State<'a> = Value;
    type PrivateState<'a> = Value;
    type ProviderMetaState<'a> = Value;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(self.0.def.to_tf())
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Value) -> Option<()> {
        check_counts(diags, &self.0.def.block, &config);
        Some(())
    }

    async fn read<'a>(
        &self,
        _diags: &mut Diagnostics,
        state: Value,
        private_state: Value,
        _provider_meta_state: Value,
    ) -> Option<(Value, Value)> {
        Some((state, private_state))
    }

    async fn plan_create<'a>(
        &self,
        _diags: &mut Diagnostics,
        proposed_state: Value,
        _config_state: Value,
        _provider_meta_state: Value,
    ) -> Option<(Value, Value)> {
        Some((self.0.plan(proposed_state), Value::Nil))
    }

    async fn plan_update<'a>(
        &self,
        _diags: &mut Diagnostics,
        prior_state: Value,
        proposed_state: Value,
        _config_state: Value,
        prior_private_state: Value,
        _provider_meta_state: Value,
    ) -> Option<(Value, Value, Vec<AttributePath>)> {
        let planned = self.0.plan(proposed_state);
        // What the real provider would replace the resource for (see `force_new`).
        let replace = force_new::changed(&self.0.type_name, &prior_state, &planned)
            .into_iter()
            .map(attribute_path)
            .collect();
        Some((planned, prior_private_state, replace))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior_state: Value,
        prior_private_state: Value,
        _provider_meta_state: Value,
    ) -> Option<Value> {
        Some(prior_private_state)
    }

    async fn create<'a>(
        &self,
        _diags: &mut Diagnostics,
        planned_state: Value,
        _config_state: Value,
        planned_private_state: Value,
        _provider_meta_state: Value,
    ) -> Option<(Value, Value)> {
        Some((self.0.fill(planned_state), planned_private_state))
    }

    async fn update<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior_state: Value,
        planned_state: Value,
        _config_state: Value,
        planned_private_state: Value,
        _provider_meta_state: Value,
    ) -> Option<(Value, Value)> {
        Some((self.0.fill(planned_state), planned_private_state))
    }

    async fn destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior_state: Value,
        _planned_private_state: Value,
        _provider_meta_state: Value,
    ) -> Option<()> {
        Some(())
    }
}

#[async_trait]
impl DataSource for DoubleDataSource {
    type State<'a> = Value;
    type ProviderMetaState<'a> = Value;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(self.0.def.to_tf())
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Value) -> Option<()> {
        check_counts(diags, &self.0.def.block, &config);
        Some(())
    }

    async fn read<'a>(
        &self,
        _diags: &mut Diagnostics,
        config: Value,
        _provider_meta_state: Value,
    ) -> Option<Value> {
        Some(self.0.fill(self.0.plan(config)))
    }
}

/// Runs the plugin server for `provider_type` until Terraform stops it. A schema that cannot
/// be loaded is reported on stderr here and to Terraform as a diagnostic.
pub async fn serve(provider_type: &str) -> Result<(), String> {
    let provider = DoubleProvider::from_env(provider_type);
    if let Some(e) = provider.error() {
        eprintln!("terraform-provider-double: {e}");
    }
    tf_provider::serve(provider_type, provider)
        .await
        .map_err(|e| format!("plugin server failed: {e:#}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_type_from_the_executable_name() {
        assert_eq!(
            provider_type_from_exe("terraform-provider-google_v6.50.0"),
            Some("google")
        );
        assert_eq!(
            provider_type_from_exe("terraform-provider-kind"),
            Some("kind")
        );
        assert_eq!(provider_type_from_exe("double"), None);
        assert_eq!(provider_type_from_exe("terraform-provider-"), None);
    }

    #[test]
    fn a_missing_schema_is_a_diagnostic() {
        let provider = DoubleProvider::new("google", Err("no google.json".to_owned()));
        let mut diags = Diagnostics::default();
        assert!(Provider::schema(&provider, &mut diags).is_some());
        assert_eq!(diags.errors.len(), 1);
        assert!(diags.errors[0].detail.contains("no google.json"));
    }

    #[test]
    fn unknowns_survive_tf_providers_serde_path() {
        // {"id": <unknown>}, as Terraform sends it; tf-provider decodes with rmp-serde.
        let bytes = [0x81, 0xa2, b'i', b'd', 0xd4, 0x00, 0x00];
        let v: Value = rmp_serde::from_slice(&bytes).expect("decodes");
        let Value::Map(entries) = &v else {
            panic!("an object: {v:?}")
        };
        assert!(values::is_unknown(&entries[0].1));
        let back = rmp_serde::to_vec_named(&v).expect("encodes");
        assert_eq!(back, bytes);
    }
}
