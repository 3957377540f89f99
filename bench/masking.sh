#!/usr/bin/env bash
# A 10 000-row SELECT, three ways in one run: directly, through Airlock with
# masking off, and through Airlock with masking on (every built-in detector
# on every text value, plus a column rule). Prints TPS and mean latency of
# each, and the ratio masking-on / masking-off (the bar: within 1.3×, i.e.
# off/on ≤ 1.3).
#
#   bench/masking.sh                     # 20 s per run, 1 client, 3 rounds
#   DURATION=10 CLIENTS=2 REPEAT=1 bench/masking.sh
#
# Environment: DURATION (s per run, default 20), CLIENTS (default 1),
# REPEAT (rounds, median reported, default 3), MODE (simple|extended,
# default extended), ROWS (default 10000), KEEP_DB=1.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-20}
CLIENTS=${CLIENTS:-1}
REPEAT=${REPEAT:-3}
MODE=${MODE:-extended}
ROWS=${ROWS:-10000}
PG_HOST=127.0.0.1
PG_PORT=5432
DB=airlock_mask_bench

log() { echo "[bench] $*" >&2; }

command -v pgbench >/dev/null 2>&1 || {
    log "installing pgbench (postgresql-contrib)"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get install -y postgresql-contrib >&2
}
log "building the gateway (release)"
(cd "$ROOT" && cargo build --release -p airlock >&2)
AIRLOCK="${CARGO_TARGET_DIR:-$ROOT/target}/release/airlock"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/airlock-mask-bench.XXXXXX")
PIDS=()
cleanup() {
    set +e
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
    if [ "${KEEP_DB:-0}" != 1 ]; then
        psql -X -q -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres \
            -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_port() { # port pid
    local i
    for i in $(seq 300); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# --- the data: realistic rows, a tenth of them with something to mask ----------
log "creating $DB with $ROWS rows"
psql -X -q -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres \
    -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U postgres -d "$DB" >/dev/null <<SQL
CREATE TABLE people (
    id int PRIMARY KEY, name text, email text, city text, note text,
    ref uuid, created timestamptz, amount numeric, status text);
INSERT INTO people
SELECT i,
       'Person ' || i,
       'person' || i || '@example.com',
       (ARRAY['Berlin','Lisbon','Austin','Osaka','Nairobi'])[1 + i % 5],
       CASE WHEN i % 10 = 0 THEN 'paid with card 4111 1111 1111 1111 on ' || (DATE '2024-01-01' + i % 365)
            WHEN i % 10 = 5 THEN 'call +1 415 555 ' || lpad((i % 10000)::text, 4, '0') || ' after 5pm'
            ELSE 'order ORD-' || lpad(i::text, 8, '0') || ' shipped ' || (DATE '2024-01-01' + i % 365) || ' v' || (i % 7) || '.' || (i % 13) || '.0' END,
       md5(i::text)::uuid,
       TIMESTAMPTZ '2024-01-01 00:00:00+00' + i * INTERVAL '17 minutes',
       round((i * 7.31)::numeric, 2),
       (ARRAY['open','shipped','returned'])[1 + i % 3]
FROM generate_series(1, $ROWS) i;
ANALYZE people;
SQL
echo "SELECT * FROM people;" >"$WORK/select.sql"

# --- two gateways: masking off, masking on -----------------------------------------
start_gateway() { # name masking-yaml -> sets PORT_<name>, TOKEN_<name>
    local name=$1 masking=$2 port api dir
    port=$(free_port)
    api=$(free_port)
    dir="$WORK/$name"
    mkdir -p "$dir"
    cat >"$dir/airlock.yaml" <<EOF
data_dir: $dir/data
listen:
  postgres: 127.0.0.1:$port
  api: 127.0.0.1:$api
$masking
connections:
  - name: $DB
    type: postgres
    target: { host: $PG_HOST, port: $PG_PORT, database: $DB, user: postgres, tls: disable }
    allow: ["bench"]
EOF
    "$AIRLOCK" --config "$dir/airlock.yaml" serve 2>"$dir/airlock.log" &
    PIDS+=($!)
    wait_port "$port" "$!" || { cat "$dir/airlock.log" >&2; exit 1; }
    "$AIRLOCK" --config "$dir/airlock.yaml" identity add bench >/dev/null
    printf -v "PORT_$name" '%s' "$port"
    printf -v "TOKEN_$name" '%s' "$("$AIRLOCK" --config "$dir/airlock.yaml" token issue bench)"
}
start_gateway off "masking: { enabled: false }"
start_gateway on "masking: { columns: [people.email] }"

# The masked gateway really masks (and the other does not).
export PGSSLMODE=disable
check=$(PGPASSWORD=$TOKEN_on psql -X -At -h 127.0.0.1 -p "$PORT_on" -U bench -d "$DB" \
    -c "select email, note from people where id = 10")
case "$check" in *"<masked:people.email>|paid with card <masked:credit_card>"*) ;;
*) log "masking is not in effect: $check"; exit 1 ;; esac
check=$(PGPASSWORD=$TOKEN_off psql -X -At -h 127.0.0.1 -p "$PORT_off" -U bench -d "$DB" \
    -c "select email from people where id = 10")
