// Type test (tsc --noEmit): the API used as documented compiles; misuse does not.
import keyproof, { Engine, Verifier, Decision, KeyproofError, TokenEndpoint, RedisRateLimitStore, RedisVerifier, redisKey, parseState, type KeyRecord, type Principal, type TokenUse, type CacheStats } from '../index.js';
import type * as Native from '../native.js';
import Fastify from 'fastify';

const engine = new Engine({ formats: ['keyproof_live'], policy: { unknown_routes: 'authenticate' } });
const minted = engine.mint({ name: 'Docs key', scopes: ['briefs:read'], expiresIn: '90d' });
const key: string = minted.key;
const record: KeyRecord = minted.record;
const created: Date = record.createdAt;
const db = new Map<string, KeyRecord>([[record.hash, record]]);
const verifier = new Verifier(engine, { lookup: (hash) => db.get(hash) ?? null });
const asyncVerifier = new Verifier(engine, { lookup: async (hash) => db.get(hash) ?? null });
void asyncVerifier;

async function run(): Promise<void> {
  const d: Decision = await verifier.verify({ method: 'GET', path: '/v1/briefs', headers: { authorization: `Bearer ${key}` } });
  const p: Principal | null = d.principal;
  const status: number = d.status;
  const pairs: [string, string][] = d.headers;
  const sync: Decision = verifier.verifySync({ method: 'GET', path: '/', headers: [['authorization', 'x']] });
  // Usage limits: minted with one, read back from a decision and from the store.
  const metered = engine.mint({ name: 'Metered', usageLimit: { limit: 1000, period: 'month' } });
  const left: number | undefined = d.usage?.remaining;
  const standing = await verifier.usage(metered.record);
  const period: 'day' | 'week' | 'month' | 'total' | undefined = standing?.class;
  // @ts-expect-error periods are day, week or month (absent: credits)
  engine.mint({ name: 'Bad', usageLimit: { limit: 5, period: 'fortnight' } });
  const priced: Decision = verifier.verifySync({ method: 'GET', path: '/', usageCost: 7 });
  // @ts-expect-error a price is a number of units
  verifier.verifySync({ method: 'GET', path: '/', usageCost: '7' });
  const charged = await verifier.charge(metered.record, 120);
  const unpaid: number | undefined = charged?.unpaid;
  const after: number | undefined = keyproof.charge(metered.record, 3, null)?.usage.remaining;
  void [priced, unpaid, after];
  void [p, status, pairs, sync, created, left, period];
  try {
    keyproof.parseKey('nope');
  } catch (e) {
    if (e instanceof KeyproofError) {
      const code: string = e.code;
      void code;
    }
  }
  // @ts-expect-error verify takes a request object
  verifier.verify('GET /');
  // @ts-expect-error mint needs a name
  engine.mint({ scopes: [] });
}
void run;

const app = Fastify();
app.register(keyproof.fastify, { verifier });
app.get('/v1/briefs', async (request) => {
  const who: Principal | null = request.keyproof;
  return { id: who?.keyId };
});

const handler = keyproof.fetch(verifier, (request: Request) => new Response(keyproof.principalOf(request)?.name ?? ''));
const res: Promise<Response> = handler(new Request('http://localhost/v1/briefs'));
void res;

