// Rate-limit state in Redis / Valkey, shared by every process: core computes,
// Redis stores. The client is passed in (ioredis `Redis` or `Cluster`, node-redis
// v4+ or anything with the same two calls), so this file imports nothing
// runtime-specific and every package of the shared layer loads it.
//
// The script, key layout and state text are core's (keyproof::ratelimit::
// shared_store, through the native module), as in the Python package's
// keyproof.redis: Python and Node processes share buckets.

/** Code of `RateLimitStoreError` and of core's answer when the store failed (503, or the fail-open warning). */
export const UNAVAILABLE_CODE = 'rate_limit_unavailable';
const DEFAULT_MAX_RETRIES = 32;

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

/** The two calls the store makes, for ioredis and node-redis. */
function clientCalls(client, script) {
  if (client === null || typeof client !== 'object' || typeof client.get !== 'function') {
    throw new TypeError('RedisRateLimitStore takes a Redis client (ioredis Redis or Cluster, node-redis)');
  }
  if (typeof client.defineCommand === 'function') {
    // ioredis (Redis and Cluster): EVALSHA with a fallback to EVAL, per node.
    if (typeof client.keyproofCompareAndSet !== 'function') {
      client.defineCommand('keyproofCompareAndSet', { numberOfKeys: 1, lua: script });
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
      cas: (key, expected, next, ttlMs) => client.eval(script, { keys: [key], arguments: [expected, next, String(ttlMs)] }),
    };
  }
  throw new TypeError('RedisRateLimitStore: the client has no defineCommand (ioredis) or eval (node-redis)');
}

/**
 * Core's layout of a shared store (keyproof::ratelimit::shared_store): the
 * compare-and-set script (KEYS[1]: the bucket; ARGV[1]: the state the decision
 * was computed from, '' = none; ARGV[2]: the new state; ARGV[3]: time to live in
 * ms; returns {1} when stored, else {0, the current value or ''}), the key prefix,
 * the key of a bucket and a state's stored text.
 */
function sharedLayout(native, call) {
  return {
    CAS_SCRIPT: native.rateStoreScript(),
    DEFAULT_PREFIX: native.rateStorePrefix(),
    /** The Redis key of the core's bucket `<key id>:<class>`: `<prefix>{<key id>}:<class>` (a Cluster hash tag). */
    redisKey: (bucket, prefix) => {
      if (typeof bucket !== 'string') throw new TypeError('a bucket is a string');
      if (prefix !== undefined && typeof prefix !== 'string') throw new TypeError('prefix must be a string');
      return native.rateStoreKey(bucket, prefix);
    },
    /** The stored text of a state (the core's JSON), `''` for none. */
    stateText: (state) => {
      if (state === null || state === undefined) return '';
      const tat = typeof state === 'string' ? call(() => native.parseRateStateText(state))?.tat_us : state.tat_us;
      if (!Number.isSafeInteger(tat)) throw new TypeError('a rate-limit state is {tat_us: <integer>}');
      return call(() => native.rateStateText({ tat_us: tat }));
    },
    /** A stored value as a state; `null` when absent or not a state (it then counts as a full bucket). */
    parseState: (raw) => {
      if (raw === null || raw === undefined) return null;
      return call(() => native.parseRateStateText(typeof raw === 'string' ? raw : decoder.decode(raw)));
    },
  };
}

function isStoreFailure(e) {
  return e instanceof RateLimitStoreError || (e !== null && typeof e === 'object' && e.code === UNAVAILABLE_CODE);
}

/**
 * The Redis pieces of the API over a `createKeyproof` result: the store,
 * `RedisVerifier`, a Verifier that applies the store's failure policy, and the
 * shared layout (`CAS_SCRIPT`, `DEFAULT_PREFIX`, `redisKey`, `stateText`, `parseState`).
 */
