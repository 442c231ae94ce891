from __future__ import annotations

import httpx
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory, override_settings
from keyproof import Decision
from keyproof.django import KeyproofAuthentication, KeyproofDenied, get_config
from rest_framework.request import Request

from . import support
from .django_app import ENGINE, STORE, VERIFIER, application
from .http_support import assert_exact, serve_wsgi
from .support import READER, REVOKED, REVOKED_MINT, WRITER, bearer

e = ENGINE


def test_middleware_over_real_http() -> None:
    with serve_wsgi(application(), server="wsgiref") as base, httpx.Client(base_url=base) as client:
        ok = client.get("/v1/items", headers=dict(bearer(READER.key)))
        assert ok.status_code == 200
        assert ok.json() == {"key_id": READER.record.id, "name": "Reader key", "scopes": ["items:read"]}
        assert VERIFIER.decisions[-1].allowed
        for name, value in VERIFIER.decisions[-1].headers:
            assert ok.headers.get_list(name) == [value]

        missing = client.get("/v1/items")
        assert_exact(missing, e.decide(e.prepare("GET", "/v1/items", []), None))
        assert missing.headers["www-authenticate"] == 'Bearer realm="api.example.test"'
        assert missing.headers["content-type"] == "application/problem+json"

        revoked = client.get("/v1/items", headers=dict(bearer(REVOKED_MINT.key)))
        assert_exact(revoked, e.decide(e.prepare("GET", "/v1/items", bearer(REVOKED_MINT.key)), REVOKED))

        scope = client.post("/v1/items", headers=dict(bearer(READER.key)))
        assert_exact(scope, e.decide(e.prepare("POST", "/v1/items", bearer(READER.key)), READER.record))
        assert scope.status_code == 403 and scope.json()["code"] == "insufficient_scope"
        assert client.post("/v1/items", headers=dict(bearer(WRITER.key))).status_code == 200
        assert client.get("/v1/items", headers={"X-API-Key": READER.key}).status_code == 200
        assert client.get("/health").json() == {"ok": True}

        # Middleware and DRF authentication both run here: quota is spent once per request.
        before = len(VERIFIER.decisions)
        limited = [client.get("/v1/limited", headers=dict(bearer(READER.key))) for _ in range(4)]
        assert len(VERIFIER.decisions) == before + 4
        assert [r.status_code for r in limited] == [200, 200, 200, 429]
        assert limited[0].json()["key_id"] == READER.record.id
        assert [r.headers["ratelimit"].split(";")[1] for r in limited] == ["r=2", "r=1", "r=0", "r=0"]
        assert_exact(limited[-1], VERIFIER.decisions[-1])
        assert limited[-1].headers["retry-after"] == "1"


def test_a_usage_limited_keys_two_rate_limit_policies_reach_the_client() -> None:
    # Django holds one value per header name: the decision's repeated RateLimit-Policy /
    # RateLimit fields (plan, then usage) arrive joined into one list each.
    metered = support.minted(
        "Metered key", 9, scopes=["items:read"], usage_limit={"limit": 3, "period": "day"}
    )
    support.RECORDS[metered.record.hash] = metered.record
    try:
        with serve_wsgi(application(), server="wsgiref") as base, httpx.Client(base_url=base) as client:
            ok = client.get("/v1/items", headers=dict(bearer(metered.key)))
            assert ok.status_code == 200
            decision = VERIFIER.decisions[-1]
            assert [n for n, _ in decision.headers].count("RateLimit-Policy") == 2
            policies = ok.headers.get_list("RateLimit-Policy")
            assert policies == [", ".join(v for n, v in decision.headers if n == "RateLimit-Policy")]
            assert '"usage";q=3;w=86400' in policies[0] and policies[0].startswith('"free"')
            assert ok.headers["RateLimit"].endswith(", " + decision.headers[-1][1])
            spent = [client.get("/v1/items", headers=dict(bearer(metered.key))).status_code for _ in range(3)]
            assert spent == [200, 200, 429]
    finally:
        del support.RECORDS[metered.record.hash]


