"""Access tokens against libraries keyproof did not write: PyJWT with
``cryptography`` verifies what keyproof issues, keyproof verifies what PyJWT
signs with the same keys, and both refuse tampered and confused tokens."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone
from typing import Any

import jwt
import keyproof
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.types import Options

from .tokens_support import ED_SEED, HS_SECRET, MATATIKA, MATATIKA_CLIENT, Store, engine, mint

NOW = datetime(2026, 3, 18, 10, 30, tzinfo=timezone.utc)
ISS, AUD = "https://identity.matatika.com/", "https://app.matatika.com/api"


def issued(**tokens: Any) -> tuple[keyproof.Engine, Store, keyproof.IssuedToken]:
    e, store = engine(MATATIKA, **tokens), Store()
    mint(e, store, "matatika_client_secret", client_id=MATATIKA_CLIENT)
    record = next(iter(store.records.values()))
    return e, store, e.issue_token(record, now=NOW)


def private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(ED_SEED)


def flip_payload(token: str) -> str:
    head, payload, sig = token.split(".")
    claims = jwt.utils.base64url_decode(payload).replace(b'"live"', b'"test"')
    return f"{head}.{jwt.utils.base64url_encode(claims).decode()}.{sig}"


def test_keyproof_eddsa_tokens_verify_in_pyjwt() -> None:
    _, _, token = issued()
    header = jwt.get_unverified_header(token.access_token)
    assert header == {"alg": "EdDSA", "typ": "at+jwt", "kid": "ed-2026-03"}
    claims = jwt.decode(
        token.access_token,
        private_key().public_key(),
        algorithms=["EdDSA"],
        audience=AUD,
        issuer=ISS,
        options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
    )
    assert claims == token.claims
    # Seed 002's shape: the subject is "<clientId>@clients", azp the client id.
    assert (claims["sub"], claims["azp"], claims["gty"]) == (
        f"{MATATIKA_CLIENT}@clients",
        MATATIKA_CLIENT,
        "client-credentials",
    )
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(
            flip_payload(token.access_token), private_key().public_key(), algorithms=["EdDSA"], audience=AUD
        )


def test_keyproof_jwks_is_a_jwks_pyjwt_reads() -> None:
    e, _, token = issued()
    jwks = jwt.PyJWKSet.from_dict(e.public_jwks())
    assert [k.key_id for k in jwks.keys] == ["ed-2026-03"]  # the HS256 secret is never published
    key = jwks["ed-2026-03"]
    opts: Options = {"verify_exp": False, "verify_iat": False, "verify_nbf": False}
    assert jwt.decode(token.access_token, key, algorithms=["EdDSA"], audience=AUD, options=opts)["iss"] == ISS


def test_keyproof_hs256_tokens_verify_in_pyjwt() -> None:
    _, _, token = issued(signing_kid="hs-1")
    opts: Options = {"verify_exp": False, "verify_iat": False, "verify_nbf": False}
    claims = jwt.decode(token.access_token, HS_SECRET, algorithms=["HS256"], audience=AUD, options=opts)
    assert claims["key_id"] == token.claims["key_id"]
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(
            flip_payload(token.access_token), HS_SECRET, algorithms=["HS256"], audience=AUD, options=opts
        )


def pyjwt_signed(claims: dict[str, Any], alg: str, key: Any, kid: str) -> str:
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid, "typ": "at+jwt"})


@pytest.mark.parametrize(("alg", "kid"), [("EdDSA", "ed-2026-03"), ("HS256", "hs-1")])
def test_pyjwt_signed_tokens_verify_in_keyproof(alg: str, kid: str) -> None:
    e, store, token = issued()
    key = private_key() if alg == "EdDSA" else HS_SECRET
    signed = pyjwt_signed(token.claims, alg, key, kid)
    verified = e.verify_token(signed, NOW)
    assert (verified.kid, verified.key_id, verified.claims) == (kid, token.claims["key_id"], token.claims)
    # … and through the engine's verification step, like any credential.
    v = keyproof.Verifier(e, store.lookup)
    decision = v.verify("GET", "/api/apikeys", [("Authorization", f"Bearer {signed}")], now=NOW)
    assert decision.allowed and decision.token is not None and decision.token["record_confirmed"] is True
    with pytest.raises(keyproof.KeyproofError) as info:
        e.verify_token(flip_payload(signed), NOW)
    assert info.value.code == "bad_token_signature"


def test_confused_and_unsigned_tokens_are_refused_by_both() -> None:
    e, _, token = issued()
    public = private_key().public_key().public_bytes_raw()
    # HS256 keyed with the (public) Ed25519 key: the classic algorithm confusion.
    confused = pyjwt_signed(token.claims, "HS256", public, "ed-2026-03")
    unsigned = jwt.encode(token.claims, "", algorithm="none", headers={"kid": "ed-2026-03", "typ": "at+jwt"})
    for forged, code in [
        (confused, "token_algorithm_not_allowed"),
        (unsigned, "token_algorithm_not_allowed"),
    ]:
        with pytest.raises(keyproof.KeyproofError) as info:
            e.verify_token(forged, NOW)
        assert info.value.code == code
        assert forged not in str(info.value)
        with pytest.raises(jwt.InvalidTokenError):
            jwt.decode(forged, private_key().public_key(), algorithms=["EdDSA"], audience=AUD)


def test_time_window_matches_pyjwt_with_the_same_leeway() -> None:
    e, _, token = issued(lifetime_seconds=600)
    late = NOW + timedelta(seconds=600 + 30)
    with pytest.raises(keyproof.KeyproofError) as info:
        e.verify_token(token.access_token, late)
    assert info.value.code == "token_expired"
    assert e.verify_token(token.access_token, late - timedelta(seconds=1)).kid == "ed-2026-03"
    assert token.access_token not in repr(token)
    header, claims = keyproof.inspect_token(token.access_token)
    assert header["kid"] == "ed-2026-03" and claims["exp"] - claims["iat"] == 600
    assert base64.urlsafe_b64decode(token.access_token.split(".")[0] + "==").startswith(b'{"alg":"EdDSA"')
