"""Each integration's ``usage_cost`` option over real HTTP: the host prices every
request from the request itself (here a header), core spends that much of the
key's usage limit, and 0 is a check that spends nothing."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import httpx
import keyproof
import pytest
from django.test import override_settings
from fastapi import Depends, FastAPI
from flask import Flask
from keyproof import Principal
from keyproof.asgi import KeyproofMiddleware
from keyproof.fastapi import KeyproofAuth, install
from keyproof.flask import KeyproofFlask
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .django_app import ENGINE, application
from .http_support import serve, serve_wsgi

PRICES = [6, 0, 5, 4, None, 0]
# Allowed: the units left, from the usage field of RateLimit; denied: the code.
ANSWERS = [
    (200, 4),
    (200, 4),
    (429, "usage_exceeded"),
    (200, 0),
    (429, "usage_exceeded"),
    (429, "usage_exceeded"),
]


def units(value: str | None) -> int | None:
    return None if value is None else int(value)


async def ok(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


def starlette_app(verifier: keyproof.Verifier) -> Any:
    cost = lambda scope: units(dict(scope["headers"]).get(b"x-units", b"").decode() or None)  # noqa: E731
    middleware = Middleware(KeyproofMiddleware, verifier=verifier, usage_cost=cost)
    return serve(Starlette(routes=[Route("/v1/items", ok)], middleware=[middleware]))


def flask_app(verifier: keyproof.Verifier) -> Any:
    app = Flask(__name__)
    KeyproofFlask(verifier=verifier, app=app, usage_cost=lambda r: units(r.headers.get("x-units")))
    app.get("/v1/items")(lambda: {"ok": True})
    return serve_wsgi(app)


def fastapi_app(verifier: keyproof.Verifier) -> Any:
    auth = KeyproofAuth(verifier, usage_cost=lambda r: units(r.headers.get("x-units")))
    app = FastAPI()
    install(app)  # denials answered with the decision's exact status and body

    @app.get("/v1/items")
    def items(principal: Principal = Depends(auth)) -> dict[str, bool]:  # noqa: B008
        return {"ok": True}

    return serve(app)


def django_app(verifier: keyproof.Verifier) -> AbstractContextManager[str]:
    class Served(AbstractContextManager[str]):
        def __enter__(self) -> str:
            cost = lambda r: units(r.headers.get("x-units"))  # noqa: E731
            self.settings = override_settings(KEYPROOF_VERIFIER=verifier, KEYPROOF_USAGE_COST=cost)
            self.settings.enable()
            self.server = serve_wsgi(application(), server="wsgiref")
            return self.server.__enter__()

        def __exit__(self, *exc: Any) -> None:
            self.server.__exit__(*exc)
            self.settings.disable()

    return Served()


def answers(base: str, key: str) -> Iterator[tuple[int, Any]]:
    with httpx.Client(base_url=base) as client:
        for price in PRICES:
            priced = {} if price is None else {"X-Units": str(price)}
            r = client.get("/v1/items", headers={"Authorization": f"Bearer {key}", **priced})
            if r.status_code != 200:
                yield r.status_code, r.json()["code"]
                continue
            # Django joins repeated fields into one line; the others send each on its own.
            found = re.search(r'"usage";r=(\d+)', ", ".join(r.headers.get_list("ratelimit")))
            yield r.status_code, found and int(found.group(1))


@pytest.mark.parametrize("start", [starlette_app, flask_app, fastapi_app, django_app])
def test_usage_cost_prices_each_request_over_real_http(start: Callable[[keyproof.Verifier], Any]) -> None:
    minted = ENGINE.mint(name="Priced key", scopes=["items:read"], usage_limit={"limit": 10})
    verifier = keyproof.Verifier(ENGINE, {minted.record.hash: minted.record}.get)
    with start(verifier) as base:
        assert list(answers(base, minted.key)) == ANSWERS
