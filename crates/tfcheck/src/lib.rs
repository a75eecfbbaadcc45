//! `tfcheck` checks Terraform HCL against real provider schemas, as dumped by
//! `terraform providers schema -json`, without running Terraform or downloading providers.
//!
//! It parses every `*.tf` file of a root module (and, recursively, of the local modules it
//! calls) with `hcl-rs` and checks each `resource`, `data` and `provider` block: that resource
//! types exist, that arguments and nested blocks exist and are settable, that required ones are
//! present, that block counts fit the schema, and that literal values convert to the
//! attribute's type. Module calls are checked against the called module's `variable`s.
//!
//! ```no_run
//! use std::path::Path;
//!
//! let schemas = tfcheck::Schemas::load(&[
//!     Path::new("provider-schemas/google.json"),
//!     Path::new("provider-schemas/kind.json"),
//! ])?;
//! let problems = tfcheck::check_dir(Path::new("generated/gke"), &schemas)?;
//! for problem in problems.iter().filter(|problem| problem.is_error()) {
//!     eprintln!("{problem}");
//! }
//! # Ok::<(), tfcheck::Error>(())
//! ```

mod problem;
mod schema;
mod walk;

pub use problem::{Error, Problem, Severity};
pub use schema::Schemas;

use std::path::Path;

/// Checks every `*.tf` file in the module directory `root`, and every local module it calls
/// (`source = "./..."` or `"../..."`, followed recursively, each checked once), against
/// `schemas`.
///
/// Returns the problems found, sorted by file, line and column; an empty list means the
/// configuration fits the schemas. Fails only when a directory or file cannot be read or a
/// `.tf` file is not valid HCL.
pub fn check_dir(root: &Path, schemas: &Schemas) -> Result<Vec<Problem>, Error> {
    walk::check_dir(root, schemas)
}
