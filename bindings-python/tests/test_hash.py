from __future__ import annotations

import keyproof
import pytest
from keyproof import Hasher

from .conftest import NOW, SEED

PEPPER = b"p" * 32


def test_sha256_hash_and_verify() -> None:
    minted = keyproof.mint("stripe_secret_live", name="hash me", random_bytes=SEED, now=NOW)
    parsed = keyproof.parse_key(minted.key)
    h = Hasher()
    assert h.algorithm == "sha256" and not h.has_pepper
    stored = h.hash(parsed)
    assert stored == minted.record.hash and stored.startswith("sha256:")
    assert h.lookup_hashes(parsed) == [stored]
    check = h.verify(parsed, stored)
    assert check.matched and not check.should_rehash and bool(check)
    other = keyproof.parse_key(
        keyproof.mint("stripe_secret_live", name="other", random_bytes=b"\x01" * 32, now=NOW).key
    )
    miss = h.verify(other, stored)
    assert not miss.matched and not bool(miss)
    assert repr(miss) == "HashCheck(matched=False, should_rehash=False)"


def test_hmac_with_pepper_and_rehash_hint() -> None:
    parsed = keyproof.parse_key(keyproof.mint("keyproof_live", name="pepper", random_bytes=SEED, now=NOW).key)
    h = Hasher("hmac-sha256", pepper=PEPPER)
    assert h.has_pepper and h.algorithm_for(parsed.format) == "hmac-sha256"
    assert "pppp" not in repr(h) and repr(h) == "Hasher(algorithm='hmac-sha256', has_pepper=True)"
    peppered = h.hash(parsed)
    legacy = h.hash_with("sha256", parsed)
    assert peppered.startswith("hmac-sha256:") and legacy.startswith("sha256:")
    assert h.lookup_hashes(parsed) == [peppered, legacy]
    assert h.verify(parsed, legacy).should_rehash
    assert not h.verify(parsed, peppered).should_rehash
    with pytest.raises(keyproof.ConfigError) as info:
        Hasher(pepper=b"short")
    assert info.value.code == "missing_pepper"
    with pytest.raises(keyproof.ConfigError) as info:
        h.verify(parsed, "md5:00")
    assert info.value.code == "invalid_hash"


def test_fingerprint_is_stable_and_not_the_hash() -> None:
    fp = keyproof.fingerprint("sha256:" + "ab" * 32)
    assert fp == keyproof.fingerprint("sha256:" + "ab" * 32)
    assert fp.startswith("fp_") and len(fp) == 19


def test_hasher_shared_across_threads() -> None:
    from concurrent.futures import ThreadPoolExecutor

    h = Hasher("hmac-sha256", pepper=PEPPER)
    keys = [
        keyproof.mint("keyproof_live", name=f"k{i:03}", random_bytes=bytes([i]) * 32, now=NOW).key
        for i in range(40)
    ]
    parsed = [keyproof.parse_key(k) for k in keys]
    expected = [h.hash(p) for p in parsed]
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(h.hash, parsed * 5))
    assert got == expected * 5
