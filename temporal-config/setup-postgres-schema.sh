#!/bin/sh
# Temporal's two PostgreSQL databases, created if need be and brought to the schema of the
# temporal-sql-tool running this (idempotent: run it before every start, and after upgrading
# the server). docker-compose.yml runs it as `temporal-schema`, in temporalio/admin-tools of
# the server's version. That image is plain Alpine, without bash: this is POSIX sh.
#
#   docker run --rm -v "$PWD/temporal-config:/temporal-config:ro" \
#     -e POSTGRES_SEEDS=db.example.com -e POSTGRES_USER=temporal -e POSTGRES_PWD=… \
#     --entrypoint /temporal-config/setup-postgres-schema.sh temporalio/admin-tools:1.30.1
#
#   POSTGRES_SEEDS, POSTGRES_USER, POSTGRES_PWD  the server and Temporal's role (required)
#   DB_PORT (5432), DB (postgres12)              as the server image reads them
#   DBNAME (temporal), VISIBILITY_DBNAME (temporal_visibility)
#   SKIP_DB_CREATE=true   the databases exist and the role may not create databases
#   TEMPORAL_WAIT_SECONDS (300)  how long to wait for PostgreSQL to answer
#   SCHEMA_DIR (/etc/temporal/schema/postgresql/v12)  where the image keeps the schema
#
# `setup-schema -v 0.0` only marks an empty database as version 0.0 (it leaves a newer one
# alone); `update-schema` then applies each versioned step the database does not have yet.
set -eu

: "${POSTGRES_SEEDS:?set POSTGRES_SEEDS (the PostgreSQL host)}"
: "${POSTGRES_USER:?set POSTGRES_USER (the role Temporal logs in as)}"
: "${POSTGRES_PWD:?set POSTGRES_PWD}"
port="${DB_PORT:-5432}"
plugin="${DB:-postgres12}"
main_db="${DBNAME:-temporal}"
visibility_db="${VISIBILITY_DBNAME:-temporal_visibility}"
schema_dir="${SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}"
wait_seconds="${TEMPORAL_WAIT_SECONDS:-300}"
# temporal-sql-tool reads the password from here: it stays off the command line.
export SQL_PASSWORD="$POSTGRES_PWD"

sql_tool() {
  temporal-sql-tool --plugin "$plugin" --ep "$POSTGRES_SEEDS" -p "$port" -u "$POSTGRES_USER" "$@"
}

echo "waiting for PostgreSQL at $POSTGRES_SEEDS:$port ..."
waited=0
until nc -z -w 3 "$POSTGRES_SEEDS" "$port" 2>/dev/null; do
  if [ "$waited" -ge "$wait_seconds" ]; then
    echo "error: PostgreSQL at $POSTGRES_SEEDS:$port did not answer within ${wait_seconds}s" >&2
    exit 1
  fi
  sleep 2
  waited=$((waited + 2))
done

# schema DATABASE SUBDIR: create (unless told not to), mark as 0.0 if new, update to the latest.
schema() {
  echo "database $1: schema from $schema_dir/$2/versioned"
  if [ "${SKIP_DB_CREATE:-false}" != true ]; then
    sql_tool --db "$1" create
  fi
  sql_tool --db "$1" setup-schema -v 0.0
  sql_tool --db "$1" update-schema -d "$schema_dir/$2/versioned"
}

schema "$main_db" temporal
schema "$visibility_db" visibility
echo "Temporal's databases $main_db and $visibility_db are at the schema of this release"
