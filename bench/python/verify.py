"""Python section of the bench (not run by the tests): per-call full verify of
the same request with the same checks (hash, expiry, scope, client IP
allowlist), in one run:

- the floor: ``hashlib.sha256`` of the key + ``hmac.compare_digest`` alone;
- a hand-rolled verify (hashlib, hmac, datetime, ipaddress);
- djangorestframework-api-key's ``KeyGenerator.verify`` (+ the same checks);
- keyproof ``Verifier.verify``: allowed (the lookup returns a ``KeyRecord``, a
  dict, JSON text), denied (unknown key, insufficient scope), with rate limiting;
- throughput of 2 threads sharing one Verifier vs 1 thread;
- ``import keyproof`` over the bare interpreter.

    .venv/bin/python bench/python/verify.py [--json] [--quick]

``--json`` prints only one JSON line (what ``bench/run`` reads).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

JSON_OUT = "--json" in sys.argv
QUICK = "--quick" in sys.argv
ROUNDS = int(os.environ.get("ROUNDS", "3" if QUICK else "5"))
N = int(os.environ.get("N", "20000" if QUICK else "100000"))
IP = "10.1.2.3"


def best_ns(fn: Callable[[], object], n: int = N, rounds: int = ROUNDS) -> float:
    """Best round's nanoseconds per call (the least disturbed by other load)."""
    for _ in range(min(n, 2_000)):
        fn()
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter_ns()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter_ns() - start) / n)
    return best


def threads_speedup(fn: Callable[[], object], n: int) -> float:
    """Throughput of 2 threads calling ``fn`` (sharing its objects) over 1 thread."""

    def calls_per_s(threads: int) -> float:
        per = n // threads
        barrier = threading.Barrier(threads + 1)

        def work() -> None:
            barrier.wait()
            for _ in range(per):
                fn()

        pool = [threading.Thread(target=work) for _ in range(threads)]
        for t in pool:
            t.start()
        barrier.wait()
        start = time.perf_counter()
        for t in pool:
            t.join()
        return per * threads / (time.perf_counter() - start)

    one = max(calls_per_s(1) for _ in range(ROUNDS))
    two = max(calls_per_s(2) for _ in range(ROUNDS))
    return two / one


def import_ms() -> dict[str, float]:
    """Fresh interpreters: ``import keyproof`` minus ``pass`` (best of 7), and
    the native module's own share from ``-X importtime``."""

    def run(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - start

    bare = min(run("pass") for _ in range(7))
    full = min(run("import keyproof") for _ in range(7))
    trace = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import keyproof"], capture_output=True, text=True, check=True
    ).stderr
    native_us = sum(
        int(line.split("|")[0].split(":")[1])
        for line in trace.splitlines()
        if line.rstrip().endswith("keyproof._keyproof")
    )
    total_us = [int(line.split("|")[1]) for line in trace.splitlines() if line.rstrip().endswith("| keyproof")]
    return {
        "bare_interpreter_ms": 1000 * bare,
        "import_over_bare_ms": 1000 * (full - bare),
        "importtime_keyproof_ms": (total_us[0] / 1000) if total_us else float("nan"),
        "importtime_native_ms": native_us / 1000,
    }


