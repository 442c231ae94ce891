"""How ``Verifier.averify`` asks for records: concurrent requests for one key share
one pending lookup (a hot key costs one query, not one per request in flight),
with each waiter shielded from the others' cancellation, failures not kept, and
no sharing across event loops. With ``record_cache`` the engine answers most
lookups itself (``tests/vectors/record_cache.json`` pins its rules)."""

from __future__ import annotations

import asyncio
import threading

import keyproof

ENGINE = keyproof.Engine({"formats": ["keyproof_live"], "policy": {"unknown_routes": "authenticate"}})
MINTED = ENGINE.mint(name="Shared lookup")
HEADERS = {"Authorization": f"Bearer {MINTED.key}"}


class SlowLookup:
    """An async lookup that counts its calls and answers when released."""

    def __init__(self, fail: bool = False) -> None:
        self.calls = 0
        self.fail = fail
        self.release: asyncio.Event | None = None

    async def __call__(self, storage_hash: str) -> keyproof.KeyRecord | None:
        self.calls += 1
        if self.release is not None:
            await self.release.wait()
        await asyncio.sleep(0)
        if self.fail:
            raise ConnectionError("db down")
        return MINTED.record if storage_hash == MINTED.record.hash else None


def test_concurrent_requests_share_one_pending_lookup() -> None:
    lookup = SlowLookup()
    verifier = keyproof.Verifier(ENGINE, lookup)

    async def main() -> None:
        decisions = await asyncio.gather(*(verifier.averify("GET", "/v1/x", HEADERS) for _ in range(10)))
        assert [d.status for d in decisions] == [200] * 10
        assert lookup.calls == 1, "one lookup for ten requests in flight"
        assert (await verifier.averify("GET", "/v1/x", HEADERS)).status == 200
        assert lookup.calls == 2, "a settled lookup is not reused"
        # The synchronous path never shares (nothing is pending there).
        assert verifier._inflight == {}

    asyncio.run(main())


def test_a_cancelled_request_does_not_cancel_the_others_lookup() -> None:
    lookup = SlowLookup()
    verifier = keyproof.Verifier(ENGINE, lookup)

    async def main() -> None:
        lookup.release = asyncio.Event()
        first, second, third = (
            asyncio.create_task(verifier.averify("GET", "/v1/x", HEADERS)) for _ in range(3)
        )
        await asyncio.sleep(0)
        second.cancel()  # a later waiter
        first.cancel()  # the request whose lookup it is
        await asyncio.sleep(0)
        lookup.release.set()
        assert (await third).status == 200
        assert first.cancelled() and second.cancelled() and lookup.calls == 1

    asyncio.run(main())


def test_a_failed_lookup_reaches_every_waiter_and_is_not_kept() -> None:
    lookup = SlowLookup(fail=True)
    verifier = keyproof.Verifier(ENGINE, lookup)

    async def main() -> None:
        results = await asyncio.gather(
            *(verifier.averify("GET", "/v1/x", HEADERS) for _ in range(3)), return_exceptions=True
        )
        assert [type(r) for r in results] == [ConnectionError] * 3 and lookup.calls == 1
        lookup.fail = False
        assert (await verifier.averify("GET", "/v1/x", HEADERS)).status == 200
        assert lookup.calls == 2, "the failure was not kept"

    asyncio.run(main())


def test_event_loops_in_other_threads_look_up_for_themselves() -> None:
    """A lookup pending on one thread's loop is never awaited from another loop."""
    lookup = SlowLookup()
    verifier = keyproof.Verifier(ENGINE, lookup)
    started, statuses = threading.Event(), list[int]()

    async def held() -> None:
        lookup.release = asyncio.Event()
        task = asyncio.create_task(verifier.averify("GET", "/v1/x", HEADERS))
        await asyncio.sleep(0)
        started.set()
        while len(statuses) < 1:
            await asyncio.sleep(0.001)
        lookup.release.set()
        statuses.append((await task).status)

    def other() -> None:
        started.wait(5)
        released = SlowLookup()
        verifier.lookup, original = released, verifier.lookup  # its own lookup, so it can finish
        try:
            statuses.append(asyncio.run(verifier.averify("GET", "/v1/x", HEADERS)).status)
        finally:
            verifier.lookup = original

    thread = threading.Thread(target=other)
    thread.start()
    asyncio.run(held())
    thread.join(5)
    assert statuses == [200, 200] and lookup.calls == 1


def test_the_record_cache_answers_before_the_lookup_is_asked() -> None:
    config = {"formats": ["keyproof_live"], "policy": {"unknown_routes": "authenticate"}, "record_cache": {}}
    cached = keyproof.Engine(config)
    lookup = SlowLookup()
    verifier = keyproof.Verifier(cached, lookup)

    async def main() -> None:
        for _ in range(3):
            assert (await verifier.averify("GET", "/v1/x", HEADERS)).status == 200
        assert lookup.calls == 1
        assert cached.cache_stats() == {
            "records": 1, "absent": 0, "hits": 2, "absent_hits": 0, "misses": 1, "evictions": 0,
        }  # fmt: skip
        assert cached.invalidate_cached(MINTED.record.id) == 1
        assert (await verifier.averify("GET", "/v1/x", HEADERS)).status == 200 and lookup.calls == 2
        cached.clear_cache()
        assert cached.cache_stats() == dict.fromkeys(("records", "absent", "hits", "absent_hits", "misses",
                                                      "evictions"), 0)  # fmt: skip

    asyncio.run(main())
