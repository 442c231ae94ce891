// Record caches kept in step across processes through Redis (or Valkey) pub/sub,
// as the Python package's keyproof.redis_cache does, on the same channel with
// the same message (the key id): Python and Node processes share announcements.
// An engine's `recordCache` sees this process's changes at once
// (`engine.invalidateCached`) and other processes' within `ttlSeconds`;
// `publish(keyId)` drops the key here and announces it, and every process
// listening on the channel drops it from its own cache. Pub/sub reaches only
// connected listeners, so each (re)subscription empties the cache.

/** `RedisRecordCacheSync` for engines of one `createKeyproof` result. */
export function recordCacheSync({ Engine }, native) {
  /** The channel announcements go to unless told otherwise: core's, so the Python package's too. */
  const RECORD_CACHE_CHANNEL = native.recordCacheChannel();

  /** Keeps an engine's record cache in step with every process on one channel (ioredis). */
  class RedisRecordCacheSync {
    /**
     * @param {object} client an ioredis `Redis`: it publishes; a duplicate of it subscribes
     * @param {Engine} engine the engine whose `recordCache` to keep in step
     * @param {{channel?: string}} [options]
     */
    constructor(client, engine, { channel = RECORD_CACHE_CHANNEL } = {}) {
      if (!(engine instanceof Engine)) throw new TypeError('new RedisRecordCacheSync(client, engine) takes a keyproof Engine');
      if (typeof client?.duplicate !== 'function') throw new TypeError('RedisRecordCacheSync needs an ioredis client');
      this.client = client;
      this.engine = engine;
      this.channel = String(channel);
      this._sub = undefined;
    }

    /** Drops `keyId` from this engine's cache and announces it; how many listeners received it. */
    async publish(keyId) {
      this.engine.invalidateCached(String(keyId));
      return Number(await this.client.publish(this.channel, String(keyId)));
    }

    /** Subscribes on a connection of its own; resolves once subscribed. */
    async start() {
      if (this._sub !== undefined) return this;
      const sub = this.client.duplicate();
      this._sub = sub;
      sub.on('message', (channel, message) => {
        if (channel === this.channel) this.engine.invalidateCached(String(message));
      });
      // Down, announcements are missed: forget everything, now and once subscribed again.
      sub.on('error', () => this.engine.clearCache());
      sub.on('ready', () => {
        sub.subscribe(this.channel).then(() => this.engine.clearCache(), () => this.engine.clearCache());
      });
      await sub.subscribe(this.channel);
      this.engine.clearCache();
      return this;
    }

    /** Stops listening (closes its connection). */
    async stop() {
      const sub = this._sub;
      this._sub = undefined;
      if (sub !== undefined) await sub.quit().catch(() => sub.disconnect());
    }
  }

  return { RedisRecordCacheSync, RECORD_CACHE_CHANNEL };
}
