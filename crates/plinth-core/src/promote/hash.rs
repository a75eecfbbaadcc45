//! The content hash: what promotion compares between environments, and, per Terraform root,
//! what decides which roots an apply runs.
//!
//! It is computed from the files the engines read, as they are on disk after generation:
//!
//! * every file of the output tree — the generated Terraform roots and modules, the overlays,
//!   and `*_override.tf` files git tracks — except Terraform's working files (`.terraform/`,
//!   state, plan files and `.terraform.lock.hcl`: the provider lock files are recorded per root
//!   and compared on promotion on their own, see [`super::provider_locks`]);
//! * every file of the kustomize closure of every service ([`crate::service::closure`]): its
//!   base, everything the base refers to (recursively, symlinks resolved) and its extra-resource
//!   directories;
//! * the sensitive values written in the definition (generated files hold only references);
//! * the promotion policy (`[promotion]`, `[platform.record]`), and the verification programs
//!   it names inside the platform.
//!
//! Comments and formatting of the definition do not change it; any change to what would be
//! applied does, including a Plinth upgrade that changes its modules. Values read from the
//! environment at plan time (`from_env`) cannot be covered: roots using them always run.
//! Override files git does not track are applied but belong to no commit: they are left out of
//! the hash and recorded by name and hash instead.

use crate::error::{Error, Result};
use crate::platform::{Platform, StateLayout};
use crate::render::hex;
use crate::resolve::Resolution;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Which version of the rules below a hash follows.
pub const FORMAT: &str = "plinth-content/2";

/// The content of a code base as the engines read it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Content {
    /// `sha256:<hex>` over every root and the policy.
    pub hash: String,
    /// Per Terraform root (`platform`, or a cluster key): everything that root reads.
    pub roots: BTreeMap<String, String>,
    /// Override files in the output that git does not track, with their hashes.
    pub local_overrides: BTreeMap<String, String>,
}

/// The Terraform roots of a platform and the clusters each holds.
pub fn root_clusters(p: &Platform) -> BTreeMap<String, BTreeSet<String>> {
    match p.settings.state {
        StateLayout::Platform => {
            BTreeMap::from([("platform".to_string(), p.clusters.keys().cloned().collect())])
        }
        StateLayout::Cluster => p
            .clusters
            .keys()
            .map(|k| (k.clone(), BTreeSet::from([k.clone()])))
            .collect(),
    }
}

fn feed(h: &mut Sha256, path: &str, bytes: &[u8]) {
    h.update((path.len() as u64).to_le_bytes());
    h.update(path.as_bytes());
    h.update((bytes.len() as u64).to_le_bytes());
    h.update(bytes);
}

