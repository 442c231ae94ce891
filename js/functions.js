// The free functions of the API (presets, parsing, minting, scanning, the
// record lifecycle, GCRA, loaders) over one native module: each converts its
// arguments to the storage schema, calls the engine and converts back.

import { MintedKey, finding, fromStorage, recordFromStorage, toStorage } from './records.js';
import { nowMs, randomBytes } from './args.js';

/**
 * The free functions over one native module.
 * @param {{native: object, call: Function, PreparedRecord: Function}} ctx
 */
export function freeFunctions({ native, call, PreparedRecord }) {
  function formatsArg(formats) {
    return formats === undefined ? undefined : toStorage(formats);
  }

  /** Parses a key with `formats` (preset ids or definitions; all presets by default). */
  function parseKey(key, { formats } = {}) {
    return fromStorage(call(() => native.parseKey(key, formatsArg(formats))));
  }

  /** Mints a key of `format` (preset id or definition), SHA-256 hashed. */
  function mint(format, options = {}, { randomBytes: bytes, now } = {}) {
    const f = typeof format === 'string' ? format : toStorage(format);
    const out = call(() => native.mint(f, toStorage(options), randomBytes(bytes), nowMs(now)));
    return new MintedKey(out.key, recordFromStorage(out.record));
  }

  function scan(text, { formats } = {}) {
    return call(() => native.scan(text, formatsArg(formats))).map(finding);
  }

  function redact(text, { formats } = {}) {
    return call(() => native.redact(text, formatsArg(formats)));
  }

  function lifecycle(op) {
    return (record, { now } = {}) => recordFromStorage(call(() => native[op](toStorage(record), nowMs(now))).record);
  }

  const loaders = {
    /** A record from JSON text or an object (storage schema or camelCase), validated. */
    loadRecord: (value) => recordFromStorage(call(() => native.loadValue('record', typeof value === 'string' ? value : toStorage(value)))),
    /** A policy from JSON text or an object, validated and compiled; defaults filled in. */
    loadPolicy: (value) => fromStorage(call(() => native.loadValue('policy', typeof value === 'string' ? value : toStorage(value)))),
    /** A rate-limit state (`{tat_us}`), validated. */
    loadRateLimitState: (value) => call(() => native.loadValue('rate_limit_state', value)),
    /** A format definition, validated. */
    loadFormat: (value) => fromStorage(call(() => native.loadValue('format', typeof value === 'string' ? value : toStorage(value)))),
  };

  return {
    errorCodes: () => call(() => native.errorCodes()),
    presets: () => fromStorage(call(() => native.presets())),
    seamFormat: (id, keyPrefix, environment = 'live') => fromStorage(call(() => native.seamFormat(id, keyPrefix, environment))),
    parseKey,
    mint,
    scan,
    redact,
    /** Prepares a record for fast lookups (validated once, held natively). */
    prepareRecord: (record) => new PreparedRecord(record),
    revoke: lifecycle('revoke'),
    disable: lifecycle('disable'),
    enable: lifecycle('enable'),
    /** Applies changes to a record (default name rules); returns the new record. */
    update: (record, changes, { now } = {}) =>
      recordFromStorage(call(() => native.update(toStorage(record), toStorage(changes), nowMs(now))).record),
    /** Marks `record` replaced by `successorId`, valid for `graceHours` (default 24) more. */
    rotate: (record, successorId, { now, graceHours } = {}) =>
      recordFromStorage(call(() => native.rotate(toStorage(record), successorId, nowMs(now), graceHours ?? null)).record),
    /** Mint options for the key that replaces `record`. */
    successorOptions: (record, { now } = {}) => fromStorage(call(() => native.successorOptions(toStorage(record), nowMs(now)))),
    /**
     * What `record` has left of its usage limit (`{key, remaining, limit, resetSeconds, class: period, …}`),
     * given the state stored under the counter's key (`null`: nothing spent); `null` without a limit.
     */
    usage: (record, state = null, { now } = {}) =>
      fromStorage(call(() => native.usage(toStorage(record), state ?? null, nowMs(now)))),
    /**
     * Charges `units` to `record`'s usage limit after the fact, given the state stored under
     * the counter's key: `{write, usage, unpaid}` (compare-and-set `write` in the store;
     * `Verifier#charge` does both), or `null` without a limit.
     */
    charge: (record, units, state = null, { now } = {}) =>
      fromStorage(call(() => native.settle(toStorage(record), units, state ?? null, nowMs(now), false))),
    /** Gives back `units` of what `record` spent this period (at most that): `{write, usage, unpaid}`, or `null`. */
    refund: (record, units, state = null, { now } = {}) =>
      fromStorage(call(() => native.settle(toStorage(record), units, state ?? null, nowMs(now), true))),
    /** One GCRA step (storage-schema state `{tat_us}` / quota `{limit, burst, period_seconds}`). */
    gcra: (state, nowUs, quota, cost = 1) => call(() => native.gcra(state ?? null, nowUs, toStorage(quota), cost)),
    expiryFromPreset: (preset, { now } = {}) => new Date(call(() => native.expiryFromPreset(preset, nowMs(now)))),
    fingerprint: (storedHash) => call(() => native.fingerprint(storedHash)),
    isRecordId: (lookup) => call(() => native.isRecordId(lookup)),
    ...loaders,
    /** Converts a storage-schema record (e.g. JSON from the database) to a JS record. */
    recordFromJSON: (value) => recordFromStorage(typeof value === 'string' ? JSON.parse(value) : toStorage(value)),
  };
}
