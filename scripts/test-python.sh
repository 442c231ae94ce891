#!/usr/bin/env bash
# Builds the keyproof Python wheels (abi3: one for CPython >= 3.10, one for 3.9;
# scripts/python-wheels.sh) and checks them: ruff, mypy, stubtest and pytest
# (ASGI/FastAPI, Flask, Django/DRF over real HTTP; the Django app and SQLAlchemy
# store on SQLite) in .venv (Python 3.11), then a smoke test in fresh Python 3.9
# and 3.13 virtualenvs, each given the wheel pip picks for it.
# Idempotent; needs only PyPI (for missing tools) and crates.io (for cargo).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PKG="$ROOT/bindings-python"
VENV="$ROOT/.venv"
WHEELS="$ROOT/target/wheels"
SMOKE_DIR="$ROOT/target/python-smoke"

step() { printf '\n==> %s\n' "$*"; }

find_python() { # find_python 3.11 → an interpreter of that minor version
    local want="$1" candidate
    for candidate in "python$want" "$HOME"/.pyenv/versions/"$want"*/bin/python; do
        if command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -c "import sys; sys.exit(0 if sys.version.startswith('$want.') else 1)" 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    echo "error: no Python $want found (looked for python$want and ~/.pyenv/versions/$want*)" >&2
    return 1
}

step "virtualenv"
if [ ! -x "$VENV/bin/python" ]; then
    "$(find_python 3.11)" -m venv "$VENV"
fi
PY="$VENV/bin/python"
"$PY" --version

step "tools"
REQUIREMENTS=("maturin==1.16.*" pytest httpx uvicorn fastapi starlette mypy ruff anyio
    flask django djangorestframework django-stubs djangorestframework-stubs redis
    sqlalchemy greenlet aiosqlite psycopg psycopg-binary pyjwt cryptography)
mapfile -t MISSING < <("$PY" - "${REQUIREMENTS[@]}" <<'PYEOF'
import sys
from importlib import metadata

for spec in sys.argv[1:]:
    name, _, version = spec.partition("==")
    try:
        installed = metadata.version(name)
    except metadata.PackageNotFoundError:
        print(spec)
        continue
    if version and not installed.startswith(version.rstrip("*")):
        print(spec)
PYEOF
)
if [ "${#MISSING[@]}" -gt 0 ]; then
    echo "installing: ${MISSING[*]}"
    "$PY" -m pip install --quiet --disable-pip-version-check "${MISSING[@]}"
else
    echo "all tools present"
fi

step "build wheels"
bash "$ROOT/scripts/python-wheels.sh" "$WHEELS"
# pip picks the wheel, as it would from an index: .venv (3.11) must get cp310-abi3.
INSTALL=(-m pip install --quiet --disable-pip-version-check --no-index --find-links "$WHEELS" --no-deps)
"$PY" "${INSTALL[@]}" --force-reinstall keyproof
expect_wheel() { # expect_wheel PYTHON TAG: the installed keyproof came from the TAG wheel
    "$1" - "$2" <<'PYEOF'
import sys
from importlib import metadata

tags = [line for line in metadata.distribution("keyproof").read_text("WHEEL").splitlines() if line.startswith("Tag:")]
print("installed:", *tags)
sys.exit(0 if any(sys.argv[1] in tag for tag in tags) else 1)
PYEOF
}
expect_wheel "$PY" cp310-abi3

step "ruff"
(cd "$PKG" && "$VENV/bin/ruff" check python tests && "$VENV/bin/ruff" format --check python tests)

step "mypy"
(cd "$PKG" && "$VENV/bin/mypy" python/keyproof tests)

step "stubtest"
# Run outside the source tree so the installed package (with its native module) is checked.
(cd "$ROOT/target" && "$PY" -m mypy.stubtest keyproof --mypy-config-file "$PKG/pyproject.toml" \
    --allowlist "$PKG/stubtest-allowlist.txt")

step "pytest"
(cd "$PKG" && "$PY" -m pytest -q -p no:cacheprovider tests)

for version_tag in 3.9:cp39-abi3 3.13:cp310-abi3; do
    version="${version_tag%%:*}"
    step "smoke test on Python $version (the ${version_tag#*:} wheel)"
    interpreter="$(find_python "$version")"
    env_dir="$SMOKE_DIR/py$version"
    rm -rf "$env_dir"
    "$interpreter" -m venv "$env_dir"
    "$env_dir/bin/python" "${INSTALL[@]}" keyproof
    expect_wheel "$env_dir/bin/python" "${version_tag#*:}"
    (cd "$SMOKE_DIR" && "$env_dir/bin/python" "$PKG/tests/smoke.py")
done

step "python: all checks passed"
