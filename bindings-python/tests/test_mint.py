from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import keyproof
import pytest
from keyproof import Format, Hasher

from .conftest import NOW, SEED


def test_deterministic_with_injected_randomness_and_time() -> None:
    a = keyproof.mint(
        "keyproof_live", name="Production key", scopes=["briefs:read"], random_bytes=SEED, now=NOW
    )
    b = keyproof.mint(
        Format.preset("keyproof_live"),
        name="Production key",
        scopes=["briefs:read"],
        random_bytes=SEED,
        now=NOW,
    )
    assert a.key == b.key and a.record == b.record
    assert a.key.startswith("kp_live_") and len(a.key) == 44
    r = a.record
    assert r.name == "Production key" and r.scopes == ["briefs:read"] and r.status == "active"
    assert (
        r.created_at == NOW and r.created_at.tzinfo is not None and r.created_at.utcoffset() == timedelta(0)
    )
    assert r.preview == a.preview and r.format == "keyproof_live" and r.kind == "secret"


def test_defaults_use_os_randomness_and_the_clock() -> None:
    before = datetime.now(timezone.utc)
    a = keyproof.mint("keyproof_live", name="random one")
    b = keyproof.mint("keyproof_live", name="random two")
    after = datetime.now(timezone.utc)
    assert a.key != b.key
    assert before - timedelta(seconds=1) <= a.record.created_at <= after + timedelta(seconds=1)


def test_repr_never_shows_key_or_hash() -> None:
    m = keyproof.mint("tmmate_prod", name="Ops key", random_bytes=SEED, now=NOW)
    for text in (repr(m), str(m), repr(m.record), str(m.record)):
        assert m.key not in text
        assert m.record.hash not in text and m.record.hash.split(":")[1] not in text
    assert m.preview in repr(m)


def test_all_options() -> None:
    m = keyproof.mint(
        "authmatech_api_key",
        name="Backend key",
        scopes=["a:b", "c:*"],
        role="admin",
        expires_in="90d",
        allowed_ips=["203.0.113.9/24", "2001:db8::1"],
        plan="pro",
        features=["verify"],
        owner={"organization": "org_1"},
        generate_client_id=True,
        metadata={"team": "core", "n": 3, "nested": {"ok": True}},
        id_style={"style": "prefixed", "prefix": "key_", "hex_length": 8},
        random_bytes=SEED,
        now=NOW,
    )
    r = m.record
    assert r.id.startswith("key_") and len(r.id) == 12
    assert r.role == "admin" and r.plan == "pro" and r.features == ["verify"]
    assert r.expires_at == NOW + timedelta(days=90)
    assert r.allowed_ips == ["203.0.113.0/24", "2001:db8::1/128"]
    assert r.owner == keyproof.Owner(organization="org_1")
    assert r.client_id is not None and len(r.client_id) == 32
    assert r.metadata == {"team": "core", "n": 3, "nested": {"ok": True}}
    m2 = keyproof.mint(
        "keyproof_live",
        name="uuid id",
        id_style="uuid",
        owner=keyproof.Owner(workspace="ws"),
        random_bytes=SEED,
        now=NOW,
    )
    assert len(m2.record.id) == 36 and m2.record.owner.workspace == "ws"
    # A style's name alone takes its defaults, in keywords and in an options dict alike.
    for shorthand in (
        keyproof.mint("keyproof_live", name="short id", id_style="prefixed"),
        keyproof.mint("keyproof_live", {"name": "short id", "id_style": "prefixed"}),
    ):
        assert re.fullmatch(r"key_[0-9a-f]{8}", shorthand.record.id)
    with pytest.raises(keyproof.KeyproofError) as refused:
        keyproof.mint("keyproof_live", name="bad style", id_style="ulid")
    assert refused.value.code == "invalid_record" and "ulid" in str(refused.value)


def test_expires_at_accepts_any_aware_datetime() -> None:
    tz = timezone(timedelta(hours=2))
    m = keyproof.mint(
        "keyproof_live",
        name="expiring",
        expires_at=datetime(2027, 1, 1, 2, 0, tzinfo=tz),
        random_bytes=SEED,
        now=NOW,
    )
    assert m.record.expires_at == datetime(2027, 1, 1, tzinfo=timezone.utc)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        keyproof.mint("keyproof_live", name="naive", now=datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"name": ""}, "invalid_name"),
        ({"name": "n" * 201}, "invalid_name"),
        ({"name": "abc", "expires_in": "0d"}, "invalid_expiry"),
        ({"name": "abc", "allowed_ips": ["10.0.0.0/33"]}, "invalid_cidr"),
        ({"name": "abc", "scopes": ["has space"]}, "invalid_scope"),
        ({"name": "abc", "client_id": "x", "generate_client_id": True}, "invalid_record"),
        ({"name": "abc", "owner": {"team": "x"}}, "invalid_record"),
    ],
)
def test_option_errors(kwargs: dict[str, object], code: str) -> None:
    with pytest.raises(keyproof.ConfigError) as info:
        keyproof.mint("keyproof_live", random_bytes=SEED, now=NOW, **kwargs)  # type: ignore[arg-type]
    assert info.value.code == code


def test_mint_with_peppered_hasher_verifies() -> None:
    h = Hasher("hmac-sha256", pepper=b"k" * 16)
    m = keyproof.mint("keyproof_live", name="peppered", hasher=h, random_bytes=SEED, now=NOW)
    assert m.record.hash.startswith("hmac-sha256:")
    assert h.verify(keyproof.parse_key(m.key), m.record.hash).matched


def test_expiry_from_preset() -> None:
    jan31 = datetime(2026, 1, 31, 12, tzinfo=timezone.utc)
    assert keyproof.expiry_from_preset("1m", jan31) == datetime(2026, 2, 28, 12, tzinfo=timezone.utc)
    assert keyproof.expiry_from_preset("15d", jan31) == datetime(2026, 2, 15, 12, tzinfo=timezone.utc)
    assert keyproof.expiry_from_preset("90d") > datetime.now(timezone.utc)
    assert keyproof.EXPIRY_PRESETS == ["15d", "25d", "45d", "90d", "6m", "1y"]
    with pytest.raises(keyproof.ConfigError) as info:
        keyproof.expiry_from_preset("11y", jan31)
    assert info.value.code == "invalid_expiry"


def test_options_dict_in_core_schema_and_overrides() -> None:
    opts = {
        "name": "From options",
        "scopes": ["a:b"],
        "id_style": {"style": "prefixed", "prefix": "k_", "hex_length": 8},
    }
    m = keyproof.mint("keyproof_live", opts, random_bytes=SEED, now=NOW)
    assert m.record.name == "From options" and m.record.id.startswith("k_")
    m2 = keyproof.mint("keyproof_live", opts, name="Overridden", random_bytes=SEED, now=NOW)
    assert m2.record.name == "Overridden" and m2.key == m.key
    with pytest.raises(keyproof.ConfigError) as info:
        keyproof.mint("keyproof_live", {"name": "abc", "colour": "red"}, random_bytes=SEED, now=NOW)
    assert info.value.code == "invalid_record"
    with pytest.raises(keyproof.ConfigError) as info:
        keyproof.mint("keyproof_live", ["name"], random_bytes=SEED, now=NOW)  # type: ignore[arg-type]
    assert info.value.code == "invalid_record"
