// WASM section of the bench (not run by the tests): per-call full verify of the
// same key with the same checks (hash, expiry, scope, client IP allowlist) —
//   keyproof's verify over the WASM engine
//   a hand-rolled `await crypto.subtle.digest` (WebCrypto) verify
//   a hand-rolled synchronous node:crypto verify (createHash + timingSafeEqual)
// in Node's V8 and inside workerd (miniflare, real workerd, nodejs_compat for
// node:crypto), plus instantiate time and the .wasm size (raw, gzip).
//
//   bash scripts/test-wasm.sh --build-only && node bench/wasm/verify.mjs [--json]
import { execFileSync } from 'node:child_process';
import * as nodeCrypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync, brotliCompressSync } from 'node:zlib';
import os from 'node:os';
import { loop, makeCases } from './cases.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const pkg = path.join(root, 'bindings-wasm', 'pkg');
const JSON_OUT = process.argv.includes('--json');
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const N = Number(process.env.N ?? 100_000);
const N_ASYNC = Number(process.env.N_ASYNC ?? 20_000);
const log = JSON_OUT ? () => {} : (...a) => console.log(...a);

// Size ----------------------------------------------------------------------
const wasmBytes = readFileSync(path.join(pkg, 'keyproof.wasm'));
const size = {
  raw_bytes: wasmBytes.length,
  gzip_bytes: gzipSync(wasmBytes, { level: 9 }).length,
  brotli_bytes: brotliCompressSync(wasmBytes).length,
};

// Instantiate: fresh processes, so nothing is cached -----------------------
// compile: `new WebAssembly.Module(bytes)`; instantiate: wasm-bindgen's
// `initSync` with the compiled module (what a Worker does at isolate start)
// plus the shared layer's `createKeyproof`; then the first `new Engine()` and
// the first verify (both include V8's lazy compilation of the functions they
// run), and a later `new Engine()`.
function startupProbe() {
  const code = `
    import { readFileSync } from 'node:fs';
    const dir = ${JSON.stringify(pkg)};
    const bytes = readFileSync(dir + '/keyproof.wasm');
    const native = await import(dir + '/native.js');
    const { createKeyproof } = await import(dir + '/shared.js');
    const config = ${JSON.stringify({ formats: ['keyproof_live'], policy: { routes: [{ method: 'GET', path: '/v1/briefs', all_of: ['briefs:read'] }] } })};
    let t = performance.now();
    const module = new WebAssembly.Module(bytes);
    const compile = performance.now() - t;
    t = performance.now();
    native.initSync({ module });
    const kp = createKeyproof(native);
    const instantiate = performance.now() - t;
    t = performance.now();
    const engine = new kp.Engine(config);
    const firstEngine = performance.now() - t;
    const m = engine.mint({ name: 'Startup key', scopes: ['briefs:read'] });
    const v = new kp.Verifier(engine, { lookup: () => m.record });
    t = performance.now();
    v.verifySync({ method: 'GET', path: '/v1/briefs', headers: { authorization: 'Bearer ' + m.key } });
    const firstVerify = performance.now() - t;
    t = performance.now();
    new kp.Engine(config);
    const laterEngine = performance.now() - t;
    console.log(JSON.stringify({ compile, instantiate, firstEngine, firstVerify, laterEngine }));`;
  const runs = [];
  for (let i = 0; i < 7; i++) runs.push(JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' })));
  const median = (k) => runs.map((r) => r[k]).sort((a, b) => a - b)[Math.floor(runs.length / 2)];
  return {
    compile_ms: median('compile'),
    instantiate_ms: median('instantiate'),
    first_engine_ms: median('firstEngine'),
    first_verify_ms: median('firstVerify'),
    later_engine_ms: median('laterEngine'),
  };
}
const instantiate = startupProbe();

// Node's V8 -------------------------------------------------------------------
const kp = (await import(pathToFileURL(path.join(pkg, 'node.js')).href)).default;
const nodeCases = makeCases(kp, nodeCrypto);
for (const [name, fn] of nodeCases) if ((await fn()) !== 200) throw new Error(`${name} did not allow the request`);
const node = {};
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, fn, isAsync] of nodeCases) {
    const n = isAsync ? N_ASYNC : N;
    await loop(fn, isAsync, Math.min(2_000, n));
    const t = process.hrtime.bigint();
    await loop(fn, isAsync, n);
    const ns = Number(process.hrtime.bigint() - t) / n;
    node[name] = Math.min(node[name] ?? Infinity, ns);
  }
}

