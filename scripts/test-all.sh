#!/usr/bin/env bash
# keyproof's one test command: installs what the tests need (skipping what is
# present) and runs every test in every runtime. `.ci/run` calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "Rust toolchain pieces"
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi
rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed | grep -q '^clippy' || rustup component add clippy

step "cargo fmt --check"
cargo fmt --all -- --check
# fuzz/ is its own workspace (cargo-fuzz builds it with nightly): checked on its own.
cargo fmt --manifest-path fuzz/Cargo.toml -- --check

step "cargo clippy -D warnings (every crate, every target)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo doc -D warnings (core's API docs: no broken or ambiguous links)"
RUSTDOCFLAGS="-D warnings" cargo doc -p keyproof --no-deps --locked

step "cargo test (core, golden vectors regenerated and diffed, CLI)"
cargo test --workspace --locked

step "core builds for wasm32-unknown-unknown"
cargo build -p keyproof --target wasm32-unknown-unknown --locked

step "benchmarks compile (run them with: cargo bench -p keyproof-bench)"
cargo bench -p keyproof-bench --no-run --locked

step "Python package"
bash scripts/test-python.sh

step "Node package"
bash scripts/test-node.sh

step "WASM package"
bash scripts/test-wasm.sh

step "Redis rate-limit stores"
bash scripts/test-redis.sh

step "PostgreSQL key stores (Django app, SQLAlchemy store, README database quickstarts)"
bash scripts/test-postgres.sh

step "CLI demo (the README's main-job command)"
cargo run -q -p keyproof-cli --locked -- demo --dir "$(mktemp -d)" > /dev/null

step "fuzz targets build + smoke run"
FUZZ_RUNS=20000 bash scripts/fuzz.sh

printf '\nAll keyproof tests passed.\n'
