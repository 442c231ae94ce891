from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from keyproof import MemoryRateLimitStore, RateLimitState, Verifier

from .conftest import NOW
from .support import READER, RECORDS, alookup, bearer, engine, lookup


def test_sync_verifier() -> None:
    v = Verifier(engine(), lookup)
    ok = v.verify("GET", "/v1/items", bearer(READER.key), now=NOW)
    assert ok.allowed and ok.principal is not None and ok.principal.name == "Reader key"
    assert v.verify("GET", "/v1/items", [], now=NOW).code == "missing_credentials"
    with pytest.raises(TypeError, match="averify"):
        Verifier(engine(), alookup).verify("GET", "/v1/items", bearer(READER.key), now=NOW)


def test_async_verifier_with_async_and_sync_lookups() -> None:
    async def main() -> list[str]:
        a = Verifier(engine(), alookup)
        s = Verifier(engine(), lookup)
        d1 = await a.averify("GET", "/v1/items", bearer(READER.key), now=NOW)
        d2 = await s.averify("GET", "/v1/items", bearer(READER.key), now=NOW)
        return [d1.code, d2.code]

    assert asyncio.run(main()) == ["ok", "ok"]


def test_lookup_is_called_per_hash_until_found() -> None:
    seen: list[str] = []

    def tracking(h: str) -> object:
        seen.append(h)
        return RECORDS.get(h)

    v = Verifier(engine(), tracking)  # type: ignore[arg-type]
    assert v.verify("GET", "/v1/items", bearer(READER.key), now=NOW).allowed
    assert seen == [READER.record.hash]
    assert v.verify("GET", "/v1/items", bearer("kp_live_bad"), now=NOW).code == "wrong_length"
    assert seen == [READER.record.hash]  # no lookup for malformed keys


def test_rate_limits_are_atomic_across_threads() -> None:
    store = MemoryRateLimitStore()
    v = Verifier(engine(), lookup, rate_limits=store)
    barrier = threading.Barrier(16)

    def hit(_: int) -> bool:
        barrier.wait()
        return v.verify("GET", "/v1/limited", bearer(READER.key), now=NOW).allowed

    with ThreadPoolExecutor(16) as pool:
        allowed = list(pool.map(hit, range(16)))
    assert allowed.count(True) == 3  # burst of the "tight" class
    state = store.get(f"{READER.record.id}:tight")
    assert isinstance(state, RateLimitState)


def test_rate_limits_are_atomic_across_asyncio_tasks() -> None:
    async def main() -> list[bool]:
        v = Verifier(engine(), alookup)

        async def hit() -> bool:
            await asyncio.sleep(0)
            return (await v.averify("GET", "/v1/limited", bearer(READER.key), now=NOW)).allowed

        return list(await asyncio.gather(*(hit() for _ in range(12))))

    assert asyncio.run(main()).count(True) == 3


def test_memory_store_basics_and_bounds() -> None:
    store = MemoryRateLimitStore(max_entries=2)
    store.set("a", RateLimitState(10))
    store.set("b", RateLimitState(20))
    assert len(store) == 2 and "a" in store and sorted(store) == ["a", "b"]
    store.set("c", RateLimitState(30))  # evicts the bucket that refills first
    assert len(store) == 2 and "a" not in store and store.get("c") == RateLimitState(30)
    assert store.prune(25) == 1 and list(store) == ["c"]
    assert store.transact("c", lambda s: (s, None)) == RateLimitState(30)
    assert "c" not in store
    store.set("d", RateLimitState(1))
    store.delete("d")
    store.clear()
    assert len(store) == 0 and repr(store) == "MemoryRateLimitStore(entries=0)"
    with pytest.raises(ValueError):
        MemoryRateLimitStore(0)
