//! A test-only Terraform provider double, and helpers to run the real `terraform` against it.
//!
//! Real providers cannot be downloaded on the project's machines, so tests install one binary,
//! `terraform-provider-double`, under each provider address they need (hashicorp/google,
//! hashicorp/azurerm, tehcyx/kind, ...) in a private filesystem mirror. The double serves that
//! provider's real schema (from the repository's `provider-schemas/<type>.json`), so `terraform
//! validate` checks generated code against the real attribute names and types, and it fakes
//! plan and apply deterministically, so `plan`, `apply` and an empty second `plan` run offline.
//!
//! The helpers ([`Mirror`], [`double_binary`], ...) need no `protoc`: another crate can use
//! them with `tf-double = { path = "../tf-double", default-features = false }`. The provider
//! itself (modules [`provider`], [`schema`], [`values`]) is behind the default `server` feature.
//!
//! ```no_run
//! use tf_double::{Mirror, GOOGLE};
//! let tmp = std::env::temp_dir().join("example");
//! let mirror = Mirror::builder().double(GOOGLE).create(&tmp.join("tf"))?;
//! let status = mirror.terraform(&tmp.join("work")).arg("init").status()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod mirror;
mod skip;

#[cfg(feature = "server")]
pub mod force_new;
#[cfg(feature = "server")]
pub mod provider;
#[cfg(feature = "server")]
pub mod schema;
#[cfg(feature = "server")]
pub mod values;

pub use mirror::{
    AWS, AZURERM, BINARY_ENV, BINARY_NAME, Error, GOOGLE, KIND, Mirror, MirrorBuilder, PLUGINS_ENV,
    ProviderAddr, REGISTRY_HOST, default_schemas_dir, double_binary, real_plugins_dir,
    required_providers, terraform_binary,
};
pub use skip::{REQUIRE_ENV, SKIP_LOG_ENV, engines_required, skip};

/// Environment variable naming the directory the double loads `<type>.json` schemas from.
pub const SCHEMAS_ENV: &str = "PLINTH_TF_DOUBLE_SCHEMAS";
