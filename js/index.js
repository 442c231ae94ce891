// keyproof's shared JS layer: everything above a native engine (napi-rs addon
// or wasm-bindgen module, see NATIVE.md). Plain ESM with no runtime-specific
// API, so it runs in Node, Deno, Bun and edge workers alike. No verification
// rule lives here: the engine decides, this layer converts and does the I/O.

import {
  AuthenticationError,
  AuthorizationError,
  ConfigError,
  CredentialError,
  KeyFormatError,
  KeyproofError,
  RandomnessError,
  RateLimitError,
  errorTools,
} from './errors.js';
import { MintedKey, fromStorage, instantsOf, madeRecords, recordFromStorage, toStorage } from './records.js';
import { MemoryRateLimitStore } from './store.js';
import { middleware } from './middleware.js';
import { redisStores } from './redis.js';
import { isThenable, nowMs, randomBytes } from './args.js';
import { tokenTools } from './tokens.js';

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/** Headers of any common shape as a flat `[name, value …]` list (duplicates kept). */
export function flatHeaders(headers) {
  if (headers === undefined || headers === null) return [];
  if (Array.isArray(headers)) {
    if (headers.length === 0 || typeof headers[0] === 'string') return headers;
    const out = [];
    for (const [name, value] of headers) out.push(String(name), String(value));
    return out;
  }
  const out = [];
  if (typeof headers.forEach === 'function' && typeof headers.get === 'function') {
    headers.forEach((value, name) => out.push(name, value));
    return out;
  }
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) out.push(name, String(v));
    else out.push(name, String(value));
  }
  return out;
}

/** The raw request target (path and query, as sent) of an absolute URL string. */
export function targetOf(url) {
  const scheme = url.indexOf('://');
  if (scheme < 0) return url;
  const slash = url.indexOf('/', scheme + 3);
  if (slash < 0) return '/';
  const hash = url.indexOf('#', slash);
  return hash < 0 ? url.slice(slash) : url.slice(slash, hash);
}

/**
 * Creates the keyproof API over a native engine module.
 * @param {object} native the module (see NATIVE.md)
 */
