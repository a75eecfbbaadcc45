//! Verification: "validated" means verified, not just applied. After a successful apply (and
//! with `plinth verify`), the checks of `[[promotion.verify]]` run against the environment:
//!
//! * `nodes-ready`: `kubectl get nodes` against each cluster's kubeconfig output, until every
//!   node is Ready and every node pool has nodes (found by the provider's node pool label), or
//!   the timeout;
//! * `workloads-available`: every Deployment, DaemonSet and StatefulSet an overlay renders
//!   (`kubectl kustomize`) is rolled out (`kubectl rollout status`) within the timeout;
//! * a command: run from the platform directory without a shell, stopped at its timeout;
//!   exit 0 passes. It gets `PLINTH_ENVIRONMENT`, `PLINTH_COMMIT`, `PLINTH_KUBECONFIG_DIR`
//!   (one `<cluster>.yaml` per cluster) and `KUBECONFIG` (all of them).
//!
//! Kubeconfigs come from `terraform output` of each root, written to a private temporary
//! directory removed afterwards. kubectl is the one `plinth render` uses (`PLINTH_KUBECTL`).

use super::policy::{Builtin, Check, Step};
use super::record::CheckResult;
use super::{Prepared, roots};
use crate::engine::supervise;
use crate::engine::terraform::Terraform;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What the checks run against.
pub struct Context<'a> {
    pub prepared: &'a Prepared,
    pub environment: &'a str,
    pub terraform: &'a Terraform,
    pub backend_config: Vec<String>,
}

/// The node label naming a node's pool, per provider.
fn pool_label(provider: &str) -> Option<&'static str> {
    match provider {
        "eks" => Some("eks.amazonaws.com/nodegroup"),
        "gke" => Some("cloud.google.com/gke-nodepool"),
        "aks" => Some("kubernetes.azure.com/agentpool"),
        _ => None,
    }
}

/// Seconds between two polls of a check that waits (`PLINTH_VERIFY_POLL`, 10 by default).
fn poll_interval() -> Duration {
    Duration::from_secs(
        std::env::var("PLINTH_VERIFY_POLL")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(10),
    )
}

/// Kubeconfig files by cluster key, in a private directory removed when dropped.
struct Kubeconfigs {
    dir: PathBuf,
    files: BTreeMap<String, PathBuf>,
}

impl Kubeconfigs {
    /// The kubeconfig of cluster `key`; a problem noted when there is none.
    fn of(&self, key: &str, problems: &mut Vec<String>) -> Option<&PathBuf> {
        let file = self.files.get(key);
        if file.is_none() {
            problems.push(format!("{key}: no kubeconfig"));
        }
        file
    }
}

/// The environment the checks run on, as resolved.
fn resolved<'a>(ctx: &Context<'a>) -> Result<&'a crate::Resolved, String> {
    ctx.prepared
        .resolution
        .get(ctx.environment)
        .ok_or_else(|| format!("`{}` is not an environment", ctx.environment))
}

impl Drop for Kubeconfigs {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn kubeconfigs(ctx: &Context<'_>) -> Result<Kubeconfigs, String> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "plinth-verify-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::DirBuilder::new()
        .mode(0o700)
        .recursive(true)
        .create(&dir)
        .map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
    let mut k = Kubeconfigs {
        dir,
        files: BTreeMap::new(),
    };
    let p = &ctx.prepared.platform;
    let tf = ctx.terraform;
    for (root, rdir) in roots(p, &ctx.prepared.out, None) {
        tf.init(&rdir, &ctx.backend_config)
            .and_then(|()| tf.select_workspace(&rdir, ctx.environment))
            .map_err(|e| format!("root `{root}`: {e}"))?;
        let outputs = tf
            .outputs(&rdir)
            .map_err(|e| format!("root `{root}`: {e}"))?;
        let keys: Vec<&String> = match p.settings.state {
            crate::platform::StateLayout::Platform => p.clusters.keys().collect(),
            crate::platform::StateLayout::Cluster => vec![&root],
        };
        for key in keys {
            let Some(text) = outputs[format!("{key}_kubeconfig")]["value"].as_str() else {
                return Err(format!(
                    "root `{root}` has no kubeconfig output for cluster `{key}` in `{}`",
                    ctx.environment
                ));
            };
            let file = k.dir.join(format!("{key}.yaml"));
            let written = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&file)
                .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()));
            written.map_err(|e| format!("cannot write `{}`: {e}", file.display()))?;
            k.files.insert(key.clone(), file);
        }
    }
    Ok(k)
}

