//! Plinth's model and logic: platform definitions (one code base, several environments),
//! Kubestack-exact inheritance, naming, validation, and generation of what the engines apply.
//!
//! The CLI crate is a thin layer over this one: it parses arguments and renders what this crate
//! returns. Nothing here prints.

pub mod advise;
pub mod cluster;
pub mod component;
pub mod diagnostic;
pub mod edit;
pub mod engine;
pub mod environment;
pub mod error;
pub mod fsutil;
pub mod generate;
pub mod import;
pub mod inheritance;
pub mod keys;
pub mod load;
pub mod naming;
pub mod node_pool;
pub mod platform;
pub mod promote;
pub mod provider;
pub mod render;
pub mod resolve;
pub mod scaffold;
pub mod schema;
pub mod secrets;
pub mod service;
pub mod source;
mod syntax;
pub mod value;

pub use diagnostic::{Diagnostic, Diagnostics, Severity};
pub use error::{Error, Result};
pub use platform::Platform;
pub use resolve::{Resolution, Resolved, ShowJson, write_show_json};
pub use source::SourceMap;

use std::path::Path;

/// A platform read and checked: everything `validate` reports, and the resolved environments
/// when the definition could be read.
#[derive(Debug)]
pub struct Checked {
    pub platform: Option<Platform>,
    pub resolution: Option<Resolution>,
    pub sources: SourceMap,
    pub diagnostics: Diagnostics,
}

impl Checked {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.has_errors()
    }
}

/// Reads, resolves and validates the platform in `dir`.
pub fn check(dir: &Path) -> Checked {
    check_loaded(load::load(dir))
}

/// Resolves and validates an already-read platform.
pub fn check_loaded(loaded: load::Loaded) -> Checked {
    let mut diagnostics = loaded.diagnostics;
    let mut sources = loaded.sources;
    let resolution = loaded.platform.as_ref().map(Platform::resolve);
    if let Some(r) = &resolution {
        diagnostics.extend(r.diagnostics.clone());
    }
    let mut platform = loaded.platform;
    if let Some(p) = &mut platform {
        service::check_files(p, &mut diagnostics);
        let closure = service::closure::check(p, &mut sources, &mut diagnostics);
        secrets::lint(p, &closure, &mut sources, &mut diagnostics);
        service::lint::check(p, &mut sources, &mut diagnostics);
        render::ci::check_backend(p, &mut diagnostics);
        // Later passes (the advisor) point at the files the checks read.
        p.sources = sources.clone();
    }
    Checked {
        platform,
        resolution,
        sources,
        diagnostics,
    }
}

/// Plinth's version, written into generated files.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// What tests of the model share.
#[cfg(test)]
pub(crate) mod test_support {
    /// `code: message` of every error `validate` reports for a platform of `plinth.toml` text
    /// `root` and one cluster file `clusters/<key>.toml`, read from memory.
    pub fn errors(root: &str, key: &str, cluster: &str) -> Vec<String> {
        let overlay: crate::load::Overlay = [
            (
                std::path::PathBuf::from(crate::load::ROOT_FILE),
                Some(root.to_string()),
            ),
            (
                std::path::PathBuf::from(format!("{}/{key}.toml", crate::load::CLUSTERS_DIR)),
                Some(cluster.to_string()),
            ),
        ]
        .into_iter()
        .collect();
        let checked = crate::check_loaded(crate::load::load_virtual(
            std::path::Path::new("/nonexistent"),
            &overlay,
        ));
        checked
            .diagnostics
            .iter()
            .filter(|d| d.severity == crate::Severity::Error)
            .map(|d| format!("{}: {}", d.code, d.message))
            .collect()
    }
}
