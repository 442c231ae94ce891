// Rate-limit state in Redis / Valkey, shared by every process: core computes,
// Redis stores. The client is passed in (ioredis `Redis` or `Cluster`, node-redis
// v4+ or anything with the same two calls), so this file imports nothing
// runtime-specific and every package of the shared layer loads it.
//
// Same script, key layout and state text as the Python package's keyproof.redis:
// Python and Node processes share buckets.

/** Key prefix of every bucket. */
export const DEFAULT_PREFIX = 'keyproof:rl:';
/** Code of `RateLimitStoreError` and of core's answer when the store failed (503, or the fail-open warning). */
export const UNAVAILABLE_CODE = 'rate_limit_unavailable';
const DEFAULT_MAX_RETRIES = 32;

/**
 * The compare-and-set (identical in keyproof.redis). KEYS[1]: the bucket;
 * ARGV[1]: the state the decision was computed from ('' = none), ARGV[2]: the new
 * state, ARGV[3]: time to live in ms. A stored value that is not a state in
 * canonical form (no leading zeros, |tat_us| < 2^53) counts as none. Returns {1}
 * when stored, else {0, the current value or ''}.
 */
export const CAS_SCRIPT = `local cur = redis.call('GET', KEYS[1])
local seen = ''
if cur then
  local n = string.match(cur, '^{"tat_us":(%-?%d+)}$')
  if n and (n == '0' or string.match(n, '^%-?[1-9]')) and math.abs(tonumber(n)) <= 9007199254740991 then
    seen = cur
  end
end
if seen ~= ARGV[1] then return {0, cur or ''} end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return {1}
`;

const STATE_TEXT = /^\{"tat_us":(0|-?[1-9][0-9]*)\}$/;
const decoder = new TextDecoder();

/** The rate-limit store failed: unreachable, timed out, or the compare-and-set kept conflicting. */
export class RateLimitStoreError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = 'RateLimitStoreError';
    this.code = UNAVAILABLE_CODE;
  }
}

function storeError(e) {
  if (e instanceof RateLimitStoreError) return e;
  const message = e instanceof Error ? e.message || e.name : String(e);
  return new RateLimitStoreError(message, { cause: e });
}

/** The Redis key of the core's bucket `<key id>:<class>`: `<prefix>{<key id>}:<class>` (a Cluster hash tag). */
export function redisKey(bucket, prefix = DEFAULT_PREFIX) {
  const colon = bucket.indexOf(':');
  return colon < 0 ? `${prefix}{${bucket}}` : `${prefix}{${bucket.slice(0, colon)}}${bucket.slice(colon)}`;
}

/** The stored text of a state (the core's JSON), `''` for none. */
export function stateText(state) {
  if (state === null || state === undefined) return '';
  const tat = typeof state === 'string' ? parseState(state)?.tat_us : state.tat_us;
  if (!Number.isSafeInteger(tat)) throw new TypeError('a rate-limit state is {tat_us: <integer>}');
  return `{"tat_us":${tat}}`;
}

/** A stored value as a state; `null` when absent or not a state (it then counts as a full bucket). */
export function parseState(raw) {
  if (raw === null || raw === undefined) return null;
  const text = typeof raw === 'string' ? raw : decoder.decode(raw);
  const m = STATE_TEXT.exec(text);
  if (m === null) return null;
  const tat = Number(m[1]);
  return Number.isSafeInteger(tat) ? { tat_us: tat } : null;
}

