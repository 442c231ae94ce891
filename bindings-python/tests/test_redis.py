"""keyproof.redis: the Redis rate-limit stores against real redis-server processes.

Layout and rendering tests run everywhere; the rest need the servers
``scripts/test-redis.sh`` starts (see tests/test_redis_support.py) and are skipped
without them.
"""

from __future__ import annotations

import asyncio
import binascii
import importlib.util
import json
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import keyproof
import pytest
import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.cluster
from keyproof import Decision, Engine, KeyproofError, KeyRecord, RateLimitState, Verifier
from keyproof.redis import (
    CAS_SCRIPT,
    DEFAULT_PREFIX,
    AsyncRedisRateLimitStore,
    FallbackDecision,
    RateLimitStoreError,
    RedisRateLimitStore,
    RedisVerifier,
    parse_state,
    redis_key,
    state_text,
)
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.retry import Retry

from .test_redis_support import (
    BURST,
    CONFIG,
    INTERVAL_US,
    REDIS_CLUSTER,
    REDIS_SERVER,
    REDIS_URL,
    TIGHT_BURST,
    UNAVAILABLE_BODY,
    UNAVAILABLE_HEADERS,
    RedisServer,
    SilentServer,
    bearer,
    key_slot,
    mint,
    us,
    wall_now,
)

needs_redis = pytest.mark.skipif(
    REDIS_URL is None, reason="no KEYPROOF_REDIS_URL (run scripts/test-redis.sh)"
)
needs_server_binary = pytest.mark.skipif(REDIS_SERVER is None, reason="no KEYPROOF_REDIS_SERVER")
needs_cluster = pytest.mark.skipif(REDIS_CLUSTER is None, reason="no KEYPROOF_REDIS_CLUSTER")


def fast_failing(url: str, timeout: float = 0.5) -> Any:
    """A client that gives up quickly: the setting the docs recommend."""
    return redis.Redis.from_url(
        url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0)
    )


def afast_failing(url: str, timeout: float = 0.5) -> Any:
    return redis.asyncio.Redis.from_url(
        url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=AsyncRetry(NoBackoff(), 0)
    )


def as_fallback(answer: object) -> FallbackDecision:
    assert isinstance(answer, FallbackDecision), answer
    return answer


class Deployment:
    """An engine, a record database and a verifier over one store."""

    def __init__(self, store: Any, *, verifier: type[Verifier] = RedisVerifier) -> None:
        self.engine = Engine(CONFIG)
        self.minted = mint()
        self.revoked = mint("Revoked key")
        self.records: dict[str, KeyRecord] = {
            self.minted.record.hash: self.minted.record,
            self.revoked.record.hash: self.revoked.record.revoked(),
        }
        self.store = store
        self.verifier = verifier(self.engine, self.records.get, rate_limits=store)

    @property
    def key_id(self) -> str:
        return self.minted.record.id

    def bucket(self, cls: str = "default") -> str:
        return redis_key(f"{self.key_id}:{cls}")

    def verify(self, path: str = "/v1/items", **kw: Any) -> Decision:
        return self.verifier.verify("GET", path, bearer(kw.pop("key", self.minted.key)), **kw)

    async def averify(self, path: str = "/v1/items", **kw: Any) -> Decision:
        return await self.verifier.averify("GET", path, bearer(kw.pop("key", self.minted.key)), **kw)


@pytest.fixture
def client() -> Iterator[Any]:
    assert REDIS_URL is not None
    c = redis.Redis.from_url(REDIS_URL)
    yield c
    c.close()


@pytest.fixture
def private_server() -> Iterator[RedisServer]:
    server = RedisServer()
    yield server
    server.close()


# Layout, state text, rendering: no server needed ------------------------------------------


