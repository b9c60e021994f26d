#!/usr/bin/env bash
# PostgreSQL from Debian's packages for the psqlw end-to-end tests. The tests run initdb into
# a temporary folder and start their own postgres on a free loopback port (as the postgres
# user when run as root), so no cluster is created and the system service is never used:
# postgresql-common goes in first and is told not to create the "main" cluster. Idempotent.
set -euo pipefail
if compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null \
  && compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends postgresql-common
sed -i 's/^#\?\s*create_main_cluster\s*=.*/create_main_cluster = false/' \
  /etc/postgresql-common/createcluster.conf
apt-get install -y -qq --no-install-recommends postgresql
