// Access tokens interoperate with `jose` (a JOSE library keyproof did not
// write): tokens keyproof issues verify with jose against the published JWKS
// (EdDSA) or the shared secret (HS256); tokens jose signs with the same keys
// verify in keyproof, offline and as a request's Bearer credential; tampered
// tokens and algorithm confusion are refused by both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as jose from 'jose';
import kp from '../index.cjs';

const NOW = new Date('2026-03-18T10:30:00Z');
const ISSUER = 'https://identity.example/';
const AUDIENCE = 'https://api.example/';
const edJwk = kp.ed25519Jwk(new Uint8Array(32).fill(7), 'ed-1');
const hsJwk = kp.hs256Jwk(new Uint8Array(32).fill(9), 'hs-1');

function engineSigningWith(kid) {
  return new kp.Engine({
    formats: ['keyproof_live'],
    policy: { routes: [{ method: 'GET', path: '/v1/things', all_of: ['things:read'] }] },
    tokens: { issuer: ISSUER, audience: AUDIENCE, algorithms: ['EdDSA', 'HS256'], signing_kid: kid, keys: [edJwk, hsJwk] },
  });
}

const engine = engineSigningWith('ed-1');
const hsEngine = engineSigningWith('hs-1');
const minted = engine.mint({ name: 'Interop', scopes: ['things:read', 'things:write'] }, { now: NOW, randomBytes: new Uint8Array(32).fill(3) });
const record = minted.record;
const verifier = new kp.Verifier(engine, { lookup: (id) => (id === record.id ? record : null), now: () => NOW });
const joseOptions = { issuer: ISSUER, audience: AUDIENCE, typ: 'at+jwt', currentDate: NOW };

/** The token with one character of `part` (0 header, 1 payload, 2 signature) changed. */
function tampered(token, part) {
  const parts = token.split('.');
  const s = parts[part];
  const i = Math.floor(s.length / 2);
  parts[part] = s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
  return parts.join('.');
}

/** Claims a keyproof access token carries, signed here by jose. */
function claimsFor(extra = {}) {
  const iat = Math.floor(NOW.getTime() / 1000);
  return {
    iss: ISSUER, sub: record.id, aud: AUDIENCE, iat, nbf: iat, exp: iat + 300, jti: 'jose-signed-0001',
    client_id: record.id, scope: 'things:read', key_id: record.id, environment: record.environment, kind: record.kind,
    ...extra,
  };
}

async function callWith(token) {
  return verifier.verify({ method: 'GET', path: '/v1/things', headers: { authorization: `Bearer ${token}` }, now: NOW });
}

test('tokens keyproof issues verify with jose (EdDSA through the public JWKS, HS256 with the secret)', async () => {
  const jwks = engine.publicJwks();
  assert.deepEqual(jwks.keys.map((k) => [k.kid, k.kty, 'd' in k]), [['ed-1', 'OKP', false]], 'only the Ed25519 public key is published');
  const issued = engine.issueToken(record, { scopes: ['things:read'] }, { now: NOW });
  const ed = await jose.jwtVerify(issued.accessToken, jose.createLocalJWKSet(jwks), { ...joseOptions, algorithms: ['EdDSA'] });
  assert.deepEqual(ed.payload, issued.claims);
  assert.deepEqual(ed.protectedHeader, { alg: 'EdDSA', typ: 'at+jwt', kid: 'ed-1' });

  const hs = hsEngine.issueToken(record, null, { now: NOW });
  const secret = await jose.importJWK(hsJwk, 'HS256');
  const verified = await jose.jwtVerify(hs.accessToken, secret, { ...joseOptions, algorithms: ['HS256'] });
  assert.equal(verified.payload.key_id, record.id);
  assert.equal(verified.payload.scope, 'things:read things:write');
  assert.equal(verified.protectedHeader.kid, 'hs-1');
});

