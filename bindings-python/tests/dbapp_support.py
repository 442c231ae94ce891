"""Databases for the key-store tests: an SQLite file, or a fresh database on the
PostgreSQL cluster scripts/test-postgres.sh runs (``KEYPROOF_TEST_POSTGRES_DSN``);
and helpers for servers run in their own processes."""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

POSTGRES_DSN = os.environ.get("KEYPROOF_TEST_POSTGRES_DSN")

#: Parametrize a test over the databases: SQLite always, PostgreSQL when the cluster is up.
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql",
        id="postgresql",
        marks=pytest.mark.skipif(not POSTGRES_DSN, reason="run by scripts/test-postgres.sh"),
    ),
]


@contextmanager
def database(backend: str, tmp_path: Path) -> Iterator[str]:
    """An empty database: an SQLite file path, or the DSN of a new PostgreSQL database
    (dropped afterwards)."""
    if backend == "sqlite":
        yield str(tmp_path / "keys.sqlite3")
        return
    import psycopg

    assert POSTGRES_DSN
    name = f"kp_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(POSTGRES_DSN)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(POSTGRES_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def server_process(args: list[str], port: int, env: dict[str, str], cwd: Path) -> Iterator[str]:
    """Runs a server process until it accepts connections on ``port``; stops it afterwards."""
    log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in finally)
    proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"server exited: {log.read()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("server did not start") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
