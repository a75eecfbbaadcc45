//! Skipping a test whose engine is missing, where people see it.
//!
//! The test harness captures `eprintln!` of passing tests, so a "loud" skip written that way is
//! never shown. [`skip`] writes to the process's stderr directly (shown by `cargo test` as it
//! runs) and appends a line to the file named by [`SKIP_LOG_ENV`], which `.ci/run` counts in its
//! summary. With [`REQUIRE_ENV`] set, a missing engine is a failure instead.

use std::io::Write;

/// Set (to anything but `0`) where every engine must be present: a skip panics instead.
pub const REQUIRE_ENV: &str = "PLINTH_REQUIRE_ENGINES";
/// A file every skip appends one line to (`<test>: <reason>`).
pub const SKIP_LOG_ENV: &str = "PLINTH_SKIP_LOG";

/// Reports that `test` is skipped because `reason`; panics when engines are required.
pub fn skip(test: &str, reason: &str) {
    let line = format!("SKIPPED {test}: {reason}");
    assert!(
        !engines_required(),
        "{line} ({REQUIRE_ENV} is set: every engine must be present)"
    );
    let _ = writeln!(std::io::stderr().lock(), "\n=== {line} ===");
    if let Some(log) = std::env::var_os(SKIP_LOG_ENV)
        && let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
    {
        let _ = writeln!(f, "{test}: {reason}");
    }
}

/// Whether [`REQUIRE_ENV`] asks for every engine.
pub fn engines_required() -> bool {
    std::env::var_os(REQUIRE_ENV).is_some_and(|v| !v.is_empty() && v != "0")
}
