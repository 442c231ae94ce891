"""The SQLAlchemy store (``keyproof.sqlalchemy``), sync and asyncio, on SQLite and
PostgreSQL: core's lifecycle operations on stored records, last-used writes, and an
async FastAPI app over real HTTP whose records live in the database (concurrent
requests, a key revoked while it serves)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import keyproof
import keyproof.fastapi
import pytest
import sqlalchemy as sa
from fastapi import Depends, FastAPI
from keyproof.sqlalchemy import AsyncKeyStore, KeyStore
from sqlalchemy.ext.asyncio import create_async_engine

from .dbapp_support import BACKENDS, database
from .http_support import serve

CONFIG: dict[str, Any] = {
    "formats": ["keyproof_live"],
    "policy": {
        "routes": [{"method": "GET", "path": "/v1/briefs", "all_of": ["briefs:read"]}],
        "plans": {"starter": {"limit": 60, "burst": 20}},
        "default_plan": "starter",
    },
}
ENGINE = keyproof.Engine(CONFIG)


@pytest.fixture(params=BACKENDS)
def urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(sync URL, async URL) of an empty database."""
    with database(request.param, tmp_path) as db:
        if request.param == "sqlite":
            yield f"sqlite:///{db}", f"sqlite+aiosqlite:///{db}"
        else:
            url = db.replace("postgresql://", "postgresql+psycopg://", 1)
            yield url, url


@pytest.fixture
def store(urls: tuple[str, str]) -> Iterator[KeyStore]:
    engine = sa.create_engine(urls[0])
    s = KeyStore(engine)
    s.create_table()
    yield s
    engine.dispose()


# The same deployment with access tokens: each use looks the key's record up by key id.
TOKEN_ENGINE = keyproof.Engine(
    {
        "formats": ["keyproof_live"],
        "policy": {"routes": [{"method": "GET", "path": "/v1/briefs", "all_of": ["briefs:read"]}]},
        "tokens": {
            "issuer": "https://issuer.test/",
            "audience": "https://api.test/",
            "keys": [keyproof.ed25519_jwk(bytes(range(32)), "ed-test")],
        },
    }
)


def get(verifier: keyproof.Verifier, key: str, now: datetime | None = None) -> keyproof.Decision:
    return verifier.verify("GET", "/v1/briefs", {"Authorization": f"Bearer {key}"}, now=now)


@pytest.mark.parametrize("cached", [False, True], ids=["uncached", "record_cache"])
def test_sync_store_lifecycle_and_last_use(store: KeyStore, cached: bool) -> None:
    """Every change reaches the next request; with a record cache too (the store drops
    the changed key from the cache of each engine it serves)."""
    engine = keyproof.Engine({**CONFIG, "record_cache": {"ttl_seconds": 3600}}) if cached else ENGINE
    verifier = store.verifier(engine)
    t0 = datetime.now(timezone.utc)  # microseconds: what the database keeps
    minted = store.mint(engine, name="Sync key", scopes=["briefs:read"], expires_in="90d", now=t0)
    key_id = minted.record.id
    assert store.get(key_id) == minted.record and store.get(key_id).last_used_at is None
    assert get(verifier, minted.key, t0).status == 200
    assert store.get(key_id).last_used_at == t0
    # Coarse: inside the interval nothing is written; after it, the new instant is.
    assert get(verifier, minted.key, t0 + timedelta(seconds=30)).status == 200
    assert store.get(key_id).last_used_at == t0
    assert get(verifier, minted.key, t0 + timedelta(seconds=61)).status == 200
    assert store.get(key_id).last_used_at == t0 + timedelta(seconds=61)
    store.touch(key_id, t0)  # an older instant never overwrites a newer one
    assert store.get(key_id).last_used_at == t0 + timedelta(seconds=61)

    verifier = store.verifier(engine)  # a fresh rate-limit bucket: back to the real clock
    assert store.update(key_id, {"scopes": ["briefs:write"]}).scopes == ["briefs:write"]
    assert get(verifier, minted.key).code == "insufficient_scope"
    with pytest.raises(keyproof.KeyproofError) as bad:
        store.update(key_id, {"scopes": ["Not A Scope"]})
    assert bad.value.code == "invalid_scope" and store.get(key_id).scopes == ["briefs:write"]
    store.update(key_id, {"scopes": ["briefs:read"]})
    store.disable(key_id)
    assert get(verifier, minted.key).code == "key_disabled"
    store.enable(key_id)
    assert get(verifier, minted.key).status == 200

    successor = store.rotate(engine, key_id, timedelta(hours=1))
    old = store.get(key_id)
    assert old.rotation is not None and old.rotation.replaced_by == successor.record.id
    assert store.get(successor.record.id).scopes == ["briefs:read"]
    assert get(verifier, successor.key).status == 200
    grace = get(verifier, minted.key)
    assert grace.status == 200 and [w["code"] for w in grace.warnings] == ["rotation_grace"]
    assert (
        get(verifier, minted.key, datetime.now(timezone.utc) + timedelta(hours=2)).code
        == "rotation_grace_ended"
    )

    assert store.revoke(key_id).status == "revoked"
    assert get(verifier, minted.key).code == "key_revoked"
    with pytest.raises(keyproof.KeyproofError) as refused:
        store.rotate(engine, key_id)
    assert refused.value.code == "invalid_transition"
    assert len(store.list()) == 2  # the refused rotation stored nothing
    with pytest.raises(LookupError):
        store.revoke("no-such-key")
    stats = engine.cache_stats()
    assert (stats is None) if not cached else (stats is not None and stats["hits"] >= 2), stats


