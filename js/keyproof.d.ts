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
  allowedIps?: string[]; plan?: string; features?: string[]; metadata?: Record<string, unknown>;
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

export interface MintOptions {
  format?: string; name: string; idStyle?: { style: 'uuid' } | { style: 'prefixed'; prefix?: string; hexLength?: number };
  id?: string; owner?: Owner; scopes?: string[]; role?: string; expiresIn?: string; expiresAt?: Date | string;
  allowedIps?: string[]; plan?: string; features?: string[]; clientId?: string; generateClientId?: boolean;
  metadata?: Record<string, unknown>;
}
export type RecordUpdate = Partial<Pick<MintOptions, 'name' | 'scopes' | 'allowedIps' | 'features' | 'metadata'>> & {
  role?: string | null; expiresAt?: Date | string | null; plan?: string | null; clientId?: string | null;
};

export interface ParsedKey { formatId: string; environment: string; kind: CredentialKind; publicPart: string; preview: string; hasChecksum: boolean }
export interface Finding {
  formatId: string; start: number; end: number; byteStart: number; byteEnd: number; charStart: number; charEnd: number;
  line: number; column: number; preview: string; checksumVerified: boolean;
}
export type FormatRef = string | Record<string, unknown>;
export type Headers = globalThis.Headers | Record<string, string | string[] | undefined> | [string, string][] | string[];
export interface RequestLike { method?: string; path?: string; url?: string; headers?: Headers; clientIp?: string | null; now?: TimeLike }
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
  readonly publicCode: string; readonly detail: string; readonly missingScope: string | null;
  readonly rateLimit: Record<string, unknown> | null; readonly upgradedRecord: KeyRecord | null;
  readonly core: Record<string, unknown> | null;
  header(name: string): string | undefined;
  toError(): KeyproofError | null;
  toJSON(): Record<string, unknown>;
}

export type Step = { kind: 'lookup_record' | 'load_rate_state' | 'done'; value?: string | null };
export class Verification {
  nextStep(): Step; record(record: RecordLike): void; rateState(state: RateLimitState | null): void;
  rateWrite(): { key: string; expected: RateLimitState | null; new: RateLimitState; ttlSeconds: number } | null;
  finish(): Decision;
}

export interface EngineConfig { formats: FormatRef[]; hashing?: { algorithm?: 'sha256' | 'hmac-sha256'; pepperHex?: string }; policy?: Record<string, unknown> }
export class Engine {
  constructor(config: EngineConfig | string, options?: { pepper?: Uint8Array });
  /** The native engine (napi-rs addon or wasm-bindgen module). */
  readonly native: unknown;
  readonly policy: Record<string, unknown>;
  readonly formats: Record<string, unknown>[];
  parse(key: string): ParsedKey;
  hashKey(key: string): string;
  lookupHashes(key: string): string[];
  mint(options: MintOptions, opts?: { randomBytes?: Uint8Array; now?: TimeLike }): MintedKey;
  rotate(record: KeyRecord, opts?: { now?: TimeLike; randomBytes?: Uint8Array; successor?: Partial<MintOptions> }): { record: KeyRecord; successor: MintedKey };
  update(record: KeyRecord, changes: RecordUpdate, opts?: { now?: TimeLike }): KeyRecord;
  scan(text: string): Finding[];
  redact(text: string): string;
  begin(request: RequestLike, opts?: { now?: TimeLike }): Verification;
}

export class MemoryRateLimitStore implements RateLimitStore {
  constructor(options?: { maxEntries?: number });
  get(key: string): RateLimitState | null;
  compareAndSet(key: string, expected: RateLimitState | null, next: RateLimitState, ttlSeconds: number): boolean;
  delete(key: string): void; clear(): void; readonly size: number;
}

export interface VerifierOptions { lookup: Lookup; save?: (record: KeyRecord) => void | Promise<void>; rateLimits?: RateLimitStore; now?: () => Date | number }
export class Verifier {
  constructor(engine: Engine, options: VerifierOptions);
  readonly engine: Engine;
  verify(request: RequestLike): Decision | Promise<Decision>;
  verifySync(request: RequestLike): Decision;
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
export function gcra(state: RateLimitState | null, nowUs: number, quota: { limit: number; burst: number; period_seconds?: number }, cost?: number): Record<string, unknown>;
export function expiryFromPreset(preset: string, opts?: { now?: TimeLike }): Date;
export function fingerprint(storedHash: string): string;
export function loadRecord(value: string | Record<string, unknown>): KeyRecord;
export function loadPolicy(value: string | Record<string, unknown>): Record<string, unknown>;
export function loadFormat(value: string | Record<string, unknown>): Record<string, unknown>;
export function loadRateLimitState(value: string | Record<string, unknown>): RateLimitState;
export function recordFromJSON(value: string | Record<string, unknown>): KeyRecord;
export function toStorage(value: unknown): unknown;
export function fromStorage(value: unknown): unknown;
export function flatHeaders(headers: Headers | undefined): string[];
export function targetOf(url: string): string;

/** Express 4 and 5 middleware; the principal is `req.keyproof`. */
export function express(verifier: Verifier, options?: { clientIp?: (req: any) => string | null }): (req: any, res: any, next: (err?: unknown) => void) => void;
/** Fastify 5 plugin: `fastify.register(keyproof.fastify, { verifier })`; the principal is `request.keyproof`. */
export function fastify(instance: any, options: { verifier: Verifier; clientIp?: (request: any) => string | null }, done: (err?: Error) => void): void;
/** Hono 4 middleware; the principal is `c.get('keyproof')`. */
export function hono(verifier: Verifier, options?: { clientIp?: (c: any) => string | null }): (c: any, next: () => Promise<void>) => Promise<Response | undefined>;
/** Web-standard wrapper of a `(Request) => Response` handler; `principalOf(request)` inside. */
export function fetch<A extends unknown[]>(verifier: Verifier, handler: (request: Request, ...rest: A) => Response | Promise<Response>, options?: { clientIp?: (request: Request, ...rest: A) => string | null }): (request: Request, ...rest: A) => Promise<Response>;
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
