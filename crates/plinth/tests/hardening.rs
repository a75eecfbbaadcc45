//! Hardening, through the CLI: pathological inputs (huge files, thousands of clusters, deep
//! nesting, long keys, bad bytes, symlink loops, duplicates, directories where files belong),
//! hostile strings in every string field (a located error, or output that carries them only as
//! data), and crash safety of `generate` under SIGKILL (the old tree or the new one, never a
//! mix; hand edits never lost).
//!
//! Every run must end with 0 or 1 (101 is a panic), within a bound far above its real time;
//! every error is located; a refused command writes nothing.

mod common;

use common::{TestEnv, engines};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Far beyond any command here: reaching it means a hang.
const HANG: Duration = Duration::from_secs(180);

// ---------------------------------------------------------------------------------------------
// Running plinth and checking what it says and writes.

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    secs: f64,
}

fn short(s: &str) -> String {
    if s.len() > 4000 {
        let mut cut = 4000;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}… ({} bytes)", &s[..cut], s.len())
    } else {
        s.to_string()
    }
}

/// Runs plinth; it must exit 0 or 1, within [`HANG`].
fn plinth(env: &TestEnv, args: &[&str]) -> Run {
    let started = Instant::now();
    let out = env
        .cmd()
        .args(args)
        .timeout(HANG)
        .output()
        .expect("run plinth");
    let secs = started.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let Some(code) = out.status.code() else {
        panic!(
            "plinth {args:?} was killed after {secs:.1} s: a hang (bound {HANG:?}) or a crash\n{}",
            short(&stderr)
        );
    };
    assert_ne!(code, 101, "plinth {args:?} panicked:\n{}", short(&stderr));
    assert!(
        code == 0 || code == 1,
        "plinth {args:?} exited {code}:\n{}",
        short(&stderr)
    );
    Run {
        code,
        stdout,
        stderr,
        secs,
    }
}

/// `validate --output json`: the diagnostics, every error located (a file, and a line unless
/// the error is about the file as a whole).
fn validate(env: &TestEnv, dir: &Path) -> (Run, serde_json::Value) {
    let run = plinth(
        env,
        &["validate", &dir.display().to_string(), "--output", "json"],
    );
    let json: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("validate printed no JSON ({e}):\n{}", short(&run.stdout)));
    assert_eq!(
        json["valid"].as_bool(),
        Some(run.code == 0),
        "exit code and verdict disagree"
    );
    for d in json["diagnostics"].as_array().expect("diagnostics") {
        if d["severity"] == "error" {
            let file = d["file"].as_str().unwrap_or_default();
            assert!(
                !file.is_empty(),
                "an error without a location: {}",
                short(&d.to_string())
            );
        }
    }
    if run.code == 1 {
        assert!(
            json["errors"].as_u64().unwrap_or(0) > 0,
            "exit 1 without an error"
        );
    }
    (run, json)
}

