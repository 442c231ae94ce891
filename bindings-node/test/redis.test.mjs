// js/redis.js (RedisRateLimitStore, RedisVerifier) against real redis-server
// processes started by scripts/test-redis.sh (KEYPROOF_REDIS_URL,
// KEYPROOF_REDIS_SERVER, KEYPROOF_REDIS_CLUSTER); without them only the layout
// and rendering tests run. With KEYPROOF_REDIS_WORKER=<job JSON> this file is
// the Node worker of bindings-python/tests/test_redis_processes.py instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync, mkdtempSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Redis from 'ioredis';
import kp from '../index.cjs';
import { RateLimitStoreError } from '../../js/redis.js';

const { CAS_SCRIPT, DEFAULT_PREFIX, parseState, redisKey, stateText } = kp;

const PKG = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ROOT = path.resolve(PKG, '..');
const { KEYPROOF_REDIS_URL: URL_, KEYPROOF_REDIS_SERVER, KEYPROOF_REDIS_CLUSTER, KEYPROOF_REDIS_WORKER } = process.env;
const SERVER_BIN = KEYPROOF_REDIS_SERVER;

const BURST = 10;
const TIGHT = 3;
const INTERVAL_US = 1_000_000;
const config = {
  formats: ['keyproof_live'],
  policy: {
    routes: [
      { method: 'GET', path: '/v1/items', all_of: ['items:read'] },
      { method: 'GET', path: '/v1/tight', all_of: ['items:read'], rate_limit: { class: 'tight' } },
    ],
    plans: { starter: { limit: 60, burst: BURST } },
    rate_limit_classes: { tight: { starter: { limit: 60, burst: TIGHT } } },
    default_plan: 'starter',
  },
};
const UNAVAILABLE_BODY =
  '{"code":"rate_limit_unavailable","detail":"The rate limit could not be checked.","retry_after":1,' +
  '"status":503,"title":"Service unavailable","type":"https://keyproof.dev/problems/rate_limit_unavailable"}';
const UNAVAILABLE_HEADERS = [
  ['Retry-After', '1'],
  ['Cache-Control', 'no-store'],
  ['Content-Type', 'application/problem+json'],
];

/** An injected clock near the real one (whole seconds), so Redis TTLs match the states. */
const wallNow = () => Math.floor(Date.now() / 1000) * 1000;

function client(url, options = {}) {
  const c = new Redis(url, { maxRetriesPerRequest: 1, ...options });
  c.on('error', () => {}); // reported through the store's errors
  return c;
}

function deployment(store, { Verifier = kp.RedisVerifier, api = kp } = {}) {
  const engine = new api.Engine(config);
  const minted = engine.mint({ name: 'Redis test key', scopes: ['items:read'] });
  const revoked = engine.mint({ name: 'Revoked key', scopes: ['items:read'] });
  const db = new Map([
    [minted.record.hash, minted.record],
    [revoked.record.hash, api.revoke(revoked.record)],
  ]);
  const verifier = new Verifier(engine, { lookup: (hash) => db.get(hash) ?? null, rateLimits: store });
  const request = (extra = {}) => ({
    method: 'GET',
    path: extra.path ?? '/v1/items',
    headers: { authorization: `Bearer ${extra.key ?? minted.key}` },
    now: extra.now,
  });
  return {
    engine,
    minted,
    revoked,
    verifier,
    store,
    bucket: (cls = 'default') => redisKey(`${minted.record.id}:${cls}`),
    verify: (extra) => verifier.verify(request(extra)),
  };
}

// The Node worker of the mixed-process test ------------------------------------------------

