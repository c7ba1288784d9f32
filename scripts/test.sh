#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what the tests need, then runs lints,
# unit/integration/e2e tests (the e2e tests drive the real kubectl on loopback).
set -euo pipefail
cd "$(dirname "$0")/.."

# Tools: the Rust toolchain (rustup) and kubectl (the version dispatcher) come with the machine;
# install the rest only if missing.
if ! command -v kubectl >/dev/null 2>&1; then
  echo "kubectl is required for the end-to-end tests" >&2
  if command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && apt-get install -y -qq kubernetes-client) || true
  fi
fi
rustup component add clippy rustfmt >/dev/null 2>&1 || true

export CARGO_TERM_COLOR=never
# Bounded property/fuzz runs in CI; raise locally with KUBETWIN_PROPTEST_CASES.
export PROPTEST_CASES="${KUBETWIN_PROPTEST_CASES:-256}"

echo "== fmt"
cargo fmt --all -- --check
echo "== clippy"
cargo clippy --workspace --all-targets -j2 -- -D warnings
echo "== tests"
cargo test --workspace -j2 2>&1 | tee target/test-output.txt
grep -E "^test result:" target/test-output.txt | awk '{p+=$4; f+=$6; i+=$8} END {printf "%d passed, %d failed, %d skipped\n", p, f, i}'
# The benchmark programs, bounded (debug build, tiny sizes): they must run end to end; the figures
# they print are not checked (docs/PERFORMANCE.md has the full-size ones).
echo "== benchmarks (bounded)"
target/debug/examples/api_bench 500 8 in-process
target/debug/examples/cluster_bench examples/clusters/hybrid-small.yaml 2 5
target/debug/examples/scenario_bench 12 2 6 2 1
