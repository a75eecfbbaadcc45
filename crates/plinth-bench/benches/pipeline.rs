//! Criterion benchmarks of each phase on the target platform size (3 environments × 500
//! clusters × 10 node pools × 20 services), of reading a 1.5 MB definition with `toml`
//! against `toml_edit`, and of Plinth loading a 1.5 MB definition of 190 cluster files.

use criterion::{Criterion, criterion_group, criterion_main};

/// The allocator `plinth` itself uses: the system one is markedly slower on these many small
/// values, and would measure a program nobody runs.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use plinth_bench::{Spec, single_file, write};

fn phases(c: &mut Criterion) {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("p");
    write(&dir, &Spec::TARGET).expect("synthetic platform");
    let out = dir.join("generated");
    let platform = plinth_core::load::load(&dir).platform.expect("loads");
    let resolution = platform.resolve();
    let tree = plinth_core::generate::render_all(&platform, &resolution, &out).expect("render");
    let mut g = c.benchmark_group("target");
    g.sample_size(10);
    g.bench_function("load_and_parse", |b| {
        b.iter(|| plinth_core::load::load(&dir))
    });
    g.bench_function("resolve", |b| b.iter(|| platform.resolve()));
    g.bench_function("validate", |b| b.iter(|| plinth_core::check(&dir)));
    g.bench_function("render_terraform", |b| {
        b.iter(|| {
            let mut t = plinth_core::render::Tree::default();
            plinth_core::render::terraform::render(&platform, &resolution, &mut t).expect("render");
            t
        })
    });
    g.bench_function("render_overlays", |b| {
        b.iter(|| {
            let mut t = plinth_core::render::Tree::default();
            plinth_core::render::kustomize::render(&platform, &resolution, &out, &mut t)
                .expect("render");
            t
        })
    });
    g.bench_function("show_json", |b| {
        b.iter(|| {
            let docs: Vec<_> = resolution
                .environments
                .iter()
                .map(plinth_core::ShowJson)
                .collect();
            let mut sink = std::io::BufWriter::new(std::io::sink());
            serde_json::to_writer_pretty(&mut sink, &docs).expect("json");
        })
    });
    plinth_core::generate::write(&out, &tree, false).expect("write");
    g.bench_function("generate_unchanged", |b| {
        b.iter(|| plinth_core::generate::write(&out, &tree, false).expect("write"))
    });
    g.finish();
}

fn parsers(c: &mut Criterion) {
    let text = single_file(&Spec {
        services: 4,
        ..Spec::TARGET
    });
    let mut g = c.benchmark_group(format!("read_{}_kib", text.len() / 1024));
    g.sample_size(20);
    g.bench_function("toml_spanned_detable", |b| {
        b.iter(|| toml::de::DeTable::parse(&text).expect("parse"))
    });
    g.bench_function("toml_edit_document", |b| {
        b.iter(|| text.parse::<toml_edit::Document<String>>().expect("parse"))
    });
    g.bench_function("toml_edit_document_mut", |b| {
        b.iter(|| text.parse::<toml_edit::DocumentMut>().expect("parse"))
    });
    g.finish();

    // Plinth's own load (read, parse, convert, decode every component) of a definition of
    // about 1.5 MB: 190 cluster files.
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("p");
    let bytes = write(
        &dir,
        &Spec {
            clusters: 190,
            ..Spec::TARGET
        },
    )
    .expect("synthetic platform");
    let mut g = c.benchmark_group(format!("load_{}_kib_definition", bytes / 1024));
    g.sample_size(20);
    g.bench_function("plinth_load", |b| b.iter(|| plinth_core::load::load(&dir)));
    g.finish();
}

criterion_group!(benches, phases, parsers);
criterion_main!(benches);
