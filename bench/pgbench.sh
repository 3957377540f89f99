#!/usr/bin/env bash
# pgbench against the same PostgreSQL four ways, in one run: directly,
# through Airlock with durable recording (each command's record committed
# before it is forwarded), through Airlock with buffered recording, and
# through PgBouncer (session mode). Prints TPS and mean latency for each,
# with the ratios of each Airlock mode to direct and to PgBouncer. With
# both recording modes run and audit.fsync on, it also times one durable
# write on the data_dir's disk (bench/flush.py) and prints the ceiling it
# sets on durable mode: clients / (buffered latency + that flush for each
# statement of a transaction: 1 for select, 7 for tpcb).
#
#   bench/pgbench.sh                       # 15 s per run, 1 8 32 clients
#   DURATION=10 CLIENTS="8" WORKLOADS="select tpcb" bench/pgbench.sh
#
# Environment:
#   DURATION         seconds per pgbench run (default 15)
#   CLIENTS          client counts (default "1 8 32")
#   MODES            pgbench query modes (default "simple extended")
#   WORKLOADS        "select" (pgbench -S, select-only) and/or "tpcb"
#                    (pgbench's default TPC-B-like read-write script);
#                    default "select"
#   AUDIT_FSYNC      true (default) or false: the gateway's audit.fsync
#   TARGETS          default "direct airlock airlock-buffered pgbouncer"; also
#                    "relay": bytes copied to PostgreSQL and back on the
#                    gateway's session threads, nothing else (the example
#                    bare_relay in crates/airlock-pg): the floor under the
#                    gateway's relay, so that its own work and the cost of its
#                    threads and runtime show apart; and "relay-durable": the
#                    same relay holding each read from a client until a
#                    group-committed O_DIRECT|O_DSYNC write in TMPDIR is on the
#                    disk, as the audit spool does: the floor under durable mode
#   REPEAT           rounds; each figure is the median over rounds (default 1),
#                    and each round's ratio to PgBouncer is listed too, with their
#                    median (paired rounds: free of drift between rounds);
#                    `bench/pool.py OUT...` pools those of several sittings
#   DEFAULT_PACK     true (default) or false: the default rule pack on Airlock
#   SCALE            pgbench scale factor (default 10)
#   SESSION_THREADS  the gateway's postgres.session_threads: threads its
#                    sessions run on (default 0: one per core); the bare
#                    relay runs on as many
#   AIRLOCK_WORKERS  worker threads of the gateway's main runtime, which runs
#                    the audit filler and the API, not the sessions
#                    (default: one per core)
#   WHERE=1          run each pgbench under bench/where.py and log, per run,
#                    the CPU per transaction of every process (gateway or
#                    PgBouncer, PostgreSQL, pgbench), idle time and context
#                    switches; the summary then has a table of each
#                    process's CPU per transaction (medians over rounds),
#                    with PgBouncer's busy CPU over each target's
#   KEEP_DB=1        keep the airlock_bench database afterwards
#   TMPDIR           where the gateway's data_dir (SQLite) and PgBouncer's files go
#
# Needs the machine's PostgreSQL on 127.0.0.1:5432 trusting user postgres.
# The clients use sslmode=disable everywhere, so no target pays for TLS.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-15}
CLIENTS=${CLIENTS:-1 8 32}
MODES=${MODES:-simple extended}
WORKLOADS=${WORKLOADS:-select}
AUDIT_FSYNC=${AUDIT_FSYNC:-true}
read -r -a TARGETS <<<"${TARGETS:-direct airlock airlock-buffered pgbouncer}"
REPEAT=${REPEAT:-1}
SCALE=${SCALE:-10}
PG_HOST=127.0.0.1
PG_PORT=5432
DB=airlock_bench

log() { echo "[bench] $*" >&2; }

# --- what the benchmark needs ------------------------------------------------
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }
if ! have pgbench || ! have pgbouncer; then
    log "installing pgbench (postgresql-contrib) and pgbouncer"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get install -y pgbouncer postgresql-contrib >&2 ||
        { $SUDO apt-get update >&2 && $SUDO apt-get install -y pgbouncer postgresql-contrib >&2; }
fi
PGBOUNCER=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)

