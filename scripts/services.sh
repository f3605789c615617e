#!/usr/bin/env bash
# Throwaway PostgreSQL and Redis servers for tests (Debian packages, no input needed).
#
#   scripts/services.sh start   install postgresql/redis-server if missing (apt-get), start a
#                               PostgreSQL cluster (initdb in a temp dir, as `postgres`, free
#                               port on 127.0.0.1, --no-sync) with database lumi_test owned by
#                               a password user, and a Redis server (free port, no persistence);
#                               write var/services.env:
#                                 TEST_DATABASE_URL=postgresql+psycopg2://lumi:...@127.0.0.1:P/lumi_test
#                                 TEST_REDIS_URL=redis://127.0.0.1:P/0
#   scripts/services.sh stop    stop both, remove the temp dir, var/services.env and the state
#   scripts/services.sh env     print `export ...` lines (eval "$(scripts/services.sh env)")
#   scripts/services.sh status  say whether they run (exit 0 if both do)
#
# Idempotent: `start` when running only rewrites the env file; `stop` when stopped does nothing.
# Use: bash scripts/services.sh start && set -a && . var/services.env && set +a
# Runs as root (apt-get, runuser); var/ is LUMI_VAR_DIR if set.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VAR_DIR="${LUMI_VAR_DIR:-$ROOT/var}"
ENV_FILE="$VAR_DIR/services.env"
STATE_FILE="$VAR_DIR/services.state"
PG_USER=lumi
PG_DB=lumi_test

log() { echo "services: $*" >&2; }
die() { log "error: $*"; exit 1; }

need_root() {
    [ "$(id -u)" -eq 0 ] || die "run as root (apt-get and runuser are needed)"
}

pg_bindir() {
    local dir
    if command -v pg_config >/dev/null 2>&1; then
        dir="$(pg_config --bindir 2>/dev/null || true)"
        if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
            echo "$dir"
            return 0
        fi
    fi
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5 -n -r); do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}

install_missing() {
    local packages=()
    pg_bindir >/dev/null || packages+=(postgresql)
    command -v redis-server >/dev/null 2>&1 || packages+=(redis-server)
    command -v redis-cli >/dev/null 2>&1 || packages+=(redis-tools)
    [ "${#packages[@]}" -eq 0 ] && return 0
    log "installing ${packages[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null 2>&1; then
        apt-get update -qq >/dev/null
        apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
    fi
    pg_bindir >/dev/null || die "PostgreSQL installed but initdb not found"
    command -v redis-server >/dev/null 2>&1 || die "redis-server not found after install"
}

ensure_postgres_user() {
    id -u postgres >/dev/null 2>&1 && return 0
    useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
}

