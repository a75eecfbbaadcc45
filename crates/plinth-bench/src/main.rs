//! `plinth-bench`: Plinth at platform scale, as JSON on stdout.
//!
//! * `scale [--sizes 10,100,500,2000] [--runs 5]` — each phase (parse, resolve, validate,
//!   Terraform rendering, overlay rendering, writing, `show --output json`) and the end-to-end
//!   `plinth generate` (which validates first) of the release binary, with peak memory.
//! * `terraform [--clusters 500] [--pools 10]` — resolving every environment against Terraform
//!   evaluating Kubestack's merge over the same maps (a provider-free module applied with
//!   terraform), on two workloads in one run: the synthetic platform and the fleet.
//! * `affected [--clusters 1000] [--commits 100]` — `plinth affected` on a synthetic history.
//! * `synth <dir> [--clusters 500]` — writes the synthetic platform, for timing by hand.
//! * `fleet <dir> [--clusters 500] [--pools 10]` — writes a fleet: one `plinth.toml` with every
//!   cluster inline, all EKS, shallow inheritance, no services.
//! * `process <dir> [--runs 21] [--against <other plinth>] [-- <args>]` — whole `plinth`
//!   processes as a user runs them (default `show --output json`), in `dir`: median, quartiles
//!   and fastest wall time, median CPU and peak memory; with `--against`, another build's runs
//!   interleaved with these, so both see the same machine.
//! * `phase <name> <dir>` — one phase in this process, printing its peak memory (internal).

use plinth_bench::{Spec, files, write};

/// Plinth allocates many small values (tables, strings) on both cores: mimalloc is markedly
/// faster at that than the system allocator (measured with `plinth-bench scale`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str, default: &str| -> String {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
            .unwrap_or_else(|| default.to_string())
    };
    let result = match args.first().map(String::as_str) {
        Some("scale") => scale(
            &flag("--sizes", "10,100,500,2000"),
            flag("--runs", "5").parse().unwrap_or(5),
        ),
        Some("terraform") => terraform_ratio(
            flag("--clusters", "500").parse().unwrap_or(500),
            flag("--pools", "10").parse().unwrap_or(10),
            flag("--runs", "3").parse().unwrap_or(3),
        ),
        Some("affected") => affected(
            flag("--clusters", "1000").parse().unwrap_or(1000),
            flag("--commits", "100").parse().unwrap_or(100),
        ),
        Some("process") => process(
            Path::new(args.get(1).map_or(".", String::as_str)),
            flag("--runs", "21").parse().unwrap_or(21),
            args.iter()
                .position(|a| a == "--against")
                .and_then(|i| args.get(i + 1))
                .map(PathBuf::from),
            args.iter().position(|a| a == "--").map_or_else(
                || vec!["show".to_string(), "--output".into(), "json".into()],
                |i| args[i + 1..].to_vec(),
            ),
        ),
        Some("phase") => phase(
            args.get(1).map_or("", String::as_str),
            Path::new(args.get(2).map_or(".", String::as_str)),
        ),
        Some("synth") => synth(
            Path::new(args.get(1).map_or("synthetic", String::as_str)),
            flag("--clusters", "500").parse().unwrap_or(500),
        ),
        Some("fleet") => fleet(
            Path::new(args.get(1).map_or("fleet", String::as_str)),
            flag("--clusters", "500").parse().unwrap_or(500),
            flag("--pools", "10").parse().unwrap_or(10),
        ),
        _ => {
            Err("usage: plinth-bench scale|terraform|affected|synth|fleet|process [options]".into())
        }
    };
    match result {
        Ok(v) => println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default()),
        Err(e) => {
            eprintln!("plinth-bench: {e}");
            std::process::exit(1);
        }
    }
}

type Res = Result<serde_json::Value, String>;

