"""Rate-limit state stores.

The core keeps no state: a verification reads a bucket's ``RateLimitState``,
takes the GCRA step and asks the host to write the new state with
compare-and-set (``Verification.rate_write``: store ``new`` under ``key`` only if
the stored state is still ``expected``). On a lost race the verifier reads again
and core recomputes. A store therefore needs two operations (plain or ``async``):

- ``get(key)``: the stored state or ``None``;
- ``compare_and_set(key, expected, new, ttl_seconds)``: store ``new`` if the
  stored state equals ``expected`` (``None``: nothing stored); return whether it
  did. The bucket is full again after ``ttl_seconds``: a store may expire it then.

A Redis store implements them with a GET and a Lua compare-and-set. Stores
written for the earlier ``transact(key, step)`` protocol still work, through
``cas_view``.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Iterator
from typing import Callable, Optional, Protocol, TypeVar, runtime_checkable

from keyproof._keyproof import RateLimitState

T = TypeVar("T")

#: A ``transact`` step: gets the stored state, returns (result, state to store).
Step = Callable[[Optional[RateLimitState]], tuple[T, Optional[RateLimitState]]]


@runtime_checkable
class RateLimitStore(Protocol):
    """What the verifier needs from a rate-limit store (methods may be ``async``)."""

    def get(self, key: str) -> RateLimitState | Awaitable[RateLimitState | None] | None:
        """The state stored under ``key``, or ``None``."""
        ...

    def compare_and_set(
        self, key: str, expected: RateLimitState | None, new: RateLimitState, ttl_seconds: int
    ) -> bool | Awaitable[bool]:
        """Stores ``new`` under ``key`` if the stored state is still ``expected``; whether it did."""
        ...


class TransactStore(Protocol):
    """The earlier store protocol: an atomic read → step → write per key."""

    def transact(
        self, key: str, step: Callable[[RateLimitState | None], tuple[T, RateLimitState | None]]
    ) -> T:
        """Runs ``step`` on the state under ``key`` and stores what it returns, atomically."""
        ...


class _TransactCAS:
    """Compare-and-set over a store that only has ``transact``."""

    def __init__(self, store: TransactStore) -> None:
        self.store = store

    def get(self, key: str) -> RateLimitState | None:
        return self.store.transact(key, lambda state: (state, state))

    def compare_and_set(
        self, key: str, expected: RateLimitState | None, new: RateLimitState, ttl_seconds: int
    ) -> bool:
        def swap(state: RateLimitState | None) -> tuple[bool, RateLimitState | None]:
            return (True, new) if state == expected else (False, state)

        return self.store.transact(key, swap)


def cas_view(store: RateLimitStore | TransactStore) -> RateLimitStore:
    """``store`` itself when it has ``compare_and_set``, else a view over its ``transact``."""
    if callable(getattr(store, "compare_and_set", None)) and callable(getattr(store, "get", None)):
        return store  # type: ignore[return-value]
    if callable(getattr(store, "transact", None)):
        return _TransactCAS(store)  # type: ignore[arg-type]
    raise TypeError("a rate-limit store needs get() and compare_and_set(), or transact()")


class MemoryRateLimitStore:
    """An in-process store: a dict guarded by a lock.

    Safe from many threads and from asyncio code (its methods are synchronous
    and the lock is never held across an ``await``). ``max_entries`` bounds
    memory: when full, buckets that have refilled completely are dropped first,
    then the oldest. ``ttl_seconds`` is not needed: a state past its ``tat_us`` is
    a full bucket, which ``prune`` drops.
    """

    def __init__(self, max_entries: int = 100_000) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._states: dict[str, RateLimitState] = {}
        self._lock = threading.Lock()
        self._max_entries = max_entries

    def get(self, key: str) -> RateLimitState | None:
        with self._lock:
            return self._states.get(key)

    def compare_and_set(
        self, key: str, expected: RateLimitState | None, new: RateLimitState, ttl_seconds: int = 0
    ) -> bool:
        with self._lock:
            if self._states.get(key) != expected:
                return False
            self._put(key, new)
            return True

    def set(self, key: str, state: RateLimitState | None) -> None:
        with self._lock:
            self._put(key, state)

    def delete(self, key: str) -> None:
        with self._lock:
            self._states.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._states.clear()

    def transact(
        self, key: str, step: Callable[[RateLimitState | None], tuple[T, RateLimitState | None]]
    ) -> T:
        """Runs ``step`` on the state under ``key`` and stores what it returns, atomically."""
        with self._lock:
            result, state = step(self._states.get(key))
            self._put(key, state)
            return result

    def prune(self, now_us: int) -> int:
        """Drops buckets that are full again at ``now_us``; returns how many."""
        with self._lock:
            return self._prune(now_us)

    def __len__(self) -> int:
        with self._lock:
            return len(self._states)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._states

    def __iter__(self) -> Iterator[str]:
        with self._lock:
            return iter(list(self._states))

    def _put(self, key: str, state: RateLimitState | None) -> None:
        if state is None:
            self._states.pop(key, None)
            return
        if key not in self._states and len(self._states) >= self._max_entries:
            self._prune(min(s.tat_us for s in self._states.values()) + 1)
            while len(self._states) >= self._max_entries:
                self._states.pop(next(iter(self._states)))
        self._states[key] = state

    def _prune(self, now_us: int) -> int:
        stale = [k for k, s in self._states.items() if s.tat_us <= now_us]
        for k in stale:
            del self._states[k]
        return len(stale)

    def __repr__(self) -> str:
        return f"MemoryRateLimitStore(entries={len(self)})"
