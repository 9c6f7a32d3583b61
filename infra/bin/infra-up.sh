#!/usr/bin/env bash
# Starts the local infrastructure without Docker: an Apache Kafka broker (KRaft, from Maven
# jars) and a PostgreSQL database on the machine's own server. Idempotent: run it as often as
# you like; it only does what is missing and says what it found.
#
#   infra/bin/infra-up.sh              single broker on 127.0.0.1:9092 + postgres
#   infra/bin/infra-up.sh --cluster    3-node cluster on 127.0.0.1:19092-19094 + postgres
#   infra/bin/infra-up.sh --all        both of the above
#   infra/bin/infra-up.sh --no-postgres / --no-kafka
#
# Environment: KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093), KAFKA_HEAP_OPTS
# (-Xms256m -Xmx512m), KAFKA_CLUSTER_HEAP_OPTS (-Xms384m -Xmx384m), KAFKA_CLUSTER=3 (= --cluster),
# KAFKA_READY_TIMEOUT (90 s), DATABASE_URL (postgres://postgres@127.0.0.1:5432/nestream),
# EXTRA_DATABASES (space separated, e.g. "nestream_test").
set -euo pipefail

# shellcheck source=infra/bin/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; }

want_single=1 want_cluster=0 want_kafka=1 want_pg=1
[[ "${KAFKA_CLUSTER:-}" == 3 ]] && want_single=0 want_cluster=1
for arg in "$@"; do
  case "$arg" in
    --cluster) want_single=0 want_cluster=1 ;;
    --all) want_single=1 want_cluster=1 ;;
    --no-postgres) want_pg=0 ;;
    --no-kafka) want_kafka=0 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $arg" ;;
  esac
done

# ---------------------------------------------------------------- kafka

kafka_up() {
  local deadline name
  local -a nodes=()
  ((want_single)) && nodes+=(single)
  ((want_cluster)) && nodes+=("${CLUSTER_NODES[@]}")

  require_java
  ensure_jars
  # Launch everything first: cluster controllers need a quorum before any broker can answer.
  for name in "${nodes[@]}"; do
    start_node "$name"
  done
  deadline=$((SECONDS + ${KAFKA_READY_TIMEOUT:-90}))
  for name in "${nodes[@]}"; do
    wait_ready "$name" "$deadline"
  done
}

# ---------------------------------------------------------------- postgres

urldecode() { local s="${1//+/ }"; printf '%b' "${s//%/\\x}"; }

# Splits DATABASE_URL into PG_USER PG_PASSWORD PG_HOST PG_PORT PG_DB.
parse_database_url() {
  local url="$1"
  local re='^postgres(ql)?://(([^:@/]*)(:([^@/]*))?@)?(\[[^]]*\]|[^:/?]*)(:([0-9]+))?/([^?]+)'
  [[ "$url" =~ $re ]] || die "DATABASE_URL is not postgres://user[:password]@host[:port]/database: $url"
  PG_USER="$(urldecode "${BASH_REMATCH[3]:-postgres}")"
  PG_PASSWORD="$(urldecode "${BASH_REMATCH[5]:-}")"
  PG_HOST="${BASH_REMATCH[6]:-127.0.0.1}"
  PG_HOST="${PG_HOST#[}" PG_HOST="${PG_HOST%]}"
  PG_PORT="${BASH_REMATCH[8]:-5432}"
  PG_DB="$(urldecode "${BASH_REMATCH[9]}")"
}

pg_ready() { pg_isready -q -t 3 -h "$PG_HOST" -p "$PG_PORT" >/dev/null 2>&1; }

# psql against the maintenance database; the target name travels as a psql variable and is
# quoted by the server (%I / :'name'), so any database name is safe.
pg_admin() {
  PGPASSWORD="$PG_PASSWORD" psql -X -q -t -A -v ON_ERROR_STOP=1 \
    -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres "$@"
}

ensure_database() {
  local db="$1" exists
  exists="$(pg_admin -v dbname="$db" <<<"SELECT count(*) FROM pg_database WHERE datname = :'dbname';")" ||
    die "postgres: cannot query pg_database on $PG_HOST:$PG_PORT as $PG_USER"
  if [[ "$exists" == 1 ]]; then
    log "postgres: database $db already exists"
    return 0
  fi
  pg_admin -v dbname="$db" <<<"SELECT format('CREATE DATABASE %I', :'dbname') \\gexec" ||
    die "postgres: could not create database $db"
  log "postgres: database $db created"
}

postgres_up() {
  local version i db
  local -a extra=()
  if ! command -v pg_isready >/dev/null 2>&1 || ! command -v psql >/dev/null 2>&1; then
    die "pg_isready/psql not found on PATH (apt-get install postgresql-client)"
  fi
  parse_database_url "${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/nestream}"

  if pg_ready; then
    log "postgres: accepting connections on $PG_HOST:$PG_PORT"
  else
    case "$PG_HOST" in
      127.0.0.1 | localhost | ::1) ;;
      *) die "postgres: nothing answers on $PG_HOST:$PG_PORT and it is not a local host this script can start" ;;
    esac
    [[ -d /etc/postgresql ]] || die "postgres: nothing answers on $PG_HOST:$PG_PORT and no local cluster exists (/etc/postgresql missing)"
    # Newest installed major version; the cluster is Debian's default "main".
    version="$(find /etc/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n1)"
    # 9>&- : the postmaster daemonizes and must not inherit our lock.
    pg_ctlcluster --skip-systemctl-redirect "$version" main start 9>&- ||
      die "postgres: pg_ctlcluster $version main start failed"
    for i in $(seq 30); do
      pg_ready && break
      ((i < 30)) || die "postgres: started cluster $version/main but $PG_HOST:$PG_PORT did not accept connections within 30s"
      sleep 1
    done
    log "postgres: started cluster $version/main, accepting connections on $PG_HOST:$PG_PORT"
  fi

  read -r -a extra <<<"${EXTRA_DATABASES:-}"
  for db in "$PG_DB" "${extra[@]}"; do
    ensure_database "$db"
  done
}

# ---------------------------------------------------------------- main

take_lock
((want_kafka)) && kafka_up
((want_pg)) && postgres_up
log "infra-up: done in ${SECONDS}s"
