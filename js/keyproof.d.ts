// Types of the keyproof API as the shared layer (js/) gives it, whatever the
// native engine: the Node package (bindings-node) and the WASM package ship this
// file as their types. Hand-written; checked by bindings-node/test/types.test-d.ts.

export type CredentialKind = 'secret' | 'publishable' | 'restricted' | 'sdk_token' | 'client_secret';
export type KeyStatus = 'active' | 'disabled' | 'revoked';
export type TimeLike = Date | number | string;

export interface Owner { organization?: string; workspace?: string; profile?: string }
export interface Rotation { replacedBy?: string; rotatedAt?: Date; graceUntil: Date }

/**
 * A stored key record: camelCase, Dates, deeply frozen (lifecycle functions
 * return new records). `JSON.stringify` gives the shared storage schema;
 * inspect hides the hash.
 */
export interface KeyRecord {
  readonly id: string; name: string; hash: string; fingerprint: string; preview: string;
  format: string; environment: string; kind: CredentialKind; owner: Owner;
  clientId?: string; scopes: string[]; role?: string; status: KeyStatus;
  createdAt: Date; updatedAt: Date; expiresAt?: Date; revokedAt?: Date; rotation?: Rotation;
  allowedIps?: string[]; plan?: string; rateLimits?: Record<string, Quota>; usageLimit?: UsageLimit;
  /** Websites a browser may use the key from (`https://app.example.com`, `https://*.example.com`). */
  allowedOrigins?: string[];
  features?: string[]; metadata?: Record<string, unknown>; lastUsedAt?: Date;
  /** Requests the key was let through for, as the host counted them (absent: none). */
  requestCount?: number;
}

export interface Principal {
  keyId: string; name: string; owner: Owner; environment: string; kind: CredentialKind; format: string;
  scopes: string[]; role: string | null; plan: string | null; clientId: string | null;
  features: string[]; metadata: Record<string, unknown>;
}

export type Warning =
  | { code: 'rotation_grace'; until: Date; replacedBy: string | null }
  | { code: 'expires_soon'; expiresAt: Date }
  | { code: 'should_rehash' };

/** `limit` requests per `periodSeconds` (default 60), up to `burst` back to back. */
export interface Quota {
  limit: number; burst: number; periodSeconds?: number;
}

/**
 * Units a key may spend per UTC day, per ISO week, per UTC month, or in all (credits: no
 * `period`); each request spends its route's cost. `counter`: the key id whose
 * counter it spends (rotation sets it, so a successor keeps its predecessor's).
 */
export interface UsageLimit {
  limit: number; period?: 'day' | 'week' | 'month'; counter?: string;
}

export interface MintOptions {
  format?: string; name: string; idStyle?: 'uuid' | 'prefixed' | { style: 'uuid' } | { style: 'prefixed'; prefix?: string; hexLength?: number };
  id?: string; owner?: Owner; scopes?: string[]; role?: string; expiresIn?: string; expiresAt?: Date | string;
  allowedIps?: string[]; plan?: string; features?: string[]; clientId?: string; generateClientId?: boolean;
  metadata?: Record<string, unknown>;
  /** Websites a browser may use the key from (`https://app.example.com`, `https://*.example.com`). */
  allowedOrigins?: string[];
  /** The key's own quotas by rate-limit class (`default`, or a route class), instead of its plan's. */
  rateLimits?: Record<string, Quota>;
  /** Units the key may spend per day, per month or in all. */
  usageLimit?: UsageLimit;
}
export type RecordUpdate = Partial<Pick<MintOptions, 'name' | 'scopes' | 'allowedIps' | 'allowedOrigins' | 'features' | 'metadata' | 'rateLimits'>> & {
  role?: string | null; expiresAt?: Date | string | null; plan?: string | null; clientId?: string | null;
  /** A new usage limit (the period's spending so far still counts), or null to remove it. */
  usageLimit?: UsageLimit | null;
};