export function createKeyproof(native) {
  const errors = errorTools(native);
  const call = errors.call;
  const tokens = tokenTools({ native, call, recordInput, flatHeaders });

  /** The decision for one request. */
  class Decision {
    constructor(decided) {
      // "<allowed 0|1> <status> <code> <flags> <json>" (NATIVE.md): the rest is parsed when read.
      const a = decided.indexOf(' ');
      const b = decided.indexOf(' ', a + 1);
      const c = decided.indexOf(' ', b + 1);
      const f = decided.indexOf(' ', c + 1);
      /** Whether the request may proceed. */
      this.allowed = decided.charCodeAt(0) === 49;
      /** HTTP status (200 when allowed). */
      this.status = Number(decided.slice(a + 1, b));
      /** Internal code: `ok` or the precise reason (for logs). */
      this.code = decided.slice(b + 1, c);
      this._flags = decided.slice(c + 1, f);
      this._j = decided.slice(f + 1);
      this._rest = undefined;
      this._principal = undefined;
    }

    _restObject() {
      if (this._rest === undefined) this._rest = JSON.parse(this._j);
      return this._rest;
    }

    /** The exact `application/problem+json` body of a denial, or `null`. */
    get body() {
      return this._restObject().body;
    }

    /** Response headers as `[name, value]` pairs, in order. */
    get headers() {
      return this._restObject().headers;
    }

    /** The first header named `name` (case-insensitive), or `undefined`. */
    header(name) {
      const lower = name.toLowerCase();
      for (const [n, v] of this.headers) if (n.toLowerCase() === lower) return v;
      return undefined;
    }

    /** Who is calling (allowed requests), or `null`. */
    get principal() {
      if (this._principal === undefined) this._principal = fromStorage(this._restObject().principal);
      return this._principal;
    }

    /** Warnings of an allowed request (`rotation_grace`, `expires_soon`, `should_rehash`). */
    get warnings() {
      return fromStorage(this._restObject().warnings);
    }

    /** Code shown to the caller (several internal codes share `invalid_key`). */
    get publicCode() {
      return this._restObject().public_code;
    }

    /** Internal detail for logs (never a secret). */
    get detail() {
      return this._restObject().detail;
    }

    /** The scope that was missing, for `insufficient_scope`. */
    get missingScope() {
      return this._restObject().missing_scope;
    }

    /** The rate-limit result, when a quota applied. */
    get rateLimit() {
      return fromStorage(this._restObject().rate_limit);
    }

    /** The record with an upgraded hash (save it to finish a hash migration), or `null`. */
    get upgradedRecord() {
      const r = this._restObject().upgraded_record;
      return r === null ? null : recordFromStorage(r);
    }

    /** The access token an allowed request presented: `{jti, kid, expiresAt, recordConfirmed}`, or `null`. */
    get token() {
      return tokens.tokenUse(this._restObject().token);
    }

    /** When core asks to write the key's last use (allowed requests, coarse), the instant; else `null`. */
    get touchLastUsed() {
      const at = this._flags.includes('t') ? this._restObject().touch_last_used : null;
      return at === null || at === undefined ? null : new Date(at);
    }

    /** The core's decision object (the golden-vector shape), when the step API made it. */
    get core() {
      return this._restObject().decision ?? null;
    }

    /** A denial as a `KeyproofError` of its family (`status`, `publicCode`, `missingScope` in `data`). */
    toError() {
      if (this.allowed) return null;
      return errors.make(this.code, this.detail || this.publicCode, {
        status: this.status,
        data: { publicCode: this.publicCode, missingScope: this.missingScope, headers: this.headers, body: this.body },
      });
    }

    toJSON() {
      return {
        allowed: this.allowed,
        status: this.status,
        code: this.code,
        publicCode: this.publicCode,
        headers: this.headers,
        body: this.body,
        principal: this.principal,
        warnings: this.warnings,
        missingScope: this.missingScope,
        rateLimit: this.rateLimit,
        detail: this.detail,
      };
    }

    [INSPECT](depth, options, inspect) {
      const shown = this.toJSON();
      return `Decision ${inspect ? inspect(shown, options) : JSON.stringify(shown)}`;
    }
  }

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
    return toStorage(found);
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
     * `rate_limit_unavailable` (`Retry-After: retryAfterSeconds`), `'fail_open'` with
     * an allow without rate-limit headers plus the warning `rate_limit_unavailable`.
     */
    rateStateUnavailable({ onError = 'fail_closed', retryAfterSeconds = 1 } = {}) {
      call(() => this._v.rateStateUnavailable(onError, retryAfterSeconds));
    }

    /** The compare-and-set write so far: `{key, expected, new, ttlSeconds}` or null. */
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
      this._formatIds = undefined;
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
     * Mints a key of one of the engine's formats (`format` defaults to the only one).
     * @returns {MintedKey}
     */
    mint(options = {}, { randomBytes: bytes, now } = {}) {
      const { format, ...rest } = options;
      let id = format;
      if (id === undefined) {
        this._formatIds ??= call(() => this.native.formats()).map((f) => f.id);
        if (this._formatIds.length !== 1) throw new TypeError('this engine has several formats: pass options.format');
        id = this._formatIds[0];
      }
      const out = call(() => this.native.mint(id, toStorage(rest), randomBytes(bytes), nowMs(now)));
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
     * Starts the I/O-free step for a request (`{method, path, headers, clientIp}`).
     * @returns {Verification}
     */
    begin(request, { now } = {}) {
      const r = requestParts(request);
      return new Verification(call(() => this.native.begin(r.method, r.path, r.headers, r.clientIp, nowMs(now ?? request.now))));
    }

    /** Starts answering a token request `{method, headers, body, clientIp}` (see TokenEndpoint). */
    beginToken(request, opts) {
      return tokens.engineMethods.beginToken(this, request, opts);
    }

    /** Issues an access token for `record`, narrowed by `options` ({scopes, routes, cidrs, kind, lifetimeSeconds}). */
    issueToken(record, options, opts) {
      return tokens.engineMethods.issueToken(this, record, options, opts);
    }

    /** Verifies an access token offline: `{kid, keyId, scopes, claims}`. */
    verifyToken(token, opts) {
      return tokens.engineMethods.verifyToken(this, token, opts);
    }

    /** The public JWKS to publish for verifiers elsewhere (Ed25519 public keys only). */
    publicJwks() {
      return call(() => this.native.publicJwks());
    }

    [INSPECT]() {
      return 'Engine {}';
    }
  }

  function finding(f) {
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

  function requestParts(request) {
    if (request === null || typeof request !== 'object') throw new TypeError('verify() takes a request object');
    const method = request.method ?? 'GET';
    const path = request.path ?? (typeof request.url === 'string' ? targetOf(request.url) : undefined);
    if (typeof path !== 'string') throw new TypeError('the request needs a path (the raw request target)');
    const clientIp = request.clientIp ?? null;
    return { method, path, headers: flatHeaders(request.headers), clientIp };
  }

  const MAX_CAS_TRIES = 32;

  /**
   * Verifies requests: the engine decides, the verifier does the I/O (record
   * lookup, rate-limit state) around the step.
   */
  class Verifier {
    /**
     * @param {Engine} engine
     * @param {{lookup: Function, save?: Function, touch?: Function, rateLimits?: object, now?: () => (Date | number)}} options
     *   `touch(keyId, at)` writes `at` as the key's last use when core asks (write it only if newer)
     */
    constructor(engine, { lookup, save, touch, rateLimits, now } = {}) {
      if (!(engine instanceof Engine)) throw new TypeError('new Verifier(engine, …) takes a keyproof Engine');
      if (typeof lookup !== 'function') throw new TypeError('new Verifier(engine, {lookup}) needs a lookup function');
      this.engine = engine;
      this.lookup = lookup;
      this.save = save;
      this.touch = touch;
      this.rateLimits = rateLimits ?? new MemoryRateLimitStore();
      this.now = now;
      // Per-call scratch for the synchronous callbacks (verify never re-enters itself).
      this._pending = undefined;
      this._thrown = undefined;
      this._hasThrown = false;
      this._lookupCb = (hash) => {
        let found;
        try {
          found = this.lookup(hash);
        } catch (e) {
          this._thrown = e;
          this._hasThrown = true;
          return false;
        }
        if (found instanceof PreparedRecord) return found.native;
        if (found === null || found === undefined) return null;
        if (isThenable(found)) {
          this._pending = found;
          return false;
        }
        try {
          return recordInput(found);
        } catch (e) {
          this._thrown = e;
          this._hasThrown = true;
          return false;
        }
      };
      this._stateCb = (key) => {
        let state;
        try {
          state = this.rateLimits.get(key);
        } catch (e) {
          this._thrown = e;
          this._hasThrown = true;
          return false;
        }
        if (isThenable(state)) {
          this._pending = state;
          return false;
        }
        return state ?? null;
      };
    }

    /**
     * Verifies a request `{method, path, headers, clientIp?, now?}` (`path`: the
     * raw request target as sent). Returns the Decision, or a Promise of it when
     * the lookup or the rate-limit store answered asynchronously.
     * @returns {Decision | Promise<Decision>}
     */
    verify(request) {
      const r = requestParts(request);
      const at = nowMs(request.now ?? (this.now ? this.now() : undefined));
      for (let tries = 0; ; tries++) {
        this._pending = undefined;
        this._hasThrown = false;
        let out;
        try {
          out = this.engine.native.verify(r.method, r.path, r.headers, r.clientIp, at, this._lookupCb, this._stateCb);
        } catch (e) {
          throw errors.convert(e);
        }
        if (this._hasThrown) {
          const e = this._thrown;
          this._thrown = undefined;
          throw e;
        }
        if (typeof out !== 'string') {
          const pending = this._pending;
          this._pending = undefined;
          return this._continue(out, pending);
        }
        const decision = new Decision(out);
        if (decision._flags !== '-' && decision._flags.includes('w')) {
          const w = decision._restObject().rate_write;
          const done = this.rateLimits.compareAndSet(w.key, w.expected, w.new, w.ttl_seconds);
          if (isThenable(done)) return this._afterWrite(done, decision, request, tries);
          if (!done) {
            if (tries < MAX_CAS_TRIES) continue;
            throw new Error('keyproof: the rate-limit store kept refusing the compare-and-set');
          }
        }
        return this._saved(decision);
      }
    }

    /** Like verify(), but refuses asynchronous lookups and stores. */
    verifySync(request) {
      const d = this.verify(request);
      if (isThenable(d)) {
        d.catch(() => {});
        throw new TypeError('the lookup or rate-limit store is asynchronous: use await verifier.verify()');
      }
      return d;
    }

    async _afterWrite(done, decision, request, tries) {
      if (await done) return this._saved(decision);
      if (tries >= MAX_CAS_TRIES) throw new Error('keyproof: the rate-limit store kept refusing the compare-and-set');
      return this.verify(request);
    }

    /** Saves an upgraded record, then writes the last use, as the decision asks. */
    _saved(decision) {
      if (this.save === undefined || !decision._flags.includes('u')) return this._touched(decision);
      const record = decision.upgradedRecord;
      if (record === null) return this._touched(decision);
      const saved = this.save(record);
      return isThenable(saved) ? Promise.resolve(saved).then(() => this._touched(decision)) : this._touched(decision);
    }

    _touched(decision) {
      if (this.touch === undefined || !decision._flags.includes('t')) return decision;
      const principal = decision.principal;
      if (principal === null) return decision;
      const touched = this.touch(principal.keyId, decision.touchLastUsed);
      return isThenable(touched) ? Promise.resolve(touched).then(() => decision) : decision;
    }

    async _continue(native_v, pending) {
      const v = new Verification(native_v);
      for (;;) {
        const step = v.nextStep();
        if (step.kind === 'lookup_record') {
          const found = pending !== undefined ? await pending : await this.lookup(step.value);
          pending = undefined;
          v.record(found);
        } else if (step.kind === 'load_rate_state') {
          const state = pending !== undefined ? await pending : await this.rateLimits.get(step.value);
          pending = undefined;
          v.rateState(state ?? null);
        } else {
          break;
        }
      }
      for (let tries = 0; ; tries++) {
        const w = v.rateWrite();
        if (w === null) break;
        if (await this.rateLimits.compareAndSet(w.key, w.expected, w.new, w.ttlSeconds)) break;
        if (tries >= MAX_CAS_TRIES) throw new Error('keyproof: the rate-limit store kept refusing the compare-and-set');
        v.rateState((await this.rateLimits.get(w.key)) ?? null);
      }
      const decision = v.finish();
      return this._saved(decision);
    }
  }

  // Free functions -----------------------------------------------------------

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

  const api = {
    Engine,
    Verifier,
    Verification,
    Decision,
    PreparedRecord,
    MintedKey,
    MemoryRateLimitStore,
    KeyproofError,
    KeyFormatError,
    CredentialError,
    AuthenticationError,
    AuthorizationError,
    RateLimitError,
    ConfigError,
    RandomnessError,
    version: native.version(),
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
    /** One GCRA step (storage-schema state `{tat_us}` / quota `{limit, burst, period_seconds}`). */
    gcra: (state, nowUs, quota, cost = 1) => call(() => native.gcra(state ?? null, nowUs, toStorage(quota), cost)),
    expiryFromPreset: (preset, { now } = {}) => new Date(call(() => native.expiryFromPreset(preset, nowMs(now)))),
    fingerprint: (storedHash) => call(() => native.fingerprint(storedHash)),
    ...loaders,
    /** Converts a storage-schema record (e.g. JSON from the database) to a JS record. */
    recordFromJSON: (value) => recordFromStorage(typeof value === 'string' ? JSON.parse(value) : toStorage(value)),
    toStorage,
    fromStorage,
    flatHeaders,
    ...tokens.api,
  };
  Object.assign(api, middleware(api));
  Object.assign(api, redisStores(api));
  return api;
}