def test_key_layout_puts_every_bucket_of_a_key_in_one_cluster_slot() -> None:
    key_id = "9904cf92-2202-48c0-a751-a9724e32c98e"
    assert redis_key(f"{key_id}:default") == f"keyproof:rl:{{{key_id}}}:default"
    assert redis_key(f"{key_id}:uploads:v2", "app1:") == f"app1:{{{key_id}}}:uploads:v2"
    assert redis_key("key_2f8a3b1c") == "keyproof:rl:{key_2f8a3b1c}"
    assert DEFAULT_PREFIX == "keyproof:rl:"
    # The hash tag is the key id: one slot per key, keys spread over the slots.
    slots = {key_slot(redis_key(f"{key_id}:{cls}")) for cls in ("default", "tight", "uploads")}
    assert slots == {key_slot(key_id)}
    spread = {key_slot(redis_key(f"{mint().record.id}:default")) for _ in range(40)}
    assert len(spread) > 30
    # Known CLUSTER KEYSLOT answers (redis.io), so the local hash is Redis's.
    assert key_slot("123456789") == 12739
    assert key_slot("{user1000}.following") == key_slot("{user1000}.followers")
    # An empty tag hashes the whole key (not "bar"); "{{bar}}" tags "{bar" (CRC16-XMODEM, as binascii).
    assert key_slot("foo{}{bar}") == binascii.crc_hqx(b"foo{}{bar}", 0) % 16384 != key_slot("bar")
    assert key_slot("foo{{bar}}zap") == key_slot("{bar")


def test_state_text_is_the_cores_json_and_anything_else_counts_as_no_state() -> None:
    state = RateLimitState(1_795_424_632_000_000)
    assert state_text(state) == state.to_json() == '{"tat_us":1795424632000000}'
    assert state_text(None) == ""
    assert parse_state(state.to_json()) == state
    assert parse_state(state.to_json().encode()) == state
    assert parse_state('{"tat_us":0}') == RateLimitState(0)
    assert parse_state('{"tat_us":-5}') == RateLimitState(-5)
    for junk in (
        None,
        "",
        "garbage",
        '{"tat_us": 5}',
        '{"tat_us":05}',
        '{"tat_us":-0}',
        '{"tat_us":1.5}',
        "{}",
    ):
        assert parse_state(junk) is None, junk
    # Beyond 2^53 JavaScript cannot hold it exactly: not a state in either runtime.
    assert parse_state('{"tat_us":9007199254740991}') == RateLimitState(2**53 - 1)
    assert parse_state('{"tat_us":9007199254740993}') is None


def test_the_503_is_cores_answer_with_the_bytes_node_sends() -> None:
    d = Deployment(RedisRateLimitStore(redis.Redis(port=1)))
    v = d.engine.begin("GET", "/v1/items", bearer(d.minted.key), None, wall_now())
    v.record(d.minted.record)
    v.rate_state_unavailable()
    core = v.finish().decision
    answer = FallbackDecision(core, RateLimitStoreError("down"))
    assert (answer.status, answer.code, answer.public_code, answer.allowed, bool(answer)) == (
        503,
        "rate_limit_unavailable",
        "rate_limit_unavailable",
        False,
        False,
    )
    assert answer.headers == UNAVAILABLE_HEADERS
    assert answer.header("retry-after") == "1"
    assert answer.body == UNAVAILABLE_BODY
    assert json.loads(answer.to_json())["body"] == UNAVAILABLE_BODY
    assert answer == core and answer.decision is core and str(answer.cause) == "down"
    # Another retry time; an unknown policy name is core's typed error.
    v = d.engine.begin("GET", "/v1/items", bearer(d.minted.key), None, wall_now())
    v.record(d.minted.record)
    v.rate_state_unavailable("fail_closed", 7)
    assert json.loads(v.finish().decision.body or "")["retry_after"] == 7
    with pytest.raises(KeyproofError, match="on_error") as bad:
        d.engine.begin("GET", "/v1/items", bearer(d.minted.key)).rate_state_unavailable("ignore")  # type: ignore[arg-type]
    assert bad.value.code == "invalid_policy"


def test_a_store_that_names_no_answer_leaves_it_to_the_policy() -> None:
    config = json.loads(json.dumps(CONFIG))
    config["policy"]["rate_store_failure"] = {"on_error": "fail_open"}
    engine = Engine(config)
    minted = engine.mint(name="Policy key", scopes=["items:read"])
    records = {minted.record.hash: minted.record}
    down = fast_failing("redis://127.0.0.1:1/0")  # nothing listens there: every call fails

    def answer(**store_options: Any) -> FallbackDecision:
        store = RedisRateLimitStore(down, **store_options)
        verifier = RedisVerifier(engine, records.get, rate_limits=store)
        return as_fallback(verifier.verify("GET", "/v1/items", bearer(minted.key), now=wall_now()))

    by_policy = answer()
    assert (by_policy.status, by_policy.headers) == (200, [])
    assert by_policy.warnings == [{"code": "rate_limit_unavailable"}]
    closed = answer(on_error="fail_closed")
    assert (closed.status, closed.header("retry-after")) == (503, "1")
    assert answer(retry_after_seconds=9).header("retry-after") == "9"  # seconds alone: fail closed
    # The default policy fails closed.
    assert Deployment(RedisRateLimitStore(down)).verify(now=wall_now()).status == 503


