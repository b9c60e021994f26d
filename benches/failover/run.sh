#!/usr/bin/env bash
# HA failover time, clp beside keepalived, on the same network namespaces.
#
#   benches/failover/run.sh [TRIALS]        (default 30 trials per fault and system)
#
# One bed of the HA tests (tests/e2e/ha_bed.rs): two servers and a witness as network
# namespaces on a bridge, an etcd member on each, a client namespace asking the service
# through the floating address 192.0.2.100 every 10 ms. On whichever server serves, each
# trial injects one fault and times the fault to the client's first answer from the other
# server; the fault is held 1 s more, healed, and the pair settles again (the daemons back,
# one holder, 2 s stable) before the next trial. Faults: kill -9 of the daemon, the daemon
# hung (SIGSTOP), its link cut, a silent partition (nft drops everything), the service
# killed (the monitor must notice). First clp (clppm, its defaults), then keepalived (VRRP
# moving the same address, the service following its state by notify scripts). The
# journal's checker counts the times the service ran on both servers at once, and a sampler
# of each host's addresses the times both held the address. The settings of both are
# printed with the table. Takes about TRIALS x 5 faults x 2 systems x 9 s (30: ~45 min).
#
# Runs as root on Debian 12 (it makes namespaces); installs keepalived, etcd and nft itself.
# Everything it starts runs inside the namespaces it makes and is stopped by pid; the
# namespaces and the bridge are removed when it ends, even when it fails.
#
# Environment knobs:
#   FAULTS=kill9,hang,link,partition,monitor   which faults, in this order
#   SYSTEMS=clp,keepalived                     which systems
#   PROFILE=release|dev                        the cargo profile of clp's binaries (release)
set -euo pipefail

TRIALS=${1:-30}
[[ $TRIALS =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [TRIALS]" >&2; exit 2; }
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$HERE/../.." && pwd -P)
cd "$REPO"
[[ $(id -u) == 0 ]] || { echo "$0: run as root (it makes network namespaces)" >&2; exit 1; }

bash "$HERE/install-keepalived.sh"
bash .ci/setup.d/etcd.sh
bash .ci/setup.d/nftables.sh
bash .ci/setup.d/iproute2.sh >/dev/null

mkdir -p bench-out
OUT=$(mktemp -d bench-out/failover.XXXXXX)
PROFILE=${PROFILE:-release}
profile_flag=()
[[ $PROFILE == release ]] && profile_flag=(--release)

export CLP_FORBID_OS_ACTIONS=1
export CLP_BENCH_TRIALS=$TRIALS
export CLP_BENCH_OUT=$PWD/$OUT/table.md
[[ -v FAULTS ]] && export CLP_BENCH_FAULTS=$FAULTS
[[ -v SYSTEMS ]] && export CLP_BENCH_SYSTEMS=$SYSTEMS

{
    echo "clp $(git rev-parse --short HEAD) ($PROFILE build), $(keepalived --version 2>&1 | head -1), etcd $(etcd --version | head -1 | awk '{print $3}')"
    echo "$(nproc) CPUs, load average at the start: $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%Y-%m-%d %H:%M UTC')"
} | tee "$OUT/machine.txt"
cargo test "${profile_flag[@]}" -p clp --test e2e -- --ignored --exact \
    ha_bench::failover_benchmark_clp_beside_keepalived --nocapture 2>&1 \
    | grep -v -E '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]+ [A-Z] \|' | tee "$OUT/run.log"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/machine.txt"
echo
cat "$OUT/machine.txt" "$OUT/table.md"
echo "(all of it in $OUT)"
