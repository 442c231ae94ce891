"""Access tokens end to end over real HTTP (FastAPI on 127.0.0.1).

Seed 002 (Matatika): client id + secret → ``POST /oauth/token`` → access token →
``GET /api/apikeys`` 200; a wrong secret is 401 ``invalid_client``; a revoked key
is refused at the token endpoint and, per ``confirm_record``, at use too (or not).
Seed 004 (Authmatech): the backend mints a short-lived SDK token with its API key;
the browser's token opens ``/v1/api/sdk/session`` and gets 403 on ``/v1/api/verify``.
"""

import asyncio
from typing import Annotated, Any

import httpx
import keyproof
import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response
from keyproof import Principal
from keyproof.fastapi import KeyproofAuth, install

from .http_support import serve
from .tokens_support import AUTHMATECH, MATATIKA, MATATIKA_CLIENT, Store, engine, mint


# No `from __future__ import annotations`: FastAPI must see `auth` in the annotations.
def matatika_app(e: keyproof.Engine, store: Store) -> FastAPI:
    auth = KeyproofAuth(engine=e, lookup=store.lookup)
    endpoint = keyproof.TokenEndpoint(e, store.lookup)
    app = FastAPI()
    install(app)

    @app.post("/oauth/token")
    async def token(request: Request) -> Response:
        client_ip = request.client.host if request.client else None
        answer = await endpoint.aexchange("POST", request.scope["headers"], await request.body(), client_ip)
        return Response(answer.body, status_code=answer.status, headers=dict(answer.headers))

    @app.get("/api/apikeys")
    async def apikeys(request: Request, principal: Annotated[Principal, Depends(auth)]) -> dict[str, Any]:
        decision = request.state.keyproof_decision
        return {"key_id": principal.key_id, "token": decision.token}

    return app


def basic(client_id: str, secret: str) -> tuple[str, str]:
    return (client_id, secret)


@pytest.mark.parametrize("confirm_record", [True, False])
def test_seed002_client_credentials_over_http(confirm_record: bool) -> None:
    e, store = engine(MATATIKA, confirm_record=confirm_record), Store()
    secret = mint(e, store, "matatika_client_secret", client_id=MATATIKA_CLIENT)
    key_id = next(iter(store.records))
    with serve(matatika_app(e, store)) as base, httpx.Client(base_url=base) as client:
        got = client.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=basic(MATATIKA_CLIENT, secret)
        )
        assert got.status_code == 200, got.text
        assert (got.headers["cache-control"], got.headers["content-type"]) == ("no-store", "application/json")
        body = got.json()
        assert (body["token_type"], body["expires_in"]) == ("Bearer", 86400)
        claims = keyproof.inspect_token(body["access_token"])[1]
        assert (claims["sub"], claims["gty"], claims["azp"]) == (
            f"{MATATIKA_CLIENT}@clients",
            "client-credentials",
            MATATIKA_CLIENT,
        )
        bearer = {"Authorization": f"Bearer {body['access_token']}"}
        used = client.get("/api/apikeys", headers=bearer)
        assert used.status_code == 200, used.text
        assert used.json()["key_id"] == key_id
        assert used.json()["token"]["record_confirmed"] is confirm_record

        # Client credentials in the body (form), and a wrong secret.
        form = {"grant_type": "client_credentials", "client_id": MATATIKA_CLIENT, "client_secret": secret}
        assert client.post("/oauth/token", data=form).status_code == 200
        wrong = secret[:-1] + ("A" if secret[-1] != "A" else "B")
        denied = client.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=basic(MATATIKA_CLIENT, wrong)
        )
        assert denied.status_code == 401
        assert denied.json() == {
            "error": "invalid_client",
            "error_description": "Client authentication failed.",
        }
        assert denied.headers["www-authenticate"] == 'Basic realm="app.matatika.com", charset="UTF-8"'
        assert wrong not in denied.text

        store.revoke(key_id)
        again = client.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=basic(MATATIKA_CLIENT, secret)
        )
        assert (again.status_code, again.json()["error"]) == (401, "invalid_client")
        after = client.get("/api/apikeys", headers=bearer)
        if confirm_record:  # the record is confirmed on every use: revocation is immediate
            assert after.status_code == 401 and after.json()["code"] == "invalid_key"
        else:  # zero lookups: the token works until it expires
            assert after.status_code == 200 and after.json()["token"]["record_confirmed"] is False


def authmatech_app(e: keyproof.Engine, store: Store) -> FastAPI:
    auth = KeyproofAuth(engine=e, lookup=store.lookup)
    app = FastAPI()
    install(app)

    @app.post("/v1/api/sdk-tokens")
    async def sdk_token(principal: Annotated[Principal, Depends(auth)]) -> dict[str, Any]:
        # The backend, authenticated by its API key, mints a 5-minute SDK token for one route.
        options = {"kind": "sdk_token", "routes": ["/v1/api/sdk/session"], "lifetime_seconds": 300}
        issued = e.issue_token(store.records[principal.key_id], options)
        return {"sdk_token": issued.access_token, "expires_in": issued.expires_in}

    @app.post("/v1/api/sdk/session")
    async def session(principal: Annotated[Principal, Depends(auth)]) -> dict[str, str]:
        return {"session_for": principal.key_id}

    @app.post("/v1/api/verify")
    async def verify(principal: Annotated[Principal, Depends(auth)]) -> dict[str, str]:
        return {"verified_by": principal.key_id}

    return app


def test_seed004_backend_mints_sdk_token_over_http() -> None:
    e, store = engine(AUTHMATECH), Store()
    api_key = mint(e, store, "authmatech_api_key", client_id="amc_4Jr8TqZ2xVb9", features=["verify", "sdk"])
    client_id = {"X-CLIENT-ID": "amc_4Jr8TqZ2xVb9"}
    with serve(authmatech_app(e, store)) as base, httpx.Client(base_url=base) as client:
        minted = client.post("/v1/api/sdk-tokens", headers={"X-API-KEY": api_key, **client_id})
        assert minted.status_code == 200, minted.text
        assert minted.json()["expires_in"] == 300
        sdk = {"X-SDK-TOKEN": minted.json()["sdk_token"], **client_id}
        assert client.post("/v1/api/sdk/session", headers=sdk).status_code == 200
        refused = client.post("/v1/api/verify", headers=sdk)
        assert refused.status_code == 403 and refused.json()["code"] == "route_not_allowed"
        # The API key itself verifies; another account's client id is refused with the token.
        assert client.post("/v1/api/verify", headers={"X-API-KEY": api_key, **client_id}).status_code == 200
        other = client.post("/v1/api/sdk/session", headers={**sdk, "X-CLIENT-ID": "amc_Other0000001"})
        assert other.status_code == 401


def test_token_endpoint_with_an_async_lookup() -> None:
    e, store = engine(MATATIKA), Store()
    secret = mint(e, store, "matatika_client_secret", client_id=MATATIKA_CLIENT)

    async def alookup(value: str) -> keyproof.KeyRecord | None:
        return store.lookup(value)

    endpoint = keyproof.TokenEndpoint(e, alookup)
    form = f"grant_type=client_credentials&client_id={MATATIKA_CLIENT}&client_secret={secret}"
    headers = [("Content-Type", "application/x-www-form-urlencoded")]
    answer = asyncio.run(endpoint.aexchange("POST", headers, form.encode()))
    assert (answer.status, answer.code) == (200, "ok")
    with pytest.raises(TypeError, match="aexchange"):
        endpoint.exchange("POST", headers, form)
