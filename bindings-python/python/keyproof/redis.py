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
that turns that failure into the store's ``on_error`` policy, so no exception
escapes: ``"fail_closed"`` (default) answers 503 with a problem+json body and
``Retry-After``; ``"fail_open"`` allows the request with the warning
``rate_limit_unavailable`` and no rate-limit headers. Either way a denial for
another reason (unknown key, missing scope …) stays that denial. Those answers
are ``FallbackDecision`` objects, with every attribute of ``Decision``.

Time is the host's, as for every keyproof decision: instances whose clocks differ
by Δ can let a key through up to Δ * limit / period requests more (or fewer) than
its burst. Keep clocks synchronised (NTP).
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import json
import re
import time
from collections.abc import Awaitable
from datetime import datetime
from typing import Any, Callable, Literal, Optional, TypeVar, cast

from keyproof._keyproof import Decision, Engine, Principal, RateLimitState
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
    "unavailable_body",
]

T = TypeVar("T")
#: A store step: gets the stored state, returns (result, state to store).
_Step = Callable[[Optional[RateLimitState]], tuple[T, Optional[RateLimitState]]]

#: Key prefix of every bucket.
DEFAULT_PREFIX = "keyproof:rl:"
#: Internal and public code of a request the store could not rate-limit (503, or the fail-open warning).
UNAVAILABLE_CODE = "rate_limit_unavailable"
#: The core's default ``problem_base`` (used when a policy's cannot be learnt).
DEFAULT_PROBLEM_BASE = "https://keyproof.dev/problems/"
DEFAULT_MAX_RETRIES = 32

#: The compare-and-set (identical in the Node package's js/redis.js). KEYS[1]: the
#: bucket; ARGV[1]: the state the decision was computed from ('' = none), ARGV[2]:
#: the new state, ARGV[3]: time to live in ms. A stored value that is not a state
#: in canonical form (``parse_state``: no leading zeros, |tat_us| < 2^53) counts as
#: none. Returns {1} when stored, else {0, the current value or ''}.
CAS_SCRIPT = """\
local cur = redis.call('GET', KEYS[1])
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
"""

_STATE_TEXT = re.compile(r'\{"tat_us":(0|-?[1-9][0-9]*)\}\Z')
_MAX_SAFE = 2**53 - 1  # the states JavaScript reads exactly
_RATE_HEADERS = frozenset(
    {
        "ratelimit",
        "ratelimit-policy",
        "ratelimit-limit",
        "ratelimit-remaining",
        "ratelimit-reset",
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
        "retry-after",
    }
)


class RateLimitStoreError(Exception):
    """The rate-limit store failed (unreachable, timed out, kept conflicting).

    Raised by ``get`` / ``compare_and_set`` and by ``transact`` for steps whose
    result is not a decision; verifications get the store's failure policy instead.
    """

    code = UNAVAILABLE_CODE


def redis_key(bucket: str, prefix: str = DEFAULT_PREFIX) -> str:
    """The Redis key of the core's bucket ``<key id>:<class>``: ``<prefix>{<key id>}:<class>``."""
    key_id, sep, rest = bucket.partition(":")
    return f"{prefix}{{{key_id}}}{sep}{rest}"


def state_text(state: RateLimitState | None) -> str:
    """The stored text of a state (the core's JSON), ``''`` for none."""
    return "" if state is None else f'{{"tat_us":{state.tat_us}}}'


def parse_state(raw: str | bytes | None) -> RateLimitState | None:
    """A stored value as a state; ``None`` when absent or not a state (it then counts as a full bucket)."""
    if raw is None:
        return None
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    m = _STATE_TEXT.match(raw)
    if m is None:
        return None
    tat_us = int(m.group(1))
    return RateLimitState(tat_us) if abs(tat_us) <= _MAX_SAFE else None


