#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster for the tests and export PARKMON_TEST_PG_URL.
# Source it: `source .ci/postgres.sh` (stop it with `pg_stop_throwaway`). Uses the machine's
# PostgreSQL binaries; installs Debian's postgresql package first if they are missing.
# initdb and pg_ctl refuse to run as root, so they run as the postgres user; the server listens
# only on a unix socket inside its temporary folder (no TCP port at all).

pg_bin_dir() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  return 1
}

if ! PGBIN=$(pg_bin_dir); then
  echo "postgres.sh: no PostgreSQL server binaries; installing Debian's postgresql" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq postgresql >/dev/null
  PGBIN=$(pg_bin_dir) || { echo "postgres.sh: PostgreSQL install failed" >&2; return 1; }
fi

# PostGIS for the spatial columns (Debian's package for this server's major version).
PG_MAJOR=$("$PGBIN/postgres" --version | sed -E 's/[^0-9]*([0-9]+).*/\1/')
if [ ! -f "/usr/share/postgresql/$PG_MAJOR/extension/postgis.control" ]; then
  echo "postgres.sh: installing Debian's postgresql-$PG_MAJOR-postgis-3" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq "postgresql-$PG_MAJOR-postgis-3" >/dev/null \
    || { echo "postgres.sh: PostGIS install failed" >&2; return 1; }
fi

PG_TMP=$(mktemp -d -t parkmon-pg.XXXXXX)
as_pg=()
if [ "$(id -u)" = "0" ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  chown postgres "$PG_TMP"
  as_pg=(runuser -u postgres --)
fi
"${as_pg[@]}" "$PGBIN/initdb" -D "$PG_TMP/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 \
  --no-sync >"$PG_TMP/initdb.log" 2>&1 || { cat "$PG_TMP/initdb.log" >&2; return 1; }
"${as_pg[@]}" "$PGBIN/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/server.log" -w -t 60 \
  -o "-k $PG_TMP -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  start >/dev/null || { cat "$PG_TMP/server.log" >&2; return 1; }
"${as_pg[@]}" "$PGBIN/createdb" -h "$PG_TMP" -U postgres parkmon_test
# parkmon_test has PostGIS (the tests' main database); parkmon_plain is PostgreSQL without it.
"${as_pg[@]}" "$PGBIN/psql" -q -h "$PG_TMP" -U postgres -d parkmon_test \
  -c "CREATE EXTENSION IF NOT EXISTS postgis" >/dev/null
"${as_pg[@]}" "$PGBIN/createdb" -h "$PG_TMP" -U postgres parkmon_plain

pg_stop_throwaway() {
  "${as_pg[@]}" "$PGBIN/pg_ctl" -D "$PG_TMP/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_TMP"
}

export PARKMON_TEST_PG_URL="postgresql+psycopg://postgres@/parkmon_test?host=$PG_TMP"
echo "postgres.sh: PostgreSQL ($("$PGBIN/postgres" --version)) on socket $PG_TMP" >&2
