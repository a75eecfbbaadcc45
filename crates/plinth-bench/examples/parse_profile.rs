//! Where does loading time go? toml parse vs conversion vs decoding.
use std::time::Instant;

fn main() {
    let spec = plinth_bench::Spec {
        clusters: 100,
        ..plinth_bench::Spec::TARGET
    };
    let files = plinth_bench::files(&spec);
    let total: usize = files.iter().map(|(_, t)| t.len()).sum();
    let t = Instant::now();
    for (_, text) in &files {
        let _ = toml::de::DeTable::parse(text).expect("parse");
    }
    let parse = t.elapsed();
    let t = Instant::now();
    for (_, text) in &files {
        let _ = text.parse::<toml_edit::Document<String>>().expect("parse");
    }
    let edit = t.elapsed();
    let dir = std::path::Path::new("/tmp/pt/p");
    let _ = std::fs::remove_dir_all(dir);
    plinth_bench::write(dir, &spec).expect("write");
    let t = Instant::now();
    let l = plinth_core::load::load(dir);
    let load = t.elapsed();
    let p = l.platform.expect("p");
    let t = Instant::now();
    let _ = p.resolve();
    let resolve = t.elapsed();
    println!(
        "{} KB: toml DeTable {:?}, toml_edit {:?}, load {:?}, resolve {:?}",
        total / 1024,
        parse,
        edit,
        load,
        resolve
    );
}
