//! Resident memory, elapsed and CPU time after each stage of `plinth show --output json`, on
//! mimalloc as the CLI runs it: `cargo run --release -p plinth-bench --example rss_stages --
//! DIR`. Heap profilers
//! run on the system allocator (`show_profile`) and miss what mimalloc holds beyond what was
//! asked for: a block shrunk by less than half stays where it is, and memory one thread freed
//! serves only that thread.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// CPU time of every thread of the process so far (`/proc/self/task/*/schedstat`, in ns).
fn cpu_ms() -> f64 {
    let ns: u64 = std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    ns as f64 / 1e6
}

fn status(stage: &str, since: std::time::Instant) {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let get = |k: &str| {
        s.lines()
            .find_map(|l| l.strip_prefix(k))
            .map_or(String::new(), |v| v.trim().to_string())
    };
    eprintln!(
        "{stage:>10}: {:>7.1} ms  cpu {:>7.1} ms  rss {:>10}  hwm {:>10}",
        since.elapsed().as_secs_f64() * 1e3,
        cpu_ms(),
        get("VmRSS:"),
        get("VmHWM:")
    );
}

fn main() {
    // As the CLI does: the main thread is one of the pool's workers.
    let _ = rayon::ThreadPoolBuilder::new()
        .use_current_thread()
        .build_global();
    let dir = std::env::args().nth(1).unwrap_or_else(|| ".".into());
    let dir = std::path::Path::new(&dir);
    let t = std::time::Instant::now();
    status("start", t);
    let loaded = plinth_core::load::load(dir);
    status("load", t);
    let checked = plinth_core::check_loaded(loaded);
    status("check", t);
    let resolution = checked.resolution.expect("resolves");
    let envs: Vec<_> = resolution.environments.iter().collect();
    let mut sink = std::io::BufWriter::new(std::io::sink());
    plinth_core::write_show_json(&mut sink, &envs, true).expect("json");
    status("json", t);
}
