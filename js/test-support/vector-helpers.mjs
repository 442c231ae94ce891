// Helpers of the golden-vector runners (vectors.mjs, vectors-tokens.mjs).
import assert from 'node:assert/strict';

export const hex = (h) => Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));

export function expectError(kp, expected, fn, name) {
  assert.throws(
    fn,
    (e) => {
      assert.ok(e instanceof kp.KeyproofError, `${name}: not a KeyproofError: ${e}`);
      assert.ok(e instanceof Error, name);
      assert.equal(e.code, expected.code, name);
      const family = kp.errorCodes().find((c) => c.code === e.code).family;
      assert.equal(e.family, family, name);
      return true;
    },
    name,
  );
}

/** The record a vector's host supplies for a lookup of `hash`. */
export function supplied(records, v, hash) {
  const found = v.record_id != null ? records.find((r) => r.id === v.record_id) : records.find((r) => r.hash === hash);
  return found ?? null;
}