log "building the gateway (release)"
(cd "$ROOT" && cargo build --release -p airlock >&2)
AIRLOCK="${CARGO_TARGET_DIR:-$ROOT/target}/release/airlock"
RELAY="${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/bare_relay"
has() { [[ " ${TARGETS[*]} " == *" $1 "* ]]; } # whether a target is run
if has relay || has relay-durable; then
    log "building the bare relay (release)"
    (cd "$ROOT" && cargo build --release -p airlock-pg --example bare_relay >&2)
fi

# --- clean-up of everything started below -------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/airlock-bench.XXXXXX")
GW_PID=""
PGB_PID=""
RELAY_PID=""
DRELAY_PID=""
cleanup() {
    set +e
    [ -n "$RELAY_PID" ] && kill "$RELAY_PID" 2>/dev/null && wait "$RELAY_PID" 2>/dev/null
    [ -n "$DRELAY_PID" ] && kill "$DRELAY_PID" 2>/dev/null && wait "$DRELAY_PID" 2>/dev/null
    [ -n "$GW_PID" ] && kill "$GW_PID" 2>/dev/null && wait "$GW_PID" 2>/dev/null
    [ -n "$PGB_PID" ] && kill "$PGB_PID" 2>/dev/null && wait "$PGB_PID" 2>/dev/null
    if [ "${KEEP_DB:-0}" != 1 ]; then
        psql -X -q -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres \
            -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A port on 127.0.0.1 nobody listens on (and not one handed out already).
USED_PORTS=" "
free_port() {
    local p
    while :; do
        # Below the kernel's ephemeral range (32768 and up here), where
        # a client socket of an earlier run may hold the port.
        p=$(((RANDOM % 12000) + 20000))
        case "$USED_PORTS" in *" $p "*) continue ;; esac
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            USED_PORTS="$USED_PORTS$p "
            echo "$p"
            return
        fi
    done
}

wait_port() { # port pid name
    local i
    for i in $(seq 300); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        kill -0 "$2" 2>/dev/null || { log "$3 exited early"; return 1; }
        sleep 0.1
    done
    log "$3 did not start listening on port $1"
    return 1
}

# --- the database -------------------------------------------------------------
log "creating $DB (scale $SCALE)"
PGOPTIONS="-c client_min_messages=warning" \
    psql -X -q -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres \
    -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null
pgbench -i -q -s "$SCALE" -h "$PG_HOST" -p "$PG_PORT" -U postgres "$DB" >"$WORK/init.log" 2>&1 ||
    { cat "$WORK/init.log" >&2; exit 1; }

# --- Airlock --------------------------------------------------------------------
AL_PORT=$(free_port)
AL_API_PORT=$(free_port)
cat >"$WORK/airlock.yaml" <<EOF
data_dir: $WORK/airlock-data
listen:
  postgres: 127.0.0.1:$AL_PORT
  api: 127.0.0.1:$AL_API_PORT
postgres:
  session_threads: ${SESSION_THREADS:-0}
policy:
  default_pack: ${DEFAULT_PACK:-true}
audit:
  fsync: $AUDIT_FSYNC
connections:
  - name: $DB
    type: postgres
    target: { host: $PG_HOST, port: $PG_PORT, database: $DB, user: postgres, tls: disable }
    allow: ["bench"]
  - name: ${DB}_buffered
    type: postgres
    target: { host: $PG_HOST, port: $PG_PORT, database: $DB, user: postgres, tls: disable }
    allow: ["bench"]
    audit: { mode: buffered }
EOF
GW_ENV=()
[ -n "${AIRLOCK_WORKERS:-}" ] && GW_ENV+=("TOKIO_WORKER_THREADS=$AIRLOCK_WORKERS")
env "${GW_ENV[@]}" "$AIRLOCK" --config "$WORK/airlock.yaml" serve 2>"$WORK/airlock.log" &
GW_PID=$!
wait_port "$AL_PORT" "$GW_PID" airlock || { cat "$WORK/airlock.log" >&2; exit 1; }
"$AIRLOCK" --config "$WORK/airlock.yaml" identity add bench >/dev/null
TOKEN=$("$AIRLOCK" --config "$WORK/airlock.yaml" token issue bench)