def test_request_counts_sync_and_async(urls: tuple[str, str], store: KeyStore) -> None:
    minted = store.mint(ENGINE, name="Counted key", scopes=["briefs:read"])
    key_id = minted.record.id
    assert store.get(key_id).request_count == 0
    assert get(store.verifier(ENGINE), minted.key).status == 200  # not counting unless asked
    assert store.get(key_id).request_count == 0
    counting = store.verifier(ENGINE, count_requests=True)
    for _ in range(3):
        assert get(counting, minted.key).status == 200
    assert (
        counting.verify("GET", "/v1/briefs", {"Authorization": "Bearer kp_live_bad"}).status == 401
    )  # not counted
    assert store.get(key_id).request_count == 3
    # Lifecycle writes keep the count (the row is read and written back locked).
    assert store.update(key_id, {"name": "Renamed key"}).request_count == 3

    async def concurrently() -> int:
        engine = create_async_engine(urls[1])
        astore = AsyncKeyStore(engine)
        averifier = astore.verifier(ENGINE, count_requests=True)
        decisions = await asyncio.gather(
            *(
                averifier.averify("GET", "/v1/briefs", {"Authorization": f"Bearer {minted.key}"})
                for _ in range(5)
            )
        )
        assert [d.status for d in decisions] == [200] * 5
        count = (await astore.get(key_id)).request_count
        await engine.dispose()
        return count

    assert asyncio.run(concurrently()) == 8  # increments in the database: none lost


def test_access_tokens_find_their_key_by_id(urls: tuple[str, str], store: KeyStore) -> None:
    """Under ``confirm_record`` a token's lookup receives its key id, not a storage
    hash: both stores find the record by id, and revoking the key stops the token."""
    minted = store.mint(TOKEN_ENGINE, name="Token key", scopes=["briefs:read"])
    token = TOKEN_ENGINE.issue_token(minted.record).access_token
    decision = get(store.verifier(TOKEN_ENGINE), token)
    assert decision.status == 200 and decision.principal is not None
    assert decision.principal.key_id == minted.record.id and decision.token is not None
    assert decision.token["record_confirmed"] is True
    by_id, by_hash = store.lookup(minted.record.id), store.lookup(minted.record.hash)
    assert by_id is not None and by_id == by_hash and by_id.id == minted.record.id

    async def verify_async() -> tuple[int, str]:
        engine = create_async_engine(urls[1])
        try:
            d = (
                await AsyncKeyStore(engine)
                .verifier(TOKEN_ENGINE)
                .averify("GET", "/v1/briefs", {"Authorization": f"Bearer {token}"})
            )
            return d.status, d.code
        finally:
            await engine.dispose()

    assert asyncio.run(verify_async()) == (200, "ok")
    store.revoke(minted.record.id)
    assert get(store.verifier(TOKEN_ENGINE), token).code == "key_revoked"
    assert asyncio.run(verify_async()) == (401, "key_revoked")


def test_async_fastapi_over_real_http(urls: tuple[str, str], store: KeyStore) -> None:
    async_engine = create_async_engine(urls[1])
    astore = AsyncKeyStore(async_engine)

    async def setup() -> tuple[keyproof.MintedKey, keyproof.MintedKey]:
        reader = await astore.mint(ENGINE, name="Reader", scopes=["briefs:read"])
        other = await astore.mint(ENGINE, name="Other", scopes=["briefs:read"])
        assert (await astore.get(reader.record.id)).name == "Reader"
        await async_engine.dispose()  # the server's event loop opens its own connections
        return reader, other

    reader, other = asyncio.run(setup())
    app = FastAPI()
    keyproof.fastapi.install(app)
    auth = keyproof.fastapi.KeyproofAuth(astore.verifier(ENGINE))

    @app.get("/v1/briefs")
    async def briefs(principal: keyproof.Principal = Depends(auth)) -> dict[str, object]:  # noqa: B008
        return {"key": principal.key_id}

    async def burst(base: str, key: str, n: int) -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            headers = {"Authorization": f"Bearer {key}"}
            return list(await asyncio.gather(*(client.get("/v1/briefs", headers=headers) for _ in range(n))))

    with serve(app) as base:
        # 30 concurrent requests, each looking its record up in the database: the burst of 20 passes.
        responses = asyncio.run(burst(base, reader.key, 30))
        assert sorted(r.status_code for r in responses) == [200] * 20 + [429] * 10
        assert {r.json()["key"] for r in responses if r.status_code == 200} == {reader.record.id}
        assert store.get(reader.record.id).last_used_at is not None
        assert store.get(other.record.id).last_used_at is None

        # Revoked (by another process's store) while the app serves: the next request is 401.
        store.revoke(other.record.id)
        denied = httpx.get(f"{base}/v1/briefs", headers={"Authorization": f"Bearer {other.key}"})
        assert denied.status_code == 401 and denied.json()["code"] == "invalid_key"
        rotated = store.rotate(ENGINE, reader.record.id)
        ok = httpx.get(f"{base}/v1/briefs", headers={"Authorization": f"Bearer {rotated.key}"})
        assert ok.status_code == 200 and ok.json()["key"] == rotated.record.id
    asyncio.run(async_engine.dispose())


