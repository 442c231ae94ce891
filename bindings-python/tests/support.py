"""A small deployment shared by the engine, verifier and HTTP tests."""

from __future__ import annotations

from typing import Any

import keyproof
from keyproof import Engine, KeyRecord, MintedKey

from .conftest import NOW

CONFIG: dict[str, Any] = {
    "formats": ["keyproof_live", "keyproof_test"],
    "policy": {
        "realm": "api.example.test",
        "environments": ["live"],
        "credentials": {"methods": ["bearer", "api_key_header"]},
        "routes": [
            {"method": "GET", "path": "/v1/items", "all_of": ["items:read"]},
            {"method": "POST", "path": "/v1/items", "all_of": ["items:write"]},
            {
                "method": "GET",
                "path": "/v1/limited",
                "all_of": ["items:read"],
                "rate_limit": {"class": "tight"},
            },
        ],
        "plans": {"free": {"limit": 600, "burst": 100}},
        "rate_limit_classes": {"tight": {"free": {"limit": 60, "burst": 3}}},
        "default_plan": "free",
    },
}


def engine() -> Engine:
    return Engine(CONFIG)


def minted(name: str, seed: int, fmt: str = "keyproof_live", **kw: Any) -> MintedKey:
    return keyproof.mint(fmt, name=name, random_bytes=bytes([seed]) * 32, now=NOW, **kw)


READER = minted("Reader key", 1, scopes=["items:read"])
WRITER = minted("Writer key", 2, scopes=["items:read", "items:write"])
REVOKED_MINT = minted("Revoked key", 3, scopes=["items:read"])
REVOKED = REVOKED_MINT.record.revoked(now=NOW)
TEST_KEY = minted("Test env key", 4, fmt="keyproof_test", scopes=["items:read"])

RECORDS: dict[str, KeyRecord] = {r.hash: r for r in (READER.record, WRITER.record, REVOKED, TEST_KEY.record)}


def lookup(stored_hash: str) -> KeyRecord | None:
    return RECORDS.get(stored_hash)


async def alookup(stored_hash: str) -> dict[str, Any] | None:
    found = RECORDS.get(stored_hash)
    return found.to_dict() if found is not None else None


def bearer(key: str) -> list[tuple[str, str]]:
    return [("Authorization", f"Bearer {key}")]
