#!/usr/bin/env bash
# Builds the keyproof Node package (napi-rs addon, release, linux-x64-gnu + the
# shared JS layer from js/ bundled into dist/) and checks it: node --test (every
# golden vector in place, Express 4/5, Fastify and Hono over real HTTP on
# 127.0.0.1, worker_threads, secret hygiene, the README quickstart), the type
# test (tsc --noEmit), then `npm pack` installed in a fresh directory with ESM
# and CJS smoke tests. Idempotent; needs only the npm registry and crates.io.
# `--build-only` stops after the build.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PKG="$ROOT/bindings-node"
cd "$PKG"

step() { printf '\n==> %s\n' "$*"; }

step "node $(node --version), npm $(npm --version 2>/dev/null)"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    LOCK_BEFORE="$(sha256sum package-lock.json)"
    if ! npm ci --no-audit --no-fund >/dev/null 2>&1; then
        # The registry reachable here serves only this platform's optional
        # packages (e.g. @napi-rs/lzma-android-arm64 is a 404), so npm ci's
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

step "build the engine (napi build --release) and bundle js/"
npx --no-install napi build --platform --release --no-js --dts native.d.ts
mkdir -p dist
npx --no-install esbuild "$ROOT/js/index.js" --bundle --format=cjs --platform=neutral \
    --outfile=dist/keyproof-shared.cjs --log-level=warning
cp "$ROOT/js/keyproof.d.ts" dist/keyproof.d.ts
[ "${1:-}" = "--build-only" ] && exit 0

step "node --test"
node --test --test-concurrency=1 test/

step "types (tsc --noEmit over test/types.test-d.ts)"
npx --no-install tsc -p test/tsconfig.json

step "npm pack, install in a fresh directory, ESM and CJS smoke tests"
SMOKE="$ROOT/target/node-smoke"
rm -rf "$SMOKE" && mkdir -p "$SMOKE"
TARBALL="$(npm pack --silent --pack-destination "$SMOKE" | tail -n 1)"
echo "tarball: $TARBALL ($(du -h "$SMOKE/$TARBALL" | cut -f1))"
(cd "$SMOKE" && npm init -y >/dev/null && npm install --no-audit --no-fund --offline "./$TARBALL" >/dev/null)
cp test/smoke.mjs test/smoke.cjs test/smoke.mts "$SMOKE/"
(cd "$SMOKE" && node smoke.mjs && node smoke.cjs \
    && node "$PKG/node_modules/typescript/bin/tsc" --noEmit --strict --module nodenext --moduleResolution nodenext smoke.mts \
    && echo "types of the installed package check")

step "node: all checks passed"
