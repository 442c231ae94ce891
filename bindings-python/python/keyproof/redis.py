"""Rate-limit state in Redis or Valkey, shared by every process: core computes, Redis stores.

A bucket is one value, the core's JSON ``{"tat_us": <int>}``, under
``<prefix>{<key id>}:<class>`` (prefix ``keyproof:rl:``; the braces are a Redis
Cluster hash tag, so all buckets of a key share one slot). Each verification
reads the bucket, lets the core take the GCRA step, and writes the new state with
a Lua compare-and-set (stored only if the bucket still holds what was read, with a
time to live of the time until the bucket is full again). A lost race reads the
fresh state and recomputes, at most ``max_retries`` times. The Node package's
``RedisRateLimitStore`` uses the same script, key layout and state text, so Python
and Node processes share buckets.

Stores:

- ``RedisRateLimitStore(redis.Redis(...))``: synchronous (``redis-py``,
  ``RedisCluster``, ``valkey``).
- ``AsyncRedisRateLimitStore(redis.asyncio.Redis(...))``: asyncio; its methods are
  coroutines (verify with ``averify``).

Both offer the store interface of ``keyproof.stores`` (``get`` and
``compare_and_set``) and the earlier ``transact(key, step)``; when Redis fails
they raise ``RateLimitStoreError``. Verify with ``RedisVerifier``, a ``Verifier``
that answers core's rate-limit step with ``Verification.rate_state_unavailable``
and the store's ``on_error`` policy, so no exception escapes and core renders
the answer: ``"fail_closed"`` is a 503 ``rate_limit_unavailable`` problem with
``Retry-After``; ``"fail_open"`` allows the request with the warning
``rate_limit_unavailable`` and no rate-limit headers. A store given no
``on_error`` leaves the answer to the engine policy's ``rate_store_failure``
(default: fail closed), one setting for every runtime of a deployment. Either way a
denial for another reason (unknown key, missing scope …) stays that denial.
Those answers are ``FallbackDecision`` objects: core's ``Decision`` plus the
store's error as ``cause``.

Time is the host's, as for every keyproof decision: instances whose clocks differ
by Δ can let a key through up to Δ * limit / period requests more (or fewer) than
its burst. Keep clocks synchronised (NTP).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable
from datetime import datetime
from typing import Any, Callable, Literal, cast

from keyproof._keyproof import Decision, Engine, RateLimitState, Verification
from keyproof._redis_shared import (
    CAS_SCRIPT,
    DEFAULT_MAX_RETRIES,
    DEFAULT_PREFIX,
    UNAVAILABLE_CODE,
    FallbackDecision,
    RateLimitStoreError,
    T,
    _cas_reply,
    _Config,
    _failed,
    _Step,
    _ttl_ms,
    parse_state,
    redis_key,
    state_text,
)
from keyproof.verifier import Headers, Lookup, Verifier

__all__ = [
    "CAS_SCRIPT",
    "DEFAULT_PREFIX",
    "UNAVAILABLE_CODE",
    "AsyncRedisRateLimitStore",
    "FallbackDecision",
    "RateLimitStoreError",
    "RedisRateLimitStore",
    "RedisVerifier",
    "parse_state",
    "redis_key",
    "state_text",
]


class RedisRateLimitStore(_Config):
    """Rate-limit buckets in Redis / Valkey through a synchronous client (``redis.Redis``,
    ``redis.RedisCluster``, ``valkey.Valkey``). Thread-safe (the client's pool is).

    ``transact`` (the ``Verifier``'s store protocol) and ``get`` / ``compare_and_set``
    raise ``RateLimitStoreError`` when Redis fails; ``RedisVerifier`` turns that into
    the ``on_error`` policy. Set the client's ``socket_timeout`` /
    ``socket_connect_timeout`` (and a small ``retry``): they bound how long a
    verification waits for a failing Redis.
    """

    def __init__(
        self,
        client: Any,
        *,
        prefix: str = DEFAULT_PREFIX,
        on_error: Literal["fail_closed", "fail_open"] | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        retry_after_seconds: int | None = None,
    ) -> None:
        super().__init__(prefix, on_error, max_retries, retry_after_seconds)
        self.client = client
        self._cas = client.register_script(CAS_SCRIPT)

    def _read(self, rkey: str) -> str | bytes | None:
        try:
            return cast("str | bytes | None", self.client.get(rkey))
        except Exception as e:
            raise _failed(e) from e

    def _swap(
        self, rkey: str, expected: RateLimitState | None, new: RateLimitState, ttl_ms: int
    ) -> tuple[bool, str | bytes | None]:
        try:
            reply = self._cas(keys=[rkey], args=[state_text(expected), state_text(new), ttl_ms])
        except Exception as e:
            raise _failed(e) from e
        return _cas_reply(reply)

    def get(self, key: str) -> RateLimitState | None:
        """The state of bucket ``key`` (the core's name), or ``None``."""
        return parse_state(self._read(self.redis_key(key)))

    def compare_and_set(
        self, key: str, expected: RateLimitState | None, new: RateLimitState, ttl_seconds: int
    ) -> bool:
        """Stores ``new`` if bucket ``key`` still holds ``expected``; whether it did."""
        stored, _ = self._swap(self.redis_key(key), expected, new, max(1, ttl_seconds) * 1000)
        if not stored:
            self.conflicts += 1
        return stored

    def transact(self, key: str, step: _Step[T]) -> T:
        """Runs ``step`` on bucket ``key`` and stores its state with compare-and-set; a lost race
        runs it again on the state found (at most ``max_retries`` times)."""
        rkey = self.redis_key(key)
        raw = self._read(rkey)
        tries = 0
        while True:
            state = parse_state(raw)
            result, new = step(state)
            if new is None or new == state:
                return result
            stored, raw = self._swap(rkey, state, new, _ttl_ms(result, new))
            if stored:
                return result
            self._conflicted(tries)
            tries += 1

    def __repr__(self) -> str:
        return f"RedisRateLimitStore(prefix={self.prefix!r}, on_error={self.on_error!r})"


class AsyncRedisRateLimitStore(_Config):
    """Rate-limit buckets in Redis / Valkey through an asyncio client (``redis.asyncio.Redis``,
    ``redis.asyncio.RedisCluster``, ``valkey.asyncio``): ``transact``, ``get`` and
    ``compare_and_set`` are coroutines. Verify with ``RedisVerifier.averify``.

    ``timeout`` (seconds, default 1) bounds each Redis call.
    """

    def __init__(
        self,
        client: Any,
        *,
        prefix: str = DEFAULT_PREFIX,
        on_error: Literal["fail_closed", "fail_open"] | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        retry_after_seconds: int | None = None,
        timeout: float | None = 1.0,
    ) -> None:
        super().__init__(prefix, on_error, max_retries, retry_after_seconds)
        self.client = client
        self.timeout = timeout
        self._cas = client.register_script(CAS_SCRIPT)
        # redis.asyncio.RedisCluster fails commands sent concurrently before it has
        # loaded the slot map; initialize it once first (its own lock serialises that).
        self._ready = not (callable(getattr(client, "initialize", None)) and hasattr(client, "get_nodes"))

    def _after_initialize(self, make: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[Any]]:
        async def initialized() -> Any:
            await self.client.initialize()
            self._ready = True
            return await make()

        return initialized

    async def _call(self, make: Callable[[], Awaitable[Any]]) -> Any:
        if not self._ready:
            make = self._after_initialize(make)
        try:
            if self.timeout is None:
                return await make()
            return await asyncio.wait_for(make(), self.timeout)
        except asyncio.TimeoutError as e:
            raise RateLimitStoreError(f"no answer from Redis within {self.timeout} s") from e
        except Exception as e:
            raise _failed(e) from e

    async def _read(self, rkey: str) -> str | bytes | None:
        return cast("str | bytes | None", await self._call(lambda: self.client.get(rkey)))

    async def _swap(
        self, rkey: str, expected: RateLimitState | None, new: RateLimitState, ttl_ms: int
    ) -> tuple[bool, str | bytes | None]:
        args = [state_text(expected), state_text(new), ttl_ms]
        return _cas_reply(await self._call(lambda: self._cas(keys=[rkey], args=args)))

    async def get(self, key: str) -> RateLimitState | None:
        """The state of bucket ``key`` (the core's name), or ``None``."""
        return parse_state(await self._read(self.redis_key(key)))

    async def compare_and_set(
        self, key: str, expected: RateLimitState | None, new: RateLimitState, ttl_seconds: int
    ) -> bool:
        """Stores ``new`` if bucket ``key`` still holds ``expected``; whether it did."""
        stored, _ = await self._swap(self.redis_key(key), expected, new, max(1, ttl_seconds) * 1000)
        if not stored:
            self.conflicts += 1
        return stored

    async def transact(self, key: str, step: _Step[T]) -> T:
        """Runs ``step`` on bucket ``key`` and stores its state with compare-and-set; a lost race
        runs it again on the state found (at most ``max_retries`` times)."""
        rkey = self.redis_key(key)
        raw = await self._read(rkey)
        tries = 0
        while True:
            state = parse_state(raw)
            result, new = step(state)
            if new is None or new == state:
                return result
            stored, raw = await self._swap(rkey, state, new, _ttl_ms(result, new))
            if stored:
                return result
            self._conflicted(tries)
            tries += 1

    def __repr__(self) -> str:
        return f"AsyncRedisRateLimitStore(prefix={self.prefix!r}, on_error={self.on_error!r})"


def _is_async(store: object) -> bool:
    return any(inspect.iscoroutinefunction(getattr(store, name, None)) for name in ("get", "transact"))


def _store_failure(error: Exception) -> RateLimitStoreError | None:
    """The store failure an exception out of the rate-limit step stands for, if any."""
    if isinstance(error, RateLimitStoreError):
        return error
    if isinstance(error, RuntimeError) and "compare-and-set" in str(error):
        # The Verifier's own retry loop gave up: every try lost a race.
        failure = RateLimitStoreError(f"the compare-and-set kept conflicting ({error})")
        failure.__cause__ = error
        return failure
    return None


class RedisVerifier(Verifier):
    """A ``Verifier`` that applies the Redis store's failure policy, and whose ``averify``
    awaits an ``AsyncRedisRateLimitStore``.

    When the store raises ``RateLimitStoreError`` at the rate-limit step (or the
    compare-and-set keeps losing), core is told so
    (``Verification.rate_state_unavailable`` with the store's ``on_error`` and
    ``retry_after_seconds``) and renders the answer: ``"fail_closed"`` a 503
    problem with ``Retry-After``, ``"fail_open"`` an allow with the warning
    ``rate_limit_unavailable`` and no rate-limit headers. A denial for another
    reason never reaches the store. Those answers are ``FallbackDecision``
    objects (core's ``Decision`` plus ``cause``).
    """

    def __init__(
        self, engine: Engine, lookup: Lookup, *args: Any, rate_limits: Any = None, **options: Any
    ) -> None:
        super().__init__(engine, lookup, *args, rate_limits=rate_limits, **options)

    def verify(
        self,
        method: str,
        path: str,
        headers: Headers,
        client_ip: str | None = None,
        *,
        now: datetime | None = None,
        usage_cost: int | None = None,
    ) -> Decision:
        if _is_async(self.rate_limits):
            raise TypeError("the rate-limit store is asynchronous: use averify()")
        return super().verify(method, path, headers, client_ip, now=now, usage_cost=usage_cost)

    def _rate_store_failed(self, v: Verification, error: Exception) -> Exception | None:
        failure = _store_failure(error)
        if failure is None or v.next_step()[0] == "lookup":
            return None  # not the store's failure, or not at the rate-limit step: it escapes
        store = self.rate_limits
        # None for both: the engine policy's rate_store_failure answers.
        on_error, seconds = getattr(store, "on_error", None), getattr(store, "retry_after_seconds", None)
        v.rate_state_unavailable(on_error, seconds)
        if isinstance(store, _Config):
            store.failures += 1
        return failure

    def _without_store(self, decision: Decision, failure: Exception) -> Decision:
        return cast(Decision, FallbackDecision(decision, failure))
