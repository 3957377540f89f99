#!/usr/bin/env bash
# Where the gateway's time goes, in µs per transaction by function, from
# perf's cpu-clock samples (a software timer: it works where the machine
# has no hardware counters). Unlike callgrind's instruction counts this
# shows time spent waiting on memory: an allocation that reuses a block
# another thread freed costs one instruction and a cache miss.
#
#   bench/profile.sh                          # target/release/airlock
#   MODE=durable bench/profile.sh /tmp/airlock.before
#
# Runs `pgbench -S` (simple protocol, CLIENTS clients, two pgbench
# threads) through the gateway for SECS seconds and samples the gateway's
# threads for the middle half of the run. Prints the run's TPS, the
# gateway's sampled time per transaction, the part of it in the allocator
# (mimalloc), and the TOP functions by time. Sampling slows the gateway
# (and the TPS) by a few percent; compare binaries with this script in one
# sitting, not with figures from bench/ab.sh. The samples stay in $OUT for
# `perf report -i $OUT/perf.data`.
#
# Environment:
#   MODE          buffered (default) or durable
#   CLIENTS       pgbench clients (default 8); SECS seconds (default 12)
#   PROTOCOL      pgbench's query mode: simple (default) or extended
#   TOP           functions listed (default 25)
#   PACK          the gateway's policy.default_pack (default false)
#   MASKING       masking.enabled (default true)
#   PREVIEW_ROWS  audit.preview_rows (default 20)
#   OUT           where the samples go (default: a new directory in /tmp)
#   PERF_GRAPH=1  also record call graphs (perf record -g), for
#                 `perf report -G`: who called a kernel function
#
# Needs perf (Debian's linux-perf) and the machine's PostgreSQL on
# 127.0.0.1:5432 trusting user postgres; creates the database airlock_prof
# and drops it at the end.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${1:-$ROOT/target/release/airlock}
MODE=${MODE:-buffered}
CLIENTS=${CLIENTS:-8}
SECS=${SECS:-12}
TOP=${TOP:-25}
DB=airlock_prof
OUT=${OUT:-$(mktemp -d /tmp/airlock-profile.XXXXXX)}
mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/airlock-profile-work.XXXXXX)
GW_PID=""

# shellcheck source=bench/gateway.sh
. "$(dirname "$0")/gateway.sh"
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v perf >/dev/null || { echo "needs perf (apt-get install linux-perf)" >&2; exit 1; }
[ -x "$BIN" ] || { echo "no gateway binary at $BIN (cargo build --release -p airlock)" >&2; exit 1; }

fresh_database "$DB" 10 "$WORK/init.log"
PACK=${PACK:-false} gateway_config "$WORK/airlock.yaml" "$WORK/data" "$DB"
"$BIN" --config "$WORK/airlock.yaml" serve 2>"$WORK/airlock.log" &
GW_PID=$!
wait_for_gateway "$WORK/airlock.log"
TOKEN=$(bench_token "$BIN" "$WORK/airlock.yaml")

load() { # seconds
    PGPASSWORD=$TOKEN PGSSLMODE=disable pgbench -n -S -M "${PROTOCOL:-simple}" -T "$1" -c "$CLIENTS" -j 2 \
        -h 127.0.0.1 -p "$PORT" -U bench "$MODE" 2>&1
}
load 2 >/dev/null # connections, caches and the store's tables warm
load "$SECS" >"$WORK/pgbench.log" &
LOAD_PID=$!
sleep $((SECS / 4))
WINDOW=$((SECS / 2))
perf record -q ${PERF_GRAPH:+-g} -e cpu-clock -F 1000 -p "$GW_PID" -o "$OUT/perf.data" -- sleep "$WINDOW" \
    >/dev/null 2>&1
wait "$LOAD_PID" || { cat "$WORK/pgbench.log" >&2; exit 1; }
TPS=$(awk '/^tps/ {print $3}' "$WORK/pgbench.log")

# Each sample stands for a millisecond of one thread's time (-F 1000).
perf report -i "$OUT/perf.data" --no-children --sort sym -F sample,sym 2>/dev/null |
    awk -v tps="$TPS" -v secs="$WINDOW" '
        /^#/ || NF < 2 { next }
        { us = $1 * 1000 / (tps * secs); $1 = ""; sub(/^ +/, ""); print us "\t" $0 }' |
    sort -t "$(printf '\t')" -k1,1 -g -r >"$OUT/by_function.tsv"

echo "$MODE, pgbench -S -M ${PROTOCOL:-simple} -c $CLIENTS: $TPS TPS ($BIN)"
awk -F'\t' '{all += $1} $2 ~ /(^| )(_?mi_|_mi_)/ {mi += $1}
    END {printf "gateway %.1f µs/txn sampled, of which the allocator %.1f\n", all, mi}' \
    "$OUT/by_function.tsv"
head -n "$TOP" "$OUT/by_function.tsv" | awk -F'\t' '{printf "  %6.2f  %s\n", $1, $2}'
echo "samples: $OUT/perf.data"
