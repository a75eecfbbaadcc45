//! What `plinth show --output json` does, on the system allocator so heap profilers
//! (heaptrack, valgrind) see every allocation: `cargo run --release -p plinth-bench --example
//! show_profile -- DIR [STAGE]`. With STAGE (`load`, `check`), the process exits right after
//! that stage without freeing anything, so heaptrack's "leaked" figure is what was live then.

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| ".".into());
    let stage = std::env::args().nth(2).unwrap_or_default();
    let dir = std::path::Path::new(&dir);
    if stage == "load" {
        let loaded = plinth_core::load::load(dir);
        std::mem::forget(loaded);
        std::process::exit(0);
    }
    let checked = plinth_core::check(dir);
    if stage == "check" {
        std::mem::forget(checked);
        std::process::exit(0);
    }
    let resolution = checked.resolution.expect("resolves");
    let envs: Vec<_> = resolution.environments.iter().collect();
    let mut sink = std::io::BufWriter::new(std::io::sink());
    plinth_core::write_show_json(&mut sink, &envs, true).expect("json");
}
