// The engine wrapper: `Engine` (formats, hasher and compiled policy, built
// once) and `Verification` (the I/O-free step of one request), converting
// between the storage schema and JS values around each native call.

import { MintedKey, finding, fromStorage, recordFromStorage, toStorage } from './records.js';
import { nowMs, randomBytes } from './args.js';
import { flatHeaders, requestParts } from './request.js';

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/**
 * `Engine` and `Verification` over one native module.
 * @param {{native: object, call: Function, tokens: object, Decision: Function, recordInput: Function}} ctx
 */
export function engineClasses({ native, call, tokens, Decision, recordInput }) {
  /** The I/O-free verification step of one request (see Engine#begin). */
  class Verification {
    constructor(inner) {
      this._v = inner;
    }

    /** `{kind: 'lookup_record' | 'load_rate_state' | 'done', value?}`. */
    nextStep() {
      return call(() => this._v.nextStep());
    }

    /** Answers a lookup step (a record, a PreparedRecord, JSON text or null). */
    record(record) {
      call(() => this._v.record(recordInput(record)));
    }

    /** Answers the rate-limit step with the stored state or null (again after a lost compare-and-set). */
    rateState(state) {
      call(() => this._v.rateState(state ?? null));
    }

    /**
     * Answers the rate-limit step with "the store failed" (or gives up after a lost
     * compare-and-set): core answers `onError: 'fail_closed'` with a 503
     * `rate_limit_unavailable` (`Retry-After: retryAfterSeconds`, default 1),
     * `'fail_open'` with an allow without rate-limit headers plus the warning
     * `rate_limit_unavailable`; without `onError`, as the policy's `rate_store_failure` says.
     */
    rateStateUnavailable({ onError, retryAfterSeconds } = {}) {
      call(() => this._v.rateStateUnavailable(onError, retryAfterSeconds));
    }

    /** The compare-and-set of `rateWrite()` won: the next write (a usage-limited key's counter) follows. */
    rateWritten() {
      call(() => this._v.rateWritten());
    }

    /** The next compare-and-set write so far: `{key, expected, new, ttlSeconds}` or null. */
    rateWrite() {
      const w = call(() => this._v.rateWrite());
      return w === null || w === undefined ? null : { key: w.key, expected: w.expected, new: w.new, ttlSeconds: w.ttl_seconds };
    }

    /** The decision. */
    finish() {
      return new Decision(call(() => this._v.finish(true)));
    }
  }

  /** The verification engine: formats, hasher and compiled policy, built once. */
  class Engine {
    /**
     * @param {object | string} config `{formats, hashing?, policy?}` (object or JSON text)
     * @param {{pepper?: Uint8Array}} [options]
     */
    constructor(config, options = {}) {
      const pepper = options.pepper ?? null;
      this.native = call(() => new native.Engine(typeof config === 'string' ? config : toStorage(config), pepper));
      /** The headers verification reads (lowercase): the only ones handed to the engine. */
      this._reads = new Set(this.native.credentialHeaders());
    }

    /** The loaded policy (defaults filled in), camelCase. */
    get policy() {
      return fromStorage(call(() => this.native.policy()));
    }

    /** The formats, longest prefix first. */
    get formats() {
      return fromStorage(call(() => this.native.formats()));
    }

    /** Parses a key with the engine's formats. */
    parse(key) {
      return fromStorage(call(() => this.native.parse(key)));
    }

    /** The storage hash a new record of this key stores. */
    hashKey(key) {
      return call(() => this.native.hashKey(key));
    }

    /** Every hash a store may hold this key under, preferred first. */
    lookupHashes(key) {
      return call(() => this.native.lookupHashes(key));
    }

    /**
     * Mints a key of one of the engine's formats (`format` defaults to the config's first).
     * @returns {MintedKey}
     */
    mint(options = {}, { randomBytes: bytes, now } = {}) {
      const { format, ...rest } = options;
      const out = call(() => this.native.mint(format ?? null, toStorage(rest), randomBytes(bytes), nowMs(now)));
      return new MintedKey(out.key, recordFromStorage(out.record));
    }

    /**
     * Rotates `record`: mints its successor (same name, owner, scopes … and
     * lifetime) and marks `record` replaced, valid for the policy's grace period.
     * @returns {{record: object, successor: MintedKey}}
     */
    rotate(record, { now, randomBytes: bytes, successor = {} } = {}) {
      const at = nowMs(now);
      const stored = toStorage(record);
      const options = { ...call(() => native.successorOptions(stored, at)), ...toStorage(successor) };
      const minted = call(() => this.native.mint(stored.format, options, randomBytes(bytes), at));
      const rotated = call(() => this.native.rotate(stored, minted.record.id, at));
      return { record: recordFromStorage(rotated.record), successor: new MintedKey(minted.key, recordFromStorage(minted.record)) };
    }

    /** Applies changes to `record` under the policy's name rules; returns the new record. */
    update(record, changes, { now } = {}) {
      return recordFromStorage(call(() => this.native.update(toStorage(record), toStorage(changes), nowMs(now))).record);
    }

    /** Every key of the engine's formats in `text`, with UTF-16 offsets (JS string indices). */
    scan(text) {
      return call(() => this.native.scan(text)).map(finding);
    }

    /** `text` with every key replaced by its preview. */
    redact(text) {
      return call(() => this.native.redact(text));
    }

    /**
     * Starts the I/O-free step for a request (`{method, path, headers, clientIp, usageCost}`).
     * @returns {Verification}
     */
    begin(request, { now } = {}) {
      const r = requestParts(request, this._reads);
      const at = nowMs(now ?? request.now);
      return new Verification(call(() => this.native.begin(r.method, r.path, r.headers, r.clientIp, at, r.usageCost)));
    }

    /**
     * The client's address as verification judges it: `peer` (the socket's), or the
     * one trusted proxies forwarded in `headers` (policy `client_ip`); `null` without one.
     */
    clientIp(peer, headers) {
      return call(() => this.native.clientIp(peer ?? null, flatHeaders(headers, this._reads))) ?? null;
    }

    /** Starts answering a token request `{method, headers, body, clientIp}` (see TokenEndpoint). */
    beginToken(request, opts) {
      return tokens.engineMethods.beginToken(this, request, opts);
    }

    /** Issues an access token for `record`, narrowed by `options` ({scopes, routes, cidrs, origins, kind, lifetimeSeconds}). */
    issueToken(record, options, opts) {
      return tokens.engineMethods.issueToken(this, record, options, opts);
    }

    /** Verifies an access token offline: `{kid, keyId, scopes, claims}`. */
    verifyToken(token, opts) {
      return tokens.engineMethods.verifyToken(this, token, opts);
    }

    /**
     * The record cache's counters `{records, absent, hits, absentHits, misses, evictions}`,
     * or null without `recordCache` in the config.
     */
    cacheStats() {
      const stats = call(() => this.native.cacheStats());
      return stats === null || stats === undefined ? null : fromStorage(stats);
    }

    /**
     * Forgets the cached record of `keyId` (after revoking, disabling, updating or
     * deleting it in this process; other processes see it within `ttlSeconds`).
     * How many entries went.
     */
    invalidateCached(keyId) {
      return call(() => this.native.invalidateCached(String(keyId)));
    }

    /** Forgets every cached record and the counters. */
    clearCache() {
      call(() => this.native.clearCache());
    }

    /** The public JWKS to publish for verifiers elsewhere (Ed25519 public keys only). */
    publicJwks() {
      return call(() => this.native.publicJwks());
    }

    [INSPECT]() {
      return 'Engine {}';
    }
  }

  return { Engine, Verification };
}
