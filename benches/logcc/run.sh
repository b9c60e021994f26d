#!/usr/bin/env bash
# clplogcc beside `tar czf` on the same files: a log folder of SIZE_MB of log-like text (one
# large current log, rotated generations, per-script logs) and a configuration, collected by
# `clplogcc -t type3` (clp's own files: no commands, no system logs) and archived by
# `tar czf` of the same folders (gzip's default level 6, the level clplogcc uses).
#
#   benches/logcc/run.sh [SIZE_MB]        (default: 200)
#
# Environment knobs:
#   RUNS=3          runs of each; the best wall time is reported (the files stay in the
#                   page cache for both: the comparison is of the work, not the disk)
#   SKIP_BUILD=1    use the existing target/release/clplogcc
#   KEEP=1          keep the generated root (bench-out/logcc.*)
set -euo pipefail

SIZE_MB=${1:-200}
[[ $SIZE_MB =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [SIZE_MB]" >&2; exit 2; }
RUNS=${RUNS:-3}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$HERE/../.." && pwd -P)
CACHE=$REPO/bench-out
mkdir -p "$CACHE"
OUT=$(mktemp -d "$CACHE/logcc.XXXXXX")
cleanup() { [[ ${KEEP:-0} == 1 ]] || rm -rf "$OUT"; }
trap cleanup EXIT

if [[ ${SKIP_BUILD:-0} != 1 ]]; then
    (cd "$REPO" && cargo build --release --quiet -p clp --bin clplogcc)
fi
CLPLOGCC=$REPO/target/release/clplogcc
[[ -x $CLPLOGCC ]] || { echo "no $CLPLOGCC: build it (cargo build --release -p clp --bin clplogcc)" >&2; exit 1; }

export CLP_ROOT=$OUT/root CLP_FORBID_OS_ACTIONS=1 LC_ALL=C
mkdir -p "$CLP_ROOT/etc/scripts/failover/exec" "$CLP_ROOT/log/scripts" "$OUT/clplogcc" "$OUT/tar"

# log-like lines: timestamps, levels, a few modules and varying numbers (compresses about as
# real logs do, 5-10x); reproducible (fixed seed).
generate() {                     # FILE MB SEED
    awk -v bytes=$(($2 * 1024 * 1024)) -v seed="$3" 'BEGIN {
        srand(seed)
        split("rc nm mm pm alert webmgr", module, " ")
        split("INFO INFO INFO WARN ERROR", level, " ")
        split("started stopped is online failed to answer recovered timed out", word, " ")
        written = 0; t = 1764730000
        while (written < bytes) {
            t += int(rand() * 3)
            line = sprintf("%s.%06d %-5s [%s] group failover resource exec%d %s %s (pid %d, seq %d)",
                strftime("%Y-%m-%d %H:%M:%S", t, 1), int(rand() * 1000000), level[int(rand() * 5) + 1],
                module[int(rand() * 6) + 1], int(rand() * 8), word[int(rand() * 9) + 1],
                word[int(rand() * 9) + 1], 1000 + int(rand() * 60000), written)
            print line
            written += length(line) + 1
        }
    }' >"$1"
}

printf 'generating %s MB of logs under %s ...\n' "$SIZE_MB" "$CLP_ROOT"
big=$((SIZE_MB * 6 / 10)); rotated=$((SIZE_MB * 3 / 10)); rest=$((SIZE_MB - big - rotated))
generate "$CLP_ROOT/log/clppm.log" "$big" 1
generate "$CLP_ROOT/log/clppm.log.1" "$((rotated / 2))" 2
generate "$CLP_ROOT/log/clppm.log.2" "$((rotated - rotated / 2))" 3
for i in $(seq 1 20); do
    generate "$CLP_ROOT/log/scripts/failover.exec$i.log" "$(( (rest + 19) / 20 ))" $((10 + i))
done
printf '[cluster]\nname = "bench"\n\n[[group]]\nname = "failover"\n\n[[group.resource]]\nname = "exec"\n' \
    >"$CLP_ROOT/etc/clp.conf"
printf '#!/bin/sh\nexec sleep 600\n' >"$CLP_ROOT/etc/scripts/failover/exec/start.sh"
files=$(find "$CLP_ROOT/log" "$CLP_ROOT/etc" -type f | wc -l)
bytes=$(du -sb "$CLP_ROOT/log" "$CLP_ROOT/etc" | awk '{ s += $1 } END { print s }')

# The two are run in turns (clplogcc, tar, clplogcc, tar, ...) so that a change in the
# machine's load falls on both; each one's best wall time is reported.
declare -A BEST_WALL BEST_USER BEST_SYS SIZE
once() {                         # NAME OUTDIR CMD...
    local name=$1 outdir=$2 line wall user sys
    shift 2
    rm -f "$outdir"/*
    line=$( { TIMEFORMAT='%R %U %S'; time "$@" >/dev/null 2>&1; } 2>&1 )
    read -r wall user sys <<<"$line"
    if [[ -z ${BEST_WALL[$name]:-} ]] ||
        awk -v a="$wall" -v b="${BEST_WALL[$name]}" 'BEGIN { exit !(a < b) }'; then
        BEST_WALL[$name]=$wall BEST_USER[$name]=$user BEST_SYS[$name]=$sys
    fi
    SIZE[$name]=$(find "$outdir" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
}

report() {                       # NAME
    printf '%-22s %7.2f s wall  %7.2f s user  %5.2f s sys  %6.1f MB/s  tarball %6.1f MB\n' \
        "$1" "${BEST_WALL[$1]}" "${BEST_USER[$1]}" "${BEST_SYS[$1]}" \
        "$(awk -v b="$bytes" -v s="${BEST_WALL[$1]}" 'BEGIN { print b / 1048576 / s }')" \
        "$(awk -v s="${SIZE[$1]}" 'BEGIN { print s / 1048576 }')"
}

printf '\n%s files, %.1f MB (log/ and etc/), best of %s runs each, %s cores (%s), load %s\n\n' \
    "$files" "$(awk -v b="$bytes" 'BEGIN { print b / 1048576 }')" "$RUNS" "$(nproc)" \
    "$(uname -m)" "$(cut -d' ' -f1-3 /proc/loadavg)"
for ((run = 1; run <= RUNS; run++)); do
    once "clplogcc -t type3" "$OUT/clplogcc" "$CLPLOGCC" -t type3 -o "$OUT/clplogcc"
    once "tar czf log etc" "$OUT/tar" tar czf "$OUT/tar/bench.tar.gz" -C "$CLP_ROOT" log etc
done
report "clplogcc -t type3"
report "tar czf log etc"
