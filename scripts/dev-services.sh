#!/usr/bin/env bash
# Starts the local PostgreSQL and MariaDB the test suite talks to (127.0.0.1:5432, trust auth;
# 127.0.0.1:3306, root with an empty password), when they are installed and not running yet.
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

if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start
fi
wait_for PostgreSQL pg_isready -h 127.0.0.1 -p 5432 -q

if ! mysqladmin -uroot -h127.0.0.1 ping >/dev/null 2>&1; then
  if [ ! -x /usr/sbin/mariadbd ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server >/dev/null
  fi
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
fi
wait_for MariaDB mysqladmin -uroot -h127.0.0.1 ping
