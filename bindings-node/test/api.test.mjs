// The API as documented: engines from objects or JSON text, presets and custom
// formats, mint (OS randomness by default, injected bytes), records with Dates,
// lifecycle, the verifier with sync and async lookups, errors, scan offsets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as esm from '../index.mjs';
import kp from '../index.cjs';

const now = new Date('2026-03-18T10:30:00Z');
const policy = {
  routes: [{ method: 'GET', path: '/v1/briefs', allOf: ['briefs:read'] }],
  plans: { Starter: { limit: 60, burst: 2 } },
  defaultPlan: 'Starter',
};

test('ESM and CommonJS entries are one instance', () => {
  assert.equal(esm.Engine, kp.Engine);
  assert.equal(esm.default, kp);
  assert.equal(esm.KeyproofError, kp.KeyproofError);
  // Every member of the API is a named ESM export too (index.mjs lists them).
  for (const name of Object.keys(kp)) assert.equal(esm[name], kp[name], `import { ${name} } from 'keyproof'`);
});

test('engine from an object or JSON text; camelCase in, plan names kept', () => {
  const a = new kp.Engine({ formats: ['keyproof_live'], policy });
  const b = new kp.Engine(JSON.stringify({ formats: ['keyproof_live'], policy: kp.toStorage(policy) }));
  assert.deepEqual(a.policy, b.policy);
  assert.equal(a.policy.defaultPlan, 'Starter');
  assert.deepEqual(Object.keys(a.policy.plans), ['Starter']);
  assert.deepEqual(kp.loadPolicy(JSON.stringify(kp.toStorage(policy))), a.policy);
});

test('mint: injected bytes are deterministic, OS randomness is not; records hold Dates', () => {
  const engine = new kp.Engine({ formats: ['keyproof_live'] });
  const bytes = new Uint8Array(32).fill(7);
  const one = engine.mint({ name: 'Key', scopes: ['a:b'], expiresIn: '90d' }, { randomBytes: bytes, now });
  const two = engine.mint({ name: 'Key', scopes: ['a:b'], expiresIn: '90d' }, { randomBytes: bytes, now });
  assert.equal(one.key, two.key);
  assert.ok(one.record.createdAt instanceof Date);
  assert.equal(one.record.createdAt.getTime(), now.getTime());
  assert.equal(one.record.expiresAt.toISOString(), '2026-06-16T10:30:00.000Z');
  assert.notEqual(engine.mint({ name: 'Key' }).key, engine.mint({ name: 'Key' }).key);
  assert.equal(JSON.parse(JSON.stringify(one.record)).created_at, '2026-03-18T10:30:00Z');
  assert.deepEqual(kp.recordFromJSON(JSON.stringify(one.record)), one.record);
  assert.throws(() => engine.mint({ name: 'Key' }, { randomBytes: new Uint8Array(8) }), kp.RandomnessError);
});

test('mint without a format: the config\'s first format (the set itself sorts by prefix)', () => {
  const engine = new kp.Engine({ formats: ['matchii_live', 'keyproof_live'] });
  assert.deepEqual(engine.formats.map((f) => f.id), ['keyproof_live', 'matchii_live']);
  assert.equal(engine.mint({ name: 'Default' }).record.format, 'matchii_live');
  assert.equal(engine.mint({ name: 'Named', format: 'keyproof_live' }).record.format, 'keyproof_live');
  assert.throws(() => engine.mint({ name: 'Named', format: 'nope' }), (e) => e.code === 'unknown_format');
});