test('tokens jose signs with the same keys verify in keyproof, offline and on a request', async () => {
  const edKey = await jose.importJWK(edJwk, 'EdDSA');
  const hsKey = await jose.importJWK(hsJwk, 'HS256');
  const signed = [
    await new jose.SignJWT(claimsFor()).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: 'ed-1' }).sign(edKey),
    await new jose.SignJWT(claimsFor({ jti: 'jose-signed-0002' })).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: 'hs-1' }).sign(hsKey),
  ];
  for (const [token, kid] of [[signed[0], 'ed-1'], [signed[1], 'hs-1']]) {
    const offline = engine.verifyToken(token, { now: NOW });
    assert.deepEqual([offline.kid, offline.keyId, offline.scopes], [kid, record.id, ['things:read']]);
    const decision = await callWith(token);
    assert.deepEqual([decision.allowed, decision.code, decision.principal.keyId], [true, 'ok', record.id], kid);
    assert.deepEqual([decision.token.kid, decision.token.recordConfirmed], [kid, true], kid);
  }
  // The token's scope narrows the key's: things:write is refused although the key has it.
  const writer = new kp.Engine({
    formats: ['keyproof_live'],
    policy: { routes: [{ method: 'POST', path: '/v1/things', all_of: ['things:write'] }] },
    tokens: { issuer: ISSUER, audience: AUDIENCE, algorithms: ['EdDSA'], keys: [edJwk] },
  });
  const denied = new kp.Verifier(writer, { lookup: () => record }).verifySync({
    method: 'POST', path: '/v1/things', headers: { authorization: `Bearer ${signed[0]}` }, now: NOW,
  });
  assert.deepEqual([denied.status, denied.code, denied.missingScope], [403, 'insufficient_scope', 'things:write']);
});

test('tampered tokens and algorithm confusion are refused by both', async () => {
  const edKey = await jose.importJWK(edJwk, 'EdDSA');
  const jwks = jose.createLocalJWKSet(engine.publicJwks());
  const ours = engine.issueToken(record, null, { now: NOW }).accessToken;
  const theirs = await new jose.SignJWT(claimsFor()).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: 'ed-1' }).sign(edKey);
  for (const token of [ours, theirs]) {
    for (const part of [0, 1, 2]) {
      const bad = tampered(token, part);
      await assert.rejects(jose.jwtVerify(bad, jwks, joseOptions), (e) => e instanceof Error, `jose, part ${part}`);
      const refusals = ['bad_token_signature', 'malformed_token', 'unknown_token_key', 'token_algorithm_not_allowed'];
      assert.throws(() => engine.verifyToken(bad, { now: NOW }), (e) => refusals.includes(e.code), `keyproof, part ${part}`);
      const decision = await callWith(bad);
      assert.equal(decision.status, 401, `request, part ${part}`);
    }
  }
  // HS256 keyed with the Ed25519 public key, claiming the Ed25519 kid: the classic confusion.
  const publicAsSecret = new TextEncoder().encode(edJwk.x);
  const confused = await new jose.SignJWT(claimsFor()).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: 'ed-1' }).sign(publicAsSecret);
  await assert.rejects(jose.jwtVerify(confused, jwks, joseOptions), (e) => e instanceof jose.errors.JOSEError);
  assert.throws(() => engine.verifyToken(confused, { now: NOW }), (e) => e.code === 'token_algorithm_not_allowed');
  // alg: none, as jose writes an unsecured JWT.
  const none = new jose.UnsecuredJWT(claimsFor()).encode();
  await assert.rejects(jose.jwtVerify(none, jwks, joseOptions), (e) => e instanceof jose.errors.JOSEError);
  assert.throws(() => engine.verifyToken(none, { now: NOW }), (e) => ['token_algorithm_not_allowed', 'malformed_token'].includes(e.code));
  // Expired for both (beyond keyproof's default 30 s leeway).
  const later = new Date(NOW.getTime() + 3600_000);
  await assert.rejects(jose.jwtVerify(theirs, jwks, { ...joseOptions, currentDate: later }), (e) => e.code === 'ERR_JWT_EXPIRED');
  assert.throws(() => engine.verifyToken(theirs, { now: later }), (e) => e.code === 'token_expired');
});