async function worker(job) {
  const engine = new kp.Engine(job.config);
  const db = new Map(job.records.map((text) => [JSON.parse(text).hash, text]));
  const make = (url, onError) =>
    new kp.RedisVerifier(engine, {
      lookup: (hash) => db.get(hash) ?? null,
      rateLimits: new kp.RedisRateLimitStore(client(url, { maxRetriesPerRequest: 0 }), { onError }),
    });
  const verifier = make(job.url, job.on_error ?? 'fail_closed');
  const request = (now) => ({ method: 'GET', path: '/v1/items', headers: { authorization: `Bearer ${job.key}` }, now });
  const answer = (d) => ({ status: d.status, code: d.code, headers: d.headers, body: d.body, warnings: d.warnings });
  console.log(JSON.stringify({ ready: 'node' }));
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    const command = JSON.parse(line);
    let reply;
    try {
      if (command.verify) {
        const at = command.verify.now_us / 1000;
        const all = await Promise.all(Array.from({ length: command.verify.count }, () => verifier.verify(request(at))));
        reply = { answers: all.map(answer), conflicts: verifier.rateLimits.conflicts };
      } else if (command.inspect) {
        const raw = await verifier.rateLimits.client.get(command.inspect);
        reply = { raw, tat_us: raw === null ? null : kp.loadRateLimitState(raw).tat_us, parsed: parseState(raw)?.tat_us ?? null };
      } else if (command.dead) {
        const v = make(command.url, command.dead);
        reply = { answer: answer(await v.verify(request(command.now_us / 1000))) };
        v.rateLimits.client.disconnect();
      } else {
        break;
      }
    } catch (e) {
      reply = { error: `${e?.name}: ${e?.message}` };
    }
    console.log(JSON.stringify(reply));
  }
  verifier.rateLimits.client.disconnect();
}

