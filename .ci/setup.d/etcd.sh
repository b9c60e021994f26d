#!/usr/bin/env bash
# etcd for the HA cluster (cluster/, tests/e2e/ha_*.rs), and protoc for the build of the
# etcd-client crate (its protos import google/protobuf/*.proto, which come with
# libprotobuf-dev). The tests run their own etcd members inside network namespaces they make,
# so the system service is never used: while apt installs, a policy-rc.d refuses every service
# start (101), and the service is then disabled. Idempotent: nothing is done when all are there.
set -euo pipefail
have_all() {
  command -v etcd >/dev/null 2>&1 && command -v protoc >/dev/null 2>&1 \
    && [ -e /usr/include/google/protobuf/descriptor.proto ]
}
if have_all; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "etcd.sh: etcd or protoc is missing and only root can install them" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive

# shellcheck source=/dev/null
. "$(dirname "$0")/../lib/no-services.sh"
refuse_service_starts ".ci/setup.d/etcd.sh"

apt-get update -qq
apt-get install -y -qq --no-install-recommends etcd-server protobuf-compiler libprotobuf-dev >/dev/null
if command -v systemctl >/dev/null 2>&1; then
  systemctl disable etcd >/dev/null 2>&1 || true
fi
have_all
