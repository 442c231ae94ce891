// Seed 002's token flow in Node over real HTTP on 127.0.0.1: client id +
// secret → POST /oauth/token (TokenEndpoint) → access token → API call
// (Verifier, token as Bearer) → 200; wrong secret → 401 invalid_client; a
// revoked key's token refused at once (confirm_record). Plus the last-used
// hint reaching an async `touch`, and no token in JSON or inspect output.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { inspect } from 'node:util';
import kp from '../index.cjs';

const engine = new kp.Engine({
  formats: ['matatika_client_secret'],
  policy: {
    realm: 'app.matatika.com',
    credentials: { methods: ['basic', 'bearer'] },
    routes: [{ method: 'GET', path: '/api/workspaces', credential_kinds: ['client_secret'], all_of: ['workspaces:read'] }],
  },
  tokens: {
    issuer: 'https://identity.matatika.com/',
    audience: 'https://app.matatika.com/api',
    keys: [kp.ed25519Jwk(null, 'ed-1')],
  },
});
const minted = engine.mint({ name: 'CLI', scopes: ['workspaces:read'], generateClientId: true });
const db = new Map([[minted.record.hash, minted.record]]);
const byId = (id) => [...db.values()].find((r) => r.id === id) ?? null;
const touches = [];
const endpoint = new kp.TokenEndpoint(engine, { lookup: async (hash) => db.get(hash) ?? null });
const verifier = new kp.Verifier(engine, {
  // Keys arrive by storage hash, tokens (confirm_record) by key id.
  lookup: async (value) => (kp.isRecordId(value) ? byId(value) : db.get(value) ?? null),
  touch: async (keyId, at) => touches.push([keyId, at]),
});

function readBody(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

const server = http.createServer(async (req, res) => {
  try {
    const request = { method: req.method, path: req.url, headers: req.rawHeaders, clientIp: req.socket.remoteAddress };
    const answer = req.url === '/oauth/token'
      ? await endpoint.exchange({ ...request, body: await readBody(req) })
      : await verifier.verify(request);
    const body = answer.allowed ? JSON.stringify({ keyId: answer.principal.keyId }) : answer.body;
    res.writeHead(answer.status, answer.headers.flat());
    res.end(body ?? '');
  } catch (e) {
    res.writeHead(500).end(String(e));
  }
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
after(() => server.close());
const base = `http://127.0.0.1:${server.address().port}`;
const basic = (id, secret) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

async function token(secret = minted.key) {
  return fetch(`${base}/oauth/token`, {
    method: 'POST',
    headers: { authorization: basic(minted.record.clientId, secret), 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials&scope=workspaces:read',
  });
}

test('client credentials → token → API call over HTTP; the last use is written once', async () => {
  const res = await token();
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  const body = await res.json();
  assert.deepEqual([body.token_type, body.scope, body.expires_in], ['Bearer', 'workspaces:read', 3600]);
  const claims = kp.inspectToken(body.access_token).claims;
  assert.deepEqual([claims.key_id, claims.azp], [minted.record.id, minted.record.clientId]);

  const call = await fetch(`${base}/api/workspaces`, { headers: { authorization: `Bearer ${body.access_token}` } });
  assert.equal(call.status, 200);
  assert.deepEqual(await call.json(), { keyId: minted.record.id });
  assert.equal(touches.length, 1);
  assert.equal(touches[0][0], minted.record.id);
  assert.ok(touches[0][1] instanceof Date);
});

test('a wrong secret is 401 invalid_client with a Basic challenge', async () => {
  const wrong = minted.key.slice(0, -1) + (minted.key.endsWith('A') ? 'B' : 'A');
  const res = await token(wrong);
  assert.equal(res.status, 401);
  assert.match(res.headers.get('www-authenticate'), /^Basic /);
  assert.equal((await res.json()).error, 'invalid_client');
});

test('revoking the key stops its tokens at once (confirm_record)', async () => {
  const { access_token: accessToken } = await (await token()).json();
  const ok = await fetch(`${base}/api/workspaces`, { headers: { authorization: `Bearer ${accessToken}` } });
  assert.equal(ok.status, 200);
  db.set(minted.record.hash, kp.revoke(minted.record));
  try {
    const refused = await fetch(`${base}/api/workspaces`, { headers: { authorization: `Bearer ${accessToken}` } });
    assert.equal(refused.status, 401);
    assert.equal((await token()).status, 401);
  } finally {
    db.set(minted.record.hash, minted.record);
  }
});

test('issued tokens and token responses show no token in JSON or inspect output', async () => {
  const issued = engine.issueToken(minted.record, { scopes: ['workspaces:read'], lifetimeSeconds: 60 });
  assert.equal(issued.expiresIn, 60);
  for (const shown of [JSON.stringify(issued), inspect(issued, { depth: 10 }), String(issued)]) {
    assert.ok(!shown.includes(issued.accessToken.split('.')[2]), shown);
  }
  const response = await endpoint.exchange({
    method: 'POST',
    headers: { authorization: basic(minted.record.clientId, minted.key), 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  const { access_token: accessToken } = JSON.parse(response.body);
  for (const shown of [JSON.stringify(response), inspect(response, { depth: 10 })]) {
    assert.ok(!shown.includes(accessToken.split('.')[2]), shown);
  }
  assert.throws(() => engine.issueToken(minted.record, { scopes: ['admin'] }), (e) => e instanceof kp.KeyproofError && e.code === 'scope_not_granted');
});
