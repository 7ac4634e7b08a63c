#!/usr/bin/env bash
# Every test v6router has, as CI runs it: installs what it needs, then
# formatting, lints, unit tests, and the end-to-end tests that need root and
# network namespaces (real kernel, real peers) including the User-Mode Linux
# tunnel test and the fault-injection tests (one of which steps the system
# clock an hour forwards and back, and puts it back), power cuts in User-Mode
# Linux (tests/faults/power-cut.sh), a short fuzzing run of
# every target, and the packaging checks.
#
#   sudo tests/run-all.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run-all.sh: run as root (the end-to-end tests create network namespaces)"; exit 1; }

bash tests/setup.sh

# Leftovers of an interrupted earlier run would make tests fail oddly.
for ns in $(ip netns list | awk '/^v6t-/ {print $1}'); do ip netns del "$ns"; done

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets -- -D warnings
echo "== build"
cargo build --workspace
echo "== unit and end-to-end tests"
# One test at a time: several end-to-end tests measure reaction times (within
# a second) and two cores are shared with the peers they start.
cargo test --workspace --no-fail-fast -- --include-ignored --test-threads=1

echo "== power cuts under load in User-Mode Linux (tests/faults/power-cut.sh; CUTS=20, Kea KEA_CUTS=5)"
bash tests/faults/power-cut.sh

echo "== fuzzing, 30 s per target (tests/fuzz.sh; a campaign: FUZZ_RUNS=10000000 tests/fuzz.sh 3600)"
bash tests/fuzz.sh "${FUZZ_SECONDS:-30}"

if [ -x tests/packaging/check.sh ]; then
    echo "== packaging"
    bash tests/packaging/check.sh
fi

left=$(ip netns list | awk '/^v6t-/ {print $1}')
if [ -n "$left" ]; then
    echo "run-all.sh: tests left namespaces behind: $left"
    exit 1
fi
echo "run-all.sh: all passed"
