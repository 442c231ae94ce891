"""README's "Keys in your database" section, run as written: the Django settings and
URLs go into a fresh ``django-admin startproject`` project (migrate, keyproof_mint,
runserver, the documented curl), and the FastAPI + SQLAlchemy app is served by real
uvicorn (the key it prints works; revoked, it stops working) — on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import keyproof
import pytest
import sqlalchemy as sa
from keyproof.sqlalchemy import KeyStore

from .conftest import REPO
from .dbapp_support import BACKENDS, database, free_port, server_process
from .djangoproject.settings import database as djangoproject_database
from .test_readme import CURL_LINE, user_env

SECTION = "## Keys in your database (Django, SQLAlchemy)"


def section() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.find(f"\n{SECTION}\n")
    assert start >= 0, f"README.md has no '{SECTION}' section"
    body = text[start + len(SECTION) + 2 :]
    return body[: body.find("\n## ")]


def blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", section(), re.MULTILINE | re.DOTALL)


def run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("backend", BACKENDS)
def test_django_quickstart(backend: str, tmp_path: Path) -> None:
    settings_block, urls_block, _ = blocks("python")
    (commands,) = blocks("sh")
    manage = [
        line.split("#")[0].strip() for line in commands.splitlines() if line.startswith("python manage.py")
    ]
    assert manage[:2] == [
        "python manage.py migrate",
        'python manage.py keyproof_mint --name "CI" --scopes briefs:read',
    ]
    env = user_env()
    run([sys.executable, "-m", "django", "startproject", "mysite"], tmp_path, env)
    site = tmp_path / "mysite"
    with database(backend, tmp_path) as db:
        settings = site / "mysite" / "settings.py"
        # The user's own database setting (PostgreSQL); SQLite is startproject's default.
        extra = (
            "" if backend == "sqlite" else f"\nDATABASES = {{'default': {djangoproject_database(db)!r}}}\n"
        )
        settings.write_text(settings.read_text() + "\n" + settings_block + extra)
        (site / "mysite" / "urls.py").write_text(urls_block)
        python = [sys.executable, "manage.py"]
        run([*python, "migrate", "-v0"], site, env)
        key = run([*python, "keyproof_mint", "--name", "CI", "--scopes", "briefs:read"], site, env).strip()
        assert keyproof.parse_key(key).format_id == "keyproof_live"
        port = free_port()
        with server_process(
            [*python, "runserver", "--noreload", f"127.0.0.1:{port}"], port, env, site
        ) as base:
            ok = httpx.get(f"{base}/api/briefs", headers={"Authorization": f"Bearer {key}"})
            assert ok.status_code == 200 and ok.json()["scopes"] == ["briefs:read"]
            denied = httpx.get(f"{base}/api/briefs", headers={"Authorization": "Bearer kp_live_nope"})
            assert denied.status_code == 401 and denied.json()["code"] == "invalid_key"
            assert httpx.get(f"{base}/admin/login/").status_code == 200


@pytest.mark.parametrize("backend", BACKENDS)
def test_fastapi_sqlalchemy_quickstart(backend: str, tmp_path: Path) -> None:
    app = blocks("python")[2]
    (tmp_path / "app.py").write_text(app, encoding="utf-8")
    with database(backend, tmp_path) as db:
        env = user_env()
        sync_url = f"sqlite:///{tmp_path / 'keys.db'}"
        if backend != "sqlite":
            env["DATABASE_URL"] = sync_url = db.replace("postgresql://", "postgresql+psycopg://", 1)
        port = free_port()
        args = [sys.executable, "-m", "uvicorn", "app:app", "--host", "127.0.0.1", "--port", str(port)]
        log = tmp_path / "uvicorn.log"
        with log.open("w") as out:
            proc = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while (found := CURL_LINE.search(log.read_text())) is None or not listening(port):
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
            key, url = found["key"], found["url"].replace(":8000", f":{port}")
            ok = httpx.get(url, headers={"Authorization": f"Bearer {key}"})
            assert ok.status_code == 200 and ok.json()["scopes"] == ["briefs:read"]
            store = KeyStore(sa.create_engine(sync_url))
            (record,) = store.list()
            assert record.id == ok.json()["key"] and record.last_used_at is not None
            store.revoke(record.id)
            assert httpx.get(url, headers={"Authorization": f"Bearer {key}"}).status_code == 401
            store.engine.dispose()
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def listening(port: int) -> bool:
    try:
        httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
        return True
    except httpx.TransportError:
        return False
