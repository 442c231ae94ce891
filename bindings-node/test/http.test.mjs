// Express 5 and 4, Fastify 5, Hono 4 (@hono/node-server) and the Web-standard
// wrapper, each served on 127.0.0.1 and exercised with fetch over real HTTP:
// 200, 400, 401, 403, 429 with the decision's exact status, headers and body,
// and concurrent requests against one burst (exactly the burst passes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import express5 from 'express';
import express4 from 'express4';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import kp from '../index.cjs';

const BURST = 5;
const config = {
  formats: ['keyproof_live'],
  policy: {
    routes: [
      { method: 'GET', path: '/v1/briefs', all_of: ['briefs:read'] },
      { method: 'POST', path: '/v1/briefs', all_of: ['briefs:write'] },
    ],
    plans: { starter: { limit: 60, burst: BURST } },
    default_plan: 'starter',
  },
};
const engine = new kp.Engine(config);

function setup({ async = false } = {}) {
  const db = new Map();
  const mintKey = (scopes = ['briefs:read'], allowedIps = []) => {
    const m = engine.mint({ name: 'HTTP test key', scopes, allowedIps });
    db.set(m.record.hash, m.record);
    return m;
  };
  const lookup = async
    ? (hash) => new Promise((resolve) => setImmediate(() => resolve(db.get(hash) ?? null)))
    : (hash) => db.get(hash) ?? null;
  const verifier = new kp.Verifier(engine, { lookup });
  // A second verifier (own store) tells what the exact answer must be.
  const oracle = new kp.Verifier(engine, { lookup: (hash) => db.get(hash) ?? null });
  return { verifier, oracle, mintKey };
}

const listen = (server) =>
  new Promise((resolve) => {
    if (server.listening) resolve(server.address().port);
    else server.once('listening', () => resolve(server.address().port));
  });

async function expectExact(res, expected) {
  assert.equal(res.status, expected.status);
  assert.equal(await res.text(), expected.body);
  for (const [name, value] of expected.headers) assert.equal(res.headers.get(name), value, name);
}

async function scenario(base, { oracle, mintKey }, { clientIpKnown = true } = {}) {
  const reader = mintKey(['briefs:read']);
  const auth = (key) => ({ authorization: `Bearer ${key}` });

  // 200: the handler sees the principal; the RateLimit headers are sent.
  let res = await fetch(`${base}/v1/briefs`, { headers: auth(reader.key) });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { keyId: reader.record.id, name: 'HTTP test key' });
  assert.equal(res.headers.get('ratelimit-policy'), `"starter";q=${BURST};w=${BURST}`);
  assert.match(res.headers.get('ratelimit') ?? '', /^"starter";r=\d+;t=\d+$/);

  // 401 without a key, and with a key nobody issued: the exact core answer.
  res = await fetch(`${base}/v1/briefs`);
  await expectExact(res, oracle.verifySync({ method: 'GET', path: '/v1/briefs', headers: {} }));
  const stranger = kp.mint('keyproof_live', { name: 'Unknown' }).key;
  res = await fetch(`${base}/v1/briefs`, { headers: auth(stranger) });
  await expectExact(res, oracle.verifySync({ method: 'GET', path: '/v1/briefs', headers: auth(stranger) }));
  assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer /);

  // 400: an encoded '?' in the path is refused by the core (invalid_path).
  res = await fetch(`${base}/v1/briefs%3Fx`, { headers: auth(reader.key) });
  await expectExact(res, oracle.verifySync({ method: 'GET', path: '/v1/briefs%3Fx', headers: auth(reader.key) }));

  // 403: a read key may not POST.
  res = await fetch(`${base}/v1/briefs`, { method: 'POST', headers: auth(reader.key) });
  assert.equal(res.status, 403);
  assert.equal(JSON.parse(await res.text()).code, 'insufficient_scope');

  // 403: the client address (127.0.0.1, as the framework reports it) is outside the key's allowlist.
  const fenced = mintKey(['briefs:read'], ['10.0.0.0/8']);
  res = await fetch(`${base}/v1/briefs`, { headers: auth(fenced.key) });
  assert.equal(res.status, 403);
  assert.equal(JSON.parse(await res.text()).code, 'ip_not_allowed');
  const local = mintKey(['briefs:read'], ['127.0.0.0/8']);
  res = await fetch(`${base}/v1/briefs`, { headers: auth(local.key) });
  assert.equal(res.status, clientIpKnown ? 200 : 403);
  await res.body?.cancel();

  // 429 under concurrency: a fresh key, 3 × burst concurrent requests, exactly the burst passes.
  const burster = mintKey(['briefs:read']);
  const all = await Promise.all(
    Array.from({ length: 3 * BURST }, () => fetch(`${base}/v1/briefs`, { headers: auth(burster.key) })),
  );
  const statuses = all.map((r) => r.status).sort();
  assert.deepEqual(statuses, [...Array(BURST).fill(200), ...Array(2 * BURST).fill(429)]);
  const limited = all.find((r) => r.status === 429);
  assert.ok(Number(limited.headers.get('retry-after')) >= 1);
  assert.equal(JSON.parse(await limited.text()).code, 'rate_limited');
  await Promise.all(all.filter((r) => !r.bodyUsed).map((r) => r.body?.cancel()));
}

