from __future__ import annotations

import asyncio
import gc
import sys
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import keyproof
import pytest
from keyproof import Engine, KeyRecord, MemoryRateLimitStore, RateLimitState, Verifier

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


def test_callables_and_store_changed_after_construction_take_effect() -> None:
    v = Verifier(engine(), lambda h: None)
    assert v.verify("GET", "/v1/items", bearer(READER.key), now=NOW).code == "unknown_key"
    v.lookup = lookup  # the cached host calls are rebuilt
    assert v.verify("GET", "/v1/items", bearer(READER.key), now=NOW).allowed
    reads: list[str] = []

    class Counting(MemoryRateLimitStore):
        def get(self, key: str) -> RateLimitState | None:
            reads.append(key)
            return super().get(key)

    assert v.verify("GET", "/v1/limited", bearer(READER.key), now=NOW).allowed and reads == []
    v.rate_limits = Counting()
    assert v.verify("GET", "/v1/limited", bearer(READER.key), now=NOW).allowed and len(reads) == 1
    touched: list[str] = []
    v.touch = lambda key_id, at: touched.append(key_id)
    v.verify("GET", "/v1/items", bearer(READER.key), now=NOW)
    assert touched == [READER.record.id]


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


def test_the_readme_step_loop_writes_the_bucket_then_the_usage_counter() -> None:
    e = engine()
    metered = keyproof.mint("keyproof_live", name="Metered", scopes=["items:read"], usage_limit={"limit": 2})
    db = {metered.record.hash: metered.record}
    states: dict[str, RateLimitState] = {}
    written: list[str] = []

    def cas(key: str, expected: RateLimitState | None, new: RateLimitState, ttl: int) -> bool:
        if states.get(key) != expected:
            return False
        states[key] = new
        written.append(key.split(":", 1)[1])
        return True

    def once() -> keyproof.Outcome:
        # The loop of bindings-python/README.md ("The step itself").
        v = e.begin("GET", "/v1/items", bearer(metered.key), None, NOW)
        while True:
            kind, arg = v.next_step()
            if kind == "lookup":
                assert arg is not None
                v.record(db.get(arg))
            elif kind == "rate_state":
                assert arg is not None
                v.rate_state(states.get(arg))
            elif (w := v.rate_write) is None:
                break
            elif cas(w.key, w.expected, w.new, w.ttl_seconds):
                v.rate_written()
            else:
                v.rate_state(states.get(w.key))
        return v.finish()

    first = once()
    assert first.decision.allowed and first.usage_write is not None and first.rate_write is not None
    assert written == ["default", "usage:total"]
    assert first.decision.usage is not None and first.decision.usage.remaining == 1
    assert [once().decision.code for _ in range(2)] == ["ok", "usage_exceeded"]
    assert written == ["default", "usage:total"] * 2  # the denial wrote nothing


def test_verifier_usage_reads_what_a_key_has_left_sync_and_async() -> None:
    e = engine()
    metered = keyproof.mint(
        "keyproof_live", name="Metered", scopes=["items:read"], usage_limit={"limit": 3, "period": "month"}
    )
    store = MemoryRateLimitStore()
    v = Verifier(e, {metered.record.hash: metered.record}.get, rate_limits=store)
    fresh = v.usage(metered.record, now=NOW)
    assert fresh is not None and (fresh.remaining, fresh.limit, fresh.class_) == (3, 3, "month")
    assert fresh.reset_seconds == 13 * 86_400 + 48_600  # until 2026-04-01T00:00:00Z
    assert v.verify("GET", "/v1/items", bearer(metered.key), now=NOW).allowed
    left = v.usage(metered.record, now=NOW)
    assert left is not None and left.remaining == 2 and left.key == fresh.key
    assert metered.record.usage(store.get(left.key), NOW) == left

    class AsyncStore:
        async def get(self, key: str) -> RateLimitState | None:
            return store.get(key)

        async def compare_and_set(self, *write: Any) -> bool:
            return store.compare_and_set(*write)

    av = Verifier(e, {metered.record.hash: metered.record}.get, rate_limits=AsyncStore())
    again = asyncio.run(av.ausage(metered.record, now=NOW))
    assert again is not None and again.remaining == 2
    assert v.usage(READER.record, now=NOW) is None and READER.record.usage() is None


