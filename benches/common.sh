# Shared by the benchmark scripts under benches/ (sourced, not run).
#
# Expects: REPO (the workspace), CACHE (bench-out/, where peers are installed once and
# reused), OUT (this run's folder). Optional: SUP_PIN, an array prefixed to every
# supervisor's command line (e.g. taskset).
#
# Only processes a benchmark started are ever signalled, and always by pid: the reapers
# (which take their supervisor and its orphans down with them) and victims that a start
# file proves are ours.

BENCHES=$REPO/benches
HELPERS=$BENCHES/restart_latency      # marker.c, reaper.c, killbench.py
MARKER=$OUT/marker
REAPER=$OUT/reaper
CLP_PROFILE=${CLP_PROFILE:-release}  # cargo profile: release, or profiling (symbols, for perf)
CLP_BIN=${CLP_BIN:-$REPO/target/$CLP_PROFILE}   # or any folder of built binaries (with SKIP_BUILD=1)
REAPERS=()
[[ -v SUP_PIN ]] || SUP_PIN=()

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*"; }

is_gone() {                      # PID: has exited (a zombie counts as exited)
    local state
    state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
    [[ -z $state || $state == Z || $state == X ]]
}

wait_gone() {                    # PID SECONDS
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        is_gone "$1" && return 0
        sleep 0.1
    done
    is_gone "$1"
}

child_of() {                     # REAPER_PID: the supervisor it runs
    local c
    c=$(cat "/proc/$1/task/$1/children" 2>/dev/null) || return 1
    c=${c%% *}
    [[ -n $c ]] && echo "$c"
}

start_supervised() {             # LOGFILE CMD... : CMD under the reaper, in the background
    local logfile=$1
    shift
    "${SUP_PIN[@]}" "$REAPER" "$@" >"$logfile" 2>&1 </dev/null &
    REAPERS+=("$!")
    STARTED=$!
}

nap() {                          # SECONDS: sleep that a signal ends at once (a foreground
    sleep "$1" &                 # `sleep` holds bash's traps until it ends: a stopped
    wait $!                      # 3000 s window would leave everything running that long)
}

stop_supervised() {              # REAPER_PID: the ordinary stop, escalating only if ignored
    local pid=$1 child
    if ! is_gone "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true       # the reaper passes it on
        if ! wait_gone "$pid" 15; then
            child=$(child_of "$pid" || true)
            log "pid $pid ignored SIGTERM for 15 s; SIGKILL to its child ${child:-?}"
            [[ -n $child ]] && kill -KILL "$child" 2>/dev/null || true
            wait_gone "$pid" 5 || kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || true
}

stop_clp_if_running() {          # REAPER_PID of clppm: clpcl -t first (stops the groups)
    if [[ -n ${CLP_ROOT:-} && -x $CLP_BIN/clpcl ]] && ! is_gone "${1:-0}"; then
        "$CLP_BIN/clpcl" -t -w 60 >/dev/null 2>&1 || true
    fi
}

