//! `plinth ci github|gitlab|atlantis`: the pipeline a platform team commits.
//!
//! review → plan → apply to the internal environment → promote the same validated revision:
//! - a pull/merge request validates, checks the generated output, and plans only the Terraform
//!   roots the change touches, one CI job per (environment, root), in parallel on the CI's own
//!   runners (`plinth ci matrix --base` lists them);
//! - the main branch applies the internal environment's pending roots in parallel, then one last
//!   job records the environment's outcome once every root succeeded (`plinth record`): the
//!   record stays one entry per environment and revision;
//! - a manual run promotes the same way, gated on the previous environment's record.
//!
//! Cloud credentials come from OIDC federation (AWS role assumption, GCP workload identity
//! federation, Azure federated credentials) by default; nothing long-lived is needed. Values
//! that reach a shell (inputs, matrix entries) are passed through the environment, never pasted
//! into a script. Each job gets only the permissions it needs.

mod atlantis;
mod github;
mod gitlab;

use crate::error::{Error, Result};
use crate::platform::{Platform, StateLayout};
use std::fmt::Write;
use std::path::PathBuf;

pub use gitlab::child_pipeline;

/// The CI systems Plinth writes pipelines for.
pub const SYSTEMS: &[&str] = &["github", "gitlab", "atlantis"];

/// The files of `system`'s pipeline (paths relative to the repository root), for the platform
/// at `prefix` inside the repository (`""` at its root).
pub fn pipeline(system: &str, p: &Platform, prefix: &str) -> Result<Vec<(PathBuf, String)>> {
    let ctx = Ctx::new(p, prefix);
    match system {
        "github" => Ok(vec![(
            PathBuf::from(".github/workflows/plinth.yml"),
            github::workflow(&ctx),
        )]),
        "gitlab" => Ok(gitlab::pipeline(&ctx)),
        "atlantis" => Ok(vec![(
            PathBuf::from("atlantis.yaml"),
            atlantis::repo_config(&ctx),
        )]),
        other => Err(Error::refused(
            format!("no pipeline for `{other}`"),
            crate::diagnostic::suggest(other, SYSTEMS.iter().copied()),
        )),
    }
}

/// Every pipeline file Plinth may write, relative to the repository root.
pub const PIPELINE_FILES: &[&str] = &[
    ".github/workflows/plinth.yml",
    ".gitlab-ci.yml",
    "atlantis.yaml",
];

/// Warns when the platform keeps Terraform state in the `local` backend while its repository
/// has a CI pipeline: every CI job starts from a fresh checkout, so the state of one run is lost
/// to the next, and Terraform would create everything again.
pub fn check_backend(p: &Platform, diags: &mut crate::diagnostic::Diagnostics) {
    if crate::render::backend::kind(&p.settings.backend) != "local" {
        return;
    }
    let Ok(root) = std::path::absolute(&p.root) else {
        return;
    };
    let Some(top) = root.ancestors().find(|d| d.join(".git").exists()) else {
        return;
    };
    let Some(file) = PIPELINE_FILES.iter().find(|f| top.join(f).is_file()) else {
        return;
    };
    let mut d = crate::diagnostic::Diagnostic::warning(
        "local-backend-in-ci",
        format!(
            "the Terraform state is kept in the `local` backend, but the repository has a CI pipeline (`{file}`): each CI job starts from a fresh checkout without the state of the last run, so Terraform would create everything again"
        ),
    )
    .hint("set `[platform.backend]` to a shared backend (`type = \"s3\"`, `gcs`, `azurerm`, `pg` or `remote`) with its settings");
    d = match p.settings.raw.get("backend") {
        Some(b) => d.at_value(b.origin, "the `local` backend"),
        None => d.path(p.root.join(crate::load::ROOT_FILE).display().to_string()),
    };
    diags.push(d);
}

/// One (environment, Terraform root) a CI job plans or applies.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct MatrixEntry {
    pub environment: String,
    /// `platform`, or the cluster key with per-cluster state.
    pub root: String,
    /// The environment as a variable-name suffix (`apps-prod` → `APPS_PROD`), for the CI
    /// variables that hold its credentials' names.
    pub var: String,
}

impl MatrixEntry {
    pub fn new(environment: &str, root: &str) -> MatrixEntry {
        MatrixEntry {
            environment: environment.to_string(),
            root: root.to_string(),
            var: var_suffix(environment),
        }
    }
}

/// `apps-prod` → `APPS_PROD`: environment names are lowercase letters, digits and `-`.
pub fn var_suffix(environment: &str) -> String {
    environment.to_ascii_uppercase().replace('-', "_")
}

/// The clouds a platform's clusters run on, in a fixed order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cloud {
    Aws,
    Gcp,
    Azure,
}

