#!/usr/bin/env bash
# Builds every cargo-fuzz target, seeds the corpora from the golden vectors,
# replays the findings kept in fuzz/artifacts-found/, then runs each target for
# SECONDS (one at a time, one job, nice'd) and prints its execs and execs/s.
# Fails on any crash, assertion or timeout. Installs the nightly toolchain and
# cargo-fuzz only when missing; safe to run again (corpora only grow).
#
#   bash scripts/fuzz.sh [SECONDS] [TARGET ...]     (default: 60 s, every target)
#
# FUZZ_RUNS=N runs each target for N inputs from a fixed seed (-seed=1) instead
# of for SECONDS: the same inputs on every machine, so a smoke run in CI cannot
# fail on one day and pass on the next (deep fuzzing stays time-bound).
#
# FUZZ_SANITIZER=address builds with AddressSanitizer (default: none — core and
# the fuzz crate have no unsafe code; panics, overflow checks, timeouts and OOM
# are caught without it, at 5–7× the speed). FUZZ_ARGS adds libFuzzer flags.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
shift || true
sanitizer="${FUZZ_SANITIZER:-none}"
run() { nice -n 10 "$@"; }

if ! rustup toolchain list | grep -q '^nightly'; then
  rustup toolchain install nightly --profile minimal
fi
if ! cargo +nightly fuzz --version > /dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi

cd fuzz
fuzz_dir="$PWD"
if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo +nightly fuzz list)
fi

printf 'building %d fuzz targets (sanitizer: %s)\n' "${#targets[@]}" "$sanitizer"
run cargo +nightly fuzz build -s "$sanitizer"
triple="$(rustc +nightly -vV | sed -n 's/^host: //p')"
bin_dir="$PWD/target/$triple/release"

python3 seed_corpus.py corpus

failed=()

# Findings kept as regression inputs (fuzz/artifacts-found/): each must pass.
for input in artifacts-found/*/*; do
  [ -f "$input" ] || continue
  target="$(basename "$(dirname "$input")")"
  [ -x "$bin_dir/$target" ] || continue
  if "$bin_dir/$target" "$input" > /dev/null 2>&1; then
    echo "regression input $input: passes"
  else
    echo "FAIL: $input crashes $target again"
    failed+=("$target:$input")
  fi
done

if [ -n "${FUZZ_RUNS:-}" ]; then
  budget=(-runs="$FUZZ_RUNS" -seed=1)
  per_target="$FUZZ_RUNS runs from seed 1"
else
  budget=(-max_total_time="$seconds")
  per_target="$seconds s"
fi

if [ "$seconds" -gt 0 ] || [ -n "${FUZZ_RUNS:-}" ]; then
  summary=()
  for target in "${targets[@]}"; do
    logs="$PWD/logs/$target"
    rm -rf "$logs"
    mkdir -p "$logs" "artifacts/$target"
    before="$(find "artifacts/$target" -type f | wc -l)"
    start="$(date +%s)"
    status=0
    # -jobs=1: one job in a child process; its output lands in $logs/fuzz-0.log.
    (cd "$logs" && run "$bin_dir/$target" "$fuzz_dir/corpus/$target" \
      -artifact_prefix="$fuzz_dir/artifacts/$target/" \
      "${budget[@]}" -timeout=30 -jobs=1 -print_final_stats=1 ${FUZZ_ARGS:-} \
      > "$logs/run.log" 2>&1) || status=$?
    elapsed=$(( $(date +%s) - start ))
    log="$logs/fuzz-0.log"
    [ -f "$log" ] || log="$logs/run.log"
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
    execs="${execs:-0}"
    rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
    if [ "${rate:-0}" -eq 0 ]; then rate=$(( execs / (elapsed > 0 ? elapsed : 1) )); fi
    after="$(find "artifacts/$target" -type f | wc -l)"
    if [ "$status" -ne 0 ] || [ "$after" -ne "$before" ] || grep -q 'panicked at\|ERROR: libFuzzer' "$log" "$logs/run.log"; then
      result="CRASH"
      failed+=("$target")
      grep -h -m1 -A4 'panicked at\|ERROR: libFuzzer' "$log" "$logs/run.log" || true
      ls -t "artifacts/$target" | head -3 | sed "s|^|  fuzz/artifacts/$target/|"
    else
      result="ok"
    fi
    corpus="$(find "corpus/$target" -type f | wc -l)"
    line="$(printf '%-16s %12s execs %9s exec/s %7s corpus  %s' "$target" "$execs" "$rate" "$corpus" "$result")"
    echo "$line"
    summary+=("$line")
  done
  printf '\nfuzz summary (%s per target):\n' "$per_target"
  printf '%s\n' "${summary[@]}"
fi

if [ "${#failed[@]}" -gt 0 ]; then
  printf '\nfuzzing failed: %s (inputs under fuzz/artifacts/, logs under fuzz/logs/)\n' "${failed[*]}"
  exit 1
fi
echo "fuzzing: no crashes"