# A TCP port on 127.0.0.1 that nothing listens on.
free_port() {
    local port _
    for _ in $(seq 1 500); do
        port=$(((RANDOM % 20000) + 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    return 1
}

as_postgres() { (cd / && runuser -u postgres -- "$@"); }

load_state() {
    [ -f "$STATE_FILE" ] || return 1
    # shellcheck disable=SC1090
    . "$STATE_FILE"
    [ -n "${TMP_DIR:-}" ] && [ -n "${PG_PORT:-}" ] && [ -n "${REDIS_PORT:-}" ]
}

pg_running() {
    [ -n "${PG_BIN:-}" ] && [ -f "$TMP_DIR/pg/PG_VERSION" ] &&
        as_postgres "$PG_BIN/pg_ctl" -D "$TMP_DIR/pg" status >/dev/null 2>&1
}

redis_running() {
    [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null || true)" = "PONG" ]
}

running() { load_state && pg_running && redis_running; }

write_env() {
    mkdir -p "$VAR_DIR"
    umask 077
    cat >"$ENV_FILE" <<EOF
# Written by scripts/services.sh start ($(date -u +%Y-%m-%dT%H:%M:%SZ)); removed by stop.
TEST_DATABASE_URL=postgresql+psycopg2://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB
TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
EOF
}

stop_all() {
    if load_state; then
        if [ -n "${PG_BIN:-}" ] && [ -f "$TMP_DIR/pg/PG_VERSION" ]; then
            as_postgres "$PG_BIN/pg_ctl" -D "$TMP_DIR/pg" -m fast -w -t 20 stop >/dev/null 2>&1 || true
        fi
        if redis_running; then
            redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
        fi
        if [ -f "$TMP_DIR/redis/redis.pid" ]; then
            local pid
            pid="$(cat "$TMP_DIR/redis/redis.pid" 2>/dev/null || true)"
            if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill "$pid" 2>/dev/null || true; fi
        fi
        case "$TMP_DIR" in
        /tmp/lumi-services.*) rm -rf "$TMP_DIR" ;;
        esac
    fi
    rm -f "$STATE_FILE" "$ENV_FILE"
}

start() {
    need_root
    if running; then
        write_env
        log "already running (PostgreSQL on $PG_PORT, Redis on $REDIS_PORT); $ENV_FILE rewritten"
        return 0
    fi
    stop_all # remnants of a half-dead start
    install_missing
    ensure_postgres_user
    PG_BIN="$(pg_bindir)"
    TMP_DIR="$(mktemp -d /tmp/lumi-services.XXXXXX)"
    chmod 755 "$TMP_DIR"
    mkdir -p "$TMP_DIR/pg" "$TMP_DIR/pgrun" "$TMP_DIR/redis"
    chown postgres:postgres "$TMP_DIR/pg" "$TMP_DIR/pgrun"
    chmod 700 "$TMP_DIR/pg"
    PG_PASSWORD="$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24)"
    PG_PORT="$(free_port)" || die "no free port"
    REDIS_PORT=""
    mkdir -p "$VAR_DIR"
    cat >"$STATE_FILE" <<EOF
TMP_DIR='$TMP_DIR'
PG_BIN='$PG_BIN'
PG_PORT='$PG_PORT'
PG_PASSWORD='$PG_PASSWORD'
REDIS_PORT='0'
EOF
    chmod 600 "$STATE_FILE"
    trap 'log "start failed; cleaning up"; stop_all' EXIT

    as_postgres "$PG_BIN/initdb" -D "$TMP_DIR/pg" -U postgres --auth-local=trust \
        --auth-host=scram-sha-256 --no-sync -E UTF8 --no-locale >"$TMP_DIR/initdb.log" 2>&1
    as_postgres "$PG_BIN/pg_ctl" -D "$TMP_DIR/pg" -l "$TMP_DIR/pgrun/postgresql.log" \
        -o "-p $PG_PORT -k $TMP_DIR/pgrun -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off" \
        -w -t 30 start >/dev/null
    as_postgres "$PG_BIN/psql" -h "$TMP_DIR/pgrun" -p "$PG_PORT" -U postgres -d postgres -q \
        -v ON_ERROR_STOP=1 \
        -c "CREATE ROLE $PG_USER LOGIN PASSWORD '$PG_PASSWORD'" \
        -c "CREATE DATABASE $PG_DB OWNER $PG_USER" >/dev/null

    REDIS_PORT="$(free_port)" || die "no free port"
    sed -i "s/^REDIS_PORT=.*/REDIS_PORT='$REDIS_PORT'/" "$STATE_FILE"
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --save "" \
        --appendonly no --dir "$TMP_DIR/redis" --pidfile "$TMP_DIR/redis/redis.pid" \
        --logfile "$TMP_DIR/redis/redis.log"
    local _
    for _ in $(seq 1 50); do
        redis_running && break
        sleep 0.1
    done
    redis_running || die "Redis did not answer on port $REDIS_PORT"
    trap - EXIT

    write_env
    log "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT" \
        "(database $PG_DB), Redis on 127.0.0.1:$REDIS_PORT; URLs in $ENV_FILE"
}

stop() {
    if [ ! -f "$STATE_FILE" ] && [ ! -f "$ENV_FILE" ]; then
        log "not running"
        return 0
    fi
    need_root
    stop_all
    log "stopped"
}

print_env() {
    running || die "not running (scripts/services.sh start)"
    write_env
    sed -n 's/^\(TEST_[A-Z_]*=.*\)$/export \1/p' "$ENV_FILE"
}

status() {
    if running; then
        log "running: PostgreSQL on 127.0.0.1:$PG_PORT, Redis on 127.0.0.1:$REDIS_PORT"
        return 0
    fi
    log "not running"
    return 1
}

case "${1:-}" in
start) start ;;
stop) stop ;;
env) print_env ;;
status) status ;;
*)
    echo "usage: $0 start|stop|env|status" >&2
    exit 2
    ;;
esac
