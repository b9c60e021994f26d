#!/usr/bin/env python3
"""kill -9 -> restarted latency driver (stdlib only).

  killbench.py run --label L --pidfile F --outdir D --marker M --kills N --result R.json [...]
  killbench.py table R1.json R2.json ...

`run` repeatedly SIGKILLs the victim named in PIDFILE and waits for the supervisor to
start a new one. The latency is the new victim's own start timestamp (written by
marker.c as its first action, CLOCK_REALTIME) minus the time just before kill(2), so
the driver's polling speed does not inflate the numbers.

`table` prints the side-by-side summary from the JSON files `run` wrote.
"""

import argparse
import json
import math
import os
import random
import signal
import subprocess
import sys
import time


def read_int(path):
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


class Victims:
    """Finds the current victim, and proves it is one of ours before it gets a signal."""

    def __init__(self, pidfile, outdir, marker):
        self.pidfile = pidfile
        self.outdir = outdir
        self.marker = os.path.realpath(marker)

    def start_ns(self, pid):
        return read_int(os.path.join(self.outdir, "start.%d" % pid))

    def current(self):
        """The pid of a live victim of this run, or None.

        A pid counts only if our marker binary is running under it and it wrote a start
        file into our outdir: a stale pidfile whose pid was reused is never signalled.
        """
        pid = read_int(self.pidfile)
        if pid is None or pid <= 1 or self.start_ns(pid) is None:
            return None
        try:
            if os.readlink("/proc/%d/exe" % pid) != self.marker:
                return None
            with open("/proc/%d/stat" % pid) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            return None
        # A killed victim that nobody has reaped yet is not "running".
        return None if state in ("Z", "X") else pid


def wait_for(predicate, timeout, step):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value is not None:
            return value
        time.sleep(step)
    return None