function expressApp(express, verifier) {
  const app = express();
  app.use(kp.express(verifier));
  app.get('/v1/briefs', (req, res) => res.json({ keyId: req.keyproof.keyId, name: req.keyproof.name }));
  app.post('/v1/briefs', (req, res) => res.status(201).json({ ok: true }));
  app.use((req, res) => res.status(404).json({ error: 'not found' }));
  return app;
}

for (const [name, express] of [['Express 5', express5], ['Express 4', express4]]) {
  for (const async of [false, true]) {
    test(`${name} over HTTP (${async ? 'async' : 'sync'} lookup)`, async () => {
      const ctx = setup({ async });
      const server = expressApp(express, ctx.verifier).listen(0, '127.0.0.1');
      const port = await listen(server);
      try {
        await scenario(`http://127.0.0.1:${port}`, ctx);
      } finally {
        server.close();
      }
    });
  }
}

test('Express behind a trusted proxy: core reads X-Forwarded-For, past trusted hops only', async () => {
  // The test client connects from 127.0.0.1, which the policy trusts as a reverse proxy.
  const proxied = new kp.Engine({
    formats: ['keyproof_live'],
    policy: {
      routes: [{ method: 'GET', path: '/v1/briefs', all_of: ['briefs:read'] }],
      client_ip: { trusted_proxies: ['127.0.0.0/8', '::1'] },
    },
  });
  const { key, record } = proxied.mint({ name: 'Office key', scopes: ['briefs:read'], allowedIps: ['203.0.113.0/24'] });
  // The address core judges, for logs: the forwarded one only from a trusted peer.
  assert.equal(proxied.clientIp('127.0.0.1', { 'X-Forwarded-For': '198.51.100.1, 203.0.113.7' }), '203.0.113.7');
  assert.equal(proxied.clientIp('198.51.100.9', { 'x-forwarded-for': '203.0.113.7' }), '198.51.100.9');
  assert.equal(proxied.clientIp(null, {}), null);
  assert.throws(() => proxied.clientIp('127.0.0.1', { 'x-forwarded-for': 'unknown' }), (e) => e.code === 'invalid_client_ip');
  const verifier = new kp.Verifier(proxied, { lookup: (hash) => (hash === record.hash ? record : null) });
  const server = expressApp(express5, verifier).listen(0, '127.0.0.1');
  const port = await listen(server);
  const get = (xff) =>
    fetch(`http://127.0.0.1:${port}/v1/briefs`, {
      headers: { authorization: `Bearer ${key}`, ...(xff === undefined ? {} : { 'x-forwarded-for': xff }) },
    });
  try {
    assert.equal((await get('203.0.113.7')).status, 200);
    const spoofed = await get('203.0.113.7, 198.51.100.1');
    assert.deepEqual([spoofed.status, (await spoofed.json()).code], [403, 'ip_not_allowed']);
    assert.equal((await (await get()).json()).code, 'ip_not_allowed');
    const garbage = await get('unknown');
    assert.deepEqual([garbage.status, (await garbage.json()).code], [400, 'invalid_client_ip']);
  } finally {
    server.close();
  }
});

test('Express: a key pinned to a website reads the Origin (else the Referer) the browser sent', async () => {
  const { key, record } = engine.mint({
    name: 'Storefront key', scopes: ['briefs:read'], allowedOrigins: ['https://shop.example.com'],
  });
  assert.deepEqual(record.allowedOrigins, ['https://shop.example.com']);
  const verifier = new kp.Verifier(engine, { lookup: (hash) => (hash === record.hash ? record : null) });
  const server = expressApp(express5, verifier).listen(0, '127.0.0.1');
  const port = await listen(server);
  const get = async (extra) => {
    const res = await fetch(`http://127.0.0.1:${port}/v1/briefs`, { headers: { authorization: `Bearer ${key}`, ...extra } });
    return [res.status, res.status === 200 ? 'ok' : (await res.json()).code];
  };
  try {
    assert.deepEqual(await get({ origin: 'https://shop.example.com' }), [200, 'ok']);
    assert.deepEqual(await get({ referer: 'https://shop.example.com/cart?id=7' }), [200, 'ok']);
    assert.deepEqual(await get({ origin: 'https://evil.example' }), [403, 'origin_not_allowed']);
    assert.deepEqual(await get({}), [403, 'origin_not_allowed']);
  } finally {
    server.close();
  }
  assert.throws(
    () => engine.mint({ name: 'Bad origin', allowedOrigins: ['shop.example.com'] }),
    (e) => e instanceof kp.KeyproofError && e.code === 'invalid_origin',
  );
});

