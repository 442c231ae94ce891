"""Framework-neutral request verification: a thin loop over core's I/O-free step.

The host's side of the step, three callables, each a plain function or a
coroutine function (``averify`` awaits what they return, ``verify`` refuses
awaitables):

- ``lookup(hash)``: the record stored under a storage hash (``KeyRecord``, dict
  or JSON text) or ``None``; asked once per lookup hash, preferred algorithm first,
  unless the engine's ``record_cache`` holds the answer. Under ``averify``,
  concurrent requests for one hash share its pending lookup.
- ``save(record)`` (optional): stores a record whose hash core upgraded to the
  preferred algorithm; this finishes a hash migration.
- ``touch(key_id, at)`` (optional): writes ``at`` as the key's ``last_used_at``
  when core asks for it (``Outcome.touch_last_used``: allowed requests whose
  stored last-used time is absent or older than the policy's
  ``last_used_interval_seconds``). Write it only if newer than the stored value.
- ``count(key_id)`` (optional): adds one to the key's request count, once per
  allowed request, last (seed 001's per-key request counts). A store write per
  request, so only hosts that pass it are asked.
- ``rate_limits``: a store with ``get(key)`` and ``compare_and_set(key, expected,
  new, ttl_seconds)`` (``keyproof.stores``); default: a ``MemoryRateLimitStore``.

``verify`` and ``averify`` share one implementation, ``Verification.complete``:
the whole loop (lookups, state loads, the compare-and-set with re-reads on a
lost race, ``save``, ``touch`` and ``count``) runs natively in one call and hands back the
decision, or the first awaitable a callable returns; ``averify`` awaits it,
answers with ``Verification.answer`` and calls again.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Iterable, Mapping
from datetime import datetime
from typing import Any, Callable, Union

from keyproof._keyproof import (
    MAX_WRITE_TRIES,
    Charge,
    Decision,
    Engine,
    KeyRecord,
    RateLimitDecision,
    Verification,
)
from keyproof.stores import MemoryRateLimitStore, RateLimitStore, TransactStore, cas_view

#: What a lookup may return.
RecordLike = Union[KeyRecord, Mapping[str, Any], str, None]
#: A sync or async lookup by storage hash.
Lookup = Callable[[str], Union[RecordLike, Awaitable[RecordLike]]]
#: A sync or async callback that stores a record whose hash was upgraded.
Save = Callable[[KeyRecord], Union[Awaitable[None], None]]
#: A sync or async callback that records a key's last use: ``touch(key_id, at)``.
Touch = Callable[[str, datetime], Union[Awaitable[None], None]]
#: A sync or async callback that adds one to a key's request count: ``count(key_id)``.
Count = Callable[[str], Union[Awaitable[None], None]]
#: A sync or async observer of every decision: ``on_decision(decision, method, path, client_ip)``.
OnDecision = Callable[[Decision, str, str, Union[str, None]], Union[Awaitable[None], None]]
#: Request headers: a mapping or (name, value) pairs, str or bytes.
Headers = Union[Mapping[str, str], Iterable[tuple[Union[str, bytes], Union[str, bytes]]]]

#: Compare-and-set attempts before a verification gives up (each lost race
#: means another request's write won, so the store keeps making progress): core's.
MAX_CAS_TRIES = MAX_WRITE_TRIES

#: Attributes ``Verification.complete`` is handed (as ``Verifier._calls``, rebuilt when one changes).
_HOST_CALL_PARTS = frozenset({"lookup", "save", "touch", "count", "_store"})


def _refused(awaitable: object, what: str) -> TypeError:
    """The error for an awaitable ``verify()`` cannot wait for, closed first (a
    coroutine never awaited would warn)."""
    close = getattr(awaitable, "close", None)
    if callable(close):
        close()
    return TypeError(f"keyproof: {what} is asynchronous: use averify()")


class Verifier:
    """Verifies requests with one shared ``Engine``. Thread- and asyncio-safe."""

    #: The host's callables as ``Verification.complete`` takes them, built once per
    #: change of ``lookup``, ``save``, ``touch``, ``count`` or the store: not per request.
    #: ``_acalls``: the same for ``averify``, its lookups shared while pending.
    _calls: tuple[Any, ...] | None = None
    _acalls: tuple[Any, ...] = ()

    def __init__(
        self,
        engine: Engine,
        lookup: Lookup,
        save: Save | None = None,
        *,
        rate_limits: RateLimitStore | TransactStore | None = None,
        touch: Touch | None = None,
        count: Count | None = None,
        on_decision: OnDecision | None = None,
    ) -> None:
        self.engine = engine
        self.lookup = lookup
        self.save = save
        self.touch = touch
        self.count = count
        #: Called with every decision once it is final (after the store's writes):
        #: an audit log or per-key counts of refused requests (``decision.key_id``
        #: names the key once identified). Its exceptions propagate.
        self.on_decision = on_decision
        self.rate_limits = rate_limits if rate_limits is not None else MemoryRateLimitStore()
        #: Lookups awaited now, by hash: concurrent ``averify`` calls for one key share one.
        self._inflight: dict[str, asyncio.Task[Any]] = {}

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if name in _HOST_CALL_PARTS:
            super().__setattr__("_calls", None)

    def _host_calls(self) -> tuple[Any, ...]:
        store = self._store
        calls = self._calls = (
            self.lookup,
            store.get,
            store.compare_and_set,
            self.save,
            self.touch,
            self.count,
        )
        self._acalls = (self._shared_lookup, *calls[1:])
        return calls

    def _shared_lookup(self, storage_hash: str) -> Any:
        """``lookup(hash)``; while its awaitable is pending, later requests (on the same
        event loop) for the same hash await it instead of a lookup of their own, so a
        hot key whose cached record expired costs one query. Each waiter is shielded:
        a cancelled request does not cancel the others' lookup."""
        pending = self._inflight.get(storage_hash)
        if pending is not None and pending.get_loop() is asyncio.get_running_loop():
            return asyncio.shield(pending)
        found = self.lookup(storage_hash)
        if not inspect.isawaitable(found):
            return found
        task = asyncio.ensure_future(found)
        self._inflight[storage_hash] = task
        task.add_done_callback(lambda done: self._settled(storage_hash, done))
        return asyncio.shield(task)

    def _settled(self, storage_hash: str, done: asyncio.Task[Any]) -> None:
        """A shared lookup finished: the next request for its hash looks up again."""
        if self._inflight.get(storage_hash) is done:
            del self._inflight[storage_hash]

    @property
    def rate_limits(self) -> RateLimitStore | TransactStore:
        """The rate-limit store (a legacy ``transact`` store is used through a compare-and-set view)."""
        return self._rate_limits

    @rate_limits.setter
    def rate_limits(self, store: RateLimitStore | TransactStore) -> None:
        self._rate_limits = store
        self._store = cas_view(store)

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
        """Verifies a request; ``lookup``, ``save``, ``touch`` and the store must be synchronous.

        ``path`` is the raw request target as sent (percent-encoded; a query is ignored).
        ``usage_cost``: what the request spends of a usage-limited key's allowance
        (default: its route's cost; 0 checks that a unit is left, spending nothing).
        """
        v = self.engine.begin(method, path, headers, client_ip, now, usage_cost)
        calls = self._calls or self._host_calls()
        try:  # _complete() inlined: this is the hot path
            result, failure = v.complete(*calls), None
        except Exception as error:
            failure = self._failed(v, error)
            result = v.complete(*calls)
        if not isinstance(result, Decision):
            raise _refused(result, "the lookup, save or rate-limit store")
        decision = result if failure is None else self._without_store(result, failure)
        if self.on_decision is not None:
            observed = self.on_decision(decision, method, path, client_ip)
            if inspect.isawaitable(observed):
                raise _refused(observed, "on_decision")
        return decision

    async def averify(
        self,
        method: str,
        path: str,
        headers: Headers,
        client_ip: str | None = None,
        *,
        now: datetime | None = None,
        usage_cost: int | None = None,
    ) -> Decision:
        """Verifies a request; ``lookup``, ``save``, ``touch`` and the store may be sync or async."""
        v = self.engine.begin(method, path, headers, client_ip, now, usage_cost)
        result, failure = self._complete(v)
        while not isinstance(result, Decision):
            try:
                v.answer(await result)
            except Exception as error:  # the step decides (a store failure may have an answer)
                failure = self._failed(v, error)
            result, again = self._complete(v)
            failure = failure or again
        decision = result if failure is None else self._without_store(result, failure)
        if self.on_decision is not None:
            observed = self.on_decision(decision, method, path, client_ip)
            if inspect.isawaitable(observed):
                await observed
        return decision

    def usage(self, record: KeyRecord, *, now: datetime | None = None) -> RateLimitDecision | None:
        """What ``record`` has left of its usage limit (``.remaining``, ``.limit``,
        ``.reset_seconds``), read from this verifier's store; None without a limit."""
        counter = record.usage(None, now)
        if counter is None:
            return None
        state = self._store.get(counter.key)
        if inspect.isawaitable(state):
            raise TypeError("keyproof: the rate-limit store is asynchronous: use ausage()")
        return record.usage(state, now)

    async def ausage(self, record: KeyRecord, *, now: datetime | None = None) -> RateLimitDecision | None:
        """``usage`` with a store that may be asynchronous."""
        counter = record.usage(None, now)
        if counter is None:
            return None
        state: Any = self._store.get(counter.key)
        return record.usage(await state if inspect.isawaitable(state) else state, now)

    def charge(self, record: KeyRecord, units: int, *, now: datetime | None = None) -> Charge | None:
        """Charges ``units`` to ``record``'s usage limit after the fact (a request's
        cost known once answered: tokens generated, rows exported) in this verifier's
        store, by compare-and-set: what was left is spent, the rest is ``.unpaid``;
        ``.usage`` is what is left. None without a usage limit."""
        return self._settle(record, lambda state: record.charge(units, state, now), now, "acharge")

    def refund(self, record: KeyRecord, units: int, *, now: datetime | None = None) -> Charge | None:
        """Gives back ``units`` of what ``record`` spent this period (an estimate
        settled lower, a failed job), at most that (the rest is ``.unpaid``)."""
        return self._settle(record, lambda state: record.refund(units, state, now), now, "arefund")

    async def acharge(self, record: KeyRecord, units: int, *, now: datetime | None = None) -> Charge | None:
        """``charge`` with a store that may be asynchronous."""
        return await self._asettle(record, lambda state: record.charge(units, state, now), now)

    async def arefund(self, record: KeyRecord, units: int, *, now: datetime | None = None) -> Charge | None:
        """``refund`` with a store that may be asynchronous."""
        return await self._asettle(record, lambda state: record.refund(units, state, now), now)

    def _settle(
        self, record: KeyRecord, settle: Callable[[Any], Charge | None], now: datetime | None, use: str
    ) -> Charge | None:
        """Reads the usage counter, settles, compare-and-sets; again after a lost race."""
        for _ in range(MAX_CAS_TRIES):
            counter = record.usage(None, now)
            if counter is None:
                return None
            state = self._store.get(counter.key)
            if inspect.isawaitable(state):
                close = getattr(state, "close", None)
                if callable(close):
                    close()
                raise TypeError(f"keyproof: the rate-limit store is asynchronous: use {use}()")
            charged = settle(state)
            w = charged.write if charged else None
            if w is None or self._store.compare_and_set(w.key, w.expected, w.new, w.ttl_seconds):
                return charged
        raise RuntimeError("keyproof: the rate-limit store kept refusing the compare-and-set")

    async def _asettle(
        self, record: KeyRecord, settle: Callable[[Any], Charge | None], now: datetime | None
    ) -> Charge | None:
        """``_settle``, awaiting the store's answers when they are awaitable."""
        for _ in range(MAX_CAS_TRIES):
            counter = record.usage(None, now)
            if counter is None:
                return None
            state: Any = self._store.get(counter.key)
            charged = settle(await state if inspect.isawaitable(state) else state)
            w = charged.write if charged else None
            if w is None:
                return charged
            won: Any = self._store.compare_and_set(w.key, w.expected, w.new, w.ttl_seconds)
            if await won if inspect.isawaitable(won) else won:
                return charged
        raise RuntimeError("keyproof: the rate-limit store kept refusing the compare-and-set")

    def _complete(self, v: Verification) -> tuple[Any, Exception | None]:
        """Runs the host loop natively (``Verification.complete``) until the decision
        or an awaitable, and the store failure answered on the way, if any."""
        if self._calls is None:
            self._host_calls()
        calls = self._acalls
        try:
            return v.complete(*calls), None
        except Exception as error:
            failure = self._failed(v, error)
        return v.complete(*calls), failure  # goes on past the step core was told failed

    def _failed(self, v: Verification, error: Exception) -> Exception:
        """``error``'s failure, answered through ``_rate_store_failed``, or ``error`` raised."""
        failure = None if v.finished else self._rate_store_failed(v, error)
        if failure is None:
            raise error
        return failure

    def _rate_store_failed(self, v: Verification, error: Exception) -> Exception | None:
        """Called when the rate-limit store raised ``error`` while ``v`` waited on it:
        answer ``v`` (``v.rate_state_unavailable(...)``) and return the failure to
        handle it, or return ``None`` to let ``error`` escape (the default)."""
        return None

    def _without_store(self, decision: Decision, failure: Exception) -> Decision:
        """The decision core made after ``_rate_store_failed`` answered the step."""
        return decision
