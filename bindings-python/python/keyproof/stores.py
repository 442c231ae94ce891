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

from keyproof._keyproof import RateLimitState, compare_and_set_item

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
    """An in-process store: a dict of states, changed one atomic step at a time.

    Safe from many threads and from asyncio code. Every change is one native
    compare-and-set (``compare_and_set_item``) or one dict operation, which no
    other thread sees half done, so requests never queue behind a lock whose
    holder the interpreter switched away from (with a ``threading.Lock`` two
    threads on one bucket ran at a quarter of one thread's throughput).
    ``max_entries`` bounds memory: beyond it, buckets that have refilled
    completely are dropped first, then the oldest. ``ttl_seconds`` is not
    needed: a state past its ``tat_us`` is a full bucket, which ``prune`` drops.
    """

    def __init__(self, max_entries: int = 100_000) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._states: dict[str, RateLimitState] = {}
        self._evicting = threading.Lock()  # one evictor at a time; never held by get or a write
        self._max_entries = max_entries

    def get(self, key: str) -> RateLimitState | None:
        return self._states.get(key)

    def compare_and_set(
        self, key: str, expected: RateLimitState | None, new: RateLimitState, ttl_seconds: int = 0
    ) -> bool:
        if not compare_and_set_item(self._states, key, expected, new):
            return False
        self._bound()
        return True

    def set(self, key: str, state: RateLimitState | None) -> None:
        if state is None:
            self._states.pop(key, None)
        else:
            self._states[key] = state
            self._bound()

    def delete(self, key: str) -> None:
        self._states.pop(key, None)

    def clear(self) -> None:
        self._states.clear()

    def transact(
        self, key: str, step: Callable[[RateLimitState | None], tuple[T, RateLimitState | None]]
    ) -> T:
        """Runs ``step`` on the state under ``key`` and stores what it returns,
        atomically: if another write came first, ``step`` runs again on the new state."""
        while True:
            state = self._states.get(key)
            result, new = step(state)
            if compare_and_set_item(self._states, key, state, new):
                if new is not None:
                    self._bound()
                return result

    def prune(self, now_us: int) -> int:
        """Drops buckets that are full again at ``now_us``; returns how many."""
        stale = [(k, s) for k, s in list(self._states.items()) if s.tat_us <= now_us]
        # A bucket written since the snapshot is not full any more: it stays.
        return sum(compare_and_set_item(self._states, k, s, None) for k, s in stale)

    def __len__(self) -> int:
        return len(self._states)

    def __contains__(self, key: object) -> bool:
        return key in self._states

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._states))

    def _bound(self) -> None:
        """Back under ``max_entries``: full buckets first, then the oldest."""
        states = self._states
        if len(states) <= self._max_entries or not self._evicting.acquire(blocking=False):
            return  # within bounds, or another thread is evicting
        try:
            self.prune(min((s.tat_us for s in list(states.values())), default=0) + 1)
            while len(states) > self._max_entries:
                try:
                    states.pop(next(iter(states)), None)  # the oldest key
                except (RuntimeError, StopIteration):  # another thread changed the dict meanwhile
                    continue
        finally:
            self._evicting.release()

    def __repr__(self) -> str:
        return f"MemoryRateLimitStore(entries={len(self)})"
