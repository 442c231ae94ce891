"""Seed 002 and seed 004 deployments with access tokens, and an in-memory store
whose lookup answers both storage hashes and key ids (``confirm_record``)."""

from __future__ import annotations

import copy
from datetime import datetime, timezone
from typing import Any

import keyproof
from keyproof import Engine, KeyRecord

ED_SEED = bytes(range(32))
HS_SECRET = bytes(range(100, 132))
ED = keyproof.ed25519_jwk(ED_SEED, "ed-2026-03")
HS = keyproof.hs256_jwk(HS_SECRET, "hs-1")
MATATIKA_CLIENT = "UajESGdi9hMM9v3IsPv7NLYZfJ1uo53i"

MATATIKA: dict[str, Any] = {
    "formats": ["matatika_client_secret"],
    "policy": {
        "realm": "app.matatika.com",
        "credentials": {"methods": ["basic", "bearer"]},
        "routes": [{"method": "GET", "path": "/api/apikeys", "credential_kinds": ["client_secret"]}],
    },
    "tokens": {
        "issuer": "https://identity.matatika.com/",
        "audience": "https://app.matatika.com/api",
        "lifetime_seconds": 86400,
        "algorithms": ["EdDSA", "HS256"],
        "signing_kid": "ed-2026-03",
        "keys": [ED, HS],
    },
}

AUTHMATECH: dict[str, Any] = {
    "formats": ["authmatech_api_key", "authmatech_sdk_token"],
    "policy": {
        "realm": "api.authmatech.com",
        "credentials": {"methods": ["api_key_header", "sdk_token"]},
        "require_client_id": True,
        "routes": [
            {"method": "POST", "path": "/v1/api/sdk/session", "credential_kinds": ["sdk_token"]},
            {"method": "POST", "path": "/v1/api/verify", "credential_kinds": ["secret"], "feature": "verify"},
            {
                "method": "POST",
                "path": "/v1/api/sdk-tokens",
                "credential_kinds": ["secret"],
                "feature": "sdk",
            },
        ],
    },
    "tokens": {
        "issuer": "https://api.authmatech.com/",
        "audience": "https://api.authmatech.com/",
        "keys": [ED],
    },
}


def engine(config: dict[str, Any], **tokens: Any) -> Engine:
    config = copy.deepcopy(config)
    config["tokens"].update(tokens)
    return Engine(config)


class Store:
    """Records by storage hash and by id: a token under ``confirm_record`` is looked up by key id."""

    def __init__(self) -> None:
        self.records: dict[str, KeyRecord] = {}

    def add(self, record: KeyRecord) -> None:
        self.records[record.id] = record

    def lookup(self, value: str) -> KeyRecord | None:
        if keyproof.is_record_id(value):  # a token's key id, not a storage hash
            return self.records.get(value)
        return next((r for r in self.records.values() if r.hash == value), None)

    def revoke(self, key_id: str) -> None:
        self.records[key_id] = self.records[key_id].revoked(now=datetime.now(timezone.utc))


def mint(engine: Engine, store: Store, fmt: str, **options: Any) -> str:
    minted = keyproof.mint(engine.formats.get(fmt), {"name": "key", **options})
    store.add(minted.record)
    return minted.key