fn sha(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

fn read(path: &Path) -> Result<Vec<u8>> {
    crate::fsutil::read_regular(path, crate::load::MAX_FILE_BYTES).map_err(|e| {
        Error::refused(
            format!("`{}` {e}: the content hash cannot cover it", path.display()),
            None,
        )
    })
}

/// The content of platform `p` generated into `out`. `untracked` names the files of `out`
/// (relative paths) git does not track: override files among them are recorded, not hashed.
pub fn content(
    p: &Platform,
    r: &Resolution,
    out: &Path,
    untracked: &BTreeSet<String>,
) -> Result<Content> {
    use rayon::prelude::*;
    let roots = root_clusters(p);
    // The output tree: every file the engines read, on both cores.
    let files = crate::generate::engine_files(out)?;
    let hashed: Vec<(String, [u8; 32])> = files
        .par_iter()
        .map(|rel| read(&out.join(rel)).map(|b| (rel.clone(), sha(&b))))
        .collect::<Result<_>>()?;
    let mut local_overrides = BTreeMap::new();
    let mut per_root: BTreeMap<&str, Sha256> =
        roots.keys().map(|k| (k.as_str(), Sha256::new())).collect();
    for (rel, h) in &hashed {
        let name = rel.rsplit('/').next().unwrap_or(rel);
        if crate::generate::is_override(name) && untracked.contains(rel) {
            local_overrides.insert(rel.clone(), format!("sha256:{}", hex(h)));
            continue;
        }
        let owner = match p.settings.state {
            StateLayout::Platform => None,
            StateLayout::Cluster => {
                let mut parts = rel.split('/');
                match (parts.next(), parts.next()) {
                    (Some("services"), Some(c)) if roots.contains_key(c) => Some(c),
                    (Some(c), Some(_)) if roots.contains_key(c) => Some(c),
                    _ => None,
                }
            }
        };
        for (root, hasher) in &mut per_root {
            if owner.is_none_or(|o| o == *root) {
                feed(hasher, &format!("out:{rel}"), h);
            }
        }
    }
    // The kustomize closure of each root's services: each start walked and each file hashed
    // once, however many roots share it.
    let mut starts: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (root, clusters) in &roots {
        starts.insert(root, crate::service::closure::starts(p, Some(clusters)));
    }
    let unique: BTreeSet<&String> = starts.values().flatten().collect();
    let closures: BTreeMap<&String, crate::service::closure::Closure> = unique
        .into_par_iter()
        .map(|s| {
            (
                s,
                crate::service::closure::of(&p.root, std::slice::from_ref(s), Some(out)),
            )
        })
        .collect();
    if let Some(problem) = closures
        .values()
        .flat_map(|c| &c.problems)
        .find(|pr| !pr.warning)
    {
        return Err(Error::refused(
            format!(
                "the content hash cannot cover the services: {}",
                problem.message
            ),
            Some("run `plinth validate` for the details".into()),
        ));
    }
    let real: BTreeSet<&std::path::PathBuf> =
        closures.values().flat_map(|c| c.files.values()).collect();
    let file_hashes: BTreeMap<&std::path::PathBuf, [u8; 32]> = real
        .into_par_iter()
        .map(|f| read(f).map(|b| (f, sha(&b))))
        .collect::<Result<_>>()?;
    for (root, list) in &starts {
        let mut files: BTreeMap<&String, [u8; 32]> = BTreeMap::new();
        for s in list {
            for (rel, real) in closures.get(s).map(|c| &c.files).into_iter().flatten() {
                if let Some(h) = file_hashes.get(real) {
                    files.insert(rel, *h);
                }
            }
        }
        if let Some(hasher) = per_root.get_mut(root) {
            for (rel, h) in files {
                feed(hasher, &format!("kustomize:{rel}"), &h);
            }
        }
    }
    // Sensitive values written in the definition: generated files hold only references (the
    // values are in the repository already, so the hash reveals nothing new).
    for (root, clusters) in &roots {
        let vars = crate::secrets::variables_of(r, |k| clusters.contains(k));
        if let Some(hasher) = per_root.get_mut(root.as_str()) {
            for v in vars.values() {
                if let Some(text) = &v.literal {
                    feed(hasher, &format!("sensitive:{}", v.name), text.as_bytes());
                }
            }
        }
    }
    let roots: BTreeMap<String, String> = per_root
        .into_iter()
        .map(|(k, h)| (k.to_string(), format!("sha256:{}", hex(&h.finalize()))))
        .collect();
    let mut total = Sha256::new();
    feed(&mut total, "format", FORMAT.as_bytes());
    feed(
        &mut total,
        "policy",
        p.settings.policy.canonical().as_bytes(),
    );
    // A verification program in the platform decides what "verified" means: it is covered too.
    for check in &p.settings.policy.verify {
        if let super::policy::Step::Command(argv) = &check.step
            && let Some(program) = argv.first()
            && program.contains('/')
            && let Ok(real) = crate::service::resolve_path(&p.root, program)
        {
            feed(&mut total, &format!("verify:{program}"), &read(&real)?);
        }
    }
    for (root, h) in &roots {
        feed(&mut total, &format!("root:{root}"), h.as_bytes());
    }
    Ok(Content {
        hash: format!("sha256:{}", hex(&total.finalize())),
        roots,
        local_overrides,
    })
}
