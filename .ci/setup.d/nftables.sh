#!/usr/bin/env bash
# nftables (`nft`): the HA test bed cuts a host off silently (the link stays up, nothing
# passes) with a drop table inside the host's namespace (tests/e2e/ha_bed/faults.rs). The
# system service is never used. Idempotent; does nothing when `nft` is there.
set -euo pipefail
for candidate in nft /usr/sbin/nft /sbin/nft; do
  if command -v "$candidate" >/dev/null 2>&1; then
    exit 0
  fi
done
if [ "$(id -u)" -ne 0 ]; then
  echo "nftables.sh: 'nft' is missing and only root can install it; the partition scenarios will skip" >&2
  exit 0
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nftables >/dev/null
if command -v systemctl >/dev/null 2>&1; then
  systemctl disable nftables >/dev/null 2>&1 || true
fi
