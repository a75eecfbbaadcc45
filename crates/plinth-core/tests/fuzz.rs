//! Fuzzing on the stable toolchain: generated and mutated platform definitions run through
//! load → validate → resolve → render, in memory. Every case must finish within a deadline
//! (a watchdog thread per case), must not panic, must locate every error it reports, and when
//! valid must generate files that keep their header, parse (HCL and YAML) and have only the
//! structure Plinth writes (no injected blocks, keys or documents).
//!
//! Budget: `PLINTH_FUZZ_CASES` cases per test (small by default, for CI); `PLINTH_FUZZ_SEED`
//! (`random` or a number; fixed by default); `PLINTH_FUZZ_DEADLINE_MS`. `scripts/fuzz.sh` runs
//! a large budget in release mode.

mod common;

use common::{Mutation, Scratch, Stats, bounded, budget, config};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Instant;

/// Default cases per test when `PLINTH_FUZZ_CASES` is unset: 3,000 in all, about half a
/// minute in a debug build (the two tests run in parallel).
const CI_STRUCTURED: u32 = 1_000;
const CI_MUTATED: u32 = 2_000;

/// The examples pass the same checks the fuzz cases do (so a failure below is the case's).
#[test]
fn examples_satisfy_the_properties() {
    let scratch = Scratch::new();
    for ex in plinth_core::scaffold::EXAMPLES {
        let files: Vec<(String, Vec<u8>)> = common::example_files()
            .into_iter()
            .filter(|(name, _, _)| *name == ex.name)
            .map(|(_, p, b)| (p, b))
            .collect();
        let outcome = common::run_bytes(&scratch.dir(), &files)
            .unwrap_or_else(|e| panic!("example `{}`: {e}", ex.name));
        assert!(outcome.rendered, "example `{}` did not render", ex.name);
    }
}

/// Structured generation: platform settings, clusters of every provider with known and unknown
/// keys and values of every type, node pools, services, environment chains, inheritance modes,
/// sensitive values, hostile strings.
#[test]
fn structured_definitions() {
    let scratch = Scratch::new();
    let dir = scratch.dir();
    let stats = Stats::default();
    let started = Instant::now();
    let mut runner = TestRunner::new(config(budget(CI_STRUCTURED)));
    let result = runner.run(&common::platform(), |case| {
        let overlay = case.overlay();
        let d = dir.clone();
        let shown = || {
            let files: Vec<(String, Vec<u8>)> = case
                .files
                .iter()
                .map(|(p, t)| (p.clone(), t.clone().into_bytes()))
                .collect();
            common::show(&files)
        };
        bounded(&stats, shown, move || common::run_overlay(&d, &overlay))
    });
    stats.report("structured", started);
    if let Err(e) = result {
        panic!("{e}");
    }
    // The generator must keep reaching the renderer, or the fuzz quietly tests only the parser.
    let cases = stats.cases.load(Ordering::Relaxed);
    let rendered = stats.rendered.load(Ordering::Relaxed);
    assert!(
        cases < 200 || rendered * 20 >= cases,
        "only {rendered} of {cases} generated definitions were valid"
    );
}

