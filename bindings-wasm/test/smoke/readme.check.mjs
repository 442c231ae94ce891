// Runs bindings-wasm/README.md as a new user would, in a fresh directory where
// the packed tarball (and Hono) are installed: every code block named by its
// first line (`// src/worker.js` …) is written out exactly as written; the mint
// script and the plain example run under Node, Deno and Bun; each Worker is
// bundled as Wrangler bundles it (esbuild, `workerd` conditions, the .wasm as a
// CompiledWasm module) and served by miniflare (real workerd) on 127.0.0.1 with
// the bindings its wrangler.toml block declares, then answers real requests.
//
//   node readme.check.mjs <dir with node_modules/@keyproof/wasm and hono>
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const crate = path.resolve(here, '../..');
const tools = createRequire(path.join(crate, 'package.json'));
const { Miniflare } = tools('miniflare');
const esbuild = tools('esbuild');
const bin = (name) => path.join(crate, 'node_modules', '.bin', name);

const project = path.resolve(process.argv[2] ?? '.');
const dir = path.join(project, 'readme');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });

// The README's blocks, exactly as written.
const readme = readFileSync(path.join(crate, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], code: m[2] }));
const files = new Map();
for (const { lang, code } of blocks) {
  const name = lang === 'js' ? code.match(/^\/\/ (\S+\.m?js)/)?.[1] : undefined;
  if (!name) continue;
  mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
  writeFileSync(path.join(dir, name), code);
  files.set(name, code);
}
const plain = blocks.find((b) => b.lang === 'js' && b.code.includes('verifySync') && !b.code.startsWith('//'));
assert.ok(plain, 'the README has the plain runtime example');
writeFileSync(path.join(dir, 'example.mjs'), plain.code);
const tomls = blocks.filter((b) => b.lang === 'toml').map((b) => b.code);
for (const name of ['mint.mjs', 'src/worker.js', 'src/app.js', 'src/worker-durable.js']) assert.ok(files.has(name), name);
assert.ok(tomls.some((t) => t.includes('main = "src/worker.js"') && t.includes('binding = "KEYS"')), 'wrangler.toml for the Worker');
assert.ok(tomls.some((t) => t.includes('main = "src/worker-durable.js"') && t.includes('name = "RATE_LIMITS", class_name = "RateLimitBucket"')), 'wrangler.toml for the Durable Object');
const compatibilityDate = tomls[0].match(/compatibility_date = "([\d-]+)"/)[1];

const run = (cmd, args) => execFileSync(cmd, args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });

// The mint script and the plain example, under Node, Deno and Bun.
const minted = JSON.parse(run(process.execPath, ['mint.mjs']).trim());
assert.match(minted.key, /^kp_live_/);
assert.equal(minted.record.hash, minted.hash);
for (const [cmd, args] of [
  [process.execPath, ['example.mjs']],
  [bin('deno'), ['run', '--quiet', '--allow-read', '--allow-env', 'example.mjs']],
  [bin('bun'), ['example.mjs']],
]) {
  assert.equal(run(cmd, args).trim(), '200 Smoke key', `${path.basename(cmd)} example.mjs`);
}
console.log('README: mint.mjs and the runtime example ran under Node, Deno and Bun');

// A second key without `reports:read`, minted with the installed package.
const kp = (await import(pathToFileURL(path.join(project, 'node_modules', '@keyproof', 'wasm', 'node.js')).href)).default;
const other = kp.mint('keyproof_live', { name: 'No scopes' });

/** Bundles `entry` as Wrangler does and serves it with miniflare. */
async function serve(entry, options = {}) {
  const wasm = new Map();
  const bundle = await esbuild.build({
    entryPoints: [path.join(dir, entry)],
    absWorkingDir: dir,
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    external: ['cloudflare:*', 'node:*'],
    logLevel: 'warning',
    plugins: [
      {
        name: 'wasm-modules',
        setup(build) {
          build.onResolve({ filter: /\.wasm$/ }, (args) => {
            const file = path.resolve(args.resolveDir, args.path);
            wasm.set(path.basename(file), file);
            return { path: `./${path.basename(file)}`, external: true };
          });
        },
      },
    ],
  });
  const mf = new Miniflare({
    modulesRoot: dir,
    modules: [
      { type: 'ESModule', path: path.join(dir, 'worker.mjs'), contents: bundle.outputFiles[0].text },
      ...[...wasm].map(([name, file]) => ({ type: 'CompiledWasm', path: path.join(dir, name), contents: readFileSync(file) })),
    ],
    kvNamespaces: ['KEYS'],
    compatibilityDate,
    host: '127.0.0.1',
    port: 0,
    ...options,
  });
  const url = await mf.ready;
  const kv = await mf.getKVNamespace('KEYS');
  for (const m of [minted, other]) await kv.put(m.record.hash, JSON.stringify(m.record));
  return { mf, url };
}

