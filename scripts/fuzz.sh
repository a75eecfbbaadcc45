#!/usr/bin/env bash
# Runs Plinth's fuzz harness (crates/plinth-core/tests/fuzz.rs) with a large budget in release
# mode, and prints how many cases were tried.
#
#   scripts/fuzz.sh [CASES_PER_TEST]     default 500000 (1,000,000 in all: structured + mutated)
#
# Environment: PLINTH_FUZZ_SEED (`random` by default here, or a number to replay a run),
# PLINTH_FUZZ_DEADLINE_MS (per-case deadline, 2000 by default). The log goes to
# target/fuzz/fuzz-<time>.log. Exit status is the test run's.
set -euo pipefail

cases="${1:-500000}"
case "$cases" in
'' | *[!0-9]*)
    echo "usage: $0 [CASES_PER_TEST]" >&2
    exit 2
    ;;
esac
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
mkdir -p target/fuzz
log="target/fuzz/fuzz-$(date +%Y%m%d-%H%M%S).log"
seed="${PLINTH_FUZZ_SEED:-random}"

# Optimised, but with overflow checks and debug assertions on, so that arithmetic on numbers
# from the definition panics here as it would in a debug build; in its own target directory,
# so the shared release build is not rebuilt with other flags.
export CARGO_TARGET_DIR="$root/target/fuzz-build"
export CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS=true
export CARGO_PROFILE_RELEASE_DEBUG_ASSERTIONS=true

echo "fuzz: $cases cases per test (structured and mutated), seed $seed, release build with overflow checks; log $log" >&2
cargo test --release -p plinth-core --test fuzz --no-run >&2
start=$(date +%s)
status=0
PLINTH_FUZZ_CASES="$cases" PLINTH_FUZZ_SEED="$seed" \
    cargo test --release -p plinth-core --test fuzz -- --nocapture --test-threads=2 \
    structured_definitions mutated_examples >"$log" 2>&1 || status=$?
end=$(date +%s)

grep -E '^fuzz\[' "$log" >&2 || true
total=$(sed -nE 's/^fuzz\[[a-z]+\]: ([0-9]+) cases.*/\1/p' "$log" | awk '{ s += $1 } END { print s + 0 }')
echo "fuzz: $total cases tried in $((end - start)) s, exit status $status (log: $log)" >&2
if [ "$status" -ne 0 ]; then
    grep -E -A40 'Test failed|panicked' "$log" | head -80 >&2 || true
fi
exit "$status"