# --- PgBouncer, session mode ------------------------------------------------------
PGB_PORT=$(free_port)
mkdir "$WORK/pgbouncer"
cat >"$WORK/pgbouncer/pgbouncer.ini" <<EOF
[databases]
$DB = host=$PG_HOST port=$PG_PORT dbname=$DB user=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGB_PORT
unix_socket_dir =
auth_type = trust
auth_file = $WORK/pgbouncer/userlist.txt
pool_mode = session
max_client_conn = 200
default_pool_size = 64
logfile = $WORK/pgbouncer/pgbouncer.log
pidfile = $WORK/pgbouncer/pgbouncer.pid
EOF
echo '"postgres" ""' >"$WORK/pgbouncer/userlist.txt"
PGB_USER=()
if [ "$(id -u)" -eq 0 ]; then
    # PgBouncer refuses to run as root: it drops to postgres, which must be
    # able to reach its files.
    chmod 755 "$WORK"
    chown -R postgres:postgres "$WORK/pgbouncer"
    PGB_USER=(-u postgres)
fi
"$PGBOUNCER" "${PGB_USER[@]}" "$WORK/pgbouncer/pgbouncer.ini" >"$WORK/pgbouncer/stdout.log" 2>&1 &
PGB_PID=$!
wait_port "$PGB_PORT" "$PGB_PID" pgbouncer ||
    { cat "$WORK/pgbouncer/stdout.log" "$WORK/pgbouncer/pgbouncer.log" >&2 2>/dev/null; exit 1; }

# --- the bare relay, on as many session threads as the gateway -------------------
# postgres.session_threads: 0 means one per core.
SESSION_THREADS_DEFAULT=$(nproc)
if has relay; then
    RELAY_PORT=$(free_port)
    RELAY_THREADS=${SESSION_THREADS:-0}
    [ "$RELAY_THREADS" -gt 0 ] || RELAY_THREADS=$SESSION_THREADS_DEFAULT
    "$RELAY" "127.0.0.1:$RELAY_PORT" "$PG_HOST:$PG_PORT" "$RELAY_THREADS" 2>"$WORK/relay.log" &
    RELAY_PID=$!
    wait_port "$RELAY_PORT" "$RELAY_PID" bare_relay || { cat "$WORK/relay.log" >&2; exit 1; }
fi
if has relay-durable; then
    DRELAY_PORT=$(free_port)
    DRELAY_THREADS=${SESSION_THREADS:-0}
    [ "$DRELAY_THREADS" -gt 0 ] || DRELAY_THREADS=$SESSION_THREADS_DEFAULT
    "$RELAY" "127.0.0.1:$DRELAY_PORT" "$PG_HOST:$PG_PORT" "$DRELAY_THREADS" "$WORK/relay-spool" \
        2>"$WORK/relay-durable.log" &
    DRELAY_PID=$!
    wait_port "$DRELAY_PORT" "$DRELAY_PID" bare_relay || { cat "$WORK/relay-durable.log" >&2; exit 1; }
fi

# --- one durable flush on the disk of data_dir, for the ceiling printed below ------
FLUSH_US=""
if [ "$AUDIT_FSYNC" = true ] && has airlock && has airlock-buffered; then
    FLUSH_US=$(python3 "$ROOT/bench/flush.py" "$WORK" 2>/dev/null |
        sed -n 's/^O_DIRECT|O_DSYNC 4 KiB: *\([0-9.]*\) us wall.*/\1/p')
    rm -f "$WORK"/flush-probe-*
    [ -n "$FLUSH_US" ] || log "bench/flush.py gave no figure; no durable ceiling below"
fi

