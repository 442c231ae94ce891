// Access tokens (issue 15) over the native engine: the token endpoint (core's
// client-credentials exchange step, driven here with a sync or async lookup),
// derived tokens, offline verification and the public JWKS. No rule lives
// here: core parses the request, checks the record, signs and verifies.
// A token presented to a Verifier needs nothing from this file: core treats a
// JWS-shaped credential as a token (under `tokens.confirm_record` the lookup
// then receives the token's key id, a record id with no `:`).

import { isThenable, nowMs, randomBytes } from './args.js';
import { fromStorage, toStorage } from './records.js';
import { tokenExpress, tokenFastify } from './token-servers.js';

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/** The token endpoint's answer (RFC 6749 §5.1 / §5.2): send `status`, `headers`, `body` as they are. */
export class TokenResponse {
  #body;

  constructor(r) {
    /** HTTP status. */
    this.status = r.status;
    /** Response headers as `[name, value]` pairs (`Cache-Control: no-store` …). */
    this.headers = r.headers;
    /** Internal code: `ok` or the precise reason (for logs). */
    this.code = r.code;
    /** The RFC 6749 `error` of a failure (`invalid_client` …), or `null`. */
    this.error = r.error;
    /** Internal detail for logs (never a secret). */
    this.detail = r.detail;
    /** The key the token was issued for (successes), or `null`. */
    this.keyId = r.key_id;
    /** The issued token's `jti` (successes), or `null`. */
    this.jti = r.jti;
    this.#body = r.body;
  }

  /** The exact JSON body (a success holds the access token: send it, never log it). */
  get body() {
    return this.#body;
  }

  /** The first header named `name` (case-insensitive), or `undefined`. */
  header(name) {
    const lower = name.toLowerCase();
    for (const [n, v] of this.headers) if (n.toLowerCase() === lower) return v;
    return undefined;
  }

  /** Everything but the body (which may hold the token). */
  toJSON() {
    return { status: this.status, headers: this.headers, code: this.code, error: this.error, detail: this.detail, keyId: this.keyId, jti: this.jti };
  }

  [INSPECT](depth, options, inspect) {
    const shown = this.toJSON();
    return `TokenResponse ${inspect ? inspect(shown, options) : JSON.stringify(shown)}`;
  }
}

/** A signed access token: the token is shown to its holder only, never in JSON or inspect output. */
export class IssuedToken {
  #token;

  constructor(issued) {
    this.#token = issued.access_token;
    /** Seconds until it expires. */
    this.expiresIn = issued.expires_in;
    /** `kid` of the signing key. */
    this.kid = issued.kid;
    /** The JWT claims it carries, as on the wire (`iss`, `sub`, `key_id` …). */
    this.claims = issued.claims;
  }

  /** The compact JWS: a bearer credential. */
  get accessToken() {
    return this.#token;
  }

  toJSON() {
    return { kid: this.kid, expiresIn: this.expiresIn, claims: this.claims };
  }

  toString() {
    return `IssuedToken(${this.kid}, ${this.claims.jti})`;
  }

  [INSPECT](depth, options, inspect) {
    const shown = this.toJSON();
    return `IssuedToken ${inspect ? inspect(shown, options) : JSON.stringify(shown)}`;
  }
}

/**
 * The token API over one native module.
 * @param {{native: object, call: Function, recordInput: Function, flatHeaders: Function}} ctx
 */
