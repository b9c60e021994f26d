#!/usr/bin/env bash
# What the crate layout costs: clean and incremental build times, every binary's size, and
# clpstat's whole-process wall time against a running daemon.
#
#   benches/build_figures/run.sh [CHECKOUT]      (default: this checkout)
#   benches/build_figures/run.sh --clpstat-only BIN_DIR
#                                  (only the clpstat figure, with release binaries already
#                                   built in BIN_DIR: to pair two builds back to back)
#
# CHECKOUT may be any clp checkout (an older commit in a `git worktree`, to compare). It is
# built in a fresh target folder under bench-out/, so its own target/ is left alone and the
# "clean" build is really clean (the registry's downloaded sources are reused). Run it on a
# quiet machine: the build times are whatever the cores give.
#
# Incremental builds are the edit loop's: `cargo build --bins` (dev profile) after touching
#   - one monitor's source (tcpw.rs, wherever the layout keeps it), and
#   - one command's source (bins/src/clpstat.rs or where it lives).
# clpstat: a release clppm with one group and ten monitors, then RUNS (default 100) runs of
# `clpstat` timed from fork to exit; the median and the 90th percentile are printed.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CLPSTAT_ONLY=
if [[ ${1:-} == --clpstat-only ]]; then
    CLPSTAT_ONLY=$(cd "$2" && pwd)
    set -- "$REPO"
fi
CHECKOUT=$(cd "${1:-$REPO}" && pwd)
RUNS=${RUNS:-100}
OUT=$REPO/bench-out/build_figures/$(date +%Y%m%d-%H%M%S)-$$
TARGET=$OUT/target
mkdir -p "$OUT"
export CARGO_TARGET_DIR=$TARGET

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
timed() {                         # LABEL CMD...: prints "LABEL<TAB>seconds"
    local label=$1 t0 t1
    shift
    t0=$(date +%s.%N)
    "$@" >>"$OUT/build.log" 2>&1 || { tail -20 "$OUT/build.log" >&2; return 1; }
    t1=$(date +%s.%N)
    printf '%s\t%.1f s\n' "$label" "$(echo "$t1 - $t0" | bc)"
}
source_of() {                     # FILE NAME: the one tracked source file of that name
    (cd "$CHECKOUT" && git ls-files | grep -E "(^|/)$1\$" | grep -v -e '^fuzz/' -e '^tests/' | head -1)
}

if [[ -z $CLPSTAT_ONLY ]]; then
commit=$(git -C "$CHECKOUT" rev-parse --short HEAD)
echo "# build figures of $CHECKOUT (git $commit), $(nproc) cores, $(rustc --version)"
cd "$CHECKOUT"
cargo fetch -q
timed "clean release build (cargo build --release --bins)" cargo build --release --bins
timed "clean dev build (cargo build --bins)" cargo build --bins

monitor_src=$(source_of tcpw.rs)
command_src=$(source_of clpstat.rs)
touch "$monitor_src"
timed "incremental dev build after touching $monitor_src" cargo build --bins
touch "$command_src"
timed "incremental dev build after touching $command_src" cargo build --bins

echo
echo "# release binaries (stripped), bytes"
total=0
for f in "$TARGET"/release/*; do
    [[ -f $f && -x $f ]] || continue
    size=$(stat -c %s "$f")
    total=$((total + size))
    printf '%-16s %10d  %5.1f MB\n' "$(basename "$f")" "$size" "$(echo "$size / 1000000" | bc -l)"
done
printf '%-16s %10d  %5.1f MB\n' total "$total" "$(echo "$total / 1000000" | bc -l)"

fi

echo
echo "# clpstat, whole process, against a running clppm (release)"
BIN=${CLPSTAT_ONLY:-$TARGET/release}
export CLP_ROOT=$OUT/root CLP_FORBID_OS_ACTIONS=1
mkdir -p "$CLP_ROOT/etc"
{
    printf '[cluster]\nname = "figures"\n\n[[group]]\nname = "g"\n[[group.resource]]\nname = "r"\nmode = "async"\n'
    for i in $(seq 1 10); do
        printf '\n[[monitor]]\nname = "p%d"\ntype = "pidw"\ntarget = "r"\ninterval = 5\n' "$i"
    done
} >"$CLP_ROOT/etc/clp.conf"
mkdir -p "$CLP_ROOT/etc/scripts/g/r"
printf '#!/bin/sh\nexec sleep 3600\n' >"$CLP_ROOT/etc/scripts/g/r/start.sh"
chmod +x "$CLP_ROOT/etc/scripts/g/r/start.sh"
"$BIN/clplcncs" --trial -P XSS10 >"$OUT/license.txt" 2>&1
"$BIN/clppm" --foreground >"$OUT/clppm.log" 2>&1 </dev/null &
pm=$!
trap 'kill -TERM $pm 2>/dev/null || true; wait $pm 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
    [[ -S $CLP_ROOT/run/clppm.sock ]] && "$BIN/clpstat" >/dev/null 2>&1 && break
    sleep 0.1
done
"$BIN/clpcl" -s -w 30 >/dev/null 2>&1 || true
python3 - "$BIN/clpstat" "$RUNS" <<'PY'
import statistics, subprocess, sys, time
cmd, runs = sys.argv[1], int(sys.argv[2])
subprocess.run([cmd], stdout=subprocess.DEVNULL, check=True)   # warm-up
ms = []
for _ in range(runs):
    t0 = time.perf_counter()
    subprocess.run([cmd], stdout=subprocess.DEVNULL, check=True)
    ms.append((time.perf_counter() - t0) * 1000)
ms.sort()
print(f"clpstat: {runs} runs, median {statistics.median(ms):.2f} ms, "
      f"p90 {ms[int(runs * 0.9) - 1]:.2f} ms, min {ms[0]:.2f} ms")
PY
"$BIN/clpcl" -t -w 30 >/dev/null 2>&1 || true