/// What every system's pipeline is written from.
pub struct Ctx<'a> {
    pub p: &'a Platform,
    /// The platform directory relative to the repository root, `.` at the root.
    pub platform_dir: String,
    pub internal: &'a str,
    pub external: Vec<&'a str>,
    pub clouds: Vec<Cloud>,
    pub per_cluster: bool,
    pub local_backend: bool,
}

impl<'a> Ctx<'a> {
    fn new(p: &'a Platform, prefix: &str) -> Ctx<'a> {
        let mut clouds: Vec<Cloud> = p
            .clusters
            .values()
            .filter_map(|c| match c.provider.id {
                "eks" => Some(Cloud::Aws),
                "gke" => Some(Cloud::Gcp),
                "aks" => Some(Cloud::Azure),
                _ => None,
            })
            .collect();
        clouds.sort();
        clouds.dedup();
        Ctx {
            p,
            platform_dir: if prefix.is_empty() {
                ".".into()
            } else {
                prefix.to_string()
            },
            internal: p.environments.internal(),
            // Local environments are developers' own: CI plans and promotes the chain only.
            external: p.environments.chain_names().skip(1).collect(),
            clouds,
            per_cluster: p.settings.state == StateLayout::Cluster,
            local_backend: crate::render::backend::kind(&p.settings.backend) == "local",
        }
    }

    /// The platform directory joined with `rel`, as a repository-relative path.
    fn in_platform(&self, rel: &str) -> String {
        if self.platform_dir == "." {
            rel.to_string()
        } else {
            format!("{}/{rel}", self.platform_dir)
        }
    }

    /// The Terraform roots of the platform: `(name, repository-relative directory)`.
    fn roots(&self) -> Vec<(String, String)> {
        if self.per_cluster {
            self.p
                .clusters
                .keys()
                .map(|k| (k.clone(), self.in_platform(&format!("generated/{k}"))))
                .collect()
        } else {
            vec![("platform".into(), self.in_platform("generated"))]
        }
    }

    /// The comment block that opens every pipeline file: what it does and what to set up.
    fn header(&self, system: &str, setup: &[String]) -> String {
        let mut s = format!(
            "# Plinth's GitOps pipeline for platform `{}`, written by `plinth ci {system}` (Plinth {}).\n# Edit freely: Plinth does not overwrite it unless asked (`--force`).\n#\n# review → plan → apply to `{}` → promote the same validated revision onward ({}).\n",
            super::one_line(&self.p.settings.name),
            crate::VERSION,
            self.internal,
            self.p
                .environments
                .chain_names()
                .collect::<Vec<_>>()
                .join(" → "),
        );
        if self.local_backend {
            s.push_str("#\n# WARNING: the platform keeps Terraform state in the `local` backend. Every CI job starts\n# from a fresh checkout, so the state of one run is lost to the next and Terraform would\n# create everything again. Set `[platform.backend]` (s3, gcs, azurerm, pg, remote) first.\n");
        }
        if !setup.is_empty() {
            s.push_str("#\n# Set up once:\n");
            for note in setup {
                for (i, l) in wrap(&note.replace('\n', " "), 88).iter().enumerate() {
                    let _ = writeln!(s, "#   {}{l}", if i == 0 { "- " } else { "  " });
                }
            }
        }
        s
    }

    /// Setup notes shared by every system: OIDC trust per cloud, and the fallback.
    fn credential_notes(&self, subject_apply: &str, subject_plan: &str) -> Vec<String> {
        let mut notes = Vec::new();
        for cloud in &self.clouds {
            notes.push(match cloud {
                Cloud::Aws => format!(
                    "AWS (OIDC): per environment, an IAM role that trusts the CI's OIDC provider for\n{subject_apply} (apply) and a read-only one for {subject_plan} (plan)."
                ),
                Cloud::Gcp => format!(
                    "Google Cloud (workload identity federation): a workload identity pool provider for the\nCI's OIDC issuer, and per environment a service account it may impersonate from\n{subject_apply} (apply) and a read-only one from {subject_plan} (plan)."
                ),
                Cloud::Azure => format!(
                    "Azure (federated credentials): per environment, an app registration (or managed\nidentity) with a federated credential for {subject_apply} (apply) and a\nread-only one for {subject_plan} (plan)."
                ),
            });
        }
        if !self.clouds.is_empty() {
            notes.push("Without OIDC (a documented fallback, not a default): long-lived keys as protected CI\nsecrets — AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, GOOGLE_CREDENTIALS, ARM_CLIENT_ID/\nARM_CLIENT_SECRET — in place of the credential steps. Rotate them; scope them per environment.".into());
        }
        notes
    }
}

/// Words of `text` in lines of at most `width` characters (a longer word gets a line alone).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}
