from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import keyproof
import pytest
from keyproof import Engine, RateLimitState

from .conftest import NOW
from .support import CONFIG, READER, RECORDS, REVOKED_MINT, WRITER, bearer, engine


def test_engine_from_dict_json_and_accessors() -> None:
    e = engine()
    assert Engine.from_json(json.dumps(CONFIG)).formats.ids == e.formats.ids
    assert Engine.from_dict(CONFIG).policy == e.policy
    assert e.policy.realm == "api.example.test" and e.policy.default_plan == "free"
    assert e.hasher.algorithm == "sha256" and not e.hasher.has_pepper
    assert e.parse(READER.key).format_id == "keyproof_live"
    assert e.hash_key(READER.key) == READER.record.hash
    assert repr(e) == "Engine(formats=['keyproof_live', 'keyproof_test'], realm='api.example.test')"
    with pytest.raises(keyproof.ConfigError) as info:
        Engine({"formats": ["nope"]})
    assert info.value.code == "unknown_format"
    with pytest.raises(keyproof.ConfigError) as info:
        Engine({"formats": ["keyproof_live"], "hashing": {"algorithm": "hmac-sha256"}})
    assert info.value.code == "missing_pepper"
    peppered = Engine(
        {"formats": ["keyproof_live"], "hashing": {"algorithm": "hmac-sha256"}}, pepper=b"s" * 32
    )
    assert peppered.hasher.has_pepper and "sss" not in repr(peppered.hasher)


def test_mint_without_a_format_takes_the_configs_first() -> None:
    e = Engine({"formats": ["matchii_live", "keyproof_live"]})
    assert e.formats.ids == ["keyproof_live", "matchii_live"]  # the set sorts by prefix, then id
    assert e.mint(name="Default key").record.format == "matchii_live"
    assert e.mint("keyproof_live", name="Named key").record.format == "keyproof_live"
    with pytest.raises(keyproof.ConfigError) as info:
        e.mint("nope", name="Named key")
    assert info.value.code == "unknown_format"


def test_prepare_and_decide_allowed() -> None:
    e = engine()
    prepared = e.prepare("GET", "/v1/items", bearer(READER.key))
    assert not prepared.denied and prepared.error is None and prepared.error_code is None
    assert prepared.lookup_hashes == [READER.record.hash]
    assert prepared.parsed_key is not None and prepared.parsed_key.preview == READER.preview
    assert READER.key not in repr(prepared) and READER.record.hash not in repr(prepared)
    decision = e.decide(prepared, READER.record, NOW)
    assert decision.allowed and bool(decision) and decision.code == "ok" and decision.status == 200
    assert decision.body is None
    assert decision.principal is not None and decision.principal.key_id == READER.record.id
    assert decision.principal.scopes == ["items:read"] and decision.principal.plan == "free"
    rl = decision.rate_limit
    assert rl is not None and rl.key == f"{READER.record.id}:default" and rl.class_ == "default"
    assert rl.remaining == 99 and isinstance(rl.state, RateLimitState)
    assert decision.header("ratelimit") == '"free";r=99;t=1'
    assert decision.header("ratelimit-policy") == '"free";q=100;w=10'
    assert e.rate_limit_key(prepared, READER.record) == rl.key
    assert json.loads(decision.to_json()) == decision.to_dict()


