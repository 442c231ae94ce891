from typing import Annotated, Any

import httpx
from fastapi import Depends, FastAPI, Request
from keyproof import Principal
from keyproof.fastapi import KeyproofAuth, install

from .http_support import serve
from .support import READER, REVOKED_MINT, alookup, bearer, engine, lookup


# No `from __future__ import annotations` here: FastAPI must see `auth` in the annotations.
def make_app(*, installed: bool, async_lookup: bool) -> FastAPI:
    auth = KeyproofAuth(engine=engine(), lookup=alookup if async_lookup else lookup)
    app = FastAPI()
    if installed:
        install(app)

    @app.get("/v1/items")
    async def items(request: Request, principal: Annotated[Principal, Depends(auth)]) -> dict[str, Any]:
        assert request.state.keyproof is not None
        same = request.state.keyproof.key_id == principal.key_id
        return {"key_id": principal.key_id, "plan": principal.plan, "same": same}

    @app.post("/v1/items")
    def create(principal: Annotated[Principal, Depends(auth)]) -> dict[str, str]:
        return {"created_by": principal.key_id}

    return app


def test_dependency_over_real_http() -> None:
    e = engine()
    with serve(make_app(installed=True, async_lookup=True)) as base, httpx.Client(base_url=base) as client:
        ok = client.get("/v1/items", headers=dict(bearer(READER.key)))
        assert ok.status_code == 200
        assert ok.json() == {"key_id": READER.record.id, "plan": "free", "same": True}
        assert ";q=100;" in ok.headers["ratelimit-policy"]

        missing = client.get("/v1/items")
        expected = e.decide(e.prepare("GET", "/v1/items", []), None)
        assert missing.status_code == expected.status == 401
        assert missing.text == expected.body
        assert missing.headers["content-type"] == "application/problem+json"
        assert missing.headers["www-authenticate"] == expected.header("www-authenticate")

        revoked = client.get("/v1/items", headers=dict(bearer(REVOKED_MINT.key)))
        assert revoked.status_code == 401 and revoked.json()["code"] == "invalid_key"

        scope = client.post("/v1/items", headers=dict(bearer(READER.key)))
        assert scope.status_code == 403 and scope.json()["code"] == "insufficient_scope"


def test_without_install_status_and_headers_still_exact() -> None:
    with serve(make_app(installed=False, async_lookup=False)) as base, httpx.Client(base_url=base) as client:
        missing = client.get("/v1/items")
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"] == 'Bearer realm="api.example.test"'
        assert missing.json()["detail"]["code"] == "missing_credentials"
        assert client.get("/v1/items", headers=dict(bearer(READER.key))).status_code == 200
