// The Verifier's host loop on the Node package (shared runner: js/test-support/verifier-loop.mjs).
import kp from '../index.cjs';
import { verifierLoopTests } from '../../js/test-support/verifier-loop.mjs';

verifierLoopTests(kp, 'Node');

// The Node entry hands plain-object records to the addon as JSON text
// (`recordsAsText`); the same layer without it passes the object to napi's serde.
// Both must decide alike, and refuse a bad record with the same code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { createKeyproof } = require('../dist/keyproof-shared.cjs');
const native = require(`../keyproof.${process.platform}-${process.arch}${process.platform === 'linux' ? '-gnu' : ''}.node`);

test('plain-object records decide alike as JSON text (Node entry) and as objects', () => {
  const asObjects = createKeyproof(native);
  const config = { formats: ['keyproof_live'], policy: { routes: [{ method: 'GET', path: '/v1/briefs', all_of: ['briefs:read'] }] } };
  const minted = new kp.Engine(config).mint({ name: 'Plain', scopes: ['briefs:read'], allowedIps: ['10.0.0.0/8'] });
  const snake = JSON.parse(JSON.stringify(minted.record));
  const camel = { ...minted.record, scopes: [...minted.record.scopes], allowedIps: [...minted.record.allowedIps] };
  const revoked = { ...snake, status: 'revoked', revoked_at: snake.updated_at };
  const broken = { ...snake, allowed_ips: ['not an ip'] };
  const request = (clientIp) => ({ method: 'GET', path: '/v1/briefs', headers: { authorization: `Bearer ${minted.key}` }, clientIp });
  const answer = (api, record, ip) => {
    const verifier = new api.Verifier(new api.Engine(config), { lookup: () => record });
    try {
      const d = verifier.verifySync(request(ip));
      return [d.status, d.code, d.principal?.keyId ?? null];
    } catch (e) {
      return ['thrown', e.code];
    }
  };
  const seen = [];
  for (const record of [snake, camel, revoked, broken]) {
    for (const ip of ['10.1.2.3', '192.0.2.1']) {
      const text = answer(kp, record, ip);
      assert.deepEqual(text, answer(asObjects, record, ip));
      seen.push(text.slice(0, 2).join(' '));
    }
  }
  assert.deepEqual(seen, [
    '200 ok', '403 ip_not_allowed', '200 ok', '403 ip_not_allowed',
    '401 key_revoked', '401 key_revoked', 'thrown invalid_cidr', 'thrown invalid_cidr',
  ]);
});

test('the Node entry hands plain-object records over as JSON text', () => {
  const config = { formats: ['keyproof_live'], policy: { routes: [{ method: 'GET', path: '/v1/x' }] } };
  const engine = new kp.Engine(config);
  const minted = engine.mint({ name: 'Text' });
  let serialized = 0;
  const record = { ...JSON.parse(JSON.stringify(minted.record)), metadata: { tier: { toJSON: () => (serialized++, 'gold') } } };
  const d = new kp.Verifier(engine, { lookup: () => record }).verifySync({
    method: 'GET', path: '/v1/x', headers: { authorization: `Bearer ${minted.key}` },
  });
  assert.equal(d.status, 200);
  assert.equal(serialized, 1, 'JSON.stringify read the record (napi serde would not call toJSON)');
  assert.deepEqual(d.principal.metadata, { tier: 'gold' });
});