def test_a_host_prices_requests_with_usage_cost_sync_and_async() -> None:
    e = engine()
    metered = keyproof.mint("keyproof_live", name="Metered", scopes=["items:read"], usage_limit={"limit": 10})
    store = MemoryRateLimitStore()
    v = Verifier(e, {metered.record.hash: metered.record}.get, rate_limits=store)
    key = bearer(metered.key)
    check = v.verify("GET", "/v1/items", key, now=NOW, usage_cost=0)
    assert check.allowed and check.usage is not None and check.usage.remaining == 10
    assert not [k for k in store if ":usage:" in k]  # a check spends and writes nothing
    assert v.verify("GET", "/v1/items", key, now=NOW, usage_cost=8).usage.remaining == 2  # type: ignore[union-attr]
    assert v.verify("GET", "/v1/items", key, now=NOW, usage_cost=3).code == "usage_exceeded"
    assert asyncio.run(v.averify("GET", "/v1/items", key, now=NOW, usage_cost=2)).usage.remaining == 0  # type: ignore[union-attr]
    assert v.verify("GET", "/v1/items", key, now=NOW, usage_cost=0).code == "usage_exceeded"
    for bad in (-1, 2**32, 1.5, True, "3"):
        with pytest.raises(keyproof.KeyproofError) as refused:
            v.verify("GET", "/v1/items", key, now=NOW, usage_cost=bad)  # type: ignore[arg-type]
        assert refused.value.code == "invalid_quota"


def test_charging_after_the_fact_spends_what_is_left_across_threads_and_async_races() -> None:
    e = engine()
    metered = keyproof.mint(
        "keyproof_live", name="Metered", scopes=["items:read"], usage_limit={"limit": 10, "period": "month"}
    )
    store = MemoryRateLimitStore()
    v = Verifier(e, {metered.record.hash: metered.record}.get, rate_limits=store)
    key = bearer(metered.key)
    assert v.verify("GET", "/v1/items", key, now=NOW, usage_cost=0).allowed  # a check before the work
    first = v.charge(metered.record, 7, now=NOW)  # the work cost 7 units
    assert first is not None and (first.usage.remaining, first.unpaid) == (3, 0)
    second = v.charge(metered.record, 5, now=NOW)
    assert second is not None and (second.usage.remaining, second.unpaid) == (0, 2)
    assert v.verify("GET", "/v1/items", key, now=NOW, usage_cost=0).code == "usage_exceeded"
    back = v.refund(metered.record, 4, now=NOW)  # the work cost less than charged: settle down
    assert back is not None and (back.usage.remaining, back.unpaid) == (4, 0)
    assert v.verify("GET", "/v1/items", key, now=NOW, usage_cost=0).allowed
    assert asyncio.run(v.arefund(metered.record, 9, now=NOW)).unpaid == 3  # type: ignore[union-attr]
    assert v.charge(READER.record, 3, now=NOW) is None  # no usage limit
    for bad in (-1, 2**32, 2.0, False):
        with pytest.raises(keyproof.KeyproofError) as refused:
            v.charge(metered.record, bad, now=NOW)  # type: ignore[arg-type]
        assert refused.value.code == "invalid_quota"

    # 8 threads charge 2 units each against 10: exactly 10 are paid, whatever the interleaving.
    credits = keyproof.mint("keyproof_live", name="Credits", usage_limit={"limit": 10})
    with ThreadPoolExecutor(8) as pool:
        charges = list(pool.map(lambda _: v.charge(credits.record, 2, now=NOW), range(8)))
    assert sum(c.unpaid for c in charges if c) == 6
    assert v.usage(credits.record, now=NOW).remaining == 0  # type: ignore[union-attr]

    # An async store whose first compare-and-set loses to a rival's unit: charged again from the fresh state.
    fresh = keyproof.mint("keyproof_live", name="Raced", usage_limit={"limit": 10})
    inner, lost = MemoryRateLimitStore(), list[str]()

    class RacedStore:
        async def get(self, k: str) -> RateLimitState | None:
            return inner.get(k)

        async def compare_and_set(self, k: str, expected: Any, new: Any, ttl: int) -> bool:
            if not lost:
                lost.append(k)
                rival = fresh.record.charge(1, inner.get(k), NOW)
                assert rival is not None and rival.write is not None
                inner.compare_and_set(k, None, rival.write.new, ttl)
                return False
            return inner.compare_and_set(k, expected, new, ttl)

    av = Verifier(e, {fresh.record.hash: fresh.record}.get, rate_limits=RacedStore())
    raced = asyncio.run(av.acharge(fresh.record, 4, now=NOW))
    assert raced is not None and raced.usage.remaining == 5 and lost
    with pytest.raises(TypeError, match="acharge"):
        av.charge(fresh.record, 1, now=NOW)


