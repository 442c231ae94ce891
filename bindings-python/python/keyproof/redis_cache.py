"""Record caches kept in step across processes, through Redis (or Valkey) pub/sub.

An engine's ``record_cache`` sees a change this process makes at once (the host
calls ``Engine.invalidate_cached``) and one made by another process within
``ttl_seconds``. ``RecordCacheSync`` closes that gap for every process subscribed
to one channel: ``publish(key_id)`` drops the key from this engine's cache and
announces it; each process running ``start()`` drops it from its own as the
announcement arrives (a gunicorn worker revokes a key in the admin; the other
workers stop accepting it within a round trip).

Pub/sub delivers only to connected subscribers, so a process that was
disconnected may have missed announcements: each (re)subscription empties its
cache, and ``ttl_seconds`` still bounds what a lost message could keep alive. The
message is the key id, on channel ``keyproof:record-cache`` by default; the Node
package's ``RedisRecordCacheSync`` uses the same, so Python and Node processes
share announcements.

- ``RecordCacheSync(redis.Redis(...), engine)``: listens on a daemon thread.
- ``AsyncRecordCacheSync(redis.asyncio.Redis(...), engine)``: listens in a task.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from keyproof._keyproof import RECORD_CACHE_CHANNEL, Engine

__all__ = ["DEFAULT_CHANNEL", "AsyncRecordCacheSync", "RecordCacheSync"]

#: The channel announcements go to unless told otherwise: core's, so the Node package's too.
DEFAULT_CHANNEL = RECORD_CACHE_CHANNEL
#: Seconds a listener waits for a message before it checks whether it should stop.
_POLL_SECONDS = 0.2
#: Seconds a listener waits after Redis failed before it reconnects.
_RETRY_SECONDS = 0.5
#: Seconds ``start()`` waits for the subscription to be confirmed.
_START_SECONDS = 10.0


def _received(engine: Engine, message: dict[str, Any] | None) -> bool:
    """Applies one pub/sub message to the engine's cache; whether it confirmed a subscription."""
    if message is None:
        return False
    if message["type"] == "subscribe":
        engine.clear_cache()  # announcements may have been missed before it
        return True
    if message["type"] == "message":
        data = message["data"]
        engine.invalidate_cached(data.decode() if isinstance(data, bytes) else str(data))
    return False


class _Settings:
    """What both listeners are given: the client, the engine, the channel and the pause after a failure."""

    _subscribed: Any  # a threading.Event or an asyncio.Event: set once subscribed

    def __init__(
        self,
        client: Any,
        engine: Engine,
        *,
        channel: str = DEFAULT_CHANNEL,
        retry_seconds: float = _RETRY_SECONDS,
    ) -> None:
        self.client, self.engine, self.channel, self.retry_seconds = client, engine, channel, retry_seconds

    def __repr__(self) -> str:
        return f"{type(self).__name__}(channel={self.channel!r}, listening={self._subscribed.is_set()})"


class RecordCacheSync(_Settings):
    """Keeps ``engine``'s record cache in step with every process on ``channel``
    (a synchronous ``redis.Redis``; use as a context manager, or ``start``/``stop``).
    After Redis fails, the listener empties the cache and reconnects ``retry_seconds`` later."""

    def __init__(self, client: Any, engine: Engine, **options: Any) -> None:
        super().__init__(client, engine, **options)
        self._stop = threading.Event()
        self._subscribed = threading.Event()
        self._thread: threading.Thread | None = None

    def publish(self, key_id: str) -> int:
        """Drops ``key_id`` from this engine's cache and announces it; how many
        subscribers (this process's own listener included) received it."""
        self.engine.invalidate_cached(key_id)
        return int(self.client.publish(self.channel, key_id))

    def start(self) -> RecordCacheSync:
        """Subscribes and listens on a daemon thread; returns once subscribed."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._listen, name="keyproof-record-cache", daemon=True)
            self._thread.start()
        if not self._subscribed.wait(_START_SECONDS):
            raise TimeoutError(f"keyproof: could not subscribe to {self.channel!r}")
        return self

    def stop(self) -> None:
        """Stops listening (at most one poll interval later)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(_START_SECONDS)
            self._thread = None
        self._subscribed.clear()

    def _listen(self) -> None:
        pubsub = self.client.pubsub()
        try:
            while not self._stop.is_set():
                try:
                    if not pubsub.subscribed:
                        pubsub.subscribe(self.channel)
                    if _received(self.engine, pubsub.get_message(timeout=_POLL_SECONDS)):
                        self._subscribed.set()
                except Exception:  # Redis failed: reconnect (and resubscribe) after a pause
                    self.engine.clear_cache()
                    self._stop.wait(self.retry_seconds)
        finally:
            pubsub.close()

    def __enter__(self) -> RecordCacheSync:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class AsyncRecordCacheSync(_Settings):
    """``RecordCacheSync`` over ``redis.asyncio``: listens in a task of the running loop."""

    def __init__(self, client: Any, engine: Engine, **options: Any) -> None:
        super().__init__(client, engine, **options)
        self._subscribed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def publish(self, key_id: str) -> int:
        """Drops ``key_id`` from this engine's cache and announces it; how many subscribers received it."""
        self.engine.invalidate_cached(key_id)
        return int(await self.client.publish(self.channel, key_id))

    async def start(self) -> AsyncRecordCacheSync:
        """Subscribes and listens in a task; returns once subscribed."""
        if self._task is None:
            self._task = asyncio.create_task(self._listen())
        await asyncio.wait_for(self._subscribed.wait(), _START_SECONDS)
        return self

    async def stop(self) -> None:
        """Stops listening."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        self._subscribed.clear()

    async def _listen(self) -> None:
        pubsub = self.client.pubsub()
        try:
            while True:
                try:
                    if not pubsub.subscribed:
                        await pubsub.subscribe(self.channel)
                    if _received(self.engine, await pubsub.get_message(timeout=_POLL_SECONDS)):
                        self._subscribed.set()
                except asyncio.CancelledError:
                    raise
                except Exception:  # Redis failed: reconnect (and resubscribe) after a pause
                    self.engine.clear_cache()
                    await asyncio.sleep(self.retry_seconds)
        finally:
            await pubsub.aclose() if hasattr(pubsub, "aclose") else await pubsub.close()

    async def __aenter__(self) -> AsyncRecordCacheSync:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
