#!/usr/bin/env bash
# Longer fuzzing runs of every target in fuzz/ (stable toolchain, see
# fuzz/README.md), each from its checked-in seeds, and a summary per
# target: executions, corpus size, and whether anything was found.
#
#   bench/fuzz.sh                      # RUNS=10000000 per target
#   RUNS=1000000 bench/fuzz.sh
#   TIME=120 bench/fuzz.sh             # -max_total_time=120 per target
#   bench/fuzz.sh pg_backend masker    # only these targets
#
# Inputs found go to a scratch corpus (CORPUS, default fuzz/corpus/, which
# is not tracked); crashes to fuzz/artifacts/<target>/. Logs: $LOGS.
set -uo pipefail
cd "$(dirname "$0")/../fuzz"

RUNS=${RUNS:-10000000}
TIME=${TIME:-}
CORPUS=${CORPUS:-corpus}
LOGS=${LOGS:-target/fuzz-logs}
if [[ -n $TIME ]]; then
  LIMIT=(-max_total_time="$TIME")
else
  LIMIT=(-runs="$RUNS")
fi

command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
nice cargo fuzz build -s none || exit 1
mkdir -p "$LOGS"

targets=("$@")
((${#targets[@]})) || mapfile -t targets < <(cargo fuzz list)

found=0
printf '%-14s %12s %8s %7s  %s\n' target executions seconds corpus result
for target in "${targets[@]}"; do
  mkdir -p "$CORPUS/$target"
  log="$LOGS/$target.txt"
  t0=$(date +%s)
  nice cargo fuzz run -s none "$target" "$CORPUS/$target" "seeds/$target" -- \
    "${LIMIT[@]}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1
  rc=$?
  secs=$(($(date +%s) - t0))
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -n1)
  [[ -n $execs ]] || execs=$(grep -oE '^#[0-9]+' "$log" | tail -n1 | tr -d '#')
  units=$(find "$CORPUS/$target" -type f | wc -l)
  if ((rc == 0)); then
    result="nothing found"
  else
    found=1
    artifact=$(grep -o 'Test unit written to .*' "$log" | tail -n1 | sed 's/Test unit written to //')
    why=$(grep -m1 -oE "panicked at .*|ERROR: libFuzzer: [a-z-]+|SUMMARY: .*" "$log")
    result="FOUND: ${why:-exit $rc} ${artifact:+($artifact)}"
  fi
  printf '%-14s %12s %8s %7s  %s\n' "$target" "${execs:-?}" "$secs" "$units" "$result"
done
exit $found
