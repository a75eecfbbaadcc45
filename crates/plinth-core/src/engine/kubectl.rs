//! kubectl, for `kubectl kustomize` (rendering overlays offline).
//!
//! Which binary: `PLINTH_KUBECTL` if set; else a Google Cloud SDK's versioned `kubectl.1.N`
//! beside the real `gcloud` (its `kubectl` is a dispatcher that may contact a cluster even for
//! `kustomize`); else `kubectl` on `PATH`. `KUBECONFIG` points at a file that does not exist,
//! so rendering never reaches a cluster.

use super::{EngineError, command, run, which};
use std::path::{Path, PathBuf};

/// The kubectl Plinth uses, or why there is none.
pub fn find() -> Result<PathBuf, EngineError> {
    if let Some(p) = std::env::var_os("PLINTH_KUBECTL") {
        return Ok(PathBuf::from(p));
    }
    if let Some(sdk) = which("gcloud")
        .and_then(|g| std::fs::canonicalize(g).ok())
        .and_then(|g| g.parent().map(Path::to_path_buf))
    {
        let mut versioned: Vec<(u32, PathBuf)> = std::fs::read_dir(&sdk)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let minor = name.strip_prefix("kubectl.1.")?.parse::<u32>().ok()?;
                Some((minor, e.path()))
            })
            .collect();
        versioned.sort();
        if let Some((_, p)) = versioned.pop() {
            return Ok(p);
        }
    }
    which("kubectl").ok_or(EngineError::NotFound {
        program: "kubectl".into(),
        hint: Some("install kubectl (it bundles kustomize) or set PLINTH_KUBECTL".into()),
    })
}

/// `kubectl kustomize DIR`: the rendered manifests. Helm charts need `--enable-helm` and a
/// `helm` binary; without one this fails with a clear message instead of kustomize's.
pub fn kustomize(kubectl: &Path, dir: &Path, helm: bool) -> Result<String, EngineError> {
    let mut args = vec!["kustomize"];
    if helm {
        if which("helm").is_none() {
            return Err(EngineError::NotFound {
                program: "helm".into(),
                hint: Some(format!(
                    "`{}` renders a Helm chart, which needs `helm` on PATH; install it, or vendor the rendered chart as a local base (`source = {{ path = ... }}`) to stay offline",
                    dir.display()
                )),
            });
        }
        args.push("--enable-helm");
    }
    let dir_s = dir.to_string_lossy().into_owned();
    args.push(&dir_s);
    let env = [(
        "KUBECONFIG",
        std::ffi::OsString::from("/nonexistent/plinth-kubeconfig"),
    )];
    Ok(run(command(kubectl, &args, None, &env), &[])?.stdout)
}

/// `kubectl --kubeconfig FILE args...` against a cluster, stopped after `timeout`.
pub fn against(
    kubectl: &Path,
    kubeconfig: &Path,
    args: &[&str],
    timeout: std::time::Duration,
) -> Result<String, EngineError> {
    let mut all = vec!["--kubeconfig"];
    let file = kubeconfig.to_string_lossy().into_owned();
    all.push(&file);
    all.extend_from_slice(args);
    let env = [("KUBECONFIG", std::ffi::OsString::from(kubeconfig))];
    Ok(super::supervise::run_timeout(command(kubectl, &all, None, &env), timeout)?.stdout)
}
