#!/usr/bin/env python3
"""phases.py TRACE [RAW] -- a restart's phases from a `perf script` of scheduler events.

TRACE is the text of `perf script -F comm,pid,tid,cpu,time,event,trace` over a recording of
sched:sched_process_exit, sched:sched_process_fork and sched:sched_process_exec (phases.sh
makes it). For each death of the victim (`marker`) it finds the supervisor's next fork,
that child's first exec (start.sh, or /bin/sh for the floor) and its exec of the marker, and
prints three phases, p50 / p90 / max / mean in ms:

  exit -> fork       the supervisor's own part: woken by the death, deciding, preparing the
                     spawn (the kernel's exit processing is in it too, for every supervisor)
  fork -> exec(sh)   the spawn: the child's set-up until its exec, and whatever the parent
                     or anything else runs on the CPU meanwhile
  sh -> exec(marker) the shell that runs start.sh: the host's part, the same for all

RAW, if given, gets one line per restart (the three phases and the total, in seconds).
"""
import re
import statistics
import sys

EVENT = re.compile(r'^\s*(.+?)\s+(\d+)/(\d+)\s+\[(\d+)\]\s+([\d.]+):\s+(\S+):\s*(.*)$')
WINDOW_S = 0.1   # a restart that takes longer is not matched (the victim was not restarted)


def read(path):
    rows = []
    with open(path, errors='replace') as trace:
        for line in trace:
            m = EVENT.match(line)
            if m:
                rows.append((float(m.group(5)), int(m.group(3)), m.group(6), m.group(7)))
    return rows


def restarts(rows):
    for i, (t0, _, name, detail) in enumerate(rows):
        if name != 'sched:sched_process_exit' or 'comm=marker ' not in detail + ' ':
            continue
        fork = child = shell = None
        for t, tid, name2, detail2 in rows[i + 1:]:
            if t - t0 > WINDOW_S:
                break
            if fork is None and name2 == 'sched:sched_process_fork':
                m = re.search(r'child_pid=(\d+)', detail2)
                if m:
                    fork, child = t, int(m.group(1))
            elif fork is not None and tid == child and name2 == 'sched:sched_process_exec':
                if shell is None:
                    shell = t
                if detail2.split()[0].endswith('/marker'):
                    yield (fork - t0, shell - fork, t - shell, t - t0)
                    break


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    found = list(restarts(read(sys.argv[1])))
    if not found:
        sys.exit("no restart of the marker in " + sys.argv[1])
    if len(sys.argv) == 3:
        with open(sys.argv[2], 'a') as raw:
            raw.writelines("%f %f %f %f\n" % phases for phases in found)
    print("%d restarts (ms)       p50     p90     max    mean" % len(found))
    names = ["exit -> fork", "fork -> exec(sh)", "sh -> exec(marker)", "total"]
    for k, name in enumerate(names):
        values = sorted(phases[k] * 1e3 for phases in found)
        p = lambda q: values[min(len(values) - 1, int(q * len(values)))]
        print("%-20s %7.3f %7.3f %7.3f %7.3f" % (name, p(.5), p(.9), values[-1], statistics.mean(values)))


if __name__ == '__main__':
    main()
