#!/usr/bin/env bash
# Idle overhead of a supervisor watching N processes: CPU % of one core and RSS of the
# daemon alone, for clp (N pidw monitors), monit (N `check process`) and supervisord (N programs).
#
#   benches/idle_overhead/run.sh [N...]            (default: 100 1000)
#
# Recipe: shared/reference/peers.md section 4.3. Every configuration checks once a second:
# clp pidw interval = 1, monit `set daemon 1`; supervisord has no check to set (it only
# waits for its children's exits), so it is a floor, not a like-for-like. Each supervisor
# runs alone, under the same sub-reaper as the latency benchmark. CPU is the daemon's own
# CPU clock (all threads, in ns) over the measurement window; the time of reaped children is
# reported beside it (zero unless something forks).
#
# Environment knobs:
#   WARMUP=20 MEASURE=60       seconds (e.g. WARMUP=3 MEASURE=5 for a quick try)
#   SUPERVISORS="clp monit supervisord"
#   STARTUP_TIMEOUT=300        seconds for all N victims to be running
#   SKIP_BUILD=1               use the existing target/release binaries
#   CLP_PROFILE=release        cargo profile to build and run (profiling: with symbols, for perf)
#   SUPERVISOR_VERSION=4.3.0   pin the PyPI version (default: the latest)
set -euo pipefail

