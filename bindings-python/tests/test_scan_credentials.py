from __future__ import annotations

import base64

import keyproof
import pytest
from keyproof import ExtractionConfig, FormatSet

from .conftest import NOW, SEED


def test_scan_and_redact_with_python_indices() -> None:
    key = keyproof.mint("github_pat", name="leaky", random_bytes=SEED, now=NOW).key
    text = f"héllo wörld\n  → {key}\n"
    findings = keyproof.scan(text)
    assert len(findings) == 1
    f = findings[0]
    assert text[f.start : f.end] == key
    assert text.encode()[f.byte_start : f.byte_end] == key.encode()
    assert (f.line, f.column, f.format_id, f.checksum_verified) == (2, 5, "github_pat", True)
    assert key not in repr(f)
    redacted = keyproof.redact(text)
    assert key not in redacted and f.preview in redacted
    assert FormatSet(["keyproof_live"]).scan(text) == []
    assert FormatSet(["github_pat"]).redact(text) == redacted


def test_extract_methods() -> None:
    key = keyproof.mint("keyproof_live", name="creds", random_bytes=SEED, now=NOW).key
    cred = keyproof.extract({"Authorization": f"Bearer {key}"})
    assert cred.method == "bearer" and cred.secret == key and cred.client_id is None
    assert key not in repr(cred)
    cfg = ExtractionConfig(["api_key_header", "sdk_token"])
    cred = keyproof.extract([(b"X-API-KEY", key.encode()), ("X-Client-Id", "cli_1")], cfg)
    assert cred.method == "api_key_header" and cred.client_id == "cli_1"
    basic = base64.b64encode(f"client_1:{key}".encode()).decode()
    cred = keyproof.extract({"authorization": f"Basic {basic}"}, ExtractionConfig(["basic"]))
    assert cred.method == "basic" and cred.client_id == "client_1" and cred.secret == key


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ([], "missing_credentials"),
        ([("Authorization", "Bearer a"), ("authorization", "Bearer a")], "duplicate_header"),
        ([("Authorization", "Bearer ")], "empty_token"),
        ([("Authorization", "Bearer a b")], "malformed_authorization"),
        ([(b"Authorization", "Bearer caf\xe9".encode("latin-1"))], "invalid_header_value"),
        ([("Authorization", "Bearer " + "a" * 5000)], "header_too_large"),
    ],
)
def test_extract_errors(headers: list[tuple[str | bytes, str | bytes]], code: str) -> None:
    with pytest.raises(keyproof.CredentialError) as info:
        keyproof.extract(headers)
    assert info.value.code == code


def test_extraction_config_round_trip() -> None:
    cfg = ExtractionConfig(["bearer", "api_key_header"], api_key_header="x-key", max_header_bytes=1024)
    assert cfg.methods == ["bearer", "api_key_header"] and cfg.api_key_header == "x-key"
    assert ExtractionConfig.from_json(cfg.to_json()) == cfg
    assert ExtractionConfig.from_dict(cfg.to_dict()) == cfg
    assert ExtractionConfig().methods == ["bearer"]
    with pytest.raises(keyproof.ConfigError) as info:
        ExtractionConfig([])
    assert info.value.code == "invalid_policy"
    with pytest.raises(TypeError):
        keyproof.extract([("a",)])  # type: ignore[list-item]
