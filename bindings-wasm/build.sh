#!/usr/bin/env bash
# Builds the WASM package into bindings-wasm/pkg/: cargo (wasm profile) →
# wasm-bindgen (ES module, `--target web`) → wasm-opt (binaryen from npm)
# → the npm package (entries for workerd, Deno, Bun, browsers and Node, the
# shared JS layer, types). Needs the wasm32 target, wasm-bindgen-cli at the
# version of the `wasm-bindgen` crate in Cargo.lock, and `npm ci` done here;
# scripts/test-wasm.sh installs all of that.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
cd "$root"

# The wasm profile, defined here so the workspace's release profile stays as it
# is. Speed over size by default: opt-level 3 + wasm-opt -O3 verifies ~2.3x
# faster than opt-level "z" + wasm-opt -Oz for ~19% more bytes (measured with
# bench/wasm/verify.mjs); KEYPROOF_WASM_OPT_LEVEL='"z"' KEYPROOF_WASM_OPT=-Oz
# builds the small one. No `strip = true`: wasm-bindgen reads custom sections.
profile=(
  --profile wasm-release
  --config 'profile.wasm-release.inherits="release"'
  --config "profile.wasm-release.opt-level=${KEYPROOF_WASM_OPT_LEVEL:-3}"
  --config 'profile.wasm-release.lto=true'
  --config 'profile.wasm-release.codegen-units=1'
  --config 'profile.wasm-release.panic="abort"'
  --config 'profile.wasm-release.debug=false'
  ${KEYPROOF_WASM_RUSTFLAGS:+--config "target.wasm32-unknown-unknown.rustflags=$KEYPROOF_WASM_RUSTFLAGS"}
)
cargo build -p keyproof-wasm --target wasm32-unknown-unknown --locked "${profile[@]}"

out="$here/pkg"
raw="$root/target/wasm32-unknown-unknown/wasm-release/keyproof_wasm.wasm"
gen="$root/target/wasm-bindgen"
rm -rf "$gen" && mkdir -p "$gen"
wasm-bindgen --target web --omit-default-module-path --out-dir "$gen" --out-name keyproof_wasm "$raw"

# The features rustc enables for wasm32-unknown-unknown (Rust ≥ 1.87).
"$here/node_modules/.bin/wasm-opt" "${KEYPROOF_WASM_OPT:--O3}" --strip-debug --strip-producers \
  --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue \
  "$gen/keyproof_wasm_bg.wasm" -o "$gen/keyproof.wasm"

node "$here/npm/assemble.mjs" "$gen" "$out"
