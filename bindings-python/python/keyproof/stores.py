"""Rate-limit state stores.

The core keeps no state: each decision returns the opaque ``RateLimitState`` to
store under ``decision.rate_limit.key``. A store only has to make the
read → decide → write step atomic per key, which ``transact`` does.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Callable, Optional, Protocol, TypeVar

from keyproof._keyproof import RateLimitState

T = TypeVar("T")

#: A ``transact`` step: gets the stored state, returns (result, state to store).
Step = Callable[[Optional[RateLimitState]], tuple[T, Optional[RateLimitState]]]


class RateLimitStore(Protocol):
    """What the verifier needs from a rate-limit store."""

    def transact(
        self, key: str, step: Callable[[RateLimitState | None], tuple[T, RateLimitState | None]]
    ) -> T:
        """Runs ``step`` on the state under ``key`` and stores what it returns, atomically."""
        ...


class MemoryRateLimitStore:
    """An in-process store: a dict guarded by a lock.

    Safe from many threads and from asyncio code (the lock is never held across
    an ``await``). ``max_entries`` bounds memory: when full, buckets that have
    refilled completely are dropped first, then the oldest.
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