export function redisStores(kp, { native, call }) {
  const { Verifier } = kp;
  const layout = sharedLayout(native, call);

  /**
   * Rate-limit buckets in Redis or Valkey, shared by every process. `get` and
   * `compareAndSet` are the store interface of the Verifier (async); use it with
   * `RedisVerifier` to get the failure policy: with a plain `Verifier` a Redis
   * failure rejects with a `RateLimitStoreError`.
   */
  class RedisRateLimitStore {
    /**
     * @param {object} client an ioredis `Redis` / `Cluster` or a node-redis client
     * @param {{prefix?: string, onError?: 'fail_closed' | 'fail_open', timeoutMs?: number, maxRetries?: number, retryAfterSeconds?: number}} [options]
     *   `onError` / `retryAfterSeconds` (alone: fail closed with it): how a failure is
     *   answered; both left out, the engine policy's `rate_store_failure` answers
     *   (default: fail closed, `Retry-After: 1`).
     */
    constructor(
      client,
      {
        prefix = layout.DEFAULT_PREFIX,
        onError,
        timeoutMs = 1000,
        maxRetries = DEFAULT_MAX_RETRIES,
        retryAfterSeconds,
      } = {},
    ) {
      if (onError !== undefined && onError !== 'fail_closed' && onError !== 'fail_open') {
        throw new TypeError('onError must be "fail_closed" or "fail_open" (or left out: the policy\'s)');
      }
      if (typeof prefix !== 'string') throw new TypeError('prefix must be a string');
      if (!(timeoutMs === null || timeoutMs === 0 || (typeof timeoutMs === 'number' && timeoutMs > 0))) {
        throw new TypeError('timeoutMs must be a positive number (0 or null: no timeout)');
      }
      if (!Number.isInteger(maxRetries) || maxRetries < 0) throw new TypeError('maxRetries must be an integer ≥ 0');
      if (retryAfterSeconds !== undefined && (!Number.isInteger(retryAfterSeconds) || retryAfterSeconds < 1)) {
        throw new TypeError('retryAfterSeconds must be an integer ≥ 1 (given alone: fail closed with it)');
      }
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
      this._calls = clientCalls(client, layout.CAS_SCRIPT);
    }

    /** The Redis key of bucket `key` (the core's name). */
    redisKey(key) {
      return layout.redisKey(key, this.prefix);
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
      return layout.parseState(raw);
    }

    /**
     * Stores `next` if bucket `key` still holds `expected`; `{stored, current}`
     * (`current`: the state found instead, read in the same step). Rejects with `RateLimitStoreError`.
     */
    async compareAndSwap(key, expected, next, ttlSeconds) {
      const args = [layout.stateText(expected), layout.stateText(next), Math.max(1, Math.ceil(Number(ttlSeconds) || 0)) * 1000];
      let reply;
      try {
        reply = await this._timed(this._calls.cas(this.redisKey(key), ...args));
      } catch (e) {
        throw storeError(e);
      }
      if (!Array.isArray(reply) || reply.length === 0) throw new RateLimitStoreError(`unexpected compare-and-set reply ${String(reply)}`);
      if (Number(reply[0]) === 1) return { stored: true, current: null };
      this.conflicts++;
      return { stored: false, current: layout.parseState(reply[1] === '' ? null : reply[1]) };
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
      const [c, r] = this._begin(request);
      if (c instanceof kp.Decision) return this._observed(c, r);
      call(() => c.setMaxTries(maxRetries + 1));
      let failure = null;
      const unavailable = (e) => {
        failure = e;
        call(() => c.rateStateUnavailable(store.onError, store.retryAfterSeconds)); // undefined: the policy's
        if (typeof store.failures === 'number') store.failures++;
      };
      for (;;) {
        const action = call(() => c.nextAction());
        const kind = action.kind;
        if (kind === 'done') {
          const decision = this._decided(c);
          if (failure !== null) decision.cause = failure;
          return this._observed(decision, r);
        }
        if (kind === 'store_contended') {
          unavailable(new RateLimitStoreError('the compare-and-set kept conflicting'));
        } else if (kind === 'load_rate_state' || kind === 'compare_and_set') {
          try {
            if (kind === 'load_rate_state') {
              this._answer(c, kind, await store.get(action.value));
            } else if (typeof store.compareAndSwap === 'function') {
              const w = action.write;
              const outcome = await store.compareAndSwap(w.key, w.expected, w.new, w.ttl_seconds);
              call(() => (outcome.stored ? c.written(true) : c.lostTo(outcome.current ?? null)));
            } else {
              this._answer(c, kind, await this._act(action));
            }
          } catch (e) {
            if (!isStoreFailure(e)) throw e;
            unavailable(e);
          }
        } else {
          this._answer(c, kind, await (kind === 'lookup_record' ? this.lookup(action.value) : this._act(action)));
        }
      }
    }
  }

  return { RedisRateLimitStore, RedisVerifier, RateLimitStoreError, ...layout };
}
