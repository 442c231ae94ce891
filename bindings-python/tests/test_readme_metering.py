"""The README's worked examples with their output, run as written: metered APIs and
the record cache.

README.md is read at test time: the ```python block of each section runs as its own
script, and its output must be the ```text block that follows it, line for line.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO

SECTIONS = [
    "## Metered APIs (usage limits, prices, charges, refunds)",
    "## Caching records (`record_cache`)",
]


def example(heading: str) -> tuple[str, str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.find(f"\n{heading}\n")
    assert start >= 0, f"README.md has no '{heading}' section"
    body = text[start + len(heading) + 2 :]
    section = body[: body.find("\n## ")]
    pairs: list[tuple[str, str]] = re.findall(
        r"^```python\n(.*?)^```\n\n```text\n(.*?)^```", section, re.MULTILINE | re.DOTALL
    )
    assert len(pairs) == 1, f"expected one python block with its output in '{heading}'"
    return pairs[0]


@pytest.mark.parametrize("heading", SECTIONS)
def test_example_runs_as_written(tmp_path: Path, heading: str) -> None:
    code, expected = example(heading)
    (tmp_path / "example.py").write_text(code, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "example.py"], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected
