"""What the synchronous and asyncio Redis stores share: the key layout, the state
text, the compare-and-set reply, errors and configuration. Public names are
re-exported by ``keyproof.redis``, their one import path (see its docstring)."""

from __future__ import annotations

import time
from typing import Any, Callable, Literal, Optional, TypeVar

from keyproof import _keyproof as _native
from keyproof._keyproof import Decision, RateLimitState

T = TypeVar("T")
#: A store step: gets the stored state, returns (result, state to store).
_Step = Callable[[Optional[RateLimitState]], tuple[T, Optional[RateLimitState]]]

#: Key prefix of every bucket.
DEFAULT_PREFIX: str = _native.DEFAULT_KEY_PREFIX
#: Code of ``RateLimitStoreError`` and of core's answer when the store failed (503, or the fail-open warning).
UNAVAILABLE_CODE = "rate_limit_unavailable"
DEFAULT_MAX_RETRIES = 32

#: The compare-and-set, core's (``keyproof::ratelimit::shared_store``, also used by
#: the Node package). KEYS[1]: the bucket; ARGV[1]: the state the decision was
#: computed from ('' = none), ARGV[2]: the new state, ARGV[3]: time to live in ms.
#: A stored value that is not a state in canonical form (``parse_state``) counts as
#: none. Returns {1} when stored, else {0, the current value or ''}.
CAS_SCRIPT: str = _native.COMPARE_AND_SET_SCRIPT


class RateLimitStoreError(Exception):
    """The rate-limit store failed (unreachable, timed out, kept conflicting).

    Raised by ``get`` / ``compare_and_set`` and by ``transact`` for steps whose
    result is not a decision; verifications get the store's failure policy instead.
    """

    code = UNAVAILABLE_CODE


def redis_key(bucket: str, prefix: str = DEFAULT_PREFIX) -> str:
    """The Redis key of the core's bucket ``<key id>:<class>``: ``<prefix>{<key id>}:<class>``."""
    return _native.store_key(bucket, prefix)


def state_text(state: RateLimitState | None) -> str:
    """The stored text of a state (the core's JSON), ``''`` for none."""
    return _native.state_text(state)


def parse_state(raw: str | bytes | None) -> RateLimitState | None:
    """A stored value as a state; ``None`` when absent or not a state (it then counts as a full bucket)."""
    return _native.parse_state_text(raw)


class FallbackDecision:
    """Core's ``Decision`` for a request the store could not rate-limit (core's
    fail-closed 503 or fail-open allow), with the store's error as ``cause``.

    Every attribute of ``Decision`` (``decision``: the core object itself).
    """

    __slots__ = ("cause", "decision")

    def __init__(self, decision: Decision, cause: BaseException | None = None) -> None:
        self.decision = decision
        self.cause = cause

    def __getattr__(self, name: str) -> Any:
        return getattr(self.decision, name)

    def __bool__(self) -> bool:
        return bool(self.decision)

    def __eq__(self, other: object) -> bool:
        return self.decision == (other.decision if isinstance(other, FallbackDecision) else other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"FallbackDecision({self.decision!r})"


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
        on_error: Literal["fail_closed", "fail_open"] | None,
        max_retries: int,
        retry_after_seconds: int | None,
    ) -> None:
        if on_error not in (None, "fail_closed", "fail_open"):
            raise ValueError('on_error must be "fail_closed" or "fail_open" (or None: the policy\'s)')
        if max_retries < 0:
            raise ValueError("max_retries must be at least 0")
        if retry_after_seconds is not None and retry_after_seconds < 1:
            raise ValueError("retry_after_seconds must be at least 1 (given alone: fail closed with it)")
        self.prefix = prefix
        #: How a failure is answered; None: the engine policy's ``rate_store_failure``.
        self.on_error: Literal["fail_closed", "fail_open"] | None = on_error
        self.max_retries = max_retries
        self.retry_after_seconds = retry_after_seconds
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


# Shown (in reprs, tracebacks and docs) under the module that exports them.
for _public in (RateLimitStoreError, FallbackDecision, redis_key, state_text, parse_state):
    _public.__module__ = "keyproof.redis"
