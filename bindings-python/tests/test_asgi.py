from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from keyproof import Principal
from keyproof.asgi import KeyproofMiddleware
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .http_support import serve
from .support import READER, REVOKED_MINT, WRITER, alookup, bearer, engine


async def items(request: Request) -> JSONResponse:
    principal: Principal = request.state.keyproof
    return JSONResponse({"key_id": principal.key_id, "name": principal.name, "scopes": principal.scopes})


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


def app() -> Starlette:
    return Starlette(
        routes=[
            Route("/v1/items", items, methods=["GET", "POST"]),
            Route("/v1/limited", items),
            Route("/health", health),
        ],
        middleware=[Middleware(KeyproofMiddleware, engine=engine(), lookup=alookup, exclude=["/health"])],
    )


def expected_denial(method: str, path: str, headers: list[tuple[str, str]]) -> tuple[int, str]:
    e = engine()
    d = e.decide(e.prepare(method, path, headers), None)
    assert d.body is not None
    return d.status, d.body


def test_middleware_over_real_http() -> None:
    with serve(app()) as base, httpx.Client(base_url=base) as client:
        ok = client.get("/v1/items", headers=dict(bearer(READER.key)))
        assert ok.status_code == 200
        assert ok.json() == {"key_id": READER.record.id, "name": "Reader key", "scopes": ["items:read"]}
        # draft-11 fields: the bucket (q) and what is left of it (r).
        assert ";q=100;" in ok.headers["ratelimit-policy"] and ";r=99;" in ok.headers["ratelimit"]

        missing = client.get("/v1/items")
        status, body = expected_denial("GET", "/v1/items", [])
        assert (missing.status_code, missing.text) == (status, body) == (401, body)
        assert missing.headers["content-type"] == "application/problem+json"
        assert missing.headers["www-authenticate"] == 'Bearer realm="api.example.test"'
        assert missing.headers["cache-control"] == "no-store"
        assert json.loads(missing.text)["code"] == "missing_credentials"

        revoked = client.get("/v1/items", headers=dict(bearer(REVOKED_MINT.key)))
        assert revoked.status_code == 401 and revoked.json()["code"] == "invalid_key"
        assert REVOKED_MINT.key not in revoked.text

        scope = client.post("/v1/items", headers=dict(bearer(READER.key)))
        assert scope.status_code == 403 and scope.json()["missing_scope"] == "items:write"
        assert client.post("/v1/items", headers=dict(bearer(WRITER.key))).status_code == 200

        api_key = client.get("/v1/items", headers={"X-API-Key": READER.key})
        assert api_key.status_code == 200

        assert client.get("/health").json() == {"ok": True}
        assert client.get("/v1/nowhere", headers=dict(bearer(READER.key))).status_code == 403

        limited = [client.get("/v1/limited", headers=dict(bearer(WRITER.key))) for _ in range(4)]
        assert [r.status_code for r in limited] == [200, 200, 200, 429]
        assert limited[-1].headers["retry-after"] == "1" and limited[-1].json()["code"] == "rate_limited"


def test_concurrent_clients_share_one_engine() -> None:
    with serve(app()) as base:

        def call(i: int) -> int:
            key = READER.key if i % 2 else "kp_live_nope"
            with httpx.Client(base_url=base) as client:
                return client.get("/v1/items", headers=dict(bearer(key))).status_code

        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(call, range(32)))
    assert codes == [401 if i % 2 == 0 else 200 for i in range(32)]


def test_websocket_handshakes_are_verified_too() -> None:
    calls: list[Any] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        calls.append(scope["state"]["keyproof"].key_id)

    mw = KeyproofMiddleware(inner, engine=engine(), lookup=alookup)

    def run(headers: list[tuple[bytes, bytes]], extensions: dict[str, Any]) -> list[dict[str, Any]]:
        sent: list[dict[str, Any]] = []
        scope = {"type": "websocket", "path": "/v1/items", "headers": headers, "extensions": extensions}

        async def receive() -> dict[str, Any]:
            return {"type": "websocket.connect"}

        async def send(message: Any) -> None:
            sent.append(dict(message))

        asyncio.run(mw(scope, receive, send))
        return sent

    assert run([], {}) == [{"type": "websocket.close", "code": 1008, "reason": "missing_credentials"}]
    refused = run([], {"websocket.http.response": {}})
    assert refused[0]["type"] == "websocket.http.response.start" and refused[0]["status"] == 401
    assert json.loads(refused[1]["body"])["code"] == "missing_credentials"
    assert run([(b"authorization", f"Bearer {READER.key}".encode())], {}) == []
    assert calls == [READER.record.id]