def test_drf_authentication_over_real_http() -> None:
    with serve_wsgi(application(), server="wsgiref") as base, httpx.Client(base_url=base) as client:
        ok = client.get("/drf/items", headers=dict(bearer(READER.key)))
        assert ok.status_code == 200 and ok.json()["key_id"] == READER.record.id

        missing = client.get("/drf/items")
        assert_exact(missing, e.decide(e.prepare("GET", "/drf/items", []), None))
        assert missing.headers["content-type"] == "application/problem+json"

        scope = client.post("/drf/items", headers=dict(bearer(READER.key)))
        assert_exact(scope, e.decide(e.prepare("POST", "/drf/items", bearer(READER.key)), READER.record))
        assert client.post("/drf/items", headers=dict(bearer(WRITER.key))).json() == {
            "created_by": WRITER.record.id
        }

        limited = [client.get("/drf/limited", headers=dict(bearer(WRITER.key))) for _ in range(4)]
        assert [r.status_code for r in limited] == [200, 200, 200, 429]
        assert_exact(limited[-1], VERIFIER.decisions[-1])
        # /drf/* is KEYPROOF_EXCLUDEd: the middleware adds the headers of DRF's decision.
        assert [r.headers["ratelimit"].split(";")[1] for r in limited] == ["r=2", "r=1", "r=0", "r=0"]

        # DRF's own handler keeps the status and WWW-Authenticate, not the body.
        fallback = client.get("/drf/fallback")
        expected = e.decide(e.prepare("GET", "/drf/fallback", []), None)
        assert fallback.status_code == expected.status == 401
        assert fallback.headers["www-authenticate"] == expected.header("www-authenticate")
        assert fallback.json() == {"detail": "missing_credentials"}  # never the internal detail
        assert client.get("/drf/fallback", headers=dict(bearer(READER.key))).status_code == 200


def test_drf_alone_with_the_headers_middleware_over_real_http() -> None:
    headers_only = ["keyproof.django.KeyproofHeadersMiddleware"]
    with override_settings(MIDDLEWARE=headers_only):
        app = application()  # the handler reads MIDDLEWARE when built
    with serve_wsgi(app, server="wsgiref") as base, httpx.Client(base_url=base) as client:
        before = len(VERIFIER.decisions)
        ok = client.get("/drf/items", headers=dict(bearer(READER.key)))
        assert ok.status_code == 200 and len(VERIFIER.decisions) == before + 1
        decision = VERIFIER.decisions[-1]
        assert decision.allowed and decision.headers
        for name, value in decision.headers:
            assert ok.headers.get_list(name) == [value]
        # Not a verifying middleware: a route DRF does not guard is not judged.
        assert client.get("/health").json() == {"ok": True}
        assert len(VERIFIER.decisions) == before + 1
        denied = client.get("/drf/items")
        assert_exact(denied, VERIFIER.decisions[-1])


def test_drf_authenticate_header_is_the_core_challenge() -> None:
    auth = KeyproofAuthentication()
    fresh = Request(RequestFactory().get("/drf/items"))
    assert auth.authenticate_header(fresh) == 'Bearer realm="api.example.test"'
    revoked = Request(RequestFactory().get("/drf/items", HTTP_AUTHORIZATION=f"Bearer {REVOKED_MINT.key}"))
    with pytest.raises(KeyproofDenied) as denied:
        auth.authenticate(revoked)
    assert denied.value.status_code == 401 and denied.value.decision.public_code == "invalid_key"
    assert auth.authenticate_header(revoked) == denied.value.decision.header("www-authenticate")
    assert 'error="invalid_token"' in (auth.authenticate_header(revoked) or "")


def test_settings_are_validated_and_reloaded() -> None:
    assert get_config().verifier is VERIFIER
    with override_settings(KEYPROOF_VERIFIER=None, KEYPROOF_ENGINE=None), pytest.raises(ImproperlyConfigured):
        get_config()
    with override_settings(KEYPROOF_VERIFIER=None, KEYPROOF_LOOKUP="tests.support.lookup"):
        assert get_config().verifier.lookup is support.lookup
        assert get_config().verifier.engine is ENGINE
        assert get_config().verifier.rate_limits is STORE
    assert get_config().verifier is VERIFIER


def test_on_decision_setting_sees_refused_requests_over_real_http() -> None:
    """``KEYPROOF_ON_DECISION``: the middleware answers a denial itself, so this is
    where a deployment logs it (with the identified key)."""
    seen: list[tuple[str, str | None, str, str]] = []

    def audit(decision: Decision, method: str, path: str, client_ip: str | None) -> None:
        seen.append((decision.code, decision.key_id, method, path))

    settings = {
        "KEYPROOF_VERIFIER": None,
        "KEYPROOF_LOOKUP": "tests.support.lookup",
        "KEYPROOF_ON_DECISION": audit,
    }
    with override_settings(**settings):
        assert get_config().verifier.on_decision is audit
        with serve_wsgi(application(), server="wsgiref") as base, httpx.Client(base_url=base) as client:
            assert client.post("/v1/items", headers=dict(bearer(READER.key))).status_code == 403
            assert client.get("/v1/items", headers=dict(bearer(REVOKED_MINT.key))).status_code == 401
            assert client.get("/v1/items").status_code == 401
    assert seen == [
        ("insufficient_scope", READER.record.id, "POST", "/v1/items"),
        ("key_revoked", REVOKED_MINT.record.id, "GET", "/v1/items"),
        ("missing_credentials", None, "GET", "/v1/items"),
    ]
    assert get_config().verifier is VERIFIER
