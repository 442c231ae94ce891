// Runner of `tokens` vector files (tests/vectors/tokens.json: seed 002's token
// endpoint), as core/tests/golden/token_requests.rs runs them: `request`
// vectors through the exchange step and again through TokenEndpoint (sync and
// async lookups), `derive` vectors through Engine#issueToken, `config` vectors
// through new Engine. Status, headers and body must agree byte for byte.
import assert from 'node:assert/strict';
import { expectError, hex } from './vector-helpers.mjs';

/** The TokenResponse as the vector pins it (storage schema). */
function pinned(r) {
  return { status: r.status, headers: r.headers, body: r.body, code: r.code, error: r.error, detail: r.detail, key_id: r.keyId, jti: r.jti };
}

async function runRequest(kp, engine, records, v) {
  const r = v.request;
  const request = { method: r.method, headers: r.headers, body: r.body, clientIp: r.client_ip ?? null };
  const opts = { now: v.now, randomBytes: hex(v.random_hex) };
  const byHash = (hash) => records.find((rec) => rec.hash === hash) ?? null;

  // 1. The I/O-free step, as the core's golden runner drives it.
  const x = engine.beginToken(request, opts);
  let lookups = 0;
  for (let step = x.nextStep(); step.kind === 'lookup_record'; step = x.nextStep(), lookups++) x.record(byHash(step.value));
  const response = x.finish();
  assert.deepEqual(pinned(response), v.expected, v.name);
  assert.equal(response.header('cache-control'), 'no-store', v.name);
  assert.ok(!JSON.stringify(response).includes('access_token'), `${v.name}: JSON shows the body`);

  // 2. The endpoint's loop, with a synchronous and an asynchronous lookup.
  const sync = new kp.TokenEndpoint(engine, { lookup: byHash }).exchange({ ...request, ...opts });
  assert.ok(sync instanceof kp.TokenResponse, v.name);
  assert.deepEqual(pinned(sync), v.expected, `${v.name} (endpoint)`);
  const later = new kp.TokenEndpoint(engine, { lookup: async (hash) => byHash(hash) }).exchange({ ...request, ...opts });
  assert.equal(later instanceof Promise, lookups > 0, `${v.name}: asynchronous exactly when something was looked up`);
  assert.deepEqual(pinned(await later), v.expected, `${v.name} (async endpoint)`);
}

function runDerive(kp, engine, records, v) {
  const record = records.find((r) => r.id === v.record_id);
  assert.ok(record, v.name);
  const issue = () => engine.issueToken(record, v.options, { now: v.now, randomBytes: hex(v.random_hex) });
  if (!v.expected.ok) {
    expectError(kp, v.expected, issue, v.name);
    return;
  }
  const issued = issue();
  assert.deepEqual({ ok: true, access_token: issued.accessToken, claims: issued.claims, kid: issued.kid }, v.expected, v.name);
  assert.equal(issued.expiresIn, v.expected.claims.exp - v.expected.claims.iat, v.name);
  assert.ok(!JSON.stringify(issued).includes(issued.accessToken), `${v.name}: JSON shows the token`);
  // The token it issued verifies offline at the same instant, with the claims it was issued with.
  const verified = engine.verifyToken(issued.accessToken, { now: v.now });
  assert.deepEqual([verified.kid, verified.keyId, verified.claims], [issued.kid, record.id, issued.claims], v.name);
}

/** The JWK helpers rebuild the config's keys from their secret bytes; the JWKS publishes the public halves only. */
function checkKeys(kp, engine, keys) {
  for (const k of keys) {
    const bytes = Uint8Array.from(Buffer.from(k.d ?? k.k, 'base64url'));
    assert.deepEqual(k.kty === 'OKP' ? kp.ed25519Jwk(bytes, k.kid) : kp.hs256Jwk(bytes, k.kid), k, k.kid);
  }
  const published = keys.filter((k) => k.kty === 'OKP').map(({ d, ...pub }) => pub);
  assert.deepEqual(engine.publicJwks(), { keys: published });
}

/** Runs a `tokens` file in place. */
export async function runTokens(kp, file) {
  const engine = new kp.Engine(file.config);
  checkKeys(kp, engine, file.config.tokens.keys);
  const records = file.records.map((r) => kp.recordFromJSON(r));
  for (const v of file.vectors) {
    if (v.op === 'request') await runRequest(kp, engine, records, v);
    else if (v.op === 'derive') runDerive(kp, engine, records, v);
    else if (v.op === 'config') {
      if (v.expected.ok) assert.ok(new kp.Engine(v.input), v.name);
      else expectError(kp, v.expected, () => new kp.Engine(v.input), v.name);
    } else assert.fail(`${v.name}: unknown op ${v.op}`);
  }
}
