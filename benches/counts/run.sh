#!/usr/bin/env bash
# Counts that load does not distort, taken from a running clppm: instructions, syscalls and
# resident memory by kind. For a loaded machine, where timings are not figures of record.
#
#   CLP_ROOT=... benches/counts/run.sh [CLP_BIN]
#
# Start the daemon first, e.g. with a benchmark's long window:
#   SUPERVISORS=clp WARMUP=5 MEASURE=900 benches/scale/run.sh 1000 &
#   CLP_ROOT=$(ls -d bench-out/scale.*/clp-1000/root | tail -1) benches/counts/run.sh
# CLP_BIN (default target/release) holds the clpstat that is counted.
#
# It prints:
#   clpstat --json    user-space instructions of the whole process (cachegrind: this VM gives
#   clpstat           perf no hardware counters), beside those of `clpstat --version` (the
#                     start-up alone), and its syscalls (strace -c -f)
#   status answer     CPU time of clppm's control thread per `clpstat --json` and per
#                     `clpstat` (it builds and writes the status or its summary), the median
#                     of RUNS
#   clppm per second  CPU time and context switches of the whole daemon over WINDOW s, and
#                     its syscalls a second by call over the same span (strace -c -f)
#   clppm RSS         Rss by kind from /proc/PID/smaps: heap and anonymous maps, thread
#                     stacks, the binary's own pages, shared libraries
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$HERE/../.." && pwd -P)
BIN=${1:-$REPO/target/release}
RUNS=${RUNS:-20}
WINDOW=${WINDOW:-10}
: "${CLP_ROOT:?set CLP_ROOT to the install root of the running clppm}"
export CLP_ROOT

pid=$(cat "$CLP_ROOT/run/clppm.pid" 2>/dev/null || true)
[[ -n $pid && -d /proc/$pid ]] || { echo "no clppm running for $CLP_ROOT" >&2; exit 1; }
control=$(grep -l '^clppm-control$' /proc/"$pid"/task/*/comm | head -1 | cut -d/ -f5)

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The client: user-space instructions are counted by cachegrind (this VM exposes no
# hardware counters to perf); its syscalls by strace. Both forms: `clpstat --json` (the
# whole status, re-indented) and `clpstat` (the text layout, from the status summary).
count_client() {
    local label=$1
    shift
    valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
        "$BIN/clpstat" "$@" 2>"$tmp/vg" >/dev/null
    printf '%s (%s bytes): %s instructions (user space, cachegrind)\n' "$label" \
        "$("$BIN/clpstat" "$@" | wc -c)" \
        "$(awk '/I *refs:/ {gsub(/,/, "", $NF); print $NF}' "$tmp/vg")"
    strace -c -f -o "$tmp/s" "$BIN/clpstat" "$@" >/dev/null
    printf '%s syscalls: %s\n' "$label" "$(awk '/total/ {print $4}' "$tmp/s")"
}
count_client 'clpstat --json' --json
count_client 'clpstat'
valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
    "$BIN/clpstat" --version 2>"$tmp/vg" >/dev/null
printf 'clpstat --version (start-up and exit only): %s instructions\n' \
    "$(awk '/I *refs:/ {gsub(/,/, "", $NF); print $NF}' "$tmp/vg")"

# The daemon's side: CPU time of its control thread (which builds and writes the status)
# per answer, the median of RUNS, for each form.
answer_cpu() {
    local label=$1
    shift
    rm -f "$tmp/daemon"
    for ((i = 0; i < RUNS; i++)); do
        perf stat -x, -e task-clock -t "$control" -o "$tmp/d" -- "$BIN/clpstat" "$@" >/dev/null
        awk -F, '$3 ~ /task-clock/ {print $1}' "$tmp/d" >>"$tmp/daemon"
    done
    printf 'status answer to %s: %s ms CPU of clppm-control (median of %s)\n' "$label" \
        "$(median <"$tmp/daemon")" "$RUNS"
}
answer_cpu 'clpstat --json' --json
answer_cpu 'clpstat'

perf stat -x, -e task-clock,context-switches -p "$pid" -o "$tmp/p" -- sleep "$WINDOW"
printf 'clppm: %s ms CPU and %s context switches a second (over %s s)\n' \
    "$(awk -F, -v w="$WINDOW" '$3 ~ /task-clock/ {printf "%.1f", $1 / w}' "$tmp/p")" \
    "$(awk -F, -v w="$WINDOW" '$3 ~ /context-switches/ {print int($1 / w)}' "$tmp/p")" "$WINDOW"
timeout -s INT "$WINDOW" strace -c -f -p "$pid" -o "$tmp/ps" >/dev/null 2>&1 || true
printf 'clppm syscalls a second: %s; by call: %s\n' \
    "$(awk -v w="$WINDOW" '/total/ {print int($4 / w)}' "$tmp/ps")" \
    "$(awk -v w="$WINDOW" '/^ *[0-9]/ && $NF != "total" {print $NF "=" int($4 / w)}' "$tmp/ps" |
        sort -t= -k2 -rn | head -8 | tr '\n' ' ')"

exe=$(readlink "/proc/$pid/exe")
awk -v exe="$exe" '
    /^[0-9a-f]+-[0-9a-f]+ / { path = (NF >= 6) ? $6 : ""; kind = "anonymous (heap, stacks)"
        if (path == exe) kind = "the binary"
        else if (path ~ /\.so/) kind = "shared libraries"
        else if (path == "[heap]") kind = "anonymous (heap, stacks)"
        else if (path == "[stack]") kind = "main stack"
        else if (path != "") kind = "other files " path
        next }
    /^Rss:/ { rss[kind] += $2; total += $2 }
    END { for (k in rss) printf "  %-28s %7.2f MiB\n", k, rss[k] / 1024
          printf "  %-28s %7.2f MiB\n", "total", total / 1024 }' "/proc/$pid/smaps" |
    sort -k1,1 >"$tmp/rss"
echo "clppm RSS by kind ($(ls /proc/"$pid"/task | wc -l) threads):"
cat "$tmp/rss"
