#!/usr/bin/env bash
# Builds the keyproof Python wheel (abi3, Python >= 3.9) and checks it:
# ruff, mypy, stubtest and pytest (ASGI/FastAPI, Flask, Django/DRF over real
# HTTP; the Django app and SQLAlchemy store on SQLite) in .venv (Python 3.11),
# then a smoke test of the same wheel in fresh Python 3.9 and 3.13 virtualenvs.
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

step "build wheel"
mkdir -p "$WHEELS"
MARKER="$(mktemp)"
trap 'rm -f "$MARKER"' EXIT
"$VENV/bin/maturin" build --release -m "$PKG/Cargo.toml" -o "$WHEELS"
WHEEL="$(find "$WHEELS" -maxdepth 1 -name 'keyproof-*-abi3-*.whl' -newer "$MARKER" | sort | tail -n 1)"
if [ -z "$WHEEL" ]; then
    echo "error: maturin wrote no abi3 keyproof wheel to $WHEELS" >&2
    exit 1
fi
echo "wheel: $WHEEL"
"$PY" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps "$WHEEL"

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

for version in 3.9 3.13; do
    step "smoke test on Python $version"
    interpreter="$(find_python "$version")"
    env_dir="$SMOKE_DIR/py$version"
    rm -rf "$env_dir"
    "$interpreter" -m venv "$env_dir"
    "$env_dir/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --no-index "$WHEEL"
    (cd "$SMOKE_DIR" && "$env_dir/bin/python" "$PKG/tests/smoke.py")
done

step "python: all checks passed"
