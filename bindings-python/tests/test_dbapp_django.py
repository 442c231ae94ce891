"""The keyproof Django app (``keyproof.contrib.django``) as a project uses it: ``migrate``,
the admin over real HTTP (mint → the key is shown once, revoke → the next request is
401, rotate, update through core), a DRF view protected by keyproof, last-used
tracking and the management commands. The project (tests/djangoproject) runs in its
own processes (``django-admin`` and ``runserver``), on SQLite and on PostgreSQL."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import keyproof
import pytest

from .dbapp_support import BACKENDS, database, free_port, server_process

ROOT = Path(__file__).resolve().parents[1]
KEY = re.compile(r"kp_live_[0-9A-Za-z]{36}")
ENGINE = keyproof.Engine({"formats": ["keyproof_live"], "policy": {}})


@dataclass
class Project:
    base: str
    env: dict[str, str]

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "django", *args], env=self.env, cwd=ROOT, capture_output=True, text=True,
            check=check, timeout=60,
        )  # fmt: skip

    def records(self) -> dict[str, Any]:
        return {r["id"]: r for r in json.loads(self.manage("keyproof_list", "--json").stdout)}


@contextmanager
def running_project(backend: str, tmp_path: Path, **settings: str) -> Iterator[Project]:
    """The test project migrated, with an admin user, served by ``runserver``."""
    with database(backend, tmp_path) as db:
        env = {
            **os.environ,
            **settings,
            "KEYPROOF_TEST_DATABASE": db,
            "DJANGO_SETTINGS_MODULE": "tests.djangoproject.settings",
        }
        env["DJANGO_SUPERUSER_PASSWORD"] = "correct horse battery staple"
        p = Project("", env)
        p.manage("migrate", "-v0")
        p.manage("createsuperuser", "--noinput", "--username", "admin", "--email", "admin@example.test")
        port = free_port()
        args = [sys.executable, "-m", "django", "runserver", "--noreload", f"127.0.0.1:{port}"]
        with server_process(args, port, env, ROOT) as base:
            p.base = base
            yield p


@pytest.fixture(params=BACKENDS)
def project(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Project]:
    with running_project(request.param, tmp_path) as p:
        yield p


@pytest.fixture(params=BACKENDS)
def cached_project(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Project]:
    """The project whose engine keeps looked-up records for five minutes (``record_cache``)."""
    announced = str(tmp_path / "announced.txt")
    with running_project(
        request.param, tmp_path, KEYPROOF_TEST_RECORD_CACHE="300", KEYPROOF_TEST_ANNOUNCED=announced
    ) as p:
        yield p


def login(client: httpx.Client) -> None:
    client.get("/admin/login/")
    response = client.post(
        "/admin/login/?next=/admin/",
        data={"username": "admin", "password": "correct horse battery staple",
              "csrfmiddlewaretoken": client.cookies["csrftoken"], "next": "/admin/"},
    )  # fmt: skip
    assert response.status_code == 302 and response.headers["location"] == "/admin/"


def post_form(client: httpx.Client, path: str, data: dict[str, Any]) -> httpx.Response:
    return client.post(path, data={**data, "csrfmiddlewaretoken": client.cookies["csrftoken"]})


def post_change(client: httpx.Client, path: str, data: dict[str, Any]) -> httpx.Response:
    """Posts the admin change form as a browser does: with the hidden ``initial-*``
    inputs the page renders for fields with a callable default (Django compares
    them to tell an emptied JSON field from an untouched one)."""
    page = client.get(path).text
    hidden = re.findall(r'<input type="hidden" name="(initial-[\w-]+)" value="([^"]*)"', page)
    initials = {name: html.unescape(value) for name, value in hidden}
    return post_form(client, path, {**initials, **data})


def briefs(base: str, key: str) -> httpx.Response:
    return httpx.get(f"{base}/api/briefs", headers={"Authorization": f"Bearer {key}"})


def only_key(page: str) -> str:
    keys: list[str] = KEY.findall(page)
    assert len(keys) == 1, "the page shows exactly one key, once"
    return keys[0]


def test_admin_mints_once_then_revokes_rotates_and_updates(project: Project) -> None:
    with httpx.Client(base_url=project.base) as client:
        login(client)
        form = client.get("/admin/keyproof/apikey/add/")
        assert form.status_code == 200 and 'name="scopes"' in form.text
        created = post_form(
            client,
            "/admin/keyproof/apikey/add/",
            {"name": "Admin key", "scopes": "briefs:read", "expires_in": "90d"},
        )
        assert created.status_code == 200 and "no-store" in created.headers["cache-control"]
        key = only_key(created.text)
        ok = briefs(project.base, key)
        assert ok.status_code == 200 and ok.json()["scopes"] == ["briefs:read"]
        (key_id,) = project.records()
        assert project.records()[key_id]["last_used_at"] is not None  # written through core's hint
        assert project.records()[key_id]["request_count"] == 1  # KEYPROOF_COUNT_REQUESTS
        assert "hash" not in project.records()[key_id]

        # Never again: not in the list, not on the change page, and never the hash.
        stored_hash = ENGINE.hash_key(key).split(":", 1)[1]
        for page in (
            client.get("/admin/keyproof/apikey/"),
            client.get(f"/admin/keyproof/apikey/{key_id}/change/"),
        ):
            assert page.status_code == 200 and key_id in page.text
            assert key not in page.text and key[8:] not in page.text and stored_hash not in page.text

        # An update through core: a bad scope is refused and nothing changes …
        change = f"/admin/keyproof/apikey/{key_id}/change/"
        fields = {"name": "Admin key", "role": "", "plan": "", "allowed_ips": "[]", "allowed_origins": "[]",
                  "features": "[]", "metadata": "{}", "expires_at_0": "", "expires_at_1": ""}  # fmt: skip
        refused = post_change(client, change, {**fields, "scopes": '["Bad Scope"]'})
        assert refused.status_code == 200 and "invalid_scope" in refused.text
        assert briefs(project.base, key).status_code == 200
        # … a good one applies (the key loses briefs:read: 403).
        assert post_change(client, change, {**fields, "scopes": '["briefs:write"]'}).status_code == 302
        assert project.records()[key_id]["scopes"] == ["briefs:write"]
        assert briefs(project.base, key).json()["code"] == "insufficient_scope"
        assert post_change(client, change, {**fields, "scopes": '["briefs:read"]'}).status_code == 302
        # The key's own quota, set and emptied in the change form.
        own = '{"default": {"limit": 5, "burst": 5}}'
        assert (
            post_change(
                client, change, {**fields, "scopes": '["briefs:read"]', "rate_limits": own}
            ).status_code
            == 302
        )
        assert project.records()[key_id]["rate_limits"]["default"]["burst"] == 5
        # Emptied as a person would (the browser posts the field's hidden initial value too).
        emptied = post_change(client, change, {**fields, "scopes": '["briefs:read"]', "rate_limits": ""})
        assert emptied.status_code == 302
        assert "rate_limits" not in project.records()[key_id]
        # A usage limit set in the change form; a bad one is refused with core's code.
        usage = {**fields, "scopes": '["briefs:read"]', "usage_limit": '{"limit": 1000, "period": "month"}'}
        assert post_change(client, change, usage).status_code == 302
        assert project.records()[key_id]["usage_limit"] == {"limit": 1000, "period": "month"}
        # The change page shows what is left, from the verifier's store (two requests spent two).
        assert [briefs(project.base, key).status_code for _ in range(2)] == [200, 200]
        assert "998 of 1000 left (month, starts again in " in client.get(change).text
        # Seed 001's dashboard: request counts beside the last use, in the list and on the
        # key's page (denied requests are not counted: the one insufficient_scope above).
        count = project.records()[key_id]["request_count"]
        assert count == 4  # the first request, one before the scope change, two now
        assert briefs(project.base, key).status_code == 200
        listing = client.get("/admin/keyproof/apikey/").text
        assert re.search(r'<td class="field-request_count">5</td>', listing), "the list shows the count"
        assert re.search(r"Request count:</label>\s*<div class=\"readonly\">5</div>", client.get(change).text)
        bad = post_change(client, change, {**usage, "usage_limit": '{"limit": 0}'})
        assert bad.status_code == 200 and "invalid_quota" in bad.text
        # Emptying the field removes the limit.
        assert post_change(client, change, {**usage, "usage_limit": ""}).status_code == 302
        assert "usage_limit" not in project.records()[key_id]
        assert (
            post_change(client, change, {**usage, "usage_limit": "", "rate_limits": own}).status_code == 302
        )
        assert post_change(client, change, {**usage, "usage_limit": "", "rate_limits": ""}).status_code == 302
        assert "rate_limits" not in project.records()[key_id], "an emptied map field empties it"

        # Rotate: the new key is shown once; the old one works during the grace period.
        rotated = post_form(
            client, "/admin/keyproof/apikey/", {"action": "rotate", "_selected_action": key_id}
        )
        new_key = only_key(rotated.text)
        assert new_key != key and briefs(project.base, new_key).status_code == 200
        assert briefs(project.base, key).status_code == 200  # inside the grace period
        records = project.records()
        assert records[key_id]["rotation"]["replaced_by"] in records

        # Revoke the old key in the admin: its next request is 401 (the exact core denial).
        revoke = post_form(
            client, "/admin/keyproof/apikey/", {"action": "revoke", "_selected_action": key_id}
        )
        assert revoke.status_code == 302
        denied = briefs(project.base, key)
        expected = ENGINE.decide(
            ENGINE.prepare("GET", "/api/briefs", {"Authorization": f"Bearer {key}"}), None
        )
        assert denied.status_code == 401 and denied.json()["code"] == "invalid_key"
        assert denied.text == expected.body and denied.headers["www-authenticate"] == expected.header(
            "www-authenticate"
        )
        assert project.records()[key_id]["status"] == "revoked"
        assert briefs(project.base, new_key).status_code == 200

        # Disable, then enable, the new key.
        new_id = records[key_id]["rotation"]["replaced_by"]
        post_form(client, "/admin/keyproof/apikey/", {"action": "disable", "_selected_action": new_id})
        assert briefs(project.base, new_key).status_code == 401
        post_form(client, "/admin/keyproof/apikey/", {"action": "enable", "_selected_action": new_id})
        assert briefs(project.base, new_key).status_code == 200

        # A client id + secret pair (seed 002): the page shows the public client id beside the key.
        paired = post_form(
            client, "/admin/keyproof/apikey/add/", {"name": "Paired key", "generate_client_id": "on"}
        )
        (record,) = [r for r in project.records().values() if r["name"] == "Paired key"]
        assert re.fullmatch(r"[0-9A-Za-z]{32}", record["client_id"]) and record["client_id"] in paired.text
        assert only_key(paired.text)


def test_a_cached_engine_sees_this_process_changes_at_once(cached_project: Project) -> None:
    """With ``record_cache``, every change the admin makes (update, revoke, disable,
    enable, rotate) reaches the serving process's next request: the lifecycle
    functions drop the key's entry when their transaction commits."""
    test_admin_mints_once_then_revokes_rotates_and_updates(cached_project)
    # Each committed change was announced for other processes (KEYPROOF_KEY_CHANGED), once per key changed.
    announced = Path(cached_project.env["KEYPROOF_TEST_ANNOUNCED"]).read_text(encoding="utf-8").split()
    records = cached_project.records()
    (old_id,) = [i for i, r in records.items() if r["status"] == "revoked"]
    assert announced.count(old_id) >= 9, announced  # 7 updates, the rotation, the revocation
    assert set(announced) <= set(records)
    # A change another process makes (a management command) is seen when the entry expires.
    minted = json.loads(
        cached_project.manage("keyproof_mint", "--name", "Cached", "--scopes", "briefs:read", "--json").stdout
    )
    assert briefs(cached_project.base, minted["key"]).status_code == 200  # looked up, now cached
    cached_project.manage("keyproof_revoke", minted["id"])
    assert cached_project.records()[minted["id"]]["status"] == "revoked"
    assert briefs(cached_project.base, minted["key"]).status_code == 200  # within ttl_seconds
    # Deleting a key in this process (the admin's delete) drops its entry too.
    with httpx.Client(base_url=cached_project.base) as client:
        login(client)
        fresh = only_key(
            post_form(
                client, "/admin/keyproof/apikey/add/", {"name": "Deleted", "scopes": "briefs:read"}
            ).text
        )
        assert briefs(cached_project.base, fresh).status_code == 200
        (fresh_id,) = [i for i, r in cached_project.records().items() if r["name"] == "Deleted"]
        selected = {"action": "delete_selected", "_selected_action": fresh_id, "post": "yes"}
        deleted = post_form(client, "/admin/keyproof/apikey/", selected)
        assert deleted.status_code == 302 and fresh_id not in cached_project.records()
    assert briefs(cached_project.base, fresh).status_code == 401