/** The two calls the store makes, for ioredis and node-redis. */
function clientCalls(client) {
  if (client === null || typeof client !== 'object' || typeof client.get !== 'function') {
    throw new TypeError('RedisRateLimitStore takes a Redis client (ioredis Redis or Cluster, node-redis)');
  }
  if (typeof client.defineCommand === 'function') {
    // ioredis (Redis and Cluster): EVALSHA with a fallback to EVAL, per node.
    if (typeof client.keyproofCompareAndSet !== 'function') {
      client.defineCommand('keyproofCompareAndSet', { numberOfKeys: 1, lua: CAS_SCRIPT });
    }
    return {
      get: (key) => client.get(key),
      cas: (key, expected, next, ttlMs) => client.keyproofCompareAndSet(key, expected, next, ttlMs),
    };
  }
  if (typeof client.eval === 'function') {
    // node-redis v4+: eval(script, {keys, arguments}).
    return {
      get: (key) => client.get(key),
      cas: (key, expected, next, ttlMs) => client.eval(CAS_SCRIPT, { keys: [key], arguments: [expected, next, String(ttlMs)] }),
    };
  }
  throw new TypeError('RedisRateLimitStore: the client has no defineCommand (ioredis) or eval (node-redis)');
}

/**
 * Rate-limit buckets in Redis or Valkey, shared by every process. `get` and
 * `compareAndSet` are the store interface of the Verifier (async); use it with
 * `RedisVerifier` to get the failure policy: with a plain `Verifier` a Redis
 * failure rejects with a `RateLimitStoreError`.
 */
export class RedisRateLimitStore {
  /**
   * @param {object} client an ioredis `Redis` / `Cluster` or a node-redis client
   * @param {{prefix?: string, onError?: 'fail_closed' | 'fail_open', timeoutMs?: number, maxRetries?: number, retryAfterSeconds?: number}} [options]
   */
  constructor(
    client,
    {
      prefix = DEFAULT_PREFIX,
      onError = 'fail_closed',
      timeoutMs = 1000,
      maxRetries = DEFAULT_MAX_RETRIES,
      retryAfterSeconds = 1,
    } = {},
  ) {
    if (onError !== 'fail_closed' && onError !== 'fail_open') throw new TypeError('onError must be "fail_closed" or "fail_open"');
    if (typeof prefix !== 'string') throw new TypeError('prefix must be a string');
    if (!(timeoutMs === null || timeoutMs === 0 || (typeof timeoutMs === 'number' && timeoutMs > 0))) {
      throw new TypeError('timeoutMs must be a positive number (0 or null: no timeout)');
    }
    if (!Number.isInteger(maxRetries) || maxRetries < 0) throw new TypeError('maxRetries must be an integer ≥ 0');
    if (!Number.isInteger(retryAfterSeconds) || retryAfterSeconds < 1) throw new TypeError('retryAfterSeconds must be an integer ≥ 1');
    this.client = client;
    this.prefix = prefix;
    this.onError = onError;
    this.timeoutMs = timeoutMs;
    this.maxRetries = maxRetries;
    this.retryAfterSeconds = retryAfterSeconds;
    /** Lost compare-and-sets (each one retried), for monitoring. */
    this.conflicts = 0;
    /** Requests the failure policy answered (503 or fail-open allow; counted by RedisVerifier). */
    this.failures = 0;
    this._calls = clientCalls(client);
  }

  /** The Redis key of bucket `key` (the core's name). */
  redisKey(key) {
    return redisKey(key, this.prefix);
  }

  _timed(promise) {
    const ms = this.timeoutMs;
    const p = Promise.resolve(promise);
    if (!ms) return p;
    p.catch(() => {}); // answered after the timeout: nobody waits for it any more
    let timer;
    const late = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new RateLimitStoreError(`no answer from Redis within ${ms} ms`)), ms);
    });
    return Promise.race([p, late]).finally(() => clearTimeout(timer));
  }

  /** The state of bucket `key`, or `null`. Rejects with `RateLimitStoreError`. */
  async get(key) {
    let raw;
    try {
      raw = await this._timed(this._calls.get(this.redisKey(key)));
    } catch (e) {
      throw storeError(e);
    }
    return parseState(raw);
  }

  /**
   * Stores `next` if bucket `key` still holds `expected`; `{stored, current}`
   * (`current`: the state found instead, read in the same step). Rejects with `RateLimitStoreError`.
   */
  async compareAndSwap(key, expected, next, ttlSeconds) {
    const args = [stateText(expected), stateText(next), Math.max(1, Math.ceil(Number(ttlSeconds) || 0)) * 1000];
    let reply;
    try {
      reply = await this._timed(this._calls.cas(this.redisKey(key), ...args));
    } catch (e) {
      throw storeError(e);
    }
    if (!Array.isArray(reply) || reply.length === 0) throw new RateLimitStoreError(`unexpected compare-and-set reply ${String(reply)}`);
    if (Number(reply[0]) === 1) return { stored: true, current: null };
    this.conflicts++;
    return { stored: false, current: parseState(reply[1] === '' ? null : reply[1]) };
  }

  /** Stores `next` if bucket `key` still holds `expected`; whether it did. Rejects with `RateLimitStoreError`. */
  async compareAndSet(key, expected, next, ttlSeconds) {
    return (await this.compareAndSwap(key, expected, next, ttlSeconds)).stored;
  }

  async delete(key) {
    try {
      await this._timed(this.client.del(this.redisKey(key)));
    } catch (e) {
      throw storeError(e);
    }
  }
}

