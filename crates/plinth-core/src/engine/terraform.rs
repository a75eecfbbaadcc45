//! terraform (or OpenTofu), which applies what Plinth generates.
//!
//! Which binary: `PLINTH_TERRAFORM` if set, else `terraform` on PATH, else `tofu`. Its
//! environment is the minimal one (see [`super::PASSTHROUGH`]) plus `TF_IN_AUTOMATION=1`,
//! `TF_INPUT=0`, `CHECKPOINT_DISABLE=1`, and the caller's variables that configure Terraform or
//! carry provider credentials: `TF_*` (but never `TF_WORKSPACE`, which Plinth selects, nor
//! `TF_CLI_ARGS*`, which would change what is applied), `AWS_*`, `GOOGLE_*`, `CLOUDSDK_*`,
//! `ARM_*`, `AZURE_*`, `PG_*`, `ACTIONS_ID_TOKEN_REQUEST_*` (GitHub's OIDC token request, for
//! azurerm) and `PLINTH_TF_*` (test doubles).

use super::{EngineError, Output, command, run, supervise, which};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Prefixes of variables passed to terraform, with credentials for the providers Plinth uses.
pub const PASSTHROUGH_PREFIXES: &[&str] = &[
    "TF_",
    "AWS_",
    "GOOGLE_",
    "CLOUDSDK_",
    "ARM_",
    "AZURE_",
    "PG_",
    "PLINTH_TF_",
    // GitHub Actions' OIDC token request, which azurerm (ARM_USE_OIDC) exchanges for Azure
    // credentials itself.
    "ACTIONS_ID_TOKEN_REQUEST_",
];

/// Variables never passed, whatever their prefix: Plinth selects the workspace and sets these
/// itself. `TF_CLI_ARGS` and `TF_CLI_ARGS_<command>` are dropped too: they would add arguments
/// (`-target`, `-var`, `-replace`) to every run, changing what is applied outside the content
/// the record names.
const BLOCKED: &[&str] = &["TF_WORKSPACE", "TF_IN_AUTOMATION", "TF_INPUT"];

#[derive(Debug, Clone)]
pub struct Terraform {
    pub bin: PathBuf,
    /// Extra `TF_VAR_*` for every run: the platform's sensitive values (see [`crate::secrets`]),
    /// passed in the environment so they appear in no file and no process listing.
    pub inputs: Vec<(String, OsString)>,
}

/// Resource changes of a plan, counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub add: usize,
    pub change: usize,
    pub destroy: usize,
    pub replace: usize,
}

impl Counts {
    pub fn is_empty(&self) -> bool {
        self.add + self.change + self.destroy + self.replace == 0
    }
}

/// A plan read from `terraform show -json`: counts per cluster key (`""` for the platform's
/// own resources) and every changed address.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct PlanSummary {
    pub by_cluster: BTreeMap<String, Counts>,
    pub changes: Vec<(String, String)>,
}

impl PlanSummary {
    pub fn total(&self) -> Counts {
        let mut t = Counts::default();
        for c in self.by_cluster.values() {
            t.add += c.add;
            t.change += c.change;
            t.destroy += c.destroy;
            t.replace += c.replace;
        }
        t
    }
}

impl Terraform {
    pub fn find() -> Result<Terraform, EngineError> {
        if let Some(p) = std::env::var_os("PLINTH_TERRAFORM") {
            return Ok(Terraform {
                bin: PathBuf::from(p),
                inputs: Vec::new(),
            });
        }
        which("terraform").or_else(|| which("tofu")).map(|bin| Terraform { bin, inputs: Vec::new() }).ok_or(EngineError::NotFound {
            program: "terraform".into(),
            hint: Some("install Terraform or OpenTofu, or set PLINTH_TERRAFORM; `plinth plan --no-engine` shows the platform-level plan without it".into()),
        })
    }

    fn env(&self) -> Vec<(String, OsString)> {
        let mut env: Vec<(String, OsString)> = vec![
            ("TF_IN_AUTOMATION".into(), "1".into()),
            ("TF_INPUT".into(), "0".into()),
            ("CHECKPOINT_DISABLE".into(), "1".into()),
        ];
        for (k, v) in std::env::vars_os() {
            let Some(key) = k.to_str() else { continue };
            if !BLOCKED.contains(&key)
                && !key.starts_with("TF_CLI_ARGS")
                && PASSTHROUGH_PREFIXES.iter().any(|p| key.starts_with(p))
            {
                env.push((key.to_string(), v));
            }
        }
        env.extend(self.inputs.iter().cloned());
        env
    }

    /// Runs terraform in `dir`, in a process group of its own that receives the signals
    /// Plinth is asked to stop with (see [`supervise`]).
    pub fn run(&self, dir: &Path, args: &[&str], allowed: &[i32]) -> Result<Output, EngineError> {
        supervise::run(command(&self.bin, args, Some(dir), &self.env()), allowed)
    }

    /// A saved plan as Terraform prints it (every resource and attribute), for a reviewer who
    /// wants more than Plinth's summary.
    pub fn show_text(&self, dir: &Path, plan_file: &str) -> Result<String, EngineError> {
        Ok(self
            .run(dir, &["show", "-no-color", plan_file], &[])?
            .stdout)
    }