kill_stray_victims() {           # any victim still alive under $OUT: its start file proves it ours
    local f pid
    for f in "$OUT"/*/out/start.* "$OUT"/*/*/out/start.*; do
        [[ -e $f ]] || continue
        pid=${f##*.}
        if [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$MARKER" ]]; then
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
}

cpu_ns() {                       # PID... -> a line each: "OWN_NS CHILDREN_NS"
    # OWN: the process's CPU time in ns, exact (its CPU clock: every thread's, the exited
    # ones' too), where /proc/PID/stat counts whole clock ticks (1/100 s: at 1 % of a core,
    # a 30 s window is 30 ticks, each 3 % of the figure). CHILDREN: its reaped children's,
    # which /proc keeps in ticks only.
    python3 - "$@" <<'EOF'
import os, sys, time
tick = 1e9 / os.sysconf("SC_CLK_TCK")
for pid in map(int, sys.argv[1:]):
    own = time.clock_gettime_ns((~pid << 3) | 2)  # MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED)
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()  # fields[0] is field 3 (state)
    print(own, round((int(fields[13]) + int(fields[14])) * tick))
EOF
}

pct_of_core() {                  # NS SECONDS: CPU time as a percentage of one core
    awk -v d="$1" -v s="$2" 'BEGIN {printf "%.2f", d / 1e9 / s * 100}'
}

save_smaps() {                   # PID PREFIX: the daemon's mappings, for benches/rss_by_mapping.py
    cat "/proc/$1/smaps" >"$2.smaps" 2>/dev/null || true
    cat "/proc/$1/smaps_rollup" >"$2.smaps_rollup" 2>/dev/null || true
}

build_helpers() {
    gcc -O2 -Wall -Wextra -o "$MARKER" "$HELPERS/marker.c"
    gcc -O2 -Wall -Wextra -o "$REAPER" "$HELPERS/reaper.c"
}

build_clp() {                    # unless SKIP_BUILD=1
    [[ ${SKIP_BUILD:-0} == 1 ]] && return
    (cd "$REPO" && cargo build --profile "$CLP_PROFILE" --bins) >"$OUT/cargo-build.log" 2>&1 || {
        tail -20 "$OUT/cargo-build.log" >&2
        return 1
    }
}

clp_version() {
    local v
    v="clp $("$CLP_BIN/clppm" --version | awk '{print $NF}'), git $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')"
    [[ -n $(git -C "$REPO" status --porcelain -- core bins Cargo.toml 2>/dev/null) ]] && v+="+uncommitted"
    [[ ${SKIP_BUILD:-0} == 1 ]] && v+=" (SKIP_BUILD: existing binary, may not match)"
    echo "$v"
}

clp_register_trial() {           # LOGFILE: clppm refuses to start without a core license
    # A trial is per store, and every run has a fresh CLP_ROOT. Run before clppm starts:
    # the command opens the store itself. (Builds before licensing have no clplcncs.)
    [[ -x $CLP_BIN/clplcncs ]] || return 0
    "$CLP_BIN/clplcncs" --trial -P XSS10 >"$1" 2>&1 || { cat "$1" >&2; return 1; }
}

install_supervisord() {          # into $CACHE/venv; SUPERVISOR_VERSION pins it (default: latest)
    local venv=$CACHE/venv spec=supervisor
    [[ -n ${SUPERVISOR_VERSION:-} ]] && spec="supervisor==$SUPERVISOR_VERSION"
    if [[ -x $venv/bin/supervisord ]] && { [[ -z ${SUPERVISOR_VERSION:-} ]] ||
        [[ $("$venv/bin/supervisord" --version) == "$SUPERVISOR_VERSION" ]]; }; then
        return
    fi
    log "installing $spec into $venv"
    # Debian's python3 has no venv module until python3-venv is installed.
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
        rm -rf "$venv"
        apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
        python3 -m venv "$venv"
    fi
    "$venv/bin/pip" install -q --disable-pip-version-check "$spec"
}
SUPERVISORD=$CACHE/venv/bin/supervisord

install_monit() {                # the Debian package, extracted into $CACHE/monit, not installed
    local dir=$CACHE/monit deb
    [[ -x $dir/usr/bin/monit ]] && return
    log "downloading the Debian monit package into $dir (extracted, not installed)"
    mkdir -p "$dir/deb"
    # apt warns that _apt cannot write here and downloads as root: harmless.
    (cd "$dir/deb" && { apt-get download monit 2>/dev/null ||
        { apt-get update -qq && apt-get download monit; }; })
    deb=$(ls "$dir"/deb/monit_*.deb | head -1)
    dpkg-deb -x "$deb" "$dir"
    dpkg-deb -f "$deb" Version >"$dir/deb-version"
}
MONIT=$CACHE/monit/usr/bin/monit
monit_version() { "$MONIT" -V | awk '/version/ {print $NF; exit}'; }

environment_report() {           # what the numbers depend on
    echo "date:    $(date -u +%FT%TZ)"
    echo "host:    $(uname -srm), $(nproc) CPUs, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
    echo "python:  $(python3 --version)"
    echo "loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg)"
}