/// Scratch space: `PLINTH_BENCH_DIR` (e.g. a tmpfs, to measure without the disk) or the
/// system's temporary directory.
fn scratch(name: &str) -> PathBuf {
    let root = std::env::var_os("PLINTH_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    let d = root.join(format!("plinth-bench-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Median of `runs` timings of `f`, in milliseconds.
fn median_ms(runs: usize, f: impl FnMut()) -> f64 {
    median_ms_after(runs, || {}, f)
}

/// The median of `f`'s times, each run after an untimed `setup` (e.g. removing the output a
/// fresh run must not find).
fn median_ms_after(runs: usize, mut setup: impl FnMut(), mut f: impl FnMut()) -> f64 {
    let mut v: Vec<f64> = (0..runs.max(1))
        .map(|_| {
            setup();
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2] * 100.0).round() / 100.0
}

/// Peak resident memory of this process, in MiB (Linux `VmHWM`).
fn peak_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| (kb / 1024.0 * 10.0).round() / 10.0)
}

/// One whole process, as a user runs it: wall time (ms), CPU time (ms, user and system, at the
/// kernel's 10 ms resolution) and peak resident memory (MiB), which GNU `time` reads from
/// `wait4`.
fn process_once(
    program: &Path,
    args: &[&std::ffi::OsStr],
    dir: Option<&Path>,
) -> Result<(f64, f64, f64), String> {
    let mut cmd = Command::new("/usr/bin/time");
    cmd.args(["-f", "%M %U %S"])
        .arg(program)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    if let Some(dir) = dir {
        cmd.current_dir(dir);
    }
    let t = Instant::now();
    let out = cmd.output().map_err(|e| format!("/usr/bin/time: {e}"))?;
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    if !out.status.success() {
        return Err(format!(
            "{} failed: {}",
            program.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let last = String::from_utf8_lossy(&out.stderr)
        .lines()
        .last()
        .unwrap_or_default()
        .to_string();
    let n: Vec<f64> = last
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    let (kib, user, sys) = match n[..] {
        [k, u, s] => (k, u, s),
        _ => return Err(format!("unexpected output of /usr/bin/time: {last}")),
    };
    Ok((ms, (user + sys) * 1000.0, kib / 1024.0))
}

/// Median wall time (ms) and the peak resident memory (MiB) of the median run of a whole
/// process.
fn process_median(
    runs: usize,
    program: &Path,
    args: &[&std::ffi::OsStr],
) -> Result<(f64, f64), String> {
    let mut v: Vec<(f64, f64)> = Vec::new();
    for _ in 0..runs.max(1) {
        let (ms, _, mib) = process_once(program, args, None)?;
        v.push((ms, mib));
    }
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (ms, mib) = v[v.len() / 2];
    Ok((round1(ms), round1(mib)))
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// `plinth <args>` in `dir`, `runs` times; with `against`, that build's runs interleaved.
fn process(dir: &Path, runs: usize, against: Option<PathBuf>, args: Vec<String>) -> Res {
    let mut programs = vec![plinth_bin()?];
    programs.extend(against);
    let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
    let mut samples: Vec<Vec<(f64, f64, f64)>> = vec![Vec::new(); programs.len()];
    for _ in 0..runs.max(1) {
        for (p, s) in programs.iter().zip(&mut samples) {
            s.push(process_once(p, &args, Some(dir))?);
        }
    }
    let at = |v: &[f64], q: usize| v[(v.len() - 1) * q / 4];
    let rows: Vec<serde_json::Value> = programs
        .iter()
        .zip(samples)
        .map(|(p, s)| {
            let sorted = |f: fn(&(f64, f64, f64)) -> f64| {
                let mut v: Vec<f64> = s.iter().map(f).collect();
                v.sort_by(f64::total_cmp);
                v
            };
            let (wall, cpu, peak) = (sorted(|x| x.0), sorted(|x| x.1), sorted(|x| x.2));
            serde_json::json!({
                "program": p.display().to_string(),
                "wall_ms": {"median": round1(at(&wall, 2)), "p25": round1(at(&wall, 1)),
                            "p75": round1(at(&wall, 3)), "min": round1(wall[0])},
                "cpu_ms_median": round1(at(&cpu, 2)),
                "peak_mib_median": round1(at(&peak, 2)),
            })
        })
        .collect();
    Ok(serde_json::json!({
        "dir": dir.display().to_string(),
        "args": args.iter().map(|a| a.to_string_lossy()).collect::<Vec<_>>(),
        "runs": runs.max(1),
        "cores": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "results": rows,
    }))
}

/// The release `plinth` beside this binary.
fn plinth_bin() -> Result<PathBuf, String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let p = me.with_file_name("plinth");
    if p.exists() {
        Ok(p)
    } else {
        Err(format!(
            "build the CLI first: `cargo build --release -p plinth` ({} missing)",
            p.display()
        ))
    }
}

fn scale(sizes: &str, runs: usize) -> Res {
    let mut rows = Vec::new();
    for size in sizes
        .split(',')
        .filter_map(|s| s.trim().parse::<usize>().ok())
    {
        let spec = Spec {
            clusters: size,
            ..Spec::TARGET
        };
        let dir = scratch(&format!("scale-{size}"));
        let bytes = write(&dir, &spec).map_err(|e| e.to_string())?;
        let out = dir.join("generated");
        let loaded = plinth_core::load::load(&dir);
        let platform = loaded.platform.ok_or("synthetic platform did not load")?;
        let resolution = platform.resolve();
        let tree = plinth_core::generate::render_all(&platform, &resolution, &out)
            .map_err(|e| e.to_string())?;
        let files = tree.len();
        let parse = median_ms(runs, || drop(plinth_core::load::load(&dir)));
        let resolve = median_ms(runs, || drop(platform.resolve()));
        let validate = median_ms(runs, || drop(plinth_core::check(&dir)));
        let terraform = median_ms(runs, || {
            let mut t = plinth_core::render::Tree::default();
            let _ = plinth_core::render::terraform::render(&platform, &resolution, &mut t);
        });
        let overlays = median_ms(runs, || {
            let mut t = plinth_core::render::Tree::default();
            let _ = plinth_core::render::kustomize::render(&platform, &resolution, &out, &mut t);
        });
        // What `show --output json` does: every environment, pretty, streamed to its output.
        let show_json = median_ms(runs, || {
            let docs: Vec<_> = resolution
                .environments
                .iter()
                .map(plinth_core::ShowJson)
                .collect();
            let mut sink = std::io::BufWriter::new(std::io::sink());
            let _ = serde_json::to_writer_pretty(&mut sink, &docs);
        });
        // Writing: a fresh tree, then an unchanged rewrite (which must write nothing).
        let remove_output = || {
            let _ = std::fs::remove_dir_all(&out);
        };
        let fresh = median_ms_after(runs.min(3), remove_output, || {
            let _ = plinth_core::generate::write(&out, &tree, false);
        });
        let unchanged = median_ms(runs, || {
            let _ = plinth_core::generate::write(&out, &tree, false);
        });
        // End to end with the release binary: `plinth generate` validates the whole definition
        // (refusing to write anything otherwise), then renders and writes. Fresh (no output
        // yet), then again over its own output (what a CI check or a small edit costs).
        let bin = plinth_bin()?;
        let generate = || {
            let ok = Command::new(&bin)
                .arg("generate")
                .arg(&dir)
                .arg("-q")
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "plinth generate failed on the synthetic platform");
        };
        let e2e = median_ms_after(runs, remove_output, generate);
        let e2e_unchanged = median_ms(runs, generate);
        let _ = std::fs::remove_dir_all(&out);
        let memory = phase_memory("validate+generate", &dir)?;
        rows.push(serde_json::json!({
            "clusters": size,
            "environments": spec.environments,
            "node_pools_per_cluster": spec.pools,
            "services_per_cluster": spec.services,
            "definition_bytes": bytes,
            "generated_files": files,
            "median_ms": {
                "parse": parse, "resolve": resolve, "validate": validate,
                "render_terraform": terraform, "render_overlays": overlays, "show_json": show_json,
                "write_fresh": fresh, "write_unchanged": unchanged,
                "end_to_end_generate_fresh": e2e,
                "end_to_end_generate_unchanged": e2e_unchanged,
            },
            "peak_mib_validate_and_generate": memory,
        }));
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(
        serde_json::json!({"runs": runs, "cores": std::thread::available_parallelism().map_or(1, |n| n.get()), "sizes": rows}),
    )
}

/// Writes the synthetic platform of `clusters` clusters to `dir`, to time or profile `plinth`
/// on it by hand.
fn synth(dir: &Path, clusters: usize) -> Res {
    let spec = Spec {
        clusters,
        ..Spec::TARGET
    };
    let bytes = write(dir, &spec).map_err(|e| e.to_string())?;
    Ok(serde_json::json!({"dir": dir, "clusters": clusters, "definition_bytes": bytes}))
}

/// Writes a fleet (one `plinth.toml`, every cluster inline, all EKS, shallow inheritance) to
/// `dir`, to time or profile `plinth` on it by hand.
fn fleet(dir: &Path, clusters: usize, pools: usize) -> Res {
    let text = plinth_bench::fleet(clusters, pools, 1);
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("plinth.toml"), &text).map_err(|e| e.to_string())?;
    Ok(
        serde_json::json!({"dir": dir, "clusters": clusters, "node_pools_per_cluster": pools, "definition_bytes": text.len()}),
    )
}

/// Runs one phase in a child process and reads back its peak memory.
fn phase_memory(phase: &str, dir: &Path) -> Result<f64, String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = Command::new(me)
        .args(["phase", phase])
        .arg(dir)
        .output()
        .map_err(|e| e.to_string())?;
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("phase output: {e}"))?;
    Ok(v["peak_mib"].as_f64().unwrap_or(0.0))
}

