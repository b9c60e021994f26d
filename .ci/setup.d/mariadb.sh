#!/usr/bin/env bash
# MariaDB from Debian's packages for the mysqlw end-to-end tests. The tests run
# mariadb-install-db into a temporary folder and start their own mariadbd on a free loopback
# port, so the system service is never used: a policy-rc.d that refuses every start keeps
# the package's scripts from starting it during the install. Idempotent.
set -euo pipefail
if command -v mariadbd >/dev/null && command -v mariadb-install-db >/dev/null \
  && command -v mariadb >/dev/null; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
own_policy=
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# clp .ci/setup.d/mariadb.sh: no service starts while it installs\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  own_policy=1
fi
cleanup() {
  if [ -n "$own_policy" ]; then
    rm -f "$policy"
  fi
}
trap cleanup EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends mariadb-server mariadb-client
# Should a server have started all the same (no policy-rc.d honoured), stop the one the
# package started: the system's, found by its pid file, never a test's.
for pidfile in /run/mysqld/mysqld.pid /var/run/mysqld/mysqld.pid; do
  if [ -s "$pidfile" ]; then
    pid=$(cat "$pidfile")
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill "$pid" || true
    fi
  fi
done
