#!/usr/bin/env bash
# The PostgreSQL roles ticketflow and Temporal log in as, and ticketflow's database
# (idempotent: docker-compose.yml runs it on every `up`, as `postgres-setup`).
#
# - ticketflow's role owns ticketflow's database and nothing else.
# - Temporal's role may create databases: temporal-sql-tool creates `temporal` and
#   `temporal_visibility` itself (temporal-config/setup-postgres-schema.sh), owned by it.
# - Each role's password is set to the one given on every run, so changing it in .env and
#   running `docker compose up -d` again is how it is changed.
#
# It connects as a superuser with the libpq variables (PGHOST, PGPORT, PGUSER, PGPASSWORD,
# PGDATABASE) and reads:
#   TICKETFLOW_DB_USER (ticketflow), TICKETFLOW_DB_NAME (ticketflow), TICKETFLOW_DB_PASSWORD
#   TEMPORAL_DB_USER (temporal), TEMPORAL_DB_PASSWORD
#   POSTGRES_WAIT_SECONDS (120)  how long to wait for the server to answer
# It needs psql 15 or later (for \getenv), as in the postgres:16 image.
set -euo pipefail

: "${TICKETFLOW_DB_PASSWORD:?set TICKETFLOW_DB_PASSWORD}"
: "${TEMPORAL_DB_PASSWORD:?set TEMPORAL_DB_PASSWORD}"
export TICKETFLOW_DB_USER="${TICKETFLOW_DB_USER:-ticketflow}"
export TICKETFLOW_DB_NAME="${TICKETFLOW_DB_NAME:-ticketflow}"
export TEMPORAL_DB_USER="${TEMPORAL_DB_USER:-temporal}"
wait_seconds="${POSTGRES_WAIT_SECONDS:-120}"
server="${PGHOST:-localhost}:${PGPORT:-5432}"

echo "waiting for PostgreSQL at $server ..."
deadline=$((SECONDS + wait_seconds))
until pg_isready --quiet; do
  if ((SECONDS >= deadline)); then
    echo "error: PostgreSQL at $server did not answer within ${wait_seconds}s" >&2
    exit 1
  fi
  sleep 2
done

# Names and passwords reach psql through the environment (\getenv), never a command line;
# :"name" and :'value' quote them as an identifier and a literal.
psql --no-psqlrc --quiet --set ON_ERROR_STOP=1 <<'SQL'
\getenv app_user TICKETFLOW_DB_USER
\getenv app_db TICKETFLOW_DB_NAME
\getenv app_password TICKETFLOW_DB_PASSWORD
\getenv temporal_user TEMPORAL_DB_USER
\getenv temporal_password TEMPORAL_DB_PASSWORD

SELECT format('CREATE ROLE %I', :'app_user')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app_user') \gexec
ALTER ROLE :"app_user" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'app_password';

SELECT format('CREATE ROLE %I', :'temporal_user')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'temporal_user') \gexec
ALTER ROLE :"temporal_user" WITH LOGIN NOSUPERUSER CREATEDB NOCREATEROLE PASSWORD :'temporal_password';

SELECT format('CREATE DATABASE %I OWNER %I', :'app_db', :'app_user')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'app_db') \gexec
ALTER DATABASE :"app_db" OWNER TO :"app_user";
SQL

echo "roles $TICKETFLOW_DB_USER and $TEMPORAL_DB_USER ready; database $TICKETFLOW_DB_NAME owned by $TICKETFLOW_DB_USER"