export interface ParsedKey { formatId: string; environment: string; kind: CredentialKind; publicPart: string; preview: string; hasChecksum: boolean }
export interface Finding {
  formatId: string; start: number; end: number; byteStart: number; byteEnd: number; charStart: number; charEnd: number;
  line: number; column: number; preview: string; checksumVerified: boolean;
}
export type FormatRef = string | Record<string, unknown>;
export type Headers = globalThis.Headers | Record<string, string | string[] | undefined> | [string, string][] | string[];
/** `usageCost`: what the request spends of a usage-limited key's allowance (default: its route's cost; 0: a check that spends nothing). */
export interface RequestLike { method?: string; path?: string; url?: string; headers?: Headers; clientIp?: string | null; now?: TimeLike; usageCost?: number | null }
export type RateLimitState = { tat_us: number };
export interface RateLimitStore {
  get(key: string): RateLimitState | null | Promise<RateLimitState | null>;
  compareAndSet(key: string, expected: RateLimitState | null, next: RateLimitState, ttlSeconds: number): boolean | Promise<boolean>;
}
export type RecordLike = KeyRecord | PreparedRecord | string | Record<string, unknown> | null | undefined;
export type Lookup = (hash: string) => RecordLike | Promise<RecordLike>;

export class KeyproofError extends Error {
  readonly code: string; readonly family: string; readonly description?: string; readonly status?: number; readonly data: Record<string, unknown>;
}
export class KeyFormatError extends KeyproofError {}
export class CredentialError extends KeyproofError {}
export class AuthenticationError extends KeyproofError {}
export class AuthorizationError extends KeyproofError {}
export class RateLimitError extends KeyproofError {}
export class ConfigError extends KeyproofError {}
export class RandomnessError extends KeyproofError {}

export class MintedKey { readonly key: string; readonly preview: string; readonly record: KeyRecord; toJSON(): { preview: string; record: KeyRecord } }
export class PreparedRecord { readonly id: string; toRecord(): KeyRecord }

export class Decision {
  readonly allowed: boolean; readonly status: number; readonly code: string; readonly body: string | null;
  readonly headers: [string, string][]; readonly principal: Principal | null; readonly warnings: Warning[];
  /** The presented key's record id once identified (allowed, or denied after its hash matched); never sent to the caller. */
  readonly keyId: string | null;
  readonly publicCode: string; readonly detail: string; readonly missingScope: string | null;
  readonly rateLimit: Record<string, unknown> | null; readonly upgradedRecord: KeyRecord | null;
  /** The usage-limit result (plan `usage`, class the period), when the key has a usage limit. */
  readonly usage: UsageStanding | null;
  readonly core: Record<string, unknown> | null;
  /** The access token an allowed request presented, or null. */
  readonly token: TokenUse | null;
  /** When core asks to write the key's last use (allowed requests, coarse), else null. */
  readonly touchLastUsed: Date | null;
  header(name: string): string | undefined;
  toError(): KeyproofError | null;
  toJSON(): Record<string, unknown>;
}

export type Step = { kind: 'lookup_record' | 'load_rate_state' | 'done'; value?: string | null };
export class Verification {
  nextStep(): Step; record(record: RecordLike): void; rateState(state: RateLimitState | null): void;
  /** The rate-limit store failed: core answers per `onError` (`'fail_closed'`: 503, `Retry-After: retryAfterSeconds`, default 1); without it, per the policy's `rate_store_failure`. */
  rateStateUnavailable(options?: { onError?: 'fail_closed' | 'fail_open'; retryAfterSeconds?: number }): void;
  rateWrite(): { key: string; expected: RateLimitState | null; new: RateLimitState; ttlSeconds: number } | null;
  /** The compare-and-set of `rateWrite()` won: the next write (a usage-limited key's counter) follows. */
  rateWritten(): void;
  finish(): Decision;
}

/** A usage counter's standing (`Decision#usage`, `usage()`): plan `usage`, `class` the period (`day`, `week`, `month`, `total`). */
export interface UsageStanding {
  key: string; plan: 'usage'; class: 'day' | 'week' | 'month' | 'total'; allowed: boolean; state: RateLimitState;
  limit: number; remaining: number; resetSeconds: number; retryAfterSeconds: number | null;
}