// workerd (miniflare) -------------------------------------------------------
async function inWorkerd() {
  const tools = createRequire(path.join(root, 'bindings-wasm', 'package.json'));
  const { Miniflare } = tools('miniflare');
  const mf = new Miniflare({
    modules: true,
    modulesRoot: root,
    scriptPath: path.join(here, 'worker.js'),
    modulesRules: [
      { type: 'ESModule', include: ['**/*.js'] },
      { type: 'CompiledWasm', include: ['**/*.wasm'] },
    ],
    compatibilityDate: '2026-04-01',
    compatibilityFlags: ['nodejs_compat'],
  });
  try {
    const url = await mf.ready;
    const get = async (q) => (await mf.dispatchFetch(new URL(q, url))).text();
    const cases = JSON.parse(await get('/cases'));
    const out = {};
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, c] of cases.entries()) {
        const n = c.async ? N_ASYNC : N;
        if ((await get(`/run?case=${i}&n=2000`)) !== '200') throw new Error(`${c.name} did not allow the request in workerd`);
        let t = process.hrtime.bigint();
        await get(`/run?case=${i}&n=0`);
        const base = Number(process.hrtime.bigint() - t);
        t = process.hrtime.bigint();
        await get(`/run?case=${i}&n=${n}`);
        const ns = (Number(process.hrtime.bigint() - t) - base) / n;
        out[c.name] = Math.min(out[c.name] ?? Infinity, ns);
      }
    }
    return out;
  } finally {
    await mf.dispose();
  }
}
let workerd;
try {
  workerd = await inWorkerd();
} catch (e) {
  workerd = { skipped: String(e && e.message).slice(0, 300) };
}

// Report --------------------------------------------------------------------
const KP = nodeCases[0][0];
const WEB = nodeCases[1][0];
const SYNC = nodeCases[2][0];
function table(label, rows) {
  if (!rows || rows.skipped) return log(`\n${label}: skipped (${rows?.skipped})`);
  log(`\n${label}\n| verify | ns/call | calls/s | keyproof is |\n|---|---|---|---|`);
  for (const [name, ns] of Object.entries(rows)) {
    const ratio = name === KP ? '—' : `${(ns / rows[KP]).toFixed(2)}× faster`;
    log(`| ${name} | ${ns.toFixed(0)} | ${Math.round(1e9 / ns).toLocaleString('en-US')} | ${ratio} |`);
  }
}
const ratios = (rows) =>
  rows && !rows.skipped ? { vs_webcrypto: rows[WEB] / rows[KP], vs_node_crypto: rows[SYNC] / rows[KP] } : null;
const result = {
  size,
  instantiate,
  node_ns: node,
  workerd_ns: workerd,
  ratios: { node: ratios(node), workerd: ratios(workerd) },
};
const goals = {
  size_raw_le_150kb: size.raw_bytes <= 150 * 1024,
  size_gzip_le_60kb: size.gzip_bytes <= 60 * 1024,
  instantiate_le_5ms: instantiate.instantiate_ms <= 5,
  node_ge_8x_webcrypto: (result.ratios.node?.vs_webcrypto ?? 0) >= 8,
  node_faster_than_node_crypto: (result.ratios.node?.vs_node_crypto ?? 0) > 1,
  workerd_ge_8x_webcrypto: (result.ratios.workerd?.vs_webcrypto ?? 0) >= 8,
  workerd_faster_than_node_crypto: (result.ratios.workerd?.vs_node_crypto ?? 0) > 1,
};
result.goals = goals;

log(`@keyproof/wasm bench — node ${process.version}, ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(1)}; ${N} sync / ${N_ASYNC} async calls × ${ROUNDS} rounds, best round per row`);
result.load = os.loadavg()[0];
log(`keyproof.wasm: ${(size.raw_bytes / 1024).toFixed(1)} KiB raw, ${(size.gzip_bytes / 1024).toFixed(1)} KiB gzip, ${(size.brotli_bytes / 1024).toFixed(1)} KiB brotli`);
const st = instantiate;
log(`startup in Node (fresh process, median of 7): compile ${st.compile_ms.toFixed(2)} ms; instantiate (initSync with the compiled module + createKeyproof) ${st.instantiate_ms.toFixed(2)} ms; first new Engine() ${st.first_engine_ms.toFixed(2)} ms and first verify ${st.first_verify_ms.toFixed(2)} ms (both with V8's lazy compilation); a later new Engine() ${st.later_engine_ms.toFixed(2)} ms`);
table("Node's V8", node);
table('workerd (miniflare, nodejs_compat)', workerd);
log(`\ngoals: ${Object.entries(goals).map(([k, v]) => `${k} ${v ? 'met' : 'NOT met'}`).join(', ')}`);
if (JSON_OUT) console.log(JSON.stringify(result));