def test_fallback_decisions_have_every_attribute_of_a_decision() -> None:
    d = Deployment(RedisRateLimitStore(redis.Redis(port=1), on_error="fail_open"))
    v = d.engine.begin("GET", "/v1/items", bearer(d.minted.key), None, wall_now())
    v.record(d.minted.record)
    v.rate_state_unavailable("fail_open")
    core = v.finish().decision
    answer = FallbackDecision(core)
    public = {n for n in dir(Decision) if not n.startswith("_")}
    for name in public:
        assert getattr(answer, name) == getattr(core, name) or callable(getattr(core, name)), name
    assert answer.to_dict() == core.to_dict() and bool(answer) is True


def test_options_are_checked() -> None:
    class NoScripts:
        def register_script(self, script: str) -> Any:
            assert script == CAS_SCRIPT
            return None

    with pytest.raises(ValueError, match="on_error"):
        RedisRateLimitStore(NoScripts(), on_error="ignore")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_retries"):
        RedisRateLimitStore(NoScripts(), max_retries=-1)
    with pytest.raises(ValueError, match="retry_after"):
        AsyncRedisRateLimitStore(NoScripts(), retry_after_seconds=0)


def test_an_asynchronous_store_is_refused_by_verify() -> None:
    d = Deployment(AsyncRedisRateLimitStore(redis.asyncio.Redis(port=1)))
    with pytest.raises(TypeError, match="averify"):
        d.verify()


# One server --------------------------------------------------------------------------------


@needs_redis
def test_threads_get_exactly_the_burst_and_the_state_is_the_cores(client: Any) -> None:
    d = Deployment(RedisRateLimitStore(redis.Redis.from_url(str(REDIS_URL))))
    now = wall_now()
    statuses: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def hammer() -> None:
        start.wait()
        for _ in range(5):
            status = d.verify(now=now).status
            with lock:
                statuses.append(status)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] * BURST + [429] * (40 - BURST)
    raw = client.get(d.bucket())
    assert RateLimitState.from_json(raw.decode()) == RateLimitState(us(now) + BURST * INTERVAL_US)
    # Expires when the bucket is full again (BURST intervals from now).
    assert BURST * 1000 - 2000 < client.pttl(d.bucket()) <= BURST * 1000


@needs_redis
def test_a_usage_limit_is_counted_exactly_across_threads_in_redis(client: Any) -> None:
    d = Deployment(RedisRateLimitStore(redis.Redis.from_url(str(REDIS_URL))))
    metered = keyproof.mint("keyproof_live", name="Metered", scopes=["items:read"], usage_limit={"limit": 5})
    d.records[metered.record.hash] = metered.record
    now = wall_now()
    codes: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def hammer() -> None:
        start.wait()
        for _ in range(3):
            code = d.verify(key=metered.key, now=now).code
            with lock:
                codes.append(code)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # 12 requests within the burst of the rate limit: exactly 5 spend the credits.
    assert sorted(codes) == ["ok"] * 5 + ["usage_exceeded"] * 7
    counter = redis_key(f"{metered.record.id}:usage:total")
    never_ends_us = 7_258_118_400_000_000  # credits: "the period's end" is 2200-01-01
    assert RateLimitState.from_json(client.get(counter).decode()) == RateLimitState(never_ends_us + 5)
    assert client.pttl(counter) > 9 * 365 * 86_400 * 1000  # credits are kept (ten years)