/** A charge after the fact (`charge()`, `Verifier#charge`): the counter's compare-and-set (null: nothing changes), what is left, and the units beyond it. */
export interface Charge {
  write: { key: string; expected: RateLimitState | null; new: RateLimitState; ttlSeconds: number } | null;
  usage: UsageStanding;
  unpaid: number;
}

// Access tokens (RFC 9068 JWTs; see the `tokens` section of an engine config).
/** A JWK as core takes it: Ed25519 (`OKP`) or HS256 (`oct`); `d` and `k` are secret. */
export interface Jwk { kty: 'OKP' | 'oct'; kid: string; crv?: string; x?: string; d?: string; k?: string; alg?: string; use?: string }
export interface TokenConfig {
  issuer: string; audience: string; lifetimeSeconds?: number; leewaySeconds?: number; confirmRecord?: boolean;
  algorithms?: ('EdDSA' | 'HS256')[]; grantKinds?: CredentialKind[]; signingKid?: string; keys: Jwk[];
}
/** Restrictions of a derived token; what is not given is the key's own. */
export interface TokenOptions { scopes?: string[]; routes?: string[]; cidrs?: string[]; origins?: string[]; kind?: CredentialKind; lifetimeSeconds?: number }
/** The JWT claims of an access token, as on the wire. */
export interface AccessClaims {
  iss: string; sub: string; aud: string | string[]; exp: number; iat: number; nbf?: number; jti: string; client_id: string;
  scope?: string; gty?: string; azp?: string; key_id: string; environment: string; kind: CredentialKind; role?: string;
  plan?: string; features?: string[]; routes?: string[]; cidrs?: string[]; origins?: string[];
}
/** What an allowed decision says about the token it accepted. */
export interface TokenUse { jti: string; kid: string; expiresAt: Date; recordConfirmed: boolean }
export interface VerifiedToken { readonly kid: string; readonly keyId: string; readonly scopes: string[]; readonly claims: AccessClaims }
export interface TokenRequest { method?: string; headers?: Headers; body: string; clientIp?: string | null; now?: TimeLike; randomBytes?: Uint8Array }
/** A signed token: `accessToken` is a bearer credential, never in JSON or inspect output. */
export class IssuedToken { readonly accessToken: string; readonly expiresIn: number; readonly kid: string; readonly claims: AccessClaims; toJSON(): Record<string, unknown> }
/** The token endpoint's answer (RFC 6749 §5.1 / §5.2): send status, headers and body as they are. */
export class TokenResponse {
  readonly status: number; readonly headers: [string, string][]; readonly body: string; readonly code: string;
  readonly error: string | null; readonly detail: string; readonly keyId: string | null; readonly jti: string | null;
  header(name: string): string | undefined;
  toJSON(): Record<string, unknown>;
}
export class TokenExchange { nextStep(): { kind: 'lookup_record' | 'done'; value?: string | null }; record(record: RecordLike): void; finish(): TokenResponse }
/** The token endpoint (client credentials): `lookup(hash)` as a Verifier's. */
export class TokenEndpoint {
  constructor(engine: Engine, options: { lookup: Lookup; now?: () => Date | number });
  readonly engine: Engine;
  exchange(request: TokenRequest): TokenResponse | Promise<TokenResponse>;
  fetch(request: Request, options?: { clientIp?: (request: Request) => string | null }): Promise<Response>;
  /** Express 4/5 handler: `app.post('/oauth/token', endpoint.express())`, mounted before any body parser. */
  express(options?: { clientIp?: (req: any) => string | null }): (req: any, res: any, next: (err?: unknown) => void) => Promise<void>;
  /** Fastify 5 plugin: `fastify.register(endpoint.fastify, { path: '/oauth/token' })` (its own scope keeps bodies as text). */
  readonly fastify: (instance: any, options: { path?: string; clientIp?: (request: any) => string | null }, done: (err?: Error) => void) => void;
}

