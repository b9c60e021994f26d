#!/usr/bin/env bash
# The crash-consistency storm, long: CYCLES cycles (default 200) of operations, kill -9 of
# clppm at a random moment and a restart, each checked (no resource running twice, no
# orphan, clpstat true to the processes, every acknowledged alert in the store and in
# alert.log). It is the e2e test tests/e2e/storm.rs with more cycles; CI runs 10.
#   benches/storm/run.sh [CYCLES]            CLP_STORM_SEED=N replays a storm
set -euo pipefail
cd "$(dirname "$0")/../.."
cycles=${1:-200}
export CLP_STORM_CYCLES=$cycles
export CLP_FORBID_OS_ACTIONS=1
mkdir -p target
log=target/storm.log                      # the whole output, kept for a failed storm
start=$(date +%s)
rc=0
cargo nextest run -p clp --test e2e --profile storm -E 'test(storm)' --no-capture >"$log" 2>&1 || rc=$?
grep -E '^storm:' "$log" || true
echo "storm: exit $rc after $(( $(date +%s) - start )) s (build included)"
if [ "$rc" -ne 0 ]; then
  grep -A12 'panicked at' "$log" | grep -vE '^ +([0-9]+: | at )' || true
  echo "the whole output: $log"
fi
exit "$rc"
