// The decision for one request, read lazily from the engine's `Decided`
// string (NATIVE.md): allowed, status and code at once, the rest parsed when
// first read (absent parts read as null, [] or ''). No rule here: the engine decided.

import { fromStorage, recordFromStorage } from './records.js';

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/**
 * The Decision class over one engine's error table and token views.
 * @param {{errors: {make: Function}, tokens: {tokenUse: Function}}} ctx
 */
export function decisionClass({ errors, tokens }) {
  /** The decision for one request. */
  class Decision {
    constructor(decided) {
      // "<allowed 0|1> <status> <code> <flags> <json>[\n<body>]" (NATIVE.md): the rest is parsed when read.
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
      // A denial's body follows the JSON after a newline (flag `b`), as it is.
      const nl = this._flags.includes('b') ? decided.indexOf('\n', f + 1) : -1;
      this._j = nl < 0 ? decided.slice(f + 1) : decided.slice(f + 1, nl);
      this._body = nl < 0 ? null : decided.slice(nl + 1);
      this._rest = undefined;
      this._principal = undefined;
    }

    _restObject() {
      if (this._rest === undefined) this._rest = JSON.parse(this._j);
      return this._rest;
    }

    /** The exact `application/problem+json` body of a denial, or `null`. */
    get body() {
      return this._body;
    }

    /** Response headers as `[name, value]` pairs, in order. */
    get headers() {
      return this._restObject().headers ?? [];
    }

    /** The first header named `name` (case-insensitive), or `undefined`. */
    header(name) {
      const lower = name.toLowerCase();
      for (const [n, v] of this.headers) if (n.toLowerCase() === lower) return v;
      return undefined;
    }

    /** Who is calling (allowed requests), or `null`. */
    get principal() {
      if (this._principal === undefined) this._principal = fromStorage(this._restObject().principal ?? null);
      return this._principal;
    }

    /**
     * The presented key's record id once identified: allowed requests (the
     * principal's), and denials after its hash matched (revoked, expired, scope,
     * rate limit …), for logs and per-key counts; never sent to the caller.
     * `null` for unknown, mismatched and malformed keys.
     */
    get keyId() {
      const rest = this._restObject();
      return rest.principal?.key_id ?? rest.key_id ?? null;
    }

    /** Warnings of an allowed request (`rotation_grace`, `expires_soon`, `should_rehash`). */
    get warnings() {
      return fromStorage(this._restObject().warnings ?? []);
    }

    /** Code shown to the caller (several internal codes share `invalid_key`). */
    get publicCode() {
      return this._restObject().public_code;
    }

    /** Internal detail for logs (never a secret). */
    get detail() {
      return this._restObject().detail ?? '';
    }

    /** The scope that was missing, for `insufficient_scope`. */
    get missingScope() {
      return this._restObject().missing_scope ?? null;
    }

    /** The rate-limit result, when a quota applied. */
    get rateLimit() {
      return fromStorage(this._restObject().rate_limit ?? null);
    }

    /** The usage-limit result (same shape; plan `usage`, class the period), when the key has a usage limit. */
    get usage() {
      return fromStorage(this._restObject().usage ?? null);
    }

    /** The record with an upgraded hash (save it to finish a hash migration), or `null`. */
    get upgradedRecord() {
      const r = this._restObject().upgraded_record;
      return r === null || r === undefined ? null : recordFromStorage(r);
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
        keyId: this.keyId,
        warnings: this.warnings,
        missingScope: this.missingScope,
        rateLimit: this.rateLimit,
        usage: this.usage,
        detail: this.detail,
      };
    }

    [INSPECT](depth, options, inspect) {
      const shown = this.toJSON();
      return `Decision ${inspect ? inspect(shown, options) : JSON.stringify(shown)}`;
    }
  }

  return Decision;
}