/// Byte-level mutations of the four examples' files: bit flips, inserted and deleted bytes,
/// truncation, splices across files, duplicated, swapped and deleted lines, syntax tokens,
/// invalid UTF-8.
#[test]
fn mutated_examples() {
    let scratch = Scratch::new();
    let dir = scratch.dir();
    let examples = common::example_files();
    let corpus: Vec<Vec<u8>> = examples.iter().map(|(_, _, b)| b.clone()).collect();
    let names: Vec<&'static str> = plinth_core::scaffold::EXAMPLES
        .iter()
        .map(|e| e.name)
        .collect();
    let stats = Stats::default();
    let started = Instant::now();
    let strategy = (
        proptest::sample::select(names),
        proptest::collection::vec((any::<usize>(), common::mutation()), 1..6),
    );
    let mut runner = TestRunner::new(config(budget(CI_MUTATED)));
    let result = runner.run(&strategy, |(example, mutations)| {
        let mut files: Vec<(String, Vec<u8>)> = examples
            .iter()
            .filter(|(name, _, _)| *name == example)
            .map(|(_, p, b)| (p.clone(), b.clone()))
            .collect();
        for (which, m) in &mutations {
            let n = files.len();
            common::apply(&mut files[which % n].1, m, &corpus);
        }
        let d: PathBuf = dir.clone();
        let input = files.clone();
        let shown = || {
            format!(
                "example `{example}`, {mutations:?}\n{}",
                common::show(&files)
            )
        };
        bounded(&stats, shown, move || common::run_bytes(&d, &input))
    });
    stats.report("mutated", started);
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// The mutations do what they say (the harness itself is tested).
#[test]
fn mutations_apply() {
    let mut b = b"a = 1\nb = 2\n".to_vec();
    common::apply(&mut b, &Mutation::DuplicateLine { line: 1 }, &[]);
    assert_eq!(b, b"a = 1\nb = 2\nb = 2\n");
    common::apply(&mut b, &Mutation::Truncate { at: 5 }, &[]);
    assert_eq!(b, b"a = 1");
    common::apply(
        &mut b,
        &Mutation::Insert {
            at: 0,
            bytes: vec![0xff],
        },
        &[],
    );
    assert!(std::str::from_utf8(&b).is_err());
}

/// Which errors stop generated definitions, most frequent first: a tool for keeping the
/// generator close to valid (`cargo test --test fuzz -- --ignored --nocapture`).
#[test]
#[ignore = "a report for tuning the generator, not a check"]
fn structured_validity_report() {
    use proptest::strategy::ValueTree;
    let scratch = Scratch::new();
    let mut runner = TestRunner::new(config(budget(500)));
    let strategy = match std::env::var("PLINTH_FUZZ_PROFILE").as_deref() {
        Ok("clean") => common::platform_of(common::Profile::Clean),
        Ok("dirty") => common::platform_of(common::Profile::Dirty),
        _ => common::platform(),
    };
    let mut codes: std::collections::BTreeMap<String, usize> = Default::default();
    let mut valid = 0;
    let n = budget(500);
    for _ in 0..n {
        let case = strategy.new_tree(&mut runner).expect("tree").current();
        let checked = plinth_core::check_loaded(plinth_core::load::load_virtual(
            &scratch.dir(),
            &case.overlay(),
        ));
        let mut seen = std::collections::BTreeSet::new();
        for d in checked.diagnostics.iter().filter(|d| d.is_error()) {
            let key = match std::env::var("PLINTH_FUZZ_REPORT").as_deref() {
                Ok("messages") => {
                    // Backquoted names and numbers vary: group by the message's shape.
                    let mut shape = String::new();
                    let mut quoted = false;
                    for c in d.message.chars() {
                        match c {
                            '`' if !quoted => {
                                quoted = true;
                                shape.push('X');
                            }
                            '`' => quoted = false,
                            _ if quoted => {}
                            c if c.is_ascii_digit() => {
                                if !shape.ends_with('N') {
                                    shape.push('N');
                                }
                            }
                            c => shape.push(c),
                        }
                    }
                    format!(
                        "{}: {}",
                        d.code,
                        shape.chars().take(100).collect::<String>()
                    )
                }
                _ => d.code.to_string(),
            };
            if seen.insert(d.code) {
                *codes.entry(key).or_default() += 1;
            }
        }
        if !checked.has_errors() {
            valid += 1;
        }
    }
    let mut v: Vec<_> = codes.into_iter().collect();
    v.sort_by_key(|e| std::cmp::Reverse(e.1));
    eprintln!("{valid} of {n} valid");
    for (k, n) in v.iter().take(40) {
        eprintln!("{n:5} {k}");
    }
}

/// Found by `scripts/fuzz.sh`: a cluster file that starts with a byte-order mark and has no
/// `provider` got a diagnostic pointing at the BOM's first byte, inside a character.
#[test]
fn regression_bom_first_in_a_cluster_file_without_provider() {
    let scratch = Scratch::new();
    let mut files: Vec<(String, Vec<u8>)> = common::example_files()
        .into_iter()
        .filter(|(name, _, _)| *name == "multi-cloud")
        .map(|(_, p, b)| (p, b))
        .collect();
    let gke = files
        .iter_mut()
        .find(|(p, _)| p == "clusters/gke_zero.toml")
        .expect("the example has a GKE cluster");
    gke.1 = "\u{feff}# Google GKE i".as_bytes().to_vec();
    let outcome = common::run_bytes(&scratch.dir(), &files).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !outcome.rendered,
        "a cluster without a provider must not render"
    );
}