def test_management_commands(project: Project) -> None:
    minted = json.loads(
        project.manage("keyproof_mint", "--name", "Ops key", "--scopes", "briefs:read", "--json").stdout
    )
    assert KEY.fullmatch(minted["key"]) and minted["preview"] == ENGINE.parse(minted["key"]).preview
    assert minted["client_id"] is None
    paired = json.loads(
        project.manage("keyproof_mint", "--name", "Pair", "--generate-client-id", "--json").stdout
    )
    bound = json.loads(
        project.manage("keyproof_mint", "--name", "Bound", "--client-id", "amc_4Jr8", "--json").stdout
    )
    assert re.fullmatch(r"[0-9A-Za-z]{32}", paired["client_id"]) and bound["client_id"] == "amc_4Jr8"
    records = project.records()
    assert records[paired["id"]]["client_id"] == paired["client_id"]
    own = '{"default": {"limit": 5, "burst": 5}}'
    quota = json.loads(
        project.manage("keyproof_mint", "--name", "Own", "--rate-limits", own, "--json").stdout
    )
    assert project.records()[quota["id"]]["rate_limits"] == {
        "default": {"limit": 5, "period_seconds": 60, "burst": 5}
    }
    bad = project.manage(
        "keyproof_mint",
        "--name",
        "Bad",
        "--rate-limits",
        '{"default": {"limit": 5, "burst": 0}}',
        check=False,
    )
    assert bad.returncode != 0 and "invalid_quota" in bad.stderr
    usage = '{"limit": 9, "period": "month"}'
    metered = json.loads(
        project.manage(
            "keyproof_mint", "--name", "Metered", "--scopes", "briefs:read", "--usage-limit", usage, "--json"
        ).stdout
    )
    assert project.records()[metered["id"]]["usage_limit"] == {"limit": 9, "period": "month"}
    project.manage("keyproof_revoke", metered["id"])
    for extra in (paired, bound, quota):
        project.manage("keyproof_revoke", extra["id"])
    plain = project.manage("keyproof_mint", "--name", "Second key", "--scopes", "briefs:read")
    second = plain.stdout.strip()
    assert KEY.fullmatch(second) and second not in plain.stderr
    assert briefs(project.base, minted["key"]).status_code == 200
    listed = project.manage("keyproof_list").stdout
    assert minted["id"] in listed and minted["key"] not in listed and "last used 20" in listed
    (used,) = [line for line in listed.splitlines() if line.startswith(minted["id"])]
    assert used.endswith("requests 1")  # the one request above

    rotated = json.loads(
        project.manage("keyproof_rotate", minted["id"], "--grace-hours", "1", "--json").stdout
    )
    assert rotated["replaces"] == minted["id"]
    assert briefs(project.base, rotated["key"]).status_code == 200
    assert briefs(project.base, minted["key"]).status_code == 200  # inside the grace hour
    again = project.manage("keyproof_rotate", minted["id"], check=False)
    assert again.returncode != 0 and "invalid_transition" in again.stderr

    assert "revoked" in project.manage("keyproof_revoke", minted["id"], rotated["id"]).stdout
    assert briefs(project.base, minted["key"]).status_code == 401
    assert briefs(project.base, rotated["key"]).status_code == 401
    assert briefs(project.base, second).status_code == 200
    missing = project.manage("keyproof_revoke", "no-such-key", check=False)
    assert missing.returncode != 0 and "no key no-such-key" in missing.stderr
    statuses = {r["id"]: r["status"] for r in project.records().values()}
    assert statuses[minted["id"]] == statuses[rotated["id"]] == "revoked" and len(statuses) == 7


