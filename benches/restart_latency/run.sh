#!/usr/bin/env bash
# kill -9 -> restarted latency of one supervised process: clp vs supervisord vs monit.
#
#   benches/restart_latency/run.sh [KILLS]        (default 100 kills per supervisor)
#
# Recipe: shared/reference/peers.md section 4.2. The same victim (marker.c) runs under
# each supervisor in turn, never two at once; every supervisor runs in the foreground
# under the same sub-reaper (reaper.c); the driver (killbench.py) kills the victim at a
# random 1.5-2.5 s phase and takes the latency from the new victim's own start time.
# One run takes about KILLS x 7.5 s in all (supervisord alone ~3 s per kill).
#
# Runs as root on Debian 12; installs its peers itself, into bench-out/ (gitignored):
# supervisor from PyPI into a venv, monit as the extracted Debian package (not installed).
# Every artefact of the run goes to a fresh bench-out/restart_latency.XXXXXX/.
#
# Environment knobs:
#   SUPERVISORS="clp supervisord monit floor"   which ones to measure, in this order. floor
#                    (floor.c) is no supervisor but the host's share: the same start script
#                    started again by a C loop blocked in waitpid, nothing else; with LOAD it
#                    also runs beside a clppm with the load (on the same CPU when pinned)
#   PIN=1|0          pin supervisor+victim to CPU 1 and the driver to CPU 0 (default: 1 when
#                    there are >= 2 CPUs): the driver's polling then never competes with them
#   SKIP_BUILD=1     use the existing target/release binaries
#   SUPERVISOR_VERSION=4.3.0   pin the PyPI version (default: the latest)
#   CLP_CLEAR_COUNTERS=1       also clear clp's recovery counters every 20 kills. Off by
#                    default: clp must reset them itself (a healthy pidw check resets them),
#                    and clearing would hide it if it did not. The counters are logged either way.
#   LOAD=N           also measure clp under load: after the ordinary clp run, the same kills
#                    against a clppm that also runs the scale benchmark's mix of N monitors
#                    (benches/scale/scale.py clp-config: pidw/psw/tcpw/httpw/diskw 40/20/20/10/10
#                    at interval 1 s, its worker processes and its two local servers, benches/scale/server.c);
#                    the table shows both clp rows beside the peers (which run unloaded).
#   WORKERS_MAX=1000 the load's cap on pidw worker processes (as in benches/scale)
#   GAP=S            seconds between two kills (default: a random 1.5-2.5 s). A long gap (GAP=90)
#                    measures a restart after a quiet spell: on a host that reclaims cold pages
#                    (DAMON's pageout, memory pressure) the code of the restart path may have
#                    left memory by then and comes back from disk.
set -euo pipefail

