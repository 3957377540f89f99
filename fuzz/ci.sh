#!/usr/bin/env bash
# Short, fixed-length fuzzing for CI: builds every target in fuzz/ on the
# stable toolchain (`-s none`: libFuzzer with coverage instrumentation, no
# sanitizer, which is what needs nightly) and runs each one a fixed number
# of times from its checked-in seeds. Fails on the first finding; the
# crashing input is left in fuzz/artifacts/<target>/.
#
#   fuzz/ci.sh                 # RUNS=20000 per target
#   RUNS=100000 fuzz/ci.sh
#
# Runs write new inputs to a scratch corpus, never to fuzz/seeds/.
set -euo pipefail
cd "$(dirname "$0")"

RUNS=${RUNS:-20000}
# A safety net per target, far above what RUNS takes.
MAX_TIME=${MAX_TIME:-120}

if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

start=$(date +%s)
echo "== cargo fuzz build -s none"
nice cargo fuzz build -s none
built=$(date +%s)

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
status=0
for target in $(cargo fuzz list); do
  mkdir -p "$scratch/$target"
  t0=$(date +%s)
  if nice cargo fuzz run -s none "$target" "$scratch/$target" "seeds/$target" -- \
      -runs="$RUNS" -max_total_time="$MAX_TIME" -timeout=10 -rss_limit_mb=2048 \
      >"$scratch/$target.out" 2>&1; then
    runs=$(grep -o 'Done [0-9]* runs' "$scratch/$target.out" | tail -n1 | grep -o '[0-9]*' || echo '?')
    echo "fuzz $target: ok, $runs runs in $(($(date +%s) - t0)) s"
  else
    status=1
    echo "fuzz $target: FAILED" >&2
    grep -E 'panicked|ERROR|deadly signal|Test unit written|timeout' "$scratch/$target.out" | head -n 20 >&2 || true
    tail -n 40 "$scratch/$target.out" >&2
  fi
done
echo "== fuzzing took $(($(date +%s) - start)) s (build $((built - start)) s)"
exit $status