    /// `terraform output -json` of the selected workspace: every output by name.
    pub fn outputs(&self, dir: &Path) -> Result<serde_json::Value, EngineError> {
        let out = self.run(dir, &["output", "-json", "-no-color"], &[])?;
        Ok(serde_json::from_str(&out.stdout).unwrap_or_default())
    }

    /// `terraform version`, e.g. `terraform 1.11.4`.
    pub fn version(&self) -> Result<String, EngineError> {
        let out = run(
            command(&self.bin, &["version", "-json"], None, &self.env()),
            &[],
        )?;
        let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap_or_default();
        let name = self
            .bin
            .file_name()
            .map_or("terraform".into(), |n| n.to_string_lossy().into_owned());
        Ok(format!(
            "{name} {}",
            v["terraform_version"].as_str().unwrap_or("unknown")
        ))
    }

    /// `terraform init` with optional partial backend configuration (`key=value`).
    pub fn init(&self, dir: &Path, backend_config: &[String]) -> Result<(), EngineError> {
        let mut args = vec!["init", "-input=false", "-no-color"];
        let extra: Vec<String> = backend_config
            .iter()
            .map(|kv| format!("-backend-config={kv}"))
            .collect();
        args.extend(extra.iter().map(String::as_str));
        self.run(dir, &args, &[]).map(|_| ())
    }

    pub fn select_workspace(&self, dir: &Path, workspace: &str) -> Result<(), EngineError> {
        self.run(
            dir,
            &["workspace", "select", "-or-create", "-no-color", workspace],
            &[],
        )
        .map(|_| ())
    }

    /// `terraform plan -detailed-exitcode -out=FILE` (with `-destroy`, the plan that removes
    /// everything the state holds); true when there are changes.
    pub fn plan(&self, dir: &Path, plan_file: &str, destroy: bool) -> Result<bool, EngineError> {
        let out_arg = format!("-out={plan_file}");
        let mut args = vec![
            "plan",
            "-input=false",
            "-no-color",
            "-detailed-exitcode",
            out_arg.as_str(),
        ];
        if destroy {
            args.push("-destroy");
        }
        let out = self.run(dir, &args, &[2])?;
        Ok(out.status == 2)
    }

    /// `terraform show -json FILE`, summarised per cluster.
    pub fn show(&self, dir: &Path, plan_file: &str) -> Result<PlanSummary, EngineError> {
        let out = self.run(dir, &["show", "-json", "-no-color", plan_file], &[])?;
        let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap_or_default();
        Ok(summarize(&v))
    }

    /// `terraform apply FILE` of a saved plan.
    pub fn apply(&self, dir: &Path, plan_file: &str) -> Result<Output, EngineError> {
        self.run(
            dir,
            &[
                "apply",
                "-input=false",
                "-no-color",
                "-auto-approve",
                plan_file,
            ],
            &[],
        )
    }
}

/// Counts a `terraform show -json` plan's resource changes per cluster key.
pub fn summarize(plan: &serde_json::Value) -> PlanSummary {
    let mut s = PlanSummary::default();
    for rc in plan["resource_changes"].as_array().into_iter().flatten() {
        let actions: Vec<&str> = rc["change"]["actions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a.as_str())
            .collect();
        let kind = match actions.as_slice() {
            ["create"] => "add",
            ["update"] => "change",
            ["delete"] => "destroy",
            ["delete", "create"] | ["create", "delete"] => "replace",
            _ => continue,
        };
        let address = rc["address"].as_str().unwrap_or_default();
        let counts = s.by_cluster.entry(cluster_of(address)).or_default();
        match kind {
            "add" => counts.add += 1,
            "change" => counts.change += 1,
            "destroy" => counts.destroy += 1,
            _ => counts.replace += 1,
        }
        s.changes.push((kind.to_string(), address.to_string()));
    }
    s
}

/// The cluster a resource address belongs to: `module.<key>...` or `module.<key>_services...`.
fn cluster_of(address: &str) -> String {
    let Some(rest) = address.strip_prefix("module.") else {
        return String::new();
    };
    let module = rest.split(['.', '[']).next().unwrap_or_default();
    module
        .strip_suffix("_services")
        .unwrap_or(module)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_are_counted_per_cluster() {
        let plan = serde_json::json!({"resource_changes": [
            {"address": "module.eks_zero.aws_vpc.current", "change": {"actions": ["create"]}},
            {"address": "module.eks_zero.module.node_pool[\"gpu\"].aws_eks_node_group.pool", "change": {"actions": ["delete", "create"]}},
            {"address": "module.eks_zero_services[\"cert-manager\"].kustomization_resource.wave0[\"x\"]", "change": {"actions": ["update"]}},
            {"address": "module.gke_zero.google_container_cluster.current", "change": {"actions": ["no-op"]}},
            {"address": "terraform_data.workspace", "change": {"actions": ["create"]}},
        ]});
        let s = summarize(&plan);
        assert_eq!(
            s.by_cluster["eks_zero"],
            Counts {
                add: 1,
                change: 1,
                destroy: 0,
                replace: 1
            }
        );
        assert_eq!(
            s.by_cluster[""],
            Counts {
                add: 1,
                ..Counts::default()
            }
        );
        assert!(!s.by_cluster.contains_key("gke_zero"));
        assert_eq!(s.total().add, 2);
    }
}
