"""Shared fixtures: fixed time and randomness, the repository's vector directory."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VECTORS = REPO / "tests" / "vectors"
NOW = datetime(2026, 3, 18, 10, 30, tzinfo=timezone.utc)
SEED = bytes(range(32))


@pytest.fixture
def now() -> datetime:
    return NOW