async function get(url, target, key, method = 'GET') {
  const res = await fetch(new URL(target, url), { method, headers: key ? { authorization: `Bearer ${key}` } : {} });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

// src/worker.js: the Web-standard wrapper.
{
  const { mf, url } = await serve('src/worker.js');
  const ok = await get(url, '/v1/reports', minted.key);
  assert.equal(ok.status, 200, ok.body);
  assert.deepEqual(JSON.parse(ok.body), { reports: [], caller: 'Reports reader' });
  assert.match(ok.headers.get('RateLimit'), /^"starter";r=9;t=\d+$/);
  const none = await get(url, '/v1/reports');
  assert.equal(none.status, 401);
  assert.equal(none.headers.get('WWW-Authenticate'), 'Bearer realm="api"');
  assert.equal(none.headers.get('Content-Type'), 'application/problem+json');
  assert.equal(JSON.parse(none.body).code, 'missing_credentials');
  const scope = await get(url, '/v1/reports', other.key);
  assert.equal(scope.status, 403);
  assert.match(scope.headers.get('WWW-Authenticate'), /error="insufficient_scope"/);
  const statuses = [];
  for (let i = 0; i < 10; i++) statuses.push((await get(url, '/v1/reports', minted.key)).status);
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 200, 200, 200, 429]); // the eleventh in the burst
  const limited = await get(url, '/v1/reports', minted.key);
  assert.equal(limited.status, 429);
  assert.ok(Number(limited.headers.get('Retry-After')) >= 1);
  await mf.dispose();
  console.log('README: src/worker.js answered 200, 401, 403 and 429 under workerd');
}

// src/app.js: Hono.
{
  const { mf, url } = await serve('src/app.js');
  const ok = await get(url, '/v1/reports', minted.key);
  assert.equal(ok.status, 200, ok.body);
  assert.deepEqual(JSON.parse(ok.body), { reports: [], caller: 'Reports reader' });
  const write = await get(url, '/v1/reports', minted.key, 'POST');
  assert.equal(write.status, 403);
  assert.equal(JSON.parse(write.body).code, 'insufficient_scope');
  const none = await get(url, '/v1/reports');
  assert.equal(none.status, 401);
  assert.equal(none.headers.get('WWW-Authenticate'), 'Bearer realm="api"');
  await mf.dispose();
  console.log('README: src/app.js (Hono) answered 200, 401 and 403 under workerd');
}

// src/worker-durable.js: rate-limit state in a Durable Object survives the isolate.
{
  const persist = path.join(dir, '.durable');
  const options = { durableObjects: { RATE_LIMITS: 'RateLimitBucket' }, durableObjectsPersist: persist };
  let { mf, url } = await serve('src/worker-durable.js', options);
  const first = [];
  for (let i = 0; i < 10; i++) first.push((await get(url, '/v1/reports', minted.key)).status);
  assert.deepEqual(first, Array(10).fill(200)); // the burst
  await mf.dispose();
  // A new workerd process (a new isolate): the bucket's state is where it was,
  // so the burst stays spent (at most one request refilled while restarting;
  // memory state would allow all three).
  ({ mf, url } = await serve('src/worker-durable.js', options));
  const second = [];
  for (let i = 0; i < 3; i++) second.push((await get(url, '/v1/reports', minted.key)).status);
  assert.ok(second.filter((s) => s === 429).length >= 2, `after restart: ${second}`);
  await mf.dispose();
  console.log('README: src/worker-durable.js kept rate-limit state in a Durable Object across restarts');
}