// Private servers ---------------------------------------------------------------------------

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function ping(port) {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((resolve) => {
      const sock = net.connect(port, '127.0.0.1');
      sock.once('error', () => resolve(false));
      sock.once('connect', () => sock.write('PING\r\n'));
      sock.once('data', (d) => {
        sock.destroy();
        resolve(d.toString().startsWith('+PONG'));
      });
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server on ${port} did not start`);
}

async function privateServer() {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'keyproof-redis-'));
  const server = {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    proc: null,
    async start() {
      this.proc = spawn(SERVER_BIN, ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir], {
        stdio: 'ignore',
      });
      await ping(port);
    },
    async stop() {
      if (this.proc === null) return;
      const exited = new Promise((r) => this.proc.once('exit', r));
      this.proc.kill('SIGKILL');
      await exited;
      this.proc = null;
    },
    async close() {
      await this.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

const hasServerBinary = SERVER_BIN !== undefined && existsSync(SERVER_BIN);

if (KEYPROOF_REDIS_WORKER) {
  await worker(JSON.parse(KEYPROOF_REDIS_WORKER));
} else {
  // Layout and rendering: no server needed ------------------------------------------------

  test('the key layout and the state text are the Python package’s', () => {
    const id = '9904cf92-2202-48c0-a751-a9724e32c98e';
    assert.equal(redisKey(`${id}:default`), `keyproof:rl:{${id}}:default`);
    assert.equal(redisKey(`${id}:uploads:v2`, 'app1:'), `app1:{${id}}:uploads:v2`);
    assert.equal(redisKey('key_2f8a3b1c'), 'keyproof:rl:{key_2f8a3b1c}');
    assert.equal(stateText({ tat_us: 1795424632000000 }), '{"tat_us":1795424632000000}');
    assert.equal(stateText(null), '');
    assert.deepEqual(parseState('{"tat_us":1795424632000000}'), { tat_us: 1795424632000000 });
    assert.deepEqual(parseState(Buffer.from('{"tat_us":0}')), { tat_us: 0 });
    assert.deepEqual(parseState('{"tat_us":-5}'), { tat_us: -5 });
    for (const junk of [null, undefined, '', 'garbage', '{"tat_us": 5}', '{"tat_us":05}', '{"tat_us":-0}', '{"tat_us":1.5}', '{}', '{"tat_us":9007199254740993}']) {
      assert.equal(parseState(junk), null, String(junk));
    }
    assert.deepEqual(parseState('{"tat_us":9007199254740991}'), { tat_us: 9007199254740991 });
    assert.throws(() => stateText({ tat_us: 1.5 }), TypeError);
    // The state the engine hands back is what the store writes, and the engine reads it back.
    const out = kp.gcra(null, 1_000_000, { limit: 60, burst: 10 });
    assert.equal(stateText(out.state), JSON.stringify(out.state));
    assert.deepEqual(kp.loadRateLimitState(stateText(out.state)), out.state);
  });

  test('the compare-and-set script and layout are core’s, as in the Python package', () => {
    const source = readFileSync(path.join(ROOT, 'core/src/ratelimit/shared_store.rs'), 'utf8');
    const m = /COMPARE_AND_SET_SCRIPT: &str = r#"([\s\S]*?)"#;/.exec(source);
    assert.ok(m, 'core defines COMPARE_AND_SET_SCRIPT');
    assert.equal(CAS_SCRIPT, m[1]);
    assert.equal(DEFAULT_PREFIX, 'keyproof:rl:');
    assert.throws(() => redisKey(7), TypeError);
  });

  test('the 503 is core’s answer, the Python package’s bytes', async () => {
    const down = { get: async () => { throw new RateLimitStoreError('down'); }, compareAndSet: async () => true };
    const d = deployment(down);
    const a = await d.verify({ now: wallNow() });
    assert.deepEqual([a.status, a.code, a.publicCode, a.allowed], [503, 'rate_limit_unavailable', 'rate_limit_unavailable', false]);
    assert.deepEqual(a.headers, UNAVAILABLE_HEADERS);
    assert.equal(a.body, UNAVAILABLE_BODY);
    assert.equal(a.cause.message, 'down');
    // The step directly: another retry time, the fail-open answer, a bad policy name.
    const step = (on) => {
      const v = d.engine.begin({ method: 'GET', path: '/v1/items', headers: { authorization: `Bearer ${d.minted.key}` } });
      v.record(d.minted.record);
      v.rateStateUnavailable(on);
      return v.finish();
    };
    assert.equal(JSON.parse(step({ retryAfterSeconds: 7 }).body).retry_after, 7);
    const open = step({ onError: 'fail_open' });
    assert.deepEqual([open.status, open.headers, open.warnings], [200, [], [{ code: 'rate_limit_unavailable' }]]);
    assert.throws(() => step({ onError: 'ignore' }), (e) => e instanceof kp.KeyproofError && e.code === 'invalid_policy');
  });

  test('a store that names no answer leaves it to the policy’s rate_store_failure', async () => {
    const engine = new kp.Engine({ ...config, policy: { ...config.policy, rate_store_failure: { on_error: 'fail_open' } } });
    const minted = engine.mint({ name: 'Policy key', scopes: ['items:read'] });
    const down = { get: async () => { throw new RateLimitStoreError('down'); }, compareAndSet: async () => true };
    const seen = [];
    const onDecision = (d) => void seen.push([d.code, d.keyId, d.cause?.message]);
    const answer = (options) => {
      const store = { ...down, ...options };
      const verifier = new kp.RedisVerifier(engine, { lookup: () => minted.record, rateLimits: store, onDecision });
      return verifier.verify({ method: 'GET', path: '/v1/items', headers: { authorization: `Bearer ${minted.key}` } });
    };
    const open = await answer({});
    assert.deepEqual([open.status, open.headers, open.warnings], [200, [], [{ code: 'rate_limit_unavailable' }]]);
    const closed = await answer({ onError: 'fail_closed' });
    assert.deepEqual([closed.status, closed.header('retry-after')], [503, '1']);
    // The audit hook sees the store's answer too, with the key and the store's error.
    assert.deepEqual(seen, [['ok', minted.record.id, 'down'], ['rate_limit_unavailable', minted.record.id, 'down']]);
    assert.equal((await answer({ retryAfterSeconds: 9 })).header('retry-after'), '9'); // seconds alone: fail closed
    assert.equal((await deployment(down).verify()).status, 503); // the default policy fails closed
  });

  test('js/redis.js imports nothing, so every package of the shared layer loads it', () => {
    const source = readFileSync(path.join(ROOT, 'js/redis.js'), 'utf8');
    assert.doesNotMatch(source, /^\s*import\s/m);
    assert.doesNotMatch(source, /\brequire\(/);
    assert.equal(typeof kp.RedisRateLimitStore, 'function');
    assert.equal(typeof kp.RedisVerifier, 'function');
    assert.ok(new kp.RedisVerifier(new kp.Engine(config), { lookup: () => null }) instanceof kp.Verifier);
  });

  test('options and clients are checked', () => {
    const fake = { get() {}, eval() {} };
    assert.throws(() => new kp.RedisRateLimitStore(fake, { onError: 'ignore' }), TypeError);
    assert.throws(() => new kp.RedisRateLimitStore(fake, { maxRetries: -1 }), TypeError);
    assert.throws(() => new kp.RedisRateLimitStore(fake, { timeoutMs: -5 }), TypeError);
    assert.throws(() => new kp.RedisRateLimitStore(fake, { retryAfterSeconds: 0 }), TypeError);
    assert.throws(() => new kp.RedisRateLimitStore({}), TypeError);
    assert.throws(() => new kp.RedisRateLimitStore({ get() {} }), /defineCommand|eval/);
  });

  test('a node-redis style client (eval with keys and arguments) is driven the same way', async () => {
    // A stand-in for node-redis v4+: eval(script, {keys, arguments}); the script's logic in JS.
    const data = new Map();
    const fake = {
      async get(key) {
        return data.get(key) ?? null;
      },
      async eval(script, { keys, arguments: args }) {
        assert.equal(script, CAS_SCRIPT);
        const cur = data.get(keys[0]) ?? null;
        const seen = parseState(cur) === null ? '' : cur;
        if (seen !== args[0]) return [0, cur ?? ''];
        assert.ok(Number(args[2]) >= 1000);
        data.set(keys[0], args[1]);
        return [1];
      },
    };
    const d = deployment(new kp.RedisRateLimitStore(fake));
    const now = wallNow();
    const statuses = [];
    for (let i = 0; i <= BURST; i++) statuses.push((await d.verify({ now })).status);
    assert.deepEqual(statuses, [...Array(BURST).fill(200), 429]);
    assert.equal(data.get(d.bucket()), stateText({ tat_us: now * 1000 + BURST * INTERVAL_US }));
  });

  // One server ------------------------------------------------------------------------------

  const withRedis = { skip: URL_ ? false : 'no KEYPROOF_REDIS_URL (run scripts/test-redis.sh)' };

  test('concurrent requests get exactly the burst; the state and TTL are the core’s', withRedis, async () => {
    const redis = client(URL_);
    try {
      const d = deployment(new kp.RedisRateLimitStore(redis));
      const now = wallNow();
      const all = await Promise.all(Array.from({ length: 30 }, () => d.verify({ now })));
      assert.deepEqual(all.map((x) => x.status).sort(), [...Array(BURST).fill(200), ...Array(30 - BURST).fill(429)]);
      assert.equal(await redis.get(d.bucket()), `{"tat_us":${now * 1000 + BURST * INTERVAL_US}}`);
      const ttl = await redis.pttl(d.bucket());
      assert.ok(ttl > BURST * 1000 - 2000 && ttl <= BURST * 1000, String(ttl));
      const tight = await Promise.all(Array.from({ length: 6 }, () => d.verify({ now, path: '/v1/tight' })));
      assert.equal(tight.filter((x) => x.status === 200).length, TIGHT);
      // The plain Verifier drives the same store through its generic get/compareAndSet path.
      const p = deployment(new kp.RedisRateLimitStore(redis), { Verifier: kp.Verifier });
      const plain = await Promise.all(Array.from({ length: 20 }, () => p.verify({ now })));
      assert.equal(plain.filter((x) => x.status === 200).length, BURST);
    } finally {
      redis.disconnect();
    }
  });

  test('a usage limit spends exactly its credits across concurrent requests, counted in Redis', withRedis, async () => {
    const redis = client(URL_);
    try {
      const engine = new kp.Engine(config);
      const metered = engine.mint({ name: 'Metered', scopes: ['items:read'], usageLimit: { limit: 4, period: 'day' } });
      assert.deepEqual(metered.record.usageLimit, { limit: 4, period: 'day' });
      const verifier = new kp.RedisVerifier(engine, { lookup: () => metered.record, rateLimits: new kp.RedisRateLimitStore(redis) });
      const now = wallNow();
      const request = { method: 'GET', path: '/v1/items', headers: { authorization: `Bearer ${metered.key}` }, now };
      const all = await Promise.all(Array.from({ length: 9 }, () => verifier.verify(request)));
      assert.deepEqual(all.map((x) => x.code).sort(), [...Array(4).fill('ok'), ...Array(5).fill('usage_exceeded')]);
      const denied = all.find((x) => x.code === 'usage_exceeded');
      assert.equal(denied.status, 429);
      const day = new Date(now).toISOString().slice(0, 10);
      const counter = redisKey(`${metered.record.id}:usage:${day}`);
      // The state is the period's end (next UTC midnight, in µs) plus the units spent.
      const midnightUs = (Date.parse(`${day}T00:00:00Z`) + 86_400_000) * 1000;
      assert.equal(await redis.get(counter), `{"tat_us":${midnightUs + 4}}`);
      // The counter expires when the UTC day ends, and Retry-After says when that is.
      const left = Math.ceil((Date.parse(`${day}T00:00:00Z`) + 86_400_000 - now) / 1000);
      assert.equal(denied.header('retry-after'), String(left));
      const ttl = await redis.pttl(counter);
      assert.ok(ttl > left * 1000 - 2000 && ttl <= left * 1000, String(ttl));
      assert.equal(all.find((x) => x.allowed).usage.plan, 'usage');
    } finally {
      redis.disconnect();
    }
  });

  test('charges after the fact are exact under concurrency in Redis (priced checks first)', withRedis, async () => {
    const redis = client(URL_);
    try {
      const engine = new kp.Engine(config);
      const credits = engine.mint({ name: 'Charged', scopes: ['items:read'], usageLimit: { limit: 20 } });
      const verifier = new kp.RedisVerifier(engine, { lookup: () => credits.record, rateLimits: new kp.RedisRateLimitStore(redis) });
      const now = wallNow();
      const check = { method: 'GET', path: '/v1/items', headers: { authorization: `Bearer ${credits.key}` }, now, usageCost: 0 };
      assert.equal((await verifier.verify(check)).code, 'ok');
      assert.equal(await redis.get(redisKey(`${credits.record.id}:usage:total`)), null, 'a check writes no counter');
      // 12 concurrent charges of 3 units against 20: exactly 20 are paid, the rest reported unpaid.
      const all = await Promise.all(Array.from({ length: 12 }, () => verifier.charge(credits.record, 3, { now })));
      assert.equal(all.reduce((sum, c) => sum + 3 - c.unpaid, 0), 20);
      assert.equal(await redis.get(redisKey(`${credits.record.id}:usage:total`)), `{"tat_us":${7_258_118_400_000_000 + 20}}`);
      assert.equal((await verifier.verify(check)).code, 'usage_exceeded');
    } finally {
      redis.disconnect();
    }
  });

  test('refill follows the plan rate on the injected clock', withRedis, async () => {
    const redis = client(URL_);
    try {
      const d = deployment(new kp.RedisRateLimitStore(redis));
      const now = wallNow();
      const run = async (at, n) => {
        const out = [];
        for (let i = 0; i < n; i++) out.push((await d.verify({ now: at })).status);
        return out;
      };
      assert.deepEqual(await run(now, BURST + 1), [...Array(BURST).fill(200), 429]);
      assert.equal((await d.verify({ now })).header('Retry-After'), '1');
      assert.deepEqual(await run(now + 1000, 2), [200, 429]);
      assert.deepEqual(await run(now + 4500, 4), [200, 200, 200, 429]);
      assert.deepEqual(await run(now + 4500 + BURST * 1000, BURST + 1), [...Array(BURST).fill(200), 429]);
    } finally {
      redis.disconnect();
    }
  });

  test('a conflicting writer makes the step run again on the state it found', withRedis, async () => {
    const redis = client(URL_);
    const other = client(URL_);
    try {
      // Another process writes between this one's read and its compare-and-set, twice.
      class Raced extends kp.RedisRateLimitStore {
        races = 2;
        async compareAndSwap(key, expected, next, ttl) {
          if (this.races-- > 0) await other.set(this.redisKey(key), stateText({ tat_us: next.tat_us - 1 }));
          return super.compareAndSwap(key, expected, next, ttl);
        }
      }
      const d = deployment(new Raced(redis));
      const now = wallNow();
      const first = await d.verify({ now });
      assert.equal(first.status, 200);
      assert.equal(d.store.conflicts, 2);
      // Each race left a state one µs behind this write; the step recomputed on it:
      // (now + 1 interval − 1 µs) + 1 interval − 1 µs, then + 1 interval.
      assert.equal(await redis.get(d.bucket()), stateText({ tat_us: now * 1000 + 3 * INTERVAL_US - 2 }));
      assert.equal(first.header('RateLimit'), '"starter";r=7;t=3');
    } finally {
      redis.disconnect();
      other.disconnect();
    }
  });

  test('retries are bounded, then the failure policy answers', withRedis, async () => {
    const redis = client(URL_);
    const other = client(URL_);
    try {
      class Contended extends kp.RedisRateLimitStore {
        async compareAndSwap(key, expected, next, ttl) {
          await other.set(this.redisKey(key), stateText({ tat_us: next.tat_us - 1 }));
          return super.compareAndSwap(key, expected, next, ttl);
        }
      }
      const d = deployment(new Contended(redis, { maxRetries: 2 }));
      const answer = await d.verify({ now: wallNow() });
      assert.equal(answer.status, 503);
      assert.equal(answer.body, UNAVAILABLE_BODY);
      assert.match(answer.cause.message, /kept conflicting/);
      assert.equal(d.store.conflicts, 3);
      assert.equal(d.store.failures, 1);
    } finally {
      redis.disconnect();
      other.disconnect();
    }
  });

  test('a value that is not a state counts as a full bucket and is replaced', withRedis, async () => {
    const redis = client(URL_);
    try {
      const d = deployment(new kp.RedisRateLimitStore(redis));
      const now = wallNow();
      await redis.set(d.bucket(), 'not a state');
      assert.equal((await d.verify({ now })).status, 200);
      assert.equal(await redis.get(d.bucket()), stateText({ tat_us: now * 1000 + INTERVAL_US }));
    } finally {
      redis.disconnect();
    }
  });

  test('the WASM engine over the same js/ layer shares the bucket', { skip: URL_ ? false : 'no KEYPROOF_REDIS_URL' }, async (t) => {
    const pkg = path.join(ROOT, 'bindings-wasm/pkg');
    if (!existsSync(path.join(pkg, 'keyproof_wasm.js'))) {
      t.skip('bindings-wasm/pkg is not built (bash scripts/test-wasm.sh)');
      return;
    }
    const native = await import(pathToFileURL(path.join(pkg, 'keyproof_wasm.js')).href);
    native.initSync({ module: readFileSync(path.join(pkg, 'keyproof.wasm')) });
    const { createKeyproof } = await import(pathToFileURL(path.join(ROOT, 'js/index.js')).href);
    const wasm = createKeyproof(native);
    assert.equal(typeof wasm.RedisRateLimitStore, 'function');
    const redis = client(URL_);
    try {
      const store = new wasm.RedisRateLimitStore(redis);
      const w = deployment(store, { api: wasm, Verifier: wasm.RedisVerifier });
      // The napi engine verifies the same key (same record) against the same bucket.
      const n = new kp.RedisVerifier(new kp.Engine(config), { lookup: () => JSON.stringify(w.minted.record), rateLimits: new kp.RedisRateLimitStore(redis) });
      const now = wallNow();
      const req = { method: 'GET', path: '/v1/items', headers: { authorization: `Bearer ${w.minted.key}` }, now };
      const all = await Promise.all(Array.from({ length: 16 }, (_, i) => (i % 2 ? w.verifier : n).verify(req)));
      assert.equal(all.filter((x) => x.status === 200).length, BURST);
      assert.equal(await redis.get(w.bucket()), stateText({ tat_us: now * 1000 + BURST * INTERVAL_US }));
    } finally {
      redis.disconnect();
    }
  });

  // Failure policy ----------------------------------------------------------------------------

  const withBinary = { skip: hasServerBinary ? false : 'no KEYPROOF_REDIS_SERVER (run scripts/test-redis.sh)' };

  test('Redis stopped mid-test: fail closed (503, same bytes), then recovers', withBinary, async () => {
    const server = await privateServer();
    const redis = client(server.url);
    try {
      const d = deployment(new kp.RedisRateLimitStore(redis, { timeoutMs: 500 }));
      const now = wallNow();
      for (let i = 0; i < 3; i++) assert.equal((await d.verify({ now })).status, 200);
      await server.stop();
      const started = Date.now();
      const answers = await Promise.all(Array.from({ length: 5 }, () => d.verify({ now })));
      assert.ok(Date.now() - started < 3000);
      for (const a of answers) {
        assert.equal(a.status, 503);
        assert.equal(a.allowed, false);
        assert.equal(a.code, 'rate_limit_unavailable');
        assert.deepEqual(a.headers, UNAVAILABLE_HEADERS);
        assert.equal(a.body, UNAVAILABLE_BODY);
        assert.equal(a.principal, null);
        assert.equal(a.rateLimit, null);
        assert.match(a.detail, /rate-limit store is unavailable/);
        assert.equal(a.cause.code, 'rate_limit_unavailable');
      }
      const revoked = await d.verify({ now, key: d.revoked.key });
      assert.equal(revoked.status, 401);
      assert.equal(revoked.code, 'key_revoked');
      // Express answers the 503 exactly.
      const express = (await import('express')).default;
      const app = express();
      app.use(kp.express(d.verifier));
      app.get('/v1/items', (req, res) => res.json({ ok: true }));
      const http = app.listen(0, '127.0.0.1');
      await new Promise((r) => http.once('listening', r));
      const res = await fetch(`http://127.0.0.1:${http.address().port}/v1/items`, {
        headers: { authorization: `Bearer ${d.minted.key}` },
      });
      assert.equal(res.status, 503);
      assert.equal(res.headers.get('retry-after'), '1');
      assert.equal(res.headers.get('content-type'), 'application/problem+json');
      assert.equal(await res.text(), UNAVAILABLE_BODY);
      await new Promise((r) => http.close(r));
      // Back up (empty, no persistence): the limit applies again once ioredis reconnects.
      await server.start();
      let first;
      for (let i = 0; i < 100; i++) {
        first = await d.verify({ now });
        if (first.status !== 503) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(first.status, 200);
      const rest = [];
      for (let i = 0; i < BURST; i++) rest.push((await d.verify({ now })).status);
      assert.deepEqual(rest, [...Array(BURST - 1).fill(200), 429]);
    } finally {
      redis.disconnect();
      await server.close();
    }
  });

  test('Redis stopped mid-test: fail open allows with a warning and no rate-limit headers', withBinary, async () => {
    const server = await privateServer();
    const redis = client(server.url);
    try {
      const d = deployment(new kp.RedisRateLimitStore(redis, { onError: 'fail_open', timeoutMs: 500 }));
      const now = wallNow();
      assert.equal((await d.verify({ now })).header('RateLimit'), '"starter";r=9;t=1');
      await server.stop();
      const answers = await Promise.all(Array.from({ length: BURST + 5 }, () => d.verify({ now })));
      for (const a of answers) {
        assert.equal(a.status, 200);
        assert.deepEqual(a.warnings, [{ code: 'rate_limit_unavailable' }]);
        assert.deepEqual(a.headers, []);
        assert.equal(a.rateLimit, null);
        assert.equal(a.principal.keyId, d.minted.record.id);
      }
      assert.equal((await d.verify({ now, key: d.revoked.key })).status, 401);
      assert.equal(d.store.failures, BURST + 5);
    } finally {
      redis.disconnect();
      await server.close();
    }
  });

  test('a Redis that never answers times out into the policy', async () => {
    const sockets = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise((r) => silent.listen(0, '127.0.0.1', r));
    const redis = client(`redis://127.0.0.1:${silent.address().port}/0`);
    try {
      const d = deployment(new kp.RedisRateLimitStore(redis, { timeoutMs: 300 }));
      const started = Date.now();
      const a = await d.verify({ now: wallNow() });
      assert.equal(a.status, 503);
      assert.match(a.cause.message, /within 300 ms/);
      assert.ok(Date.now() - started < 2000);
    } finally {
      redis.disconnect();
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  test('a plain Verifier rejects with RateLimitStoreError, never the client’s error', async () => {
    const redis = client('redis://127.0.0.1:1/0', { maxRetriesPerRequest: 0, lazyConnect: true });
    try {
      const d = deployment(new kp.RedisRateLimitStore(redis, { timeoutMs: 500 }), { Verifier: kp.Verifier });
      await assert.rejects(d.verify({ now: wallNow() }), (e) => e instanceof kp.RateLimitStoreError && e.code === 'rate_limit_unavailable');
    } finally {
      redis.disconnect();
    }
  });

  // Documentation -----------------------------------------------------------------------------

  test('the Express example of REDIS.md runs as written', withRedis, () => {
    const doc = readFileSync(path.join(PKG, 'REDIS.md'), 'utf8');
    const blocks = [...doc.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
    assert.equal(blocks.length, 1);
    const dir = path.join(PKG, '.redis-doc-test');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'express.mjs');
    writeFileSync(file, blocks[0]);
    try {
      const out = execFileSync(process.execPath, [file], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, REDIS_URL: URL_ } });
      const expected = [...blocks[0].matchAll(/\/\/ prints: (.*)/g)].map((m) => m[1]);
      assert.deepEqual(out.trim().split('\n'), expected);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the root README shows the tested Express example', (t) => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const heading = '\n## Running more than one process\n';
    if (!readme.includes(heading)) {
      t.skip("README.md has no 'Running more than one process' section");
      return;
    }
    const section = readme.slice(readme.indexOf(heading) + heading.length).split('\n## ')[0];
    const doc = readFileSync(path.join(PKG, 'REDIS.md'), 'utf8');
    const tested = /```js\n([\s\S]*?)```/.exec(doc)[1];
    const shown = [...section.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
    assert.ok(shown.includes(tested), "the README's Express example is not the one REDIS.md tests");
  });

  // Redis Cluster -----------------------------------------------------------------------------

  const withCluster = { skip: KEYPROOF_REDIS_CLUSTER ? false : 'no KEYPROOF_REDIS_CLUSTER' };

  test('cluster: a key’s buckets share a slot, keys spread, exactly the burst per bucket', withCluster, async () => {
    const nodes = KEYPROOF_REDIS_CLUSTER.split(',').map((n) => ({ host: n.split(':')[0], port: Number(n.split(':')[1]) }));
    const cluster = new Redis.Cluster(nodes, { redisOptions: { maxRetriesPerRequest: 1 } });
    cluster.on('error', () => {});
    try {
      const d = deployment(new kp.RedisRateLimitStore(cluster));
      const slot = await cluster.cluster('KEYSLOT', d.bucket());
      assert.equal(await cluster.cluster('KEYSLOT', d.bucket('tight')), slot);
      assert.equal(await cluster.cluster('KEYSLOT', d.minted.record.id), slot);
      const now = wallNow();
      const all = await Promise.all([
        ...Array.from({ length: 20 }, () => d.verify({ now })),
        ...Array.from({ length: 8 }, () => d.verify({ now, path: '/v1/tight' })),
      ]);
      assert.equal(all.filter((x) => x.status === 200).length, BURST + TIGHT);
      assert.equal(await cluster.get(d.bucket()), stateText({ tat_us: now * 1000 + BURST * INTERVAL_US }));
      // Keys of different API keys land on all three masters.
      const slots = await Promise.all(Array.from({ length: 30 }, () => cluster.cluster('KEYSLOT', redisKey(`${crypto.randomUUID()}:default`))));
      const shards = await cluster.cluster('SHARDS').catch(() => null);
      const owners = new Set(
        slots.map((s) => {
          for (const shard of shards ?? []) {
            const ranges = shard[1];
            for (let i = 0; i < ranges.length; i += 2) if (s >= ranges[i] && s <= ranges[i + 1]) return JSON.stringify(shard[3][0]);
          }
          return 'unknown';
        }),
      );
      assert.equal(owners.size, 3, [...owners].join(' '));
    } finally {
      cluster.disconnect();
    }
  });
}