# --- the runs -------------------------------------------------------------------
export PGSSLMODE=disable
run_pgbench() { # target workload mode clients -> "tps latency_ms"
    local target=$1 workload=$2 mode=$3 c=$4 jobs out
    jobs=$((c < 2 ? c : 2))
    local args=(-n -T "$DURATION" -c "$c" -j "$jobs" -M "$mode")
    [ "$workload" = select ] && args+=(-S)
    local run=(pgbench)
    [ "${WHERE:-0}" = 1 ] && run=(python3 "$ROOT/bench/where.py" -- pgbench)
    case "$target" in
    direct) out=$("${run[@]}" "${args[@]}" -h "$PG_HOST" -p "$PG_PORT" -U postgres "$DB" 2>&1) ;;
    airlock) out=$(PGPASSWORD=$TOKEN "${run[@]}" "${args[@]}" -h 127.0.0.1 -p "$AL_PORT" -U bench "$DB" 2>&1) ;;
    airlock-buffered) out=$(PGPASSWORD=$TOKEN "${run[@]}" "${args[@]}" -h 127.0.0.1 -p "$AL_PORT" -U bench "${DB}_buffered" 2>&1) ;;
    pgbouncer) out=$("${run[@]}" "${args[@]}" -h 127.0.0.1 -p "$PGB_PORT" -U postgres "$DB" 2>&1) ;;
    relay) out=$("${run[@]}" "${args[@]}" -h 127.0.0.1 -p "$RELAY_PORT" -U postgres "$DB" 2>&1) ;;
    relay-durable) out=$("${run[@]}" "${args[@]}" -h 127.0.0.1 -p "$DRELAY_PORT" -U postgres "$DB" 2>&1) ;;
    *) log "unknown target $target"; return 1 ;;
    esac || { log "pgbench against $target failed:"; echo "$out" >&2; return 1; }
    if [ "${WHERE:-0}" = 1 ]; then
        sed -n '/^tps [0-9]*; CPU/,$p' <<<"$out" | sed "s/^/[where: $workload $mode $c $target] /" >&2
        # Each process's CPU in this run, for the summary at the end.
        sed -n '/^tps [0-9]*; CPU/,/^context switches/p' <<<"$out" | sed '1d;$d' |
            sed "s/^/$workload $mode $c $target /" >>"$WORK/where.cpu"
    fi
    local tps lat
    tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out" | head -1)
    lat=$(sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' <<<"$out" | head -1)
    [ -n "$tps" ] && [ -n "$lat" ] || { log "cannot read pgbench output:"; echo "$out" >&2; return 1; }
    echo "$tps $lat"
}

# CPU time (clock ticks, user + system) of a process, or of one thread.
ticks() { sed 's/.*) //' "$1" | awk '{print $12 + $13}'; }
gateway_threads() { # -> "tid name ticks" per thread
    local t
    for t in /proc/"$GW_PID"/task/*; do
        echo "${t##*/} $(tr ' ' _ <"$t/comm") $(ticks "$t/stat")"
    done
}

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

declare -A TPS LAT CPU
NT=${#TARGETS[@]}
log "warming up"
pgbench -S -n -T 3 -c 2 -j 2 -h "$PG_HOST" -p "$PG_PORT" -U postgres "$DB" >/dev/null 2>&1
log "load before the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
gateway_threads >"$WORK/threads.before"
for round in $(seq "$REPEAT"); do
  for workload in $WORKLOADS; do
    for mode in $MODES; do
        for c in $CLIENTS; do
            # Each target right after the others, the order rotated per
            # round, so drift on the machine hits all of them alike.
            for i in $(seq 0 $((NT - 1))); do
                target=${TARGETS[$(((i + round - 1) % NT))]}
                key=$workload/$mode/$c/$target
                log "round $round: $workload, $mode, $c clients, $target"
                case "$target" in
                airlock*) proc=/proc/$GW_PID/stat ;;
                pgbouncer) proc=/proc/$PGB_PID/stat ;;
                relay) proc=/proc/$RELAY_PID/stat ;;
                relay-durable) proc=/proc/$DRELAY_PID/stat ;;
                *) proc="" ;;
                esac
                before=$([ -n "$proc" ] && ticks "$proc" || echo 0)
                result=$(run_pgbench "$target" "$workload" "$mode" "$c")
                after=$([ -n "$proc" ] && ticks "$proc" || echo 0)
                read -r tps lat <<<"$result"
                # Proxy CPU per transaction, in microseconds.
                cpu=$(awk -v t="$((after - before))" -v hz="$(getconf CLK_TCK)" -v n="$tps" -v d="$DURATION" \
                    'BEGIN {print t / hz * 1e6 / (n * d)}')
                CPU[$key]="${CPU[$key]:-} $cpu"
                TPS[$key]="${TPS[$key]:-} $tps"
                LAT[$key]="${LAT[$key]:-} $lat"
            done
        done
    done
  done
done
log "load after the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
gateway_threads >"$WORK/threads.after"

