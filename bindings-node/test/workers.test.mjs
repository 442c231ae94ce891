// One policy shared across worker_threads: every worker builds its engine from
// the same policy document and reaches the same decisions as the main thread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import kp from '../index.cjs';

const config = {
  formats: ['keyproof_live'],
  policy: { routes: [{ method: 'GET', path: '/v1/briefs', all_of: ['briefs:read'] }] },
};

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const kp = require(workerData.pkg);
const engine = new kp.Engine(workerData.config);
const db = new Map(workerData.records.map((r) => [r.hash, kp.recordFromJSON(r)]));
const verifier = new kp.Verifier(engine, { lookup: (h) => db.get(h) ?? null });
parentPort.postMessage(workerData.requests.map((r) => {
  const d = verifier.verifySync({ ...r, now: workerData.now });
  return [d.status, d.code, d.body, d.principal && d.principal.keyId];
}));
`;

test('worker_threads share one policy and decide identically', async () => {
  const engine = new kp.Engine(config);
  const now = Date.parse('2026-03-18T10:30:00Z');
  const reader = engine.mint({ name: 'reader', scopes: ['briefs:read'] }, { now });
  const other = engine.mint({ name: 'other', scopes: ['other:read'] }, { now });
  const records = [JSON.parse(JSON.stringify(reader.record)), JSON.parse(JSON.stringify(other.record))];
  const requests = [
    { method: 'GET', path: '/v1/briefs', headers: { authorization: `Bearer ${reader.key}` } },
    { method: 'GET', path: '/v1/briefs', headers: { authorization: `Bearer ${other.key}` } },
    { method: 'GET', path: '/v1/briefs', headers: {} },
    { method: 'GET', path: '/v1/admin', headers: { authorization: `Bearer ${reader.key}` } },
  ];
  const db = new Map(records.map((r) => [r.hash, r]));
  const main = new kp.Verifier(engine, { lookup: (h) => db.get(h) ?? null });
  const expected = requests.map((r) => {
    const d = main.verifySync({ ...r, now });
    return [d.status, d.code, d.body, d.principal && d.principal.keyId];
  });
  assert.deepEqual(expected.map((e) => e[0]), [200, 403, 401, 403]);
  const pkg = new URL('../index.cjs', import.meta.url).pathname;
  const results = await Promise.all(
    [0, 1, 2].map(
      () =>
        new Promise((resolve, reject) => {
          const w = new Worker(WORKER, { eval: true, workerData: { pkg, config, records, requests, now } });
          w.once('message', (m) => {
            resolve(m);
            w.terminate();
          });
          w.once('error', reject);
        }),
    ),
  );
  for (const r of results) assert.deepEqual(r, expected);
});
