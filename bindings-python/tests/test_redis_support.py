"""Shared pieces of the Redis tests (no tests here): a deployment, redis-server processes, key slots.

The tests that need a server read ``KEYPROOF_REDIS_URL`` (one server started by
``scripts/test-redis.sh``), ``KEYPROOF_REDIS_SERVER`` (the redis-server binary,
for private servers a test may stop) and ``KEYPROOF_REDIS_CLUSTER`` (``host:port``
of three cluster masters, when the script could create the cluster); without
them they are skipped.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from datetime import datetime, timezone
from typing import Any

import keyproof
from keyproof import MintedKey

REDIS_URL = os.environ.get("KEYPROOF_REDIS_URL")
REDIS_SERVER = os.environ.get("KEYPROOF_REDIS_SERVER")
REDIS_CLUSTER = os.environ.get("KEYPROOF_REDIS_CLUSTER")

#: One key gets `burst` requests at once, then one per `period / limit` seconds.
LIMIT, PERIOD, BURST = 60, 60, 10
INTERVAL_US = PERIOD * 1_000_000 // LIMIT
TIGHT_BURST = 3

CONFIG: dict[str, Any] = {
    "formats": ["keyproof_live"],
    "policy": {
        "realm": "api.example.test",
        "routes": [
            {"method": "GET", "path": "/v1/items", "all_of": ["items:read"]},
            {
                "method": "GET",
                "path": "/v1/tight",
                "all_of": ["items:read"],
                "rate_limit": {"class": "tight"},
            },
        ],
        "plans": {"starter": {"limit": LIMIT, "burst": BURST, "period_seconds": PERIOD}},
        "rate_limit_classes": {"tight": {"starter": {"limit": LIMIT, "burst": TIGHT_BURST}}},
        "default_plan": "starter",
    },
}

#: Core's fail-closed body for the default problem base (tests/redis.test.mjs has it too).
UNAVAILABLE_BODY = (
    '{"code":"rate_limit_unavailable","detail":"The rate limit could not be checked.","retry_after":1,'
    '"status":503,"title":"Service unavailable","type":"https://keyproof.dev/problems/rate_limit_unavailable"}'
)
UNAVAILABLE_HEADERS = [
    ("Retry-After", "1"),
    ("Cache-Control", "no-store"),
    ("Content-Type", "application/problem+json"),
]


def wall_now() -> datetime:
    """An injected clock near the real one (whole seconds), so Redis TTLs match the states."""
    return datetime.now(timezone.utc).replace(microsecond=0)


def us(at: datetime) -> int:
    return int(at.timestamp()) * 1_000_000 + at.microsecond


def mint(name: str = "Redis test key", scopes: tuple[str, ...] = ("items:read",)) -> MintedKey:
    return keyproof.mint("keyproof_live", name=name, scopes=list(scopes))


def bearer(key: str) -> list[tuple[str, str]]:
    return [("Authorization", f"Bearer {key}")]


def free_port(with_bus: bool = False) -> int:
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port + 10000 > 65535:
            continue
        if not with_bus:
            return port
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 10000))
                return port
            except OSError:
                continue


class RedisServer:
    """A private redis-server (no persistence) on a free loopback port; ``stop()`` kills it."""

    def __init__(self, port: int | None = None) -> None:
        if REDIS_SERVER is None:
            raise RuntimeError("no redis-server binary")
        self.port = port if port is not None else free_port()
        self._dir = tempfile.TemporaryDirectory(prefix="keyproof-redis-")
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                str(REDIS_SERVER),
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self._dir.name,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def close(self) -> None:
        self.stop()
        self._dir.cleanup()


class SilentServer:
    """Accepts TCP connections and never answers: a Redis that times out."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = int(self.sock.getsockname()[1])

    def close(self) -> None:
        self.sock.close()


def crc16(data: bytes) -> int:
    """CRC16-CCITT (XModem), the Redis Cluster key hash."""
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def key_slot(key: str) -> int:
    """The Redis Cluster slot of ``key`` (hash tags honoured), as CLUSTER KEYSLOT computes it."""
    raw = key.encode()
    start = raw.find(b"{")
    if start >= 0:
        end = raw.find(b"}", start + 1)
        if end > start + 1:
            raw = raw[start + 1 : end]
    return crc16(raw) % 16384
