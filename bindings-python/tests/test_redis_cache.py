"""``keyproof.redis_cache`` against a real Redis (scripts/test-redis.sh starts one):
engines standing for separate processes keep their record caches in step through
pub/sub; a listener that lost its connection empties its cache when it
resubscribes (it may have missed announcements); asyncio does the same."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import keyproof
import pytest
import redis
import redis.asyncio
from keyproof.redis_cache import DEFAULT_CHANNEL, AsyncRecordCacheSync, RecordCacheSync

from .test_redis_support import REDIS_URL

pytestmark = pytest.mark.skipif(REDIS_URL is None, reason="no KEYPROOF_REDIS_URL (run scripts/test-redis.sh)")

CONFIG = {
    "formats": ["keyproof_live"],
    "policy": {"unknown_routes": "authenticate"},
    "record_cache": {"ttl_seconds": 3600},
}


class Process:
    """One serving process: its engine (and record cache), over the shared database."""

    def __init__(self, db: dict[str, keyproof.KeyRecord]) -> None:
        self.engine = keyproof.Engine(CONFIG)
        self.verifier = keyproof.Verifier(self.engine, db.get)

    def status(self, key: str) -> int:
        return self.verifier.verify("GET", "/v1/x", {"Authorization": f"Bearer {key}"}).status

    def cached(self) -> int:
        stats = self.engine.cache_stats()
        assert stats is not None
        return stats["records"]


def eventually(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


@pytest.fixture
def client() -> Iterator[Any]:
    c = redis.Redis.from_url(str(REDIS_URL))
    yield c
    c.close()


def test_a_change_announced_by_one_process_reaches_the_others(client: Any) -> None:
    channel = f"{DEFAULT_CHANNEL}:test-{time.monotonic_ns()}"
    db: dict[str, keyproof.KeyRecord] = {}
    admin, worker = Process(db), Process(db)
    minted = admin.engine.mint(name="Announced key")
    db[minted.record.hash] = minted.record
    with (
        RecordCacheSync(client, admin.engine, channel=channel) as announcer,
        RecordCacheSync(redis.Redis.from_url(str(REDIS_URL)), worker.engine, channel=channel),
    ):
        assert worker.status(minted.key) == 200 and worker.cached() == 1
        db[minted.record.hash] = minted.record.revoked()
        assert worker.status(minted.key) == 200, "cached: the worker has not heard yet"
        assert announcer.publish(minted.record.id) == 2  # both listeners
        assert eventually(lambda: worker.cached() == 0)
        assert worker.status(minted.key) == 401
    # Stopped: nothing listens any more.
    assert client.publish(channel, minted.record.id) == 0


def test_a_listener_that_lost_its_connection_empties_its_cache(client: Any) -> None:
    channel = f"{DEFAULT_CHANNEL}:test-{time.monotonic_ns()}"
    db: dict[str, keyproof.KeyRecord] = {}
    worker = Process(db)
    minted = worker.engine.mint(name="Reconnected key")
    db[minted.record.hash] = minted.record
    subscriber = redis.Redis.from_url(str(REDIS_URL))
    with RecordCacheSync(subscriber, worker.engine, channel=channel, retry_seconds=1.0):
        assert worker.status(minted.key) == 200 and worker.cached() == 1
        assert client.client_kill_filter(_type="pubsub") >= 1
        # Whatever was announced while it was cut off is gone with the rest.
        assert eventually(lambda: worker.cached() == 0)
        assert eventually(lambda: int(client.pubsub_numsub(channel)[0][1]) == 1), "it resubscribed"
        assert worker.status(minted.key) == 200 and worker.cached() == 1
        client.publish(channel, minted.record.id)
        assert eventually(lambda: worker.cached() == 0), "and it still listens"


def test_each_subscription_empties_the_cache_and_each_message_drops_its_key() -> None:
    """What a listener does with what Redis sends (redis-py's message dicts): a
    subscription confirmation, first or after a reconnection redis-py made on its
    own, may follow missed announcements."""
    db: dict[str, keyproof.KeyRecord] = {}
    worker = Process(db)
    keys = [worker.engine.mint(name=f"Key {i}") for i in range(2)]
    db.update({k.record.hash: k.record for k in keys})
    for k in keys:
        worker.status(k.key)
    assert worker.cached() == 2
    apply = keyproof.redis_cache._received
    assert not apply(worker.engine, {"type": "message", "data": keys[0].record.id.encode()})
    assert worker.cached() == 1
    assert not apply(worker.engine, {"type": "message", "data": "not-a-key-id"}) and worker.cached() == 1
    assert not apply(worker.engine, None) and not apply(worker.engine, {"type": "pong", "data": b""})
    assert worker.cached() == 1
    assert apply(worker.engine, {"type": "subscribe", "data": 1}) and worker.cached() == 0


def test_asyncio_listeners_keep_caches_in_step() -> None:
    channel = f"{DEFAULT_CHANNEL}:test-{time.monotonic_ns()}"
    db: dict[str, keyproof.KeyRecord] = {}
    admin, worker = Process(db), Process(db)
    minted = admin.engine.mint(name="Async key")
    db[minted.record.hash] = minted.record

    async def main() -> None:
        client = redis.asyncio.Redis.from_url(str(REDIS_URL))
        try:
            async with AsyncRecordCacheSync(client, worker.engine, channel=channel) as listening:
                assert "listening=True" in repr(listening)
                assert worker.status(minted.key) == 200 and worker.cached() == 1
                assert (
                    await AsyncRecordCacheSync(client, admin.engine, channel=channel).publish(
                        minted.record.id
                    )
                    == 1
                )
                for _ in range(500):
                    if worker.cached() == 0:
                        break
                    await asyncio.sleep(0.01)
                assert worker.cached() == 0
        finally:
            await client.aclose()

    asyncio.run(main())
