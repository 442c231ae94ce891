"""The path contract, over real HTTP for every integration: core judges the raw
request target and refuses encoded separators, so the handler a framework runs is
always the one the policy judged. Request targets go out as raw bytes (``paths_support.raw_get``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Callable

import pytest
from django.test import override_settings
from fastapi import Depends, FastAPI
from flask import Flask, g
from keyproof import Principal, Verifier
from keyproof.asgi import KeyproofMiddleware
from keyproof.fastapi import KeyproofAuth, install
from keyproof.flask import KeyproofFlask
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from . import django_app
from .http_support import serve, serve_wsgi
from .paths_support import BILLING, ENGINE, KEY_OF_HANDLER, ORGS, RAN, alookup, handled, lookup, raw_get

#: Encoded separators and dots: refused by core (400 invalid_path) whatever the
#: server decodes them to (``acme%3F/billing`` routes to billing with org ``acme?``).
REFUSED = [
    "/v1/orgs/acme%3F/billing",
    "/v1/orgs/acme%3f/billing",
    "/v1/orgs/acme%23/billing",
    "/v1/orgs/acme%2Fbilling",
    "/v1/orgs/acme%2fbilling",
    "/v1%2Forgs/acme/billing",
    "/v1/orgs/acme%5C/billing",
    "/v1/orgs/acme%00/billing",
    "/v1/orgs/%2e%2e/billing",
    "/v1/orgs/acme/%2E/billing",
    "/v1/orgs/acme%3F%2F..%2Fbilling",
]
#: Other odd targets: the server's and core's readings must agree, whatever they are.
ODD = [
    "/v1/orgs/acme?/billing",
    "/v1/orgs/acme#/billing",
    "/v1/orgs/acme/billing?next=/v1/orgs/acme",
    "/v1/orgs/acme?next=/billing",
    "/v1/orgs/acme%252F/billing",
    "/v1/orgs/%61cme/billing",
    "/v1/orgs/acme;x/billing",
    "/v1/orgs/%C3%A9/billing",
    "/v1/orgs/acme/billing/",
    "//v1/orgs/acme/billing",
    "/v1/orgs/acme/./billing",
    "/v1/orgs/acme/../acme/billing",
    "/v1/orgs/acme\\/billing",
    "http://127.0.0.1/v1/orgs/acme/billing",
]


def answer(base: str, target: str, key: str) -> tuple[int, Any]:
    status, body = raw_get(base, target, key)
    return status, json.loads(body) if body.startswith(b"{") else body


def check_path_contract(base: str, *, routes_first: bool = False, raw: bool = True) -> None:
    """``routes_first``: the integration runs inside the handler the router picked
    (a dependency), so a target that routes nowhere is the router's 404. ``raw``:
    the server hands over the raw target; without it (wsgiref) the path is the
    decoded one re-encoded, so a ``%2F`` the server decoded is a ``/`` for the
    router and for core alike, and only the other escapes are refused."""
    RAN.clear()
    # The policy's own answers: each key reaches its handler and only that one.
    assert answer(base, "/v1/orgs/acme", ORGS.key) == (200, {"handler": "orgs"})
    assert answer(base, "/v1/orgs/acme/billing", BILLING.key) == (200, {"handler": "billing"})
    assert answer(base, "/v1/orgs/acme/billing", ORGS.key)[0] == 403
    assert answer(base, "/v1/orgs/acme", BILLING.key)[0] == 403
    strict = (
        REFUSED
        if raw
        else [t for t in REFUSED if any(e in t.lower() for e in ("%3f", "%23", "%5c", "%00", "%2e"))]
    )
    assert "/v1/orgs/acme%3F/billing" in strict and "/v1/orgs/acme%23/billing" in strict
    for target in strict:
        for m in (ORGS, BILLING):
            status, body = answer(base, target, m.key)
            if not (routes_first and status == 404):
                code = body.get("code") if isinstance(body, dict) else body
                assert (status, code) == (400, "invalid_path"), (target, m.record.name, body)
    for target in REFUSED + ODD:
        for m in (ORGS, BILLING):
            status, body = raw_get(base, target, m.key)
            if status == 200:
                handler = json.loads(body)["handler"]
                # the handler that ran is the one the policy judged: its key is the only one allowed there
                assert KEY_OF_HANDLER[handler] is m, (target, m.record.name, handler)
    assert ("billing", ORGS.record.id) not in RAN and ("orgs", BILLING.record.id) not in RAN
    assert ("orgs", ORGS.record.id) in RAN and ("billing", BILLING.record.id) in RAN


# -- ASGI: Starlette middleware and FastAPI dependency on uvicorn ---------------------


def starlette_app() -> Starlette:
    def route(name: str) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> JSONResponse:
            return JSONResponse(handled(name, request.state.keyproof))

        return endpoint

    return Starlette(
        routes=[Route("/v1/orgs/{org}", route("orgs")), Route("/v1/orgs/{org}/billing", route("billing"))],
        middleware=[Middleware(KeyproofMiddleware, engine=ENGINE, lookup=alookup)],
    )


def fastapi_app() -> FastAPI:
    auth = KeyproofAuth(engine=ENGINE, lookup=alookup)
    app = FastAPI()
    install(app)

    @app.get("/v1/orgs/{org}")
    async def orgs(org: str, principal: Principal = Depends(auth)) -> dict[str, Any]:  # noqa: B008
        return handled("orgs", principal)

    @app.get("/v1/orgs/{org}/billing")
    def billing(org: str, principal: Principal = Depends(auth)) -> dict[str, Any]:  # noqa: B008
        return handled("billing", principal)

    return app


@pytest.mark.parametrize("make_app", [starlette_app, fastapi_app], ids=["starlette", "fastapi"])
def test_asgi_integrations_judge_the_raw_path(make_app: Callable[[], Any]) -> None:
    with serve(make_app()) as base:
        check_path_contract(base, routes_first=make_app is fastapi_app)


# -- WSGI: Flask on werkzeug (RAW_URI) and wsgiref (no raw target: PATH_INFO re-encoded) ----


def flask_app() -> Flask:
    app = Flask(__name__)
    KeyproofFlask(ENGINE, lookup, app=app)

    @app.get("/v1/orgs/<org>")
    def orgs(org: str) -> dict[str, Any]:
        return handled("orgs", g.keyproof)

    @app.get("/v1/orgs/<org>/billing")
    def billing(org: str) -> dict[str, Any]:
        return handled("billing", g.keyproof)

    return app


@pytest.mark.parametrize("server", ["werkzeug", "wsgiref"])
def test_flask_judges_the_raw_target(server: str) -> None:
    with serve_wsgi(flask_app(), server=server) as base:
        check_path_contract(base, raw=server != "wsgiref")


# -- Django: WSGI on werkzeug and wsgiref, ASGI on uvicorn ---------------------------------


@contextmanager
def django_paths() -> Iterator[None]:
    verifier = Verifier(ENGINE, lookup)
    with override_settings(
        ROOT_URLCONF="tests.django_paths_urls", KEYPROOF_VERIFIER=verifier, KEYPROOF_EXCLUDE=[]
    ):
        yield


@pytest.mark.parametrize("server", ["werkzeug", "wsgiref", "uvicorn"])
def test_django_judges_the_raw_target(server: str) -> None:
    with django_paths():
        if server == "uvicorn":
            from django.core.asgi import get_asgi_application

            with serve(get_asgi_application()) as base:
                check_path_contract(base)
        else:
            with serve_wsgi(django_app.application(), server=server) as base:
                check_path_contract(base, raw=server != "wsgiref")