# --- the table -------------------------------------------------------------------
ratio() { # a b -> a/b, or - when either is missing
    if has "$1" && has "$2"; then awk -v a="${T[$1]}" -v b="${T[$2]}" 'BEGIN {printf "%.2f", a / b}'; else echo -; fi
}
echo
echo "pgbench, ${DURATION}s per run, scale $SCALE, $(nproc) cores, audit.fsync $AUDIT_FSYNC, rounds: $REPEAT (median)"
echo "TPS (mean latency ms); durable = airlock, buffered = airlock-buffered"
echo
printf '| %-8s | %-8s | %7s |' workload mode clients
for target in "${TARGETS[@]}"; do printf ' %-20s |' "$target"; done
printf ' %s | %s | %s |\n' "durable/pgbouncer" "buffered/pgbouncer" "durable/direct"
printf '|%s|%s|%s|' ---------- ---------- --------:
for _ in "${TARGETS[@]}"; do printf '%s|' ----------------------; done
printf '%s|%s|%s|\n' ------------------: -------------------: ---------------:
declare -A T L
for workload in $WORKLOADS; do
    for mode in $MODES; do
        for c in $CLIENTS; do
            printf '| %-8s | %-8s | %7s |' "$workload" "$mode" "$c"
            for target in "${TARGETS[@]}"; do
                # shellcheck disable=SC2086
                T[$target]=$(median ${TPS[$workload/$mode/$c/$target]})
                # shellcheck disable=SC2086
                L[$target]=$(median ${LAT[$workload/$mode/$c/$target]})
                printf ' %-20s |' "$(printf '%.0f (%.3f)' "${T[$target]}" "${L[$target]}")"
            done
            printf ' %18s | %19s | %15s |\n' "$(ratio airlock pgbouncer)" \
                "$(ratio airlock-buffered pgbouncer)" "$(ratio airlock direct)"
        done
    done
done

# What durable mode could reach at best: a client waits for each answer, and
# each statement's record is flushed before the statement is forwarded, so a
# transaction takes at least its buffered latency and one flush per
# statement: 1 for select (-S), 7 for pgbench's TPC-B-like script (BEGIN,
# three UPDATEs, a SELECT, an INSERT, END).
if [ -n "$FLUSH_US" ]; then
    echo
    echo "Durable ceiling: clients / (buffered latency + statements x one flush of $FLUSH_US us, bench/flush.py in this sitting)"
    echo
    for workload in $WORKLOADS; do
        statements=1
        [ "$workload" = tpcb ] && statements=7
        for mode in $MODES; do
            for c in $CLIENTS; do
                # shellcheck disable=SC2086
                lat=$(median ${LAT[$workload/$mode/$c/airlock-buffered]})
                # shellcheck disable=SC2086
                durable=$(median ${TPS[$workload/$mode/$c/airlock]})
                pgb=""
                # shellcheck disable=SC2086
                has pgbouncer && pgb=$(median ${TPS[$workload/$mode/$c/pgbouncer]})
                awk -v c="$c" -v l="$lat" -v f="$FLUSH_US" -v d="$durable" -v p="$pgb" \
                    -v k="$statements" -v what="$workload $mode $c clients" 'BEGIN {
                        ceiling = c / (l / 1e3 + k * f / 1e6)
                        line = sprintf("  %s: ceiling %.0f TPS", what, ceiling)
                        if (p != "") line = line sprintf(" (%.2f of PgBouncer)", ceiling / p)
                        printf "%s; durable reached %.2f of it\n", line, d / ceiling
                    }'
            done
        done
    done
fi

# The spread behind each median: the ratio in each round, whose targets
# ran back to back, and the median of those ratios.
if [ "$REPEAT" -gt 1 ]; then
    echo
    echo "Per round:"
    echo
    for workload in $WORKLOADS; do
        for mode in $MODES; do
            for c in $CLIENTS; do
                for pair in "airlock pgbouncer" "airlock-buffered pgbouncer" \
                    "relay pgbouncer" "airlock-buffered relay" \
                    "relay-durable pgbouncer" "airlock relay-durable"; do
                    read -r a b <<<"$pair"
                    has "$a" && has "$b" || continue
                    read -r -a ta <<<"${TPS[$workload/$mode/$c/$a]}"
                    read -r -a tb <<<"${TPS[$workload/$mode/$c/$b]}"
                    line=""
                    for i in "${!ta[@]}"; do
                        line="$line $(awk -v x="${ta[$i]}" -v y="${tb[$i]}" 'BEGIN {printf "%.2f", x / y}')"
                    done
                    # Paired within a round, the ratio is free of the drift
                    # between rounds that the medians of TPS above still carry.
                    paired=$(tr ' ' '\n' <<<"$line" | sed '/^$/d' | sort -n |
                        awk '{v[NR] = $1} END {printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}')
                    echo "  $workload $mode $c clients, $a/$b:$line (median $paired)"
                done
            done
        done
    done
