// Argument helpers shared by the API modules: time, random bytes, promises.
// Conversion only, no rule.

/** Whether `value` is a promise (or any thenable): the caller answered asynchronously. */
export function isThenable(value) {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof value.then === 'function';
}

/** A time argument (Date, milliseconds or ISO 8601 text; now when absent) as milliseconds. */
export function nowMs(now) {
  if (now === undefined || now === null) return Date.now();
  if (now instanceof Date) return now.getTime();
  if (typeof now === 'number') return now;
  if (typeof now === 'string') return Date.parse(now);
  throw new TypeError('now must be a Date, a number of milliseconds or an ISO 8601 string');
}

/** The caller's random bytes, or 32 fresh ones from `crypto.getRandomValues`. */
export function randomBytes(bytes) {
  if (bytes === undefined || bytes === null) return globalThis.crypto.getRandomValues(new Uint8Array(32));
  if (bytes instanceof Uint8Array) return bytes;
  if (bytes instanceof ArrayBuffer) return new Uint8Array(bytes);
  throw new TypeError('randomBytes must be a Uint8Array');
}
