"""Smoke test for a freshly installed wheel on any supported Python (3.9+).

Run as ``python tests/smoke.py`` from any directory; uses only the package itself.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone

import keyproof


def main() -> None:
    now = datetime(2026, 3, 18, 10, 30, tzinfo=timezone.utc)
    minted = keyproof.mint(
        "keyproof_live", name="Smoke key", scopes=["items:read"], random_bytes=b"\x07" * 32, now=now
    )
    parsed = keyproof.parse_key(minted.key)
    assert parsed.format_id == "keyproof_live" and parsed.preview == minted.preview
    assert keyproof.Hasher().verify(parsed, minted.record.hash).matched
    assert minted.key not in repr(minted) and minted.record.hash not in repr(minted.record)
    assert keyproof.KeyRecord.from_json(minted.record.to_json()) == minted.record
    assert keyproof.mint("keyproof_live", name="random key").key != minted.key

    engine = keyproof.Engine(
        {
            "formats": ["keyproof_live"],
            "policy": {"routes": [{"method": "GET", "path": "/v1/items", "all_of": ["items:read"]}]},
        }
    )
    prepared = engine.prepare("GET", "/v1/items", [("Authorization", "Bearer " + minted.key)])
    assert engine.decide(prepared, minted.record, now).allowed
    denied = engine.decide(engine.prepare("GET", "/v1/items", []), None, now)
    assert (denied.code, denied.status) == ("missing_credentials", 401)

    try:
        keyproof.parse_key(minted.key[:-1])
    except keyproof.KeyFormatError as e:
        assert e.code == "wrong_length" and isinstance(e, ValueError)
        assert minted.key[:-1] not in str(e)
    else:
        raise AssertionError("a truncated key parsed")
    print(f"smoke ok: keyproof {keyproof.__version__} on Python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
