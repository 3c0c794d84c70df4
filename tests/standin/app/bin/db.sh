#!/bin/bash
# harbor-db stand-in: PostgreSQL 15 with its data in /var/lib/postgresql/data
# (data_volume/database, uid 999). The first start creates the cluster with
# POSTGRES_PASSWORD and the "registry" database, as Harbor's image does.
set -euo pipefail
PGBIN=/usr/lib/postgresql/15/bin
export PGDATA=${PGDATA:-/var/lib/postgresql/data/pg15}
if [ "${1:-}" = healthcheck ]; then
  exec "$PGBIN/pg_isready" -q -h 127.0.0.1 -p 5432 -U postgres
fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  mkdir -p "$PGDATA"
  chmod 700 "$PGDATA"
  pwfile=$(mktemp)
  printf '%s\n' "${POSTGRES_PASSWORD:-root123}" >"$pwfile"
  "$PGBIN/initdb" -D "$PGDATA" -U postgres -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 --pwfile="$pwfile"
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  "$PGBIN/pg_ctl" -D "$PGDATA" -o "-c listen_addresses='' -c unix_socket_directories=/tmp" -w start
  "$PGBIN/psql" -h /tmp -U postgres -v ON_ERROR_STOP=1 -q -c "CREATE DATABASE registry ENCODING 'UTF8'"
  "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop
fi
exec "$PGBIN/postgres" -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/tmp \
  -c jit=off -c max_connections="${POSTGRES_MAX_CONNECTIONS:-1024}" -c shared_buffers=32MB