test('Fastify 5 plugin over HTTP', async () => {
  const ctx = setup({ async: true });
  const app = Fastify();
  await app.register(kp.fastify, { verifier: ctx.verifier });
  app.get('/v1/briefs', async (request) => ({ keyId: request.keyproof.keyId, name: request.keyproof.name }));
  app.post('/v1/briefs', async () => ({ ok: true }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    await scenario(`http://127.0.0.1:${app.server.address().port}`, ctx);
  } finally {
    await app.close();
  }
});

test('Hono 4 middleware over HTTP (@hono/node-server)', async () => {
  const ctx = setup();
  const app = new Hono();
  app.use('/v1/*', kp.hono(ctx.verifier));
  app.get('/v1/briefs', (c) => c.json({ keyId: c.get('keyproof').keyId, name: c.get('keyproof').name }));
  app.post('/v1/briefs', (c) => c.json({ ok: true }));
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  const port = await listen(server);
  try {
    await scenario(`http://127.0.0.1:${port}`, ctx);
  } finally {
    server.close();
  }
});

test('Web-standard fetch wrapper over HTTP', async () => {
  const ctx = setup({ async: true });
  const handler = kp.fetch(ctx.verifier, (request) => {
    const who = kp.principalOf(request);
    if (request.method === 'POST') return Response.json({ ok: true });
    return Response.json({ keyId: who.keyId, name: who.name });
  });
  const server = serve({ fetch: handler, port: 0, hostname: '127.0.0.1' });
  const port = await listen(server);
  try {
    // A bare (Request) => Response handler has no client address unless told one.
    await scenario(`http://127.0.0.1:${port}`, ctx, { clientIpKnown: false });
  } finally {
    server.close();
  }
});

test('the usageCost option prices each request from the request itself (Express 5, Hono, fetch over HTTP)', async () => {
  const units = (value) => (value === undefined || value === null ? null : Number(value));
  const apps = [
    ['Express 5', (verifier) => {
      const app = express5();
      app.use(kp.express(verifier, { usageCost: (req) => units(req.get('x-units')) }));
      app.get('/v1/briefs', (req, res) => res.json({ ok: true }));
      return app.listen(0, '127.0.0.1');
    }],
    ['Hono', (verifier) => {
      const app = new Hono();
      app.use('*', kp.hono(verifier, { usageCost: (c) => units(c.req.header('x-units')) }));
      app.get('/v1/briefs', (c) => c.json({ ok: true }));
      return serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    }],
    ['fetch', (verifier) => {
      const handler = kp.fetch(verifier, () => Response.json({ ok: true }), { usageCost: (r) => units(r.headers.get('x-units')) });
      return serve({ fetch: handler, port: 0, hostname: '127.0.0.1' });
    }],
  ];
  for (const [name, start] of apps) {
    const m = engine.mint({ name: 'Priced key', scopes: ['briefs:read'], usageLimit: { limit: 10 } });
    const verifier = new kp.Verifier(engine, { lookup: (hash) => (hash === m.record.hash ? m.record : null) });
    const server = start(verifier);
    const port = await listen(server);
    // Each answer as [status, usage units left (from the RateLimit field) or the denial's code].
    const get = async (priced) => {
      const headers = { authorization: `Bearer ${m.key}`, ...(priced === undefined ? {} : { 'x-units': String(priced) }) };
      const res = await fetch(`http://127.0.0.1:${port}/v1/briefs`, { headers });
      const body = await res.text();
      if (res.status !== 200) return [res.status, JSON.parse(body).code];
      return [res.status, Number(/"usage";r=(\d+)/.exec(res.headers.get('ratelimit'))?.[1])];
    };
    try {
      const answers = [];
      for (const priced of [6, 0, 5, 4, undefined, 0]) answers.push(await get(priced));
      assert.deepEqual(answers, [[200, 4], [200, 4], [429, 'usage_exceeded'], [200, 0], [429, 'usage_exceeded'], [429, 'usage_exceeded']], name);
    } finally {
      server.close();
    }
  }
});

test('a throwing lookup reaches the framework error handler, never the route', async () => {
  const verifier = new kp.Verifier(engine, {
    lookup: () => {
      throw new Error('database down');
    },
  });
  const app = express5();
  let reached = false;
  app.use(kp.express(verifier));
  app.get('/v1/briefs', (req, res) => {
    reached = true;
    res.send('no');
  });
  app.use((err, req, res, next) => res.status(503).json({ error: err.message }));
  const server = app.listen(0, '127.0.0.1');
  const port = await listen(server);
  try {
    const key = engine.mint({ name: 'k' }).key;
    const res = await fetch(`http://127.0.0.1:${port}/v1/briefs`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), { error: 'database down' });
    assert.equal(reached, false);
  } finally {
    server.close();
  }
});
