"""Python and Node processes share one bucket in one redis-server.

Several OS processes (Python with the sync store and threads, Python with the
asyncio store, Node with ioredis and concurrent promises) verify one key at one
instant of an injected clock: exactly the burst is allowed, every request gets an
answer, the stored state is what the allowed requests add up to, and both
runtimes parse it. Then the bucket refills at the plan rate across processes,
both runtimes render the same failure answers, and a server stopped mid-test
gives each process its configured policy with no exception.

Run as a script, this file is the Python worker (``python test_redis_processes.py
JOB``): it reads commands as JSON lines on stdin and answers one JSON line each;
``bindings-node/test/redis.test.mjs`` is the Node worker (``KEYPROOF_REDIS_WORKER=JOB``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

import pytest

HERE = Path(__file__).resolve().parent
NODE_WORKER = HERE.parents[1] / "bindings-node" / "test" / "redis.test.mjs"

LIMIT, PERIOD, BURST = 60, 60, 25
INTERVAL_US = PERIOD * 1_000_000 // LIMIT
CONFIG: dict[str, Any] = {
    "formats": ["keyproof_live"],
    "policy": {
        "routes": [{"method": "GET", "path": "/v1/items", "all_of": ["items:read"]}],
        "plans": {"shared": {"limit": LIMIT, "burst": BURST, "period_seconds": PERIOD}},
        "default_plan": "shared",
    },
}


# The Python worker ----------------------------------------------------------------------


def worker(job: dict[str, Any]) -> None:
    import keyproof
    import redis
    import redis.asyncio
    from keyproof.redis import AsyncRedisRateLimitStore, RedisRateLimitStore, RedisVerifier, parse_state
    from redis.asyncio.retry import Retry as AsyncRetry
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    engine = keyproof.Engine(job["config"])
    records = {r.hash: r for r in (keyproof.KeyRecord.from_json(t) for t in job["records"])}
    headers = [("Authorization", f"Bearer {job['key']}")]
    threads = int(job.get("threads", 1))

    def client_kwargs() -> dict[str, Any]:
        return {"socket_timeout": 1, "socket_connect_timeout": 1}

    def sync_verifier(url: str, on_error: Any) -> RedisVerifier:
        client = redis.Redis.from_url(url, retry=Retry(NoBackoff(), 0), **client_kwargs())
        return RedisVerifier(engine, records.get, rate_limits=RedisRateLimitStore(client, on_error=on_error))

    def async_verifier(url: str, on_error: Any) -> RedisVerifier:
        client = redis.asyncio.Redis.from_url(url, retry=AsyncRetry(NoBackoff(), 0), **client_kwargs())
        store = AsyncRedisRateLimitStore(client, on_error=on_error)
        return RedisVerifier(engine, records.get, rate_limits=store)

    def answer(d: Any) -> dict[str, Any]:
        return {
            "status": d.status,
            "code": d.code,
            "headers": [list(h) for h in d.headers],
            "body": d.body,
            "warnings": d.warnings,
        }

    mode = job["mode"]
    on_error = job.get("on_error", "fail_closed")
    verifier = (
        async_verifier(job["url"], on_error) if mode == "async" else sync_verifier(job["url"], on_error)
    )
    loop = asyncio.new_event_loop()

    def run(v: RedisVerifier, now: datetime, count: int) -> list[dict[str, Any]]:
        if mode == "async":

            async def many() -> list[Any]:
                return await asyncio.gather(
                    *(v.averify("GET", "/v1/items", headers, now=now) for _ in range(count))
                )

            return [answer(d) for d in loop.run_until_complete(many())]
        out: list[dict[str, Any]] = []
        lock = threading.Lock()

        def some(n: int) -> None:
            for _ in range(n):
                a = answer(v.verify("GET", "/v1/items", headers, now=now))
                with lock:
                    out.append(a)

        shares = [count // threads + (1 if i < count % threads else 0) for i in range(threads)]
        pool = [threading.Thread(target=some, args=(n,)) for n in shares]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        return out

    print(json.dumps({"ready": "python-" + mode}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        reply: dict[str, Any]
        try:
            if "verify" in command:
                at = datetime.fromtimestamp(command["verify"]["now_us"] / 1e6, tz=timezone.utc)
                answers = run(verifier, at, command["verify"]["count"])
                reply = {"answers": answers, "conflicts": getattr(verifier.rate_limits, "conflicts", 0)}
            elif "inspect" in command:
                raw: Any = redis.Redis.from_url(job["url"]).get(command["inspect"])
                text = raw.decode() if raw is not None else None
                state = keyproof.RateLimitState.from_json(text) if text is not None else None
                parsed = parse_state(text)
                reply = {
                    "raw": text,
                    "tat_us": state.tat_us if state else None,
                    "parsed": parsed.tat_us if parsed else None,
                }
            elif "dead" in command:
                v = (async_verifier if mode == "async" else sync_verifier)(command["url"], command["dead"])
                at = datetime.fromtimestamp(command["now_us"] / 1e6, tz=timezone.utc)
                reply = {"answer": run(v, at, 1)[0]}
            else:
                break
        except Exception as e:  # reported, never swallowed: the test fails on it
            reply = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(reply), flush=True)


# The orchestrator -----------------------------------------------------------------------


class Worker:
    def __init__(self, argv: list[str], env: dict[str, str], name: str) -> None:
        self.name = name
        self.process = subprocess.Popen(
            argv,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    @property
    def stdin(self) -> IO[str]:
        assert self.process.stdin is not None
        return self.process.stdin

    def read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            err = self.process.stderr.read() if self.process.stderr is not None else ""
            raise AssertionError(f"worker {self.name} exited: {err}")
        reply: dict[str, Any] = json.loads(line)
        assert "error" not in reply, f"{self.name}: {reply['error']}"
        return reply

    def send(self, command: dict[str, Any]) -> None:
        self.stdin.write(json.dumps(command) + "\n")
        self.stdin.flush()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.stdin.close()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def all_answer(workers: list[Worker], command: dict[str, Any]) -> list[dict[str, Any]]:
    """Sends ``command`` to every worker at once, then collects every reply."""
    for w in workers:
        w.send(command)
    return [w.read() for w in workers]


@pytest.fixture
def server() -> Iterator[Any]:
    from .test_redis_support import REDIS_SERVER, RedisServer

    if REDIS_SERVER is None:
        pytest.skip("no KEYPROOF_REDIS_SERVER (run scripts/test-redis.sh)")
    if os.system("node --version >/dev/null 2>&1") != 0:
        pytest.skip("no node")
    if not (NODE_WORKER.parent.parent / "dist" / "keyproof-shared.cjs").exists():
        pytest.skip("the Node package is not built (bash scripts/test-node.sh --build-only)")
    running = RedisServer()
    yield running
    running.close()


def test_python_and_node_processes_share_one_bucket(server: Any) -> None:
    import keyproof

    from .test_redis_support import free_port, us, wall_now

    minted = keyproof.mint("keyproof_live", name="Shared key", scopes=["items:read"])
    base = {"url": server.url, "config": CONFIG, "records": [minted.record.to_json()], "key": minted.key}
    plans: list[tuple[str, dict[str, Any]]] = [
        ("python", {"mode": "sync", "threads": 4, "on_error": "fail_closed"}),
        ("python", {"mode": "sync", "threads": 1, "on_error": "fail_open"}),
        ("python", {"mode": "async", "on_error": "fail_closed"}),
        ("node", {"on_error": "fail_closed"}),
        ("node", {"on_error": "fail_open"}),
        ("node", {"on_error": "fail_closed"}),
    ]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    workers: list[Worker] = []
    try:
        for i, (runtime, extra) in enumerate(plans):
            job = json.dumps({**base, **extra})
            if runtime == "python":
                workers.append(Worker([sys.executable, str(Path(__file__)), job], env, f"{i}:python"))
            else:
                node_env = {**env, "KEYPROOF_REDIS_WORKER": job}
                workers.append(Worker(["node", str(NODE_WORKER)], node_env, f"{i}:node"))
        ready = [w.read()["ready"] for w in workers]
        assert sorted(ready) == sorted(["python-sync", "python-sync", "python-async", "node", "node", "node"])

        # One instant: 6 processes, 12 requests each, at the same injected time.
        now = wall_now()
        t0 = us(now)
        replies = all_answer(workers, {"verify": {"now_us": t0, "count": 12}})
        statuses = [a["status"] for r in replies for a in r["answers"]]
        assert len(statuses) == 72  # every request answered
        assert statuses.count(200) == BURST, statuses
        assert statuses.count(429) == 72 - BURST
        per_process = [sum(a["status"] == 200 for a in r["answers"]) for r in replies]
        print("allowed per process:", per_process, "conflicts:", [r["conflicts"] for r in replies])

        # Nothing lost: the stored state is exactly BURST intervals ahead, in both runtimes.
        bucket = f"keyproof:rl:{{{minted.record.id}}}:default"
        expected = t0 + BURST * INTERVAL_US
        for r in all_answer(workers, {"inspect": bucket}):
            assert r["raw"] == json.dumps({"tat_us": expected}, separators=(",", ":"))
            assert r["tat_us"] == r["parsed"] == expected

        # Refill at the plan rate across processes: 6.5 intervals later, exactly 6 more.
        replies = all_answer(workers, {"verify": {"now_us": t0 + INTERVAL_US * 13 // 2, "count": 4}})
        statuses = [a["status"] for r in replies for a in r["answers"]]
        assert statuses.count(200) == 6 and statuses.count(429) == 18, statuses
        expected += 6 * INTERVAL_US
        assert {r["tat_us"] for r in all_answer(workers, {"inspect": bucket})} == {expected}

        # The failure answers are the same bytes in both runtimes.
        dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
        closed = {
            json.dumps(r["answer"], sort_keys=True)
            for r in all_answer(workers, {"dead": "fail_closed", "url": dead, "now_us": t0})
        }
        assert len(closed) == 1, closed
        answer = json.loads(closed.pop())
        assert answer["status"] == 503 and answer["code"] == "rate_limit_unavailable"
        assert answer["headers"] == [
            ["Retry-After", "1"],
            ["Cache-Control", "no-store"],
            ["Content-Type", "application/problem+json"],
        ]
        opened = {
            json.dumps(r["answer"], sort_keys=True)
            for r in all_answer(workers, {"dead": "fail_open", "url": dead, "now_us": t0})
        }
        assert len(opened) == 1, opened
        assert json.loads(opened.pop())["warnings"] == [{"code": "rate_limit_unavailable"}]

        # Redis stopped mid-test: every process answers with its own policy, none crashes.
        server.stop()
        replies = all_answer(workers, {"verify": {"now_us": t0 + INTERVAL_US * 100, "count": 3}})
        for (_, extra), r in zip(plans, replies):
            want = 503 if extra["on_error"] == "fail_closed" else 200
            assert [a["status"] for a in r["answers"]] == [want] * 3, r
        for w in workers:
            w.send({"quit": True})
    finally:
        for w in workers:
            w.close()
    assert all(w.process.returncode == 0 for w in workers)


if __name__ == "__main__":
    worker(json.loads(sys.argv[1]))
