#!/usr/bin/env bash
# keepalived, the peer of the failover benchmark (benches/failover/run.sh). The benchmark
# runs its own keepalived inside the network namespaces it makes, so the system service is
# never used: while apt installs, a policy-rc.d refuses every service start (101), and the
# service is then disabled. Idempotent: nothing is done when keepalived is there.
set -euo pipefail
if command -v keepalived >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-keepalived.sh: keepalived is missing and only root can install it" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# shellcheck source=/dev/null
. "$(dirname "$0")/../../.ci/lib/no-services.sh"
refuse_service_starts "benches/failover"
apt-get update -qq -o DPkg::Lock::Timeout=600
apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends keepalived >/dev/null
if command -v systemctl >/dev/null 2>&1; then
  systemctl disable keepalived >/dev/null 2>&1 || true
fi
command -v keepalived >/dev/null