def test_memory_store_pruning_keeps_usage_counters_until_their_period_ends() -> None:
    # A usage counter's state is its period's end plus the units spent: pruning
    # full buckets must not hand a key its allowance back mid-period.
    e = engine()
    metered = keyproof.mint(
        "keyproof_live", name="Metered", scopes=["items:read"], usage_limit={"limit": 1, "period": "day"}
    )
    store = MemoryRateLimitStore()
    v = Verifier(e, {metered.record.hash: metered.record}.get, rate_limits=store)
    codes = [v.verify("GET", "/v1/items", bearer(metered.key), now=NOW).code for _ in range(2)]
    assert codes == ["ok", "usage_exceeded"]
    counters = [k for k in store if ":usage:" in k]
    assert len(counters) == 1
    now_us = int(NOW.timestamp() * 1_000_000)
    store.prune(now_us + 3_600_000_000)  # an hour later: buckets refilled, the day goes on
    assert counters[0] in store
    assert v.verify("GET", "/v1/items", bearer(metered.key), now=NOW).code == "usage_exceeded"
    store.prune(now_us + 86_400_000_000)  # a day later the period is over: dropped
    assert counters[0] not in store


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


def test_compare_and_set_item_is_one_step_on_one_entry() -> None:
    from keyproof._keyproof import compare_and_set_item

    states: dict[str, RateLimitState] = {}
    one, two = RateLimitState(1), RateLimitState(2)
    assert compare_and_set_item(states, "k", None, one) and states == {"k": one}
    assert not compare_and_set_item(states, "k", None, two)  # no longer absent
    assert not compare_and_set_item(states, "k", two, one) and states == {"k": one}
    assert compare_and_set_item(states, "k", RateLimitState(1), two) and states["k"] == two  # by value
    assert compare_and_set_item(states, "k", two, None) and states == {}
    assert compare_and_set_item(states, "gone", None, None) and states == {}


def test_memory_store_writes_are_atomic_without_a_lock() -> None:
    store, bounded = MemoryRateLimitStore(), MemoryRateLimitStore(max_entries=50)
    threads, rounds = 8, 1500

    def bump(state: RateLimitState | None) -> tuple[None, RateLimitState]:
        return None, RateLimitState((state.tat_us if state else 0) + 1)

    def work(i: int) -> None:
        for n in range(rounds):
            store.transact("shared", bump)  # read, step, compare-and-set: no increment is lost
            bounded.set(f"own-{i}-{n % 40}", RateLimitState(n))  # evictions meanwhile keep the bound

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter can
    try:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(work, range(threads)))
    finally:
        sys.setswitchinterval(interval)
    assert store.get("shared") == RateLimitState(threads * rounds)
    assert 0 < len(bounded) <= 50


