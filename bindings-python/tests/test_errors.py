from __future__ import annotations

import keyproof
import pytest
from keyproof import (
    AuthenticationError,
    AuthorizationError,
    ConfigError,
    CredentialError,
    KeyFormatError,
    KeyproofError,
    RandomnessError,
    RateLimitError,
)

FAMILIES: list[type[KeyproofError]] = [
    KeyFormatError,
    CredentialError,
    AuthenticationError,
    AuthorizationError,
    RateLimitError,
    ConfigError,
    RandomnessError,
]


def test_hierarchy() -> None:
    assert issubclass(KeyproofError, ValueError)
    for family in FAMILIES:
        assert issubclass(family, KeyproofError)
        assert family.__module__ == "keyproof"


def test_all_codes_are_unique_snake_case() -> None:
    codes = keyproof.all_codes()
    assert len(codes) == len(set(codes)) >= 40
    assert all(c.replace("_", "").isalpha() and c.islower() for c in codes)
    assert "unknown_prefix" in codes and "insufficient_randomness" in codes


def test_error_has_code_family_and_message_only() -> None:
    key = "kp_live_" + "A" * 35
    with pytest.raises(KeyFormatError) as info:
        keyproof.parse_key(key)
    err = info.value
    assert err.code == "wrong_length"
    assert str(err) == "keyproof_live keys have 36 characters after the prefix, got 35"
    assert key not in str(err) and key not in repr(err)


@pytest.mark.parametrize(
    ("call", "family", "code"),
    [
        (lambda: keyproof.Format.preset("nope"), ConfigError, "unknown_format"),
        (lambda: keyproof.Hasher("hmac-sha256"), ConfigError, "missing_pepper"),
        (
            lambda: keyproof.mint("keyproof_live", name="abc", random_bytes=b"x" * 15),
            RandomnessError,
            "insufficient_randomness",
        ),
        (lambda: keyproof.extract({}), CredentialError, "missing_credentials"),
        (lambda: keyproof.KeyRecord.from_json("{"), ConfigError, "invalid_json"),
    ],
)
def test_families(call: object, family: type[KeyproofError], code: str) -> None:
    assert callable(call)
    with pytest.raises(family) as info:
        call()
    assert info.value.code == code
    assert code in keyproof.all_codes()


def test_catchable_as_value_error() -> None:
    with pytest.raises(ValueError):
        keyproof.parse_key("nope_123")


_ENGINE = keyproof.Engine({"formats": ["keyproof_live"], "policy": {"routes": []}})
_CONFLICTING_ROUTES = {
    "routes": [
        {"method": "GET", "path": "/a/{x}", "all_of": []},
        {"method": "GET", "path": "/a/{y}", "all_of": []},
    ]
}


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda: keyproof.ExtractionConfig.from_json("{"), "invalid_json"),
        (lambda: keyproof.ExtractionConfig.from_json('{"methods": ["nope"]}'), "invalid_policy"),
        (lambda: keyproof.ExtractionConfig.from_dict({"methods": []}), "invalid_policy"),
        (lambda: keyproof.Quota.from_dict({"limit": "x", "burst": 1}), "invalid_quota"),
        (lambda: keyproof.gcra(None, 0, {"limit": 1}), "invalid_quota"),
        (lambda: _ENGINE.prepare_request("{"), "invalid_json"),
        (lambda: _ENGINE.prepare_request({"method": 1, "path": "/", "headers": []}), "invalid_json"),
        (lambda: keyproof.Policy.from_dict(_CONFLICTING_ROUTES), "invalid_policy"),
    ],
)
def test_loader_codes_come_from_core(call: object, code: str) -> None:
    assert callable(call)
    with pytest.raises(ConfigError) as info:
        call()
    assert info.value.code == code
