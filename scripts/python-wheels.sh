#!/usr/bin/env bash
# Builds the two keyproof wheels into DIR (default target/wheels), replacing any
# older keyproof wheels there: `cp310-abi3` (CPython ≥ 3.10 reads Python text in
# place) and `cp39-abi3` (CPython 3.9). Install with
#   pip install --no-index --find-links DIR --no-deps --force-reinstall keyproof
# and pip picks the newest wheel the interpreter accepts, as it would from PyPI.
# MATURIN names the maturin to run (default: .venv/bin/maturin).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${1:-$ROOT/target/wheels}"
MATURIN="${MATURIN:-$ROOT/.venv/bin/maturin}"
mkdir -p "$DIR"
rm -f "$DIR"/keyproof-*.whl
"$MATURIN" build --release -m "$ROOT/bindings-python/Cargo.toml" -o "$DIR" \
    --no-default-features --features abi3-py310
"$MATURIN" build --release -m "$ROOT/bindings-python/Cargo.toml" -o "$DIR"
for tag in cp310-abi3 cp39-abi3; do
    if ! compgen -G "$DIR/keyproof-*-$tag-*.whl" >/dev/null; then
        echo "error: maturin wrote no $tag keyproof wheel to $DIR" >&2
        exit 1
    fi
done
