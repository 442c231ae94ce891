"""FastAPI dependency.

``auth = KeyproofAuth(engine=engine, lookup=lookup)`` then
``Depends(auth)`` gives the ``Principal``; ``request.state.keyproof`` holds it
too. Denials raise ``KeyproofDenied`` (an ``HTTPException`` with the decision's
status and headers); ``install(app)`` makes FastAPI answer them with the core's
exact problem+json body instead of ``{"detail": …}``. Core judges the raw request
path, ``scope["raw_path"]`` (``keyproof.wire``): the route the handler serves.
"""

from __future__ import annotations

import json
from typing import Callable

from fastapi import FastAPI, HTTPException, Request, Response
from starlette.responses import Response as StarletteResponse

from keyproof._keyproof import Decision, Engine, Principal
from keyproof.stores import RateLimitStore
from keyproof.verifier import Lookup, Save, Verifier
from keyproof.wire import asgi_target, peer_ip


class KeyproofDenied(HTTPException):
    """A denied request; ``.decision`` has the code, status, headers and body."""

    def __init__(self, decision: Decision) -> None:
        detail = json.loads(decision.body) if decision.body else decision.public_code
        super().__init__(status_code=decision.status, detail=detail, headers=dict(decision.headers))
        self.decision = decision


def denial_response(decision: Decision) -> StarletteResponse:
    """The exact HTTP response of a denial."""
    headers = [(k, v) for k, v in decision.headers if k.lower() != "content-type"]
    response = StarletteResponse(
        content=decision.body or "",
        status_code=decision.status,
        media_type=decision.header("content-type") or "application/problem+json",
    )
    for name, value in headers:
        response.headers.append(name, value)
    return response


async def _handle_denied(request: Request, exc: Exception) -> StarletteResponse:
    if isinstance(exc, KeyproofDenied):
        return denial_response(exc.decision)
    raise exc


def install(app: FastAPI) -> None:
    """Answers ``KeyproofDenied`` with the core's exact status, headers and body."""
    app.add_exception_handler(KeyproofDenied, _handle_denied)


def request_client_ip(request: Request) -> str | None:
    """The peer IP address, or None. Behind reverse proxies, list them in the policy's
    ``client_ip.trusted_proxies``: core then reads the forwarded client address itself."""
    return peer_ip(request.client.host) if request.client else None


class KeyproofAuth:
    """A FastAPI dependency that verifies the request's API key."""

    def __init__(
        self,
        verifier: Verifier | None = None,
        *,
        engine: Engine | None = None,
        lookup: Lookup | None = None,
        save: Save | None = None,
        rate_limits: RateLimitStore | None = None,
        client_ip: Callable[[Request], str | None] = request_client_ip,
        usage_cost: Callable[[Request], int | None] | None = None,
    ) -> None:
        if verifier is None:
            if engine is None or lookup is None:
                raise TypeError("KeyproofAuth needs a verifier, or engine= and lookup=")
            verifier = Verifier(engine, lookup, save, rate_limits=rate_limits)
        self.verifier = verifier
        self.client_ip = client_ip
        self.usage_cost = usage_cost

    async def __call__(self, request: Request, response: Response) -> Principal:
        scope = request.scope
        cost = self.usage_cost(request) if self.usage_cost else None
        target, headers, client_ip = asgi_target(scope), scope.get("headers", []), self.client_ip(request)
        decision = await self.verifier.averify(request.method, target, headers, client_ip, usage_cost=cost)
        if not decision.allowed or decision.principal is None:
            raise KeyproofDenied(decision)
        for name, value in decision.headers:
            response.headers.append(name, value)
        request.state.keyproof = decision.principal
        request.state.keyproof_decision = decision
        return decision.principal
