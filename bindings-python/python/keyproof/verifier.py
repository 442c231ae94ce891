"""Framework-neutral request verification: engine + record lookup + rate-limit store.

``lookup`` receives one lookup hash at a time (preferred algorithm first) and
returns the stored record (``KeyRecord``, dict or JSON text) or ``None``. It may
be a plain function or a coroutine function; ``averify`` awaits it, ``verify``
refuses awaitables.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Iterable, Mapping
from datetime import datetime
from typing import Any, Callable, Union

from keyproof._keyproof import Decision, Engine, KeyRecord, Prepared, RateLimitState
from keyproof.stores import MemoryRateLimitStore, RateLimitStore

#: What a lookup may return.
RecordLike = Union[KeyRecord, Mapping[str, Any], str, None]
#: A sync or async lookup by storage hash.
Lookup = Callable[[str], Union[RecordLike, Awaitable[RecordLike]]]
#: Request headers: a mapping or (name, value) pairs, str or bytes.
Headers = Union[Mapping[str, str], Iterable[tuple[Union[str, bytes], Union[str, bytes]]]]


def _to_record(found: RecordLike) -> KeyRecord | None:
    if found is None or isinstance(found, KeyRecord):
        return found
    if isinstance(found, str):
        return KeyRecord.from_json(found)
    return KeyRecord.from_dict(found)


class Verifier:
    """Verifies requests with one shared ``Engine``. Thread- and asyncio-safe."""

    def __init__(
        self,
        engine: Engine,
        lookup: Lookup,
        *,
        rate_limits: RateLimitStore | None = None,
    ) -> None:
        self.engine = engine
        self.lookup = lookup
        self.rate_limits: RateLimitStore = rate_limits if rate_limits is not None else MemoryRateLimitStore()

    def verify(
        self,
        method: str,
        path: str,
        headers: Headers,
        client_ip: str | None = None,
        *,
        now: datetime | None = None,
    ) -> Decision:
        """Verifies a request with a synchronous ``lookup``."""
        prepared = self.engine.prepare(method, path, headers, client_ip)
        record: KeyRecord | None = None
        for h in prepared.lookup_hashes:
            found = self.lookup(h)
            if inspect.isawaitable(found):
                if inspect.iscoroutine(found):
                    found.close()
                raise TypeError("the lookup is asynchronous: use averify()")
            record = _to_record(found)
            if record is not None:
                break
        return self.finish(prepared, record, now=now)

    async def averify(
        self,
        method: str,
        path: str,
        headers: Headers,
        client_ip: str | None = None,
        *,
        now: datetime | None = None,
    ) -> Decision:
        """Verifies a request; ``lookup`` may be sync or async."""
        prepared = self.engine.prepare(method, path, headers, client_ip)
        record: KeyRecord | None = None
        for h in prepared.lookup_hashes:
            found = self.lookup(h)
            if inspect.isawaitable(found):
                found = await found
            record = _to_record(found)
            if record is not None:
                break
        return self.finish(prepared, record, now=now)

    def finish(
        self, prepared: Prepared, record: KeyRecord | None, *, now: datetime | None = None
    ) -> Decision:
        """Decides a prepared request, spending rate-limit quota atomically."""
        engine = self.engine
        key = engine.rate_limit_key(prepared, record) if record is not None else None
        if key is None:
            return engine.decide(prepared, record, now)

        def step(state: RateLimitState | None) -> tuple[Decision, RateLimitState | None]:
            decision = engine.decide(prepared, record, now, state)
            limit = decision.rate_limit
            return decision, (limit.state if limit is not None else state)

        return self.rate_limits.transact(key, step)
