// The Verifier's host loop against a keyproof package (Node or WASM): core's
// Completion decides what to do, the verifier does it — lost compare-and-set
// races re-read and write again, a store that always refuses is an error, save
// and touch in that order — with synchronous callbacks in one call (a Decision,
// not a Promise) and asynchronous ones awaited, in the same order either way.
// Test support only: not part of either package.
import { test } from 'node:test';
import assert from 'node:assert/strict';

const NOW = Date.parse('2026-03-18T10:30:00Z');
const PEPPER = new Uint8Array(32).fill(7);

export function verifierLoopTests(kp, runtime) {
  const plain = new kp.Engine({ formats: ['keyproof_live'], policy: { routes: [{ method: 'GET', path: '/v1/items' }] } });
  const minted = plain.mint({ name: 'Looped' }, { now: NOW });
  // Peppered: the plain SHA-256 record is upgraded (save), and a quota applies (compare-and-set).
  const engine = new kp.Engine(
    {
      formats: ['keyproof_live'],
      hashing: { algorithm: 'hmac-sha256' },
      policy: { routes: [{ method: 'GET', path: '/v1/items' }], plans: { p: { limit: 100, burst: 100 } }, default_plan: 'p' },
    },
    { pepper: PEPPER },
  );
  const request = { method: 'GET', path: '/v1/items', headers: { authorization: `Bearer ${minted.key}` }, now: NOW };

  /** A store whose first `losses` compare-and-sets lose to a rival, logging every call. */
  function store(log, losses, wrap = (x) => x) {
    const inner = new kp.MemoryRateLimitStore();
    return {
      get: (key) => wrap((log.push('get'), inner.get(key))),
      compareAndSet: (key, expected, next, ttl) => {
        log.push('cas');
        if (losses-- > 0) {
          inner.compareAndSet(key, inner.get(key) ?? null, { tat_us: (inner.get(key)?.tat_us ?? 0) + 1 }, ttl);
          return wrap(false);
        }
        return wrap(inner.compareAndSet(key, expected, next, ttl));
      },
    };
  }

  function verifier(log, { losses = 0, wrap = (x) => x } = {}) {
    return new kp.Verifier(engine, {
      lookup: (hash) => wrap((log.push('lookup'), hash === minted.record.hash ? minted.record : null)),
      save: (record) => wrap(void log.push(`save ${record.hash.split(':')[0]}`)),
      touch: (keyId, at) => wrap(void log.push(`touch ${keyId === minted.record.id} ${at instanceof Date}`)),
      rateLimits: store(log, losses, wrap),
    });
  }

  const order = ['lookup', 'lookup', 'get', 'cas', 'get', 'cas', 'get', 'cas', 'save hmac-sha256', 'touch true true'];

  test(`${runtime}: synchronous callbacks: one call, lost races re-read, then save and touch`, () => {
    const log = [];
    const d = verifier(log, { losses: 2 }).verify(request);
    assert.ok(d instanceof kp.Decision, 'a Decision, not a Promise');
    assert.equal(d.status, 200);
    assert.deepEqual(log, order);
  });

  test(`${runtime}: asynchronous callbacks: the same actions, awaited`, async () => {
    const log = [];
    const d = await verifier(log, { losses: 2, wrap: (x) => Promise.resolve(x) }).verify(request);
    assert.equal(d.status, 200);
    assert.deepEqual(log, order);
  });

  test(`${runtime}: concurrent requests for one key share one pending lookup; a failed one is not kept`, async () => {
    let calls = 0;
    let release;
    const gate = new Promise((resolve) => (release = resolve));
    const shared = new kp.Verifier(plain, {
      lookup: async (hash) => {
        calls += 1;
        await gate;
        return hash === minted.record.hash ? minted.record : null;
      },
    });
    const inFlight = Array.from({ length: 10 }, () => shared.verify(request));
    release();
    assert.deepEqual((await Promise.all(inFlight)).map((d) => d.status), Array(10).fill(200));
    assert.equal(calls, 1, 'one lookup for ten requests in flight');
    assert.equal((await shared.verify(request)).status, 200);
    assert.equal(calls, 2, 'a settled lookup is not reused');
    let down = true;
    const flaky = new kp.Verifier(plain, {
      lookup: async () => {
        calls += 1;
        if (down) throw new Error('db down');
        return minted.record;
      },
    });
    calls = 0;
    const failed = await Promise.allSettled([flaky.verify(request), flaky.verify(request)]);
    assert.deepEqual(failed.map((r) => r.status === 'rejected' && r.reason.message), ['db down', 'db down']);
    assert.equal(calls, 1);
    down = false;
    assert.equal((await flaky.verify(request)).status, 200);
    assert.equal(calls, 2, 'the failure was not kept');
  });

  test(`${runtime}: a store that always refuses the write is an error, sync and async`, async () => {
    assert.throws(() => verifier([], { losses: Infinity }).verify(request), /kept refusing the compare-and-set/);
    const async = verifier([], { losses: Infinity, wrap: (x) => Promise.resolve(x) });
    await assert.rejects(async.verify(request), /kept refusing the compare-and-set/);
  });

  test(`${runtime}: an unlimited route still touches; a thrown touch escapes`, () => {
    const touched = [];
    const v = new kp.Verifier(plain, { lookup: () => minted.record, touch: (id) => touched.push(id) });
    assert.equal(v.verify(request).status, 200);
    assert.deepEqual(touched, [minted.record.id]);
    const failing = new kp.Verifier(plain, { lookup: () => minted.record, touch: () => { throw new Error('db down'); } });
    assert.throws(() => failing.verify(request), /db down/);
  });

  test(`${runtime}: a counting host is asked once per allowed request, last; denials are not counted`, async () => {
    const log = [];
    const counting = (wrap) => new kp.Verifier(engine, {
      lookup: (hash) => wrap((log.push('lookup'), hash === minted.record.hash ? minted.record : null)),
      save: (record) => wrap(void log.push(`save ${record.hash.split(':')[0]}`)),
      touch: (keyId) => wrap(void log.push(`touch ${keyId === minted.record.id}`)),
      count: (keyId) => wrap(void log.push(`count ${keyId === minted.record.id}`)),
      rateLimits: store(log, 0, wrap),
    });
    const sync = counting((x) => x);
    assert.equal(sync.verify(request).status, 200);
    assert.deepEqual(log.slice(-3), ['save hmac-sha256', 'touch true', 'count true']);
    log.length = 0;
    assert.equal(sync.verify({ ...request, headers: { authorization: 'Bearer kp_live_bad' } }).status, 401);
    assert.equal(sync.verify({ ...request, method: 'POST' }).status, 403); // no route: denied by default
    assert.ok(!log.some((entry) => entry.startsWith('count')), `no count for denials: ${log}`);
    log.length = 0;
    const d = await counting((x) => Promise.resolve(x)).verify(request);
    assert.equal(d.status, 200);
    assert.deepEqual(log.filter((entry) => entry.startsWith('count')), ['count true']);
    assert.equal(log.at(-1), 'count true', 'counted last, awaited');
    // Without `count` the host is never asked (hostWrites has no 4).
    const quiet = [];
    const v = new kp.Verifier(plain, { lookup: () => minted.record, touch: (id) => quiet.push(id) });
    assert.equal(v.verify(request).status, 200);
    assert.deepEqual(quiet, [minted.record.id]);
    const failing = new kp.Verifier(plain, { lookup: () => minted.record, count: () => { throw new Error('db down'); } });
    assert.throws(() => failing.verify(request), /db down/);
  });

  test(`${runtime}: onDecision sees every final decision, allowed or refused, with the identified key`, async () => {
    const seen = [];
    const hook = (d, r) => void seen.push([d.code, d.keyId, r.method, r.path, r.clientIp]);
    const revoked = kp.revoke(minted.record, { now: NOW });
    const lookups = { ok: minted.record, revoked };
    const audited = (which, onDecision, wrap = (x) => x) =>
      new kp.Verifier(plain, { lookup: (hash) => wrap(hash === minted.record.hash ? lookups[which] : null), onDecision });
    assert.equal(audited('ok', hook).verify({ ...request, clientIp: '203.0.113.9' }).status, 200);
    assert.equal(audited('ok', hook).verify({ ...request, method: 'POST' }).status, 403); // no POST route
    assert.equal(audited('revoked', hook).verify(request).status, 401);
    assert.equal(audited('ok', hook).verify({ ...request, headers: { authorization: 'Bearer kp_live_bad' } }).status, 401);
    const id = minted.record.id;
    assert.deepEqual(seen.slice(0, 3), [
      ['ok', id, 'GET', '/v1/items', '203.0.113.9'],
      ['route_not_allowed', id, 'POST', '/v1/items', null],
      ['key_revoked', id, 'GET', '/v1/items', null],
    ]);
    assert.equal(seen[3][1], null, `a malformed key is never identified: ${seen[3]}`);
    // Asynchronous lookups and hooks are awaited; an async hook makes verifySync refuse.
    seen.length = 0;
    const later = (d, r) => new Promise((resolve) => setTimeout(() => resolve(hook(d, r)), 1));
    const d = await audited('ok', later, (x) => Promise.resolve(x)).verify(request);
    assert.deepEqual([d.keyId, seen], [id, [['ok', id, 'GET', '/v1/items', null]]]);
    assert.throws(() => audited('ok', later).verifySync(request), /asynchronous/);
    // An async hook is refused before it runs: no audit entry for a request that was not answered.
    let started = 0;
    const asyncHook = async () => {
      started += 1;
    };
    assert.throws(() => audited('ok', asyncHook).verifySync(request), /onDecision is asynchronous/);
    assert.equal(started, 0);
    assert.throws(() => audited('ok', () => { throw new Error('audit log down'); }).verify(request), /audit log down/);
  });

  test(`${runtime}: only the headers verification reads cross into the engine, from every header shape`, () => {
    const config = {
      formats: ['keyproof_live'],
      policy: { routes: [{ method: 'GET', path: '/v1/items' }], credentials: { methods: ['bearer', 'api_key_header'], api_key_header: 'X-Api-Key' } },
    };
    const e = new kp.Engine(config);
    assert.deepEqual([...e.native.credentialHeaders()].sort(), ['authorization', 'origin', 'referer', 'x-api-key', 'x-client-id']);
    const crossed = [];
    const verify = e.native.verify.bind(e.native);
    e.native.verify = (method, path, headers, ...rest) => (crossed.push(headers), verify(method, path, headers, ...rest));
    const v = new kp.Verifier(e, { lookup: () => minted.record });
    const other = { host: 'api.example.com', cookie: 'a=b', 'x-request-id': 'r1', accept: '*/*' };
    const shapes = [
      { ...other, authorization: `Bearer ${minted.key}` },
      ['Host', 'api.example.com', 'X-API-Key', minted.key, 'Cookie', 'a=b'],
      [['accept', '*/*'], ['Authorization', `Bearer ${minted.key}`], ['x-request-id', 'r1']],
      new Map([...Object.entries(other), ['x-api-key', minted.key]]),
    ];
    for (const headers of shapes) assert.equal(v.verify({ method: 'GET', path: '/v1/items', headers, now: NOW }).status, 200);
    assert.deepEqual(crossed, [
      ['authorization', `Bearer ${minted.key}`],
      ['X-API-Key', minted.key],
      ['Authorization', `Bearer ${minted.key}`],
      ['x-api-key', minted.key],
    ]);
    // Two different credentials still conflict: filtering keeps every header core reads.
    const both = v.verify({ method: 'GET', path: '/v1/items', headers: { cookie: 'a=b', authorization: `Bearer ${minted.key}`, 'X-Api-Key': 'another' }, now: NOW });
    assert.equal(both.code, 'conflicting_credentials');
  });

  test(`${runtime}: a usage-limited key spends its counter after its bucket, and Verifier#usage reads what is left`, async () => {
    const metered = plain.mint({ name: 'Metered', usageLimit: { limit: 2, period: 'month' } }, { now: NOW });
    for (const [label, wrap] of [['sync', (x) => x], ['async', (x) => Promise.resolve(x)]]) {
      const log = [];
      const inner = new kp.MemoryRateLimitStore();
      let rivalled = false;
      const what = (key) => (key.includes(':usage:') ? 'usage' : 'bucket');
      const rateLimits = {
        get: (key) => wrap((log.push(`get ${what(key)}`), inner.get(key))),
        compareAndSet: (key, expected, next, ttl) => {
          log.push(`cas ${what(key)}`);
          if (what(key) === 'usage' && !rivalled) {
            rivalled = true; // a rival request spends a unit first: this write loses
            inner.compareAndSet(key, expected, next, ttl);
            return wrap(false);
          }
          return wrap(inner.compareAndSet(key, expected, next, ttl));
        },
      };
      const limited = new kp.Verifier(engine, { lookup: () => metered.record, rateLimits });
      const fresh = await limited.usage(metered.record, { now: NOW });
      assert.deepEqual([fresh.remaining, fresh.limit, fresh.class, fresh.resetSeconds], [2, 2, 'month', 1171800], label);
      assert.deepEqual(log.splice(0), ['get usage'], label);
      const req = { ...request, headers: { authorization: `Bearer ${metered.key}` } };
      assert.equal((await limited.verify(req)).code, 'ok', label);
      // The bucket, then the counter; the lost counter write re-reads and counts the rival's unit.
      assert.deepEqual(log, ['get bucket', 'get usage', 'cas bucket', 'cas usage', 'get usage', 'cas usage'], label);
      assert.equal((await limited.verify(req)).code, 'usage_exceeded', label);
      const left = await limited.usage(metered.record, { now: NOW });
      assert.equal(left.remaining, 0, label);
      assert.equal(kp.usage(metered.record, null, { now: NOW }).key, left.key, label);
      assert.equal(kp.usage(minted.record), null, label);
    }
  });

  test(`${runtime}: the host prices requests with usageCost (0 checks, spends nothing); bad prices are refused`, async () => {
    const metered = plain.mint({ name: 'Priced', usageLimit: { limit: 10 } }, { now: NOW });
    const rateLimits = new kp.MemoryRateLimitStore();
    const v = new kp.Verifier(plain, { lookup: (hash) => (hash === metered.record.hash ? metered.record : null), rateLimits });
    const req = (usageCost) => ({ ...request, headers: { authorization: `Bearer ${metered.key}` }, usageCost });
    const check = v.verifySync(req(0));
    assert.deepEqual([check.code, check.usage.remaining], ['ok', 10]);
    assert.equal((await v.usage(metered.record, { now: NOW })).remaining, 10, 'a check writes no counter');
    assert.equal(v.verifySync(req(8)).usage.remaining, 2);
    assert.equal(v.verifySync(req(3)).code, 'usage_exceeded');
    const stepped = plain.begin(req(2), { now: NOW });
    stepped.record(metered.record);
    stepped.rateState(rateLimits.get(stepped.nextStep().value));
    assert.equal(stepped.finish().usage.remaining, 0, 'the step takes the price too');
    assert.equal(v.verifySync(req(undefined)).code, 'ok', 'unpriced: the route cost (1) of the 2 left');
    for (const bad of [-1, 1.5, 2 ** 32, Number.NaN]) {
      assert.throws(() => v.verifySync(req(bad)), (e) => e instanceof kp.KeyproofError && e.code === 'invalid_quota', String(bad));
    }
    assert.throws(() => v.verifySync(req('3')), TypeError);
  });

  test(`${runtime}: Verifier#charge spends after the fact by compare-and-set, sync or async, racing or refused`, async () => {
    const lookup = () => null;
    const metered = plain.mint({ name: 'Charged', usageLimit: { limit: 10, period: 'month' } }, { now: NOW });
    const v = new kp.Verifier(plain, { lookup, now: () => NOW });
    const first = v.charge(metered.record, 7);
    assert.deepEqual([first.usage.remaining, first.unpaid, first.write.new.tat_us - first.usage.state.tat_us], [3, 0, 0]);
    const second = v.charge(metered.record, 5);
    assert.deepEqual([second.usage.remaining, second.unpaid], [0, 2]);
    const back = v.refund(metered.record, 4);
    assert.deepEqual([back.usage.remaining, back.unpaid], [4, 0]);
    assert.equal(v.refund(metered.record, 9).unpaid, 3, 'at most what the period spent comes back');
    assert.equal(v.charge(minted.record, 3), null, 'no usage limit');
    // Eight concurrent charges of 2 against 10 credits through an asynchronous store: exactly 10 are paid.
    const credits = plain.mint({ name: 'Credits', usageLimit: { limit: 10 } }, { now: NOW });
    const inner = new kp.MemoryRateLimitStore();
    let lost = 0;
    const later = (x) => new Promise((resolve) => setTimeout(() => resolve(x), Math.random() * 3));
    const rateLimits = {
      get: (key) => later(inner.get(key)),
      compareAndSet: async (key, expected, next, ttl) => {
        const won = inner.compareAndSet(key, await later(expected), next, ttl);
        if (!won) lost++;
        return won;
      },
    };
    const av = new kp.Verifier(plain, { lookup, rateLimits, now: () => NOW });
    const all = await Promise.all(Array.from({ length: 8 }, () => av.charge(credits.record, 2)));
    assert.equal(all.reduce((sum, c) => sum + c.unpaid, 0), 6);
    assert.equal(kp.usage(credits.record, inner.get(kp.usage(credits.record, null, { now: NOW }).key), { now: NOW }).remaining, 0);
    assert.ok(lost > 0, 'the concurrent charges raced (and re-read)');
    const refusing = new kp.Verifier(plain, { lookup, rateLimits: { get: () => null, compareAndSet: () => false }, now: () => NOW });
    assert.throws(() => refusing.charge(credits.record, 1), /kept refusing/);
    for (const bad of [-1, 1.5, 2 ** 32]) {
      assert.throws(() => v.charge(metered.record, bad), (e) => e instanceof kp.KeyproofError && e.code === 'invalid_quota', String(bad));
    }
  });
}