def test_verifier_drives_core_step_and_finishes_hash_migrations() -> None:
    """The lookup receives each lookup hash in turn; an upgraded record reaches ``save``."""
    import keyproof as kp

    policy = {"routes": [{"method": "GET", "path": "/x"}]}
    old_engine = kp.Engine({"formats": ["keyproof_live"], "policy": policy})
    minted = kp.mint("keyproof_live", {"name": "Migrating key"}, hasher=old_engine.hasher)
    pepper = b"p" * 32
    engine = kp.Engine(
        {
            "formats": ["keyproof_live"],
            "hashing": {"algorithm": "hmac-sha256"},
            "policy": policy,
        },
        pepper=pepper,
    )
    store = {minted.record.hash: minted.record}
    asked: list[str] = []
    saved: list[kp.KeyRecord] = []

    def lookup(h: str) -> kp.KeyRecord | None:
        asked.append(h)
        return store.get(h)

    verifier = kp.Verifier(engine, lookup, save=saved.append)
    decision = verifier.verify("GET", "/x", {"Authorization": f"Bearer {minted.key}"})
    assert decision.allowed and "should_rehash" in [w["code"] for w in decision.warnings]
    assert asked[0].startswith("hmac-sha256:") and asked[-1] == minted.record.hash
    assert len(saved) == 1 and saved[0].hash.startswith("hmac-sha256:") and saved[0].id == minted.record.id
    # The step itself, as a host drives it.
    v = engine.begin("GET", "/x", {"Authorization": f"Bearer {minted.key}"})
    kind, first = v.next_step()
    assert kind == "lookup" and first is not None and first.startswith("hmac-sha256:")
    v.record(None)
    assert v.next_step() == ("lookup", minted.record.hash)
    v.record(minted.record)
    assert v.next_step() == ("done", None)
    outcome = v.finish()
    assert outcome.decision.status == 200 and outcome.rate_write is None
    assert outcome.upgraded_record is not None and outcome.upgraded_record.hash == saved[0].hash


class FlakyStore(MemoryRateLimitStore):
    """A store where another writer wins the first ``conflicts`` compare-and-sets."""

    def __init__(self, conflicts: int) -> None:
        super().__init__()
        self.conflicts = conflicts
        self.cas_calls = 0

    def compare_and_set(
        self, key: str, expected: RateLimitState | None, new: RateLimitState, ttl_seconds: int = 0
    ) -> bool:
        self.cas_calls += 1
        if self.conflicts > 0:
            self.conflicts -= 1
            # A concurrent request spent one unit just before us.
            rival = engine().begin("GET", "/v1/limited", bearer(READER.key), now=NOW)
            rival.drive(lookup, self.get)
            write = rival.rate_write
            assert write is not None
            super().compare_and_set(write.key, write.expected, write.new, write.ttl_seconds)
            return False
        return super().compare_and_set(key, expected, new, ttl_seconds)


def test_lost_compare_and_set_is_recomputed_from_the_fresh_state() -> None:
    store = FlakyStore(conflicts=2)
    v = Verifier(engine(), lookup, rate_limits=store)
    d = v.verify("GET", "/v1/limited", bearer(READER.key), now=NOW)
    # Two rivals spent a unit each before our write landed: the burst of 3 has 0 left.
    assert d.allowed and d.rate_limit is not None and d.rate_limit.remaining == 0
    assert store.cas_calls == 3
    denied = v.verify("GET", "/v1/limited", bearer(READER.key), now=NOW)
    assert denied.code == "rate_limited" and store.cas_calls == 3  # a denial writes nothing


def test_a_store_that_always_refuses_is_an_error_not_a_free_pass() -> None:
    class Refusing(MemoryRateLimitStore):
        def compare_and_set(self, *args: object, **kwargs: object) -> bool:
            return False

    with pytest.raises(RuntimeError, match="compare-and-set"):
        Verifier(engine(), lookup, rate_limits=Refusing()).verify(
            "GET", "/v1/limited", bearer(READER.key), now=NOW
        )


def test_legacy_transact_stores_still_work() -> None:
    class TransactOnly:
        def __init__(self) -> None:
            self.inner = MemoryRateLimitStore()
            self.calls = 0

        def transact(self, key: str, step: Any) -> Any:
            self.calls += 1
            return self.inner.transact(key, step)

    store = TransactOnly()
    v = Verifier(engine(), lookup, rate_limits=store)
    codes = [v.verify("GET", "/v1/limited", bearer(READER.key), now=NOW).code for _ in range(4)]
    assert codes == ["ok", "ok", "ok", "rate_limited"] and store.calls > 0
    assert v.rate_limits is store
    with pytest.raises(TypeError, match="compare_and_set"):
        Verifier(engine(), lookup, rate_limits=object())  # type: ignore[arg-type]


