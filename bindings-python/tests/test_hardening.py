"""Bad input is a decision or a ``KeyproofError`` with a code, never a stray
exception; no key is echoed in an error or a repr; a peer without an IP address
is not a malformed request."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Callable

import keyproof
import keyproof.asgi
import pytest
from keyproof import Engine, KeyRecord, RateLimitState, Verifier
from keyproof.wire import peer_ip
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .conftest import NOW, SEED
from .support import READER, bearer, engine, lookup

NAIVE = datetime(2026, 3, 18, 10, 30)
SURROGATE = "caf\udce9"
KEY = READER.key


def nested(depth: int) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for _ in range(depth):
        data = {"a": data}
    return data


def code_of(call: Callable[[], object]) -> str:
    with pytest.raises(keyproof.KeyproofError) as info:
        call()
    assert info.value.code in keyproof.all_codes()
    return info.value.code


# -- Lone surrogates -----------------------------------------------------------


def test_a_lone_surrogate_in_an_unrelated_header_is_ignored() -> None:
    headers = [*bearer(KEY), ("X-Note", SURROGATE), (SURROGATE, "x")]
    assert Verifier(engine(), lookup).verify("GET", "/v1/items", headers, now=NOW).allowed
    assert engine().prepare("GET", "/v1/items", headers).lookup_hashes == [READER.record.hash]
    assert keyproof.extract(dict(headers)).secret == KEY


def test_a_lone_surrogate_in_the_credential_is_a_decision() -> None:
    v = Verifier(engine(), lookup)
    d = v.verify("GET", "/v1/items", [("Authorization", f"Bearer {SURROGATE}")], now=NOW)
    assert (d.allowed, d.code) == (False, "invalid_header_value")
    # the same decision as for a non-ASCII byte sent on the wire
    latin1 = v.verify("GET", "/v1/items", [(b"Authorization", "Bearer caf\xe9".encode("latin-1"))], now=NOW)
    assert (d.status, d.headers, d.body) == (latin1.status, latin1.headers, latin1.body)
    with pytest.raises(keyproof.CredentialError) as info:
        keyproof.extract({"Authorization": f"Bearer {SURROGATE}"})
    assert info.value.code == "invalid_header_value"


def test_lone_surrogates_in_method_path_and_client_ip_are_decisions() -> None:
    v = Verifier(engine(), lookup)
    assert v.verify(SURROGATE, "/v1/items", bearer(KEY), now=NOW).code == "invalid_method"
    assert v.verify("GET", f"/v1/{SURROGATE}", bearer(KEY), now=NOW).code == "invalid_path"
    assert v.verify("GET", "/v1/items", bearer(KEY), SURROGATE, now=NOW).code == "invalid_client_ip"


def test_lone_surrogates_in_loaded_data_are_coded_errors() -> None:
    record = READER.record.to_dict()
    assert code_of(lambda: KeyRecord.from_dict({**record, "name": SURROGATE})) == "invalid_record"
    assert code_of(lambda: KeyRecord.from_json(SURROGATE)) == "invalid_json"
    with pytest.raises(keyproof.KeyFormatError):
        keyproof.parse_key(KEY[:-1] + "\udce9")


# -- Nesting, integers, floats ---------------------------------------------------


def test_data_nested_deeper_than_64_levels_is_refused() -> None:
    record = READER.record.to_dict()
    assert KeyRecord.from_dict({**record, "metadata": nested(60)}).metadata == nested(60)
    assert code_of(lambda: KeyRecord.from_dict({**record, "metadata": nested(65)})) == "invalid_record"
    assert (
        code_of(lambda: keyproof.mint("keyproof_live", name="deep", metadata=nested(10_000)))
        == "invalid_record"
    )
    assert code_of(lambda: READER.record.updated({"metadata": nested(100)})) == "invalid_record"
    assert code_of(lambda: Engine({"formats": ["keyproof_live"], "policy": nested(100)})) == "invalid_policy"
    loop: dict[str, Any] = {}
    loop["a"] = loop
    assert code_of(lambda: READER.record.updated({"metadata": loop})) == "invalid_record"


def test_integers_beyond_64_bits_and_non_finite_floats_are_refused() -> None:
    assert code_of(lambda: RateLimitState.from_dict({"tat_us": 2**64})) == "invalid_quota"
    assert code_of(lambda: RateLimitState.from_dict({"tat_us": 2**63})) == "invalid_quota"
    assert code_of(lambda: keyproof.Quota.from_dict({"limit": 2**70, "burst": 1})) == "invalid_quota"
    assert code_of(lambda: keyproof.Quota(2**70, 1)) == "invalid_quota"
    meta: list[Any] = [2**64, -(2**63) - 1, float("nan"), float("inf")]
    for value in meta:

        def mint_with(v: Any = value) -> object:
            return keyproof.mint("keyproof_live", name="n", metadata={"n": v})

        assert code_of(mint_with) == "invalid_record"
    big = keyproof.mint("keyproof_live", name="big", metadata={"n": 2**64 - 1}, random_bytes=SEED, now=NOW)
    assert big.record.metadata == {"n": 2**64 - 1}


def test_rate_limit_state_out_of_range_is_a_coded_error() -> None:
    values: list[Any] = [2**63, -(2**63) - 1, "1", None]
    for value in values:

        def state(v: Any = value) -> object:
            return RateLimitState(v)

        assert code_of(state) == "invalid_quota"
    assert RateLimitState(2**63 - 1).tat_us == 2**63 - 1


# -- Naive datetimes --------------------------------------------------------------


def test_naive_datetimes_are_refused_everywhere() -> None:
    e, record = engine(), READER.record
    calls: list[Callable[[], object]] = [
        lambda: e.begin("GET", "/v1/items", bearer(KEY), now=NAIVE),
        lambda: Verifier(e, lookup).verify("GET", "/v1/items", bearer(KEY), now=NAIVE),
        lambda: e.decide(e.prepare("GET", "/v1/items", bearer(KEY)), record, NAIVE),
        lambda: keyproof.mint("keyproof_live", name="naive", now=NAIVE),
        lambda: keyproof.mint("keyproof_live", name="naive", expires_at=NAIVE),
        lambda: keyproof.expiry_from_preset("90d", NAIVE),
        lambda: record.revoked(now=NAIVE),
        lambda: record.rotated("key_next", now=NAIVE),
        lambda: record.updated({"expires_at": NAIVE}),
        lambda: KeyRecord.from_dict({**record.to_dict(), "created_at": NAIVE}),
        lambda: record.revoked(now="2026-03-18T10:30:00Z"),  # type: ignore[arg-type]
    ]
    for call in calls:
        with pytest.raises(keyproof.ConfigError, match=r"naive|datetime") as info:
            call()
        assert info.value.code == "invalid_timestamp"


def test_out_of_range_grace_is_a_coded_error() -> None:
    assert (
        code_of(lambda: READER.record.rotated("key_next", grace=timedelta.max, now=NOW))
        == "invalid_timestamp"
    )
    assert code_of(lambda: READER.record.rotated("key_next", grace=timedelta(hours=-1), now=NOW)) == (
        "invalid_transition"
    )


# -- No key in messages or reprs ---------------------------------------------------


def test_a_key_in_the_wrong_place_is_never_echoed() -> None:
    record = READER.record.to_dict()
    calls: list[Callable[[], object]] = [
        lambda: keyproof.Format.preset(KEY),
        lambda: keyproof.FormatSet([KEY]),
        lambda: keyproof.FormatSet.presets([KEY]),
        lambda: keyproof.mint(KEY, name="preset id"),
        lambda: keyproof.mint("keyproof_live", name="cidr", allowed_ips=[KEY]),
        lambda: keyproof.mint("keyproof_live", name="id style", id_style=KEY),
        lambda: keyproof.mint("keyproof_live", {"name": "field", KEY: 1}),
        lambda: keyproof.mint("keyproof_live", name="expiry", expires_in=KEY),
        lambda: keyproof.expiry_from_preset(KEY, NOW),
        lambda: keyproof.Hasher(KEY),
        lambda: keyproof.ExtractionConfig([KEY]),
        lambda: KeyRecord.from_dict({**record, "status": KEY}),
        lambda: KeyRecord.from_dict({**record, "hash": KEY}),
        lambda: KeyRecord.from_dict({**record, "created_at": KEY}),
        lambda: KeyRecord.from_dict({**record, KEY: 1}),
        lambda: KeyRecord.from_dict({**record, "allowed_ips": [KEY]}),
        lambda: KeyRecord.from_dict({**record, "id": KEY + "!"}),
        lambda: READER.record.updated({"allowed_ips": [KEY]}),
        lambda: READER.record.updated({"expires_at": KEY}),
        lambda: READER.record.rotated(KEY + "!", now=NOW),
        lambda: Engine({"formats": [KEY]}),
        lambda: Engine({"formats": ["keyproof_live"], "policy": {"default_plan": KEY}}),
        lambda: keyproof.Quota.from_dict({"limit": KEY, "burst": 1}),
        lambda: keyproof.parse_key(KEY + "x"),
    ]
    for call in calls:
        with pytest.raises(keyproof.KeyproofError) as info:
            call()
        assert info.value.code in keyproof.all_codes()
        for text in (str(info.value), repr(info.value), repr(info.value.args)):
            assert KEY not in text, text
    # Accepted where any id is: the value is kept, but no repr shows it.
    rotated = READER.record.rotated(KEY, now=NOW)
    chosen = keyproof.mint("keyproof_live", name="key as id", id=KEY, random_bytes=SEED, now=NOW)
    for text in (repr(rotated.rotation), repr(chosen.record), repr(chosen)):
        assert KEY not in text and "kp_live_" in text
    bad_ip = engine().begin("GET", "/v1/items", bearer(KEY), KEY, NOW).finish().decision
    assert bad_ip.code == "invalid_client_ip" and KEY not in bad_ip.to_json() and KEY not in repr(bad_ip)


# -- Peers without an IP address -----------------------------------------------------


def test_peer_ip() -> None:
    assert peer_ip("testclient") is None and peer_ip(None) is None and peer_ip("") is None
    assert peer_ip("203.0.113.9") == "203.0.113.9" and peer_ip("::1") == "::1"
    assert peer_ip("fe80::1%eth0") == "fe80::1"
    # Core still refuses a malformed address that a host passes explicitly.
    d = engine().begin("GET", "/v1/items", bearer(KEY), "testclient", NOW).finish().decision
    assert (d.status, d.code) == (400, "invalid_client_ip")


@pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient` is deprecated")
def test_starlette_testclient_peer_is_not_a_malformed_request() -> None:
    fenced = keyproof.mint(
        "keyproof_live",
        name="Fenced key",
        scopes=["items:read"],
        allowed_ips=["10.0.0.0/8"],
        random_bytes=SEED,
    )
    records = {READER.record.hash: READER.record, fenced.record.hash: fenced.record}

    async def items(request: Request) -> JSONResponse:
        return JSONResponse({"key_id": request.state.keyproof.key_id})

    app = Starlette(
        routes=[Route("/v1/items", items)],
        middleware=[Middleware(keyproof.asgi.KeyproofMiddleware, engine=engine(), lookup=records.get)],
    )
    from starlette.testclient import TestClient

    with TestClient(app) as client:  # its peer address is "testclient"
        ok = client.get("/v1/items", headers=dict(bearer(KEY)))
        assert ok.status_code == 200 and ok.json() == {"key_id": READER.record.id}
        refused = client.get("/v1/items", headers=dict(bearer(fenced.key)))
        assert refused.status_code == 403 and refused.json()["code"] == "ip_not_allowed"
