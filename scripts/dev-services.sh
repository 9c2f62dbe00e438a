#!/usr/bin/env bash
# Starts the local PostgreSQL and MariaDB the test suite talks to, installing them when missing:
#   PostgreSQL on 127.0.0.1:5432, user postgres, trust authentication on loopback;
#   MariaDB on 127.0.0.1:3306, root with an empty password, and a `test` database.
# Safe to run again: servers that already answer are left as they are. Needs root (apt, pg_hba).
set -euo pipefail

wait_for() {
  local what=$1; shift
  for _ in $(seq 1 60); do
    if "$@" >/dev/null 2>&1; then echo "$what is up"; return 0; fi
    sleep 1
  done
  echo "$what did not come up within 60 s" >&2
  return 1
}

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# --- PostgreSQL -------------------------------------------------------------------------------
# Debian's cluster asks for a password (scram) on 127.0.0.1; the tests connect as postgres with
# none, so loopback TCP is switched to trust. Only loopback: the server listens on localhost.
if ! command -v pg_ctlcluster >/dev/null 2>&1; then apt_install postgresql; fi
pg_version=$(ls /etc/postgresql | sort -V | tail -n 1)
hba=/etc/postgresql/$pg_version/main/pg_hba.conf
if ! grep -Eq '^host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba"; then
  tmp=$(mktemp)
  {
    echo '# Added by scripts/dev-services.sh: the test suite connects over loopback without a password.'
    echo 'host    all    all    127.0.0.1/32    trust'
    echo 'host    all    all    ::1/128         trust'
    cat "$hba"
  } >"$tmp"
  cat "$tmp" >"$hba" && rm -f "$tmp"
  echo "PostgreSQL: loopback connections now use trust ($hba)"
  pg_hba_changed=1
fi
if pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  if [ "${pg_hba_changed:-0}" = 1 ]; then pg_ctlcluster --skip-systemctl-redirect "$pg_version" main reload; fi
else
  pg_ctlcluster --skip-systemctl-redirect "$pg_version" main start
fi
wait_for PostgreSQL pg_isready -h 127.0.0.1 -p 5432 -q
psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'select 1' >/dev/null \
  || { echo "PostgreSQL answers but refuses postgres without a password on 127.0.0.1: check $hba" >&2; exit 1; }

# --- MariaDB ----------------------------------------------------------------------------------
# mariadbd refuses to run as root, and Debian's root account logs in only over the Unix socket:
# run the server as mysql and give root an empty password for TCP too (socket login still works).
if ! mysqladmin -uroot -h127.0.0.1 ping >/dev/null 2>&1; then
  if [ ! -x /usr/sbin/mariadbd ]; then apt_install mariadb-server mariadb-client; fi
  if [ ! -d /var/lib/mysql/mysql ]; then
    mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
  fi
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
  if ! mysqladmin -uroot --protocol=socket ping >/dev/null 2>&1; then
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
  fi
  wait_for 'MariaDB (socket)' mysqladmin -uroot --protocol=socket ping
  mariadb -uroot --protocol=socket <<'SQL'
ALTER USER root@localhost IDENTIFIED VIA mysql_native_password USING PASSWORD('') OR unix_socket;
FLUSH PRIVILEGES;
SQL
fi
wait_for MariaDB mysqladmin -uroot -h127.0.0.1 ping
mariadb -uroot -h127.0.0.1 -e 'CREATE DATABASE IF NOT EXISTS test'
