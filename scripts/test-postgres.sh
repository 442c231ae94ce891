#!/usr/bin/env bash
# Key records in PostgreSQL: installs PostgreSQL (Debian package) when missing,
# starts a throwaway cluster (initdb + pg_ctl in a temporary directory, as the
# unprivileged `postgres` user when run as root) on a free 127.0.0.1 port,
# exports KEYPROOF_TEST_POSTGRES_DSN and runs the tests that need it: the Django
# app, the SQLAlchemy store (sync and asyncio, FastAPI over real HTTP), the
# README's database quickstarts and the CLI's PostgreSQL store, in plain text
# and over TLS (a throwaway CA made with openssl). The cluster is stopped and
# deleted on exit.
#
#   scripts/test-postgres.sh              run those tests
#   scripts/test-postgres.sh CMD ARGS…    run CMD with the cluster up (e.g. a single pytest)
#
# Idempotent; builds the Python wheel first only when it is missing or older
# than its Python sources.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

step() { printf '\n==> %s\n' "$*"; }

pg_bin() { # the directory holding initdb, pg_ctl and createdb, or nothing
    local dir
    for dir in "$(dirname "$(readlink -f "$(command -v pg_ctl 2>/dev/null || echo /nonexistent/x)")")" \
        $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/createdb" ]; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}

step "PostgreSQL server"
if ! PG_BIN="$(pg_bin)"; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "installing the Debian package postgresql"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    PG_BIN="$(pg_bin)"
fi
"$PG_BIN/pg_ctl" --version

# As root, the cluster runs as an unprivileged user (PostgreSQL refuses root).
RUN_AS=()
if [ "$(id -u)" -eq 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
        useradd --system --user-group --home-dir /nonexistent --shell /usr/sbin/nologin postgres
    fi
    RUN_AS=(runuser -u postgres --)
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/keyproof-postgres.XXXXXX")"
chmod 755 "$WORK"
STARTED=""
cleanup() {
    if [ -n "$STARTED" ]; then
        "${RUN_AS[@]}" "$PG_BIN/pg_ctl" -D "$WORK/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
    python3 - <<'PYEOF'
import random, socket, sys

for _ in range(500):
    port = random.randint(20000, 55000)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    sys.exit(0)
sys.exit("no free port")
PYEOF
}

step "TLS: a test CA and a server certificate for db.keyproof.test (and a CA that signed nothing)"
TLS="$WORK/tls"
mkdir -p "$TLS"
ec_key=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
ca_ext=(-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign")
for ca in ca other-ca; do
    openssl req -x509 "${ec_key[@]}" -days 2 -subj "/CN=keyproof test $ca" "${ca_ext[@]}" \
        -keyout "$TLS/$ca.key" -out "$TLS/$ca.pem" 2>/dev/null
done
openssl req "${ec_key[@]}" -subj "/CN=db.keyproof.test" -keyout "$TLS/server.key" -out "$TLS/server.csr" 2>/dev/null
printf '%s\n' "subjectAltName=DNS:db.keyproof.test" "basicConstraints=CA:FALSE" \
    "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" >"$TLS/server.ext"
openssl x509 -req -in "$TLS/server.csr" -CA "$TLS/ca.pem" -CAkey "$TLS/ca.key" -CAcreateserial -days 2 \
    -extfile "$TLS/server.ext" -out "$TLS/server.pem" 2>/dev/null
chmod 600 "$TLS/server.key"

step "start a throwaway cluster on loopback (TLS on; the role tlsonly may not connect without it)"
PORT="$(free_port)"
[ "${#RUN_AS[@]}" -eq 0 ] || chown -R "$(id -u postgres):$(id -g postgres)" "$WORK"
"${RUN_AS[@]}" "$PG_BIN/initdb" -D "$WORK/data" -U keyproof --auth=trust --encoding=UTF8 --no-locale \
    >"$WORK/initdb.log" 2>&1 || { cat "$WORK/initdb.log" >&2; exit 1; }
sed -i '1i hostnossl all tlsonly all reject' "$WORK/data/pg_hba.conf"
# Throwaway data: no fsync. Enough connections for the concurrency tests.
"${RUN_AS[@]}" "$PG_BIN/pg_ctl" -D "$WORK/data" -l "$WORK/server.log" -w -t 60 start -o \
    "-c listen_addresses=127.0.0.1 -p $PORT -k $WORK -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c ssl=on -c ssl_cert_file=$TLS/server.pem -c ssl_key_file=$TLS/server.key" \
    >/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
STARTED=yes
"${RUN_AS[@]}" "$PG_BIN/createdb" -h 127.0.0.1 -p "$PORT" -U keyproof keyproof
"${RUN_AS[@]}" "$PG_BIN/createuser" -h 127.0.0.1 -p "$PORT" -U keyproof --superuser tlsonly
"${RUN_AS[@]}" "$PG_BIN/createdb" -h 127.0.0.1 -p "$PORT" -U keyproof -O tlsonly keyproof_tls
export KEYPROOF_TEST_POSTGRES_DSN="postgresql://keyproof@127.0.0.1:$PORT/keyproof"
export KEYPROOF_TEST_POSTGRES_TLS_DSN="postgresql://tlsonly@127.0.0.1:$PORT/keyproof_tls"
export KEYPROOF_TEST_POSTGRES_TLS_CA="$TLS/ca.pem" KEYPROOF_TEST_POSTGRES_TLS_OTHER_CA="$TLS/other-ca.pem"
echo "PostgreSQL on 127.0.0.1:$PORT ($KEYPROOF_TEST_POSTGRES_DSN; over TLS only: $KEYPROOF_TEST_POSTGRES_TLS_DSN)"

if [ "$#" -gt 0 ]; then
    step "$*"
    "$@"
    exit $?
fi

step "Python package with the Django app, the SQLAlchemy store and psycopg"
if [ ! -x "$PY" ] || ! "$PY" -c "import keyproof, psycopg, sqlalchemy" >/dev/null 2>&1; then
    bash scripts/test-python.sh
fi
INSTALLED="$("$PY" -c 'import keyproof, os; print(os.path.dirname(keyproof.__file__))')"
if ! diff -rq -x __pycache__ -x '*.so' -x '*.pyi' -x py.typed "$INSTALLED" bindings-python/python/keyproof >/dev/null 2>&1; then
    echo "the installed wheel predates bindings-python/python/keyproof: rebuilding it"
    bash scripts/python-wheels.sh target/wheels
    "$PY" -m pip install --quiet --disable-pip-version-check --no-index --find-links target/wheels \
        --no-deps --force-reinstall keyproof
fi

step "Python: the Django app and the SQLAlchemy store on PostgreSQL (pytest)"
# The tests test-python.sh runs on SQLite, parametrized: here their PostgreSQL half.
(cd bindings-python && "$PY" -m pytest -q -p no:cacheprovider -k postgresql tests/test_dbapp_*.py tests/test_readme_databases.py)

step "CLI: every subcommand test and the concurrent writers on PostgreSQL (cargo test)"
# Each store test is NAME::sqlite (run by cargo test everywhere) and NAME::postgresql,
# which runs when the DSN is exported, in a schema of its own: here only those.
cargo test -q -p keyproof-cli --locked -- ::postgresql

step "postgres: all checks passed"