def test_a_keys_own_quota_is_stored_and_applied(store: KeyStore) -> None:
    minted = store.mint(
        ENGINE, name="Small key", scopes=["briefs:read"], rate_limits={"default": {"limit": 2, "burst": 2}}
    )
    assert store.get(minted.record.id).rate_limits == {
        "default": {"limit": 2, "period_seconds": 60, "burst": 2}
    }
    verifier = store.verifier(ENGINE)
    codes = [get(verifier, minted.key).code for _ in range(3)]
    assert codes == ["ok", "ok", "rate_limited"]
    limited = get(verifier, minted.key)
    assert limited.header("RateLimit-Policy") == '"key";q=2;w=60'
    store.update(minted.record.id, {"rate_limits": {}})  # back to the plan's quota (burst 20)
    assert store.get(minted.record.id).rate_limits == {}
    assert get(store.verifier(ENGINE), minted.key).header("RateLimit-Policy") == '"starter";q=20;w=20'


def test_a_usage_limit_is_stored_counted_and_kept_by_rotation(store: KeyStore) -> None:
    minted = store.mint(ENGINE, name="Metered key", scopes=["briefs:read"], usage_limit={"limit": 2})
    assert store.get(minted.record.id).usage_limit == {"limit": 2}
    verifier = store.verifier(ENGINE)  # one rate-limit store: the counters live there
    decisions = [get(verifier, minted.key) for _ in range(3)]
    assert [d.code for d in decisions] == ["ok", "ok", "usage_exceeded"]
    assert decisions[1].header("RateLimit") is not None and decisions[1].usage is not None
    assert decisions[1].usage.remaining == 0 and decisions[2].status == 429
    assert decisions[2].header("Retry-After") is None  # credits never restart
    # The successor spends the same counter: rotating grants no fresh allowance.
    rotated = store.rotate(ENGINE, minted.record.id)
    assert store.get(rotated.record.id).usage_limit == {"limit": 2, "counter": minted.record.id}
    assert get(verifier, rotated.key).code == "usage_exceeded"
    store.update(rotated.record.id, {"usage_limit": {"limit": 3}})  # one more unit, same counter
    assert [get(verifier, rotated.key).code for _ in range(2)] == ["ok", "usage_exceeded"]
    store.update(rotated.record.id, {"usage_limit": None})
    assert store.get(rotated.record.id).usage_limit is None and get(verifier, rotated.key).code == "ok"


def test_an_origin_allowlist_is_stored_applied_and_kept_by_rotation(store: KeyStore) -> None:
    minted = store.mint(
        ENGINE, name="Browser key", scopes=["briefs:read"], allowed_origins=["HTTPS://Shop.Example.com:443"]
    )
    # Kept in core's canonical form.
    assert store.get(minted.record.id).allowed_origins == ["https://shop.example.com"]
    verifier = store.verifier(ENGINE)

    def from_site(key: str, origin: str | None) -> str:
        headers = {"Authorization": f"Bearer {key}", **({"Origin": origin} if origin else {})}
        return verifier.verify("GET", "/v1/briefs", headers).code

    assert from_site(minted.key, "https://shop.example.com") == "ok"
    assert from_site(minted.key, "https://evil.example") == "origin_not_allowed"
    assert from_site(minted.key, None) == "origin_not_allowed"
    rotated = store.rotate(ENGINE, minted.record.id)
    assert store.get(rotated.record.id).allowed_origins == ["https://shop.example.com"]
    with pytest.raises(keyproof.KeyproofError) as refused:
        store.update(rotated.record.id, {"allowed_origins": ["shop.example.com"]})
    assert refused.value.code == "invalid_origin"
    store.update(rotated.record.id, {"allowed_origins": ["https://*.example.com"]})
    assert from_site(rotated.key, "https://eu.example.com") == "ok"
    store.update(rotated.record.id, {"allowed_origins": []})  # every website again, and servers
    assert store.get(rotated.record.id).allowed_origins == [] and from_site(rotated.key, None) == "ok"
