//! `plinth init`: the four example architectures of the platform-architecture guide, embedded
//! in the binary as commented files a newcomer can learn the format from.

use std::path::PathBuf;

/// One example platform.
#[derive(Debug)]
pub struct Example {
    pub name: &'static str,
    pub summary: &'static str,
    pub files: &'static [(&'static str, &'static str)],
}

macro_rules! file {
    ($example:literal, $path:literal) => {
        (
            $path,
            include_str!(concat!("../scaffolds/", $example, "/", $path)),
        )
    };
}

/// `.gitignore` of every example: Terraform's working files stay out of the repository.
pub static GITIGNORE: &str = include_str!("../scaffolds/_common/gitignore");

/// Service bases, written under `services/` in every example (shared between them).
pub static SERVICE_BASES: &[(&str, &str)] = &[
    file!("_services", "ingress-nginx/kustomization.yaml"),
    file!("_services", "ingress-nginx/namespace.yaml"),
    file!("_services", "ingress-nginx/rbac.yaml"),
    file!("_services", "ingress-nginx/controller.yaml"),
    file!("_services", "cert-manager/kustomization.yaml"),
    file!("_services", "cert-manager/namespace.yaml"),
    file!("_services", "cert-manager/crds.yaml"),
    file!("_services", "cert-manager/rbac.yaml"),
    file!("_services", "cert-manager/deployments.yaml"),
];

pub static EXAMPLES: &[Example] = &[
    Example {
        name: "minimal",
        summary: "the minimal starter: one EKS cluster, environments ops → apps",
        files: &[
            file!("minimal", "plinth.toml"),
            file!("minimal", "clusters/eks_zero.toml"),
        ],
    },
    Example {
        name: "node-pools",
        summary: "non-prod and prod separated by node pools: a tainted prod pool and a tainted GPU pool",
        files: &[
            file!("node-pools", "plinth.toml"),
            file!("node-pools", "clusters/eks_zero.toml"),
        ],
    },
    Example {
        name: "multi-cloud",
        summary: "clusters on EKS, GKE and AKS in several regions",
        files: &[
            file!("multi-cloud", "plinth.toml"),
            file!("multi-cloud", "clusters/eks_zero.toml"),
            file!("multi-cloud", "clusters/gke_zero.toml"),
            file!("multi-cloud", "clusters/aks_zero.toml"),
        ],
    },
    Example {
        name: "environments",
        summary: "non-prod and prod separated by environments: ops → apps → apps-prod",
        files: &[
            file!("environments", "plinth.toml"),
            file!("environments", "clusters/eks_zero.toml"),
        ],
    },
    Example {
        name: "kind",
        summary: "a local platform on kind (needs Docker to apply): environments ops → apps on one machine",
        files: &[
            file!("kind", "plinth.toml"),
            file!("kind", "clusters/kind_zero.toml"),
        ],
    },
];

pub fn example(name: &str) -> Option<&'static Example> {
    EXAMPLES.iter().find(|e| e.name == name)
}

impl Example {
    /// The files to write, with the platform's name set to `name`.
    pub fn files_named(&self, name: &str) -> Vec<(PathBuf, Vec<u8>)> {
        self.files
            .iter()
            .map(|(path, text)| {
                let text = if *path == "plinth.toml" {
                    let mut s = String::new();
                    crate::value::write_toml_string(&mut s, name);
                    text.replacen(
                        &format!("name = \"{}\"", self.name),
                        &format!("name = {s}"),
                        1,
                    )
                } else {
                    (*text).to_string()
                };
                (PathBuf::from(path), text.into_bytes())
            })
            .chain(SERVICE_BASES.iter().map(|(path, text)| {
                (
                    PathBuf::from("services").join(path),
                    text.as_bytes().to_vec(),
                )
            }))
            .chain(std::iter::once((
                PathBuf::from(".gitignore"),
                GITIGNORE.as_bytes().to_vec(),
            )))
            .collect()
    }
}

/// Writes an example into `dir`, all or nothing: a new or empty directory is created whole; an
/// existing one (a git repository, say) gets the platform beside what it holds, as long as none
/// of its files exists (`.gitignore` is merged).
pub fn init(
    dir: &std::path::Path,
    example: &Example,
    name: &str,
) -> crate::error::Result<Vec<PathBuf>> {
    let files = example.files_named(name);
    let empty = std::fs::read_dir(dir).map_or(true, |mut d| d.next().is_none());
    if empty {
        crate::fsutil::create_tree(dir, &files)?;
    } else {
        crate::fsutil::add_files(dir, &files, &[".gitignore"])?;
    }
    Ok(files.into_iter().map(|(p, _)| p).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every example validates cleanly: no errors and no warnings.
    #[test]
    fn examples_are_clean() {
        for ex in EXAMPLES {
            let tmp = tempfile::tempdir().expect("tempdir");
            let dir = tmp.path().join(ex.name);
            init(&dir, ex, ex.name).expect("init");
            let checked = crate::check(&dir);
            let diags: Vec<_> = checked
                .diagnostics
                .iter()
                .map(|d| format!("{}: {}", d.code, d.message))
                .collect();
            assert!(diags.is_empty(), "{}: {diags:#?}", ex.name);
        }
    }
}
