#!/usr/bin/env bash
# Instructions per transaction in the gateway, by kind of thread, counted
# by callgrind: unlike TPS on a shared 2-core machine, the same binary and
# load give the same counts whatever else the machine is doing, so a
# change worth 1 % shows.
#
#   bench/callgrind.sh                          # target/release/airlock
#   MODE=durable bench/callgrind.sh /tmp/airlock.before
#   MASKING=false PREVIEW_ROWS=0 bench/callgrind.sh
#
# Runs `pgbench -S` (simple protocol, CLIENTS clients, TXNS transactions
# each) through the gateway started under callgrind, with instrumentation
# on only for that run, and prints instructions per transaction for the
# session threads, the store's filler, and the rest. Under valgrind
# SHA-256 runs in software (about half of the store's count). Three runs
# of one binary gave the session threads 20 154–20 170 instructions a
# transaction and the store 51 293–53 982: the store's batches follow the
# timing. The per-thread profiles stay in $OUT for callgrind_annotate.
#
# Environment:
#   MODE          buffered (default) or durable
#   CLIENTS       pgbench clients (default 8); TXNS transactions each (500)
#   PROTOCOL      pgbench's query mode: simple (default) or extended
#   PACK          the gateway's policy.default_pack (default false)
#   MASKING       masking.enabled (default true)
#   PREVIEW_ROWS  audit.preview_rows (default 20)
#   OUT           where the profiles go (default: a new directory in /tmp)
#
# Needs valgrind and the machine's PostgreSQL on 127.0.0.1:5432 trusting
# user postgres; creates the database airlock_cg and drops it at the end.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${1:-$ROOT/target/release/airlock}
MODE=${MODE:-buffered}
CLIENTS=${CLIENTS:-8}
TXNS=${TXNS:-500}
DB=airlock_cg
OUT=${OUT:-$(mktemp -d /tmp/airlock-callgrind.XXXXXX)}
mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/airlock-cg-work.XXXXXX)
GW_PID=""

# shellcheck source=bench/gateway.sh
. "$(dirname "$0")/gateway.sh"
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v valgrind >/dev/null || { echo "needs valgrind" >&2; exit 1; }
[ -x "$BIN" ] || { echo "no gateway binary at $BIN (cargo build --release -p airlock)" >&2; exit 1; }

fresh_database "$DB" 1 "$WORK/init.log"
PACK=${PACK:-false} gateway_config "$WORK/airlock.yaml" "$WORK/data" "$DB"
TOKEN=$(bench_token "$BIN" "$WORK/airlock.yaml")

rm -f "$OUT"/callgrind.out*
valgrind --tool=callgrind --instr-atstart=no --separate-threads=yes \
    --callgrind-out-file="$OUT/callgrind.out" \
    "$BIN" --config "$WORK/airlock.yaml" serve 2>"$WORK/airlock.log" &
GW_PID=$!
wait_for_gateway "$WORK/airlock.log"

load() { # transactions per client
    PGPASSWORD=$TOKEN PGSSLMODE=disable pgbench -n -S -M "${PROTOCOL:-simple}" -t "$1" -c "$CLIENTS" -j 2 \
        -h 127.0.0.1 -p "$PORT" -U bench "$MODE" >"$WORK/pgbench.log" 2>&1 ||
        { cat "$WORK/pgbench.log" >&2; exit 1; }
}
load 100 # connections, caches and the store's tables warm
callgrind_control -i on "$GW_PID" >/dev/null 2>&1
load "$TXNS"
callgrind_control -i off "$GW_PID" >/dev/null 2>&1
callgrind_control -d "$GW_PID" >/dev/null 2>&1

TOTAL=$((CLIENTS * TXNS))
echo "instructions per transaction, $MODE, $TOTAL transactions of pgbench -S -M ${PROTOCOL:-simple} -c $CLIENTS ($BIN)"
for f in "$OUT"/callgrind.out.*-*; do
    n=$(awk '/^totals:/ {print $2}' "$f")
    [ "${n:-0}" -gt 0 ] || continue
    if grep -q 'airlock_pg::relay' "$f"; then kind=session
    elif grep -q 'writer::fill' "$f"; then kind=store
    else kind=other; fi
    echo "$kind $n"
done | awk -v t="$TOTAL" '{s[$1] += $2} END {for (k in s) printf "  %-8s %8.0f\n", k, s[k] / t}' | sort
echo "profiles: $OUT (callgrind_annotate FILE...)"