fn phase(name: &str, dir: &Path) -> Res {
    let t = Instant::now();
    match name {
        "validate+generate" => {
            let c = plinth_core::check(dir);
            let (Some(p), Some(r)) = (c.platform, c.resolution) else {
                return Err("invalid platform".into());
            };
            let out = dir.join("generated");
            let tree =
                plinth_core::generate::render_all(&p, &r, &out).map_err(|e| e.to_string())?;
            plinth_core::generate::write(&out, &tree, false).map_err(|e| e.to_string())?;
        }
        "resolve" => {
            let p = plinth_core::load::load(dir).platform.ok_or("invalid")?;
            drop(p.resolve());
        }
        other => return Err(format!("unknown phase `{other}`")),
    }
    Ok(
        serde_json::json!({"phase": name, "ms": t.elapsed().as_secs_f64() * 1000.0, "peak_mib": peak_mib()}),
    )
}

/// A workload for the Terraform ratio: a platform on disk and the same maps for Kubestack.
struct Workload {
    name: &'static str,
    dir: PathBuf,
    envs: Vec<String>,
    base: String,
    /// Each cluster's key and table (`config.<env>`, `node_pools.<pool>.config.<env>`).
    clusters: Vec<(String, toml::Value)>,
    node_pools_per_cluster: usize,
}