class AsyncStore:
    """An asyncio store (as a Redis client would be): every method is a coroutine."""

    def __init__(self) -> None:
        self.inner = MemoryRateLimitStore()

    async def get(self, key: str) -> RateLimitState | None:
        await asyncio.sleep(0)
        return self.inner.get(key)

    async def compare_and_set(
        self, key: str, expected: RateLimitState | None, new: RateLimitState, ttl_seconds: int
    ) -> bool:
        await asyncio.sleep(0)
        return self.inner.compare_and_set(key, expected, new, ttl_seconds)


def test_async_stores_are_awaited_and_stay_atomic() -> None:
    async def main() -> list[bool]:
        v = Verifier(engine(), alookup, rate_limits=AsyncStore())

        async def hit() -> bool:
            return (await v.averify("GET", "/v1/limited", bearer(READER.key), now=NOW)).allowed

        return list(await asyncio.gather(*(hit() for _ in range(10))))

    assert asyncio.run(main()).count(True) == 3


def test_verify_refuses_async_stores_and_saves_without_leaking_coroutines() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "coroutine ... was never awaited" would fail the test
        with pytest.raises(TypeError, match="averify"):
            Verifier(engine(), lookup, rate_limits=AsyncStore()).verify(
                "GET", "/v1/limited", bearer(READER.key), now=NOW
            )
        with pytest.raises(TypeError, match="averify"):
            Verifier(engine(), alookup).verify("GET", "/v1/items", bearer(READER.key), now=NOW)
        gc.collect()


def test_async_save_finishes_the_migration_in_averify() -> None:
    policy = {"routes": [{"method": "GET", "path": "/x"}]}
    minted = keyproof.mint("keyproof_live", name="Migrating key", random_bytes=bytes(32), now=NOW)
    peppered = Engine(
        {"formats": ["keyproof_live"], "hashing": {"algorithm": "hmac-sha256"}, "policy": policy},
        pepper=b"p" * 32,
    )
    db = {minted.record.hash: minted.record}
    saved: list[KeyRecord] = []

    async def save(record: KeyRecord) -> None:
        await asyncio.sleep(0)
        db[record.hash] = record
        saved.append(record)

    v = Verifier(peppered, db.get, save)
    d = asyncio.run(v.averify("GET", "/x", bearer(minted.key), now=NOW))
    assert d.allowed and len(saved) == 1 and saved[0].hash.startswith("hmac-sha256:")
    # Once saved, the preferred hash is found first and nothing is saved again.
    assert asyncio.run(v.averify("GET", "/x", bearer(minted.key), now=NOW)).allowed and len(saved) == 1
    with pytest.raises(TypeError, match="averify"):
        Verifier(peppered, {minted.record.hash: minted.record}.get, save).verify(
            "GET", "/x", bearer(minted.key)
        )


def test_complete_hands_back_every_awaitable_and_resumes_where_it_stopped() -> None:
    class RivalledAsyncStore(AsyncStore):
        """Another writer wins the first compare-and-set; every call is counted."""

        def __init__(self) -> None:
            super().__init__()
            self.calls: list[str] = []

        async def get(self, key: str) -> RateLimitState | None:
            self.calls.append("get")
            return await super().get(key)

        async def compare_and_set(
            self, key: str, expected: RateLimitState | None, new: RateLimitState, ttl_seconds: int
        ) -> bool:
            self.calls.append("cas")
            if self.calls.count("cas") == 1:
                rival = engine().begin("GET", "/v1/limited", bearer(READER.key), now=NOW)
                rival.drive(lookup, self.inner.get)
                w = rival.rate_write
                assert w is not None and self.inner.compare_and_set(w.key, w.expected, w.new, w.ttl_seconds)
                return False
            return await super().compare_and_set(key, expected, new, ttl_seconds)

    store = RivalledAsyncStore()
    touched: list[str] = []

    async def touch(key_id: str, at: Any) -> None:
        touched.append(key_id)

    v = engine().begin("GET", "/v1/limited", bearer(READER.key), now=NOW)
    calls = (alookup, store.get, store.compare_and_set, None, touch)
    result = v.complete(*calls)
    awaited = 0
    while not isinstance(result, keyproof.Decision):
        awaited += 1
        with pytest.raises(RuntimeError, match="answer"):
            v.complete(*calls)  # the awaited call is still open
        v.answer(asyncio.run(result))
        result = v.complete(*calls)
    # lookup, get, lost cas, re-read, cas, touch (the record was never used): six awaits.
    assert store.calls == ["get", "cas", "get", "cas"] and awaited == 6 and v.finished
    assert result.allowed and result.rate_limit is not None and result.rate_limit.remaining == 1
    assert touched == [READER.record.id]
    with pytest.raises(RuntimeError, match="finished"):
        v.finish()


