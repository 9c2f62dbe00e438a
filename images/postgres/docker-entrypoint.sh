#!/usr/bin/env bash
# Entrypoint of the tk-offline/postgres stand-in, with the official postgres image's interface:
#   POSTGRES_PASSWORD          superuser password (required unless POSTGRES_HOST_AUTH_METHOD=trust)
#   POSTGRES_USER              superuser name, default postgres
#   POSTGRES_DB                database created on first start, default $POSTGRES_USER
#   POSTGRES_INITDB_ARGS       extra initdb arguments
#   POSTGRES_HOST_AUTH_METHOD  pg_hba method for remote hosts, default scram-sha-256
#   VAR_FILE                   read VAR from a file (for the four above but the auth method)
#   /docker-entrypoint-initdb.d/*.sh, *.sql, *.sql.gz  run once, after the first initdb
# First start: initdb in $PGDATA. Then the server runs in the foreground as the postgres user,
# as PID 1, so `docker stop` reaches it directly.
set -Eeuo pipefail

log() { echo "entrypoint: $*" >&2; }

# VAR from $VAR or from the file named by $VAR_FILE (never both), else the default.
file_env() {
  local var=$1 default=${2:-}
  local file_var="${var}_FILE"
  if [ -n "${!var:-}" ] && [ -n "${!file_var:-}" ]; then
    log "error: both $var and $file_var are set; use one"
    exit 1
  fi
  local value=$default
  if [ -n "${!var:-}" ]; then
    value=${!var}
  elif [ -n "${!file_var:-}" ]; then
    value=$(<"${!file_var}")
  fi
  export "$var=$value"
  unset "$file_var"
}

initialise() {
  if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
    log "error: the database is not initialised and POSTGRES_PASSWORD is empty."
    log "  fix: pass -e POSTGRES_PASSWORD=<password> (or POSTGRES_PASSWORD_FILE), or"
    log "       -e POSTGRES_HOST_AUTH_METHOD=trust to allow every connection without a password"
    exit 1
  fi

  local pwfile
  pwfile=$(mktemp)
  # shellcheck disable=SC2064
  trap "rm -f '$pwfile'" EXIT
  local pw_args=()
  if [ -n "$POSTGRES_PASSWORD" ]; then
    printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
    pw_args=(--pwfile="$pwfile")
  fi
  # shellcheck disable=SC2086
  initdb --username="$POSTGRES_USER" "${pw_args[@]}" $POSTGRES_INITDB_ARGS
  rm -f "$pwfile"

  # initdb trusts local sockets and loopback; every other host needs the password.
  printf '\nhost all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >>"$PGDATA/pg_hba.conf"

  # A temporary server on the socket only, for the database and the init scripts.
  pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start
  local psql=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc)
  if [ "$POSTGRES_DB" != postgres ]; then
    "${psql[@]}" --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
  fi
  local f
  for f in /docker-entrypoint-initdb.d/*; do
    # shellcheck disable=SC1090
    case "$f" in
      *.sh) log "running $f"; if [ -x "$f" ]; then "$f"; else . "$f"; fi ;;
      *.sql) log "running $f"; "${psql[@]}" --dbname "$POSTGRES_DB" -f "$f" ;;
      *.sql.gz) log "running $f"; gunzip -c "$f" | "${psql[@]}" --dbname "$POSTGRES_DB" ;;
      */\*) ;;
      *) log "ignoring $f" ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop
  log "PostgreSQL init process complete; ready for start up."
}

if [ "${1:0:1}" = '-' ]; then
  set -- postgres "$@"
fi

if [ "$1" = postgres ] && [ "$(id -u)" = 0 ]; then
  # As root: make the data and socket dirs the postgres user's, then step down to it.
  mkdir -p "$PGDATA" /var/run/postgresql
  chown postgres:postgres "$PGDATA"
  chmod 700 "$PGDATA"
  chown postgres:postgres /var/run/postgresql
  chmod 3777 /var/run/postgresql
  exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
fi

if [ "$1" = postgres ]; then
  file_env POSTGRES_PASSWORD
  file_env POSTGRES_USER postgres
  file_env POSTGRES_DB "$POSTGRES_USER"
  file_env POSTGRES_INITDB_ARGS
  : "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    initialise
  fi
  # The password has done its job; keep it out of the server's environment.
  unset POSTGRES_PASSWORD
fi

exec "$@"
