#!/usr/bin/env bash
# Where a restart's time goes: run.sh under a recording of the scheduler's process events on
# the supervisors' CPU, then the three phases of each restart (phases.py).
#
#   benches/restart_latency/phases.sh [KILLS]     (default 30; the same knobs as run.sh)
#
# Needs perf and the tracefs (mounted here if it is not). The recording starts DELAY seconds
# (default 9) after run.sh, when the first supervisor's victim is up, and lasts KILLS x 2 + 4
# seconds: with one supervisor in SUPERVISORS it covers that supervisor's kills. Only the
# scheduler's process events are recorded (no samples, no system calls): the overhead is a
# few microseconds per restart.
set -euo pipefail

KILLS=${1:-30}
[[ $KILLS =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [KILLS]" >&2; exit 2; }
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
command -v perf >/dev/null || { echo "phases.sh needs perf (linux-perf)" >&2; exit 2; }
[[ -e /sys/kernel/tracing/events ]] || mount -t tracefs nodev /sys/kernel/tracing
CPU=1
(( $(nproc) >= 2 )) || CPU=0
OUT=$(mktemp -d "${TMPDIR:-/tmp}/phases.XXXXXX")

"$HERE/run.sh" "$KILLS" >"$OUT/run.log" 2>&1 &
bench=$!
trap 'kill "$bench" 2>/dev/null || true' EXIT
sleep "${DELAY:-9}"
perf record -q -C "$CPU" -o "$OUT/perf.data" \
    -e sched:sched_process_exit,sched:sched_process_fork,sched:sched_process_exec \
    -- sleep $((KILLS * 2 + 4)) >/dev/null 2>&1
wait "$bench" || echo "run.sh failed: see $OUT/run.log" >&2
trap - EXIT
perf script -i "$OUT/perf.data" -F comm,pid,tid,cpu,time,event,trace >"$OUT/trace.txt" 2>/dev/null
rm -f "$OUT/perf.data"
grep -A3 'p50' "$OUT/run.log" | sed -n '1,3p'
python3 "$HERE/phases.py" "$OUT/trace.txt" "$OUT/phases.raw"
echo "(trace and per-restart phases in $OUT)"