def test_lifespan_passes_through() -> None:
    seen: list[str] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    async def noop() -> dict[str, Any]:
        return {}

    async def drop(message: Any) -> None:
        return None

    asyncio.run(KeyproofMiddleware(inner, engine=engine(), lookup=alookup)({"type": "lifespan"}, noop, drop))
    assert seen == ["lifespan"]


def test_client_address_behind_a_trusted_proxy_over_real_http() -> None:
    """The test client reaches the server from 127.0.0.1, which the policy trusts as
    a reverse proxy: core reads the client's address from X-Forwarded-For itself."""
    import keyproof

    e = keyproof.Engine(
        {
            "formats": ["keyproof_live"],
            "policy": {
                "routes": [{"method": "GET", "path": "/v1/items", "all_of": ["items:read"]}],
                "client_ip": {"trusted_proxies": ["127.0.0.0/8", "::1"]},
            },
        }
    )
    office = e.mint(name="Office key", scopes=["items:read"], allowed_ips=["203.0.113.0/24"])
    # The address core judges, for logs: the forwarded one only from a trusted peer.
    assert e.client_ip("127.0.0.1", {"X-Forwarded-For": "198.51.100.1, 203.0.113.7"}) == "203.0.113.7"
    assert e.client_ip("198.51.100.9", {"X-Forwarded-For": "203.0.113.7"}) == "198.51.100.9"
    assert e.client_ip(None, {}) is None

    async def lookup(hash: str) -> Any:
        return office.record if hash == office.record.hash else None

    proxied = Starlette(
        routes=[Route("/v1/items", items)],
        middleware=[Middleware(KeyproofMiddleware, engine=e, lookup=lookup)],
    )
    auth = {"Authorization": f"Bearer {office.key}"}
    with serve(proxied, proxy_headers=False) as base, httpx.Client(base_url=base) as client:
        assert client.get("/v1/items", headers={**auth, "X-Forwarded-For": "203.0.113.7"}).status_code == 200
        spoofed = client.get("/v1/items", headers={**auth, "X-Forwarded-For": "203.0.113.7, 198.51.100.1"})
        assert (spoofed.status_code, spoofed.json()["code"]) == (403, "ip_not_allowed")
        assert client.get("/v1/items", headers=auth).json()["code"] == "ip_not_allowed"  # the proxy itself
        garbage = client.get("/v1/items", headers={**auth, "X-Forwarded-For": "unknown"})
        assert (garbage.status_code, garbage.json()["code"]) == (400, "invalid_client_ip")


def test_a_key_pinned_to_a_website_over_real_http() -> None:
    """The middleware hands core the Origin (else the Referer) the browser sent."""
    storefront = engine().mint(
        name="Storefront key", scopes=["items:read"], allowed_origins=["https://shop.example.com"]
    )
    assert storefront.record.allowed_origins == ["https://shop.example.com"]

    async def lookup(hash: str) -> Any:
        return storefront.record if hash == storefront.record.hash else None

    app = Starlette(
        routes=[Route("/v1/items", items)],
        middleware=[Middleware(KeyproofMiddleware, engine=engine(), lookup=lookup)],
    )
    auth = {"Authorization": f"Bearer {storefront.key}"}
    with serve(app) as base, httpx.Client(base_url=base) as client:
        site = {"Origin": "https://shop.example.com"}
        assert client.get("/v1/items", headers={**auth, **site}).status_code == 200
        page = {"Referer": "https://shop.example.com/cart"}
        assert client.get("/v1/items", headers={**auth, **page}).status_code == 200
        elsewhere = client.get("/v1/items", headers={**auth, "Origin": "https://evil.example"})
        assert (elsewhere.status_code, elsewhere.json()["code"]) == (403, "origin_not_allowed")
        assert client.get("/v1/items", headers=auth).json()["code"] == "origin_not_allowed"
