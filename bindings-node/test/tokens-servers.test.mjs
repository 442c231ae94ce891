// The token endpoint mounted in Express 5, Express 4 and Fastify 5, over real
// HTTP on 127.0.0.1: the body reaches core exactly as sent (a repeated
// parameter is refused), JSON bodies work in Fastify's own scope, failures
// carry core's status and challenge, and a body parser mounted first is
// reported instead of answered wrongly.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import express5 from 'express';
import express4 from 'express4';
import Fastify from 'fastify';
import kp from '../index.cjs';

const engine = new kp.Engine({
  formats: ['matatika_client_secret'],
  policy: { realm: 'app.matatika.com', credentials: { methods: ['basic', 'bearer'] } },
  tokens: { issuer: 'https://identity.matatika.com/', audience: 'https://app.matatika.com/api', keys: [kp.ed25519Jwk(null, 'ed-1')] },
});
const minted = engine.mint({ name: 'CLI', scopes: ['workspaces:read'], generateClientId: true });
const db = new Map([[minted.record.hash, minted.record]]);
const endpoint = new kp.TokenEndpoint(engine, { lookup: async (hash) => db.get(hash) ?? null });
const basic = (secret) => `Basic ${Buffer.from(`${minted.record.clientId}:${secret}`).toString('base64')}`;
const FORM = 'application/x-www-form-urlencoded';

const servers = [];
after(() => Promise.all(servers.map((close) => close())));

async function listen(app) {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  servers.push(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${server.address().port}`;
}

async function expressBase(express) {
  const app = express();
  app.post('/oauth/token', endpoint.express());
  app.post('/parsed/token', express.urlencoded({ extended: false }), endpoint.express());
  app.use((err, _req, res, _next) => res.status(err.status ?? 500).end(`refused: ${err.message}`));
  return listen(app);
}

async function fastifyBase() {
  const app = Fastify();
  await app.register(endpoint.fastify, { path: '/oauth/token' });
  app.post('/echo', async (request) => ({ parsed: typeof request.body })); // the default JSON parser outside the plugin
  await app.listen({ port: 0, host: '127.0.0.1' });
  servers.push(() => app.close());
  return `http://127.0.0.1:${app.server.address().port}`;
}

const post = (base, path, { body, type = FORM, secret = minted.key } = {}) =>
  fetch(`${base}${path}`, { method: 'POST', headers: { authorization: basic(secret), 'content-type': type }, body });

const apps = [
  ['Express 5', () => expressBase(express5)],
  ['Express 4', () => expressBase(express4)],
  ['Fastify 5', fastifyBase],
];

for (const [name, start] of apps) {
  test(`${name}: client credentials → token; wrong secret 401; a repeated parameter 400`, async () => {
    const base = await start();
    const ok = await post(base, '/oauth/token', { body: 'grant_type=client_credentials&scope=workspaces:read' });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('cache-control'), 'no-store');
    assert.match(ok.headers.get('content-type'), /^application\/json/);
    const body = await ok.json();
    assert.equal(body.scope, 'workspaces:read');
    assert.equal(kp.inspectToken(body.access_token).claims.key_id, minted.record.id);

    const wrong = await post(base, '/oauth/token', { body: 'grant_type=client_credentials', secret: `${minted.key}x` });
    assert.equal(wrong.status, 401);
    assert.match(wrong.headers.get('www-authenticate'), /^Basic /);
    assert.equal((await wrong.json()).error, 'invalid_client');

    const twice = await post(base, '/oauth/token', { body: 'grant_type=client_credentials&grant_type=client_credentials' });
    assert.equal(twice.status, 400);
    assert.equal((await twice.json()).error, 'invalid_request');
  });
}

test('Fastify: a JSON body reaches core as text inside the plugin; outside it, JSON is parsed as usual', async () => {
  const base = await fastifyBase();
  const json = await post(base, '/oauth/token', { body: '{"grant_type":"client_credentials"}', type: 'application/json' });
  assert.equal(json.status, 200);
  const echo = await fetch(`${base}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
  assert.deepEqual(await echo.json(), { parsed: 'object' });
});

test('Express: a body parser mounted first is reported, not answered as a token request', async () => {
  const base = await expressBase(express5);
  const res = await post(base, '/parsed/token', { body: 'grant_type=client_credentials' });
  assert.equal(res.status, 500);
  assert.match(await res.text(), /refused: the token endpoint needs the raw request body/);
});
