# Shared by bench/ab.sh, bench/callgrind.sh and bench/profile.sh (sourced,
# not run): a fresh pgbench database, a gateway configuration with a
# durable and a buffered connection to it (both allowing the identity
# `bench`), waiting for the gateway to listen, and a token for `bench`.

# The scripts' EXIT trap: stops the gateway ($GW_PID), drops $DB and
# removes $WORK.
cleanup() {
    set +e
    [ -n "$GW_PID" ] && kill "$GW_PID" 2>/dev/null && wait "$GW_PID" 2>/dev/null
    psql -X -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
    rm -rf "$WORK"
}

# A free TCP port on 127.0.0.1, below the kernel's ephemeral range (32768
# and up here), where a client socket of an earlier run may hold the port.
free_port() {
    local p
    while :; do
        p=$(((RANDOM % 12000) + 20000))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
}

# fresh_database DB SCALE LOG: drops and creates DB on the machine's
# PostgreSQL and fills it with pgbench's tables.
fresh_database() {
    psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres -d postgres \
        -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" >/dev/null
    pgbench -i -q -s "$2" -h 127.0.0.1 -U postgres "$1" >"$3" 2>&1 ||
        { cat "$3" >&2; return 1; }
}

# gateway_config FILE DATA_DIR DB: picks PORT and API_PORT and writes the
# configuration. Settings from the environment: SESSION_THREADS (0),
# PACK (true), FSYNC (true), MASKING (true), PREVIEW_ROWS (20).
gateway_config() {
    PORT=$(free_port)
    API_PORT=$(free_port)
    while [ "$API_PORT" = "$PORT" ]; do API_PORT=$(free_port); done
    cat >"$1" <<EOF
data_dir: $2
listen:
  postgres: 127.0.0.1:$PORT
  api: 127.0.0.1:$API_PORT
postgres:
  session_threads: ${SESSION_THREADS:-0}
policy:
  default_pack: ${PACK:-true}
masking:
  enabled: ${MASKING:-true}
audit:
  fsync: ${FSYNC:-true}
  preview_rows: ${PREVIEW_ROWS:-20}
connections:
  - name: durable
    type: postgres
    target: { host: 127.0.0.1, port: 5432, database: $3, user: postgres, tls: disable }
    allow: ["bench"]
  - name: buffered
    type: postgres
    target: { host: 127.0.0.1, port: 5432, database: $3, user: postgres, tls: disable }
    allow: ["bench"]
    audit: { mode: buffered }
EOF
}

# wait_for_gateway LOG: returns once the gateway ($GW_PID) accepts
# connections on $PORT; if it exits first (or takes over a minute, as
# under valgrind it may), prints LOG and fails.
wait_for_gateway() {
    local _
    for _ in $(seq 600); do
        (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
        kill -0 "$GW_PID" 2>/dev/null || { cat "$1" >&2; return 1; }
        sleep 0.1
    done
    echo "the gateway did not listen on $PORT within a minute" >&2
    cat "$1" >&2
    return 1
}

# bench_token BINARY CONFIG: adds the identity bench and prints a token
# for it.
bench_token() {
    "$1" --config "$2" identity add bench >/dev/null
    "$1" --config "$2" token issue bench
}
