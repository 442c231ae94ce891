"""ASGI / Starlette middleware.

Every HTTP request and WebSocket handshake is verified before it reaches the
app (fail closed: a denied handshake is refused with the decision's HTTP
response when the server supports it, else closed with code 1008). Denials are answered
with the decision's exact status, headers and problem+json body; on success the
principal is ``request.state.keyproof`` (``scope["state"]["keyproof"]``), the
full decision ``request.state.keyproof_decision``, and the decision's headers
(``RateLimit-*``, ``Deprecation``/``Sunset``) are added to the app's response.

Core judges the raw request path, ``scope["raw_path"]`` (``keyproof.wire``), so the
route it authorizes is the route the app dispatches on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, MutableMapping
from typing import Any, Callable

from keyproof._keyproof import Decision, Engine
from keyproof.stores import RateLimitStore
from keyproof.verifier import Lookup, Save, Verifier
from keyproof.wire import asgi_target, peer_ip

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def scope_headers(scope: Scope) -> list[tuple[str, str]]:
    """The request headers of an ASGI scope, decoded as Latin-1."""
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", [])]


def scope_client_ip(scope: Scope) -> str | None:
    """The peer IP address of an ASGI scope, or None when the peer has none. Behind
    reverse proxies, list them in the policy's ``client_ip.trusted_proxies``: core
    then reads the forwarded client address itself."""
    client = scope.get("client")
    return peer_ip(str(client[0])) if client else None


def encode_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    """Decision headers as ASGI header pairs."""
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]


async def send_denial(decision: Decision, send: Send) -> None:
    """Sends a denial exactly as the core rendered it."""
    body = (decision.body or "").encode("utf-8")
    headers = encode_headers(decision.headers)
    headers.append((b"content-length", str(len(body)).encode("ascii")))
    await send({"type": "http.response.start", "status": decision.status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def refuse_websocket(decision: Decision, scope: Scope, send: Send) -> None:
    """Refuses a WebSocket handshake with the denial's HTTP response, or code 1008."""
    if "websocket.http.response" in scope.get("extensions", {}):
        body = (decision.body or "").encode("utf-8")
        headers = encode_headers(decision.headers)
        headers.append((b"content-length", str(len(body)).encode("ascii")))
        await send({"type": "websocket.http.response.start", "status": decision.status, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body, "more_body": False})
    else:
        await send({"type": "websocket.close", "code": 1008, "reason": decision.public_code})


class KeyproofMiddleware:
    """Verifies API keys for every HTTP request of an ASGI app.

    Give either a ``Verifier`` or an ``Engine`` with a ``lookup`` (sync or async,
    called with one lookup hash at a time) and optionally ``save`` and
    ``rate_limits`` (see ``keyproof.verifier``). ``exclude`` lists exact paths served
    without a key (health checks …). ``client_ip`` maps a scope to the client
    address the IP allowlists see (default: the peer address). ``usage_cost``
    maps a scope to what the request spends of a usage-limited key's allowance
    (None: its route's cost; 0: a check that spends nothing).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        verifier: Verifier | None = None,
        engine: Engine | None = None,
        lookup: Lookup | None = None,
        save: Save | None = None,
        rate_limits: RateLimitStore | None = None,
        client_ip: Callable[[Scope], str | None] = scope_client_ip,
        usage_cost: Callable[[Scope], int | None] | None = None,
        exclude: Iterable[str] = (),
    ) -> None:
        if verifier is None:
            if engine is None or lookup is None:
                raise TypeError("KeyproofMiddleware needs verifier=, or engine= and lookup=")
            verifier = Verifier(engine, lookup, save, rate_limits=rate_limits)
        self.app = app
        self.verifier = verifier
        self.client_ip = client_ip
        self.usage_cost = usage_cost
        self.exclude = frozenset(exclude)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket") or scope.get("path") in self.exclude:
            await self.app(scope, receive, send)
            return
        method = scope["method"] if kind == "http" else "GET"
        headers = scope.get("headers", [])
        cost = self.usage_cost(scope) if self.usage_cost else None
        target, client_ip = asgi_target(scope), self.client_ip(scope)
        decision = await self.verifier.averify(method, target, headers, client_ip, usage_cost=cost)
        if not decision.allowed:
            if kind == "http":
                await send_denial(decision, send)
            else:
                await refuse_websocket(decision, scope, send)
            return
        state = scope.setdefault("state", {})
        state["keyproof"] = decision.principal
        state["keyproof_decision"] = decision
        extra = encode_headers(decision.headers)
        if kind != "http" or not extra:
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