// Access tokens: endpoint, derived tokens, offline verification, last-use writes.
const tokenEngine = new Engine({
  formats: ['matatika_client_secret'],
  tokens: { issuer: 'https://id.example/', audience: 'https://api.example/', keys: [keyproof.ed25519Jwk(null, 'ed-1')], confirmRecord: false },
});
const endpoint = new TokenEndpoint(tokenEngine, { lookup: async (hash) => db.get(hash) ?? null });
async function tokens(): Promise<void> {
  const answer = await endpoint.exchange({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' });
  const sent: [number, [string, string][], string] = [answer.status, answer.headers, answer.body];
  const issued = tokenEngine.issueToken(record, { scopes: ['briefs:read'], routes: ['/v1/briefs'], lifetimeSeconds: 300 });
  const bearer: string = issued.accessToken;
  const keyId: string = tokenEngine.verifyToken(bearer).keyId;
  const jwks: string[] = tokenEngine.publicJwks().keys.map((k) => k.kid);
  const toucher = new Verifier(tokenEngine, {
    lookup: () => null,
    touch: async (id: string, at: Date) => void [id, at],
    count: (id: string) => void id,
    onDecision: (decision: Decision, request: { method: string; path: string; clientIp: string | null }) =>
      void [decision.keyId satisfies string | null, request.method, request.clientIp],
  });
  const requests: number | undefined = record.requestCount;
  void requests;
  // @ts-expect-error a count callback takes the key id only
  void new Verifier(tokenEngine, { lookup: () => null, count: (id: string, n: number) => void [id, n] });
  const d = await toucher.verify({ path: '/v1/briefs', headers: { authorization: `Bearer ${bearer}` } });
  const used: TokenUse | null = d.token;
  const last: Date | null = d.touchLastUsed;
  const handler: (req: any, res: any, next: (err?: unknown) => void) => Promise<void> = endpoint.express({ clientIp: () => null });
  const plugin = endpoint.fastify;
  plugin({}, { path: '/oauth/token' }, () => undefined);
  void [sent, keyId, jwks, used, last, handler];
  // @ts-expect-error the Fastify plugin's path is text
  plugin({}, { path: 7 }, () => undefined);
  // @ts-expect-error a token request needs its raw body
  endpoint.exchange({ method: 'POST' });
  // @ts-expect-error lifetimes are numbers
  tokenEngine.issueToken(record, { lifetimeSeconds: '5m' });
}
void tokens;

// Redis: a store and verifier over any client; the shared layout is typed.
async function redisTypes(client: object): Promise<void> {
  const store = new RedisRateLimitStore(client, { onError: 'fail_open', timeoutMs: 500 });
  const decision: Decision = await new RedisVerifier(engine, { lookup: () => null, rateLimits: store }).verify({ method: 'GET', path: '/', headers: {} });
  const state = parseState('{"tat_us":1}');
  const bucket: string = redisKey('key_1:default', keyproof.DEFAULT_PREFIX);
  void [decision, state?.tat_us, bucket, keyproof.CAS_SCRIPT.length];
  // @ts-expect-error the failure policy is one of two names
  new RedisRateLimitStore(client, { onError: 'ignore' });
}
void redisTypes;

// The generated native types provide the surface js/NATIVE.md names.
type Surface = Pick<typeof Native, 'Engine' | 'NativeRecord' | 'Verification' | 'Completion' | 'TokenExchange' | 'errorCodes' | 'parseKey' | 'mint' | 'scan' | 'redact' | 'gcra' | 'loadValue' | 'rotate' | 'revoke' | 'disable' | 'enable' | 'update' | 'successorOptions' | 'presets' | 'seamFormat' | 'version' | 'tokenJwk' | 'inspectToken' | 'rateStoreScript' | 'rateStorePrefix' | 'rateStoreKey' | 'rateStateText' | 'parseRateStateText'>;
declare const native: Surface;
const verified: Native.Decided | Native.Verification | Native.Completion = new native.Engine({}).verify('GET', '/', [], null, 0, () => null, () => null);
const completed = new native.Engine({}).verify('GET', '/', [], null, 0, () => null, () => null, () => 1);
if (completed instanceof native.Completion) completed.written(true);
void [verified, completed];
const exchange: Native.TokenExchange = new native.Engine({}).beginToken('POST', [], '', null, 0, new Uint8Array(16));
void exchange;

// The record cache: configured with the engine, read and invalidated through it.
const cached = new Engine({ formats: ['matchii_live'], recordCache: { ttlSeconds: 60, absentTtlSeconds: 5, maxRecords: 1000, maxAbsent: 100 } });
const stats: CacheStats | null = cached.cacheStats();
const hitRate: number = stats === null ? 0 : stats.hits / Math.max(1, stats.hits + stats.misses + stats.absentHits);
const dropped: number = cached.invalidateCached('key-id');
cached.clearCache();
void [hitRate, dropped];
async function cacheSync(redis: unknown): Promise<void> {
  const sync = await new keyproof.RedisRecordCacheSync(redis, cached, { channel: keyproof.RECORD_CACHE_CHANNEL }).start();
  const heard: number = await sync.publish('key-id');
  await sync.stop();
  void heard;
}
void cacheSync;