@needs_redis
def test_charges_after_the_fact_are_exact_across_threads_and_asyncio_in_redis(client: Any) -> None:
    d = Deployment(RedisRateLimitStore(redis.Redis.from_url(str(REDIS_URL))))
    credits = keyproof.mint("keyproof_live", name="Charged", usage_limit={"limit": 20})
    now = wall_now()
    with ThreadPoolExecutor(6) as pool:  # 12 charges of 3 units against 20: 6 whole ones, then 2 paid of 3
        charged = list(pool.map(lambda _: d.verifier.charge(credits.record, 3, now=now), range(12)))
    assert sum(3 - c.unpaid for c in charged if c) == 20
    counter = redis_key(f"{credits.record.id}:usage:total")
    never_ends_us = 7_258_118_400_000_000  # credits: "the period's end" is 2200-01-01
    assert RateLimitState.from_json(client.get(counter).decode()) == RateLimitState(never_ends_us + 20)

    async def charge_async() -> list[Any]:
        a = Deployment(AsyncRedisRateLimitStore(redis.asyncio.Redis.from_url(str(REDIS_URL))))
        fresh = keyproof.mint("keyproof_live", name="Charged", usage_limit={"limit": 10, "period": "day"})
        return await asyncio.gather(*(a.verifier.acharge(fresh.record, 2, now=now) for _ in range(8)))

    assert sum(2 - c.unpaid for c in asyncio.run(charge_async()) if c) == 10


@needs_redis
def test_asyncio_requests_get_exactly_the_burst(client: Any) -> None:
    async def run() -> list[int]:
        d = Deployment(AsyncRedisRateLimitStore(redis.asyncio.Redis.from_url(str(REDIS_URL))))
        now = wall_now()
        out = await asyncio.gather(*(d.averify(now=now) for _ in range(30)))
        tight = await asyncio.gather(*(d.averify("/v1/tight", now=now) for _ in range(6)))
        assert sorted(x.status for x in tight) == [200] * TIGHT_BURST + [429] * (6 - TIGHT_BURST)
        assert (
            client.get(d.bucket("tight"))
            == state_text(RateLimitState(us(now) + TIGHT_BURST * INTERVAL_US)).encode()
        )
        return sorted(x.status for x in out)

    assert asyncio.run(run()) == [200] * BURST + [429] * (30 - BURST)


