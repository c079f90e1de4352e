#!/usr/bin/env bash
# Brings up PostgreSQL on loopback for the integration tests and prints the variable the tests
# read. Safe to run repeatedly: every step checks before it acts. Runs as root on a fresh Debian
# machine (no systemd, so the cluster is started with pg_ctlcluster instead of through a unit).
set -euo pipefail

TIMEOUT="${KETENMESH_INFRA_TIMEOUT:-90}"
ROLE="${KETENMESH_POSTGRES_USER:-ketenmesh}"
ROLE_PASSWORD="${KETENMESH_POSTGRES_PASSWORD:-ketenmesh}"

log() { echo "start-postgres: $*" >&2; }
fail() { log "ERROR: $*"; exit 1; }

if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! command -v psql >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || fail "postgresql is not installed and installing it needs root"
  log "installing postgresql (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2 || fail "apt-get install postgresql failed"
fi

# Whichever major version Debian ships; its postinst normally creates the "main" cluster.
cluster="$(pg_lsclusters -h 2>/dev/null | awk 'NR==1 {print $1" "$2}')"
if [ -z "$cluster" ]; then
  version="$(ls /usr/lib/postgresql | sort -V | tail -n1)"
  [ -n "$version" ] || fail "no PostgreSQL server binaries under /usr/lib/postgresql"
  log "creating cluster $version main"
  pg_createcluster "$version" main >&2
  cluster="$version main"
fi
read -r version name <<<"$cluster"
port="$(pg_lsclusters -h | awk -v v="$version" -v n="$name" '$1==v && $2==n {print $3}')"

# Debian's default listen_addresses is 'localhost'; the tests rely on that, so say it explicitly.
# Test projects run in parallel, each service with its own connection pool: 100 connections is too few.
conf="/etc/postgresql/$version/$name/conf.d/ketenmesh-loopback.conf"
wanted="listen_addresses = 'localhost'
max_connections = 400"
changed=0
if [ "$(cat "$conf" 2>/dev/null)" != "$wanted" ]; then
  echo "$wanted" > "$conf"
  changed=1
fi

if pg_lsclusters -h | awk -v v="$version" -v n="$name" '$1==v && $2==n {print $4}' | grep -q online; then
  if [ "$changed" = 1 ]; then
    log "restarting cluster $version/$name to apply $conf"
    pg_ctlcluster "$version" "$name" restart >&2 || fail "pg_ctlcluster restart failed (see /var/log/postgresql/)"
  else
    log "cluster $version/$name already running on port $port"
  fi
else
  log "starting cluster $version/$name on port $port"
  pg_ctlcluster "$version" "$name" start >&2 || fail "pg_ctlcluster start failed (see /var/log/postgresql/)"
fi

deadline=$((SECONDS + TIMEOUT))
until pg_isready -q -h 127.0.0.1 -p "$port"; do
  [ "$SECONDS" -lt "$deadline" ] || fail "PostgreSQL did not accept connections on 127.0.0.1:$port within ${TIMEOUT}s"
  sleep 1
done

as_postgres() { (cd / && runuser -u postgres -- "$@"); }
# Tests create and drop one database each, hence CREATEDB; the role gets a database of its own name
# so a connection string without Database= works too.
as_postgres psql -p "$port" -v ON_ERROR_STOP=1 -q -d postgres >&2 <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$ROLE') THEN
    CREATE ROLE "$ROLE" LOGIN CREATEDB PASSWORD '$ROLE_PASSWORD';
  ELSE
    ALTER ROLE "$ROLE" LOGIN CREATEDB PASSWORD '$ROLE_PASSWORD';
  END IF;
END
\$\$;
SQL
if ! as_postgres psql -p "$port" -tAq -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$ROLE'" | grep -q 1; then
  as_postgres createdb -p "$port" -O "$ROLE" "$ROLE" >&2
fi

echo "export KETENMESH_TEST_POSTGRES='Host=127.0.0.1;Port=$port;Username=$ROLE;Password=$ROLE_PASSWORD'"