def percentile(sorted_values, p):
    """Nearest-rank percentile: with n = 100, p99 is the 99th smallest value."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100.0 * len(sorted_values)))
    return sorted_values[rank - 1]


def run(args):
    victims = Victims(args.pidfile, args.outdir, args.marker)
    rng = random.Random(args.seed)
    samples, lost, anomalies, hook_log = [], 0, [], []
    raw = open(args.result + ".raw.tsv", "w")
    raw.write("kill\told_pid\tnew_pid\tkill_ns\tstart_ns\tlatency_ms\n")

    first = wait_for(victims.current, args.timeout, 0.01)
    if first is None:
        sys.exit("%s: no live victim in %s after %ss" % (args.label, args.pidfile, args.timeout))

    consecutive_lost = 0
    for i in range(1, args.kills + 1):
        pid = wait_for(victims.current, args.timeout, 0.01)
        if pid is None:
            print("%s: kill %d: no live victim to kill, stopping" % (args.label, i), file=sys.stderr)
            break
        if args.hook and args.hook_every and i > 1 and (i - 1) % args.hook_every == 0:
            # Between kills, while the victim is known to be up: never inside a measurement.
            out = subprocess.run(args.hook, shell=True, capture_output=True, text=True)
            hook_log.append({"before_kill": i, "rc": out.returncode, "output": out.stdout + out.stderr})
        # A random phase against the supervisors' poll cycles (monit's latency depends on
        # it); the 1.5 s minimum also keeps supervisord past startsecs=1 (else: BACKOFF).
        time.sleep(rng.uniform(args.min_gap, args.max_gap))
        pid = victims.current()
        if pid is None:
            anomalies.append("kill %d: victim vanished before the kill" % i)
            continue

        t0 = time.time_ns()
        os.kill(pid, signal.SIGKILL)

        def restarted():
            new = victims.current()
            return new if new is not None and new != pid else None

        new = wait_for(restarted, args.timeout, 0.001)
        if new is None:
            lost += 1
            consecutive_lost += 1
            raw.write("%d\t%d\t-\t%d\t-\t-\n" % (i, pid, t0))
            print("%s: kill %d: not restarted within %ss" % (args.label, i, args.timeout), file=sys.stderr)
            if consecutive_lost >= 3:
                print("%s: 3 restarts missed in a row, giving up" % args.label, file=sys.stderr)
                break
            continue
        consecutive_lost = 0
        start = victims.start_ns(new)
        ms = (start - t0) / 1e6
        if ms < 0:
            anomalies.append("kill %d: pid %d started %.3f ms before the kill" % (i, new, -ms))
        samples.append(ms)
        raw.write("%d\t%d\t%d\t%d\t%d\t%.3f\n" % (i, pid, new, t0, start, ms))
        raw.flush()
        if args.progress and i % args.progress == 0:
            print("  %s: %d/%d kills, last %.1f ms" % (args.label, i, args.kills, ms), flush=True)
    raw.close()

    s = sorted(samples)
    result = {
        "label": args.label,
        "version": args.version,
        "settings": args.settings,
        "kills": args.kills,
        "n": len(s),
        "lost": lost,
        "anomalies": anomalies,
        "hook_log": hook_log,
        "min": s[0] if s else None,
        "p50": percentile(s, 50),
        "p90": percentile(s, 90),
        "p99": percentile(s, 99),
        "max": s[-1] if s else None,
        "mean": sum(s) / len(s) if s else None,
    }
    with open(args.result, "w") as f:
        json.dump(result, f, indent=2)
    return 0 if s and lost == 0 else 1


def table(paths):
    results = []
    for path in paths:
        try:
            with open(path) as f:
                results.append(json.load(f))
        except (OSError, ValueError) as e:
            print("(no result in %s: %s)" % (path, e))
    if not results:
        return 1
    kills = sorted({r["kills"] for r in results})
    width = max(22, max(len(r["label"]) for r in results) + 1)
    cols = ("min", "p50", "p90", "p99", "max")
    print("kill -9 -> restarted latency, %s kills each (ms)" % "/".join(map(str, kills)))
    print("%-*s" % (width, "supervisor") + "".join("%8s" % c for c in cols) + "%8s" % "n")
    for r in results:
        cells = "".join("%8s" % ("-" if r[c] is None else "%.1f" % r[c]) for c in cols)
        note = "" if r["lost"] == 0 else "  (%d not restarted)" % r["lost"]
        print("%-*s%s%8d%s" % (width, r["label"], cells, r["n"], note))
    print()
    print("versions and restart-delay settings:")
    for r in results:
        print("  %-*s%s" % (width, r["label"], r["version"]))
        print("  %-*s%s" % (width, "", r["settings"]))
    for r in results:
        for a in r["anomalies"]:
            print("  anomaly, %s: %s" % (r["label"], a))
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--label", required=True)
    r.add_argument("--pidfile", required=True)
    r.add_argument("--outdir", required=True, help="where the victims write start.<pid>")
    r.add_argument("--marker", required=True, help="the victim binary (identity check)")
    r.add_argument("--kills", type=int, default=100)
    r.add_argument("--result", required=True, help="JSON summary; raw samples go to RESULT.raw.tsv")
    r.add_argument("--min-gap", type=float, default=1.5)
    r.add_argument("--max-gap", type=float, default=2.5)
    r.add_argument("--timeout", type=float, default=15.0, help="seconds to wait for a restart")
    r.add_argument("--seed", type=int, default=None)
    r.add_argument("--hook", help="shell command run between kills every --hook-every kills")
    r.add_argument("--hook-every", type=int, default=0)
    r.add_argument("--progress", type=int, default=20, help="print a line every N kills (0: never)")
    r.add_argument("--version", default="?", help="shown in the table")
    r.add_argument("--settings", default="?", help="restart-delay settings shown in the table")
    t = sub.add_parser("table")
    t.add_argument("results", nargs="+")
    args = parser.parse_args()
    if args.cmd == "run":
        return run(args)
    return table(args.results)


if __name__ == "__main__":
    sys.exit(main())