KILLS=${1:-100}
[[ $KILLS =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [KILLS]" >&2; exit 2; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$HERE/../.." && pwd -P)
CACHE=$REPO/bench-out            # peers are installed here once and reused by later runs
mkdir -p "$CACHE"
OUT=$(mktemp -d "$CACHE/restart_latency.XXXXXX")
SUPERVISORS=${SUPERVISORS:-"clp supervisord monit floor"}
LOAD=${LOAD:-0}
[[ $LOAD =~ ^[0-9]+$ ]] && { (( LOAD == 0 )) || (( LOAD >= 10 && LOAD <= 99999 )); } ||
    { echo "LOAD must be 0 or 10..99999 monitors" >&2; exit 2; }
WORKERS_MAX=${WORKERS_MAX:-1000}
GAP=${GAP:-}
GAP_ARGS=()
if [[ -n $GAP ]]; then
    [[ $GAP =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "GAP must be a number of seconds" >&2; exit 2; }
    GAP_ARGS=(--min-gap "$GAP" --max-gap "$GAP")
fi
HOOK_EVERY=20
SCALE_PY=$REPO/benches/scale/scale.py

if [[ -z ${PIN:-} ]]; then
    PIN=0
    (( $(nproc) >= 2 )) && PIN=1
fi
SUP_PIN=() DRV_PIN=()
if [[ $PIN == 1 ]]; then
    SUP_PIN=(taskset -c 1)
    DRV_PIN=(taskset -c 0)
fi

# shellcheck source=../common.sh
source "$REPO/benches/common.sh"
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
RESULTS=()

drive() {                        # NAME LABEL VERSION SETTINGS [driver options...]
    local name=$1 label=$2 version=$3 settings=$4 rc=0
    shift 4
    log "$label: $KILLS kills"
    "${DRV_PIN[@]}" python3 "$HERE/killbench.py" run \
        --label "$label" --version "$version" --settings "$settings" \
        --pidfile "$OUT/$name/m.pid" --outdir "$OUT/$name/out" --marker "$MARKER" \
        --kills "$KILLS" --result "$OUT/$name/result.json" "${GAP_ARGS[@]}" "$@" || rc=$?
    RESULTS+=("$OUT/$name/result.json")
    (( rc == 0 )) || log "$label: the driver reported missed restarts or no samples (see $OUT/$name)"
}

# The scale benchmark's local servers (for LOAD's tcpw and httpw), started once.
start_load_servers() {
    mkdir -p "$OUT/www"
    LOAD_DISKFILE=$OUT/diskw.dat
    head -c 4096 /dev/urandom >"$LOAD_DISKFILE"
    # The scale benchmark's C servers (one epoll loop each): Python's would spend more of
    # the two CPUs than the probes they answer.
    gcc -O2 -Wall -Wextra -o "$OUT/server" "$HERE/../scale/server.c"
    start_supervised "$OUT/serve-tcp.log" "$OUT/server" tcp "$OUT/tcp.port"
    start_supervised "$OUT/serve-http.log" "$OUT/server" http "$OUT/http.port"
    for _ in $(seq 50); do [[ -s $OUT/tcp.port && -s $OUT/http.port ]] && break; sleep 0.1; done
    [[ -s $OUT/tcp.port && -s $OUT/http.port ]] || { log "the load's local servers did not start"; return 1; }
}

# The scale benchmark's configuration of LOAD monitors in $CLP_ROOT (its groups g00001..,
# monitors pidw00001..); sets LOAD_WORKERS and LOAD_MIX. Its workers write to DIR/load/out
# (kill_stray_victims finds them).
write_load_config() {            # DIR LOAD
    local d=$1 load=$2
    mkdir -p "$d/load/out" "$d/load/pid"
    python3 "$SCALE_PY" clp-config "$load" "$WORKERS_MAX" "$CLP_ROOT" "$MARKER" \
        "$d/load/out" "$d/load/pid" "$(<"$OUT/tcp.port")" "$(<"$OUT/http.port")" "$LOAD_DISKFILE"
    read -r LOAD_WORKERS LOAD_MIX _ < <(python3 "$SCALE_PY" mix "$load" "$WORKERS_MAX")
}

register_licenses() {            # DIR LOAD: the core trial, and httpw's (as in benches/scale)
    clp_register_trial "$1/license.txt"
    if (( $2 > 0 )); then
        "$CLP_BIN/clplcncs" --trial -P ISAG10 >>"$1/license.txt" 2>&1 || { cat "$1/license.txt" >&2; return 1; }
    fi
}

wait_load_workers() {            # DIR LABEL: until the load's workers are up, then 10 s to settle
    local d=$1 i
    for ((i = 0; i < 3000; i++)); do
        (( $(find "$d/load/out" -maxdepth 1 -name 'start.*' | wc -l) >= LOAD_WORKERS )) && break
        sleep 0.1
    done
    log "$2: $(find "$d/load/out" -maxdepth 1 -name 'start.*' | wc -l) of $LOAD_WORKERS load workers up; 10 s to settle"
    sleep 10
}

# The start script of the victim, for clp and the floor alike: it exec's the marker, which
# writes DIR/out/start.PID and DIR/m.pid.
write_start_script() {           # PATH DIR
    cat >"$1" <<EOF
#!/bin/sh
# exec: the marker must be the resource process itself, not a child of this shell.
exec "$MARKER" "$2/out" "$2/m.pid"
EOF
    chmod +x "$1"
}

bench_clp() {                    # [LOAD]: 0, or the scale mix of LOAD monitors in the same clppm
    local load=${1:-0} name=clp label="clp (pidw, event)" d scripts version hook
    (( load > 0 )) && name=clp-load label="clp (pidw, event) + $load monitors"
    d=$OUT/$name
    mkdir -p "$d/out"
    export CLP_ROOT=$d/root CLP_FORBID_OS_ACTIONS=1
    scripts=$CLP_ROOT/etc/scripts/failover/exec
    # This benchmark's group and monitor are appended below the load's (TOML arrays of
    # tables may continue further down).
    (( load > 0 )) && write_load_config "$d" "$load"
    mkdir -p "$scripts"
    # interval = 1: pidw learns of the exit as an event (no polling), but the reactivation
    # counter only resets at a periodic check that finds the process healthy. With kills
    # 1.5-2.5 s apart, a 1 s interval leaves at least one such check between kills, so the
    # 99-step ladder never runs out; the restart itself has no configured delay.
    (( load > 0 )) || printf '[cluster]\nname = "bench"\n' >"$CLP_ROOT/etc/clp.conf"
    cat >>"$CLP_ROOT/etc/clp.conf" <<EOF

[[group]]
name = "failover"

[[group.resource]]
name = "exec"
mode = "async"          # the start script's process is the resource, watched by pidw

[group.resource.deactivation]
final_action = "stop-daemon"

[[monitor]]
name = "pidw"
type = "pidw"
target = "exec"
interval = 1

[monitor.recovery]
target = "exec"
reactivation_threshold = 99
final_action = "none"
EOF
    write_start_script "$scripts/start.sh" "$d"

    register_licenses "$d" "$load"
    # Started directly in the foreground under the reaper (not detached by clpcl -s), so it
    # runs exactly like the peers.
    start_supervised "$d/clppm.stderr" "$CLP_BIN/clppm" --foreground
    CLP_REAPER=$STARTED
    # Wait for the victim's pidfile rather than polling clpstat: a clpstat that runs before
    # clppm has taken its store opens the store itself (offline status), and clppm then
    # exits with "the store ... is in use by another process" (start-up race in clp).
    local i
    for ((i = 0; i < 3000; i++)); do
        [[ -s $d/m.pid ]] && break
        is_gone "$CLP_REAPER" && { log "clppm exited at start-up:"; tail "$d/clppm.stderr"; return 1; }
        sleep 0.1
    done
    (( load > 0 )) && wait_load_workers "$d" "$label"
    "$CLP_BIN/clpstat" >"$d/clpstat.before.txt" 2>&1 || true

    version=$(clp_version)
    # Read right after a restart, the reactivation count is 1 (this restart); it must be
    # back to 0 at the next healthy check, so it never climbs across kills.
    hook="echo '--- counters'; '$CLP_BIN/clpmonctrl' -v"
    [[ ${CLP_CLEAR_COUNTERS:-0} == 1 ]] && hook+="; '$CLP_BIN/clpmonctrl' -c"
    local settings="pidw interval=1s (exit seen as an event), reactivation_threshold=99, no restart delay; victim exec'd by an async start.sh"
    (( load > 0 )) && settings+="; the same clppm also runs the scale mix of $load monitors ($LOAD_MIX pidw/psw/tcpw/httpw/diskw, interval 1 s)"
    drive "$name" "$label" "$version" "$settings" --hook "$hook" --hook-every "$HOOK_EVERY"

    # What the daemon did, for the record: restarts logged, warnings/errors, still alive?
    "$CLP_BIN/clpstat" >"$d/clpstat.after.txt" 2>&1 || true
    "$CLP_BIN/clpmonctrl" -v >"$d/counters.after.txt" 2>&1 || true
    if is_gone "$CLP_REAPER"; then
        log "clp: the daemon is no longer running after the kills! last log lines:"
        tail -20 "$CLP_ROOT/log/clppm.log" || true
    fi
    log "$label: $(grep -c 'Recovery target exec has restarted' "$CLP_ROOT/log/clppm.log" || true) restarts logged," \
        "$(grep -c ' ERROR ' "$CLP_ROOT/log/clppm.log" || true) ERROR lines in clppm.log"
    "$CLP_BIN/clpcl" -t -w 120 >"$d/clpcl-stop.txt" 2>&1 || log "$label: clpcl -t failed: $(cat "$d/clpcl-stop.txt")"
    stop_supervised "$CLP_REAPER"
    CLP_REAPER=0
}

bench_supervisord() {
    local d=$OUT/supervisord bin=$SUPERVISORD version
    mkdir -p "$d/out" "$d/childlogs"
    # The recipe's configuration: defaults apart from autorestart (startsecs=1 default).
    cat >"$d/supervisord.conf" <<EOF
[supervisord]
nodaemon=true
user=root
logfile=$d/supervisord.log
pidfile=$d/supervisord.pid
childlogdir=$d/childlogs

[program:m]
command=$MARKER $d/out $d/m.pid
autorestart=true
EOF
    start_supervised "$d/supervisord.stderr" "$bin" -c "$d/supervisord.conf"
    local pid=$STARTED
    version="supervisord $("$bin" --version), $("$CACHE/venv/bin/python" --version)"
    drive supervisord "supervisord $("$bin" --version)" "$version" \
        "autorestart=true, startsecs=1 (default); no restart-delay knob: the restart waits for the next poll(1 s) loop iteration"
    stop_supervised "$pid"
}

bench_monit() {
    local d=$OUT/monit bin=$MONIT ver
    mkdir -p "$d/out"
    # 1 s is monit's shortest cycle. The start program backgrounds the victim (monit expects
    # a daemon), so the victim is orphaned and adopted by the reaper.
    cat >"$d/monitrc" <<EOF
set daemon 1
set log $d/monit.log
set pidfile $d/monit.pid
set idfile $d/monit.id
set statefile $d/monit.state
set httpd unixsocket $d/monit.sock
    allow localhost

check process m with pidfile $d/m.pid
    start program = "/bin/sh -c '$MARKER $d/out $d/m.pid >/dev/null 2>&1 &'"
    stop program  = "/bin/sh -c 'kill \$(cat $d/m.pid)'"
EOF
    chmod 600 "$d/monitrc"
    start_supervised "$d/monit.stderr" "$bin" -I -c "$d/monitrc"
    local pid=$STARTED
    ver=$(monit_version)
    drive monit "monit $ver (daemon 1)" "monit $ver (Debian $(cat "$CACHE/monit/deb-version") binary)" \
        "set daemon 1 (the minimum cycle); the restart happens at the next cycle; start program backgrounds the victim"
    stop_supervised "$pid"
}

bench_floor() {                  # [LOAD]: 0, or beside a clppm running the scale mix of LOAD monitors
    local load=${1:-0} name=floor label="floor (waitpid + posix_spawn)" d pid
    local settings="floor.c: /bin/sh start.sh posix_spawn'ed as a process group leader, waitpid, again at once; the start script exec's the victim, as clp's"
    (( load > 0 )) && name=floor-load label="floor + clppm with $load monitors"
    d=$OUT/$name
    mkdir -p "$d/out"
    if (( load > 0 )); then
        export CLP_ROOT=$d/root CLP_FORBID_OS_ACTIONS=1
        write_load_config "$d" "$load"
        register_licenses "$d" "$load"
        start_supervised "$d/clppm.stderr" "$CLP_BIN/clppm" --foreground
        CLP_REAPER=$STARTED
        wait_load_workers "$d" "$label"
        is_gone "$CLP_REAPER" && { log "$label: clppm exited:"; tail "$d/clppm.stderr"; return 1; }
        settings+="; beside it a clppm runs the scale mix of $load monitors ($LOAD_MIX pidw/psw/tcpw/httpw/diskw, interval 1 s)$([[ $PIN == 1 ]] && echo ', pinned to the same CPU')"
    fi
    write_start_script "$d/start.sh" "$d"
    start_supervised "$d/floor.stderr" "$OUT/floor-loop" "$d/start.sh"
    pid=$STARTED
    drive "$name" "$label" "floor.c of this benchmark" "$settings"
    stop_supervised "$pid"
    if (( load > 0 )); then
        stop_clp_if_running "$CLP_REAPER"
        stop_supervised "$CLP_REAPER"
        CLP_REAPER=0
    fi
}

# ---------------------------------------------------------------- main
log "building the helpers"
build_helpers
for s in $SUPERVISORS; do
    case $s in
        clp) log "building clp (release)"; build_clp ;;
        supervisord) install_supervisord ;;
        monit) install_monit ;;
        floor) gcc -O2 -Wall -Wextra -o "$OUT/floor-loop" "$HERE/floor.c" ;;
        *) echo "unknown supervisor '$s' (clp, supervisord, monit, floor)" >&2; exit 2 ;;
    esac
done

{
    environment_report
    echo "pinning: $([[ $PIN == 1 ]] && echo 'supervisor+victim on CPU 1, driver on CPU 0' || echo none)"
} | tee "$OUT/environment.txt"
log "output: $OUT"

(( LOAD > 0 )) && start_load_servers
for s in $SUPERVISORS; do
    "bench_$s"
    # Under load too, right after the ordinary run.
    [[ $s == clp || $s == floor ]] && (( LOAD > 0 )) && "bench_$s" "$LOAD"
done
echo "loadavg at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/environment.txt"

echo
python3 "$HERE/killbench.py" table "${RESULTS[@]}" | tee "$OUT/table.txt"
echo
echo "raw samples: $OUT/*/result.json.raw.tsv"