NS=("$@")
(( ${#NS[@]} )) || NS=(100 1000)
for n in "${NS[@]}"; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [N...]" >&2; exit 2; }
    (( n <= 9999 )) || { echo "N must be at most 9999 (the names are 4-digit numbered)" >&2; exit 2; }
done
WARMUP=${WARMUP:-20}
MEASURE=${MEASURE:-60}
STARTUP_TIMEOUT=${STARTUP_TIMEOUT:-300}
SUPERVISORS=${SUPERVISORS:-"clp monit supervisord"}

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$HERE/../.." && pwd -P)
CACHE=$REPO/bench-out
mkdir -p "$CACHE"
OUT=$(mktemp -d "$CACHE/idle_overhead.XXXXXX")
# shellcheck source=../common.sh
source "$REPO/benches/common.sh"
RESULTS=$OUT/results.tsv
CLP_REAPER=0

cleanup() {
    local rc=$? pid
    trap - EXIT INT TERM
    stop_clp_if_running "$CLP_REAPER"
    for pid in "${REAPERS[@]}"; do
        stop_supervised "$pid"
    done
    kill_stray_victims
    (( rc == 0 )) || log "exited with status $rc; everything is in $OUT"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- measurement
count_started() { find "$1" -maxdepth 1 -name 'start.*' ! -name '*.tmp.*' | wc -l; }

wait_victims() {                 # OUTDIR N REAPER_PID
    local i
    for ((i = 0; i < STARTUP_TIMEOUT * 10; i++)); do
        (( $(count_started "$1") >= $2 )) && return 0
        is_gone "$3" && { log "the supervisor exited while starting"; return 1; }
        sleep 0.1
    done
    log "only $(count_started "$1") of $2 victims started within ${STARTUP_TIMEOUT}s"
    return 1
}

status_field() { awk -v k="$2:" '$1 == k {print $2; exit}' "/proc/$1/status"; }

switches() {                     # PID -> context switches of all its threads so far (wake-ups)
    cat /proc/"$1"/task/*/status 2>/dev/null |
        awk '$1 == "voluntary_ctxt_switches:" || $1 == "nonvoluntary_ctxt_switches:" {s += $2} END {print s + 0}'
}

measure() {                      # LABEL N REAPER_PID: warm up, measure, append to $RESULTS
    local label=$1 n=$2 pid self0 kids0 self1 kids1 rss threads sw0 sw1
    pid=$(child_of "$3") || { log "$label: no supervisor process"; return 1; }
    log "$label, N=$n: all victims up; ${WARMUP}s warm-up, ${MEASURE}s measurement (pid $pid)"
    nap "$WARMUP"
    read -r self0 kids0 < <(cpu_ns "$pid")
    sw0=$(switches "$pid")
    nap "$MEASURE"
    read -r self1 kids1 < <(cpu_ns "$pid")
    sw1=$(switches "$pid")
    rss=$(status_field "$pid" VmRSS)
    save_smaps "$pid" "$OUT/${label%% *}-$n"
    threads=$(status_field "$pid" Threads)
    printf '%s\t%d\t%s\t%s\t%s\t%s\t%s\n' "$label" "$n" \
        "$(pct_of_core $((self1 - self0)) "$MEASURE")" \
        "$(pct_of_core $((kids1 - kids0)) "$MEASURE")" \
        "$(awk -v k="$rss" 'BEGIN {printf "%.1f", k / 1024}')" "$threads" \
        "$(awk -v d=$((sw1 - sw0)) -v s="$MEASURE" 'BEGIN {printf "%.0f", d / s}')" | tee -a "$RESULTS"
}

bench_clp() {                    # N
    local n=$1 d=$OUT/clp-$1 i name
    mkdir -p "$d/out"
    export CLP_ROOT=$d/root CLP_FORBID_OS_ACTIONS=1
    mkdir -p "$CLP_ROOT/etc"
    # N groups of one async exec resource each (the victim), one pidw per resource.
    {
        printf '[cluster]\nname = "bench"\n'
        for ((i = 1; i <= n; i++)); do
            name=$(printf '%04d' "$i")
            printf '\n[[group]]\nname = "g%s"\n[[group.resource]]\nname = "r%s"\nmode = "async"\n' "$name" "$name"
            printf '[group.resource.deactivation]\nfinal_action = "stop-daemon"\n'
        done
        for ((i = 1; i <= n; i++)); do
            name=$(printf '%04d' "$i")
            printf '\n[[monitor]]\nname = "p%s"\ntype = "pidw"\ntarget = "r%s"\ninterval = 1\n' "$name" "$name"
            printf '[monitor.recovery]\ntarget = "r%s"\nreactivation_threshold = 99\nfinal_action = "none"\n' "$name"
        done
    } >"$CLP_ROOT/etc/clp.conf"
    for ((i = 1; i <= n; i++)); do
        name=$(printf '%04d' "$i")
        mkdir -p "$CLP_ROOT/etc/scripts/g$name/r$name"
        printf '#!/bin/sh\nexec "%s" "%s"\n' "$MARKER" "$d/out" >"$CLP_ROOT/etc/scripts/g$name/r$name/start.sh"
        chmod +x "$CLP_ROOT/etc/scripts/g$name/r$name/start.sh"
    done
    clp_register_trial "$d/license.txt"
    start_supervised "$d/clppm.stderr" "$CLP_BIN/clppm" --foreground
    CLP_REAPER=$STARTED
    # Not clpstat while waiting: before clppm holds its store, clpstat would open it and
    # clppm would refuse to start ("the store ... is in use").
    wait_victims "$d/out" "$n" "$CLP_REAPER" || { tail -5 "$d/clppm.stderr" >&2; return 1; }
    measure "clp (pidw, interval 1 s)" "$n" "$CLP_REAPER"
    "$CLP_BIN/clpstat" >"$d/clpstat.txt" 2>&1 || true
    local bad
    bad=$(grep -cE ': +(Error|Offline|Online Pending|Caution)' "$d/clpstat.txt" || true)
    (( bad == 0 )) || log "clp, N=$n: $bad groups/resources/monitors not Online/Normal (see $d/clpstat.txt)"
    "$CLP_BIN/clpcl" -t -w 120 >"$d/clpcl-stop.txt" 2>&1 || log "clp: clpcl -t failed: $(cat "$d/clpcl-stop.txt")"
    stop_supervised "$CLP_REAPER"
    CLP_REAPER=0
}

bench_monit() {                  # N
    local n=$1 d=$OUT/monit-$1 i pool
    mkdir -p "$d/out" "$d/pid"
    # monit only monitors here: the victims are started beforehand (under their own
    # reaper, which takes them down at the end), as on a host where monit watches daemons.
    start_supervised "$d/pool.log" /bin/sh -c \
        'i=1; while [ $i -le '"$n"' ]; do "$0" "$1" "$2/m$i.pid" & i=$((i + 1)); done; wait' \
        "$MARKER" "$d/out" "$d/pid"
    pool=$STARTED
    wait_victims "$d/out" "$n" "$pool"
    {
        echo "set daemon 1"
        echo "set log $d/monit.log"
        echo "set pidfile $d/monit.pid"
        echo "set idfile $d/monit.id"
        echo "set statefile $d/monit.state"
        for ((i = 1; i <= n; i++)); do
            echo "check process m$i with pidfile $d/pid/m$i.pid"
            echo "    start program = \"/bin/sh -c '$MARKER $d/out $d/pid/m$i.pid >/dev/null 2>&1 &'\""
        done
    } >"$d/monitrc"
    chmod 600 "$d/monitrc"
    start_supervised "$d/monit.stderr" "$MONIT" -I -c "$d/monitrc"
    local pid=$STARTED
    sleep 2                      # its first cycle
    is_gone "$pid" && { log "monit exited:"; tail "$d/monit.stderr" "$d/monit.log"; return 1; }
    measure "monit $(monit_version) (daemon 1)" "$n" "$pid"
    stop_supervised "$pid"
    stop_supervised "$pool"
}

bench_supervisord() {            # N
    local n=$1 d=$OUT/supervisord-$1 i
    mkdir -p "$d/out" "$d/childlogs"
    {
        printf '[supervisord]\nnodaemon=true\nuser=root\nlogfile=%s\npidfile=%s\nchildlogdir=%s\n' \
            "$d/supervisord.log" "$d/supervisord.pid" "$d/childlogs"
        # Each program holds its pipes and (lazily opened) log files: plenty of fds at N=1000.
        printf 'minfds=%d\n' $((n * 8 + 1024))
        for ((i = 1; i <= n; i++)); do
            printf '\n[program:m%d]\ncommand=%s %s\nautorestart=true\n' "$i" "$MARKER" "$d/out"
        done
    } >"$d/supervisord.conf"
    start_supervised "$d/supervisord.stderr" "$SUPERVISORD" -c "$d/supervisord.conf"
    local pid=$STARTED
    wait_victims "$d/out" "$n" "$pid" || { tail -5 "$d/supervisord.log" >&2; return 1; }
    measure "supervisord $("$SUPERVISORD" --version)" "$n" "$pid"
    stop_supervised "$pid"
}

# ---------------------------------------------------------------- main
log "building the helpers"
build_helpers
for s in $SUPERVISORS; do
    case $s in
        clp) build_clp ;;
        supervisord) install_supervisord ;;
        monit) install_monit ;;
        *) echo "unknown supervisor '$s' (clp, monit, supervisord)" >&2; exit 2 ;;
    esac
done
[[ " $SUPERVISORS " == *" clp "* ]] && CLP_VERSION=$(clp_version)
environment_report | tee "$OUT/environment.txt"
log "output: $OUT"
printf 'supervisor\tN\tcpu_pct\tchildren_cpu_pct\trss_mib\tthreads\twakeups_per_s\n' >"$RESULTS"

for n in "${NS[@]}"; do
    for s in $SUPERVISORS; do
        "bench_$s" "$n"
    done
done
echo "loadavg at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/environment.txt"

echo
python3 - "$RESULTS" "$WARMUP" "$MEASURE" "${NS[@]}" <<'EOF' | tee "$OUT/table.txt"
import csv, sys
path, warmup, measure, ns = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
rows = list(csv.DictReader(open(path), delimiter="\t"))
labels = list(dict.fromkeys(r["supervisor"] for r in rows))
cell = {(r["supervisor"], r["N"]): r for r in rows}
width = max(26, max(len(l) for l in labels) + 1)
print("idle overhead: %s s warm-up, %s s measured; CPU = %% of one core (daemon's CPU clock), RSS in MiB"
      % (warmup, measure))
head = "".join("%12s" % ("N=%s CPU" % n) for n in ns) + "".join("%12s" % ("N=%s RSS" % n) for n in ns)
print("%-*s%s" % (width, "supervisor", head))
for l in labels:
    cpu = "".join("%12s" % (cell[(l, n)]["cpu_pct"] + " %" if (l, n) in cell else "-") for n in ns)
    rss = "".join("%12s" % (cell[(l, n)]["rss_mib"] if (l, n) in cell else "-") for n in ns)
    print("%-*s%s%s" % (width, l, cpu, rss))
# Issue 13's goals, as ratios of the same run: clp CPU <= 1/4 of supervisord's, RSS <= monit's.
clp = next((l for l in labels if l.startswith("clp")), None)
for n in ns:
    def ratio(peer, field):
        other = next((l for l in labels if l.startswith(peer)), None)
        if clp is None or other is None or (clp, n) not in cell or (other, n) not in cell:
            return None
        a, b = float(cell[(clp, n)][field]), float(cell[(other, n)][field])
        return "%.2f" % (a / b) if b > 0 else "inf"
    parts = []
    for peer, field, label, goal in (("supervisord", "cpu_pct", "CPU clp/supervisord", "<= 0.25"),
                                     ("monit", "cpu_pct", "CPU clp/monit", None),
                                     ("monit", "rss_mib", "RSS clp/monit", "<= 1")):
        r = ratio(peer, field)
        if r is not None:
            parts.append("%s = %s%s" % (label, r, " (goal %s)" % goal if goal else ""))
    if parts:
        print("  N=%s: %s" % (n, "; ".join(parts)))
for l in labels:
    w = " ".join("N=%s %s/s" % (n, cell[(l, n)]["wakeups_per_s"]) for n in ns if (l, n) in cell)
    print("  %s: context switches (wake-ups) of all its threads: %s" % (l, w))
kids = [r for r in rows if float(r["children_cpu_pct"]) > 0]
for r in kids:
    print("  note: %s N=%s: reaped children used %s %% of a core" % (r["supervisor"], r["N"], r["children_cpu_pct"]))
EOF
[[ -n ${CLP_VERSION:-} ]] && echo "clp: $CLP_VERSION"
echo "raw: $RESULTS"