test("a key's own quotas: class names kept as written, applied instead of the plan's", async () => {
  const engine = new kp.Engine({
    formats: ['keyproof_live'],
    policy: {
      routes: [{ method: 'GET', path: '/v1/items', all_of: ['items:read'], rate_limit: { class: 'bulk_read' } }],
      plans: { starter: { limit: 60, burst: 10 } },
      rate_limit_classes: { bulk_read: { starter: { limit: 60, burst: 10 } } },
      default_plan: 'starter',
    },
  });
  const { key, record } = engine.mint({ name: 'Small', scopes: ['items:read'], rateLimits: { bulk_read: { limit: 2, burst: 2 } } });
  assert.deepEqual(record.rateLimits, { bulk_read: { limit: 2, periodSeconds: 60, burst: 2 } });
  assert.deepEqual(kp.toStorage(record).rate_limits, { bulk_read: { limit: 2, period_seconds: 60, burst: 2 } });
  const verifier = new kp.Verifier(engine, { lookup: (hash) => (hash === record.hash ? record : null) });
  const request = { method: 'GET', path: '/v1/items', headers: { authorization: `Bearer ${key}` } };
  const codes = [];
  for (let i = 0; i < 3; i += 1) codes.push((await verifier.verify(request)).code);
  assert.deepEqual(codes, ['ok', 'ok', 'rate_limited']);
  assert.equal((await verifier.verify(request)).header('RateLimit-Policy'), '"key.bulk_read";q=2;w=60');
  const back = kp.update(record, { rateLimits: {} });
  assert.equal(back.rateLimits, undefined);
  // Rotation keeps them: the successor is minted from the record's options.
  const { successor } = engine.rotate(record);
  assert.deepEqual(successor.record.rateLimits, record.rateLimits);
  // A usage limit too, spending the predecessor's counter; update changes it and keeps the counter.
  const metered = engine.mint({ name: 'Metered', scopes: ['items:read'], usageLimit: { limit: 5 } });
  const next = engine.rotate(metered.record).successor.record;
  assert.deepEqual(next.usageLimit, { limit: 5, counter: metered.record.id });
  assert.deepEqual(kp.update(next, { usageLimit: { limit: 9, period: 'day' } }).usageLimit, { limit: 9, period: 'day', counter: metered.record.id });
  assert.equal(kp.update(next, { usageLimit: null }).usageLimit, undefined);
  assert.throws(() => kp.update(next, { usageLimit: { limit: 0 } }), (e) => e.code === 'invalid_quota');
  // An id style by name takes its defaults (`key_` + 8 hex).
  assert.match(engine.mint({ name: 'Short id', idStyle: 'prefixed' }).record.id, /^key_[0-9a-f]{8}$/);
  assert.throws(() => engine.mint({ name: 'Bad id', idStyle: 'ulid' }), (e) => e.code === 'invalid_record');
});

test('custom formats and Seam keys', () => {
  const custom = { id: 'acme', prefix: 'acme_', environment: 'live', kind: 'secret', alphabet: 'base62', length: 32 };
  const seam = kp.seamFormat('mycompany', 'mycompany');
  const engine = new kp.Engine({ formats: [custom, seam] });
  const m = engine.mint({ format: 'acme', name: 'Custom' });
  assert.match(m.key, /^acme_[0-9A-Za-z]{32}$/);
  assert.equal(engine.parse(m.key).formatId, 'acme');
  const s = engine.mint({ format: 'mycompany', name: 'Seam' });
  assert.equal(engine.parse(s.key).formatId, 'mycompany');
  assert.match(s.record.hash, /^seam-sha256:/);
  assert.throws(() => kp.loadFormat({ ...custom, length: 8 }), (e) => e instanceof kp.ConfigError && e.code === 'invalid_format');
});