def test_touch_is_asked_on_a_route_without_quota_sync_and_async() -> None:
    touched: list[tuple[str, str]] = []

    def touch(key_id: str, at: Any) -> None:
        touched.append(("sync", key_id))

    async def atouch(key_id: str, at: Any) -> None:
        touched.append(("async", key_id))

    unlimited = Engine(
        {"formats": ["keyproof_live"], "policy": {"routes": [{"method": "GET", "path": "/v1/items"}]}}
    )
    ok = Verifier(unlimited, lookup, touch=touch).verify("GET", "/v1/items", bearer(READER.key), now=NOW)
    verifier = Verifier(unlimited, alookup, touch=atouch)
    d = asyncio.run(verifier.averify("GET", "/v1/items", bearer(READER.key), now=NOW))
    assert ok.allowed and d.allowed and ok.rate_limit is None
    assert ok.allowed and d.allowed and ok.rate_limit is None
    assert touched == [("sync", READER.record.id), ("async", READER.record.id)]


def test_count_is_asked_once_per_allowed_request_sync_and_async() -> None:
    counted: list[tuple[str, str]] = []

    def count(key_id: str) -> None:
        counted.append(("sync", key_id))

    async def acount(key_id: str) -> None:
        counted.append(("async", key_id))

    v = Verifier(engine(), lookup, count=count)
    assert v.verify("GET", "/v1/items", bearer(READER.key), now=NOW).allowed
    assert v.verify("GET", "/v1/items", bearer(READER.key), now=NOW).allowed
    # Denials are not counted: a missing scope, an unknown key, a malformed one.
    assert v.verify("POST", "/v1/items", bearer(READER.key), now=NOW).code == "insufficient_scope"
    assert (
        Verifier(engine(), lambda h: None, count=count)
        .verify("GET", "/v1/items", bearer(READER.key), now=NOW)
        .code
        == "unknown_key"
    )
    assert v.verify("GET", "/v1/items", bearer("kp_live_bad"), now=NOW).code == "wrong_length"
    d = asyncio.run(
        Verifier(engine(), alookup, count=acount).averify("GET", "/v1/items", bearer(READER.key), now=NOW)
    )
    assert d.allowed
    assert counted == [("sync", READER.record.id)] * 2 + [("async", READER.record.id)]
    # Set after construction, the cached host calls pick it up; a failing count raises.
    v.count = lambda key_id: (_ for _ in ()).throw(OSError("db down"))
    with pytest.raises(OSError, match="db down"):
        v.verify("GET", "/v1/items", bearer(READER.key), now=NOW)
    v.count = None
    assert v.verify("GET", "/v1/items", bearer(READER.key), now=NOW).allowed
    assert len(counted) == 3


