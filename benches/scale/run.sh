#!/usr/bin/env bash
# Scale: one clp daemon running N monitors of mixed types at interval 1 s, and monit running
# the same checks as far as it can express them (`set daemon 1`), one after the other.
#
#   benches/scale/run.sh [N...]                    (default: 100 1000 10000)
#
# Issue 3's scale requirement. For each N it prints the daemon's CPU % (of one core), RSS,
# and scheduling jitter p50/p99/max, for clp and for monit, in one table.
#
# The mix (scale.py `mix`): 40 % pidw, 20 % psw, 20 % tcpw, 10 % httpw, 10 % diskw.
#   pidw   one per async exec resource (one group each) whose start.sh execs a sleeping
#          worker (marker.c); the monitor's recovery target is its resource.
#   psw    `processname = "*/wNNNNN.pid"` (one worker's command line), processnum 1;
#          target = that worker's resource with timing = "active", so that it does not
#          check (and fail, rm 9) before the worker runs.
#   tcpw   127.0.0.1:P, one accept-and-close listener (scale.py serve-tcp) for all of them.
#   httpw  127.0.0.1:H, one python http.server (ThreadingHTTPServer) for all of them.
#   diskw  READ(FILE) of one 4 KiB file, size = 4096.
# Every monitor but pidw has recovery target "local-server"; all have final_action "none".
# Nothing may be restarted during a run: afterwards the alert log must hold no `rm 9`
# (an error detection); any is reported.
#
# Workers: pidw is capped at WORKERS_MAX (default 1000) sleeping processes; at N=10000 that
# makes the mix 1000/2000/3500/1750/1750 (the rest of pidw's share goes to tcpw/httpw/diskw
# in their 2:1:1 ratio), and the table says so. Reason: `ulimit -n` is 20000 here and cannot
# be raised (no CAP_SYS_RESOURCE), clppm holds one pidfd per process that pidw or psw
# watches, and 4000 extra processes on this 2-CPU VM would mostly measure the machine.
# psw monitors watch the same workers (psw i watches worker ((i-1) mod W) + 1).
#
# monit's counterparts: `check process ... with pidfile` (pidw), `check process ...
# matching "/wNNNNN\.pid$"` (psw), `check host ... if failed port P type tcp` (tcpw),
# `... protocol http` (httpw), `check file ... if changed checksum` (diskw: the checksum
# test reads the whole file every cycle; monit has no plain read test). No start programs.
# monit's workers are started beforehand (it only monitors), under their own reaper.
#
# Measurement (peers.md 4.3): after WARMUP s, over MEASURE s: CPU = the daemon's own CPU
# time (its CPU clock, all threads, in ns: `cpu_ns` in common.sh) + its reaped children's
# (cutime+cstime from /proc/PID/stat), as % of one core; RSS = VmRSS at the end of the window.
# Jitter:
#   clp    `clpstat --json` gives per monitor `last_lateness_us`: how late its last check
#          started against its schedule. Sampled every SAMPLE_EVERY s (default 1 s; 5 s from
#          N >= 5000, since the JSON is big and producing it costs clppm CPU too) during the
#          window; p50/p99/max over all monitors x samples. It samples the last check of
#          each monitor at each sample, not every check. Also reported: checks done as % of
#          the 1 s schedule (a daemon that falls behind shows it there too).
#   monit  no per-check lateness. Its XML status (`set httpd unixsocket`, sampled like clp)
#          has every service's collection time in µs; a snapshot taken between two cycles
#          spans one cycle, first check to last. monit sleeps 1 s after each cycle, so every
#          check runs that much later than a 1 s schedule: the cycle duration is the
#          counterpart of clp's lateness. A snapshot taken mid-cycle completes a cycle
#          that the previous one saw in progress when both show the same collection of
#          the service where the newer cycle stands; when no cycle ends within the window,
#          the table gives a lower bound ("> X s: no cycle completed").
# Both daemons serve their status to the sampler during the window (clpstat / monit httpd):
# the cost is in both CPU figures.
# The status command: after the window, with the mix still running, `clpstat` (its plain
# layout) and `monit summary` (through its socket) each run STATUS_RUNS times as whole
# processes, one after another (scale.py time-command: posix_spawn, output to /dev/null):
# p50/p90/max wall ms. Issue 13's goal: clpstat p50 <= 5 ms at 1,000 monitors.
#
# The local servers are python (their CPU is in the notes): on a 2-CPU VM the HTTP server
# saturates at ~1500 requests/s (N=10000), and an httpw check that takes over 1 s delays
# that monitor's next one; look at the per-type lateness in the notes before blaming clp.
#
# Environment knobs:
#   WARMUP=20 MEASURE=60       seconds
#   WORKERS_MAX=1000           cap on pidw monitors (= sleeping worker processes)
#   SCALE_MIX=40,20,20,10,10   percent pidw,psw,tcpw,httpw,diskw (e.g. 40,0,40,10,10 to see
#                              the cost of psw: compare with the default)
#   SAMPLE_EVERY=              seconds between status samples (default: 1, 5 from N >= 5000)
#   SUPERVISORS="clp monit"    add floor for the network probes alone (probe_floor.c: the
#                              mix's tcpw and httpw checks made by a C loop in one burst a
#                              second, nothing else; its CPU per probe is in the notes): the
#                              part of any supervisor's CPU that the probes themselves cost
#   STARTUP_TIMEOUT=300        seconds for all workers to be running
#   STATUS_RUNS=100            timed runs of `clpstat` / `monit summary` after the window
#   ROUNDS=1                   measure each N this many times, the supervisors taking turns
#                              (clp, monit, clp, monit, ...): a row per round, then the
#                              ratios of every round and their median. One daemon's CPU moves
#                              by ~±10 % from run to run on a shared VM; rounds that take turns
#                              see the same drift of the host
#   SKIP_BUILD=1               use the existing target/release binaries
#   CLP_PROFILE=release        cargo profile to build and run (profiling: with symbols, for perf)
#   SERVERS=c                  the local servers: c (server.c, one epoll loop each; default) or
#                              python (scale.py's, which saturate a core at ~1,500 requests/s)
set -euo pipefail

