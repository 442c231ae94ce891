// Workers served by miniflare (real workerd) on 127.0.0.1 answer real HTTP
// requests: 200 / 400 / 401 / 403 / 429 with the exact statuses, headers and
// bodies the engine decides (replayed here in Node for comparison), through the
// Web-standard wrapper and the Hono middleware of the shared layer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import kp from '../pkg/node.js';
import { config } from './worker/config.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const crate = path.dirname(here);
const NOW = Date.now();

const engine = new kp.Engine(config);
const reader = engine.mint({ name: 'Edge reader', scopes: ['items:read'] });
const writerless = engine.mint({ name: 'Edge other', scopes: ['items:read'] });
const records = new Map([reader, writerless].map((m) => [m.record.hash, m.record]));

async function serve(script) {
  const mf = new Miniflare({
    modules: true,
    modulesRoot: crate,
    scriptPath: path.join(here, 'worker', script),
    // wasm-bindgen's `--target web` output is ES modules in .js files.
    modulesRules: [
      { type: 'ESModule', include: ['**/*.js'] },
      { type: 'CompiledWasm', include: ['**/*.wasm'] },
    ],
    kvNamespaces: ['KEYS'],
    compatibilityDate: '2026-04-01',
    host: '127.0.0.1',
    port: 0,
  });
  const url = await mf.ready;
  const kv = await mf.getKVNamespace('KEYS');
  for (const [hash, record] of records) await kv.put(hash, JSON.stringify(record));
  return { mf, url };
}

/** What the engine decides for this request, in Node (the edge must answer exactly this). */
function expected(method, target, headers) {
  const v = new kp.Verifier(engine, { lookup: (h) => records.get(h) ?? null, rateLimits: { get: () => null, compareAndSet: () => true } });
  return v.verifySync({ method, path: target, headers });
}

async function call(url, method, target, headers = {}) {
  const res = await fetch(new URL(target, url), { method, headers });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

function assertAnswers(got, decision, label) {
  assert.equal(got.status, decision.status, label);
  for (const [name, value] of decision.headers) {
    if (/^ratelimit/i.test(name)) continue; // spent quota differs per request; checked separately
    assert.equal(got.headers.get(name), value, `${label}: ${name}`);
  }
  if (!decision.allowed) assert.equal(got.body, decision.body, label);
}

for (const script of ['web.js', 'hono.js']) {
  let server;
  before(async () => {
    server = await serve(script);
  });
  after(async () => {
    await server.mf.dispose();
  });

  test(`${script}: 200 with the principal, RateLimit headers on the handler's response`, async () => {
    const got = await call(server.url, 'GET', '/v1/items', { authorization: `Bearer ${reader.key}` });
    assert.equal(got.status, 200);
    const body = JSON.parse(got.body);
    assert.equal(body.runtime, 'workerd');
    assert.equal(body.keyId, reader.record.id);
    assert.deepEqual(body.scopes, ['items:read']);
    assert.match(got.headers.get('RateLimit'), /^"starter";r=2;t=\d+$/);
    assert.equal(got.headers.get('RateLimit-Policy'), expected('GET', '/v1/items', { authorization: `Bearer ${reader.key}` }).header('RateLimit-Policy'));
  });

  test(`${script}: 401 missing credentials and unknown key, with the challenge and problem+json`, async () => {
    for (const headers of [{}, { authorization: `Bearer ${reader.key.slice(0, -4)}AAAA` }, { authorization: 'Token abc' }]) {
      const got = await call(server.url, 'GET', '/v1/items', headers);
      const want = expected('GET', '/v1/items', headers);
      assert.equal(want.status, 401);
      assertAnswers(got, want, `${script} ${JSON.stringify(headers)}`);
      assert.equal(got.headers.get('content-type'), 'application/problem+json');
      assert.match(got.headers.get('www-authenticate'), /^Bearer realm=/);
    }
  });

  test(`${script}: 403 insufficient scope names the missing scope`, async () => {
    const headers = { authorization: `Bearer ${writerless.key}` };
    const got = await call(server.url, 'POST', '/v1/items', headers);
    const want = expected('POST', '/v1/items', headers);
    assert.equal(want.code, 'insufficient_scope');
    assertAnswers(got, want, script);
    assert.match(got.headers.get('www-authenticate'), /error="insufficient_scope"/);
    assert.equal(JSON.parse(got.body).status, 403);
  });

  test(`${script}: 400 for a malformed request (conflicting credentials, invalid path)`, async () => {
    const conflicting = { authorization: `Bearer ${reader.key}`, 'x-api-key': writerless.key };
    let got = await call(server.url, 'GET', '/v1/items', conflicting);
    let want = expected('GET', '/v1/items', conflicting);
    assert.equal(want.code, 'conflicting_credentials');
    assertAnswers(got, want, `${script} conflicting`);
    const headers = { authorization: `Bearer ${reader.key}` };
    got = await call(server.url, 'GET', '/v1//items', headers);
    want = expected('GET', '/v1//items', headers);
    assert.equal(want.code, 'invalid_path');
    assertAnswers(got, want, `${script} path`);
  });

  test(`${script}: 429 once the burst is spent, with Retry-After`, async () => {
    const fresh = engine.mint({ name: `Burst ${script}`, scopes: ['items:read'] });
    const kv = await server.mf.getKVNamespace('KEYS');
    await kv.put(fresh.record.hash, JSON.stringify(fresh.record));
    const headers = { authorization: `Bearer ${fresh.key}` };
    const statuses = [];
    let last;
    for (let i = 0; i < 5; i++) {
      last = await call(server.url, 'GET', '/v1/items', headers);
      statuses.push(last.status);
    }
    assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
    const body = JSON.parse(last.body);
    assert.equal(body.code, 'rate_limited');
    assert.equal(body.status, 429);
    assert.ok(Number(last.headers.get('retry-after')) >= 1);
    assert.match(last.headers.get('RateLimit'), /^"starter";r=0;t=\d+$/);
    // Concurrent requests against one burst: exactly the burst passes.
    const another = engine.mint({ name: `Race ${script}`, scopes: ['items:read'] });
    await kv.put(another.record.hash, JSON.stringify(another.record));
    const all = await Promise.all(
      Array.from({ length: 8 }, () => call(server.url, 'GET', '/v1/items', { authorization: `Bearer ${another.key}` })),
    );
    assert.equal(all.filter((r) => r.status === 200).length, 3);
    assert.equal(all.filter((r) => r.status === 429).length, 5);
  });
}