def test_verification_object() -> None:
    e = engine()
    v = e.begin("GET", "/v1/limited", bearer(READER.key), now=NOW)
    assert repr(v) == "Verification(step='lookup')" and READER.record.hash not in repr(v)
    before = v.rate_write
    assert before is None

    async def later(h: str) -> KeyRecord | None:
        return lookup(h)

    pending = v.drive(later, MemoryRateLimitStore().get)
    assert asyncio.iscoroutine(pending) and v.next_step() == ("lookup", READER.record.hash)
    v.record(asyncio.run(pending))
    assert v.next_step() == ("rate_state", f"{READER.record.id}:tight")
    assert v.drive(lookup, lambda key: None) is None and v.next_step() == ("done", None)
    write = v.rate_write
    assert write is not None and write.expected is None and write.key == f"{READER.record.id}:tight"
    assert write.ttl_seconds >= 1 and repr(write).startswith("RateWrite(key=")
    outcome = v.finish()
    assert outcome.decision.allowed and outcome.rate_write == write and outcome.upgraded_record is None
    assert repr(v) == "Verification(step=None)"
    with pytest.raises(RuntimeError, match="finished"):
        v.finish()
    with pytest.raises(RuntimeError, match="finished"):
        v.next_step()
    with pytest.raises(keyproof.ConfigError) as info:
        e.begin("GET", "/v1/items", bearer(READER.key)).record({"id": "x"})
    assert info.value.code == "invalid_record"


def test_lookup_errors_propagate_unchanged() -> None:
    class Down(Exception):
        pass

    def broken(h: str) -> None:
        raise Down("database is down")

    with pytest.raises(Down):
        Verifier(engine(), broken).verify("GET", "/v1/items", bearer(READER.key), now=NOW)


def test_mint_with_caller_supplied_id() -> None:
    m = keyproof.mint("keyproof_live", name="Chosen id", id="key_chosen_1", random_bytes=bytes(32), now=NOW)
    assert m.record.id == "key_chosen_1"
    with pytest.raises(keyproof.ConfigError) as info:
        keyproof.mint("keyproof_live", name="Bad id", id="a b", random_bytes=bytes(32), now=NOW)
    assert info.value.code == "invalid_id"


def test_on_decision_sees_every_final_decision_with_its_key() -> None:
    """An audit hook: allowed and refused requests alike, the identified key on both,
    never the key for an unknown one; sync and async hooks; its errors propagate."""
    from .support import REVOKED_MINT

    seen: list[tuple[str, str | None, str, str, str | None]] = []

    def log(d: keyproof.Decision, method: str, path: str, client_ip: str | None) -> None:
        seen.append((d.code, d.key_id, method, path, client_ip))

    v = Verifier(engine(), lookup, on_decision=log)
    v.verify("GET", "/v1/items", bearer(READER.key), "203.0.113.9", now=NOW)
    v.verify("POST", "/v1/items", bearer(READER.key), now=NOW)  # items:write missing
    v.verify("GET", "/v1/items", bearer(REVOKED_MINT.key), now=NOW)
    v.verify("GET", "/v1/items", bearer(READER.key[:-1] + ("A" if READER.key[-1] != "A" else "B")), now=NOW)
    reader, revoked = READER.record.id, REVOKED_MINT.record.id
    assert [(c, k) for c, k, *_ in seen] == [
        ("ok", reader),
        ("insufficient_scope", reader),
        ("key_revoked", revoked),
        (seen[3][0], None),  # a mangled key: never identified, whatever it failed on
    ]
    assert seen[3][0] in ("bad_checksum", "unknown_key", "bad_character")
    assert seen[0][2:] == ("GET", "/v1/items", "203.0.113.9") and seen[1][2:] == ("POST", "/v1/items", None)

    async def alog(d: keyproof.Decision, method: str, path: str, client_ip: str | None) -> None:
        await asyncio.sleep(0)
        seen.append((d.code, d.key_id, method, path, client_ip))

    seen.clear()
    d = asyncio.run(
        Verifier(engine(), alookup, on_decision=alog).averify("GET", "/v1/items", bearer(READER.key), now=NOW)
    )
    assert seen == [("ok", reader, "GET", "/v1/items", None)] and d.key_id == reader
    with pytest.raises(TypeError, match="averify"):
        Verifier(engine(), lookup, on_decision=alog).verify("GET", "/v1/items", bearer(READER.key), now=NOW)

    def broken(*_: Any) -> None:
        raise RuntimeError("audit log down")

    with pytest.raises(RuntimeError, match="audit log down"):
        Verifier(engine(), lookup, on_decision=broken).verify("GET", "/v1/items", bearer(READER.key), now=NOW)
