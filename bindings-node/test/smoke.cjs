// Smoke test of the packed package from a fresh directory (CommonJS).
const assert = require('node:assert/strict');
const keyproof = require('keyproof');

const engine = new keyproof.Engine({ formats: ['keyproof_live'], policy: { unknown_routes: 'authenticate' } });
const minted = engine.mint({ name: 'Smoke key' });
const verifier = new keyproof.Verifier(engine, { lookup: (h) => (h === minted.record.hash ? minted.record : null) });
assert.equal(verifier.verifySync({ method: 'GET', path: '/', headers: [['authorization', `Bearer ${minted.key}`]] }).status, 200);
assert.equal(verifier.verifySync({ method: 'GET', path: '/', headers: [] }).status, 401);
assert.equal(typeof keyproof.express, 'function');
console.log(`CJS smoke test passed (keyproof ${keyproof.version})`);