# Run inside the project (`manage.py shell -c`): a key stored in the APIKey table
# gets an access token; under confirm_record each use looks its record up by key id.
TOKEN_CHECK = """
import base64, json
import keyproof
from django.conf import settings
from keyproof.contrib.django import lifecycle, store
engine = keyproof.Engine({**settings.KEYPROOF_ENGINE, "tokens": {
    "issuer": "https://issuer.test/", "audience": "https://api.test/",
    "keys": [keyproof.ed25519_jwk(bytes(range(32)), "ed-test")]}})
minted, row = lifecycle.mint_key(name="Token key", scopes=["briefs:read"], generate_client_id=True)
basic = base64.b64encode(f"{row.client_id}:{minted.key}".encode()).decode()
answer = keyproof.TokenEndpoint(engine, store.lookup).exchange(
    "POST", {"Authorization": "Basic " + basic, "Content-Type": "application/x-www-form-urlencoded"},
    "grant_type=client_credentials")
print(answer.status)
token = json.loads(answer.body)["access_token"]
verifier = keyproof.Verifier(engine, store.lookup)
def use():
    return verifier.verify("GET", "/api/briefs", {"Authorization": "Bearer " + token})
allowed = use()
print(allowed.status, allowed.principal.key_id == row.pk, allowed.token["record_confirmed"])
lifecycle.revoke_key(row.pk)
print(use().code)
"""