fi

echo
echo "Proxy CPU per transaction, microseconds (user + system, from /proc)"
echo
printf '| %-8s | %-8s | %7s |' workload mode clients
for target in "${TARGETS[@]}"; do [ "$target" = direct ] || printf ' %16s |' "$target"; done
echo
printf '|%s|%s|%s|' ---------- ---------- --------:
for target in "${TARGETS[@]}"; do [ "$target" = direct ] || printf '%s|' -----------------:; done
echo
for workload in $WORKLOADS; do
    for mode in $MODES; do
        for c in $CLIENTS; do
            printf '| %-8s | %-8s | %7s |' "$workload" "$mode" "$c"
            for target in "${TARGETS[@]}"; do
                # shellcheck disable=SC2086
                [ "$target" = direct ] || printf ' %16.1f |' "$(median ${CPU[$workload/$mode/$c/$target]})"
            done
            echo
        done
    done
done
# With WHERE=1: every process's CPU a transaction, so that what limits a
# target shows. With the cores saturated, TPS follows the CPU all the
# processes spend on a transaction: PgBouncer's busy CPU over a target's
# is about the TPS ratio that CPU alone allows.
if [ "${WHERE:-0}" = 1 ] && [ -s "$WORK/where.cpu" ]; then
    echo
    echo "CPU per transaction by process, microseconds (WHERE=1; medians over rounds; user / system)"
    echo
    echo "| workload | mode | clients | target | PostgreSQL | proxy | pgbench | idle | busy | pgbouncer busy / busy |"
    echo "|---|---|--:|---|--:|--:|--:|--:|--:|--:|"
    tr -d '(),' <"$WORK/where.cpu" | awk '
        function median(list,   v, n, i, j, t) {
            n = split(list, v, " ")
            for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) {
                t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
            }
            return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
        }
        {
            key = $1 " " $2 " " $3 " " $4
            if (!(key in seen)) { seen[key] = 1; order[++keys] = key }
            role = $5
            if (role == "airlock" || role == "pgbouncer" || role == "bare_relay") role = "proxy"
            if (role != "postgres" && role != "proxy" && role != "pgbench" && role != "idle") next
            all[key, role] = all[key, role] " " $6
            if (role != "idle") { user[key, role] = user[key, role] " " $8; sys[key, role] = sys[key, role] " " $10 }
        }
        function cell(key, role) {
            if (all[key, role] == "") return "-"
            return sprintf("%.1f (%.1f / %.1f)", median(all[key, role]), median(user[key, role]), median(sys[key, role]))
        }
        function busy(key) {
            return median(all[key, "postgres"]) + median(all[key, "pgbench"]) + \
                (all[key, "proxy"] == "" ? 0 : median(all[key, "proxy"]))
        }
        END {
            for (k = 1; k <= keys; k++) {
                key = order[k]
                split(key, f, " ")
                pgb = f[1] " " f[2] " " f[3] " pgbouncer"
                r = (pgb in seen) ? sprintf("%.2f", busy(pgb) / busy(key)) : "-"
                printf "| %s | %s | %s | %s | %s | %s | %s | %.1f | %.1f | %s |\n", f[1], f[2], f[3], f[4],
                    cell(key, "postgres"), cell(key, "proxy"), cell(key, "pgbench"),
                    median(all[key, "idle"]), busy(key), r
            }
        }' | sort -t'|' -k2,2 -k3,3 -k4,4n
fi

echo
echo "Gateway CPU by thread over all its runs (seconds)"
echo
# Threads with the same name (the tokio workers) are summed.
awk -v hz="$(getconf CLK_TCK)" 'NR == FNR {before[$1] = $3; next}
    {cpu[$2] += ($3 - before[$1]) / hz; n[$2]++}
    END {for (t in cpu) if (cpu[t] > 0) printf "  %-18s x%-2d %7.2f\n", t, n[t], cpu[t]}' \
    "$WORK/threads.before" "$WORK/threads.after" | sort -k3 -rn