export function tokenTools({ native, call, recordInput, flatHeaders }) {
  /** One token request being answered without I/O (see TokenEndpoint for the loop). */
  class TokenExchange {
    constructor(inner) {
      this._x = inner;
    }

    /** `{kind: 'lookup_record', value: hash}` or `{kind: 'done'}`. */
    nextStep() {
      return call(() => this._x.nextStep());
    }

    /** Answers the lookup step with the record stored under the hash (or null). */
    record(record) {
      call(() => this._x.record(recordInput(record)));
    }

    /** The answer; the exchange cannot be used again. */
    finish() {
      return new TokenResponse(call(() => this._x.finish()));
    }
  }

  /** Starts answering a token request `{method, headers, body, clientIp}` on `engine`. */
  function beginToken(engine, request, { now, randomBytes: bytes } = {}) {
    if (request === null || typeof request !== 'object') throw new TypeError('beginToken() takes a request object');
    const { method = 'POST', headers, body = '', clientIp = null } = request;
    if (typeof body !== 'string') throw new TypeError('the token request body is the raw text (form or JSON)');
    const at = nowMs(now ?? request.now);
    const random = randomBytes(bytes);
    return new TokenExchange(call(() => engine.native.beginToken(method, flatHeaders(headers), body, clientIp, at, random)));
  }

  /** Issues a token for `record`, narrowed by `options` ({scopes, routes, cidrs, origins, kind, lifetimeSeconds}). */
  function issueToken(engine, record, options, { now, randomBytes: bytes } = {}) {
    const opts = options === undefined || options === null ? null : toStorage(options);
    return new IssuedToken(call(() => engine.native.issueToken(recordInput(record), opts, randomBytes(bytes), nowMs(now))));
  }

  /** Verifies a token offline: `{kid, keyId, scopes, claims}` (claims as on the wire). */
  function verifyToken(engine, token, { now } = {}) {
    const t = call(() => engine.native.verifyToken(token, nowMs(now)));
    return Object.freeze({ kid: t.kid, keyId: t.key_id, scopes: t.scopes, claims: t.claims });
  }

  /**
   * The token endpoint (OAuth 2.0 client credentials, RFC 6749 §4.4) for any
   * framework: `exchange(request)` answers one token request, `fetch(request)`
   * is a Web-standard `(Request) => Response` handler. `lookup(hash)` is the
   * same lookup a Verifier uses (sync or async).
   */
  class TokenEndpoint {
    /**
     * @param {object} engine a keyproof Engine with a `tokens` section
     * @param {{lookup: Function, now?: () => (Date | number)}} options
     */
    constructor(engine, { lookup, now } = {}) {
      if (engine === null || typeof engine !== 'object' || !engine.native) throw new TypeError('new TokenEndpoint(engine, …) takes a keyproof Engine');
      if (typeof lookup !== 'function') throw new TypeError('new TokenEndpoint(engine, {lookup}) needs a lookup function');
      this.engine = engine;
      this.lookup = lookup;
      this.now = now;
    }

    /**
     * Answers `{method, headers, body, clientIp?, now?, randomBytes?}` (`body`:
     * the raw request body text). A TokenResponse, or a Promise of one when
     * the lookup answered asynchronously.
     */
    exchange(request) {
      const now = request?.now ?? (this.now ? this.now() : undefined);
      const x = beginToken(this.engine, request, { now, randomBytes: request?.randomBytes });
      for (;;) {
        const step = x.nextStep();
        if (step.kind !== 'lookup_record') return x.finish();
        const found = this.lookup(step.value);
        if (isThenable(found)) return this._continue(x, found);
        x.record(found);
      }
    }

    async _continue(x, pending) {
      x.record(await pending);
      for (let step = x.nextStep(); step.kind === 'lookup_record'; step = x.nextStep()) {
        x.record(await this.lookup(step.value));
      }
      return x.finish();
    }

    /** A Web-standard handler: `(Request) => Promise<Response>` (`clientIp(request)` optional). */
    async fetch(request, { clientIp } = {}) {
      const body = await request.text();
      const ip = clientIp ? clientIp(request) : null;
      const r = await this.exchange({ method: request.method, headers: request.headers, body, clientIp: ip ?? null });
      return new Response(r.body, { status: r.status, headers: r.headers });
    }

    /** An Express 4/5 handler: `app.post('/oauth/token', endpoint.express())`, before any body parser. */
    express({ clientIp } = {}) {
      return tokenExpress(this, { clientIp });
    }

    /** A Fastify 5 plugin: `fastify.register(endpoint.fastify, { path: '/oauth/token', clientIp? })`. */
    get fastify() {
      return tokenFastify(this);
    }

    [INSPECT]() {
      return 'TokenEndpoint {}';
    }
  }

  return {
    engineMethods: { beginToken, issueToken, verifyToken },
    api: {
      TokenEndpoint,
      TokenExchange,
      TokenResponse,
      IssuedToken,
      /** A private Ed25519 JWK (`{kty: 'OKP', crv, x, d, kid, alg, use}`) from a 32-byte seed (`null`: 32 random bytes). */
      ed25519Jwk: (seed, kid) => call(() => native.tokenJwk('EdDSA', randomBytes(seed), kid)),
      /** An HS256 JWK (`{kty: 'oct', k, kid, alg, use}`) from a secret of at least 32 bytes (`null`: 32 random bytes). */
      hs256Jwk: (secret, kid) => call(() => native.tokenJwk('HS256', randomBytes(secret), kid)),
      /** `{header, claims}` of a token, **not verified**: for debugging only. */
      inspectToken: (token) => call(() => native.inspectToken(token)),
    },
    /** The accepted token of a decision (`{jti, kid, expiresAt, recordConfirmed}`), or null. */
    tokenUse: (stored) => (stored === undefined || stored === null ? null : fromStorage(stored)),
  };
}