@needs_redis
def test_refill_follows_the_plan_rate_on_the_injected_clock() -> None:
    d = Deployment(RedisRateLimitStore(redis.Redis.from_url(str(REDIS_URL))))
    now = wall_now()
    assert [d.verify(now=now).status for _ in range(BURST + 1)] == [200] * BURST + [429]
    denied = d.verify(now=now)
    assert denied.header("Retry-After") == "1"
    # One interval later exactly one more; three and a half later three more.
    later = now + timedelta(microseconds=INTERVAL_US)
    assert [d.verify(now=later).status for _ in range(2)] == [200, 429]
    later = later + timedelta(microseconds=INTERVAL_US * 7 // 2)
    assert [d.verify(now=later).status for _ in range(4)] == [200, 200, 200, 429]
    # A full bucket after BURST intervals of silence.
    later = later + timedelta(microseconds=INTERVAL_US * BURST)
    assert [d.verify(now=later).status for _ in range(BURST + 1)] == [200] * BURST + [429]


class Interloper:
    """Writes a state of its own between a step's read and its compare-and-set."""

    def __init__(self, client: Any, rkey: str, times: int) -> None:
        self.client, self.rkey, self.times = client, rkey, times
        self.calls: list[RateLimitState | None] = []

    def step(self, state: RateLimitState | None) -> tuple[str, RateLimitState | None]:
        self.calls.append(state)
        if len(self.calls) <= self.times:
            self.client.set(self.rkey, state_text(RateLimitState(1000 * len(self.calls))))
        base = state.tat_us if state is not None else 0
        return f"result {len(self.calls)}", RateLimitState(base + 1)


@needs_redis
def test_a_conflicting_writer_makes_the_step_run_again_on_the_fresh_state(client: Any) -> None:
    store = RedisRateLimitStore(redis.Redis.from_url(str(REDIS_URL)), max_retries=5)
    bucket = f"{mint().record.id}:default"
    rkey = store.redis_key(bucket)
    client.set(rkey, state_text(RateLimitState(7)))
    interloper = Interloper(client, rkey, times=2)
    assert store.transact(bucket, interloper.step) == "result 3"
    # Read 7; lost to 1000; read 1000 from the script's reply, lost to 2000; then won.
    assert interloper.calls == [RateLimitState(7), RateLimitState(1000), RateLimitState(2000)]
    assert client.get(rkey) == b'{"tat_us":2001}'
    assert store.conflicts == 2

    async def run() -> None:
        astore = AsyncRedisRateLimitStore(redis.asyncio.Redis.from_url(str(REDIS_URL)))
        late = Interloper(client, rkey, times=1)
        assert await astore.transact(bucket, late.step) == "result 2"
        assert late.calls == [RateLimitState(2001), RateLimitState(1000)]
        assert astore.conflicts == 1

    asyncio.run(run())
    assert client.get(rkey) == b'{"tat_us":1001}'


@needs_redis
def test_a_verifier_recomputes_after_a_lost_race(client: Any) -> None:
    # Another process writes between this one's read and its compare-and-set, twice.
    class Raced(RedisRateLimitStore):
        races = 2

        def _swap(self, rkey: str, expected: Any, new: RateLimitState, ttl_ms: int) -> Any:
            if self.races > 0:
                self.races -= 1
                client.set(rkey, state_text(RateLimitState(new.tat_us - 1)))
            return super()._swap(rkey, expected, new, ttl_ms)

    d = Deployment(Raced(redis.Redis.from_url(str(REDIS_URL))))
    now = wall_now()
    first = d.verify(now=now)
    assert first.status == 200 and d.store.conflicts == 2
    # Each race left a state 1 µs behind the write it beat; core recomputed on it.
    assert client.get(d.bucket()) == state_text(RateLimitState(us(now) + 3 * INTERVAL_US - 2)).encode()
    assert first.header("RateLimit") == '"starter";r=7;t=3'


@needs_redis
def test_retries_are_bounded_and_then_the_failure_policy_answers(client: Any) -> None:
    store = RedisRateLimitStore(redis.Redis.from_url(str(REDIS_URL)), max_retries=3)
    bucket = f"{mint().record.id}:default"
    always = Interloper(client, store.redis_key(bucket), times=1000)
    with pytest.raises(RateLimitStoreError, match="kept conflicting"):
        store.transact(bucket, always.step)
    assert len(always.calls) == 4

    # Through a verifier: other processes win every race (a write lands between each read
    # and set; old states, so the bucket never empties and every retry wants to write).
    class Contended(RedisRateLimitStore):
        races = 0

        def _swap(self, rkey: str, expected: Any, new: RateLimitState, ttl_ms: int) -> Any:
            self.races += 1
            client.set(rkey, state_text(RateLimitState(self.races)))
            return super()._swap(rkey, expected, new, ttl_ms)

    for verify in ("verify", "averify"):
        store = Contended(redis.Redis.from_url(str(REDIS_URL)), max_retries=2)
        d = Deployment(store)
        if verify == "verify":
            answer = as_fallback(d.verify(now=wall_now()))
        else:
            answer = as_fallback(asyncio.run(d.averify(now=wall_now())))
        assert (answer.status, answer.code, answer.body) == (503, "rate_limit_unavailable", UNAVAILABLE_BODY)
        assert "kept conflicting" in str(answer.cause)
        assert store.conflicts == store.races >= 3
        assert store.failures == 1


@needs_redis
def test_a_value_that_is_not_a_state_counts_as_a_full_bucket_and_is_replaced(client: Any) -> None:
    d = Deployment(RedisRateLimitStore(redis.Redis.from_url(str(REDIS_URL))))
    now = wall_now()
    client.set(d.bucket(), "not a state")
    assert d.verify(now=now).status == 200
    assert client.get(d.bucket()) == state_text(RateLimitState(us(now) + INTERVAL_US)).encode()


@needs_redis
def test_the_explicit_interface(client: Any) -> None:
    store = RedisRateLimitStore(redis.Redis.from_url(str(REDIS_URL)))
    bucket = f"{mint().record.id}:default"
    assert store.get(bucket) is None
    assert store.compare_and_set(bucket, None, RateLimitState(5), 60)
    assert not store.compare_and_set(bucket, None, RateLimitState(6), 60)
    assert store.get(bucket) == RateLimitState(5)
    assert store.compare_and_set(bucket, RateLimitState(5), RateLimitState(6), 0)
    assert 0 < client.pttl(store.redis_key(bucket)) <= 1000

    async def run() -> None:
        astore = AsyncRedisRateLimitStore(redis.asyncio.Redis.from_url(str(REDIS_URL)))
        assert await astore.get(bucket) == RateLimitState(6)
        assert not await astore.compare_and_set(bucket, RateLimitState(5), RateLimitState(7), 60)
        assert await astore.compare_and_set(bucket, RateLimitState(6), RateLimitState(7), 60)

    asyncio.run(run())
    assert store.get(bucket) == RateLimitState(7)


@needs_redis
def test_a_plain_verifier_raises_the_stores_error_not_the_clients() -> None:
    d = Deployment(RedisRateLimitStore(fast_failing("redis://127.0.0.1:1/0")), verifier=Verifier)
    with pytest.raises(RateLimitStoreError) as caught:
        d.verify(now=wall_now())
    assert caught.value.code == "rate_limit_unavailable"
    assert isinstance(caught.value.__cause__, redis.ConnectionError)


# Failure policy: a private server stopped mid-test, a server that never answers ----------


@needs_server_binary
def test_redis_stopped_mid_test_fails_closed_then_recovers(private_server: RedisServer) -> None:
    sync = Deployment(RedisRateLimitStore(fast_failing(private_server.url)))
    now = wall_now()
    assert [sync.verify(now=now).status for _ in range(3)] == [200, 200, 200]
    private_server.stop()
    started = time.monotonic()
    answer = as_fallback(sync.verify(now=now))
    assert time.monotonic() - started < 5
    assert (answer.status, answer.allowed, answer.headers, answer.body) == (
        503,
        False,
        UNAVAILABLE_HEADERS,
        UNAVAILABLE_BODY,
    )
    assert answer.principal is None and answer.rate_limit is None
    assert "rate-limit store is unavailable" in answer.detail
    assert isinstance(answer.cause, RateLimitStoreError)
    # A denial for another reason stays that denial (no 503 for a revoked key).
    revoked = sync.verify(key=sync.revoked.key, now=now)
    assert (revoked.status, revoked.code) == (401, "key_revoked")
    assert sync.store.failures == 1

    async def run() -> None:
        d = Deployment(AsyncRedisRateLimitStore(afast_failing(private_server.url)))
        a = await d.averify(now=now)
        assert (a.status, a.headers, a.body) == (503, UNAVAILABLE_HEADERS, UNAVAILABLE_BODY)

    asyncio.run(run())
    # Back up (empty: no persistence): the limit applies again.
    private_server.start()
    assert [sync.verify(now=now).status for _ in range(BURST + 1)] == [200] * BURST + [429]


@needs_server_binary
def test_redis_stopped_mid_test_fails_open_with_a_warning(private_server: RedisServer) -> None:
    d = Deployment(RedisRateLimitStore(fast_failing(private_server.url), on_error="fail_open"))
    now = wall_now()
    first = d.verify(now=now)
    assert first.header("RateLimit") == '"starter";r=9;t=1'
    private_server.stop()
    answers = [d.verify(now=now) for _ in range(BURST + 5)]
    assert all(a.status == 200 and a.allowed for a in answers)
    a = as_fallback(answers[0])
    assert a.warnings == [{"code": "rate_limit_unavailable"}]
    assert a.headers == [] and a.rate_limit is None
    assert a.principal is not None and a.principal.key_id == d.key_id
    assert json.loads(a.to_json())["warnings"] == [{"code": "rate_limit_unavailable"}]
    assert d.verify(key=d.revoked.key, now=now).status == 401

    async def run() -> None:
        ad = Deployment(AsyncRedisRateLimitStore(afast_failing(private_server.url), on_error="fail_open"))
        x = await ad.averify(now=now)
        assert (x.status, x.warnings) == (200, [{"code": "rate_limit_unavailable"}])

    asyncio.run(run())


def test_a_redis_that_never_answers_times_out_into_the_policy() -> None:
    silent = SilentServer()
    try:
        url = f"redis://127.0.0.1:{silent.port}/0"
        d = Deployment(RedisRateLimitStore(fast_failing(url, timeout=0.3)))
        started = time.monotonic()
        assert d.verify(now=wall_now()).status == 503
        assert time.monotonic() - started < 3

        async def run() -> None:
            # The store's own timeout bounds a client that would wait forever.
            ad = Deployment(
                AsyncRedisRateLimitStore(redis.asyncio.Redis.from_url(url), timeout=0.3, on_error="fail_open")
            )
            began = time.monotonic()
            x = await ad.averify(now=wall_now())
            assert (x.status, x.warnings) == (200, [{"code": "rate_limit_unavailable"}])
            assert "within 0.3 s" in str(as_fallback(x).cause)
            assert time.monotonic() - began < 3

        asyncio.run(run())
    finally:
        silent.close()


# Redis Cluster: three masters on loopback ---------------------------------------------------


def cluster_client() -> Any:
    cluster: Any = redis.cluster
    assert REDIS_CLUSTER is not None
    nodes = [cluster.ClusterNode(h, int(p)) for h, p in (n.rsplit(":", 1) for n in REDIS_CLUSTER.split(","))]
    return cluster.RedisCluster(startup_nodes=nodes)


@needs_cluster
def test_cluster_keeps_a_keys_buckets_in_one_slot_and_spreads_keys() -> None:
    rc = cluster_client()
    try:
        key_id = mint().record.id
        slots = {rc.cluster_keyslot(redis_key(f"{key_id}:{cls}")) for cls in ("default", "tight", "x")}
        assert slots == {key_slot(redis_key(f"{key_id}:default"))}
        masters = {rc.get_node_from_key(redis_key(f"{mint().record.id}:default")).name for _ in range(30)}
        assert len(masters) == 3
    finally:
        rc.close()


@needs_cluster
def test_cluster_gets_exactly_the_burst_per_bucket() -> None:
    rc = cluster_client()
    try:
        d = Deployment(RedisRateLimitStore(rc))
        now = wall_now()
        statuses: list[int] = []
        lock = threading.Lock()

        def hammer(path: str) -> None:
            for _ in range(6):
                s = d.verify(path, now=now).status
                with lock:
                    statuses.append(s)

        threads = [threading.Thread(target=hammer, args=(p,)) for p in ["/v1/items"] * 4 + ["/v1/tight"] * 2]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert statuses.count(200) == BURST + TIGHT_BURST
        assert rc.get(d.bucket()) == state_text(RateLimitState(us(now) + BURST * INTERVAL_US)).encode()

        async def run() -> None:
            acluster: Any = redis.asyncio.cluster
            assert REDIS_CLUSTER is not None
            host, port = REDIS_CLUSTER.split(",")[0].rsplit(":", 1)
            arc = acluster.RedisCluster(startup_nodes=[acluster.ClusterNode(host, int(port))])
            try:
                ad = Deployment(AsyncRedisRateLimitStore(arc))
                out = await asyncio.gather(*(ad.averify(now=now) for _ in range(BURST + 4)))
                assert sorted(x.status for x in out) == [200] * BURST + [429] * 4
            finally:
                await arc.aclose()

        asyncio.run(run())
    finally:
        rc.close()


def test_keyproof_exports_stay_importable_without_a_server() -> None:
    assert keyproof.redis.RedisVerifier is RedisVerifier


# Documentation ------------------------------------------------------------------------------


def doc_example(section: str) -> str:
    text = (Path(__file__).resolve().parents[1] / "REDIS.md").read_text(encoding="utf-8")
    body = text[text.index(f"\n{section}\n") :]
    return body.split("```python\n", 1)[1].split("```", 1)[0]


def load_example(code: str, path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    path.write_text(code, encoding="utf-8")
    monkeypatch.setenv("REDIS_URL", redis_url)
    spec = importlib.util.spec_from_file_location(f"redis_doc_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@needs_server_binary
def test_the_fastapi_example_runs_as_written(
    private_server: RedisServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = load_example(doc_example("## FastAPI"), tmp_path / "app.py", private_server.url, monkeypatch)
    auth = {"Authorization": f"Bearer {app.minted.key}"}

    async def run() -> None:
        transport = httpx.ASGITransport(app=app.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            statuses = [(await http.get("/v1/briefs", headers=auth)).status_code for _ in range(BURST + 1)]
            assert statuses == [200] * BURST + [429]
            private_server.stop()
            down = await http.get("/v1/briefs", headers=auth)
            assert down.status_code == 503
            assert down.text == UNAVAILABLE_BODY
            assert down.headers["retry-after"] == "1"
            assert down.headers["content-type"] == "application/problem+json"
            assert (await http.get("/v1/briefs")).status_code == 401  # no key: still 401, not 503
        await app.redis_client.aclose()

    asyncio.run(run())


def test_the_root_readme_shows_the_tested_fastapi_example() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    heading = "\n## Running more than one process\n"
    if heading not in readme:
        pytest.skip("README.md has no 'Running more than one process' section")
    section = readme[readme.index(heading) + len(heading) :]
    section = section.split("\n## ", 1)[0]
    blocks = re.findall(r"^```python\n(.*?)^```", section, re.MULTILINE | re.DOTALL)
    assert doc_example("## FastAPI") in blocks, "the README's FastAPI example is not the one REDIS.md tests"
