// Runner of `record_cache` vector files (tests/vectors/record_cache.json), as
// core/tests/golden/record_cache.rs runs them: each vector on a fresh engine
// with the vector's `recordCache`, its steps in order through the Verifier
// (synchronous, then asynchronous callbacks), counting what reached the store.
import assert from 'node:assert/strict';

async function runVector(kp, file, v, asynchronous) {
  const engine = new kp.Engine({ ...file.config, record_cache: v.record_cache });
  const store = new Map(file.records.map((r) => [r.id, kp.recordFromJSON(r)]));
  let asked;
  const lookup = (hash) => {
    asked.lookups += 1;
    return [...store.values()].find((r) => r.hash === hash) ?? null;
  };
  const verifier = new kp.Verifier(engine, {
    lookup: asynchronous ? async (hash) => lookup(hash) : lookup,
    save: (record) => {
      store.set(record.id, record);
      asked.saved = true;
    },
    touch: (keyId, at) => {
      store.set(keyId, { ...store.get(keyId), lastUsedAt: at });
      asked.touched = true;
    },
  });
  for (const step of v.steps) {
    for (const op of step.before ?? []) {
      if (op.delete) store.delete(op.delete);
      if (op.invalidate) engine.invalidateCached(op.invalidate);
    }
    asked = { lookups: 0, saved: false, touched: false };
    const r = step.request;
    const request = { method: r.method, path: r.path, headers: r.headers, clientIp: r.client_ip ?? null, now: step.now };
    const d = asynchronous ? await verifier.verify(request) : verifier.verifySync(request);
    assert.deepEqual({ code: d.code, status: d.status, ...asked }, step.expected, `${v.name} (${asynchronous ? 'async' : 'sync'})`);
  }
  assert.deepEqual(kp.toStorage(engine.cacheStats()), v.stats, `${v.name}: stats`);
}

/** Runs every vector of a `record_cache` file, with synchronous and asynchronous lookups. */
export async function runRecordCache(kp, file) {
  for (const v of file.vectors) {
    await runVector(kp, file, v, false);
    await runVector(kp, file, v, true);
  }
}