test('verifier: sync and async lookups, PreparedRecord, rate limit, verifySync', async () => {
  const engine = new kp.Engine({ formats: ['keyproof_live'], policy });
  const m = engine.mint({ name: 'Reader', scopes: ['briefs:read'] }, { now });
  const prepared = kp.prepareRecord(m.record);
  assert.equal(prepared.id, m.record.id);
  const request = { method: 'GET', path: '/v1/briefs?page=2', headers: { Authorization: `Bearer ${m.key}` }, now };
  for (const lookup of [
    (h) => (h === m.record.hash ? m.record : null),
    (h) => (h === m.record.hash ? prepared : null),
    (h) => (h === m.record.hash ? JSON.stringify(m.record) : null),
    async (h) => (h === m.record.hash ? m.record : null),
  ]) {
    const verifier = new kp.Verifier(engine, { lookup });
    const first = await verifier.verify(request);
    assert.equal(first.status, 200);
    assert.equal(first.principal.keyId, m.record.id);
    assert.equal(first.principal.plan, 'Starter');
    assert.equal(first.header('ratelimit-policy'), '"Starter";q=2;w=2');
    assert.equal((await verifier.verify(request)).status, 200);
    const third = await verifier.verify(request);
    assert.equal(third.status, 429);
    assert.equal(third.code, 'rate_limited');
    assert.ok(third.toError() instanceof kp.RateLimitError);
    assert.equal(third.toError().status, 429);
  }
  const asyncVerifier = new kp.Verifier(engine, { lookup: async () => null });
  assert.throws(() => asyncVerifier.verifySync(request), TypeError);
});

test('lifecycle: rotate mints the successor, grace then denial; revoke, disable, enable, update', () => {
  const engine = new kp.Engine({ formats: ['keyproof_live'], policy: { unknownRoutes: 'authenticate', rotationGraceHours: 1 } });
  const m = engine.mint({ name: 'Old', scopes: ['x:y'], expiresIn: '90d' }, { now });
  const { record: old, successor } = engine.rotate(m.record, { now });
  assert.equal(old.rotation.replacedBy, successor.record.id);
  assert.equal(old.rotation.graceUntil.getTime(), now.getTime() + 3600_000);
  assert.deepEqual(successor.record.scopes, ['x:y']);
  const db = new Map([[old.hash, old], [successor.record.hash, successor.record]]);
  const verifier = new kp.Verifier(engine, { lookup: (h) => db.get(h) ?? null });
  const during = verifier.verifySync({ method: 'GET', path: '/', headers: { authorization: `Bearer ${m.key}` }, now });
  assert.equal(during.status, 200);
  assert.equal(during.warnings[0].code, 'rotation_grace');
  assert.ok(during.warnings[0].until instanceof Date);
  assert.ok(during.header('Sunset'));
  const after = verifier.verifySync({ method: 'GET', path: '/', headers: { authorization: `Bearer ${m.key}` }, now: now.getTime() + 7200_000 });
  assert.equal(after.code, 'rotation_grace_ended');
  const revoked = kp.revoke(successor.record, { now });
  assert.equal(revoked.status, 'revoked');
  assert.throws(() => kp.enable(revoked, { now }), (e) => e instanceof kp.ConfigError && e.code === 'invalid_transition');
  const disabled = kp.disable(m.record, { now });
  assert.equal(kp.enable(disabled, { now }).status, 'active');
  const renamed = engine.update(m.record, { name: 'Renamed', expiresAt: null }, { now });
  assert.equal(renamed.name, 'Renamed');
  assert.equal(renamed.expiresAt, undefined);
});

test('hash migration: the upgraded record reaches save()', async () => {
  const old = new kp.Engine({ formats: ['keyproof_live'], policy: { unknownRoutes: 'authenticate' } });
  const m = old.mint({ name: 'Legacy' }, { now });
  const pepper = new Uint8Array(32).fill(3);
  const engine = new kp.Engine({ formats: ['keyproof_live'], hashing: { algorithm: 'hmac-sha256' }, policy: { unknownRoutes: 'authenticate' } }, { pepper });
  const saved = [];
  const db = new Map([[m.record.hash, m.record]]);
  const verifier = new kp.Verifier(engine, { lookup: async (h) => db.get(h) ?? null, save: async (r) => saved.push(r) });
  const d = await verifier.verify({ method: 'GET', path: '/', headers: { authorization: `Bearer ${m.key}` }, now });
  assert.equal(d.status, 200);
  assert.equal(saved.length, 1);
  assert.match(saved[0].hash, /^hmac-sha256:/);
});