def main() -> None:
    # -X importtime first: nothing of keyproof loaded in this process yet matters to a child.
    imports = import_ms()
    start = time.perf_counter()
    import keyproof

    in_process_import_ms = 1000 * (time.perf_counter() - start)

    routes = [{"method": "GET", "path": "/v1/briefs", "all_of": ["briefs:read"]}]
    engine = keyproof.Engine({"formats": ["keyproof_live"], "policy": {"routes": routes}})
    limited = keyproof.Engine(
        {
            "formats": ["keyproof_live"],
            "policy": {
                "routes": routes,
                "plans": {"bench": {"limit": 1_000_000, "burst": 1_000_000, "period_seconds": 1}},
                "default_plan": "bench",
            },
        }
    )
    minted = keyproof.mint(
        "keyproof_live", name="Bench key", scopes=["briefs:read"], allowed_ips=["10.0.0.0/8"], expires_in="90d"
    )
    key, record = minted.key, minted.record
    headers = {"Authorization": f"Bearer {key}"}
    unknown = keyproof.mint("keyproof_live", name="Unknown").key
    unknown_headers = {"Authorization": f"Bearer {unknown}"}

    records = {record.hash: record}
    dicts = {record.hash: record.to_dict()}
    texts = {record.hash: record.to_json()}
    # A database lookup: the record's JSON text in SQLite (in memory), one SELECT per
    # lookup; and the same behind an engine with a record cache.
    sql = sqlite3.connect(":memory:", check_same_thread=False)
    sql.execute("CREATE TABLE keys (hash TEXT PRIMARY KEY, record TEXT NOT NULL)")
    sql.execute("INSERT INTO keys VALUES (?, ?)", (record.hash, record.to_json()))

    def select(storage_hash: str) -> str | None:
        row = sql.execute("SELECT record FROM keys WHERE hash = ?", (storage_hash,)).fetchone()
        return None if row is None else str(row[0])

    cached = keyproof.Engine({"formats": ["keyproof_live"], "policy": {"routes": routes}, "record_cache": {"ttl_seconds": 3600}})
    sql_verifier = keyproof.Verifier(engine, select)
    cached_verifier = keyproof.Verifier(cached, select)
    verifier = keyproof.Verifier(engine, records.get)
    dict_verifier = keyproof.Verifier(engine, dicts.get)
    text_verifier = keyproof.Verifier(engine, texts.get)
    rate_verifier = keyproof.Verifier(limited, records.get)

    # The floor: hash the presented key, compare with the stored digest.
    stored = hashlib.sha256(key.encode()).digest()

    def floor() -> bool:
        return hmac.compare_digest(hashlib.sha256(key.encode()).digest(), stored)

    # Hand-rolled: what such code keeps per key (networks parsed once at load).
    hand_db = {
        stored.hex(): {
            "digest": stored,
            "expires_at": record.expires_at,
            "scopes": frozenset(record.scopes),
            "networks": [ipaddress.ip_network(n) for n in record.allowed_ips],
        }
    }

    def checks(row: dict[str, Any], client_ip: str) -> int:
        expires_at = row["expires_at"]
        if expires_at is not None and datetime.now(UTC) >= expires_at:
            return 401
        if "briefs:read" not in row["scopes"]:
            return 403
        address = ipaddress.ip_address(client_ip)
        if not any(address in net for net in row["networks"]):
            return 403
        return 200

    def hand_rolled(h: dict[str, str] = headers) -> int:
        auth = h.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return 401
        presented = auth[7:]
        if not presented.startswith("kp_live_") or len(presented) != len(key):
            return 401
        digest = hashlib.sha256(presented.encode()).digest()
        row = hand_db.get(digest.hex())
        if row is None or not hmac.compare_digest(digest, row["digest"]):
            return 401
        return checks(row, IP)

    # djangorestframework-api-key: prefix.secret, sha512 hasher, row found by prefix.
    from django.conf import settings

    if not settings.configured:
        settings.configure()
    from rest_framework_api_key.crypto import KeyGenerator

    generator = KeyGenerator()
    drf_key, drf_prefix, drf_hashed = generator.generate()
    drf_db = {drf_prefix: dict(hand_db[stored.hex()], hashed_key=drf_hashed)}
    drf_headers = {"Authorization": f"Api-Key {drf_key}"}

    def drf_verify() -> int:
        auth = drf_headers.get("Authorization", "")
        if not auth.startswith("Api-Key "):
            return 401
        presented = auth[8:]
        row = drf_db.get(presented.partition(".")[0])
        if row is None or not generator.verify(presented, row["hashed_key"]):
            return 401
        return checks(row, IP)

    def drf_verify_alone() -> bool:
        return generator.verify(drf_key, drf_hashed)

    def call(v: keyproof.Verifier, method: str, h: dict[str, str]) -> Callable[[], object]:
        return lambda: v.verify(method, "/v1/briefs", h, IP).status

    cases: list[tuple[str, str, Callable[[], object], object]] = [
        ("floor", "hashlib.sha256 + hmac.compare_digest alone (the floor)", floor, True),
        ("hand_rolled", "hand-rolled verify (hashlib, hmac, datetime, ipaddress)", hand_rolled, 200),
        ("drf_keygen_verify", "djangorestframework-api-key KeyGenerator.verify alone", drf_verify_alone, True),
        ("drf_full", "djangorestframework-api-key KeyGenerator.verify + same checks", drf_verify, 200),
    ]
    kp_cases = [  # name, what, verifier, method, headers, expected status
        ("keyproof_allowed", "allowed (lookup → KeyRecord)", verifier, "GET", headers, 200),
        ("keyproof_allowed_dict", "allowed (lookup → dict)", dict_verifier, "GET", headers, 200),
        ("keyproof_allowed_json", "allowed (lookup → JSON text)", text_verifier, "GET", headers, 200),
        ("keyproof_allowed_sqlite", "allowed (lookup → SQLite SELECT of the JSON text)", sql_verifier, "GET", headers, 200),
        ("keyproof_allowed_cached", "allowed, record_cache over that SQLite lookup", cached_verifier, "GET", headers, 200),
        ("keyproof_denied_unknown", "denied: unknown key", verifier, "GET", unknown_headers, 401),
        ("keyproof_denied_unknown_sqlite", "denied: unknown key (SQLite lookup)", sql_verifier, "GET", unknown_headers, 401),
        ("keyproof_denied_unknown_cached", "denied: unknown key, record_cache over SQLite", cached_verifier, "GET", unknown_headers, 401),
        ("keyproof_denied_scope", "denied: insufficient scope", verifier, "POST", headers, 403),
        ("keyproof_rate_limited", "allowed, GCRA rate limit (memory store)", rate_verifier, "GET", headers, 200),
    ]
    cases += [(n, f"keyproof Verifier.verify, {what}", call(v, m, h), e) for n, what, v, m, h, e in kp_cases]
    by_name = {name: fn for name, _, fn, _ in cases}
    ns: dict[str, float] = {}
    for name, label, fn, expect in cases:
        got = fn()
        if got != expect:
            raise SystemExit(f"bench: {label} returned {got!r}, expected {expect!r}")
        ns[name] = best_ns(fn, N // 4 if name.startswith("drf") else N)

    n_threads = N // 2
    threads = {
        "keyproof_allowed": threads_speedup(by_name["keyproof_allowed"], n_threads),
        "keyproof_rate_limited": threads_speedup(by_name["keyproof_rate_limited"], n_threads),
        "hand_rolled": threads_speedup(hand_rolled, n_threads),
    }
    kp = ns["keyproof_allowed"]
    ratios = {
        "keyproof_vs_floor": kp / ns["floor"],
        "hand_rolled_vs_keyproof": ns["hand_rolled"] / kp,
        "drf_full_vs_keyproof": ns["drf_full"] / kp,
        "sqlite_vs_cached": ns["keyproof_allowed_sqlite"] / ns["keyproof_allowed_cached"],
        "sqlite_unknown_vs_cached": ns["keyproof_denied_unknown_sqlite"] / ns["keyproof_denied_unknown_cached"],
    }
    result = {
        "python": sys.version.split()[0],
        "calls": N,
        "rounds": ROUNDS,
        "load": os.getloadavg()[0],
        "ns": ns,
        "ratios": ratios,
        "threads_2_vs_1": threads,
        "import": dict(imports, in_process_ms=in_process_import_ms),
    }
    if JSON_OUT:
        print(json.dumps(result))
        return
    print(f"Python {result['python']}, {N} calls × {ROUNDS} rounds, best round per row\n")
    print("| benchmark | ns/call | vs keyproof allowed |\n|---|---|---|")
    for name, label, _, _ in cases:
        if name in ns:
            print(f"| {label} | {ns[name]:.0f} | {ns[name] / kp:.2f}× |")
    print(
        f"\nkeyproof allowed = {ratios['keyproof_vs_floor']:.1f}× the floor (goal ≤ 1×); "
        f"hand-rolled = {ratios['hand_rolled_vs_keyproof']:.2f}× keyproof (goal ≥ 8×); "
        f"DRF api-key = {ratios['drf_full_vs_keyproof']:.2f}× keyproof"
    )
    print(
        f"record_cache over an SQLite lookup: allowed {ratios['sqlite_vs_cached']:.2f}× faster, "
        f"unknown key {ratios['sqlite_unknown_vs_cached']:.2f}× faster"
    )
    print("2 threads vs 1 (throughput): " + ", ".join(f"{k} {v:.2f}×" for k, v in threads.items()) + " (goal ≥ 1.8×)")
    print(
        f"import keyproof: {imports['import_over_bare_ms']:.1f} ms over the bare interpreter "
        f"({imports['bare_interpreter_ms']:.1f} ms; goal ≤ 20 ms); -X importtime: keyproof "
        f"{imports['importtime_keyproof_ms']:.1f} ms, native module {imports['importtime_native_ms']:.1f} ms"
    )


if __name__ == "__main__":
    main()