/// Error codes and their files, for assertions.
fn errors(json: &serde_json::Value) -> Vec<(String, String)> {
    json["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["severity"] == "error")
        .map(|d| {
            (
                d["code"].as_str().unwrap_or_default().to_string(),
                d["file"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// What a directory holds, without following symlinks: path → kind and content.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            let rel = p.strip_prefix(root).expect("prefix").to_path_buf();
            let Ok(meta) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&p).unwrap_or_default();
                out.insert(rel, format!("link {}", target.display()));
            } else if meta.is_dir() {
                out.insert(rel, "dir".into());
                walk(root, &p, out);
            } else {
                use std::hash::{Hash, Hasher};
                let mut h = std::collections::hash_map::DefaultHasher::new();
                std::fs::read(&p).unwrap_or_default().hash(&mut h);
                out.insert(rel, format!("file {} {:x}", meta.len(), h.finish()));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// `validate` and `generate` on an invalid platform: exit 1, located errors, nothing written.
fn refused(env: &TestEnv, dir: &Path) -> serde_json::Value {
    let before = snapshot(env.path());
    let (run, json) = validate(env, dir);
    assert_eq!(
        run.code,
        1,
        "expected the platform to be refused:\n{}",
        short(&run.stdout)
    );
    let made = plinth(env, &["generate", &dir.display().to_string()]);
    assert_eq!(
        made.code,
        1,
        "generate accepted it:\n{}",
        short(&made.stderr)
    );
    assert_eq!(
        before,
        snapshot(env.path()),
        "a refused command wrote files"
    );
    json
}

/// Refused with exactly one error, of `code`, in `file`; the JSON for further checks.
fn refused_with(env: &TestEnv, dir: &Path, code: &str, file: &str) -> serde_json::Value {
    let json = refused(env, dir);
    assert_eq!(errors(&json), [(code.to_string(), file.to_string())]);
    json
}

fn init(env: &TestEnv, name: &str, example: &str) -> PathBuf {
    env.run_ok(&["init", name, "--example", example]);
    env.join(name)
}

/// An EKS cluster with a unique name, as a cluster file's text (`prefix` = `[clusters.k]` to
/// write it into `plinth.toml`).
fn eks_cluster(key: &str, prefix: &str) -> String {
    let dot = if prefix.is_empty() { "" } else { "." };
    format!(
        "{table}provider = \"eks\"\n\n[{prefix}{dot}config.apps]\nregion = \"eu-west-1\"\nname_prefix = \"{key}\"\ncluster_availability_zones = [\"eu-west-1a\", \"eu-west-1b\"]\n\n[{prefix}{dot}node_pools.default.config.apps]\ninstance_types = [\"t3a.small\"]\nmax_size = 3\n",
        table = if prefix.is_empty() {
            String::new()
        } else {
            format!("\n[{prefix}]\n")
        },
        key = key.replace('_', "-"),
    )
}

// ---------------------------------------------------------------------------------------------
// Pathological inputs.

#[test]
fn a_ten_megabyte_definition() {
    let env = TestEnv::new();
    let dir = init(&env, "big", "minimal");
    std::fs::remove_file(dir.join("clusters/eks_zero.toml")).expect("rm");
    let mut text = std::fs::read_to_string(dir.join("plinth.toml")).expect("read");
    let mut n = 0;
    while text.len() < 10 << 20 {
        let key = format!("c{n:05}");
        text.push_str(&eks_cluster(&key, &format!("clusters.{key}")));
        n += 1;
    }
    std::fs::write(dir.join("plinth.toml"), &text).expect("write");
    let (run, json) = validate(&env, &dir);
    eprintln!(
        "a {:.1} MB plinth.toml with {n} clusters: validate exited {} in {:.1} s",
        text.len() as f64 / (1 << 20) as f64,
        run.code,
        run.secs
    );
    assert_eq!(run.code, 0, "{}", short(&json.to_string()));
    // Past the limit the file is refused before parsing, with its path.
    let cap = usize::try_from(plinth_core::load::MAX_FILE_BYTES).expect("fits") + 1;
    let mut huge = text.into_bytes();
    huge.resize(cap, b'#');
    std::fs::write(dir.join("plinth.toml"), &huge).expect("write");
    refused_with(&env, &dir, "file-too-large", "plinth.toml");
}

/// `plinth -v <args>`'s peak resident memory in KiB (its last line on stderr), on two worker
/// threads whatever the machine's cores (each thread's allocator heap holds memory of its own).
fn peak_kib(env: &TestEnv, args: &[&str]) -> u64 {
    let out = env
        .cmd()
        .env("RAYON_NUM_THREADS", "2")
        .arg("-v")
        .args(args)
        .timeout(HANG)
        .output()
        .expect("run plinth");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "plinth {args:?}:\n{}", short(&stderr));
    stderr
        .lines()
        .find_map(|l| {
            l.strip_prefix("peak memory: ")?
                .strip_suffix(" KiB")?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no peak memory in:\n{}", short(&stderr)))
}

/// Issue 20: `show --output json` of `plinth-bench fleet` (500 EKS clusters x 10 pools in one
/// 1.5 MB `plinth.toml`) peaked at 42 MiB: reading left the values in the parser's larger
/// buffers (the allocator keeps a block shrunk by less than half), and every environment held
/// a whole copy of each table it overrode a value of. What the platform adds to the peak,
/// measured against a one-cluster platform (the binary's own pages), in a debug build: 33 MiB
/// then, 19 MiB since, 23 MiB with whole copies again; the budget leaves room for noise only.
#[test]
fn regression_20_show_json_of_the_fleet_stays_within_its_memory_budget() {
    const BUDGET_MIB: u64 = 22;
    let env = TestEnv::new();
    let small = init(&env, "small", "minimal");
    let fleet = env.join("fleet");
    std::fs::create_dir_all(&fleet).expect("mkdir");
    std::fs::write(fleet.join("plinth.toml"), plinth_bench::fleet(500, 10, 1)).expect("write");
    let show = |dir: &Path| {
        peak_kib(
            &env,
            &["show", &dir.display().to_string(), "--output", "json"],
        )
    };
    let (base, peak) = (show(&small), show(&fleet));
    let added = peak.saturating_sub(base) / 1024;
    eprintln!("show --output json: {base} KiB for one cluster, {peak} KiB for the fleet");
    assert!(
        added <= BUDGET_MIB,
        "the fleet adds {added} MiB to show's peak ({base} KiB -> {peak} KiB); the budget is {BUDGET_MIB} MiB"
    );
}

#[test]
fn ten_thousand_cluster_files() {
    let env = TestEnv::new();
    let dir = init(&env, "many", "minimal");
    std::fs::remove_file(dir.join("clusters/eks_zero.toml")).expect("rm");
    for n in 0..10_000 {
        let key = format!("c{n:05}");
        std::fs::write(
            dir.join(format!("clusters/{key}.toml")),
            eks_cluster(&key, ""),
        )
        .expect("write");
    }
    let (run, json) = validate(&env, &dir);
    eprintln!(
        "10,000 cluster files: validate exited {} in {:.1} s",
        run.code, run.secs
    );
    assert_eq!(run.code, 0, "{}", short(&json.to_string()));
    // One bad file among them is found and located.
    std::fs::write(
        dir.join("clusters/c04242.toml"),
        "provider = \"eks\"\n[config.apps\n",
    )
    .expect("write");
    refused_with(&env, &dir, "toml-syntax", "clusters/c04242.toml");
}

#[test]
fn deeply_nested_tables_and_arrays() {
    let env = TestEnv::new();
    let dir = init(&env, "deep", "minimal");
    let root = std::fs::read_to_string(dir.join("plinth.toml")).expect("read");
    let cluster = std::fs::read_to_string(dir.join("clusters/eks_zero.toml")).expect("read");
    let n = 100_000;
    let cases = [
        (
            "arrays",
            format!("x = {}{}\n", "[".repeat(n), "]".repeat(n)),
        ),
        (
            "inline tables",
            format!("x = {}1{}\n", "{ a = ".repeat(n), " }".repeat(n)),
        ),
        ("dotted keys", format!("{} = 1\n", vec!["a"; n].join("."))),
        (
            "table headers",
            format!("[{}]\nb = 1\n", vec!["a"; n].join(".")),
        ),
        (
            "arrays of tables",
            format!("[[{}]]\nb = 1\n", vec!["a"; n].join(".")),
        ),
    ];
    for (what, snippet) in &cases {
        for file in ["plinth.toml", "clusters/eks_zero.toml"] {
            let base = if file == "plinth.toml" {
                &root
            } else {
                &cluster
            };
            // At the top of the file: a nested value anywhere else is only a longer path.
            std::fs::write(dir.join(file), format!("{snippet}{base}")).expect("write");
            let started = Instant::now();
            let json = refused(&env, &dir);
            eprintln!(
                "{what} {n} deep in {file}: refused in {:.1} s with {:?}",
                started.elapsed().as_secs_f64(),
                errors(&json)
            );
            assert!(
                errors(&json).iter().any(|(_, f)| f == file),
                "{what} in {file}: {}",
                short(&json.to_string())
            );
            std::fs::write(dir.join(file), base).expect("restore");
        }
    }
    // As deep as the TOML parser goes (it stops, with a located error as above, at about 85
    // levels), Helm values are valid: generated, and they parse back whole.
    let depth = 60;
    let values = format!(
        "{}\"deep\"{}",
        "{ a = [".repeat(depth / 2),
        "] }".repeat(depth / 2)
    );
    std::fs::write(
        dir.join("clusters/eks_zero.toml"),
        format!(
            "{cluster}\n[services.chart]\nkind = \"operator\"\nsource = {{ repo = \"https://charts.example.com\", chart = \"x\", version = \"1.2.3\" }}\n\n[services.chart.config.apps]\nnamespace = \"chart\"\nhelm_values = {values}\n"
        ),
    )
    .expect("write");
    let (run, json) = validate(&env, &dir);
    assert_eq!(run.code, 0, "{}", short(&json.to_string()));
    assert_eq!(plinth(&env, &["generate", "deep"]).code, 0);
    let text = env.read("deep/generated/services/eks_zero/apps/chart/kustomization.yaml");
    let docs = yaml_rust2::YamlLoader::load_from_str(&text).expect("deep values parse back");
    let mut v = &docs[0]["helmCharts"][0]["valuesInline"];
    for _ in 0..depth / 2 {
        v = &v["a"][0];
    }
    assert_eq!(v.as_str(), Some("deep"), "{}", short(&text));
}

#[test]
fn very_long_keys_and_values() {
    let env = TestEnv::new();
    let dir = init(&env, "long", "minimal");
    let root = std::fs::read_to_string(dir.join("plinth.toml")).expect("read");
    let mb = 1 << 20;
    let long_key = "k".repeat(mb);
    let long_value: String = "v\"\\${x}\n\u{2028}".repeat(mb / 8);

    // An unknown 1 MB key: refused, pointing at it.
    std::fs::write(
        dir.join("plinth.toml"),
        root.replace("[platform]\n", &format!("[platform]\n{long_key} = 1\n")),
    )
    .expect("write");
    refused_with(&env, &dir, "unknown-key", "plinth.toml");
    // A 1 MB cluster key: an invalid name, located.
    std::fs::write(dir.join("plinth.toml"), &root).expect("write");
    std::fs::write(
        dir.join("plinth.toml"),
        format!(
            "{root}\n{}",
            eks_cluster("x", &format!("clusters.{long_key}"))
        ),
    )
    .expect("write");
    let json = refused(&env, &dir);
    assert!(
        errors(&json).contains(&("invalid-name".to_string(), "plinth.toml".to_string())),
        "{:?}",
        errors(&json)
    );
    std::fs::write(dir.join("plinth.toml"), &root).expect("write");

    // A 1 MB node label: Kubernetes refuses it, so Plinth does, pointing at it.
    std::fs::write(
        dir.join("clusters/eks_zero.toml"),
        format!(
            "{}\n[node_pools.default.config.ops]\nlabels = {{ big = \"{}\" }}\n",
            eks_cluster("eks_zero", ""),
            "x".repeat(mb)
        ),
    )
    .expect("write");
    refused_with(&env, &dir, "invalid-label", "clusters/eks_zero.toml");

    // 1 MB keys and values where any string is allowed: generated, and they parse back whole.
    let toml_key = format!("\"{}\"", long_key);
    let toml_value = format!(
        "\"{}\"",
        long_value
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
    );
    std::fs::write(
        dir.join("clusters/eks_zero.toml"),
        format!(
            "description = {toml_value}\n{}\n[node_pools.default.config.ops]\ntags = {{ {toml_key} = {toml_value} }}\n\n[services.ingress-nginx]\nkind = \"ingress\"\nsource = {{ path = \"services/ingress-nginx\" }}\n\n[services.ingress-nginx.config.apps]\nnamespace = \"ingress-nginx\"\ncommon_annotations = {{ {toml_key} = {toml_value} }}\n\n[services.chart]\nkind = \"operator\"\nsource = {{ repo = \"https://charts.example.com\", chart = \"x\", version = \"1.2.3\" }}\n\n[services.chart.config.apps]\nnamespace = \"chart\"\nhelm_values = {{ {toml_key} = {toml_value} }}\n",
            eks_cluster("eks_zero", "")
        ),
    )
    .expect("write");
    let (run, json) = validate(&env, &dir);
    assert_eq!(run.code, 0, "{}", short(&json.to_string()));
    let made = plinth(&env, &["generate", "long"]);
    assert_eq!(made.code, 0, "{}", short(&made.stderr));
    eprintln!("1 MB keys and values: generated in {:.1} s", made.secs);
    for (service, key) in [
        ("ingress-nginx", "commonAnnotations"),
        ("chart", "helmCharts"),
    ] {
        let yaml = env.read(&format!(
            "long/generated/services/eks_zero/ops/{service}/kustomization.yaml"
        ));
        let docs = yaml_rust2::YamlLoader::load_from_str(&yaml)
            .unwrap_or_else(|e| panic!("a 1 MB key breaks the {service} overlay: {e}"));
        let map = if key == "helmCharts" {
            &docs[0][key][0]["valuesInline"]
        } else {
            &docs[0][key]
        };
        assert_eq!(map[long_key.as_str()].as_str(), Some(long_value.as_str()));
    }
    let tf = env.read("long/generated/eks_zero.tf");
    let body = hcl::parse(&tf).unwrap_or_else(|e| panic!("a 1 MB tag breaks HCL: {e}"));
    let strings = hcl_strings(&body).expect("literal strings");
    assert!(strings.iter().any(|s| s == &long_key));
    assert!(strings.iter().any(|s| s == &long_value));
}

#[test]
fn bytes_that_are_not_utf8() {
    let env = TestEnv::new();
    let dir = init(&env, "bytes", "minimal");
    let root = std::fs::read(dir.join("plinth.toml")).expect("read");
    let cluster = std::fs::read(dir.join("clusters/eks_zero.toml")).expect("read");
    for (file, original) in [("plinth.toml", &root), ("clusters/eks_zero.toml", &cluster)] {
        for bad in [
            &b"\xff"[..],
            b"\xc0\x80",
            b"\xed\xa0\x80",
            b"\xe2\x82",
            b"\xf4\x90\x80\x80",
        ] {
            for at in [0, original.len() / 2, original.len()] {
                let mut bytes = original.clone();
                bytes.splice(at..at, bad.iter().copied());
                std::fs::write(dir.join(file), &bytes).expect("write");
                let json = refused(&env, &dir);
                assert_eq!(
                    errors(&json),
                    [("not-utf8".to_string(), file.to_string())],
                    "{bad:?} at {at} of {file}"
                );
                let d = &json["diagnostics"][0];
                assert!(d["line"].as_u64().is_some(), "the bad byte is located: {d}");
            }
            std::fs::write(dir.join(file), original).expect("restore");
        }
    }
    // A cluster file whose name is not UTF-8 is an error, not silently skipped.
    use std::os::unix::ffi::OsStrExt;
    let name = std::ffi::OsStr::from_bytes(b"clusters/x\xff.toml");
    std::fs::write(dir.join(name), &cluster).expect("write");
    refused_with(&env, &dir, "invalid-name", "clusters/x\u{fffd}.toml");
}

#[test]
fn symlink_loops_in_the_platform() {
    use std::os::unix::fs::symlink;
    let env = TestEnv::new();
    let dir = init(&env, "loops", "minimal");
    symlink(".", dir.join("clusters/loop")).expect("ln");
    symlink("../services", dir.join("services/x")).expect("ln");
    // A base that lists links to itself: kustomize calls it a cycle; the boundary lint must not
    // walk it along every path (3 links, 16 levels: 43 million paths).
    for l in ["a", "b", "c"] {
        symlink(".", dir.join(format!("services/ingress-nginx/{l}"))).expect("ln");
    }
    let k = dir.join("services/ingress-nginx/kustomization.yaml");
    let text = std::fs::read_to_string(&k).expect("read");
    std::fs::write(&k, format!("{text}  - a\n  - b\n  - c\n")).expect("write");
    let (run, json) = validate(&env, &dir);
    eprintln!(
        "symlink loops: validate exited {} in {:.1} s",
        run.code, run.secs
    );
    assert_eq!(run.code, 0, "{}", short(&json.to_string()));
    assert!(run.secs < 30.0, "the loops took {:.1} s", run.secs);
    // A service source through the loop resolves inside the platform.
    let cluster = dir.join("clusters/eks_zero.toml");
    let original = std::fs::read_to_string(&cluster).expect("read");
    std::fs::write(
        &cluster,
        original.replace(
            "path = \"services/cert-manager\"",
            "path = \"services/x/x/x/cert-manager\"",
        ),
    )
    .expect("write");
    let (run, _) = validate(&env, &dir);
    assert_eq!(run.code, 0);
    let made = plinth(&env, &["generate", "loops"]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    // A cluster file that is a link to itself, or to a directory: unreadable, with its path.
    std::fs::write(&cluster, &original).expect("write");
    symlink("self.toml", dir.join("clusters/self.toml")).expect("ln");
    refused_with(&env, &dir, "unreadable", "clusters/self.toml");
    std::fs::remove_file(dir.join("clusters/self.toml")).expect("rm");
    symlink(".", dir.join("clusters/dir.toml")).expect("ln");
    refused_with(&env, &dir, "unreadable", "clusters/dir.toml");
}

#[test]
fn a_cluster_file_linked_from_outside() {
    let env = TestEnv::new();
    let dir = init(&env, "linked", "minimal");
    env.write(
        "outside/evil.toml",
        "provider = \"eks\"\ntoken = ghp_NOTFORLOGS0123456789\n",
    );
    std::os::unix::fs::symlink(
        env.join("outside/evil.toml"),
        dir.join("clusters/evil.toml"),
    )
    .expect("ln");
    refused_with(&env, &dir, "invalid-path", "clusters/evil.toml");
    // Nothing of the outside file is read into the output (no snippet of it).
    let run = plinth(&env, &["validate", "linked"]);
    assert!(!run.stderr.contains("NOTFORLOGS"), "{}", short(&run.stderr));
    // The same through a linked `clusters/` directory.
    std::fs::remove_file(dir.join("clusters/evil.toml")).expect("rm");
    std::fs::rename(dir.join("clusters"), env.join("outside/clusters")).expect("mv");
    std::os::unix::fs::symlink(env.join("outside/clusters"), dir.join("clusters")).expect("ln");
    refused_with(&env, &dir, "invalid-path", "clusters/eks_zero.toml");
}

#[test]
fn duplicate_keys_across_and_within_files() {
    let env = TestEnv::new();
    let dir = init(&env, "dups", "minimal");
    let root = std::fs::read_to_string(dir.join("plinth.toml")).expect("read");
    let cluster = std::fs::read_to_string(dir.join("clusters/eks_zero.toml")).expect("read");
    let cases: Vec<(&str, String, String, &str)> = vec![
        (
            "`[clusters.x]` in plinth.toml and clusters/x.toml",
            format!("{root}\n{}", eks_cluster("eks_zero", "clusters.eks_zero")),
            cluster.clone(),
            "duplicate-cluster",
        ),
        (
            "a quoted key equal to a bare one",
            format!(
                "{root}\n{}\n{}",
                eks_cluster("y", "clusters.y"),
                eks_cluster("y", "clusters.\"y\"")
            ),
            cluster.clone(),
            "toml-syntax",
        ),
        (
            "a key twice in a file",
            root.replace("[platform]\n", "[platform]\nname = \"a\"\n"),
            cluster.clone(),
            "toml-syntax",
        ),
        (
            "a table twice in a cluster file",
            root.clone(),
            format!("{cluster}\n[config.apps]\nregion = \"eu-west-2\"\n"),
            "toml-syntax",
        ),
        (
            "an environment twice in the chain",
            root.replace(
                "environments = [\"ops\", \"apps\"]",
                "environments = [\"ops\", \"apps\", \"ops\"]",
            ),
            cluster.clone(),
            "duplicate-environment",
        ),
        (
            "a dotted key and a table for one key",
            root.clone(),
            format!("{cluster}\n[node_pools]\ndefault.config.apps.max_size = 4\n"),
            "toml-syntax",
        ),
        (
            "a cluster file holding `[clusters.x]`",
            root.clone(),
            eks_cluster("z", "clusters.z"),
            "unknown-key",
        ),
    ];
    for (what, r, c, code) in cases {
        std::fs::write(dir.join("plinth.toml"), &r).expect("write");
        std::fs::write(dir.join("clusters/eks_zero.toml"), &c).expect("write");
        let json = refused(&env, &dir);
        assert!(
            errors(&json).iter().any(|(c, _)| c == code),
            "{what}: expected `{code}`, got {:?}",
            errors(&json)
        );
    }
    // Two cluster files whose names differ only in a way that makes one invalid.
    std::fs::write(dir.join("plinth.toml"), &root).expect("write");
    std::fs::write(dir.join("clusters/eks_zero.toml"), &cluster).expect("write");
    std::fs::write(dir.join("clusters/EKS_ZERO.toml"), &cluster).expect("write");
    refused_with(&env, &dir, "invalid-name", "clusters/EKS_ZERO.toml");
}

#[test]
fn directories_where_files_belong() {
    let env = TestEnv::new();
    let dir = init(&env, "dirs", "minimal");
    let cluster = dir.join("clusters/eks_zero.toml");
    let original = std::fs::read_to_string(&cluster).expect("read");

    // plinth.toml is a directory.
    let root = dir.join("plinth.toml");
    let root_text = std::fs::read_to_string(&root).expect("read");
    std::fs::remove_file(&root).expect("rm");
    std::fs::create_dir(&root).expect("mkdir");
    refused_with(&env, &dir, "unreadable", "plinth.toml");
    std::fs::remove_dir(&root).expect("rm");
    std::fs::write(&root, &root_text).expect("write");

    // A cluster file is a directory.
    std::fs::create_dir(dir.join("clusters/other.toml")).expect("mkdir");
    refused_with(&env, &dir, "unreadable", "clusters/other.toml");
    std::fs::remove_dir(dir.join("clusters/other.toml")).expect("rm");

    // A service's kustomization.yaml, and a patch file, are directories.
    let k = dir.join("services/cert-manager/kustomization.yaml");
    let k_text = std::fs::read_to_string(&k).expect("read");
    std::fs::remove_file(&k).expect("rm");
    std::fs::create_dir(&k).expect("mkdir");
    let json = refused(&env, &dir);
    assert!(
        errors(&json)
            .iter()
            .any(|(c, f)| c == "invalid-path" && f == "clusters/eks_zero.toml"),
        "{:?}",
        errors(&json)
    );
    std::fs::remove_dir(&k).expect("rm");
    std::fs::write(&k, k_text).expect("write");
    std::fs::create_dir_all(dir.join("patches/p.yaml")).expect("mkdir");
    std::fs::write(
        &cluster,
        format!("{original}patches = [{{ path = \"patches/p.yaml\" }}]\n"),
    )
    .expect("write");
    let json = refused(&env, &dir);
    assert!(
        errors(&json)
            .iter()
            .any(|(c, f)| c == "invalid-path" && f == "clusters/eks_zero.toml"),
        "{:?}",
        errors(&json)
    );
    std::fs::write(&cluster, &original).expect("write");

    // `clusters` is a file.
    std::fs::rename(dir.join("clusters"), env.join("saved")).expect("mv");
    std::fs::write(dir.join("clusters"), "not a directory").expect("write");
    let json = refused(&env, &dir);
    assert!(
        errors(&json).iter().any(|(_, f)| f == "clusters"),
        "{:?}",
        errors(&json)
    );
    std::fs::remove_file(dir.join("clusters")).expect("rm");
    std::fs::rename(env.join("saved"), dir.join("clusters")).expect("mv");

    // The output directory is a file, or a file stands where a generated directory goes: the
    // write stops, saying why, and nothing is touched.
    std::fs::write(dir.join("generated"), "mine").expect("write");
    let before = snapshot(env.path());
    let made = plinth(&env, &["generate", "dirs"]);
    assert_eq!(made.code, 1, "{}", made.stderr);
    assert_eq!(before, snapshot(env.path()));
    std::fs::remove_file(dir.join("generated")).expect("rm");
    env.write("dirs/generated/modules", "mine");
    let before = snapshot(env.path());
    let made = plinth(&env, &["generate", "dirs"]);
    assert_eq!(made.code, 1, "{}", made.stderr);
    assert!(made.stderr.contains("modules"), "{}", made.stderr);
    assert_eq!(before, snapshot(env.path()));
}

// ---------------------------------------------------------------------------------------------
// Reading generated files back: strings as data, and the structure around them.

/// Plinth's own template variables; any other expression inside a string is an injection.
fn eval_context() -> hcl::eval::Context<'static> {
    let mut ctx = hcl::eval::Context::new();
    let obj = |pairs: &[(&str, &str)]| {
        hcl::Value::Object(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_string(), hcl::Value::from(*v)))
                .collect(),
        )
    };
    ctx.declare_var("terraform", obj(&[("workspace", "WS")]));
    ctx.declare_var("path", obj(&[("root", "ROOT")]));
    ctx.declare_var("local", obj(&[("environment", "ENV")]));
    ctx.declare_var("each", obj(&[("key", "KEY")]));
    ctx
}

/// A string expression's value: literal, or a template over Plinth's own variables only.
fn hcl_string(e: &hcl::Expression) -> Result<Option<String>, String> {
    use hcl::eval::Evaluate;
    match e {
        hcl::Expression::String(s) => Ok(Some(s.clone())),
        hcl::Expression::TemplateExpr(t) => {
            match hcl::Expression::TemplateExpr(t.clone()).evaluate(&eval_context()) {
                Ok(hcl::Value::String(s)) => Ok(Some(s)),
                Ok(other) => Err(format!("a template evaluated to {other:?}")),
                Err(err) => Err(format!("a string holds a live expression ({err}): {t:?}")),
            }
        }
        _ => Ok(None),
    }
}

/// Every string value, object key and block label of a body; `Err` for a string that is not
/// data.
fn hcl_strings(body: &hcl::Body) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    hcl_walk(body, &mut out, &mut Vec::new(), "")?;
    Ok(out)
}

/// Strings into `strings`; the structure (with strings holding test data replaced) into
/// `shape`.
fn hcl_walk(
    body: &hcl::Body,
    strings: &mut Vec<String>,
    shape: &mut Vec<String>,
    at: &str,
) -> Result<(), String> {
    for s in body.iter() {
        match s {
            hcl::Structure::Attribute(a) => {
                let here = format!("{at}.{}", a.key());
                shape.push(format!("{here}="));
                hcl_expr(a.expr(), strings, shape, &here)?;
            }
            hcl::Structure::Block(b) => {
                let mut here = format!("{at}/{}", b.identifier());
                for l in b.labels() {
                    let l = l.as_str().to_string();
                    here.push_str(&format!(" {}", data(&l)));
                    strings.push(l);
                }
                shape.push(here.clone());
                hcl_walk(b.body(), strings, shape, &here)?;
            }
        }
    }
    Ok(())
}

fn hcl_expr(
    e: &hcl::Expression,
    strings: &mut Vec<String>,
    shape: &mut Vec<String>,
    at: &str,
) -> Result<(), String> {
    if let Some(s) = hcl_string(e)? {
        // Values may depend on the data (a default follows another value): only their place
        // in the structure counts.
        shape.push(format!("{at}: string"));
        strings.push(s);
        return Ok(());
    }
    match e {
        hcl::Expression::Array(items) => {
            shape.push(format!("{at}: list of {}", items.len()));
            for (i, item) in items.iter().enumerate() {
                hcl_expr(item, strings, shape, &format!("{at}[{i}]"))?;
            }
        }
        hcl::Expression::Object(o) => {
            shape.push(format!("{at}: object of {}", o.len()));
            for (k, v) in o {
                let key = match k {
                    hcl::ObjectKey::Identifier(i) => i.to_string(),
                    hcl::ObjectKey::Expression(e) => hcl_string(e)?
                        .ok_or_else(|| format!("an object key is not a string: {e:?}"))?,
                    other => format!("{other:?}"),
                };
                let here = format!("{at}.{}", data(&key));
                strings.push(key);
                hcl_expr(v, strings, shape, &here)?;
            }
        }
        hcl::Expression::Number(_) | hcl::Expression::Bool(_) | hcl::Expression::Null => {
            shape.push(format!(
                "{at}: {}",
                hcl::format::to_string(e).unwrap_or_default()
            ));
        }
        // References and calls are Plinth's own: their text is part of the structure.
        other => shape.push(format!(
            "{at}: {}",
            hcl::format::to_string(other).unwrap_or_else(|_| format!("{other:?}"))
        )),
    }
    Ok(())
}

/// Marks test data in structure descriptions: strings holding a marker vary with the input.
fn data(s: &str) -> String {
    if s.contains(MARK_OPEN) {
        "<data>".into()
    } else {
        format!("{s:?}")
    }
}

/// Replaces every marked value (`zq<nn>…qz`) in a structure line, e.g. in file paths.
fn mask(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(i) = rest.find(MARK_OPEN) {
        let after = &rest[i + MARK_OPEN.len()..];
        let numbered = after.len() >= 2 && after.as_bytes()[..2].iter().all(u8::is_ascii_digit);
        match after.find(MARK_CLOSE).filter(|_| numbered) {
            Some(j) => {
                out.push_str(&rest[..i]);
                out.push_str("<data>");
                rest = &after[j + MARK_CLOSE.len()..];
            }
            None => {
                out.push_str(&rest[..i + MARK_OPEN.len()]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn yaml_walk(y: &yaml_rust2::Yaml, strings: &mut Vec<String>, shape: &mut Vec<String>, at: &str) {
    use yaml_rust2::Yaml;
    match y {
        Yaml::String(s) => {
            shape.push(format!("{at}: string"));
            strings.push(s.clone());
        }
        Yaml::Array(items) => {
            shape.push(format!("{at}: list of {}", items.len()));
            for (i, item) in items.iter().enumerate() {
                yaml_walk(item, strings, shape, &format!("{at}[{i}]"));
            }
        }
        Yaml::Hash(h) => {
            shape.push(format!("{at}: map of {}", h.len()));
            for (k, v) in h {
                let key = match k {
                    Yaml::String(s) => s.clone(),
                    other => format!("non-string key {other:?}"),
                };
                let here = format!("{at}.{}", data(&key));
                strings.push(key);
                yaml_walk(v, strings, shape, &here);
            }
        }
        other => shape.push(format!("{at}: {other:?}")),
    }
}

/// The first difference between two structures, with context, for messages.
fn shape_diff(a: &[String], b: &[String]) -> Option<String> {
    let i = a
        .iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .or_else(|| (a.len() != b.len()).then(|| a.len().min(b.len())))?;
    let around = |v: &[String]| v[i.saturating_sub(2)..(i + 3).min(v.len())].join("\n    ");
    Some(format!(
        "at item {i}:\n  got:\n    {}\n  expected:\n    {}",
        around(a),
        around(b)
    ))
}

/// A generated tree read back: every string, and the structure of every file.
#[derive(Default)]
struct ReadBack {
    strings: Vec<String>,
    shape: Vec<String>,
}

fn read_back(files: &BTreeMap<String, String>) -> Result<ReadBack, String> {
    let mut r = ReadBack::default();
    for (path, text) in files {
        if path.starts_with("modules/")
            || path.contains("/patches/")
            || path.contains("/resources/")
        {
            continue;
        }
        r.shape.push(format!("file {path}"));
        if path.ends_with(".tf") {
            let body = hcl::parse(text).map_err(|e| format!("`{path}` is not HCL: {e}\n{text}"))?;
            hcl_walk(&body, &mut r.strings, &mut r.shape, path)
                .map_err(|e| format!("`{path}`: {e}\n{text}"))?;
        } else if path.ends_with(".yaml") {
            let docs = yaml_rust2::YamlLoader::load_from_str(text)
                .map_err(|e| format!("`{path}` is not YAML: {e}\n{text}"))?;
            r.shape.push(format!("{path}: {} documents", docs.len()));
            for d in &docs {
                yaml_walk(d, &mut r.strings, &mut r.shape, path);
            }
        }
    }
    r.shape = r.shape.iter().map(|l| mask(l)).collect();
    Ok(r)
}

/// The generated files below `out` (relative paths).
fn tree_on_disk(out: &Path) -> BTreeMap<String, String> {
    snapshot(out)
        .into_iter()
        .filter(|(_, kind)| kind.starts_with("file"))
        .map(|(p, _)| {
            let rel = p.to_string_lossy().into_owned();
            let text = std::fs::read_to_string(out.join(&p)).unwrap_or_default();
            (rel, text)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Hostile strings in every string field.

/// Around every value put into a field, so it can be found in the output: `zq<nn>` … `qz`.
const MARK_OPEN: &str = "zq";
const MARK_CLOSE: &str = "qz";

const HOSTILE: &[&str] = &[
    "\"",
    "\\",
    "\\\"",
    "${file(\"/etc/passwd\")}",
    "$${x}",
    "%{ if true }x%{ endif }",
    "%%{",
    "a\nb",
    "x\nkind: Secret\n---\nkind: Secret\n",
    "a\rb",
    "a\0b",
    "\u{2028}\u{2029}\u{85}",
    ": ",
    "- x",
    "&a *a !!binary",
    "? x",
    "<<EOF\nx\nEOF\n",
    "\"}\nresource \"null_resource\" \"x\" {}\n#",
    "../../../etc/passwd",
    "/etc/passwd",
    "C:\\Windows\\System32",
    "..\\..\\x",
    "'",
    "# not a comment",
    "\t",
    "\u{feff}\u{202e}",
    "{{ .Values.x }}",
    "",
];

/// How a field's value is written: wrapped in markers (`zq07…qz`), or as it is (paths, which
/// must name real files when benign).
#[derive(Clone, Copy, PartialEq)]
enum Form {
    Marked,
    Raw,
}

/// One string field of the definition: a `⟦slot⟧` (value) or `⟦slot:key⟧` (table key) in the
/// templates below, with its benign value.
struct Slot {
    name: &'static str,
    benign: &'static str,
    form: Form,
}

const fn marked(name: &'static str) -> Slot {
    Slot {
        name,
        benign: "benign",
        form: Form::Marked,
    }
}

const fn raw(name: &'static str, benign: &'static str) -> Slot {
    Slot {
        name,
        benign,
        form: Form::Raw,
    }
}

const SLOTS: &[Slot] = &[
    marked("platform_name"),
    marked("env"),
    marked("name_prefix"),
    marked("base_domain"),
    marked("label_namespace"),
    marked("backend_bucket"),
    marked("backend_key"),
    marked("backend_region"),
    marked("env_description"),
    marked("env_tenant"),
    marked("cluster_key"),
    marked("cluster_description"),
    marked("cluster_tenant"),
    marked("cluster_workload"),
    marked("region"),
    marked("zone"),
    marked("cluster_version"),
    marked("sensitive_value"),
    marked("from_env"),
    marked("rolearn"),
    marked("username"),
    marked("group"),
    marked("instance_type"),
    marked("ami_release"),
    marked("node_label"),
    marked("node_label_value"),
    marked("tag_value"),
    marked("taint_key"),
    marked("taint_value"),
    marked("pool"),
    marked("pool_name"),
    marked("service"),
    marked("service_description"),
    marked("namespace"),
    marked("svc_name_prefix"),
    marked("svc_name_suffix"),
    marked("replica"),
    marked("image"),
    marked("image_name"),
    marked("image_tag"),
    marked("label"),
    marked("label_value"),
    marked("annotation"),
    marked("annotation_value"),
    marked("patch"),
    marked("target_kind"),
    marked("target_name"),
    marked("target_selector"),
    marked("helm_repo"),
    marked("helm_chart"),
    marked("helm_release"),
    marked("helm_key"),
    marked("helm_value"),
    marked("helm_item"),
    marked("remote_url"),
    marked("remote_ref"),
    raw("source_path", "services/ingress-nginx"),
    raw("resource_path", "services/cert-manager/namespace.yaml"),
    raw("patch_path", "services/cert-manager/namespace.yaml"),
];

const ROOT_TEMPLATE: &str = r#"[platform]
name = ⟦platform_name⟧
environments = ["ops", ⟦env⟧]
base_environment = ⟦env⟧
name_prefix = ⟦name_prefix⟧
base_domain = ⟦base_domain⟧
label_namespace = ⟦label_namespace⟧

[platform.backend]
type = "s3"
bucket = ⟦backend_bucket⟧
key = ⟦backend_key⟧
region = ⟦backend_region⟧

[environments.ops]
description = ⟦env_description⟧
tenant = ⟦env_tenant⟧
"#;

const CLUSTER_TEMPLATE: &str = r#"[clusters.⟦cluster_key:key⟧]
provider = "eks"
description = ⟦cluster_description⟧
tenant = ⟦cluster_tenant⟧
workload = ⟦cluster_workload⟧

[clusters.⟦cluster_key:key⟧.config.⟦env:key⟧]
region = ⟦region⟧
cluster_availability_zones = [⟦zone⟧]
cluster_version = ⟦cluster_version⟧
cluster_encryption_key_arn = { sensitive = true, value = ⟦sensitive_value⟧ }
cluster_aws_auth_map_roles = [{ rolearn = ⟦rolearn⟧, username = ⟦username⟧, groups = [⟦group⟧] }]

[clusters.⟦cluster_key:key⟧.node_pools.default.config.⟦env:key⟧]
instance_types = [⟦instance_type⟧]
max_size = 3
ami_release_version = ⟦ami_release⟧
labels = { ⟦node_label:key⟧ = ⟦node_label_value⟧ }
tags = { extra = ⟦tag_value⟧ }
taints = [{ key = ⟦taint_key⟧, value = ⟦taint_value⟧, effect = "NO_SCHEDULE" }]

[clusters.⟦cluster_key:key⟧.node_pools.⟦pool:key⟧.config.⟦env:key⟧]
instance_types = ["t3a.small"]
max_size = 3
name = ⟦pool_name⟧
ami_release_version = { sensitive = true, from_env = ⟦from_env⟧ }

[clusters.⟦cluster_key:key⟧.services.⟦service:key⟧]
kind = "ingress"
source = { path = ⟦source_path⟧ }
description = ⟦service_description⟧

[clusters.⟦cluster_key:key⟧.services.⟦service:key⟧.config.⟦env:key⟧]
namespace = ⟦namespace⟧
name_prefix = ⟦svc_name_prefix⟧
name_suffix = ⟦svc_name_suffix⟧
replicas = { ⟦replica:key⟧ = 2 }
images = { ⟦image:key⟧ = { new_name = ⟦image_name⟧, new_tag = ⟦image_tag⟧ } }
common_labels = { ⟦label:key⟧ = ⟦label_value⟧ }
common_annotations = { ⟦annotation:key⟧ = ⟦annotation_value⟧ }
resources = [⟦resource_path⟧]
patches = [
  { patch = ⟦patch⟧, target = { kind = ⟦target_kind⟧, name = ⟦target_name⟧, label_selector = ⟦target_selector⟧ } },
  { path = ⟦patch_path⟧ },
]

[clusters.⟦cluster_key:key⟧.services.chart]
kind = "operator"
source = { repo = ⟦helm_repo⟧, chart = ⟦helm_chart⟧, version = "1.2.3", release_name = ⟦helm_release⟧ }

[clusters.⟦cluster_key:key⟧.services.chart.config.⟦env:key⟧]
namespace = "chart"
helm_values = { ⟦helm_key:key⟧ = ⟦helm_value⟧, nested = { list = [⟦helm_item⟧] } }

[clusters.⟦cluster_key:key⟧.services.remote]
kind = "operator"
source = { url = ⟦remote_url⟧, ref = ⟦remote_ref⟧ }

[clusters.⟦cluster_key:key⟧.services.remote.config.⟦env:key⟧]
namespace = "remote"
"#;

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    plinth_core::value::write_toml_string(&mut out, s);
    out
}

/// The value of slot `i` when it holds `value` (markers around it unless a path).
fn slot_value(i: usize, value: &str) -> String {
    match SLOTS[i].form {
        Form::Marked => format!("{MARK_OPEN}{i:02}{value}{MARK_CLOSE}"),
        Form::Raw => value.to_string(),
    }
}

/// The definition with `hostile` in the slots of `chosen` and benign values elsewhere.
fn definition(chosen: &[usize], hostile: &str) -> String {
    let mut text = format!("{ROOT_TEMPLATE}\n{CLUSTER_TEMPLATE}");
    for (i, slot) in SLOTS.iter().enumerate() {
        let v = if chosen.contains(&i) {
            slot_value(i, hostile)
        } else {
            slot_value(i, slot.benign)
        };
        let quoted = toml_string(&v);
        text = text
            .replace(&format!("⟦{}:key⟧", slot.name), &quoted)
            .replace(&format!("⟦{}⟧", slot.name), &quoted);
    }
    assert!(!text.contains('⟦'), "unfilled slot:\n{text}");
    text
}

/// A platform for the in-process checks: the service bases every example ships.
fn service_bases(dir: &Path) {
    let ex = plinth_core::scaffold::example("minimal").expect("example");
    plinth_core::scaffold::init(dir, ex, "hostile").expect("init");
    std::fs::remove_file(dir.join("clusters/eks_zero.toml")).expect("rm");
}

/// What one definition does in memory: `Err` with located errors, or the generated files.
fn check_in_memory(
    dir: &Path,
    text: &str,
) -> Result<BTreeMap<String, String>, Vec<plinth_core::Diagnostic>> {
    let overlay: plinth_core::load::Overlay =
        [(PathBuf::from("plinth.toml"), Some(text.to_string()))]
            .into_iter()
            .collect();
    let checked = plinth_core::check_loaded(plinth_core::load::load_virtual(dir, &overlay));
    for d in checked.diagnostics.iter().filter(|d| d.is_error()) {
        assert!(
            d.location(&checked.sources).is_some(),
            "an error without a location: {} ({})",
            d.code,
            d.message
        );
    }
    if checked.has_errors() {
        return Err(checked
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .cloned()
            .collect());
    }
    let (Some(p), Some(r)) = (&checked.platform, &checked.resolution) else {
        panic!("valid but unresolved");
    };
    let tree = plinth_core::generate::render_all(p, r, &dir.join("generated"))
        .unwrap_or_else(|e| panic!("a valid platform failed to render: {e}"));
    Ok(tree
        .files()
        .map(|(p, c)| (p.to_string(), c.to_string()))
        .collect())
}

/// Slots whose benign value Plinth writes into generated files (the others, like
/// descriptions, are only read).
fn written_slots(benign: &ReadBack) -> Vec<usize> {
    (0..SLOTS.len())
        .filter(|i| SLOTS[*i].form == Form::Marked)
        .filter(|i| {
            let v = slot_value(*i, SLOTS[*i].benign);
            benign.strings.iter().any(|s| s.contains(&v))
        })
        .collect()
}

#[test]
fn the_harness_reads_hcl_strings_as_terraform_does() {
    let body = hcl::parse("a = \"$${x} %%{y} \\u0000 \\\\\"\nb = \"${terraform.workspace}\"\n")
        .expect("parse");
    let strings = hcl_strings(&body).expect("strings");
    assert_eq!(strings, ["${x} %{y} \0 \\", "WS"]);
    let injected = hcl::parse("a = \"${file(\"/etc/passwd\")}\"\n").expect("parse");
    assert!(hcl_strings(&injected).is_err());
}

/// Fields whose values Plinth checks (names, DNS labels, identifiers, paths): most hostile
/// strings are refused there. The others are free-form.
const CHECKED: &[&str] = &[
    "base_domain",
    "cluster_key",
    "env",
    "from_env",
    "label",
    "label_namespace",
    "label_value",
    "node_label",
    "node_label_value",
    "taint_key",
    "taint_value",
    "name_prefix",
    "namespace",
    "pool",
    "pool_name",
    "region",
    "service",
    "source_path",
    "resource_path",
    "patch_path",
];

/// Which fields take `hostile` (in memory): the free-form ones together (one by one if that
/// is refused), the checked ones one by one. Every refusal is located.
fn classify(dir: &Path, hostile: &str) -> (Vec<usize>, Vec<usize>) {
    let (checked, free): (Vec<usize>, Vec<usize>) =
        (0..SLOTS.len()).partition(|i| CHECKED.contains(&SLOTS[*i].name));
    let (mut ok, mut refused) = (Vec::new(), Vec::new());
    let one_by_one = if check_in_memory(dir, &definition(&free, hostile)).is_ok() {
        ok.extend(free);
        checked
    } else {
        free.into_iter().chain(checked).collect()
    };
    for i in one_by_one {
        match check_in_memory(dir, &definition(&[i], hostile)) {
            Ok(_) => ok.push(i),
            Err(_) => refused.push(i),
        }
    }
    ok.sort_unstable();
    (ok, refused)
}

/// Every hostile string in every field, in memory: a located error, or generated files that
/// parse, keep the value exactly, and have the structure the benign value gives.
#[test]
fn hostile_strings_in_every_field_in_memory() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("hostile");
    service_bases(&dir);
    let benign_files = check_in_memory(&dir, &definition(&[], "benign"))
        .unwrap_or_else(|e| panic!("the benign definition is invalid: {e:?}"));
    let benign = read_back(&benign_files).expect("benign output reads back");
    let written = written_slots(&benign);
    assert!(
        written.len() > 30,
        "only {} fields are written",
        written.len()
    );
    let mut accepted: BTreeMap<&str, usize> = BTreeMap::new();
    let mut refused: BTreeMap<&str, usize> = BTreeMap::new();
    for h in HOSTILE {
        let (ok, bad) = classify(&dir, h);
        for i in &bad {
            *refused.entry(SLOTS[*i].name).or_default() += 1;
        }
        for i in &ok {
            *accepted.entry(SLOTS[*i].name).or_default() += 1;
        }
        // Every field that takes the string, at once.
        let files = check_in_memory(&dir, &definition(&ok, h))
            .unwrap_or_else(|e| panic!("{h:?}: accepted one by one, refused together: {e:?}"));
        let back = read_back(&files).unwrap_or_else(|e| panic!("{h:?}: {e}"));
        if let Some(d) = shape_diff(&back.shape, &benign.shape) {
            panic!("{h:?} changed the structure of the output {d}");
        }
        for i in written.iter().filter(|i| ok.contains(i)) {
            let v = slot_value(*i, h);
            assert!(
                back.strings.iter().any(|s| s.contains(&v)),
                "{} = {h:?} is not in the output as written",
                SLOTS[*i].name
            );
        }
    }
    eprintln!(
        "hostile strings accepted (field: count of {}):",
        HOSTILE.len()
    );
    for (k, n) in &accepted {
        eprintln!("  {k}: {n}");
    }
    eprintln!("refused with a located error:");
    for (k, n) in &refused {
        eprintln!("  {k}: {n}");
    }
    // Free-form fields take every string: the rest of the test means something.
    for slot in SLOTS.iter().filter(|s| !CHECKED.contains(&s.name)) {
        assert_eq!(
            accepted.get(slot.name).copied().unwrap_or(0),
            HOSTILE.len(),
            "{} refused some strings",
            slot.name
        );
    }
}

/// The same through the CLI, every accepted field at once per hostile string: `generate`
/// writes only inside its output directory, every `.tf` passes `terraform fmt -check` where
/// terraform is installed, and the strings round-trip.
#[test]
fn hostile_strings_through_the_cli() {
    let env = TestEnv::new();
    let scratch = env.join("scratch");
    let dir = scratch.join("platform");
    service_bases(&dir);
    let terraform = engines::require("terraform", engines::terraform());
    let bases = env.join("bases");
    service_bases(&bases);
    let benign_text = definition(&[], "benign");
    std::fs::write(dir.join("plinth.toml"), &benign_text).expect("write");
    let out = scratch.join("out");
    let out_arg = out.display().to_string();
    let dir_arg = dir.display().to_string();
    let made = plinth(&env, &["generate", &dir_arg, "--out", &out_arg]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    let benign = read_back(&tree_on_disk(&out)).expect("benign reads back");
    let written = written_slots(&benign);
    std::fs::remove_dir_all(&out).expect("rm");
    for h in HOSTILE {
        let (ok, _) = classify(&bases, h);
        std::fs::write(dir.join("plinth.toml"), definition(&ok, h)).expect("write");
        let before = snapshot(&scratch);
        let made = plinth(&env, &["generate", &dir_arg, "--out", &out_arg]);
        assert_eq!(made.code, 0, "{h:?}: {}", short(&made.stderr));
        // Nothing was written outside the output directory.
        let after: BTreeMap<PathBuf, String> = snapshot(&scratch)
            .into_iter()
            .filter(|(p, _)| !p.starts_with("out"))
            .collect();
        assert_eq!(before, after, "{h:?}: files written outside the output");
        let files = tree_on_disk(&out);
        let back = read_back(&files).unwrap_or_else(|e| panic!("{h:?}: {e}"));
        if let Some(d) = shape_diff(&back.shape, &benign.shape) {
            panic!("{h:?} changed the structure of the output {d}");
        }
        for i in written.iter().filter(|i| ok.contains(i)) {
            let v = slot_value(*i, h);
            assert!(
                back.strings.iter().any(|s| s.contains(&v)),
                "{} = {h:?} is not in the output as written",
                SLOTS[*i].name
            );
        }
        if let Some(tf) = &terraform {
            let fmt = std::process::Command::new(tf)
                .args(["fmt", "-check", "-recursive", "-diff"])
                .arg(&out)
                .env("CHECKPOINT_DISABLE", "1")
                .env("TF_CLI_CONFIG_FILE", "/dev/null")
                .output()
                .expect("terraform fmt");
            assert!(
                fmt.status.success(),
                "{h:?}: terraform fmt -check fails:\n{}{}",
                String::from_utf8_lossy(&fmt.stdout),
                String::from_utf8_lossy(&fmt.stderr)
            );
        }
        std::fs::remove_dir_all(&out).expect("rm");
        // A field that refuses the string: refused through the CLI too, located, nothing written.
        if let Some(i) = (0..SLOTS.len()).find(|i| !ok.contains(i)) {
            std::fs::write(dir.join("plinth.toml"), definition(&[i], h)).expect("write");
            let before = snapshot(env.path());
            let (run, _) = validate(&env, &dir);
            assert_eq!(run.code, 1, "{} = {h:?}", SLOTS[i].name);
            let made = plinth(&env, &["generate", &dir_arg, "--out", &out_arg]);
            assert_eq!(made.code, 1, "{} = {h:?}", SLOTS[i].name);
            assert_eq!(
                before,
                snapshot(env.path()),
                "a refused generate wrote files"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Crash safety of `generate`.

/// A platform large enough that `generate` takes a while: `n` clusters with two services each;
/// `variant` changes values everywhere and which clusters exist, so the trees differ.
fn large_definition(dir: &Path, n: usize, variant: u8) {
    let clusters = dir.join("clusters");
    if clusters.exists() {
        std::fs::remove_dir_all(&clusters).expect("rm");
    }
    std::fs::create_dir_all(&clusters).expect("mkdir");
    let skip = if variant == 0 { 7 } else { 5 };
    for i in (0..n).filter(|i| i % skip != 0) {
        let replicas = 1 + usize::from(variant);
        let text = format!(
            "{}\n[services.ingress-nginx]\nkind = \"ingress\"\nsource = {{ path = \"services/ingress-nginx\" }}\n\n[services.ingress-nginx.config.apps]\nnamespace = \"ingress-nginx\"\nreplicas = {{ ingress-nginx-controller = {replicas} }}\ncommon_labels = {{ variant = \"v{variant}\" }}\n\n[services.cert-manager]\nkind = \"operator\"\nsource = {{ path = \"services/cert-manager\" }}\n\n[services.cert-manager.config.apps]\nnamespace = \"cert-manager\"\n",
            eks_cluster(&format!("c{i:04}"), "")
                .replace("max_size = 3", &format!("max_size = {}", 3 + variant))
        );
        std::fs::write(clusters.join(format!("c{i:04}.toml")), text).expect("write");
    }
}

/// Spawns `plinth generate` in its own process group.
fn spawn_generate(env: &TestEnv, dir: &Path, out: &Path) -> std::process::Child {
    use std::os::unix::process::CommandExt;
    env.std_cmd()
        .args(["generate"])
        .arg(dir)
        .arg("--out")
        .arg(out)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("spawn")
}

/// `kill -s KILL -- -<pgid>`.
fn kill_group(child: &std::process::Child) {
    let status = std::process::Command::new("kill")
        .args(["-s", "KILL", "--", &format!("-{}", child.id())])
        .stderr(std::process::Stdio::null())
        .status()
        .expect("kill");
    // The group may be gone already (the run finished): that is fine.
    let _ = status;
}

/// Terraform's own files in the output: carried over by every write, never lost.
const FOREIGN: &[(&str, &str)] = &[
    ("terraform.tfstate", "{\"version\": 4}"),
    (".terraform/providers/p", "provider binary"),
    ("mine_override.tf", "# mine\n"),
];

#[test]
fn generate_killed_at_any_point_leaves_the_old_tree_or_the_new_one() {
    let env = TestEnv::new();
    let dir = init(&env, "crash", "minimal");
    std::fs::remove_file(dir.join("clusters/eks_zero.toml")).expect("rm");
    let n = 120;
    // Reference trees, written beside the output (overlays point at bases relative to it).
    let mut refs = Vec::new();
    for variant in [0u8, 1] {
        large_definition(&dir, n, variant);
        let out = env.join(&format!("ref{variant}"));
        let started = Instant::now();
        let made = plinth(
            &env,
            &["generate", "crash", "--out", &out.display().to_string()],
        );
        assert_eq!(made.code, 0, "{}", made.stderr);
        eprintln!(
            "reference {variant}: {} files in {:.2} s",
            tree_on_disk(&out).len(),
            started.elapsed().as_secs_f64()
        );
        refs.push(tree_on_disk(&out));
    }
    assert_ne!(refs[0], refs[1]);
    let out = env.join("out");
    large_definition(&dir, n, 0);
    assert_eq!(plinth(&env, &["generate", "crash", "--out", "out"]).code, 0);
    for (p, text) in FOREIGN {
        env.write(&format!("out/{p}"), text);
    }
    // How long a full run takes: kills are spread over it, and past its end.
    large_definition(&dir, n, 1);
    let started = Instant::now();
    let mut child = spawn_generate(&env, &dir, &out);
    let status = child.wait().expect("wait");
    assert!(status.success());
    let full = started.elapsed();
    // More kill points with `PLINTH_CRASH_STEPS` (a local soak; CI keeps it short).
    let steps: u32 = std::env::var("PLINTH_CRASH_STEPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(24);
    let mut current = 1usize;
    let (mut old, mut new) = (0, 0);
    // One kill `delay` after a run starts: the output must be the old tree or the new one.
    let kill_after = |delay: Duration, current: &mut usize, old: &mut u32, new: &mut u32| {
        let target = 1 - *current;
        large_definition(&dir, n, u8::try_from(target).expect("0 or 1"));
        let mut child = spawn_generate(&env, &dir, &out);
        std::thread::sleep(delay);
        kill_group(&child);
        let status = child.wait().expect("wait");
        assert_ne!(status.code(), Some(101), "generate panicked");
        let mut tree = tree_on_disk(&out);
        for (p, text) in FOREIGN {
            let found = tree.remove(*p);
            assert_eq!(
                found.as_deref(),
                Some(*text),
                "after a kill at {delay:?}, `{p}` is gone or changed"
            );
        }
        if tree == refs[target] {
            *new += 1;
            *current = target;
        } else if tree == refs[*current] {
            *old += 1;
        } else {
            let diff: Vec<&String> = tree
                .keys()
                .chain(refs[target].keys())
                .filter(|p| {
                    tree.get(*p) != refs[target].get(*p) && tree.get(*p) != refs[*current].get(*p)
                })
                .take(10)
                .collect();
            panic!(
                "after a kill at {delay:?} the output is neither the old tree nor the new one: {diff:?}"
            );
        }
    };
    for step in 0..=steps {
        // Up to twice the calibrated run: under a busier machine a run takes longer than the
        // calibration, and kills up to 1.2 times it once all landed before the swap.
        let delay = full.mul_f64(2.0 * f64::from(step) / f64::from(steps));
        kill_after(delay, &mut current, &mut old, &mut new);
    }
    // Busier still than twice the calibration (CI's neighbours): later kills until one lands
    // after the swap, so both sides are always exercised rather than failing on the machine.
    let mut late = 3.0;
    while new == 0 && late <= 20.0 {
        kill_after(full.mul_f64(late), &mut current, &mut old, &mut new);
        late += 1.0;
    }
    eprintln!(
        "{} kills over {:.2} s runs: {old} left the old tree, {new} the new one",
        old + new,
        full.as_secs_f64()
    );
    assert!(
        old > 0 && new > 0,
        "the kills did not land on both sides of the swap"
    );

    // A hand-edited file is never overwritten: killed or not, its edit stays (or the run is
    // refused).
    let edited = out.join("c0001.tf");
    let text = format!(
        "{}\n# edited by hand\n",
        std::fs::read_to_string(&edited).expect("read")
    );
    std::fs::write(&edited, &text).expect("write");
    for step in 0..=8u32 {
        large_definition(&dir, n, u8::try_from(1 - current).expect("0 or 1"));
        let mut child = spawn_generate(&env, &dir, &out);
        std::thread::sleep(full.mul_f64(f64::from(step) / 8.0));
        kill_group(&child);
        let status = child.wait().expect("wait");
        assert!(
            matches!(status.code(), None | Some(1)),
            "generate over a hand edit exited {status:?}"
        );
        assert_eq!(
            std::fs::read_to_string(&edited).expect("read"),
            text,
            "a hand edit was overwritten"
        );
    }
    let made = plinth(&env, &["generate", "crash", "--out", "out"]);
    assert_eq!(made.code, 1);
    assert!(made.stderr.contains("c0001.tf"), "{}", made.stderr);
    assert_eq!(std::fs::read_to_string(&edited).expect("read"), text);

    // A later successful run leaves nothing beside the output.
    std::fs::remove_file(&edited).expect("rm");
    let made = plinth(&env, &["generate", "crash", "--out", "out"]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    for leftover in [
        ".out.plinth-staging",
        ".out.plinth-old",
        ".out.plinth-linked",
    ] {
        assert!(!env.join(leftover).exists(), "`{leftover}` remains");
    }
    let mut tree = tree_on_disk(&out);
    for (p, _) in FOREIGN {
        tree.remove(*p);
    }
    assert_eq!(tree, refs[1 - current]);
}
