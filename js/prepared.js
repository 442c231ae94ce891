// Records held by the native engine: `PreparedRecord` (loaded and validated
// once) and the conversion of a lookup's answer into what the engine takes,
// reusing a native copy of a record this layer made. Conversion only, no rule.

import { instantsOf, madeRecords, recordFromStorage, toStorage } from './records.js';

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/**
 * `PreparedRecord` and `recordInput` over one native module.
 * @param {{native: object, call: Function, recordsAsText: boolean}} ctx
 */
export function preparedRecords({ native, call, recordsAsText }) {
  // Native copies of the (frozen) records this layer made, so looking one up
  // again costs no conversion; a Date changed in place is noticed and reloaded.
  const nativeCopies = new WeakMap();

  /** A lookup's answer as the engine takes it. */
  function recordInput(found) {
    if (found === undefined || found === null) return null;
    if (found instanceof native.NativeRecord || typeof found === 'string') return found;
    if (found instanceof PreparedRecord) return found.native;
    if (madeRecords.has(found)) {
      const instants = instantsOf(found);
      const copy = nativeCopies.get(found);
      if (copy !== undefined && copy.instants === instants) return copy.native;
      const loaded = call(() => new native.NativeRecord(toStorage(found)));
      nativeCopies.set(found, { native: loaded, instants });
      return loaded;
    }
    // With napi, a plain object is faster as JSON text from V8's own serializer
    // (one string instead of a napi call per property: 10.4 vs 18.0 µs per verify,
    // bench/node/verify.mjs); in WASM, serde-wasm-bindgen reading the object wins
    // (19.6 vs 29.6 µs). Core loads and validates either the same way.
    return recordsAsText ? JSON.stringify(toStorage(found)) : toStorage(found);
  }

  /** A record loaded once and held natively: return it from `lookup` to skip conversion. */
  class PreparedRecord {
    constructor(record) {
      this.native = call(() => new native.NativeRecord(typeof record === 'string' ? record : toStorage(record)));
    }

    get id() {
      return this.native.id;
    }

    toRecord() {
      return recordFromStorage(this.native.toObject());
    }

    [INSPECT]() {
      return `PreparedRecord { id: ${JSON.stringify(this.native.id)} }`;
    }
  }

  return { PreparedRecord, recordInput };
}
