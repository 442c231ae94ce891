"""The repository README's Python quickstart, run exactly as written.

README.md is read at test time (never a copy): the first ```python block of the
`## Python quickstart` section runs as `quickstart.py`, the second is saved as
`app.py` and served by real uvicorn, as a new user would.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import keyproof
import pytest

from .conftest import REPO

SECTION = "## Python quickstart"
CURL_LINE = re.compile(r"Authorization: Bearer (?P<key>\S+?)' (?P<url>http://\S+)")


def quickstart_blocks() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.find(f"\n{SECTION}\n")
    assert start >= 0, f"README.md has no '{SECTION}' section"
    body = text[start + len(SECTION) + 2 :]
    end = body.find("\n## ")
    section = body if end < 0 else body[:end]
    blocks = re.findall(r"^```python\n(.*?)^```", section, re.MULTILINE | re.DOTALL)
    assert len(blocks) == 2, f"expected 2 python blocks in '{SECTION}', found {len(blocks)}"
    return blocks


def user_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    # A terminal would show each line at once; through a pipe, ask for the same.
    env["PYTHONUNBUFFERED"] = "1"
    return env


def test_quickstart_script_runs_as_written(tmp_path: Path) -> None:
    script = tmp_path / "quickstart.py"
    script.write_text(quickstart_blocks()[0], encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "quickstart.py"],
        cwd=tmp_path,
        env=user_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 3, done.stdout

    status, key_id, headers = lines[0].split(" ", 2)
    assert status == "200" and key_id
    assert "('RateLimit-Policy'," in headers and "('RateLimit'," in headers

    status, code, body = lines[1].split(" ", 2)
    assert (status, code) == ("403", "insufficient_scope")
    problem = json.loads(body)
    assert problem["code"] == "insufficient_scope" and problem["status"] == 403
    assert problem["missing_scope"] == "briefs:write"

    assert lines[2] == "wrong_length"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Server:
    def __init__(self, proc: subprocess.Popen[bytes], base: str, key: str, log: Path) -> None:
        self.proc, self.base, self.key, self.log = proc, base, key, log


@pytest.fixture
def fastapi_app(tmp_path: Path) -> Iterator[Server]:
    (tmp_path / "app.py").write_text(quickstart_blocks()[1], encoding="utf-8")
    port = free_port()
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app:app", "--port", str(port), "--host", "127.0.0.1"],
            cwd=tmp_path,
            env=user_env(),
            stdout=stdout,
            stderr=stderr,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        key = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, f"uvicorn exited: {err.read_text()}"
            found = CURL_LINE.search(out.read_text())
            if found is not None:
                key = found["key"]
                assert found["url"].endswith("/v1/briefs")
                try:
                    httpx.get(f"{base}/v1/briefs", timeout=2)
                    break
                except httpx.TransportError:
                    pass
            time.sleep(0.1)
        else:
            pytest.fail(f"uvicorn did not come up: stdout={out.read_text()!r} stderr={err.read_text()!r}")
        assert key is not None
        yield Server(proc, base, key, err)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def assert_problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer realm=")
    assert response.headers["cache-control"] == "no-store"
    problem = response.json()
    assert problem["code"] == code and problem["status"] == status


def test_fastapi_app_served_by_uvicorn(fastapi_app: Server) -> None:
    url = f"{fastapi_app.base}/v1/briefs"
    key = fastapi_app.key
    with httpx.Client(timeout=10) as client:
        ok = client.get(url, headers={"Authorization": f"Bearer {key}"})
        assert ok.status_code == 200, ok.text
        principal = ok.json()
        assert principal["scopes"] == ["briefs:read"]
        assert isinstance(principal["key"], str) and principal["key"]
        again = client.get(url, headers={"Authorization": f"Bearer {key}"})
        assert again.json() == principal

        missing = client.get(url)
        assert_problem(missing, 401, "missing_credentials")
        assert "error=" not in missing.headers["www-authenticate"]

        other = keyproof.mint("matchii_live", name="Not stored", scopes=["briefs:read"]).key
        wrong = client.get(url, headers={"Authorization": f"Bearer {other}"})
        assert_problem(wrong, 401, "invalid_key")
        assert 'error="invalid_token"' in wrong.headers["www-authenticate"]
        assert key not in wrong.text and other not in wrong.text

    assert fastapi_app.proc.poll() is None, fastapi_app.log.read_text()