test('errors are Error subclasses per family with codes from the core', () => {
  const families = new Map(kp.errorCodes().map((c) => [c.code, c.family]));
  assert.equal(families.get('wrong_length'), 'key_format');
  try {
    kp.parseKey('kp_live_short');
    assert.fail('no error');
  } catch (e) {
    assert.ok(e instanceof Error && e instanceof kp.KeyproofError && e instanceof kp.KeyFormatError);
    assert.equal(e.code, 'wrong_length');
    assert.equal(e.family, 'key_format');
    assert.equal(e.name, 'KeyFormatError');
  }
  assert.throws(() => new kp.Engine({ formats: ['nope'] }), (e) => e instanceof kp.ConfigError && e.code === 'unknown_format');
  assert.throws(() => new kp.Engine({ formats: ['keyproof_live'], hashing: { algorithm: 'hmac-sha256' } }), (e) => e.code === 'missing_pepper');
  assert.throws(() => kp.parseKey(42), TypeError);
});

test('scan offsets are UTF-16 indices of the JS string; redact', () => {
  const key = kp.mint('keyproof_live', { name: 'Leaked' }).key;
  const text = `héllo 👋 ${key} end`;
  const [f] = kp.scan(text, { formats: ['keyproof_live'] });
  assert.equal(text.slice(f.start, f.end), key);
  assert.ok(f.byteStart > f.start);
  assert.equal(kp.redact(text, { formats: ['keyproof_live'] }), `héllo 👋 ${f.preview} end`);
});

test('metadata numbers beyond 32 bits come back as numbers, records stay JSON-serializable', () => {
  const m = kp.mint('keyproof_live', { name: 'Big', metadata: { big: 5_000_000_000, neg: -5_000_000_000, nested: { n: 2 ** 40 } } });
  assert.deepEqual(m.record.metadata, { big: 5_000_000_000, neg: -5_000_000_000, nested: { n: 2 ** 40 } });
  assert.equal(JSON.parse(JSON.stringify(m.record)).metadata.big, 5_000_000_000);
});

test('records are frozen values; a looked-up record is converted once, and a Date changed in place is noticed', () => {
  const engine = new kp.Engine({ formats: ['keyproof_live'], policy: { unknownRoutes: 'authenticate' } });
  const m = engine.mint({ name: 'Frozen', expiresIn: '90d' }, { now });
  assert.ok(Object.isFrozen(m.record) && Object.isFrozen(m.record.scopes) && Object.isFrozen(m.record.owner));
  assert.throws(() => {
    m.record.status = 'revoked';
  }, TypeError);
  const db = new Map([[m.record.hash, m.record]]);
  const verifier = new kp.Verifier(engine, { lookup: (h) => db.get(h) ?? null });
  const req = { method: 'GET', path: '/', headers: { authorization: `Bearer ${m.key}` }, now };
  assert.equal(verifier.verifySync(req).status, 200);
  assert.equal(verifier.verifySync(req).status, 200);
  m.record.expiresAt.setTime(now.getTime() - 1000);
  assert.equal(verifier.verifySync(req).code, 'key_expired');
  // A revoked copy (a new record) is what the store now returns.
  db.set(m.record.hash, kp.revoke(m.record, { now }));
  assert.equal(verifier.verifySync(req).code, 'key_revoked');
  // Plain objects of the caller's own are read afresh every time.
  const own = JSON.parse(JSON.stringify(m.record));
  own.expires_at = null;
  own.status = 'active';
  delete own.revoked_at;
  db.set(m.record.hash, own);
  assert.equal(verifier.verifySync(req).status, 200);
  own.status = 'disabled';
  assert.equal(verifier.verifySync(req).code, 'key_disabled');
});
