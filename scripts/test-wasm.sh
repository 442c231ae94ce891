#!/usr/bin/env bash
# Builds the keyproof WASM package (@keyproof/wasm: wasm-bindgen, wasm-opt,
# the shared JS layer from js/) and checks it: clippy for wasm32, every golden
# vector in place, the API / no-trap tests, Workers served by miniflare (real
# workerd) on 127.0.0.1 (Web-standard wrapper and Hono: 200/400/401/403/429),
# then `npm pack` installed in a fresh directory: Node (ESM and require), Deno
# and Bun smoke tests, a type check (tsc), and the README's examples run as
# written (Workers under miniflare). Idempotent; installs what is missing, needs only the npm registry
# and crates.io. `--build-only` stops after the build.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PKG="$ROOT/bindings-wasm"
cd "$PKG"

step() { printf '\n==> %s\n' "$*"; }

step "toolchain: wasm32-unknown-unknown, wasm-bindgen-cli at the crate's version"
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    rustup target add wasm32-unknown-unknown
fi
WB_VERSION="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock")"
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WB_VERSION" ]; then
    cargo install wasm-bindgen-cli --version "$WB_VERSION"
fi
wasm-bindgen --version

step "node $(node --version), npm $(npm --version 2>/dev/null): binaryen, miniflare (workerd), deno, bun, hono, esbuild"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    LOCK_BEFORE="$(sha256sum package-lock.json)"
    if ! npm ci --no-audit --no-fund >/dev/null 2>&1; then
        # The registry reachable here serves only this platform's optional
        # packages (deno's and bun's other platforms are missing), so npm ci's
        # lock-sync check fails; npm install installs the same locked versions.
        echo "npm ci refused the lock; installing the locked versions with npm install"
        npm install --no-audit --no-fund
    fi
    if [ "$LOCK_BEFORE" != "$(sha256sum package-lock.json)" ]; then
        echo "error: installing changed package-lock.json" >&2
        exit 1
    fi
else
    echo "node_modules up to date"
fi

step "cargo clippy -p keyproof-wasm --target wasm32-unknown-unknown -D warnings"
cargo clippy -p keyproof-wasm --target wasm32-unknown-unknown --locked -- -D warnings

step "build pkg/ (cargo wasm-release profile → wasm-bindgen --target web → wasm-opt → npm package)"
bash build.sh
[ "${1:-}" = "--build-only" ] && exit 0

step "node --test: golden vectors, API and no-trap tests, Workers on workerd (miniflare) over HTTP"
node --test --test-concurrency=1 test/*.test.mjs

step "npm pack → fresh directory → Node (ESM, require), Deno, Bun; the README as written"
SMOKE="$ROOT/target/wasm-smoke"
rm -rf "$SMOKE" && mkdir -p "$SMOKE"
TARBALL="$(cd pkg && npm pack --silent --pack-destination "$SMOKE" | tail -n 1)"
echo "tarball: $TARBALL ($(du -h "$SMOKE/$TARBALL" | cut -f1))"
HONO_VERSION="$(node -p "require('./package-lock.json').packages['node_modules/hono'].version")"
(cd "$SMOKE" && npm init -y >/dev/null && npm install --no-audit --no-fund --prefer-offline "./$TARBALL" "hono@$HONO_VERSION" >/dev/null)
cp test/smoke/smoke.mjs test/smoke/smoke.cjs "$SMOKE/"
(cd "$SMOKE" && node smoke.mjs && node smoke.cjs)
(cd "$SMOKE" && "$PKG/node_modules/.bin/deno" run --quiet --allow-read --allow-env smoke.mjs)
(cd "$SMOKE" && "$PKG/node_modules/.bin/bun" smoke.mjs)
cp test/smoke/types.test-d.ts test/smoke/tsconfig.json "$SMOKE/"
(cd "$SMOKE" && "$PKG/node_modules/.bin/tsc" -p tsconfig.json && echo "types: tsc --noEmit over the installed package passed")
node test/smoke/readme.check.mjs "$SMOKE"

step "wasm: all checks passed ($(node -p "const s = require('$ROOT/target/wasm-bindgen/size.json'); (s.raw / 1024).toFixed(1) + ' KiB raw, ' + (s.gzip / 1024).toFixed(1) + ' KiB gzip'") keyproof.wasm)"
