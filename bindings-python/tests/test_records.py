from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import keyproof
import pytest
from keyproof import KeyRecord

from .conftest import NOW, SEED


def record() -> KeyRecord:
    return keyproof.mint(
        "matchii_live", name="production key", scopes=["briefs:read"], random_bytes=SEED, now=NOW
    ).record


def test_json_and_dict_round_trip_through_core_schema() -> None:
    r = record()
    assert KeyRecord.from_json(r.to_json()) == r
    d = r.to_dict()
    assert d["created_at"] == "2026-03-18T10:30:00Z"
    assert KeyRecord.from_dict(d) == r
    assert json.loads(r.to_json()) == d
    # datetimes are accepted in dicts and become RFC 3339 UTC
    d2 = {**d, "created_at": NOW, "updated_at": NOW.astimezone(timezone(timedelta(hours=5)))}
    assert KeyRecord.from_dict(d2) == r


def test_typed_fields() -> None:
    r = record()
    assert isinstance(r.created_at, datetime) and r.created_at.tzinfo is not None
    assert r.expires_at is None and r.revoked_at is None and r.rotation is None
    assert r.hash.startswith("sha256:") and r.fingerprint.startswith("fp_")
    assert r.owner == keyproof.Owner()
    assert r.metadata == {} and r.features == [] and r.allowed_ips == []


def test_lifecycle_returns_updated_copies() -> None:
    r = record()
    later = NOW + timedelta(hours=1)
    revoked = r.revoked(now=later)
    assert r.status == "active"
    assert revoked.status == "revoked" and revoked.revoked_at == later and revoked.updated_at == later
    disabled = r.disabled(now=later)
    assert disabled.status == "disabled"
    assert disabled.enabled(now=later).status == "active"
    with pytest.raises(keyproof.ConfigError) as info:
        revoked.enabled(now=later)
    assert info.value.code == "invalid_transition"
    rotated = r.rotated("key_new", now=later)
    assert rotated.rotation is not None
    assert rotated.rotation.replaced_by == "key_new"
    assert rotated.rotation.rotated_at == later
    assert rotated.rotation.grace_until == later + timedelta(hours=24)
    assert r.rotated(
        "key_new", grace=timedelta(hours=2), now=later
    ).rotation.grace_until == later + timedelta(hours=2)  # type: ignore[union-attr]


def test_repr_shows_id_name_preview_never_hash() -> None:
    r = record()
    text = repr(r)
    assert r.id in text and r.name in text and r.preview in text
    assert r.hash not in text and "sha256" not in text


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"colour": "red"}, "invalid_record"),
        ({"created_at": "yesterday"}, "invalid_timestamp"),
        ({"allowed_ips": ["10.0.0.0/33"]}, "invalid_cidr"),
        ({"name": ""}, "invalid_name"),
        ({"hash": "md5:abc"}, "invalid_hash"),
        ({"id": "a b"}, "invalid_id"),
        ({"scopes": ["a b"]}, "invalid_scope"),
        ({"status": "revoked"}, "invalid_record"),
    ],
)
def test_invalid_records(change: dict[str, object], code: str) -> None:
    with pytest.raises(keyproof.ConfigError) as info:
        KeyRecord.from_dict({**record().to_dict(), **change})
    assert info.value.code == code


@pytest.mark.parametrize(
    "at",
    [
        datetime(2026, 3, 18, 10, 30, 0, 123456, tzinfo=timezone.utc),
        datetime(2026, 3, 18, 16, 0, 0, 1, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        datetime(2026, 3, 18, 0, 0, 0, 999999, tzinfo=timezone(timedelta(hours=-11, minutes=-15))),
        datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc),
    ],
)
def test_aware_datetimes_load_to_the_exact_instant(at: datetime) -> None:
    r = record()
    expected = at.astimezone(timezone.utc)
    loaded = KeyRecord.from_dict({**r.to_dict(), "expires_at": at})
    assert loaded.expires_at == expected
    text = KeyRecord.from_dict({**r.to_dict(), "expires_at": expected.isoformat()})
    assert loaded == text  # the same value as the text form
    assert r.revoked(now=at).revoked_at == expected


def test_naive_timestamp_strings_read_as_utc() -> None:
    d = {
        **record().to_dict(),
        "created_at": "2026-01-11T18:58:35.961074",
        "updated_at": "2026-01-11T18:58:35.961074",
    }
    r = KeyRecord.from_dict(d)
    assert r.created_at == datetime(2026, 1, 11, 18, 58, 35, 961074, tzinfo=timezone.utc)


def test_from_dict_needs_a_mapping() -> None:
    with pytest.raises(keyproof.ConfigError):
        KeyRecord.from_dict([1, 2])  # type: ignore[arg-type]


def test_engine_mint_applies_the_policy_name_rules() -> None:
    engine = keyproof.Engine(
        {"formats": ["tmmate_prod"], "policy": {"names": {"min_length": 3, "max_length": 50}}}
    )
    minted = engine.mint(name="Production key", scopes=["briefs:read"], random_bytes=SEED, now=NOW)
    assert minted.record.format == "tmmate_prod" and engine.parse(minted.key).format_id == "tmmate_prod"
    with pytest.raises(keyproof.KeyproofError) as too_long:
        engine.mint(name="x" * 51, random_bytes=SEED, now=NOW)
    assert too_long.value.code == "invalid_name"
    # The module-level mint knows no policy: 51 characters pass its default rules.
    assert keyproof.mint("tmmate_prod", name="x" * 51, random_bytes=SEED, now=NOW).record.name == "x" * 51


def test_engine_rotate_mints_the_successor_and_rotates_with_the_policy_grace() -> None:
    engine = keyproof.Engine({"formats": ["matchii_live"], "policy": {"rotation_grace_hours": 6}})
    old = engine.mint(
        name="production key", scopes=["briefs:read"], expires_in="90d", random_bytes=SEED, now=NOW
    ).record
    later = NOW + timedelta(days=10)
    minted, rotated = engine.rotate(old, now=later)
    assert rotated.rotation is not None and rotated.rotation.replaced_by == minted.record.id
    assert rotated.rotation.grace_until == later + timedelta(hours=6)
    assert minted.record.scopes == ["briefs:read"] and minted.record.expires_at == later + timedelta(days=90)
    _, short = engine.rotate(old, grace=timedelta(hours=1), now=later)
    assert short.rotation is not None and short.rotation.grace_until == later + timedelta(hours=1)
    for refused in (rotated, old.revoked(now=later)):
        with pytest.raises(keyproof.KeyproofError) as again:
            engine.rotate(refused, now=later)
        assert again.value.code == "invalid_transition"
