#!/usr/bin/env bash
# A/B of gateway binaries (or settings) on the same machine in one sitting:
# each round starts each binary in turn (the order rotated from round
# to round) on a fresh data_dir and runs
# pgbench -S through it, so drift on the machine hits all of them alike.
# Prints TPS and the gateway's CPU per transaction (user + system, from
# /proc), and with THREADS=1 the CPU per transaction of each of its threads.
#
#   cp target/release/airlock /tmp/airlock.before   # build, copy, change, build
#   bench/ab.sh 3 /tmp/airlock.before target/release/airlock
#   FSYNC=false MODES=durable bench/ab.sh 5 /tmp/a /tmp/b
#
# Environment:
#   MODES    "durable buffered" (default): which recording modes to run
#   SECS     seconds per pgbench run (default 8)
#   CLIENTS  pgbench clients (default 8; two pgbench threads)
#   PROTOCOL pgbench's query mode: simple (default) or extended
#   FSYNC    the gateway's audit.fsync (default true)
#   PACK     the gateway's policy.default_pack (default true)
#   SESSION_THREADS  the gateway's postgres.session_threads (default 0)
#   MASKING, PREVIEW_ROWS  masking.enabled (true), audit.preview_rows (20)
#   THREADS=1        also print CPU per transaction by gateway thread
#
# Needs the machine's PostgreSQL on 127.0.0.1:5432 trusting user postgres;
# creates the database airlock_ab (scale 10) and drops it at the end.
set -euo pipefail

[ $# -ge 2 ] || { echo "usage: $0 ROUNDS BINARY..." >&2; exit 2; }
ROUNDS=$1
shift
MODES=${MODES:-durable buffered}
SECS=${SECS:-8}
CLIENTS=${CLIENTS:-8}
DB=airlock_ab
WORK=$(mktemp -d "${TMPDIR:-/tmp}/airlock-ab.XXXXXX")
GW_PID=""
HZ=$(getconf CLK_TCK)

# shellcheck source=bench/gateway.sh
. "$(dirname "$0")/gateway.sh"
trap cleanup EXIT
trap 'exit 130' INT TERM

fresh_database "$DB" 10 "$WORK/init.log"

start_gateway() { # binary
    if [ -n "$GW_PID" ]; then
        kill "$GW_PID" 2>/dev/null || true
        wait "$GW_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK/data"
    gateway_config "$WORK/airlock.yaml" "$WORK/data" "$DB"
    "$1" --config "$WORK/airlock.yaml" serve 2>"$WORK/airlock.log" &
    GW_PID=$!
    wait_for_gateway "$WORK/airlock.log" || exit 1
    TOKEN=$(bench_token "$1" "$WORK/airlock.yaml")
}

ticks() { sed 's/.*) //' "$1" | awk '{print $12 + $13}'; }
by_thread() { # -> "name ticks", threads of one name summed
    local t
    for t in /proc/"$GW_PID"/task/*; do
        echo "$(tr ' ' _ <"$t/comm") $(ticks "$t/stat")"
    done | awk '{c[$1] += $2} END {for (k in c) print k, c[k]}' | sort
}

run_mode() { # mode -> one line
    local before after out tps
    [ "${THREADS:-0}" = 1 ] && by_thread >"$WORK/threads.before"
    before=$(ticks "/proc/$GW_PID/stat")
    out=$(PGPASSWORD=$TOKEN PGSSLMODE=disable pgbench -n -S -M "${PROTOCOL:-simple}" -T "$SECS" -c "$CLIENTS" -j 2 \
        -h 127.0.0.1 -p "$PORT" -U bench "$1" 2>&1) ||
        { echo "pgbench failed: $out" >&2; return 1; }
    after=$(ticks "/proc/$GW_PID/stat")
    tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out" | head -1)
    printf ' | %s %.0f TPS %.1f us/txn' "$1" "$tps" \
        "$(awk -v t=$((after - before)) -v hz="$HZ" -v n="$tps" -v s="$SECS" 'BEGIN {print t / hz * 1e6 / (n * s)}')"
    if [ "${THREADS:-0}" = 1 ]; then
        by_thread >"$WORK/threads.after"
        join "$WORK/threads.before" "$WORK/threads.after" |
            awk -v hz="$HZ" -v n="$tps" -v s="$SECS" \
                '$3 > $2 {printf " [%s %.1f]", $1, ($3 - $2) / hz * 1e6 / (n * s)}'
    fi
}

BINS=("$@")
for round in $(seq "$ROUNDS"); do
    # The order rotates each round: in an A/A test (one binary twice,
    # alternating, 8 rounds; bench/RESULTS.md, twenty-sixth run) the run
    # second in each round had the median 3.5 % more TPS, which a fixed
    # order would pass off as a difference between binaries.
    for i in $(seq 0 $((${#BINS[@]} - 1))); do
        bin=${BINS[$(((i + round - 1) % ${#BINS[@]}))]}
        start_gateway "$bin"
        line="round $round $bin"
        for mode in $MODES; do line="$line$(run_mode "$mode")"; done
        echo "$line"
    done
done
