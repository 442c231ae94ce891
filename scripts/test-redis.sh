#!/usr/bin/env bash
# The Redis rate-limit stores (Python keyproof.redis, Node/WASM js/redis.js)
# against real servers: installs redis-server (Debian package) when missing,
# starts one on a free 127.0.0.1 port with no persistence, plus a Redis Cluster
# of three masters on loopback when it can be created, runs the Python and Node
# Redis tests (several OS processes of both runtimes share one bucket), and stops
# every server it started. Idempotent; builds the Python wheel / Node package
# first only when they are missing or older than their sources.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

step() { printf '\n==> %s\n' "$*"; }

step "redis-server"
if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "installing the Debian package redis-server"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends redis-server redis-tools >/dev/null
fi
redis-server --version

step "Python package with keyproof.redis and redis-py"
if [ ! -x "$PY" ] || ! "$PY" -c "import keyproof" >/dev/null 2>&1; then
    bash scripts/test-python.sh
fi
INSTALLED="$("$PY" -c 'import keyproof, os; print(os.path.dirname(keyproof.__file__))')"
if ! cmp -s "$INSTALLED/redis.py" bindings-python/python/keyproof/redis.py \
    || ! cmp -s "$INSTALLED/_redis_shared.py" bindings-python/python/keyproof/_redis_shared.py \
    || ! cmp -s "$INSTALLED/redis_cache.py" bindings-python/python/keyproof/redis_cache.py; then
    echo "the installed wheel predates python/keyproof/redis.py, _redis_shared.py or redis_cache.py: rebuilding it"
    bash scripts/python-wheels.sh target/wheels
    "$PY" -m pip install --quiet --disable-pip-version-check --no-index --find-links target/wheels \
        --no-deps --force-reinstall keyproof
fi
"$PY" -c "import redis" >/dev/null 2>&1 || "$PY" -m pip install --quiet --disable-pip-version-check redis
"$PY" -c "import keyproof.redis, redis; print('keyproof', keyproof.__version__, '· redis-py', redis.__version__)"

step "Node package with js/redis.js and ioredis"
BUNDLE="bindings-node/dist/keyproof-shared.cjs"
if [ ! -f "$BUNDLE" ] || [ ! -d bindings-node/node_modules/ioredis ] \
    || [ -n "$(find js -name '*.js' -newer "$BUNDLE" -print -quit)" ] \
    || ! ls bindings-node/keyproof.*.node >/dev/null 2>&1; then
    bash scripts/test-node.sh --build-only
fi
node -e "const k = require('./bindings-node'); if (typeof k.RedisRateLimitStore !== 'function') process.exit(1); console.log('keyproof', k.version, '(node) · ioredis', require('./bindings-node/node_modules/ioredis/package.json').version)"

# Servers: a data directory under target/, every pid killed on exit.
WORK="$(mktemp -d "${TMPDIR:-/tmp}/keyproof-redis.XXXXXX")"
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# free_port [with-bus]: a free 127.0.0.1 port (and port + 10000, the cluster bus).
free_port() {
    "$PY" - "${1:-}" <<'PYEOF'
import random, socket, sys

def free(port):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()

bus = sys.argv[1] == "bus"
for _ in range(500):
    port = random.randint(20000, 55000)
    if free(port) and (not bus or free(port + 10000)):
        print(port)
        sys.exit(0)
sys.exit("no free port")
PYEOF
}

wait_ping() { # wait_ping PORT
    local i
    for i in $(seq 1 100); do
        [ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = "PONG" ] && return 0
        sleep 0.1
    done
    echo "error: redis-server on port $1 did not answer" >&2
    return 1
}

start_server() { # start_server PORT NAME [extra args…]
    local port="$1" name="$2"
    shift 2
    mkdir -p "$WORK/$name"
    redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --dir "$WORK/$name" \
        --daemonize no --logfile "$WORK/$name/redis.log" "$@" &
    PIDS+=("$!")
    wait_ping "$port"
}

step "start redis-server (no persistence)"
PORT="$(free_port)"
start_server "$PORT" single
export KEYPROOF_REDIS_URL="redis://127.0.0.1:$PORT/0"
export KEYPROOF_REDIS_SERVER="$(command -v redis-server)"
echo "redis-server on 127.0.0.1:$PORT"

step "start a Redis Cluster of three masters on loopback"
CLUSTER_NODES=()
for i in 1 2 3; do
    p="$(free_port bus)"
    start_server "$p" "cluster$i" --cluster-enabled yes --cluster-config-file "$WORK/cluster$i/nodes.conf" \
        --cluster-node-timeout 3000
    CLUSTER_NODES+=("127.0.0.1:$p")
done
if redis-cli --cluster create "${CLUSTER_NODES[@]}" --cluster-replicas 0 --cluster-yes >"$WORK/cluster-create.log" 2>&1; then
    ok=""
    for i in $(seq 1 100); do
        ok="yes"
        for node in "${CLUSTER_NODES[@]}"; do
            redis-cli -h 127.0.0.1 -p "${node##*:}" cluster info 2>/dev/null | grep -q 'cluster_state:ok' || ok=""
        done
        [ -n "$ok" ] && break
        sleep 0.1
    done
    if [ -n "$ok" ]; then
        KEYPROOF_REDIS_CLUSTER="$(IFS=,; echo "${CLUSTER_NODES[*]}")"
        export KEYPROOF_REDIS_CLUSTER
        echo "cluster: $KEYPROOF_REDIS_CLUSTER"
    else
        echo "the cluster never reached cluster_state:ok: testing the hash-tag key layout without it"
    fi
else
    echo "redis-cli --cluster create failed: testing the hash-tag key layout without a cluster"
    sed 's/^/    /' "$WORK/cluster-create.log"
fi

step "Python: keyproof.redis and keyproof.redis_cache (pytest)"
(cd bindings-python && "$PY" -m pytest -q -p no:cacheprovider tests/test_redis.py tests/test_redis_processes.py tests/test_redis_cache.py)

step "Node: js/redis.js and js/redis-cache.js (node --test)"
(cd bindings-node && KEYPROOF_PYTHON="$PY" node --test --test-concurrency=1 test/redis.test.mjs test/redis-cache.test.mjs)

step "redis: all checks passed"
