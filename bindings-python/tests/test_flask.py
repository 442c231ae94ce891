from __future__ import annotations

from typing import Any

import httpx
import pytest
from flask import Flask, g
from keyproof import Principal
from keyproof.flask import KeyproofFlask

from .http_support import RecordingVerifier, assert_exact, serve_wsgi
from .support import READER, REVOKED, REVOKED_MINT, WRITER, alookup, bearer, engine, lookup


def principal_json() -> dict[str, Any]:
    principal: Principal = g.keyproof
    return {"key_id": principal.key_id, "name": principal.name, "scopes": principal.scopes}


def extension_app(verifier: RecordingVerifier) -> Flask:
    auth = KeyproofFlask(verifier=verifier, exclude=["/health"])
    app = Flask(__name__)
    auth.init_app(app)

    @app.route("/v1/items", methods=["GET", "POST"])
    def items() -> dict[str, Any]:
        return principal_json()

    @app.get("/v1/limited")
    @auth.required  # already verified by the hook: must not spend quota twice
    def limited() -> dict[str, Any]:
        return principal_json()

    @app.get("/health")
    def health() -> dict[str, bool]:
        return {"ok": "keyproof" not in g}

    return app


def test_extension_over_real_http() -> None:
    e = engine()
    verifier = RecordingVerifier(e, lookup)
    with serve_wsgi(extension_app(verifier)) as base, httpx.Client(base_url=base) as client:
        ok = client.get("/v1/items", headers=dict(bearer(READER.key)))
        assert ok.status_code == 200
        assert ok.json() == {"key_id": READER.record.id, "name": "Reader key", "scopes": ["items:read"]}
        assert verifier.decisions[-1].allowed
        for name, value in verifier.decisions[-1].headers:
            assert ok.headers.get_list(name) == [value]

        missing = client.get("/v1/items")
        assert_exact(missing, e.decide(e.prepare("GET", "/v1/items", []), None))
        assert missing.headers["www-authenticate"] == 'Bearer realm="api.example.test"'
        assert missing.headers["content-type"] == "application/problem+json"

        revoked = client.get("/v1/items", headers=dict(bearer(REVOKED_MINT.key)))
        assert_exact(revoked, e.decide(e.prepare("GET", "/v1/items", bearer(REVOKED_MINT.key)), REVOKED))
        assert revoked.json()["code"] == "invalid_key" and REVOKED_MINT.key not in revoked.text

        scope = client.post("/v1/items", headers=dict(bearer(READER.key)))
        assert_exact(scope, e.decide(e.prepare("POST", "/v1/items", bearer(READER.key)), READER.record))
        assert scope.status_code == 403 and scope.json()["missing_scope"] == "items:write"
        assert client.post("/v1/items", headers=dict(bearer(WRITER.key))).status_code == 200
        assert client.get("/v1/items", headers={"X-API-Key": READER.key}).status_code == 200

        assert client.get("/health").json() == {"ok": True}
        assert client.get("/v1/nowhere", headers=dict(bearer(READER.key))).status_code == 403

        before = len(verifier.decisions)
        limited = [client.get("/v1/limited", headers=dict(bearer(WRITER.key))) for _ in range(4)]
        assert len(verifier.decisions) == before + 4
        assert [r.status_code for r in limited] == [200, 200, 200, 429]
        assert [r.headers["ratelimit"].split(";")[1] for r in limited] == ["r=2", "r=1", "r=0", "r=0"]
        assert_exact(limited[-1], verifier.decisions[-1])
        assert limited[-1].headers["retry-after"] == "1" and limited[-1].json()["code"] == "rate_limited"


def test_decorator_only_over_real_http() -> None:
    e = engine()
    auth = KeyproofFlask(e, lookup)
    app = Flask(__name__)

    @app.get("/v1/items")
    @auth.required
    def items() -> tuple[dict[str, Any], int]:
        return principal_json(), 200

    @app.get("/open")
    def open_view() -> dict[str, bool]:
        return {"open": True}

    with serve_wsgi(app) as base, httpx.Client(base_url=base) as client:
        ok = client.get("/v1/items", headers=dict(bearer(READER.key)))
        assert ok.status_code == 200 and ok.json()["key_id"] == READER.record.id
        assert len(ok.headers.get_list("ratelimit")) == 1 and ";q=100;" in ok.headers["ratelimit-policy"]
        assert_exact(client.get("/v1/items"), e.decide(e.prepare("GET", "/v1/items", []), None))
        assert client.get("/open").json() == {"open": True}


def test_async_lookup_and_missing_arguments_are_refused() -> None:
    with pytest.raises(TypeError):
        KeyproofFlask(engine())
    app = Flask(__name__)
    app.config["TESTING"] = True  # let the lookup's TypeError through
    KeyproofFlask(engine(), alookup, app=app)
    app.get("/v1/items")(lambda: "unreachable")
    with pytest.raises(TypeError, match="asynchronous"):
        app.test_client().get("/v1/items", headers=dict(bearer(READER.key)))