export interface EngineConfig { formats: FormatRef[]; hashing?: { algorithm?: 'sha256' | 'hmac-sha256'; pepperHex?: string }; policy?: Record<string, unknown>; tokens?: TokenConfig; recordCache?: RecordCacheConfig }
/** Keep looked-up records for a while: the store sees one lookup per key and `ttlSeconds` (defaults: 30 s, unknown keys 5 s, 10,000 of each). */
export interface RecordCacheConfig { ttlSeconds?: number; absentTtlSeconds?: number; maxRecords?: number; maxAbsent?: number }
/** The record cache's counters (`Engine#cacheStats`). */
export interface CacheStats { records: number; absent: number; hits: number; absentHits: number; misses: number; evictions: number }
export class Engine {
  constructor(config: EngineConfig | string, options?: { pepper?: Uint8Array });
  /** The native engine (napi-rs addon or wasm-bindgen module). */
  readonly native: unknown;
  readonly policy: Record<string, unknown>;
  readonly formats: Record<string, unknown>[];
  parse(key: string): ParsedKey;
  hashKey(key: string): string;
  lookupHashes(key: string): string[];
  /** The client's address as verification judges it: `peer`, or the one trusted proxies forwarded in `headers`; `null` without one. */
  clientIp(peer: string | null | undefined, headers: Headers): string | null;
  /** Mints a key of `options.format` (default: the config's first format). */
  mint(options: MintOptions, opts?: { randomBytes?: Uint8Array; now?: TimeLike }): MintedKey;
  rotate(record: KeyRecord, opts?: { now?: TimeLike; randomBytes?: Uint8Array; successor?: Partial<MintOptions> }): { record: KeyRecord; successor: MintedKey };
  update(record: KeyRecord, changes: RecordUpdate, opts?: { now?: TimeLike }): KeyRecord;
  scan(text: string): Finding[];
  redact(text: string): string;
  begin(request: RequestLike, opts?: { now?: TimeLike }): Verification;
  beginToken(request: TokenRequest, opts?: { now?: TimeLike; randomBytes?: Uint8Array }): TokenExchange;
  issueToken(record: RecordLike, options?: TokenOptions | null, opts?: { now?: TimeLike; randomBytes?: Uint8Array }): IssuedToken;
  verifyToken(token: string, opts?: { now?: TimeLike }): VerifiedToken;
  publicJwks(): { keys: Jwk[] };
  /** The record cache's counters, or null without `recordCache` in the config. */
  cacheStats(): CacheStats | null;
  /** Forgets the cached record of `keyId` (after changing or deleting it in this process); how many entries went. */
  invalidateCached(keyId: string): number;
  /** Forgets every cached record and the counters. */
  clearCache(): void;
}

/** Keeps an engine's record cache in step with every process on one Redis channel (ioredis; same channel and message as Python's `keyproof.redis_cache`). */
export class RedisRecordCacheSync {
  constructor(client: unknown, engine: Engine, options?: { channel?: string });
  readonly channel: string;
  /** Drops `keyId` from this engine's cache and announces it; how many listeners received it. */
  publish(keyId: string): Promise<number>;
  /** Subscribes on a connection of its own; resolves once subscribed (each (re)subscription empties the cache). */
  start(): Promise<this>;
  stop(): Promise<void>;
}
export const RECORD_CACHE_CHANNEL: string;

export class MemoryRateLimitStore implements RateLimitStore {
  constructor(options?: { maxEntries?: number });
  get(key: string): RateLimitState | null;
  compareAndSet(key: string, expected: RateLimitState | null, next: RateLimitState, ttlSeconds: number): boolean;
  delete(key: string): void; clear(): void; readonly size: number;
}