/// Runs `checks` on the context's environment, each with its own timeout; a check that cannot
/// run fails (with why).
pub fn run(ctx: &Context<'_>, checks: &[&Check]) -> Vec<CheckResult> {
    let kube = kubeconfigs(ctx);
    let kubectl = crate::engine::kubectl::find().map_err(|e| e.to_string());
    checks
        .iter()
        .map(|check| {
            let started = Instant::now();
            let deadline = started + Duration::from_secs(check.timeout);
            let outcome = if supervise::interrupted().is_some() {
                Err("not run: Plinth was interrupted".to_string())
            } else {
                match (&check.step, &kube) {
                    (_, Err(e)) => Err(format!("no kubeconfig: {e}")),
                    (Step::Command(argv), Ok(k)) => command(ctx, argv, k, check.timeout),
                    (Step::Builtin(b), Ok(k)) => match &kubectl {
                        Err(e) => Err(e.clone()),
                        Ok(bin) => match b {
                            Builtin::NodesReady => nodes_ready(ctx, bin, k, deadline),
                            Builtin::WorkloadsAvailable => workloads(ctx, bin, k, deadline),
                        },
                    },
                }
            };
            let (passed, detail) = match outcome {
                Ok(d) => (true, d),
                Err(d) => (false, d),
            };
            CheckResult {
                name: check.name.clone(),
                passed,
                detail: detail.lines().take(20).collect::<Vec<_>>().join("\n"),
                seconds: started.elapsed().as_secs(),
            }
        })
        .collect()
}

fn remaining(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now())
}