def test_store_finds_a_tokens_key_by_id(project: Project) -> None:
    out = project.manage("shell", "-v", "0", "-c", TOKEN_CHECK).stdout.split("\n")
    assert out[:3] == ["200", "200 True True", "key_revoked"]


QUOTA_CHECK = """
import keyproof
from keyproof.contrib.django import lifecycle, store
from keyproof.contrib.django.models import APIKey
own = {"default": {"limit": 2, "burst": 2}}
minted, row = lifecycle.mint_key(name="Small key", scopes=["briefs:read"], rate_limits=own)
print(APIKey.objects.get(pk=row.pk).to_record().rate_limits)
verifier = keyproof.Verifier(lifecycle.get_engine(), store.lookup)
auth = {"Authorization": "Bearer " + minted.key}
decisions = [verifier.verify("GET", "/api/briefs", auth) for _ in range(3)]
print([d.code for d in decisions], decisions[-1].header("RateLimit-Policy"))
lifecycle.update_key(row.pk, {"rate_limits": {}})
print(APIKey.objects.get(pk=row.pk).rate_limits)
daily = {"limit": 1, "period": "day"}
metered, row = lifecycle.mint_key(name="Metered", scopes=["briefs:read"], usage_limit=daily)
print(APIKey.objects.get(pk=row.pk).usage_limit)
verifier = keyproof.Verifier(lifecycle.get_engine(), store.lookup)
auth = {"Authorization": "Bearer " + metered.key}
print([verifier.verify("GET", "/api/briefs", auth).code for _ in range(2)])
lifecycle.update_key(row.pk, {"usage_limit": None})
print(APIKey.objects.get(pk=row.pk).usage_limit, verifier.verify("GET", "/api/briefs", auth).code)
"""


def test_a_keys_own_quota_in_the_apikey_table(project: Project) -> None:
    out = project.manage("shell", "-v", "0", "-c", QUOTA_CHECK).stdout.split("\n")
    assert out[:6] == [
        "{'default': {'limit': 2, 'period_seconds': 60, 'burst': 2}}",
        "['ok', 'ok', 'rate_limited'] \"key\";q=2;w=60",
        "{}",
        "{'limit': 1, 'period': 'day'}",
        "['ok', 'usage_exceeded']",
        "None ok",
    ]