/// The bench's synthetic platform (a file per cluster, services left out: Kubestack's merge
/// has no catalog equivalent to time).
fn synthetic_workload(clusters: usize) -> Result<Workload, String> {
    let spec = Spec {
        clusters,
        services: 0,
        ..Spec::TARGET
    };
    let dir = scratch("terraform-synthetic");
    write(&dir, &spec).map_err(|e| e.to_string())?;
    let envs = plinth_bench::environments(spec.environments);
    let tables = files(&spec)
        .into_iter()
        .skip(1)
        .map(|(path, text)| {
            let key = path
                .trim_start_matches("clusters/")
                .trim_end_matches(".toml");
            let doc: toml::Value = toml::from_str(&text).map_err(|e| e.to_string())?;
            Ok((key.to_string(), doc))
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Workload {
        name: "synthetic",
        dir,
        base: envs.last().cloned().unwrap_or_default(),
        envs,
        clusters: tables,
        node_pools_per_cluster: spec.pools,
    })
}

/// Issue 20's fleet: one `plinth.toml`, every cluster inline, shallow inheritance (its
/// environments override scalars and lists only, so Kubestack's one-level merge agrees).
fn fleet_workload(clusters: usize, pools: usize) -> Result<Workload, String> {
    let dir = scratch("terraform-fleet");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let text = plinth_bench::fleet(clusters, pools, 1);
    std::fs::write(dir.join("plinth.toml"), &text).map_err(|e| e.to_string())?;
    let doc: toml::Table = toml::from_str(&text).map_err(|e| e.to_string())?;
    let strings = |v: Option<&toml::Value>| -> Vec<String> {
        v.and_then(toml::Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|e| e.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let platform = doc.get("platform");
    let envs = strings(platform.and_then(|p| p.get("environments")));
    let base = platform
        .and_then(|p| p.get("base_environment"))
        .and_then(toml::Value::as_str)
        .ok_or("the fleet names no base environment")?
        .to_string();
    let tables = doc
        .get("clusters")
        .and_then(toml::Value::as_table)
        .ok_or("the fleet has no clusters")?
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok(Workload {
        name: "fleet",
        dir,
        envs,
        base,
        clusters: tables,
        node_pools_per_cluster: pools,
    })
}

/// Kubestack's merge (current, one-level nested) and naming, as Terraform locals over the same
/// maps as the workload's platform, applied with a provider-free `terraform apply`.
fn kubestack_module(w: &Workload) -> String {
    let (envs, base) = (&w.envs, &w.base);
    // The definition's tables, as HCL maps: configuration[cluster][env] and pools likewise.
    let empty = toml::Value::Table(Default::default());
    let mut clusters = String::new();
    for (key, doc) in &w.clusters {
        clusters.push_str(&format!(
            "    {key} = {{\n      config = {}\n      pools = {}\n    }}\n",
            hcl(doc.get("config").unwrap_or(&empty)),
            hcl(doc.get("node_pools").unwrap_or(&empty))
        ));
    }
    format!(
        r#"locals {{
  base = "{base}"
  envs = [{envs}]
  platform = {{
{clusters}  }}

  # Kubestack's current rule: one level of table merge; null and "" inherit; lists replace.
  merged = {{
    for env in local.envs : env => {{
      for ck, c in local.platform : ck => {{
        config = {{
          for k in setunion(keys(c.config[local.base]), keys(lookup(c.config, env, {{}}))) : k => (
            can(keys(lookup(lookup(c.config, env, {{}}), k, null))) && can(keys(lookup(c.config[local.base], k, null)))
            ? merge(lookup(c.config[local.base], k, {{}}), {{ for n, v in lookup(lookup(c.config, env, {{}}), k, {{}}) : n => v if v != null && v != "" }})
            : coalesce(lookup(lookup(c.config, env, {{}}), k, null), lookup(c.config[local.base], k, null))
          )
        }}
        name = join("-", compact([lookup(c.config[local.base], "name_prefix", ""), env, lookup(c.config[local.base], "region", "")]))
        pools = {{
          for pk, p in c.pools : pk => {{
            for k in setunion(keys(p.config[local.base]), keys(lookup(p.config, env, {{}}))) : k => (
              can(keys(lookup(lookup(p.config, env, {{}}), k, null))) && can(keys(lookup(p.config[local.base], k, null)))
              ? merge(lookup(p.config[local.base], k, {{}}), {{ for n, v in lookup(lookup(p.config, env, {{}}), k, {{}}) : n => v if v != null && v != "" }})
              : coalesce(lookup(lookup(p.config, env, {{}}), k, null), lookup(p.config[local.base], k, null))
            )
          }}
        }}
      }}
    }}
  }}
}}

output "resolved" {{
  value = local.merged
}}
"#,
        envs = envs
            .iter()
            .map(|e| format!("\"{e}\""))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn hcl(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => format!("{s:?}"),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Array(a) => format!("[{}]", a.iter().map(hcl).collect::<Vec<_>>().join(", ")),
        toml::Value::Table(t) => format!(
            "{{ {} }}",
            t.iter()
                .map(|(k, v)| format!("{k:?} = {}", hcl(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        toml::Value::Datetime(d) => format!("{:?}", d.to_string()),
    }
}

/// Both workloads in one run: the bench's synthetic platform and issue 20's fleet.
fn terraform_ratio(clusters: usize, pools: usize, runs: usize) -> Res {
    let synthetic = terraform_ratio_of(&synthetic_workload(clusters)?, runs)?;
    let fleet = terraform_ratio_of(&fleet_workload(clusters, pools)?, runs)?;
    Ok(serde_json::json!({ "synthetic": synthetic, "fleet": fleet }))
}

fn terraform_ratio_of(w: &Workload, runs: usize) -> Res {
    let dir = &w.dir;
    // Outside the platform directory: Plinth reads none of it.
    let tf_dir = dir.with_extension("kubestack");
    std::fs::create_dir_all(&tf_dir).map_err(|e| e.to_string())?;
    std::fs::write(tf_dir.join("main.tf"), kubestack_module(w)).map_err(|e| e.to_string())?;
    let rc = tf_dir.join("terraformrc");
    std::fs::write(&rc, "disable_checkpoint = true\n").map_err(|e| e.to_string())?;
    let terraform = |args: &[&str]| -> Result<(), String> {
        let out = Command::new("terraform")
            .args(args)
            .current_dir(&tf_dir)
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env("TF_CLI_CONFIG_FILE", &rc)
            .output()
            .map_err(|e| format!("terraform: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    };
    terraform(&["init", "-input=false"])?;
    let mut tf_times = Vec::new();
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        terraform(&["apply", "-auto-approve", "-input=false"])?;
        tf_times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    tf_times.sort_by(f64::total_cmp);
    let tf_ms = tf_times[tf_times.len() / 2];
    // Whole processes, as a user runs them: `plinth show --output json` of every environment
    // (validation included) against the same `terraform apply`.
    let plinth = plinth_bin()?;
    let (show_ms, show_mib) = process_median(
        runs.max(5),
        &plinth,
        &[
            "show".as_ref(),
            dir.as_os_str(),
            "--output".as_ref(),
            "json".as_ref(),
        ],
    )?;
    // Plinth: read the definition and resolve every environment.
    let plinth_ms = median_ms(runs.max(5), || {
        let p = plinth_core::load::load(dir).platform;
        if let Some(p) = p {
            drop(p.resolve());
        }
    });
    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::remove_dir_all(&tf_dir);
    Ok(serde_json::json!({
        "workload": w.name,
        "clusters": w.clusters.len(), "node_pools_per_cluster": w.node_pools_per_cluster,
        "environments": w.envs.len(),
        "terraform_apply_ms": (tf_ms * 10.0).round() / 10.0,
        "plinth_load_and_resolve_ms": plinth_ms,
        "ratio": (tf_ms / plinth_ms * 10.0).round() / 10.0,
        "plinth_show_json_process_ms": show_ms,
        "plinth_show_json_peak_mib": show_mib,
        "ratio_whole_process": (tf_ms / show_ms * 10.0).round() / 10.0,
    }))
}

fn affected(clusters: usize, commits: usize) -> Res {
    let spec = Spec {
        clusters,
        ..Spec::TARGET
    };
    let dir = scratch("affected");
    write(&dir, &spec).map_err(|e| e.to_string())?;
    let git = |args: &[&str]| -> Result<String, String> {
        let out = Command::new("git")
            .args(args)
            .current_dir(&dir)
            .env("GIT_AUTHOR_NAME", "bench")
            .env("GIT_AUTHOR_EMAIL", "bench@example.com")
            .env("GIT_COMMITTER_NAME", "bench")
            .env("GIT_COMMITTER_EMAIL", "bench@example.com")
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    };
    git(&["init", "-q"])?;
    git(&["add", "-A"])?;
    git(&["commit", "-q", "-m", "platform"])?;
    // A history of small changes: each commit edits one cluster's file.
    for i in 0..commits {
        let key = format!(
            "clusters/{}_{:04}.toml",
            ["eks", "gke", "aks"][(i * 7 % clusters) % 3],
            i * 7 % clusters
        );
        let p = dir.join(&key);
        let text = std::fs::read_to_string(&p).map_err(|e| e.to_string())?;
        std::fs::write(
            &p,
            text.replacen(
                "replicas = { controller = 3 }",
                &format!("replicas = {{ controller = {} }}", 4 + i % 3),
                1,
            ),
        )
        .map_err(|e| e.to_string())?;
        git(&["commit", "-q", "-am", &format!("change {i}")])?;
    }
    let bin = plinth_bin()?;
    let run = |base: &str| -> f64 {
        median_ms(11, || {
            let ok = Command::new(&bin)
                .args([
                    "affected", "--base", base, "--head", "HEAD", "--output", "json",
                ])
                .arg(&dir)
                .output()
                .is_ok_and(|o| o.status.success());
            assert!(ok, "plinth affected failed");
        })
    };
    let last = run("HEAD~1");
    let all = run(&format!("HEAD~{commits}"));
    // PLINTH_BENCH_KEEP keeps the repository, e.g. to profile `plinth affected` on it.
    if std::env::var_os("PLINTH_BENCH_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        eprintln!("kept {}", dir.display());
    }
    Ok(
        serde_json::json!({"clusters": clusters, "commits": commits, "median_ms": {"last_commit": last, "whole_history": all}}),
    )
}
