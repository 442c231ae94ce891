// Smoke test of the packed package from a fresh directory (ESM).
import keyproof, { Engine, Verifier, KeyFormatError } from 'keyproof';
import assert from 'node:assert/strict';

const engine = new Engine({ formats: ['keyproof_live'], policy: { routes: [{ method: 'GET', path: '/v1/briefs', all_of: ['briefs:read'] }] } });
const minted = engine.mint({ name: 'Smoke key', scopes: ['briefs:read'] });
const db = new Map([[minted.record.hash, minted.record]]);
const verifier = new Verifier(engine, { lookup: (h) => db.get(h) ?? null });
const ok = verifier.verifySync({ method: 'GET', path: '/v1/briefs', headers: { authorization: `Bearer ${minted.key}` } });
assert.equal(ok.status, 200);
assert.equal(ok.principal.name, 'Smoke key');
const denied = await verifier.verify({ method: 'GET', path: '/v1/briefs', headers: {} });
assert.equal(denied.status, 401);
assert.match(denied.header('WWW-Authenticate'), /^Bearer realm="api"/);
assert.throws(() => keyproof.parseKey('kp_live_x'), KeyFormatError);
console.log(`ESM smoke test passed (keyproof ${keyproof.version})`);
