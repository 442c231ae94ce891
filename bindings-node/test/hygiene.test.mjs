// Secret hygiene: no key (nor a stored hash, nor a pepper) in any error
// message, stack, util.inspect output, JSON of a minted key, or log line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import kp from '../index.cjs';

const pepper = new Uint8Array(32).fill(0x5a);
const engine = new kp.Engine(
  {
    formats: ['keyproof_live', 'seam'],
    hashing: { algorithm: 'hmac-sha256' },
    policy: { routes: [{ method: 'GET', path: '/v1/briefs', all_of: ['briefs:read'] }] },
  },
  { pepper },
);
const minted = engine.mint({ format: 'keyproof_live', name: 'Hygiene key', scopes: ['briefs:read'] });
const secretBody = minted.key.slice('kp_live_'.length);
const hashHex = minted.record.hash.split(':')[1];
const pepperHex = Buffer.from(pepper).toString('hex');

function clean(text, what) {
  assert.ok(!text.includes(secretBody), `${what} shows the key: ${text}`);
  assert.ok(!text.includes(secretBody.slice(4, -4)), `${what} shows part of the key`);
  assert.ok(!text.includes(hashHex), `${what} shows the stored hash`);
  assert.ok(!text.includes(pepperHex), `${what} shows the pepper`);
}

test('errors carry no key in message, stack or inspect output', () => {
  const attempts = [
    () => kp.parseKey(`${minted.key}x`),
    () => kp.parseKey(minted.key.slice(0, -1)),
    () => kp.parseKey(`${minted.key.slice(0, -1)}!`),
    () => engine.parse(minted.key.replace('kp_live_', 'kp_livx_')),
    () => kp.mint(minted.key, { name: 'x' }),
    () => new kp.Engine({ formats: [minted.key] }),
    () => kp.loadRecord({ ...JSON.parse(JSON.stringify(minted.record)), id: `${minted.key}!` }),
    () => kp.loadRecord({ ...JSON.parse(JSON.stringify(minted.record)), name: '' , scopes: [minted.key + ' x'] }),
    () => kp.update(minted.record, { scopes: [`bad scope ${minted.key}`] }),
    () => kp.rotate(minted.record, minted.key + '!'),
    () => kp.loadPolicy({ realm: minted.key + '"' }),
  ];
  let count = 0;
  for (const attempt of attempts) {
    assert.throws(attempt, (e) => {
      assert.ok(e instanceof kp.KeyproofError, String(e));
      assert.ok(kp.errorCodes().some((c) => c.code === e.code));
      clean(e.message, 'message');
      clean(String(e.stack), 'stack');
      clean(inspect(e), 'inspect');
      clean(JSON.stringify(e), 'JSON');
      count++;
      return true;
    });
  }
  assert.equal(count, attempts.length);
});

test('minted keys, records, decisions and engines inspect without secrets', () => {
  clean(inspect(minted, { depth: 10 }), 'inspect(minted)');
  // JSON is for storage: the record keeps its hash, the plaintext key never appears.
  assert.ok(!JSON.stringify(minted).includes(secretBody), 'JSON(minted) shows the key');
  clean(String(minted), 'String(minted)');
  clean(`${minted}`, 'template');
  clean(inspect(minted.record, { depth: 10 }), 'inspect(record)');
  clean(inspect(kp.prepareRecord(minted.record)), 'inspect(prepared)');
  clean(inspect(engine, { depth: 10, showHidden: true }), 'inspect(engine)');
  assert.equal(minted.key.startsWith('kp_live_'), true, 'the key itself stays readable where asked for');
  assert.match(inspect(minted.record), /hmac-sha256:<redacted>/);
  const db = new Map([[minted.record.hash, minted.record]]);
  const verifier = new kp.Verifier(engine, { lookup: (h) => db.get(h) ?? null });
  for (const key of [minted.key, `${minted.key}x`, minted.key.slice(0, -1)]) {
    const d = verifier.verifySync({ method: 'GET', path: '/v1/briefs', headers: { authorization: `Bearer ${key}` } });
    clean(inspect(d, { depth: 10 }), 'inspect(decision)');
    clean(JSON.stringify(d), 'JSON(decision)');
    clean(d.detail, 'detail');
    const err = d.toError();
    if (err) {
      clean(err.message + err.stack + inspect(err, { depth: 10 }), 'decision error');
    }
  }
});

test('no log line carries a key while requests are verified and denied', async () => {
  const lines = [];
  const saved = { out: process.stdout.write, err: process.stderr.write, log: console.log, warn: console.warn, error: console.error };
  process.stdout.write = (chunk, ...rest) => (lines.push(String(chunk)), true);
  process.stderr.write = (chunk, ...rest) => (lines.push(String(chunk)), true);
  try {
    const db = new Map([[minted.record.hash, minted.record]]);
    const verifier = new kp.Verifier(engine, { lookup: async (h) => db.get(h) ?? null });
    const handler = kp.fetch(verifier, () => new Response('ok'));
    for (const key of [minted.key, `${minted.key}x`, minted.key.slice(0, -1), 'kp_live_' + secretBody.toLowerCase()]) {
      const res = await handler(new Request('http://127.0.0.1/v1/briefs', { headers: { authorization: `Bearer ${key}` } }));
      const body = await res.text();
      clean(body, 'response body');
      for (const [, value] of res.headers) clean(value, 'response header');
    }
  } finally {
    process.stdout.write = saved.out;
    process.stderr.write = saved.err;
  }
  for (const line of lines) clean(line, 'log line');
});
