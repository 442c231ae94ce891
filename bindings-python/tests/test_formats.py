from __future__ import annotations

import json

import keyproof
import pytest
from keyproof import Format, FormatSet

from .conftest import NOW, SEED


def test_presets_by_id() -> None:
    presets = keyproof.presets()
    assert "tmmate_prod" in presets and "seam" in presets
    tm = Format.preset("tmmate_prod")
    assert presets["tmmate_prod"] == tm
    assert (tm.prefix, tm.environment, tm.kind, tm.alphabet, tm.length) == (
        "sk_prod_",
        "prod",
        "secret",
        "hex",
        32,
    )
    assert tm.checksum is None and tm.layout == "plain" and tm.hash is None
    assert tm.key_length == 40 and tm.entropy_bits == 128.0
    assert repr(tm) == "Format(id='tmmate_prod', prefix='sk_prod_', environment='prod', kind='secret')"
    gh = Format.preset("github_pat")
    assert gh.checksum == "crc32_base62" and gh.body_length == 36


def test_custom_format_from_dict_json_and_kwargs() -> None:
    data = {
        "id": "acme",
        "prefix": "acme_",
        "environment": "live",
        "kind": "secret",
        "alphabet": "base62",
        "length": 22,
    }
    a = Format.from_dict(data)
    b = Format.from_json(json.dumps(data))
    c = Format("acme", "acme_", "live", "secret", "base62", 22)
    assert a == b == c
    assert a.to_dict() == data
    assert Format.from_json(a.to_json()) == a
    with pytest.raises(keyproof.ConfigError) as info:
        Format.from_dict({**data, "length": 10})
    assert info.value.code == "invalid_format"
    with pytest.raises(keyproof.ConfigError):
        Format.from_dict({**data, "colour": "red"})


def test_seam_format() -> None:
    seam = Format.seam("mine", "mycompany")
    assert seam.prefix == "mycompany_" and seam.layout == "seam" and seam.short_length == 8
    assert seam.hash == "seam-sha256"


def test_format_set() -> None:
    fs = FormatSet(["keyproof_live", Format.preset("github_pat"), {**Format.preset("tmmate_prod").to_dict()}])
    assert len(fs) == 3 and "github_pat" in fs and "seam" not in fs
    assert FormatSet(f for f in ("keyproof_live", "seam")).ids == FormatSet(["keyproof_live", "seam"]).ids
    assert [f.id for f in fs] == fs.ids
    assert fs.get("github_pat").prefix == "ghp_"
    assert fs.match_prefix("ghp_whatever") == Format.preset("github_pat")
    assert fs.match_prefix("zzz") is None
    assert FormatSet.from_json(fs.to_json()).ids == fs.ids
    assert FormatSet.presets(["seam"]).ids == ["seam"]
    assert len(FormatSet.presets()) == len(keyproof.presets())
    with pytest.raises(keyproof.ConfigError) as info:
        FormatSet(["keyproof_live", "keyproof_live"])
    assert info.value.code == "invalid_format"
    with pytest.raises(keyproof.ConfigError) as info:
        FormatSet([42])  # type: ignore[list-item]
    assert info.value.code == "invalid_format"


def test_parse_key_and_parsed_repr_hides_the_secret() -> None:
    minted = keyproof.mint("keyproof_live", name="parse me", random_bytes=SEED, now=NOW)
    parsed = keyproof.parse_key(minted.key)
    assert parsed.format_id == "keyproof_live" and parsed.environment == "live" and parsed.kind == "secret"
    assert parsed.public_part == "kp_live_" and parsed.has_checksum
    assert parsed.preview == minted.record.preview
    assert parsed.format == Format.preset("keyproof_live")
    assert minted.key not in repr(parsed) and minted.key not in str(parsed)
    assert FormatSet(["keyproof_live"]).parse(minted.key).preview == parsed.preview
    assert Format.preset("keyproof_live").parse(minted.key).format_id == "keyproof_live"
    with pytest.raises(keyproof.KeyFormatError) as info:
        keyproof.parse_key(minted.key[:-1] + ("0" if minted.key[-1] != "0" else "1"))
    assert info.value.code == "bad_checksum"
    with pytest.raises(keyproof.KeyFormatError) as info:
        keyproof.parse_key("zz_" + "a" * 10, FormatSet(["keyproof_live"]))
    assert info.value.code == "unknown_prefix"


def test_seam_public_part() -> None:
    minted = keyproof.mint("seam", name="seam key", random_bytes=SEED, now=NOW)
    parsed = keyproof.parse_key(minted.key)
    assert parsed.public_part.startswith("seam_") and len(parsed.public_part) == len("seam_") + 8
