"""Runs ``examples/*/checks.json`` in place: each seed's worked configuration
answers as its document promises (the same checks ``core/tests/examples.rs`` runs)."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import keyproof
import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def fill(value: str, keys: dict[str, tuple[str, keyproof.KeyRecord]]) -> str:
    for label, (key, record) in keys.items():
        client_id = record.client_id or ""
        for other, (_, other_record) in keys.items():
            pair = f"{other_record.client_id or ''}:{key}".encode()
            value = value.replace(f"{{basic:{label}:{other}}}", base64.b64encode(pair).decode())
        value = value.replace(f"{{basic:{label}}}", base64.b64encode(f"{client_id}:{key}".encode()).decode())
        value = value.replace(f"{{{label}.client_id}}", client_id)
        value = value.replace(f"{{{label}}}", key)
    return value


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir()))
def test_example_answers_as_its_seed_promises(example: str) -> None:
    directory = EXAMPLES / example
    config: dict[str, Any] = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    checks: dict[str, Any] = json.loads((directory / "checks.json").read_text(encoding="utf-8"))
    engine = keyproof.Engine(config)
    now = datetime.fromisoformat(checks["now"].replace("Z", "+00:00"))
    keys: dict[str, tuple[str, keyproof.KeyRecord]] = {}
    for label, spec in checks["keys"].items():
        random = hashlib.sha256(f"keyproof/examples/{example}/{label}".encode()).digest()
        minted = keyproof.mint(
            spec["format"], spec["options"], hasher=engine.hasher, random_bytes=random, now=now
        )
        keys[label] = (minted.key, minted.record)
    records = {record.hash: record for _, record in keys.values()}
    verifier = keyproof.Verifier(engine, records.get)
    assert checks["checks"], example
    for check in checks["checks"]:
        request = check["request"]
        headers = [(name, fill(value, keys)) for name, value in request["headers"]]
        decision = verifier.verify(
            request["method"], request["path"], headers, request.get("client_ip"), now=now
        )
        assert (decision.code, decision.status) == (check["expect"]["code"], check["expect"]["status"]), (
            f"{example}: {check['name']}"
        )
