"""Runs every golden vector file in ``tests/vectors/`` in place (never copied)."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Callable

import keyproof
import pytest
from keyproof import Engine, KeyRecord
from keyproof.redis import RateLimitStoreError, RedisVerifier

from .conftest import VECTORS

KINDS = {
    "decisions",
    "config",
    "parse",
    "mint",
    "rate_limit",
    "scan",
    "lifecycle",
    "tokens",
    "charges",
    "record_cache",
}


@cache
def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    return data


def vector_files() -> list[Path]:
    return sorted(VECTORS.glob("*.json"))


def cases() -> list[Any]:
    out = []
    for path in vector_files():
        for i, v in enumerate(load(path.name)["vectors"]):
            out.append(pytest.param(path.name, i, id=f"{path.stem}:{i}:{v.get('name', '')}"))
    return out


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@cache
def engine_for(name: str) -> Engine:
    return Engine(load(name)["config"])


@cache
def records_for(name: str) -> tuple[KeyRecord, ...]:
    return tuple(KeyRecord.from_dict(r) for r in load(name)["records"])


def expect_error(expected: dict[str, Any], call: Callable[[], object]) -> None:
    with pytest.raises(keyproof.KeyproofError) as info:
        call()
    assert info.value.code == expected["code"]
    assert info.value.code in keyproof.all_codes()


class FailingStore:
    """The rate-limit store of a ``rate_store_failure`` vector: Redis is down."""

    def __init__(self, failure: dict[str, Any] | str) -> None:
        # "policy": the store names no answer, the engine policy's rate_store_failure does.
        named = failure if isinstance(failure, dict) else {}
        self.on_error = named.get("on_error")
        self.retry_after_seconds = named.get("retry_after_seconds")

    def get(self, key: str) -> None:
        raise RateLimitStoreError("the store is down")

    def compare_and_set(self, key: str, expected: object, new: object, ttl: int) -> bool:
        raise AssertionError("a failed store gets no write")


def state_of(state: Any) -> keyproof.RateLimitState | None:
    return None if state is None else keyproof.RateLimitState.from_dict(state)


class VectorStore:
    """The rate-limit store of one vector: every bucket holds the vector's state,
    or, given ``rate_states`` (usage_limits.json), each counter its own."""

    def __init__(self, state: Any, states: dict[str, Any] | None = None) -> None:
        self.state = state_of(state)
        self.states = None if states is None else {k: state_of(s) for k, s in states.items()}
        self.writes: list[keyproof.RateLimitState] = []

    def get(self, key: str) -> keyproof.RateLimitState | None:
        return self.state if self.states is None else self.states.get(key)

    def compare_and_set(
        self, key: str, expected: keyproof.RateLimitState | None, new: keyproof.RateLimitState, ttl: int
    ) -> bool:
        assert expected == self.get(key)
        self.writes.append(new)
        return True


def run_decision(name: str, v: dict[str, Any]) -> None:
    engine = engine_for(name)
    records = records_for(name)
    req, now, state = v["request"], when(v["now"]), v.get("rate_limit_state")
    states = v.get("rate_states")  # usage_limits.json: each counter's state by key
    failure = v.get("rate_store_failure")
    headers = [(h[0], h[1]) for h in req.get("headers", [])]
    by_id = next((r for r in records if r.id == v["record_id"]), None) if v.get("record_id") else None

    def lookup(h: str) -> KeyRecord | None:
        if v.get("record_id") is not None:
            return by_id
        return next((r for r in records if r.hash == h), None)

    # The step, driven by hand as the vector README describes.
    cost = req.get("usage_cost")  # usage_limits.json: the host priced the request
    step = engine.begin(req["method"], req["path"], headers, req.get("client_ip"), now, cost)
    while (kind := step.next_step())[0] != "done":
        if kind[0] == "lookup":
            assert kind[1] is not None
            step.record(lookup(kind[1]))
        elif failure == "policy":  # rate_store_policy.json: the host names no answer
            step.rate_state_unavailable()
        elif failure is not None:  # rate_store.json: the host's store failed
            step.rate_state_unavailable(failure["on_error"], failure.get("retry_after_seconds"))
        else:
            step.rate_state(state if states is None else states.get(kind[1]))
    outcome = step.finish()
    decision, expected = outcome.decision, v["expected"]
    if "touch_last_used" in v:  # last_used.json pins the last-used hint
        touch = outcome.touch_last_used
        assert (touch and touch.isoformat().replace("+00:00", "Z")) == v["touch_last_used"]
    assert decision.code == expected["code"]
    assert decision.status == expected["status"]
    assert decision.headers == [tuple(h) for h in expected["headers"]]
    assert decision.body == expected["body"]
    assert decision.allowed == expected["allowed"]
    principal = expected.get("principal")
    assert decision.key_id == (principal["key_id"] if principal else expected.get("key_id"))
    assert decision.to_dict() == expected
    # The Verifier (sync: lookups answered in Rust; async: through the same generator) agrees …
    touched: list[tuple[str, datetime]] = []
    verifier_class, store = (
        (keyproof.Verifier, VectorStore(state, states))
        if failure is None
        else (RedisVerifier, FailingStore(failure))
    )
    verifier = verifier_class(
        engine, lookup, rate_limits=store, touch=lambda key_id, at: touched.append((key_id, at))
    )
    got = verifier.verify(req["method"], req["path"], headers, req.get("client_ip"), now=now, usage_cost=cost)
    assert got == decision
    if "touch_last_used" in v:
        key_id = decision.principal.key_id if decision.principal else None
        assert touched == ([(key_id, when(v["touch_last_used"]))] if v["touch_last_used"] else [])

    async def alookup(h: str) -> KeyRecord | None:
        return lookup(h)

    averifier = verifier_class(engine, alookup, rate_limits=store)
    again = asyncio.run(
        averifier.averify(req["method"], req["path"], headers, req.get("client_ip"), now=now, usage_cost=cost)
    )
    assert again == decision
    if failure is not None or states is not None:
        return  # the one-call decide has no store to fail, and reads no usage counter
    # … and so do the lower-level prepare/decide and the request-dict entry point.
    prepared = engine.prepare_request(req)
    record = (
        by_id
        if v.get("record_id") is not None
        else next((r for r in records if r.hash in prepared.lookup_hashes), None)
    )
    assert engine.decide(prepared, record, now, state) == decision


CONFIG_LOADERS: dict[str, Callable[[str], object]] = {
    "record": KeyRecord.from_json,
    "policy": keyproof.Policy.from_json,
    "format": keyproof.Format.from_json,
    "engine": Engine.from_json,
    "rate_limit_state": keyproof.RateLimitState.from_json,
}


def run_config(v: dict[str, Any]) -> None:
    load_it = CONFIG_LOADERS[v["what"]]
    text = v["input"] if isinstance(v["input"], str) else json.dumps(v["input"])
    if v["expected"]["ok"]:
        load_it(text)
    else:
        expect_error(v["expected"], lambda: load_it(text))


def run_parse(file: dict[str, Any], v: dict[str, Any]) -> None:
    formats = keyproof.FormatSet(file["formats"])
    expected = v["expected"]
    if not expected["ok"]:
        expect_error(expected, lambda: formats.parse(v["key"]))
        return
    parsed = formats.parse(v["key"])
    hasher = keyproof.Hasher()
    got = {
        "ok": True,
        "environment": parsed.environment,
        "format_id": parsed.format_id,
        "has_checksum": parsed.has_checksum,
        "hash": hasher.hash(parsed),
        "kind": parsed.kind,
        "lookup_hashes": hasher.lookup_hashes(parsed),
        "preview": parsed.preview,
        "public_part": parsed.public_part,
    }
    assert got == expected


def run_mint(v: dict[str, Any]) -> None:
    expected = v["expected"]
    fmt = v["format"] if isinstance(v["format"], str) else keyproof.Format.from_dict(v["format"])

    def call() -> keyproof.MintedKey:
        return keyproof.mint(
            fmt, v["options"], random_bytes=bytes.fromhex(v["random_hex"]), now=when(v["now"])
        )

    if not expected["ok"]:
        expect_error(expected, call)
        return
    minted = call()
    assert minted.key == expected["key"]
    assert minted.record.to_dict() == expected["record"]


def run_rate_limit(v: dict[str, Any]) -> None:
    outcome = keyproof.gcra(v["state"], v["now_us"], v["quota"], v["cost"])
    assert outcome.to_dict() == v["expected"]


def run_charge(name: str, v: dict[str, Any]) -> None:
    record = next(r for r in records_for(name) if r.id == v["record_id"])
    state = None if v["state"] is None else keyproof.RateLimitState(v["state"]["tat_us"])
    refund = v.get("operation") == "refund"
    settle = record.refund if refund else record.charge
    charged = settle(v["units"], state, when(v["now"]))
    assert (charged and charged.to_dict()) == v["expected"]
    # The Verifier charges the same through its store (sync and async), starting from that state.
    store = keyproof.MemoryRateLimitStore()
    counter = record.usage(None, when(v["now"]))
    if counter is not None and state is not None:
        store.compare_and_set(counter.key, None, state, 60)
    verifier = keyproof.Verifier(engine_for(name), lambda _: None, rate_limits=store)
    through = verifier.refund if refund else verifier.charge
    assert through(record, v["units"], now=when(v["now"])) == charged
    if charged is not None and charged.write is not None:
        assert store.get(charged.write.key) == charged.write.new


def run_scan(file: dict[str, Any], v: dict[str, Any]) -> None:
    formats = keyproof.FormatSet(file["formats"])
    findings = [
        {
            "checksum_verified": f.checksum_verified,
            "column": f.column,
            "end": f.byte_end,
            "format_id": f.format_id,
            "line": f.line,
            "preview": f.preview,
            "start": f.byte_start,
        }
        for f in formats.scan(v["text"])
    ]
    assert findings == v["expected"]["findings"]
    assert formats.redact(v["text"]) == v["expected"]["redacted"]


def run_lifecycle(v: dict[str, Any]) -> None:
    record = KeyRecord.from_dict(v["record"])
    op, now = v["operation"], when(v["now"])
    calls: dict[str, Callable[[], KeyRecord]] = {
        "rotate": lambda: record.rotated(
            op.get("successor_id", ""), grace=timedelta(hours=op.get("grace_hours", 0)), now=now
        ),
        "revoke": lambda: record.revoked(now=now),
        "disable": lambda: record.disabled(now=now),
        "enable": lambda: record.enabled(now=now),
        "update": lambda: record.updated(op.get("update", {}), now=now),
    }
    if not v["expected"]["ok"]:
        expect_error(v["expected"], calls[op["op"]])
        return
    after = calls[op["op"]]()
    assert after.to_dict() == v["expected"]["record"]
    assert (after != record) == v["expected"]["changed"]


def run_tokens(name: str, v: dict[str, Any]) -> None:
    expected = v["expected"]
    if v["op"] == "config":
        if expected["ok"]:
            Engine(v["input"])
        else:
            expect_error(expected, lambda: Engine(v["input"]))
        return
    engine, records = engine_for(name), records_for(name)
    now, random = when(v["now"]), bytes.fromhex(v["random_hex"])
    if v["op"] == "request":
        r = v["request"]
        x = engine.begin_token(
            r["method"], [tuple(h) for h in r["headers"]], r["body"], r["client_ip"], now, random
        )
        while (step := x.next_step())[0] == "lookup":
            x.record(next((rec for rec in records if rec.hash == step[1]), None))
        response = x.finish()
        assert (response.status, response.code, response.error) == (
            expected["status"],
            expected["code"],
            expected["error"],
        )
        assert response.headers == [tuple(h) for h in expected["headers"]]
        assert response.body == expected["body"]
        assert response.to_dict() == expected
        # The framework-neutral endpoint agrees.
        endpoint = keyproof.TokenEndpoint(
            engine, lambda h: next((rec for rec in records if rec.hash == h), None)
        )
        again = endpoint.exchange(
            r["method"], [tuple(h) for h in r["headers"]], r["body"], r["client_ip"], now=now, random=random
        )
        assert again == response
    else:
        record = next(rec for rec in records if rec.id == v["record_id"])

        def issue() -> keyproof.IssuedToken:
            return engine.issue_token(record, v["options"], now=now, random=random)

        if not expected["ok"]:
            expect_error(expected, issue)
            return
        issued = issue()
        assert (issued.access_token, issued.claims, issued.kid) == (
            expected["access_token"],
            expected["claims"],
            expected["kid"],
        )
        assert issued.access_token not in repr(issued)


def run_record_cache(name: str, v: dict[str, Any], asynchronous: bool) -> None:
    """A fresh engine per vector; its steps in order through the Verifier, as a host with a store."""
    engine = Engine({**load(name)["config"], "record_cache": v["record_cache"]})
    store = {r.id: r for r in records_for(name)}
    asked = {"lookups": 0, "saved": False, "touched": False}

    def lookup(h: str) -> KeyRecord | None:
        asked["lookups"] += 1
        return next((r for r in store.values() if r.hash == h), None)

    def save(record: KeyRecord) -> None:
        store[record.id], asked["saved"] = record, True

    def touch(key_id: str, at: datetime) -> None:
        store[key_id] = KeyRecord.from_dict({**store[key_id].to_dict(), "last_used_at": at})
        asked["touched"] = True

    async def alookup(h: str) -> KeyRecord | None:
        await asyncio.sleep(0)
        return lookup(h)

    verifier = keyproof.Verifier(engine, alookup if asynchronous else lookup, save, touch=touch)
    for step in v["steps"]:
        for op in step.get("before", []):
            if "delete" in op:
                del store[op["delete"]]
            if "invalidate" in op:
                engine.invalidate_cached(op["invalidate"])
        asked.update(lookups=0, saved=False, touched=False)
        r = step["request"]
        headers = [tuple(h) for h in r["headers"]]
        args = (r["method"], r["path"], headers, r["client_ip"])
        if asynchronous:
            decision = asyncio.run(verifier.averify(*args, now=when(step["now"])))
        else:
            decision = verifier.verify(*args, now=when(step["now"]))
        got = {"code": decision.code, "status": decision.status, **asked}
        assert got == step["expected"], v["name"]
    assert engine.cache_stats() == v["stats"], v["name"]


def test_vectors_exist_and_kinds_are_known() -> None:
    files = vector_files()
    assert files, f"no vectors in {VECTORS}"
    total = sum(len(load(p.name)["vectors"]) for p in files)
    assert total >= 300
    for p in files:
        assert load(p.name)["kind"] in KINDS, p.name


@pytest.mark.parametrize(("name", "index"), cases())
def test_vector(name: str, index: int) -> None:
    file = load(name)
    v = file["vectors"][index]
    kind = file["kind"]
    if kind == "decisions":
        run_decision(name, v)
    elif kind == "config":
        run_config(v)
    elif kind == "parse":
        run_parse(file, v)
    elif kind == "mint":
        run_mint(v)
    elif kind == "rate_limit":
        run_rate_limit(v)
    elif kind == "scan":
        run_scan(file, v)
    elif kind == "lifecycle":
        run_lifecycle(v)
    elif kind == "tokens":
        run_tokens(name, v)
    elif kind == "charges":
        run_charge(name, v)
    elif kind == "record_cache":
        run_record_cache(name, v, asynchronous=False)
        run_record_cache(name, v, asynchronous=True)
    else:
        pytest.fail(f"{name}: unknown vector kind {kind!r}")


def test_every_code_is_covered_by_some_vector() -> None:
    seen: set[str] = set()
    for p in vector_files():
        for v in load(p.name)["vectors"]:
            code = (v.get("expected") or {}).get("code")
            if isinstance(code, str):
                seen.add(code)
    missing = sorted(set(keyproof.all_codes()) - seen)
    assert not missing, missing