NS=("$@")
(( ${#NS[@]} )) || NS=(100 1000 10000)
for n in "${NS[@]}"; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [N...]" >&2; exit 2; }
    (( n >= 10 && n <= 99999 )) || { echo "N must be 10..99999 (5-digit names)" >&2; exit 2; }
done
WARMUP=${WARMUP:-20}
MEASURE=${MEASURE:-60}
WORKERS_MAX=${WORKERS_MAX:-1000}
STATUS_RUNS=${STATUS_RUNS:-100}
ROUNDS=${ROUNDS:-1}
[[ $ROUNDS =~ ^[1-9][0-9]?$ ]] || { echo "ROUNDS must be 1..99" >&2; exit 2; }
[[ $STATUS_RUNS =~ ^[1-9][0-9]*$ ]] || { echo "STATUS_RUNS must be a positive number" >&2; exit 2; }
STARTUP_TIMEOUT=${STARTUP_TIMEOUT:-300}
SUPERVISORS=${SUPERVISORS:-"clp monit"}
SERVERS=${SERVERS:-c}
[[ $SERVERS == c || $SERVERS == python ]] || { echo "SERVERS must be c or python" >&2; exit 2; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$HERE/../.." && pwd -P)
CACHE=$REPO/bench-out
mkdir -p "$CACHE"
OUT=$(mktemp -d "$CACHE/scale.XXXXXX")
# shellcheck source=../common.sh
source "$REPO/benches/common.sh"
scale() { python3 "$HERE/scale.py" "$@"; }
scale_exec() { exec python3 "$HERE/scale.py" "$@"; }   # as a background job: $! is python itself
RESULTS=$OUT/results.tsv
NOTES=$OUT/notes.txt
CLP_REAPER=0

cleanup() {
    local rc=$? i
    trap - EXIT INT TERM
    [[ -n ${SAMPLER:-} ]] && kill -TERM "$SAMPLER" 2>/dev/null || true
    stop_clp_if_running "$CLP_REAPER"
    for ((i = ${#REAPERS[@]} - 1; i >= 0; i--)); do   # the newest first: a daemon before its workers
        stop_supervised "${REAPERS[i]}"
    done
    kill_stray_victims
    if (( rc == 0 )); then
        # Only after kill_stray_victims (the start files prove the workers ours). The logs,
        # configurations and samples stay; the bulk (thousands of start files and scripts,
        # the stores) goes.
        rm -rf "$OUT"/*/out "$OUT"/*/pid "$OUT"/clp-*/root/etc/scripts "$OUT"/clp-*/root/var \
            "$OUT"/clp-*/root/run "$OUT"/www "$OUT"/marker "$OUT"/reaper "$OUT"/server
    else
        log "exited with status $rc; everything is in $OUT"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- measurement
note() { echo "$*" | tee -a "$NOTES"; }

count_started() { find "$1" -maxdepth 1 -name 'start.*' ! -name '*.tmp.*' | wc -l; }

wait_workers() {                 # OUTDIR N REAPER_PID
    local i
    for ((i = 0; i < STARTUP_TIMEOUT * 10; i++)); do
        (( $(count_started "$1") >= $2 )) && return 0
        is_gone "$3" && { log "the supervisor exited while starting"; return 1; }
        sleep 0.1
    done
    log "only $(count_started "$1") of $2 workers started within ${STARTUP_TIMEOUT}s"
    return 1
}

host_busy() {                    # "busy total" jiffies of all CPUs, from /proc/stat
    awk '/^cpu / {t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t; exit}' /proc/stat
}

status_field() { awk -v k="$2:" '$1 == k {print $2; exit}' "/proc/$1/status"; }

sample_every() {                 # N
    if [[ -n ${SAMPLE_EVERY:-} ]]; then echo "$SAMPLE_EVERY"
    elif (( $1 >= 5000 )); then echo 5
    else echo 1; fi
}

# Measures PID (the daemon) over the window while SAMPLER_CMD samples its status; sets
# M_CPU M_KIDS M_RSS M_HWM M_THREADS M_FDS M_SERVERS M_HOST M_LOAD0 M_LOAD1 M_PROCS, and
# M_WALL0/1: the wall-clock start and end of the window.
measure() {                      # LABEL N PID SAMPLER_CMD...
    local label=$1 n=$2 pid=$3 self0 kids0 self1 kids1 s0 s1 b0 t0 b1 t1 srv
    shift 3
    log "$label, N=$n: ${WARMUP}s warm-up, ${MEASURE}s measurement (pid $pid)"
    nap "$WARMUP"
    is_gone "$pid" && { log "$label: the daemon exited during the warm-up"; return 1; }
    M_LOAD0=$(cut -d' ' -f1 /proc/loadavg)
    "$@" &
    SAMPLER=$!
    read -r self0 kids0 < <(cpu_ns "$pid")
    s0=$(cpu_ns "${SERVER_PIDS[@]}" | awk '{s += $1} END {print s + 0}')
    read -r b0 t0 < <(host_busy)
    M_WALL0=$(date +'%Y/%m/%d %H:%M:%S.%3N')       # the alert log's time format (local)
    nap "$MEASURE"
    M_WALL1=$(date +'%Y/%m/%d %H:%M:%S.%3N')
    local procs=(/proc/[0-9]*)
    M_PROCS=${#procs[@]}
    read -r self1 kids1 < <(cpu_ns "$pid")
    s1=$(cpu_ns "${SERVER_PIDS[@]}" | awk '{s += $1} END {print s + 0}')
    read -r b1 t1 < <(host_busy)
    M_RSS=$(awk -v k="$(status_field "$pid" VmRSS)" 'BEGIN {printf "%.1f", k / 1024}')
    save_smaps "$pid" "$OUT/${label%% *}-$RUN_TAG"
    M_HWM=$(awk -v k="$(status_field "$pid" VmHWM)" 'BEGIN {printf "%.1f", k / 1024}')
    M_THREADS=$(status_field "$pid" Threads)
    local fds=("/proc/$pid/fd/"*)
    M_FDS=${#fds[@]}
    M_CPU=$(pct_of_core $((self1 - self0 + kids1 - kids0)) "$MEASURE")
    M_KIDS=$(pct_of_core $((kids1 - kids0)) "$MEASURE")
    M_SERVERS=$(pct_of_core $((s1 - s0)) "$MEASURE")
    M_HOST=$(awk -v b=$((b1 - b0)) -v t=$((t1 - t0)) -v c="$(nproc)" 'BEGIN {printf "%.0f", b / t * 100 * c}')
    M_LOAD1=$(cut -d' ' -f1 /proc/loadavg)
    wait "$SAMPLER" || log "$label: the sampler failed"
    SAMPLER=
}

jget() {                         # FILE PYTHON-EXPR over `d` (the summary): prints the value
    python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); v = eval(sys.argv[2]); print("" if v is None else v)' "$1" "$2"
}

declare -A ROW

bench_clp() {                    # N
    local n=$1 d=$OUT/clp-$RUN_TAG every pid bad rm9 errors
    mkdir -p "$d/out" "$d/pid"
    export CLP_ROOT=$d/root CLP_FORBID_OS_ACTIONS=1
    scale clp-config "$n" "$WORKERS_MAX" "$CLP_ROOT" "$MARKER" "$d/out" "$d/pid" \
        "$TCP_PORT" "$HTTP_PORT" "$DISKFILE"
    clp_register_trial "$d/license.txt"
    "$CLP_BIN/clplcncs" --trial -P ISAG10 >>"$d/license.txt" 2>&1 || { cat "$d/license.txt" >&2; return 1; }
    start_supervised "$d/clppm.stderr" "$CLP_BIN/clppm" --foreground
    CLP_REAPER=$STARTED
    # Not clpstat while waiting: before clppm holds its store, clpstat would open it and
    # clppm would refuse to start.
    local t0=$SECONDS
    wait_workers "$d/out" "$WORKERS" "$CLP_REAPER" || { tail -5 "$d/clppm.stderr" >&2; return 1; }
    log "clp, N=$n: $WORKERS workers up after $((SECONDS - t0)) s"
    pid=$(child_of "$CLP_REAPER")
    every=$(sample_every "$n")
    measure "clp" "$n" "$pid" scale_exec sample-clp "$CLP_BIN/clpstat" "$every" "$MEASURE" "$d/sample.json"
    local rc=0
    timeout 60 "$CLP_BIN/clpstat" >"$d/clpstat.txt" 2>&1 || rc=$?
    if (( rc == 124 )); then
        note "    !! clp N=$n: clpstat after the window did not answer within 60 s (objects not Normal: unknown)"
    elif (( rc != 0 )); then
        note "    !! clp N=$n: clpstat after the window failed ($rc): $(tail -1 "$d/clpstat.txt")"
    fi
    bad=$(grep -cE ': +(Error|Offline|Online Pending|Caution|Warning|Suspend|Unknown)' "$d/clpstat.txt" || true)
    # The operator's command, whole process, while the daemon still runs the mix (after
    # the CPU window, so that these runs are not in the daemon's figure).
    scale time-command "$STATUS_RUNS" "$d/clpstat-timed.json" "$CLP_BIN/clpstat"
    ROW[clp_status_p50_ms]=$(jget "$d/clpstat-timed.json" 'd["ms"]["p50"]')
    ROW[clp_status_max_ms]=$(jget "$d/clpstat-timed.json" 'd["ms"]["max"]')
    note "    clpstat (the plain layout), whole process, $STATUS_RUNS runs after the window:" \
        "p50/p90/max $(jget "$d/clpstat-timed.json" '"%s/%s/%s" % (d["ms"]["p50"], d["ms"]["p90"], d["ms"]["max"])') ms," \
        "exit codes $(jget "$d/clpstat-timed.json" 'd["exit_codes"]')"
    # Error detections (rm 9) before / during / after the window, by the alert log's times.
    local al=$CLP_ROOT/log/alert.log rm9_before rm9_window
    read -r rm9 rm9_before rm9_window errors < <(cat "$al".1 "$al" 2>/dev/null | awk -v w0="$M_WALL0" -v w1="$M_WALL1" '
        { t = $1 " " $2 }
        $5 == "rm" && $6 == 9 { all++; if (t < w0) before++; else if (t <= w1) during++ }
        $3 == "Error" || $3 == "Warning" { errors++ }
        END { print all + 0, before + 0, during + 0, errors + 0 }')
    ROW[clp_cpu]=$M_CPU ROW[clp_kids]=$M_KIDS ROW[clp_rss]=$M_RSS ROW[clp_hwm]=$M_HWM
    ROW[clp_threads]=$M_THREADS ROW[clp_fds]=$M_FDS ROW[clp_servers]=$M_SERVERS
    ROW[clp_host]=$M_HOST ROW[clp_load]="$M_LOAD0-$M_LOAD1" ROW[clp_every]=$every
    ROW[clp_p50_ms]=$(jget "$d/sample.json" 'd["lateness_us"]["p50"] and d["lateness_us"]["p50"] / 1000')
    ROW[clp_p99_ms]=$(jget "$d/sample.json" 'd["lateness_us"]["p99"] and d["lateness_us"]["p99"] / 1000')
    ROW[clp_max_ms]=$(jget "$d/sample.json" 'd["lateness_us"]["max"] and d["lateness_us"]["max"] / 1000')
    ROW[clp_checks_pct]=$(jget "$d/sample.json" 'd.get("checks_pct_of_schedule")')
    ROW[clp_jitter_note]=$(jget "$d/sample.json" 'd.get("jitter_note")')
    ROW[clp_rm9]=$rm9 ROW[clp_rm9_window]=$rm9_window ROW[clp_not_normal]=$bad
    note "clp N=$n: CPU ${M_CPU} % (children ${M_KIDS} %), RSS ${M_RSS} MiB (peak ${M_HWM}), ${M_THREADS} threads, ${M_FDS} fds;" \
        "local servers ${M_SERVERS} %, host busy ${M_HOST} % of $(nproc) CPUs, load ${M_LOAD0} -> ${M_LOAD1}"
    note "    lateness by type (p50/p99/max us): $(jget "$d/sample.json" '", ".join("%s %s/%s/%s" % (k, v["p50"], v["p99"], v["max"]) for k, v in d["lateness_us_by_kind"].items())')"
    note "    last check duration by type (p50/p99/max us): $(jget "$d/sample.json" '", ".join("%s %s/%s/%s" % (k, v["p50"], v["p99"], v["max"]) for k, v in d["last_check_us_by_kind"].items())')"
    note "    processes on the host: $M_PROCS;" \
        "checks $(jget "$d/sample.json" 'd.get("checks_per_s")')/s = $(jget "$d/sample.json" 'd.get("checks_pct_of_schedule")') % of schedule;" \
        "$(jget "$d/sample.json" 'd["samples"]') clpstat samples every ${every}s, clpstat p50/max $(jget "$d/sample.json" '"%s/%s" % (d["clpstat_ms"]["p50"], d["clpstat_ms"]["max"])') ms"
    local failed
    failed=$(jget "$d/sample.json" '"; ".join(d["clpstat_failures"][:3])')
    [[ -n $failed ]] && note "    !! clpstat --json failed $(jget "$d/sample.json" 'len(d["clpstat_failures"])') times: $failed"
    if (( rm9 > 0 || bad > 0 || errors > 0 )); then
        note "    !! clp N=$n: $rm9 'rm 9' (error detections: $rm9_before before the window, $rm9_window in it," \
            "the rest after), $errors Error/Warning alerts in all, $bad objects not Normal/Online at the end; first lines:"
        { cat "$al".1 "$al" 2>/dev/null | grep -E '^[^ ]+ [^ ]+ (Error|Warning) ' || true; } | head -5 | sed 's/^/        /' | tee -a "$NOTES"
        jget "$d/sample.json" '"\n".join(d.get("not_normal_at_end", []))' | grep . | head -5 | sed 's/^/        /' | tee -a "$NOTES" || true
    fi
    # The ordinary stop; if clppm does not confirm within 2 minutes, the reaper's SIGTERM.
    local t1=$SECONDS
    timeout 150 "$CLP_BIN/clpcl" -t -w 120 >"$d/clpcl-stop.txt" 2>&1 ||
        note "    !! clp N=$n: clpcl -t failed after $((SECONDS - t1)) s: $(tail -1 "$d/clpcl-stop.txt")"
    stop_supervised "$CLP_REAPER"
    CLP_REAPER=0
}

bench_monit() {                  # N
    local n=$1 d=$OUT/monit-$RUN_TAG every pid reaper pool fails
    mkdir -p "$d/out" "$d/pid"
    start_supervised "$d/pool.log" /bin/sh -c \
        'i=1; while [ $i -le '"$WORKERS"' ]; do "$0" "$1" "$2/w$(printf %05d $i).pid" & i=$((i + 1)); done; wait' \
        "$MARKER" "$d/out" "$d/pid"
    pool=$STARTED
    wait_workers "$d/out" "$WORKERS" "$pool"
    scale monit-config "$n" "$WORKERS_MAX" "$d" "$d/pid" "$TCP_PORT" "$HTTP_PORT" "$DISKFILE"
    start_supervised "$d/monit.stderr" "$MONIT" -I -c "$d/monitrc"
    reaper=$STARTED
    sleep 2
    is_gone "$reaper" && { log "monit exited:"; tail "$d/monit.stderr" "$d/monit.log"; return 1; }
    pid=$(child_of "$reaper")
    every=$(sample_every "$n")
    measure "monit" "$n" "$pid" scale_exec sample-monit "$d/monit.sock" "$every" "$MEASURE" "$d/sample.json"
    # Its operator's command (`monit summary`, through the same socket), as clpstat above.
    scale time-command "$STATUS_RUNS" "$d/summary-timed.json" "$MONIT" -c "$d/monitrc" summary
    ROW[monit_status_p50_ms]=$(jget "$d/summary-timed.json" 'd["ms"]["p50"]')
    ROW[monit_status_max_ms]=$(jget "$d/summary-timed.json" 'd["ms"]["max"]')
    fails=$(grep -ciE 'error|failed|does not exist' "$d/monit.log" || true)
    ROW[monit_cpu]=$M_CPU ROW[monit_kids]=$M_KIDS ROW[monit_rss]=$M_RSS ROW[monit_hwm]=$M_HWM
    ROW[monit_threads]=$M_THREADS ROW[monit_servers]=$M_SERVERS ROW[monit_host]=$M_HOST
    ROW[monit_load]="$M_LOAD0-$M_LOAD1" ROW[monit_every]=$every
    ROW[monit_cycle_p50_ms]=$(jget "$d/sample.json" 'd["cycle_ms"]["p50"]')
    ROW[monit_cycle_p99_ms]=$(jget "$d/sample.json" 'd["cycle_ms"]["p99"]')
    ROW[monit_cycle_max_ms]=$(jget "$d/sample.json" 'd["cycle_ms"]["max"]')
    ROW[monit_failures]=$fails
    ROW[monit_cycle_note]=$(jget "$d/sample.json" 'd.get("cycle_note")')
    note "monit N=$n: CPU ${M_CPU} % (children ${M_KIDS} %), RSS ${M_RSS} MiB (peak ${M_HWM}), ${M_THREADS} threads;" \
        "local servers ${M_SERVERS} %, host busy ${M_HOST} % of $(nproc) CPUs, load ${M_LOAD0} -> ${M_LOAD1}"
    note "    cycle (first check -> last) p50/p99/max ms: $(jget "$d/sample.json" 'd.get("cycle_note") or "%s/%s/%s" % (d["cycle_ms"]["p50"], d["cycle_ms"]["p99"], d["cycle_ms"]["max"])')" \
        "($(jget "$d/sample.json" 'd["cycle_ms"]["n"]') cycles seen in $(jget "$d/sample.json" 'd["samples"]') XML samples every ${every}s," \
        "$(jget "$d/sample.json" 'd["mid_cycle_samples"]') of them mid-cycle); XML p50/max $(jget "$d/sample.json" '"%s/%s" % (d["xml_ms"]["p50"], d["xml_ms"]["max"])') ms;" \
        "processes on the host: $M_PROCS"
    note "    monit summary, whole process, $STATUS_RUNS runs after the window:" \
        "p50/p90/max $(jget "$d/summary-timed.json" '"%s/%s/%s" % (d["ms"]["p50"], d["ms"]["p90"], d["ms"]["max"])') ms," \
        "exit codes $(jget "$d/summary-timed.json" 'd["exit_codes"]')"
    if (( fails > 0 )) || [[ $(jget "$d/sample.json" 'd["failing_services_max"] or 0') != 0 ]]; then
        note "    !! monit N=$n: $fails error lines in monit.log, up to $(jget "$d/sample.json" 'd["failing_services_max"]') failing services; first lines:"
        { grep -iE 'error|failed|does not exist' "$d/monit.log" || true; } | head -3 | sed 's/^/        /' | tee -a "$NOTES"
    fi
    stop_supervised "$reaper"
    stop_supervised "$pool"
}

bench_floor() {                  # N: the mix's tcpw and httpw probes alone, for MEASURE seconds
    local n=$1 tcpw httpw line
    IFS=/ read -r _ _ tcpw httpw _ <<<"$MIX"
    log "floor N=$n: $tcpw tcp + $httpw http probes a second, ${MEASURE} s"
    line=$("${SUP_PIN[@]}" "$OUT/probe_floor" "$TCP_PORT" "$HTTP_PORT" "$tcpw" "$httpw" "$MEASURE") ||
        log "floor N=$n: some probes failed: $line"
    note "floor N=$n (probe_floor.c, the mix's network probes alone): ${line#probe floor: }"
}

# ---------------------------------------------------------------- main
log "building the helpers"
build_helpers
for s in $SUPERVISORS; do
    case $s in
        clp) log "building clp (release)"; build_clp ;;
        monit) install_monit ;;
        floor) gcc -O2 -Wall -Wextra -o "$OUT/probe_floor" "$HERE/probe_floor.c" ;;
        *) echo "unknown supervisor '$s' (clp, monit, floor)" >&2; exit 2 ;;
    esac
done
VERSIONS=()
[[ " $SUPERVISORS " == *" clp "* ]] && VERSIONS+=("$(clp_version)")
[[ " $SUPERVISORS " == *" monit "* ]] && VERSIONS+=("monit $(monit_version) (Debian $(cat "$CACHE/monit/deb-version") binary)")
{
    environment_report
    echo "ulimit -n: $(ulimit -n)"
} | tee "$OUT/environment.txt"
log "output: $OUT"

# The local servers, shared by every run (and measured: their CPU is in the notes).
mkdir -p "$OUT/www"
DISKFILE=$OUT/diskw.dat
head -c 4096 /dev/urandom >"$DISKFILE"
if [[ $SERVERS == c ]]; then
    gcc -O2 -Wall -Wextra -o "$OUT/server" "$HERE/server.c"
    start_supervised "$OUT/serve-tcp.log" "$OUT/server" tcp "$OUT/tcp.port"
    TCP_REAPER=$STARTED
    start_supervised "$OUT/serve-http.log" "$OUT/server" http "$OUT/http.port"
    HTTP_REAPER=$STARTED
else
    start_supervised "$OUT/serve-tcp.log" python3 "$HERE/scale.py" serve-tcp "$OUT/tcp.port"
    TCP_REAPER=$STARTED
    start_supervised "$OUT/serve-http.log" python3 "$HERE/scale.py" serve-http "$OUT/http.port" "$OUT/www"
    HTTP_REAPER=$STARTED
fi
for _ in $(seq 50); do [[ -s $OUT/tcp.port && -s $OUT/http.port ]] && break; sleep 0.1; done
TCP_PORT=$(<"$OUT/tcp.port") HTTP_PORT=$(<"$OUT/http.port")
SERVER_PIDS=("$(child_of "$TCP_REAPER")" "$(child_of "$HTTP_REAPER")")
curl -sfI "http://127.0.0.1:$HTTP_PORT/" >/dev/null || { log "the HTTP server does not answer"; exit 1; }
log "listeners ($SERVERS servers): tcp 127.0.0.1:$TCP_PORT, http 127.0.0.1:$HTTP_PORT"
echo "local servers: $([[ $SERVERS == c ]] && echo "benches/scale/server.c (one epoll loop each)" || echo "scale.py (python)")" >>"$OUT/environment.txt"

COLS=(n round mix clp_cpu clp_rss clp_p50_ms clp_p99_ms clp_max_ms clp_checks_pct monit_cpu monit_rss
      monit_cycle_p50_ms monit_cycle_p99_ms monit_cycle_max_ms
      clp_status_p50_ms clp_status_max_ms monit_status_p50_ms monit_status_max_ms
      clp_kids clp_hwm clp_threads clp_fds clp_servers clp_host clp_load clp_every clp_rm9 clp_rm9_window clp_not_normal
      monit_kids monit_hwm monit_threads monit_servers monit_host monit_load monit_every monit_failures clp_jitter_note monit_cycle_note)
(IFS=$'\t'; echo "${COLS[*]}") >"$RESULTS"
: >"$NOTES"

for n in "${NS[@]}"; do
    read -r WORKERS MIX CAPPED < <(scale mix "$n" "$WORKERS_MAX")
    for ((round = 1; round <= ROUNDS; round++)); do
        # Where a run's files go: clp-1000, or clp-1000.r2 for a later round.
        RUN_TAG=$n
        (( ROUNDS > 1 )) && RUN_TAG=$n.r$round
        ROW=([n]=$n [round]=$round [mix]=$MIX)
        ROUND_NOTE=
        (( ROUNDS > 1 )) && ROUND_NOTE=", round $round of $ROUNDS"
        note "N=$n$ROUND_NOTE: pidw/psw/tcpw/httpw/diskw = $MIX, $WORKERS worker processes${CAPPED:+ $CAPPED}"
        for s in $SUPERVISORS; do
            "bench_$s" "$n"
        done
        line=()
        for c in "${COLS[@]}"; do line+=("${ROW[$c]:-}"); done
        (IFS=$'\t'; echo "${line[*]}") >>"$RESULTS"
    done
done
echo "loadavg at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/environment.txt"

{
    echo
    echo "scale: ${WARMUP} s warm-up, ${MEASURE} s measured per daemon, $ROUNDS round(s) each; every check at 1 s; CPU = % of one core"
    echo "(daemon's CPU clock + cutime+cstime), RSS = VmRSS at the end; clp jitter = clpstat last_lateness_us"
    echo "over all monitors x samples (the last check of each at each sample); clp checks = checks done as % of"
    echo "the 1 s schedule; monit cycle = first check -> last check of one cycle (each check runs that much"
    echo "later than 1 s: monit's counterpart of lateness)."
    scale table "$RESULTS"
    echo
    cat "$NOTES"
    echo
    cat "$OUT/environment.txt"
    printf 'versions: %s\n' "${VERSIONS[@]}"
    echo "raw: $OUT (results.tsv, */sample.json, clp-*/root/log, monit-*/monit.log)"
} | tee "$OUT/table.txt"
