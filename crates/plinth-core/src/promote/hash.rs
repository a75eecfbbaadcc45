//! The content hash of a code base: what promotion compares between environments.
//!
//! It covers everything the engines apply for every environment — the generated Terraform
//! (roots, modules, backend) and overlays, rendered for the standard output location — and the
//! files of every local service base. Comments and formatting in the definition do not change
//! it; any change to what would be applied does, including a Plinth upgrade that changes its
//! modules. Sensitive values written in the definition count; values read from the environment
//! at plan time (`from_env`) cannot.

use crate::error::Result;
use crate::platform::Platform;
use crate::render::hex;
use crate::resolve::Resolution;
use crate::service::Source;
use sha2::{Digest, Sha256};
use std::path::Path;

pub fn content_hash(p: &Platform, r: &Resolution) -> Result<String> {
    let tree = crate::generate::render_all(p, r, &p.root.join("generated"))?;
    let mut h = Sha256::new();
    for (path, content) in tree.files() {
        feed(&mut h, path, content.as_bytes());
    }
    // Generated files hold only references to sensitive values: the values written in the
    // definition count too (they are in the repository already, so the hash reveals nothing).
    for v in crate::secrets::variables(r).values() {
        if let Some(text) = &v.literal {
            feed(&mut h, &format!("sensitive:{}", v.name), text.as_bytes());
        }
    }
    let mut bases: Vec<&str> = p
        .clusters
        .values()
        .flat_map(|c| c.services.values())
        .filter_map(|s| match &s.source {
            Source::Path { path } => Some(path.as_str()),
            _ => None,
        })
        .collect();
    bases.sort_unstable();
    bases.dedup();
    for base in bases {
        let mut files = Vec::new();
        walk(&p.root.join(base), &mut files);
        files.sort();
        for f in files {
            let rel = crate::source::display_path(&f, &p.root);
            feed(&mut h, &rel, &std::fs::read(&f).unwrap_or_default());
        }
    }
    Ok(format!("sha256:{}", hex(&h.finalize())))
}

fn feed(h: &mut Sha256, path: &str, bytes: &[u8]) {
    h.update((path.len() as u64).to_le_bytes());
    h.update(path.as_bytes());
    h.update((bytes.len() as u64).to_le_bytes());
    h.update(bytes);
}

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            walk(&e.path(), out);
        } else if ft.is_file() {
            out.push(e.path());
        }
    }
}