def test_denials_render_exact_http() -> None:
    e = engine()
    missing = e.decide(e.prepare("GET", "/v1/items", []), None, NOW)
    assert (missing.allowed, missing.code, missing.status) == (False, "missing_credentials", 401)
    assert missing.header("WWW-Authenticate") == 'Bearer realm="api.example.test"'
    assert missing.header("Content-Type") == "application/problem+json"
    assert missing.body is not None and json.loads(missing.body)["code"] == "missing_credentials"

    prepared = e.prepare("GET", "/v1/items", bearer("kp_live_short"))
    assert prepared.denied and prepared.error_code == "wrong_length" and prepared.lookup_hashes == []
    assert isinstance(prepared.error, keyproof.KeyFormatError) and prepared.error.code == "wrong_length"
    bad = e.decide(prepared, None, NOW)
    assert (bad.code, bad.public_code, bad.status) == ("wrong_length", "invalid_key", 401)

    unknown = e.decide(e.prepare("GET", "/v1/items", bearer(REVOKED_MINT.key)), None, NOW)
    revoked = e.decide(
        e.prepare("GET", "/v1/items", bearer(REVOKED_MINT.key)), RECORDS[REVOKED_MINT.record.hash], NOW
    )
    assert (unknown.code, revoked.code) == ("unknown_key", "key_revoked")
    # callers cannot tell them apart
    assert (unknown.status, unknown.headers, unknown.body) == (revoked.status, revoked.headers, revoked.body)

    scope = e.decide(e.prepare("POST", "/v1/items", bearer(READER.key)), READER.record, NOW)
    assert (scope.code, scope.status, scope.missing_scope) == ("insufficient_scope", 403, "items:write")
    assert 'scope="items:write"' in (scope.header("www-authenticate") or "")
    for d in (missing, bad, unknown, revoked, scope):
        assert READER.key not in d.to_json() and READER.record.hash not in d.to_json()


def test_decide_accepts_record_dicts_json_and_state_forms() -> None:
    e = engine()
    prepared = e.prepare("GET", "/v1/limited", bearer(WRITER.key))
    first = e.decide(prepared, WRITER.record.to_dict(), NOW)
    assert first.allowed and first.rate_limit is not None
    state = first.rate_limit.state
    for form in (state, state.to_dict(), state.to_json()):
        d = e.decide(prepared, WRITER.record.to_json(), NOW, form)
        assert d.rate_limit is not None and d.rate_limit.remaining == 1
    assert RateLimitState.from_json(state.to_json()) == state == RateLimitState(state.tat_us)
    same = RateLimitState(state.tat_us)
    assert hash(same) == hash(state) and {state, same} == {state}
    with pytest.raises(keyproof.ConfigError) as info:
        e.decide(prepared, WRITER.record, NOW, {"tat": 1})
    assert info.value.code == "invalid_quota"


def test_rate_limit_until_denied_then_retry_after() -> None:
    e = engine()
    prepared = e.prepare("GET", "/v1/limited", bearer(READER.key))
    state = None
    for _ in range(3):
        d = e.decide(prepared, READER.record, NOW, state)
        assert d.allowed and d.rate_limit is not None
        state = d.rate_limit.state
    denied = e.decide(prepared, READER.record, NOW, state)
    assert (denied.code, denied.status) == ("rate_limited", 429)
    assert denied.header("Retry-After") == "1"
    assert denied.rate_limit is not None and denied.rate_limit.state == state
    later = e.decide(prepared, READER.record, NOW + timedelta(seconds=1), state)
    assert later.allowed


def test_gcra_and_quota() -> None:
    q = keyproof.Quota(60, 10)
    assert (q.limit, q.burst, q.period_seconds) == (60, 10, 60)
    assert keyproof.Quota.from_dict(q.to_dict()) == q
    out = keyproof.gcra(None, 1_000_000, q)
    assert out.allowed and out.remaining == 9 and out.retry_after_seconds is None
    with pytest.raises(keyproof.ConfigError) as info:
        keyproof.Quota(0, 1)
    assert info.value.code == "invalid_quota"


def test_one_engine_shared_by_many_threads() -> None:
    e = engine()
    cases = [
        ("GET", "/v1/items", READER, "ok"),
        ("POST", "/v1/items", READER, "insufficient_scope"),
        ("POST", "/v1/items", WRITER, "ok"),
        ("GET", "/v1/nope", WRITER, "route_not_allowed"),
        ("GET", "/v1/items", REVOKED_MINT, "key_revoked"),
    ]
    barrier = threading.Barrier(8)

    def run(i: int) -> list[str]:
        barrier.wait()
        codes = []
        for _ in range(50):
            method, path, m, _code = cases[i % len(cases)]
            prepared = e.prepare(method, path, bearer(m.key))
            record = next((RECORDS[h] for h in prepared.lookup_hashes if h in RECORDS), None)
            codes.append(e.decide(prepared, record, NOW).code)
        return codes

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(run, range(8)))
    for i, codes in enumerate(results):
        assert codes == [cases[i % len(cases)][3]] * 50