export interface VerifierOptions {
  /** By storage hash; for an access token under `tokens.confirmRecord`, by key id (no `:`). */
  lookup: Lookup;
  save?: (record: KeyRecord) => void | Promise<void>;
  /** Writes `at` as the key's last use when core asks (write it only if newer than the stored value). */
  touch?: (keyId: string, at: Date) => void | Promise<void>;
  /** Adds one to the key's request count: each allowed request, last (a store write per request). */
  count?: (keyId: string) => void | Promise<void>;
  /** Sees every final decision, allowed or refused (an audit log; `decision.keyId` names an identified key). */
  onDecision?: (decision: Decision, request: { method: string; path: string; clientIp: string | null }) => void | Promise<void>;
  rateLimits?: RateLimitStore; now?: () => Date | number;
}
export class Verifier {
  constructor(engine: Engine, options: VerifierOptions);
  readonly engine: Engine;
  verify(request: RequestLike): Decision | Promise<Decision>;
  verifySync(request: RequestLike): Decision;
  /** What `record` has left of its usage limit, read from this verifier's store; null without a limit. */
  usage(record: KeyRecord, opts?: { now?: TimeLike }): UsageStanding | null | Promise<UsageStanding | null>;
  /** Charges `units` to `record`'s usage limit after the fact in this verifier's store; null without a limit. */
  charge(record: KeyRecord, units: number, opts?: { now?: TimeLike }): Charge | null | Promise<Charge | null>;
  /** Gives back `units` of what `record` spent this period (at most that), in this verifier's store. */
  refund(record: KeyRecord, units: number, opts?: { now?: TimeLike }): Charge | null | Promise<Charge | null>;
}

export const version: string;
export function errorCodes(): { code: string; family: string; description: string }[];
export function presets(): Record<string, unknown>[];
export function seamFormat(id: string, keyPrefix: string, environment?: string): Record<string, unknown>;
export function parseKey(key: string, options?: { formats?: FormatRef[] }): ParsedKey;
export function mint(format: FormatRef, options: MintOptions, opts?: { randomBytes?: Uint8Array; now?: TimeLike }): MintedKey;
export function scan(text: string, options?: { formats?: FormatRef[] }): Finding[];
export function redact(text: string, options?: { formats?: FormatRef[] }): string;
export function prepareRecord(record: KeyRecord | Record<string, unknown> | string): PreparedRecord;
export function revoke(record: KeyRecord, opts?: { now?: TimeLike }): KeyRecord;
export function disable(record: KeyRecord, opts?: { now?: TimeLike }): KeyRecord;
export function enable(record: KeyRecord, opts?: { now?: TimeLike }): KeyRecord;
export function update(record: KeyRecord, changes: RecordUpdate, opts?: { now?: TimeLike }): KeyRecord;
export function rotate(record: KeyRecord, successorId: string, opts?: { now?: TimeLike; graceHours?: number }): KeyRecord;
export function successorOptions(record: KeyRecord, opts?: { now?: TimeLike }): MintOptions;
/** What `record` has left of its usage limit given its counter's stored state; null without a limit. */
export function usage(record: KeyRecord, state?: RateLimitState | null, opts?: { now?: TimeLike }): UsageStanding | null;
/** Charges `units` to `record`'s usage limit given its counter's stored state (what was left is spent, the rest unpaid); null without a limit. */
export function charge(record: KeyRecord, units: number, state?: RateLimitState | null, opts?: { now?: TimeLike }): Charge | null;
/** Gives back `units` of what `record` spent this period given its counter's stored state (the rest unpaid); null without a limit. */
export function refund(record: KeyRecord, units: number, state?: RateLimitState | null, opts?: { now?: TimeLike }): Charge | null;
export function gcra(state: RateLimitState | null, nowUs: number, quota: { limit: number; burst: number; period_seconds?: number }, cost?: number): Record<string, unknown>;
export function expiryFromPreset(preset: string, opts?: { now?: TimeLike }): Date;
export function fingerprint(storedHash: string): string;
/** Whether a value a lookup receives is a record id (an access token's key under `confirm_record`) rather than a storage hash. */
export function isRecordId(lookup: string): boolean;
export function loadRecord(value: string | Record<string, unknown>): KeyRecord;
export function loadPolicy(value: string | Record<string, unknown>): Record<string, unknown>;
export function loadFormat(value: string | Record<string, unknown>): Record<string, unknown>;
export function loadRateLimitState(value: string | Record<string, unknown>): RateLimitState;
export function recordFromJSON(value: string | Record<string, unknown>): KeyRecord;
export function toStorage(value: unknown): unknown;
export function fromStorage(value: unknown): unknown;
/** Headers as a flat `[name, value …]` list; with `reads` (lowercase names), only those headers. */
export function flatHeaders(headers: Headers | undefined, reads?: ReadonlySet<string>): string[];
export function targetOf(url: string): string;
/** A private Ed25519 JWK from a 32-byte seed (null: random). */
export function ed25519Jwk(seed: Uint8Array | null, kid: string): Jwk;
/** An HS256 JWK from a secret of at least 32 bytes (null: 32 random bytes). */
export function hs256Jwk(secret: Uint8Array | null, kid: string): Jwk;
/** Header and claims of a token, NOT verified: for debugging only. */
export function inspectToken(token: string): { header: { alg: string; typ?: string; kid?: string }; claims: Record<string, unknown> };

