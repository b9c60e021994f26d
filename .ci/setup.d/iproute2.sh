#!/usr/bin/env bash
# iproute2 (`ip`): the ipw and miiw tests make network namespaces and veth pairs with it.
# Idempotent; does nothing when `ip` is there.
set -euo pipefail
for candidate in ip /usr/sbin/ip /sbin/ip; do
  if command -v "$candidate" >/dev/null 2>&1; then
    exit 0
  fi
done
if [ "$(id -u)" -ne 0 ]; then
  echo "iproute2.sh: 'ip' is missing and only root can install it; the netns tests will skip" >&2
  exit 0
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends iproute2
