"""The README's access-token worked examples (seeds 002 and 004), run as written.

README.md is read at test time: each ```python block of the `## Access tokens`
section runs as its own script, and its output must be the ```text block that
follows it, line for line.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO

SECTION = "## Access tokens (client credentials, offline verification)"


def examples() -> list[tuple[str, str]]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.find(f"\n{SECTION}\n")
    assert start >= 0, f"README.md has no '{SECTION}' section"
    body = text[start + len(SECTION) + 2 :]
    section = body[: body.find("\n## ")]
    pairs = re.findall(r"^```python\n(.*?)^```\n\n```text\n(.*?)^```", section, re.MULTILINE | re.DOTALL)
    assert len(pairs) == 2, f"expected 2 python blocks with their output in '{SECTION}'"
    return pairs


@pytest.mark.parametrize("index", [0, 1], ids=["seed002", "seed004"])
def test_token_example_runs_as_written(tmp_path: Path, index: int) -> None:
    code, expected = examples()[index]
    script = tmp_path / "example.py"
    script.write_text(code, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "example.py"], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected
