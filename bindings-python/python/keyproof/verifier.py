"""Framework-neutral request verification: a thin loop over core's I/O-free step.

The host's side of the step, three callables, each a plain function or a
coroutine function (``averify`` awaits what they return, ``verify`` refuses
awaitables):

- ``lookup(hash)``: the record stored under a storage hash (``KeyRecord``, dict
  or JSON text) or ``None``; asked once per lookup hash, preferred algorithm first.
- ``save(record)`` (optional): stores a record whose hash core upgraded to the
  preferred algorithm; this finishes a hash migration.
- ``touch(key_id, at)`` (optional): writes ``at`` as the key's ``last_used_at``
  when core asks for it (``Outcome.touch_last_used``: allowed requests whose
  stored last-used time is absent or older than the policy's
  ``last_used_interval_seconds``). Write it only if newer than the stored value.
- ``rate_limits``: a store with ``get(key)`` and ``compare_and_set(key, expected,
  new, ttl_seconds)`` (``keyproof.stores``); default: a ``MemoryRateLimitStore``.

``verify`` and ``averify`` share one implementation, ``Verifier._steps``: a
generator that yields what each I/O call returned and receives its answer, so
the two differ only in whether they await. While answers are not awaitables,
core's lookup and rate-state steps are answered in Rust (``Verification.drive``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Generator, Iterable, Mapping
from datetime import datetime
from typing import Any, Callable, Union

from keyproof._keyproof import Decision, Engine, KeyRecord, Verification
from keyproof.stores import MemoryRateLimitStore, RateLimitStore, TransactStore, cas_view

#: What a lookup may return.
RecordLike = Union[KeyRecord, Mapping[str, Any], str, None]
#: A sync or async lookup by storage hash.
Lookup = Callable[[str], Union[RecordLike, Awaitable[RecordLike]]]
#: A sync or async callback that stores a record whose hash was upgraded.
Save = Callable[[KeyRecord], Union[Awaitable[None], None]]
#: A sync or async callback that records a key's last use: ``touch(key_id, at)``.
Touch = Callable[[str, datetime], Union[Awaitable[None], None]]
#: Request headers: a mapping or (name, value) pairs, str or bytes.
Headers = Union[Mapping[str, str], Iterable[tuple[Union[str, bytes], Union[str, bytes]]]]

#: Compare-and-set attempts before a verification gives up (each lost race
#: means another request's write won, so the store keeps making progress).
MAX_CAS_TRIES = 32


def _awaitable(value: object) -> bool:
    return hasattr(type(value), "__await__")


class Verifier:
    """Verifies requests with one shared ``Engine``. Thread- and asyncio-safe."""

    def __init__(
        self,
        engine: Engine,
        lookup: Lookup,
        save: Save | None = None,
        *,
        rate_limits: RateLimitStore | TransactStore | None = None,
        touch: Touch | None = None,
    ) -> None:
        self.engine = engine
        self.lookup = lookup
        self.save = save
        self.touch = touch
        self.rate_limits = rate_limits if rate_limits is not None else MemoryRateLimitStore()

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
    ) -> Decision:
        """Verifies a request; ``lookup``, ``save``, ``touch`` and the store must be synchronous.

        ``path`` is the raw request target as sent (percent-encoded; a query is ignored).
        """
        steps = self._steps(self.engine.begin(method, path, headers, client_ip, now))
        answer: Any = None
        try:
            while True:
                answer = steps.send(answer)
                if _awaitable(answer):
                    close = getattr(answer, "close", None)
                    if callable(close):
                        close()  # a coroutine never awaited: no RuntimeWarning
                    steps.close()
                    raise TypeError(
                        "keyproof: the lookup, save or rate-limit store is asynchronous: use averify()"
                    )
        except StopIteration as done:
            decision: Decision = done.value
            return decision

    async def averify(
        self,
        method: str,
        path: str,
        headers: Headers,
        client_ip: str | None = None,
        *,
        now: datetime | None = None,
    ) -> Decision:
        """Verifies a request; ``lookup``, ``save``, ``touch`` and the store may be sync or async."""
        steps = self._steps(self.engine.begin(method, path, headers, client_ip, now))
        answer: Any = None
        failed: Exception | None = None
        try:
            while True:
                answer = steps.send(answer) if failed is None else steps.throw(failed)
                failed = None
                if _awaitable(answer):
                    try:
                        answer = await answer
                    except Exception as e:  # the step decides (a store failure may have an answer)
                        answer, failed = None, e
        except StopIteration as done:
            decision: Decision = done.value
            return decision

    def _steps(self, v: Verification) -> Generator[Any, Any, Decision]:
        """The host's side of core's step: yields each I/O call's result, receives its answer."""
        store = self._store
        failure: Exception | None = None
        try:
            while (pending := v.drive(self.lookup, store.get)) is not None:
                answer = yield pending
                if v.next_step()[0] == "lookup":
                    v.record(answer)
                else:
                    v.rate_state(answer)
            for _ in range(MAX_CAS_TRIES):
                write = v.rate_write
                if write is None or (
                    yield store.compare_and_set(write.key, write.expected, write.new, write.ttl_seconds)
                ):
                    break
                v.rate_state(
                    (yield store.get(write.key))
                )  # lost a race: core recomputes from the fresh state
            else:
                raise RuntimeError("keyproof: the rate-limit store kept refusing the compare-and-set")
        except Exception as error:
            failure = self._rate_store_failed(v, error)
            if failure is None:
                raise
        outcome = v.finish()
        if self.save is not None and (record := outcome.upgraded_record) is not None:
            yield self.save(record)
        principal = outcome.decision.principal
        if self.touch is not None and (at := outcome.touch_last_used) is not None and principal is not None:
            yield self.touch(principal.key_id, at)
        return outcome.decision if failure is None else self._without_store(outcome.decision, failure)

    def _rate_store_failed(self, v: Verification, error: Exception) -> Exception | None:
        """Called when the rate-limit store raised ``error`` while ``v`` waited on it:
        answer ``v`` (``v.rate_state_unavailable(...)``) and return the failure to
        handle it, or return ``None`` to let ``error`` escape (the default)."""
        return None

    def _without_store(self, decision: Decision, failure: Exception) -> Decision:
        """The decision core made after ``_rate_store_failed`` answered the step."""
        return decision