function isStoreFailure(e) {
  return e instanceof RateLimitStoreError || (e !== null && typeof e === 'object' && e.code === UNAVAILABLE_CODE);
}

/**
 * The Redis pieces of the API over a `createKeyproof` result: the store, and
 * `RedisVerifier`, a Verifier that applies the store's failure policy.
 */
export function redisStores(kp) {
  const { Verifier } = kp;

  /**
   * A Verifier for asynchronous stores (always answers a Promise) that never
   * rejects because the store failed: it tells core so (`rateStateUnavailable`
   * with the store's `onError` and `retryAfterSeconds`) and core answers —
   * `'fail_closed'` (default) a 503 `rate_limit_unavailable` problem with
   * `Retry-After`, `'fail_open'` an allow with the warning
   * `rate_limit_unavailable` and no rate-limit headers. A denial for another
   * reason never reaches the store. The decision's `cause` is the store's error.
   */
  class RedisVerifier extends Verifier {
    verify(request) {
      return this._verifyWithStore(request);
    }

    async _verifyWithStore(request) {
      const store = this.rateLimits;
      const maxRetries = Number.isInteger(store.maxRetries) ? store.maxRetries : DEFAULT_MAX_RETRIES;
      const v = this.engine.begin(request, { now: request?.now ?? (this.now ? this.now() : undefined) });
      let failure = null;
      for (;;) {
        const step = v.nextStep();
        if (step.kind === 'lookup_record') {
          v.record(await this.lookup(step.value));
        } else if (step.kind === 'load_rate_state') {
          let state = null;
          try {
            state = (await store.get(step.value)) ?? null;
          } catch (e) {
            if (!isStoreFailure(e)) throw e;
            failure = e;
            break;
          }
          v.rateState(state);
        } else {
          break;
        }
      }
      for (let tries = 0; failure === null; tries++) {
        const w = v.rateWrite();
        if (w === null) break;
        let outcome;
        try {
          if (typeof store.compareAndSwap === 'function') {
            outcome = await store.compareAndSwap(w.key, w.expected, w.new, w.ttlSeconds);
          } else {
            const stored = await store.compareAndSet(w.key, w.expected, w.new, w.ttlSeconds);
            outcome = { stored, current: stored ? null : ((await store.get(w.key)) ?? null) };
          }
        } catch (e) {
          if (!isStoreFailure(e)) throw e;
          failure = e;
          break;
        }
        if (outcome.stored) break;
        if (tries >= maxRetries) {
          failure = new RateLimitStoreError('the compare-and-set kept conflicting');
          break;
        }
        v.rateState(outcome.current);
      }
      if (failure !== null) {
        v.rateStateUnavailable({ onError: store.onError ?? 'fail_closed', retryAfterSeconds: store.retryAfterSeconds ?? 1 });
        if (typeof store.failures === 'number') store.failures++;
      }
      const decision = v.finish();
      if (failure !== null) decision.cause = failure;
      return this._saved(decision);
    }
  }

  return { RedisRateLimitStore, RedisVerifier, RateLimitStoreError };
}