/// Every node Ready, every pool with nodes, polled until `deadline`.
fn nodes_ready(
    ctx: &Context<'_>,
    kubectl: &Path,
    k: &Kubeconfigs,
    deadline: Instant,
) -> Result<String, String> {
    let env = resolved(ctx)?;
    loop {
        let mut problems = Vec::new();
        let mut counted = 0;
        for c in env.clusters.values() {
            let Some(file) = k.of(&c.key, &mut problems) else {
                continue;
            };
            let listed = crate::engine::kubectl::against(
                kubectl,
                file,
                &["get", "nodes", "-o", "json", "--request-timeout=20s"],
                remaining(deadline).max(Duration::from_secs(1)),
            );
            let nodes: serde_json::Value = match listed {
                Ok(text) => serde_json::from_str(&text).unwrap_or_default(),
                Err(e) => {
                    problems.push(format!("{}: {e}", c.key));
                    continue;
                }
            };
            let items = nodes["items"].as_array().cloned().unwrap_or_default();
            counted += items.len();
            if items.is_empty() {
                problems.push(format!("{}: no nodes", c.key));
            }
            for n in &items {
                let ready = n["status"]["conditions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|cond| cond["type"] == "Ready" && cond["status"] == "True");
                if !ready {
                    problems.push(format!(
                        "{}: node `{}` is not Ready",
                        c.key,
                        n["metadata"]["name"].as_str().unwrap_or("?")
                    ));
                }
            }
            if let Some(label) = pool_label(c.provider.id) {
                for pool in c.node_pools.values() {
                    let has = items.iter().any(|n| {
                        n["metadata"]["labels"][label].as_str().is_some_and(|v| {
                            v == pool.name || v.starts_with(&format!("{}-", pool.name))
                        })
                    });
                    if !has {
                        problems.push(format!(
                            "{}: node pool `{}` has no nodes (`{label}={}`)",
                            c.key, pool.key, pool.name
                        ));
                    }
                }
            }
        }
        if problems.is_empty() {
            return Ok(format!(
                "{counted} node(s) Ready in {} cluster(s)",
                env.clusters.len()
            ));
        }
        if Instant::now() + poll_interval() >= deadline || supervise::interrupted().is_some() {
            return Err(problems.join("\n"));
        }
        std::thread::sleep(poll_interval());
    }
}

/// The workloads an overlay renders: (kind, namespace, name).
fn rendered_workloads(manifests: &str) -> Vec<(String, String, String)> {
    let Ok(docs) = yaml_rust2::YamlLoader::load_from_str(manifests) else {
        return Vec::new();
    };
    docs.iter()
        .filter_map(|d| {
            let kind = d["kind"].as_str()?;
            if !matches!(kind, "Deployment" | "DaemonSet" | "StatefulSet") {
                return None;
            }
            Some((
                kind.to_lowercase(),
                d["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or("default")
                    .to_string(),
                d["metadata"]["name"].as_str()?.to_string(),
            ))
        })
        .collect()
}

/// Every workload of every service rolled out by `deadline`.
fn workloads(
    ctx: &Context<'_>,
    kubectl: &Path,
    k: &Kubeconfigs,
    deadline: Instant,
) -> Result<String, String> {
    let env = resolved(ctx)?;
    let mut problems = Vec::new();
    let mut ok = 0;
    for c in env.clusters.values() {
        let Some(file) = k.of(&c.key, &mut problems) else {
            continue;
        };
        for s in c.services.values() {
            let dir = ctx.prepared.out.join(crate::render::kustomize::overlay_dir(
                &c.key,
                ctx.environment,
                &s.key,
            ));
            let helm = matches!(s.source, crate::service::Source::Helm { .. });
            let manifests = match crate::engine::kubectl::kustomize(kubectl, &dir, helm) {
                Ok(m) => m,
                Err(e) => {
                    problems.push(format!(
                        "{}.{}: cannot list its workloads: {e}",
                        c.key, s.key
                    ));
                    continue;
                }
            };
            for (kind, ns, name) in rendered_workloads(&manifests) {
                let left = remaining(deadline).as_secs().max(1);
                let status = crate::engine::kubectl::against(
                    kubectl,
                    file,
                    &[
                        "rollout",
                        "status",
                        &format!("{kind}/{name}"),
                        "-n",
                        &ns,
                        &format!("--timeout={left}s"),
                    ],
                    Duration::from_secs(left + 30),
                );
                match status {
                    Ok(_) => ok += 1,
                    Err(e) => problems.push(format!(
                        "{}.{}: {kind}/{name} in `{ns}` is not available: {}",
                        c.key,
                        s.key,
                        e.to_string().lines().last().unwrap_or_default()
                    )),
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(format!("{ok} workload(s) available"))
    } else {
        Err(problems.join("\n"))
    }
}

/// A user's command, run from the platform directory without a shell.
fn command(
    ctx: &Context<'_>,
    argv: &[String],
    k: &Kubeconfigs,
    timeout: u64,
) -> Result<String, String> {
    let Some(program) = argv.first() else {
        return Err("no program".into());
    };
    let dir = &ctx.prepared.dir;
    // A relative path names a program in the platform (it is in the repository, reviewed).
    let program_path = if program.contains('/') && !Path::new(program).is_absolute() {
        dir.join(program)
    } else {
        PathBuf::from(program)
    };
    let args: Vec<&str> = argv[1..].iter().map(String::as_str).collect();
    let kubeconfig = std::env::join_paths(k.files.values()).unwrap_or_default();
    let env = [
        ("PLINTH_ENVIRONMENT", ctx.environment.into()),
        ("PLINTH_COMMIT", ctx.prepared.commit.clone().into()),
        ("PLINTH_KUBECONFIG_DIR", k.dir.clone().into_os_string()),
        ("KUBECONFIG", kubeconfig),
    ];
    let c = crate::engine::command(&program_path, &args, Some(dir), &env);
    match supervise::run_timeout(c, Duration::from_secs(timeout)) {
        Ok(out) => Ok(last_lines(&out.stdout)),
        Err(crate::engine::EngineError::Failed {
            status,
            stderr,
            stdout,
            ..
        }) => Err(format!(
            "{program} {status}\n{}",
            last_lines(&format!("{stdout}{stderr}"))
        )),
        Err(e) => Err(e.to_string()),
    }
}

fn last_lines(text: &str) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(10)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workloads_are_read_from_rendered_manifests() {
        let m = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\n  namespace: x\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: s\n---\nkind: DaemonSet\nmetadata:\n  name: d\n";
        assert_eq!(
            rendered_workloads(m),
            [
                ("deployment".into(), "x".into(), "a".into()),
                ("daemonset".into(), "default".into(), "d".into())
            ]
        );
    }
}
