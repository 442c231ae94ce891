// js/redis-cache.js (RedisRecordCacheSync) against the redis-server that
// scripts/test-redis.sh starts (KEYPROOF_REDIS_URL): engines standing for
// separate processes keep their record caches in step through pub/sub, and a
// listener whose connection was cut empties its cache once subscribed again.
// Python processes use the same channel and message (tests/test_redis_cache.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import Redis from 'ioredis';
import kp from '../index.cjs';

const URL_ = process.env.KEYPROOF_REDIS_URL;
const skip = URL_ === undefined ? 'no KEYPROOF_REDIS_URL (run scripts/test-redis.sh)' : false;
const config = { formats: ['keyproof_live'], policy: { unknown_routes: 'authenticate' }, recordCache: { ttlSeconds: 3600 } };

function process_(db) {
  const engine = new kp.Engine(config);
  const verifier = new kp.Verifier(engine, { lookup: (hash) => db.get(hash) ?? null });
  return {
    engine,
    status: (key) => verifier.verifySync({ method: 'GET', path: '/v1/x', headers: { authorization: `Bearer ${key}` } }).status,
    cached: () => engine.cacheStats().records,
  };
}

async function eventually(condition, ms = 5000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return condition();
}

function client() {
  const c = new Redis(URL_, { maxRetriesPerRequest: 1 });
  c.on('error', () => {});
  return c;
}

test('a change announced by one process reaches the others', { skip }, async () => {
  const channel = `${kp.RECORD_CACHE_CHANNEL}:node-${process.hrtime.bigint()}`;
  const db = new Map();
  const [admin, worker] = [process_(db), process_(db)];
  const { key, record } = admin.engine.mint({ name: 'Announced key' });
  db.set(record.hash, record);
  const [a, w] = [client(), client()];
  const announcer = await new kp.RedisRecordCacheSync(a, admin.engine, { channel }).start();
  const listener = await new kp.RedisRecordCacheSync(w, worker.engine, { channel }).start();
  try {
    assert.equal(worker.status(key), 200);
    assert.equal(worker.cached(), 1);
    db.set(record.hash, kp.revoke(record));
    assert.equal(worker.status(key), 200, 'cached: the worker has not heard yet');
    assert.equal(await announcer.publish(record.id), 2);
    assert.ok(await eventually(() => worker.cached() === 0));
    assert.equal(worker.status(key), 401);
  } finally {
    await listener.stop();
    await announcer.stop();
  }
  assert.equal(await a.publish(channel, record.id), 0, 'stopped: nothing listens');
  a.disconnect();
  w.disconnect();
});

test('a listener whose connection was cut empties its cache and listens again', { skip }, async () => {
  const channel = `${kp.RECORD_CACHE_CHANNEL}:node-${process.hrtime.bigint()}`;
  const db = new Map();
  const worker = process_(db);
  const { key, record } = worker.engine.mint({ name: 'Reconnected key' });
  db.set(record.hash, record);
  const [admin, w] = [client(), client()];
  const listener = await new kp.RedisRecordCacheSync(w, worker.engine, { channel }).start();
  try {
    assert.equal(worker.status(key), 200);
    assert.equal(worker.cached(), 1);
    assert.ok((await admin.client('KILL', 'TYPE', 'pubsub')) >= 1);
    assert.ok(await eventually(() => worker.cached() === 0), 'what it may have missed is gone');
    for (let i = 0; i < 500 && Number((await admin.pubsub('NUMSUB', channel))[1]) !== 1; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(Number((await admin.pubsub('NUMSUB', channel))[1]), 1, 'it resubscribed');
    assert.equal(worker.status(key), 200);
    await admin.publish(channel, record.id);
    assert.ok(await eventually(() => worker.cached() === 0), 'and it still listens');
  } finally {
    await listener.stop();
    admin.disconnect();
    w.disconnect();
  }
});

// A Python process (the keyproof package in the test venv) announces; this Node process hears it.
const PYTHON = process.env.KEYPROOF_PYTHON;
const ANNOUNCE = `
import sys, redis, keyproof
from keyproof.redis_cache import RecordCacheSync
engine = keyproof.Engine({"formats": ["keyproof_live"], "record_cache": {}})
print(RecordCacheSync(redis.Redis.from_url(sys.argv[1]), engine, channel=sys.argv[2]).publish(sys.argv[3]))
`;

test('a key announced by a Python process leaves a Node process\'s cache', { skip: skip || (PYTHON ? false : 'no KEYPROOF_PYTHON') }, async () => {
  const db = new Map();
  const worker = process_(db);
  const { key, record } = worker.engine.mint({ name: 'Cross-runtime key' });
  db.set(record.hash, record);
  const w = client();
  const listener = await new kp.RedisRecordCacheSync(w, worker.engine).start(); // the default channel, as Python's
  const channel = listener.channel;
  try {
    assert.equal(worker.status(key), 200);
    assert.equal(worker.cached(), 1);
    const heard = execFileSync(PYTHON, ['-c', ANNOUNCE, URL_, channel, record.id], { encoding: 'utf8' });
    assert.ok(Number(heard.trim()) >= 1, `received by ${heard.trim()}`);
    assert.ok(await eventually(() => worker.cached() === 0));
  } finally {
    await listener.stop();
    w.disconnect();
  }
});

test('the constructor checks its arguments', () => {
  const engine = new kp.Engine(config);
  assert.throws(() => new kp.RedisRecordCacheSync({}, engine), /ioredis client/);
  assert.throws(() => new kp.RedisRecordCacheSync({ duplicate() {} }, {}), /keyproof Engine/);
});