[ "$check" = "person10@example.com" ] || { log "masking off masks: $check"; exit 1; }

run() { # target -> "tps latency_ms"
    local args=(-n -f "$WORK/select.sql" -T "$DURATION" -c "$CLIENTS" -j "$CLIENTS" -M "$MODE") out
    case "$1" in
    direct) out=$(pgbench "${args[@]}" -h "$PG_HOST" -p "$PG_PORT" -U postgres "$DB" 2>&1) ;;
    off) out=$(PGPASSWORD=$TOKEN_off pgbench "${args[@]}" -h 127.0.0.1 -p "$PORT_off" -U bench "$DB" 2>&1) ;;
    on) out=$(PGPASSWORD=$TOKEN_on pgbench "${args[@]}" -h 127.0.0.1 -p "$PORT_on" -U bench "$DB" 2>&1) ;;
    esac || { log "pgbench against $1 failed:"; echo "$out" >&2; return 1; }
    echo "$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out" | head -1) $(sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' <<<"$out" | head -1)"
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

declare -A TPS LAT
TARGETS=(direct off on)
for round in $(seq "$REPEAT"); do
    for i in 0 1 2; do
        t=${TARGETS[$(((i + round - 1) % 3))]}
        log "round $round: $t"
        read -r tps lat <<<"$(run "$t")"
        TPS[$t]="${TPS[$t]:-} $tps"
        LAT[$t]="${LAT[$t]:-} $lat"
    done
done

echo
echo "SELECT * FROM people ($ROWS rows, 9 columns), -M $MODE, $CLIENTS client(s), ${DURATION}s per run, $REPEAT round(s) (median), $(nproc) cores"
echo
printf '| %-22s | %9s | %12s |\n' target TPS "latency ms"
printf '|%s|%s|%s|\n' ------------------------ ----------: -------------:
declare -A T
for t in "${TARGETS[@]}"; do
    # shellcheck disable=SC2086
    T[$t]=$(median ${TPS[$t]})
    # shellcheck disable=SC2086
    printf '| %-22s | %9.2f | %12.2f |\n' "$(case $t in direct) echo direct ;; off) echo 'airlock, masking off' ;; on) echo 'airlock, masking on' ;; esac)" \
        "${T[$t]}" "$(median ${LAT[$t]})"
done
echo
printf 'masking on / off: %.3f (off/on slowdown %.2fx; bar ≤ 1.3x)\n' \
    "$(awk -v a="${T[on]}" -v b="${T[off]}" 'BEGIN {print a / b}')" \
    "$(awk -v a="${T[off]}" -v b="${T[on]}" 'BEGIN {print a / b}')"
printf 'airlock masking off / direct: %.3f\n' "$(awk -v a="${T[off]}" -v b="${T[direct]}" 'BEGIN {print a / b}')"