/** The rate-limit store failed: unreachable, timed out, or the compare-and-set kept conflicting. */
export class RateLimitStoreError extends Error {
  readonly code: 'rate_limit_unavailable';
}
export interface RedisStoreOptions {
  prefix?: string; onError?: 'fail_closed' | 'fail_open'; timeoutMs?: number | null; maxRetries?: number; retryAfterSeconds?: number;
}
/** Rate-limit buckets in Redis / Valkey (ioredis `Redis` / `Cluster`, node-redis), shared with Python processes. */
export class RedisRateLimitStore implements RateLimitStore {
  constructor(client: object, options?: RedisStoreOptions);
  readonly prefix: string; readonly onError: 'fail_closed' | 'fail_open' | undefined; conflicts: number; failures: number;
  redisKey(bucket: string): string;
  get(key: string): Promise<RateLimitState | null>;
  compareAndSwap(key: string, expected: RateLimitState | null, next: RateLimitState, ttlSeconds: number): Promise<{ stored: boolean; current: RateLimitState | null }>;
  compareAndSet(key: string, expected: RateLimitState | null, next: RateLimitState, ttlSeconds: number): Promise<boolean>;
  delete(key: string): Promise<void>;
}
/** A Verifier that answers the store's failure with core's fail-closed 503 or fail-open allow (always a Promise). */
export class RedisVerifier extends Verifier {
  verify(request: RequestLike): Promise<Decision>;
}
/** Core's compare-and-set script of shared stores (Lua, for EVAL). */
export const CAS_SCRIPT: string;
/** Key prefix of every bucket (`keyproof:rl:`). */
export const DEFAULT_PREFIX: string;
/** The store key of core's bucket `<key id>:<class>`: `<prefix>{<key id>}:<class>`. */
export function redisKey(bucket: string, prefix?: string): string;
/** The stored text of a state (core's JSON), `''` for none. */
export function stateText(state: RateLimitState | string | null | undefined): string;
/** A stored value as a state; `null` when absent or not a state in canonical form. */
export function parseState(raw: string | Uint8Array | null | undefined): RateLimitState | null;

/** Express 4 and 5 middleware; the principal is `req.keyproof`. */
export function express(verifier: Verifier, options?: { clientIp?: (req: any) => string | null; usageCost?: (req: any) => number | null }): (req: any, res: any, next: (err?: unknown) => void) => void;
/** Fastify 5 plugin: `fastify.register(keyproof.fastify, { verifier })`; the principal is `request.keyproof`. */
export function fastify(instance: any, options: { verifier: Verifier; clientIp?: (request: any) => string | null; usageCost?: (request: any) => number | null }, done: (err?: Error) => void): void;
/** Hono 4 middleware; the principal is `c.get('keyproof')`. */
export function hono(verifier: Verifier, options?: { clientIp?: (c: any) => string | null; usageCost?: (c: any) => number | null }): (c: any, next: () => Promise<void>) => Promise<Response | undefined>;
/** Web-standard wrapper of a `(Request) => Response` handler; `principalOf(request)` inside. */
export function fetch<A extends unknown[]>(verifier: Verifier, handler: (request: Request, ...rest: A) => Response | Promise<Response>, options?: { clientIp?: (request: Request, ...rest: A) => string | null; usageCost?: (request: Request, ...rest: A) => number | null }): (request: Request, ...rest: A) => Promise<Response>;
export function principalOf(request: Request): Principal | null;
export function decisionOf(request: Request): Decision | null;

declare const keyproof: typeof import('./keyproof');
export default keyproof;

declare module 'fastify' {
  interface FastifyRequest {
    keyproof: Principal | null;
    keyproofDecision: Decision | null;
  }
}
