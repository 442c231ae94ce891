// Conversion between the storage schema the engines speak (snake_case, RFC 3339
// strings) and idiomatic JS objects (camelCase, Date). Pure conversion: no rule.

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

// Fields whose values are timestamps in the storage schema.
const TIMESTAMPS = new Set(['created_at', 'updated_at', 'expires_at', 'revoked_at', 'rotated_at', 'grace_until', 'until', 'last_used_at']);
// Fields holding application data, copied as they are (keys never renamed).
const OPAQUE = new Set(['metadata', 'state', 'expected', 'new']);

// Maps whose keys are names the deployment chose (plans, classes, codes, a key's
// own quotas by class): keys
// kept as they are, values converted, to this depth.
const NAMED = new Map([['plans', 1], ['status_overrides', 1], ['rate_limit_classes', 2], ['rate_limits', 1]]);

function mapNamed(value, depth, convert) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return convert(value);
  const out = {};
  for (const key of Object.keys(value)) {
    if (value[key] === undefined) continue;
    out[key] = depth > 1 ? mapNamed(value[key], depth - 1, convert) : convert(value[key]);
  }
  return out;
}

const camelCache = new Map();
const snakeCache = new Map();

export function camel(key) {
  let out = camelCache.get(key);
  if (out === undefined) {
    out = key.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
    camelCache.set(key, out);
  }
  return out;
}

export function snake(key) {
  let out = snakeCache.get(key);
  if (out === undefined) {
    out = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    snakeCache.set(key, out);
  }
  return out;
}

/** A Date as RFC 3339 UTC, fractional seconds only when present (as the core writes them). */
export function isoString(date) {
  const iso = date.toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}

/** Storage schema → JS (camelCase keys, Date timestamps). */
export function fromStorage(value) {
  if (Array.isArray(value)) return value.map(fromStorage);
  if (value === null || typeof value !== 'object') return value;
  const out = {};
  for (const key of Object.keys(value)) {
    const v = value[key];
    if (OPAQUE.has(key)) out[camel(key)] = v;
    else if (NAMED.has(key)) out[camel(key)] = mapNamed(v, NAMED.get(key), fromStorage);
    else if (TIMESTAMPS.has(key) && typeof v === 'string') out[camel(key)] = new Date(v);
    else out[camel(key)] = fromStorage(v);
  }
  return out;
}

/** JS → storage schema (snake_case keys, RFC 3339 strings). Accepts either form. */
export function toStorage(value) {
  if (value instanceof Date) return isoString(value);
  if (Array.isArray(value)) return value.map(toStorage);
  if (value === null || typeof value !== 'object') return value;
  if (typeof value.toStorage === 'function') return value.toStorage();
  const out = {};
  for (const key of Object.keys(value)) {
    const v = value[key];
    if (v === undefined) continue;
    const k = snake(key);
    out[k] = OPAQUE.has(k) ? v : NAMED.has(k) ? mapNamed(v, NAMED.get(k), toStorage) : toStorage(v);
  }
  return out;
}

/** The tag of a stored hash, the digest hidden. */
function hiddenHash(hash) {
  return typeof hash === 'string' ? `${hash.split(':')[0]}:<redacted>` : hash;
}

/** Records this layer made (deeply frozen, so a native copy of one stays valid). */
export const madeRecords = new WeakSet();

function deepFreeze(value) {
  if (value === null || typeof value !== 'object' || value instanceof Date || Object.isFrozen(value)) return value;
  for (const key of Object.keys(value)) deepFreeze(value[key]);
  return Object.freeze(value);
}

/** The instants a record holds, to notice a Date changed in place (Dates cannot be frozen). */
export function instantsOf(record) {
  const r = record.rotation;
  return `${+record.createdAt}|${+record.updatedAt}|${+record.expiresAt}|${+record.revokedAt}|${+record.lastUsedAt}|${r ? `${+r.rotatedAt}|${+r.graceUntil}` : ''}`;
}

/**
 * A record as a plain JS object: camelCase, Dates, deeply frozen (records are
 * values: lifecycle functions return new ones). Non-enumerable extras:
 * `toJSON()` gives the storage schema (what to store; the same JSON as every
 * other runtime) and `util.inspect` hides the hash.
 */
export function recordFromStorage(stored) {
  const record = fromStorage(stored);
  Object.defineProperties(record, {
    toJSON: { value: recordToJSON, enumerable: false, configurable: true, writable: true },
    [INSPECT]: { value: inspectRecord, enumerable: false, configurable: true, writable: true },
  });
  deepFreeze(record);
  madeRecords.add(record);
  return record;
}

function recordToJSON() {
  const plain = {};
  for (const key of Object.keys(this)) plain[key] = this[key];
  return toStorage(plain);
}

function inspectRecord(depth, options, inspect) {
  const shown = {};
  for (const key of Object.keys(this)) shown[key] = key === 'hash' ? hiddenHash(this[key]) : this[key];
  return inspect ? inspect(shown, options) : shown;
}

/** A leak-scan finding (storage schema) as JS: UTF-16 offsets as `start`/`end` (string indices). */
export function finding(f) {
  return {
    formatId: f.format_id,
    start: f.utf16_start,
    end: f.utf16_end,
    byteStart: f.start,
    byteEnd: f.end,
    charStart: f.char_start,
    charEnd: f.char_end,
    line: f.line,
    column: f.column,
    preview: f.preview,
    checksumVerified: f.checksum_verified,
  };
}

/** A freshly minted key: the plaintext is shown once, never in JSON or inspect output. */
export class MintedKey {
  #key;

  constructor(key, record) {
    this.#key = key;
    /** The record to store (hash only). */
    this.record = record;
  }

  /** The plaintext key: show it once to its owner, never log it. */
  get key() {
    return this.#key;
  }

  /** The masked preview. */
  get preview() {
    return this.record.preview;
  }

  toJSON() {
    return { preview: this.record.preview, record: this.record };
  }

  toString() {
    return this.record.preview;
  }

  [INSPECT](depth, options, inspect) {
    const shown = { preview: this.record.preview, record: this.record };
    return `MintedKey ${inspect ? inspect(shown, options) : JSON.stringify(shown)}`;
  }
}