def unavailable_body(problem_base: str, retry_after: int) -> str:
    """The RFC 9457 body of the 503 (the core's field order and escaping, as the Node store renders it)."""
    body = {
        "code": UNAVAILABLE_CODE,
        "detail": "The rate limit could not be checked.",
        "retry_after": retry_after,
        "status": 503,
        "title": "Service unavailable",
        "type": f"{problem_base}{UNAVAILABLE_CODE}",
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


class FallbackDecision:
    """A decision made without the rate-limit store: the fail-closed 503 or a fail-open allow.

    Has the attributes of ``keyproof.Decision``; ``cause`` is the store's error.
    """

    __slots__ = (
        "_principal",
        "allowed",
        "body",
        "cause",
        "code",
        "detail",
        "headers",
        "missing_scope",
        "public_code",
        "status",
        "token",
        "warnings",
    )

    def __init__(
        self,
        *,
        allowed: bool,
        status: int,
        code: str,
        public_code: str,
        headers: list[tuple[str, str]],
        body: str | None,
        principal: Principal | None,
        warnings: list[dict[str, Any]],
        missing_scope: str | None,
        detail: str,
        cause: BaseException | None,
        token: dict[str, Any] | None = None,
    ) -> None:
        self.allowed = allowed
        self.status = status
        self.code = code
        self.public_code = public_code
        self.headers = headers
        self.body = body
        self._principal = principal
        self.warnings = warnings
        self.missing_scope = missing_scope
        self.detail = detail
        self.cause = cause
        self.token = token

    @classmethod
    def unavailable(
        cls, problem_base: str, retry_after: int, detail: str, cause: BaseException | None = None
    ) -> FallbackDecision:
        """The fail-closed answer: 503, ``Retry-After``, problem+json."""
        return cls(
            allowed=False,
            status=503,
            code=UNAVAILABLE_CODE,
            public_code=UNAVAILABLE_CODE,
            headers=[
                ("Retry-After", str(retry_after)),
                ("Cache-Control", "no-store"),
                ("Content-Type", "application/problem+json"),
            ],
            body=unavailable_body(problem_base, retry_after),
            principal=None,
            warnings=[],
            missing_scope=None,
            detail=detail,
            cause=cause,
        )

    @classmethod
    def open(cls, decision: Decision, detail: str, cause: BaseException | None = None) -> FallbackDecision:
        """The fail-open answer: the core's decision without rate-limit headers, plus the warning."""
        return cls(
            allowed=decision.allowed,
            status=decision.status,
            code=decision.code,
            public_code=decision.public_code,
            headers=[(n, v) for n, v in decision.headers if n.lower() not in _RATE_HEADERS],
            body=decision.body,
            principal=decision.principal,
            warnings=[*decision.warnings, {"code": UNAVAILABLE_CODE}],
            missing_scope=decision.missing_scope,
            detail=detail,
            cause=cause,
            token=decision.token,
        )

    @property
    def principal(self) -> Principal | None:
        return self._principal

    @property
    def rate_limit(self) -> None:
        """No rate limit was applied."""
        return None

    def header(self, name: str) -> str | None:
        lower = name.lower()
        return next((v for n, v in self.headers if n.lower() == lower), None)

    def to_dict(self) -> dict[str, Any]:
        token = {} if self.token is None else {"token": self.token}
        return {
            **token,
            "allowed": self.allowed,
            "code": self.code,
            "public_code": self.public_code,
            "status": self.status,
            "headers": [list(h) for h in self.headers],
            "body": self.body,
            "principal": self._principal.to_dict() if self._principal is not None else None,
            "warnings": self.warnings,
            "missing_scope": self.missing_scope,
            "rate_limit": None,
            "detail": self.detail,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    def __bool__(self) -> bool:
        return self.allowed

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FallbackDecision) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"FallbackDecision(allowed={self.allowed}, status={self.status}, code={self.code!r})"


def _ttl_ms(result: object, new: RateLimitState) -> int:
    """Milliseconds until the bucket is full again, as the core computed it (at least 1 s)."""
    write = getattr(result, "rate_write", None)  # a Verification (the step API)
    seconds = getattr(write, "ttl_seconds", None)
    if not isinstance(seconds, int):
        limit = getattr(result, "rate_limit", None)  # a Decision
        seconds = getattr(limit, "reset_seconds", None)
    if not isinstance(seconds, int):
        # A step that reports neither: the time until the state's instant, by this clock.
        seconds = -(-(new.tat_us - time.time_ns() // 1000) // 1_000_000)
    return max(1, min(int(seconds), 2**31 // 1000)) * 1000


def _cas_reply(reply: Any) -> tuple[bool, str | bytes | None]:
    """(stored, current value) from the script's reply."""
    if not isinstance(reply, (list, tuple)) or not reply:
        raise RateLimitStoreError(f"unexpected compare-and-set reply {reply!r}")
    if int(reply[0]) == 1:
        return True, None
    current = reply[1] if len(reply) > 1 else None
    return False, current if current not in ("", b"") else None


def _failed(error: BaseException) -> RateLimitStoreError:
    if isinstance(error, RateLimitStoreError):
        return error
    failure = RateLimitStoreError(f"{type(error).__name__}: {error}")
    failure.__cause__ = error
    return failure


class _Config:
    """What both stores share: configuration and key layout."""

    def __init__(
        self,
        prefix: str,
        on_error: Literal["fail_closed", "fail_open"],
        max_retries: int,
        retry_after_seconds: int,
        problem_base: str | None,
    ) -> None:
        if on_error not in ("fail_closed", "fail_open"):
            raise ValueError('on_error must be "fail_closed" or "fail_open"')
        if max_retries < 0:
            raise ValueError("max_retries must be at least 0")
        if retry_after_seconds < 1:
            raise ValueError("retry_after_seconds must be at least 1")
        self.prefix = prefix
        self.on_error: Literal["fail_closed", "fail_open"] = on_error
        self.max_retries = max_retries
        self.retry_after_seconds = retry_after_seconds
        self.problem_base = problem_base
        #: Lost compare-and-sets (each one retried), for monitoring.
        self.conflicts = 0
        #: Requests the failure policy answered (503 or fail-open allow; counted by ``RedisVerifier``).
        self.failures = 0

    def redis_key(self, bucket: str) -> str:
        return redis_key(bucket, self.prefix)

    def _conflicted(self, tries: int) -> None:
        self.conflicts += 1
        if tries >= self.max_retries:
            raise RateLimitStoreError(f"the compare-and-set kept conflicting ({tries + 1} tries)")


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
        on_error: Literal["fail_closed", "fail_open"] = "fail_closed",
        max_retries: int = DEFAULT_MAX_RETRIES,
        retry_after_seconds: int = 1,
        problem_base: str | None = None,
    ) -> None:
        super().__init__(prefix, on_error, max_retries, retry_after_seconds, problem_base)
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
        on_error: Literal["fail_closed", "fail_open"] = "fail_closed",
        max_retries: int = DEFAULT_MAX_RETRIES,
        retry_after_seconds: int = 1,
        problem_base: str | None = None,
        timeout: float | None = 1.0,
    ) -> None:
        super().__init__(prefix, on_error, max_retries, retry_after_seconds, problem_base)
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


class _NoState:
    """The store of a fallback verification: no state read, nothing written (either protocol)."""

    def get(self, key: str) -> None:
        return None

    def compare_and_set(self, key: str, expected: object, new: object, ttl_seconds: int) -> bool:
        return True

    def transact(self, key: str, step: _Step[T]) -> T:
        return step(None)[0]


def _is_async(store: object) -> bool:
    return any(inspect.iscoroutinefunction(getattr(store, name, None)) for name in ("get", "transact"))


def _store_failure(error: Exception) -> RateLimitStoreError | None:
    """The store failure an exception out of the ``Verifier`` stands for, if any."""
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

    When the store raises ``RateLimitStoreError``, the request is decided again
    without rate-limit state (so a denial for another reason stays that denial)
    and then, per the store's ``on_error``: ``"fail_closed"`` answers 503
    (problem+json, ``Retry-After``), ``"fail_open"`` allows it with the warning
    ``rate_limit_unavailable`` and without rate-limit headers. Those answers are
    ``FallbackDecision`` objects (every attribute of ``Decision``).
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
    ) -> Decision:
        if _is_async(self.rate_limits):
            raise TypeError("the rate-limit store is asynchronous: use averify()")
        try:
            return super().verify(method, path, headers, client_ip, now=now)
        except (RateLimitStoreError, RuntimeError) as e:
            failure = _store_failure(e)
            if failure is None:
                raise
        decision = Verifier.verify(self._without_state(), method, path, headers, client_ip, now=now)
        return self._fallback(decision, failure)

    async def averify(
        self,
        method: str,
        path: str,
        headers: Headers,
        client_ip: str | None = None,
        *,
        now: datetime | None = None,
    ) -> Decision:
        try:
            result: Any = await super().averify(method, path, headers, client_ip, now=now)
            if inspect.isawaitable(result):  # a Verifier that hands back the store's coroutine
                result = await result
            return cast(Decision, result)
        except (RateLimitStoreError, RuntimeError) as e:
            failure = _store_failure(e)
            if failure is None:
                raise
        decision = await Verifier.averify(self._without_state(), method, path, headers, client_ip, now=now)
        return self._fallback(decision, failure)

    def _without_state(self) -> Verifier:
        twin = copy.copy(self)
        twin.rate_limits = _NoState()
        return twin

    def _fallback(self, decision: Decision, error: RateLimitStoreError) -> Decision:
        if not decision.allowed:
            return decision  # denied for another reason: that answer stands
        store = self.rate_limits
        if isinstance(store, _Config):
            store.failures += 1
        detail = f"rate-limit store unavailable ({error})"
        if getattr(store, "on_error", "fail_closed") == "fail_open":
            return cast(Decision, FallbackDecision.open(decision, detail, error))
        base = getattr(store, "problem_base", None)
        if not isinstance(base, str):
            base = str(self.engine.policy.to_dict().get("problem_base", DEFAULT_PROBLEM_BASE))
        retry = getattr(store, "retry_after_seconds", 1)
        return cast(Decision, FallbackDecision.unavailable(base, retry, detail, error))
