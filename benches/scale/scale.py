#!/usr/bin/env python3
"""Helpers of benches/scale/run.sh (configuration generators, local servers, samplers, table).

    scale.py mix N WORKERS_MAX                 -> "pidw psw tcpw httpw diskw workers"
    scale.py clp-config N WORKERS_MAX DIR ...  -> $CLP_ROOT/etc/clp.conf + start scripts
    scale.py monit-config N WORKERS_MAX DIR ... -> monitrc
    scale.py serve-tcp PORTFILE                -> accept-and-close loop on 127.0.0.1
    scale.py serve-http PORTFILE DOCROOT       -> http.server (threading) on 127.0.0.1
    scale.py sample-clp CLPSTAT EVERY SECONDS SUMMARY.json
    scale.py sample-monit SOCKET EVERY SECONDS SUMMARY.json
    scale.py table RESULTS.tsv

Only the standard library: the benchmark must run on a bare Debian with python3.
"""

import http.client
import http.server
import json
import math
import os
import socket
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET

# ---------------------------------------------------------------- the mix

# Shares of N by type (the "mixed types"): 40 % pidw, 20 % psw, 20 % tcpw,
# 10 % httpw, 10 % diskw. pidw needs one sleeping worker process (one async exec resource)
# each; past WORKERS_MAX workers, pidw is capped and its share goes to tcpw/httpw/diskw in
# their 2:1:1 ratio, so that the machine is not flooded with processes (and clppm's
# descriptors, one pidfd per watched process, stay well within `ulimit -n`).


# SCALE_MIX="40,20,20,10,10" (percent pidw,psw,tcpw,httpw,diskw) changes it, e.g. to
# isolate the cost of one type; any remainder goes to tcpw.


def mix(n, workers_max):
    shares = [int(x) for x in os.environ.get("SCALE_MIX", "40,20,20,10,10").split(",")]
    if len(shares) != 5 or sum(shares) != 100 or (shares[1] and not shares[0]):
        sys.exit("SCALE_MIX: five percentages (pidw,psw,tcpw,httpw,diskw) adding up to 100; "
                 "psw needs pidw's workers")
    pidw = min(n * shares[0] // 100, workers_max)
    psw = n * shares[1] // 100
    rest = n - pidw - psw
    other = shares[2] + shares[3] + shares[4]
    httpw = rest * shares[3] // other if other else 0
    diskw = rest * shares[4] // other if other else 0
    tcpw = rest - httpw - diskw
    return {"pidw": pidw, "psw": psw, "tcpw": tcpw, "httpw": httpw, "diskw": diskw,
            "workers": pidw}


def mix_label(m):
    return "/".join(str(m[k]) for k in ("pidw", "psw", "tcpw", "httpw", "diskw"))


def worker_of_psw(i, workers):   # psw i (1-based) watches this worker (1-based)
    return (i - 1) % workers + 1


# ---------------------------------------------------------------- clp


def clp_config(n, workers_max, root, marker, outdir, piddir, tcp_port, http_port, diskfile):
    m = mix(n, workers_max)
    w = m["workers"]
    etc = os.path.join(root, "etc")
    lines = ['[cluster]', 'name = "scale"', '']
    for i in range(1, w + 1):
        lines += ['[[group]]', f'name = "g{i:05d}"',
                  '[[group.resource]]', f'name = "r{i:05d}"', 'mode = "async"',
                  '[group.resource.deactivation]', 'final_action = "stop-daemon"', '']
        d = os.path.join(etc, "scripts", f"g{i:05d}", f"r{i:05d}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "start.sh"), "w") as f:
            # exec: the worker must be the resource process itself, not a child of the shell.
            f.write(f'#!/bin/sh\nexec "{marker}" "{outdir}" "{piddir}/w{i:05d}.pid"\n')
        os.chmod(os.path.join(d, "start.sh"), 0o755)

    def monitor(name, kind, params=None, target=None, recovery="local-server", timing=None):
        out = ['[[monitor]]', f'name = "{name}"', f'type = "{kind}"']
        if target:
            out.append(f'target = "{target}"')
        if timing:
            out.append(f'timing = "{timing}"')
        out.append('interval = 1')
        if params:
            out.append('[monitor.parameters]')
            for k, v in params.items():
                out.append(f'{k} = {json.dumps(v)}')
        out += ['[monitor.recovery]', f'target = "{recovery}"']
        if recovery != "local-server":
            out.append('reactivation_threshold = 99')
        out += ['final_action = "none"', '']
        return out

    for i in range(1, m["pidw"] + 1):
        lines += monitor(f"pidw{i:05d}", "pidw", target=f"r{i:05d}", recovery=f"r{i:05d}")
    for i in range(1, m["psw"] + 1):
        # Follows its worker's resource (timing "active"): it starts checking once the
        # resource is up, not at once, when the worker may not run yet (an `rm 9`).
        wi = worker_of_psw(i, w)
        lines += monitor(f"psw{i:05d}", "psw", {
            "processname": f"*/w{wi:05d}.pid", "processnum": 1},
            target=f"r{wi:05d}", timing="active")
    for i in range(1, m["tcpw"] + 1):
        lines += monitor(f"tcpw{i:05d}", "tcpw", {"ipaddress": "127.0.0.1", "port": tcp_port})
    for i in range(1, m["httpw"] + 1):
        lines += monitor(f"httpw{i:05d}", "httpw", {"servername": "127.0.0.1", "port": http_port})
    for i in range(1, m["diskw"] + 1):
        lines += monitor(f"diskw{i:05d}", "diskw", {
            "object": diskfile, "method": "READ(FILE)", "size": os.path.getsize(diskfile)})
    os.makedirs(etc, exist_ok=True)
    with open(os.path.join(etc, "clp.conf"), "w") as f:
        f.write("\n".join(lines))


# ---------------------------------------------------------------- monit


def monit_config(n, workers_max, d, piddir, tcp_port, http_port, diskfile):
    m = mix(n, workers_max)
    w = m["workers"]
    out = ["set daemon 1",
           f"set log {d}/monit.log",
           f"set pidfile {d}/monit.pid",
           f"set idfile {d}/monit.id",
           f"set statefile {d}/monit.state",
           # For the sampler (XML status with per-service collection times); clp's side
           # pays for clpstat the same way.
           f"set httpd unixsocket {d}/monit.sock",
           "    allow localhost", ""]
    # Only checks, no start/stop programs: as in clp, nothing may be restarted.
    for i in range(1, m["pidw"] + 1):
        out.append(f"check process pidw{i:05d} with pidfile {piddir}/w{i:05d}.pid")
    for i in range(1, m["psw"] + 1):
        out.append(f'check process psw{i:05d} matching "/w{worker_of_psw(i, w):05d}\\.pid$"')
    for i in range(1, m["tcpw"] + 1):
        out.append(f"check host tcpw{i:05d} with address 127.0.0.1")
        out.append(f"    if failed port {tcp_port} type tcp then alert")
    for i in range(1, m["httpw"] + 1):
        out.append(f"check host httpw{i:05d} with address 127.0.0.1")
        out.append(f"    if failed port {http_port} protocol http then alert")
    for i in range(1, m["diskw"] + 1):
        # monit cannot read a file as such: the checksum test reads it whole every cycle
        # (MD5), the nearest to diskw READ(FILE).
        out.append(f"check file diskw{i:05d} with path {diskfile}")
        out.append("    if changed checksum then alert")
    with open(os.path.join(d, "monitrc"), "w") as f:
        f.write("\n".join(out) + "\n")
    os.chmod(os.path.join(d, "monitrc"), 0o600)


# ---------------------------------------------------------------- the local servers


def write_port(portfile, port):
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{port}\n")
    os.rename(tmp, portfile)


def serve_tcp(portfile):
    """Accepts and closes at once: all tcpw (and monit's `type tcp`) needs."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(4096)
    write_port(portfile, s.getsockname()[1])
    while True:
        try:
            c, _ = s.accept()
            c.close()
        except OSError:
            time.sleep(0.01)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):      # no log line per request (thousands a second)
        pass


class Server(http.server.ThreadingHTTPServer):
    # http.server's default backlog is 5: at a thousand checks a second falling due
    # together, SYNs would be dropped and retried a second later.
    request_queue_size = 4096
    daemon_threads = True


def serve_http(portfile, docroot):
    """python3 -m http.server --bind 127.0.0.1, with a deep backlog and no request log."""
    handler = lambda *a, **k: QuietHandler(*a, directory=docroot, **k)  # noqa: E731
    srv = Server(("127.0.0.1", 0), handler)
    write_port(portfile, srv.server_address[1])
    srv.serve_forever()


# ---------------------------------------------------------------- samplers


def pct(values, p):
    if not values:
        return None
    v = sorted(values)                     # nearest rank
    return v[max(0, math.ceil(p / 100.0 * len(v)) - 1)]


def stats(values):
    return {"n": len(values), "p50": pct(values, 50), "p99": pct(values, 99),
            "max": max(values) if values else None}


def sample_loop(every, seconds, take):
    """Calls take() at every EVERY seconds for SECONDS; returns how long each call took:
    what take() returns (the time of the status fetch alone, without parsing it here),
    or the whole call when it returns None."""
    took = []
    start = time.monotonic()
    k = 0
    while True:
        due = start + k * every
        if due > start + seconds + 1e-6:
            break
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        t0 = time.monotonic()
        fetched = take()
        took.append(fetched if fetched is not None else time.monotonic() - t0)
        k += 1
        # A call slower than the period: go on from now, never in a burst.
        while start + k * every < time.monotonic():
            k += 1
    return took


def sample_clp(clpstat, every, seconds, summary):
    samples = []           # (monotonic time, {name: monitor})
    failures = []

    def take():
        t = time.monotonic()
        t0 = time.monotonic()
        try:
            done = subprocess.run([clpstat, "--json"], capture_output=True, timeout=60)
            fetched = time.monotonic() - t0
            if done.returncode:
                raise ValueError(f"exit {done.returncode} after {time.monotonic() - t0:.1f} s: "
                                 + done.stderr.decode(errors="replace").strip())
            status = json.loads(done.stdout)
        except (subprocess.SubprocessError, ValueError) as e:
            print(f"clpstat --json failed: {e}", file=sys.stderr)
            failures.append(str(e)[:200])
            return
        samples.append((t, {m["name"]: m for m in status.get("monitors", [])}))
        return fetched

    took = sample_loop(every, seconds, take)
    lateness, by_kind, check_us, check_by_kind = [], {}, [], {}
    for _, mons in samples:
        for m in mons.values():
            if m.get("last_lateness_us") is not None:
                lateness.append(m["last_lateness_us"])
                by_kind.setdefault(m["kind"], []).append(m["last_lateness_us"])
            if m.get("last_check_us") is not None:
                check_us.append(m["last_check_us"])
                check_by_kind.setdefault(m["kind"], []).append(m["last_check_us"])
    # Each sample's own lateness (seconds since the first sample, p99 and max in ms): a
    # stall shows in one sample or in all.
    by_sample = []
    for t, mons in samples:
        late = [m["last_lateness_us"] for m in mons.values()
                if m.get("last_lateness_us") is not None]
        if late:
            by_sample.append([round(t - samples[0][0], 1), round(pct(late, 99) / 1000, 1),
                              round(max(late) / 1000, 1)])
    result = {"samples": len(samples), "every_s": every, "clpstat_failures": failures,
              "lateness_ms_by_sample": by_sample,
              "clpstat_ms": stats([round(x * 1000, 1) for x in took]),
              "lateness_us": stats(lateness),
              "lateness_us_by_kind": {k: stats(v) for k, v in sorted(by_kind.items())},
              "last_check_us": stats(check_us),
              "last_check_us_by_kind": {k: stats(v) for k, v in sorted(check_by_kind.items())}}
    if len(samples) >= 2:
        (t0, first), (t1, last) = samples[0], samples[-1]
        done = sum(last[n]["checks"] - first[n]["checks"] for n in last if n in first)
        expected = len(last) * (t1 - t0)          # interval 1 s
        result["checks_per_s"] = round(done / (t1 - t0), 1)
        result["checks_pct_of_schedule"] = round(100.0 * done / expected, 1) if expected else None
        result["monitors"] = len(last)
        states = {}
        for m in last.values():
            states[m["status"]] = states.get(m["status"], 0) + 1
        result["status_at_end"] = states
        result["not_normal_at_end"] = sorted(
            f'{m["name"]}: {m["status"]} {m.get("last_detail") or ""}'.strip()
            for m in last.values() if m["status"] != "Normal")[:10]
    if not samples and failures:
        result["jitter_note"] = f"n/a: clpstat failed x{len(failures)}"
    with open(summary, "w") as f:
        json.dump(result, f, indent=1)


def time_command(runs, summary, argv):
    """Runs ARGV RUNS times, one after another, each as a whole process (posix_spawn, its
    output to /dev/null, waited for), after one run not counted; writes the wall times' p50,
    p90 and max in ms and the exit codes seen to SUMMARY. What an operator's `clpstat` or
    `monit summary` costs from start to exit while the daemon runs the mix."""
    took, codes = [], {}
    null = os.open(os.devnull, os.O_RDWR)
    actions = [(os.POSIX_SPAWN_DUP2, null, 0), (os.POSIX_SPAWN_DUP2, null, 1),
               (os.POSIX_SPAWN_DUP2, null, 2)]
    for k in range(runs + 1):
        t0 = time.perf_counter()
        pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
        _, status = os.waitpid(pid, 0)
        wall = time.perf_counter() - t0
        code = os.waitstatus_to_exitcode(status)
        codes[code] = codes.get(code, 0) + 1
        if k:
            took.append(round(wall * 1000, 2))
    os.close(null)
    with open(summary, "w") as f:
        json.dump({"argv": argv, "runs": runs, "exit_codes": codes,
                   "ms": stats(took) | {"p90": pct(took, 90), "min": min(took)}}, f, indent=1)


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=60)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(60)
        self.sock.connect(self.unix_path)


def sample_monit(sock, every, seconds, summary):
    """monit has no per-check lateness. Its XML status gives every service's collection
    time (µs), services in check order. A check runs 1 s (`set daemon 1`) after the end of
    the previous cycle, so each runs later than a 1 s schedule by the cycle's duration
    (first check to last): monit's counterpart of clp's lateness. A cycle's duration is
    read from a snapshot taken between two cycles (times non-decreasing in check order);
    one taken mid-cycle (cycle C+1 done up to service p) completes the cycle C that an
    earlier snapshot saw in progress, if both show the same collection of service p (so
    no cycle went unseen in between)."""
    snaps, failed, last_state, errors = [], [], {}, []

    def take():
        t0 = time.monotonic()
        try:
            c = UnixHTTPConnection(sock)
            c.request("GET", "/_status?format=xml")
            body = c.getresponse().read()
            c.close()
            fetched = time.monotonic() - t0
            root = ET.fromstring(body)
        except (OSError, http.client.HTTPException, ET.ParseError) as e:
            errors.append(str(e))
            return
        times, bad = [], 0
        for s in root.findall("service"):
            if s.get("type") == "5":          # the system service, outside the cycle order
                continue
            sec = int(s.findtext("collected_sec") or 0)
            times.append(sec + int(s.findtext("collected_usec") or 0) / 1e6 if sec else None)
            st = int(s.findtext("status") or 0)
            if st:
                bad += 1
                last_state[s.findtext("name")] = st
        failed.append(bad)
        if times and None not in times:
            snaps.append(times)
        return fetched

    took = sample_loop(every, seconds, take)
    cycles = {}                                # start -> duration (s)
    prev = None
    mid = 0
    progress = []                              # per snapshot, for a look afterwards
    for t in snaps:
        n = len(t)
        p = next((i for i in range(1, n) if t[i] < t[i - 1]), n)
        progress.append({"first": round(t[0], 3), "done_up_to": p, "services": n,
                         "newest": round(max(t), 3), "last": round(t[-1], 3)})
        if p == n:
            cycles[t[0]] = t[-1] - t[0]
        else:
            mid += 1
            if prev and p < prev[1] and len(prev[0]) == n and t[p] == prev[0][p]:
                cycles[prev[0][0]] = t[-1] - prev[0][0]
        prev = (t, p)
    result = {"samples": len(took), "every_s": every,
              "xml_ms": stats([round(x * 1000, 1) for x in took]),
              "cycle_ms": stats([round(d * 1000, 1) for d in cycles.values()]),
              "mid_cycle_samples": mid,
              "failing_services_max": max(failed) if failed else None,
              "failing_examples": sorted(last_state)[:10], "errors": errors[:5],
              "snapshots": progress}
    if not cycles and progress:
        # Not one whole cycle seen: the one in progress at the end has run this long so far.
        last = progress[-1]
        result["cycle_at_least_ms"] = round((last["newest"] - last["first"]) * 1000, 1)
        result["cycle_progress"] = f'{last["done_up_to"]}/{last["services"]}'
        result["cycle_note"] = (f'> {result["cycle_at_least_ms"] / 1000:.1f} s: no cycle completed '
                                f'({result["cycle_progress"]} checked)')
    with open(summary, "w") as f:
        json.dump(result, f, indent=1)


# ---------------------------------------------------------------- table


def table(path):
    import csv
    rows = list(csv.DictReader(open(path), delimiter="\t"))
    rounds = max((int(r.get("round") or 1) for r in rows), default=1)

    def label(r):
        return "%s (%s)%s" % (r["n"], r["mix"], " r%s" % r["round"] if rounds > 1 else "")

    head = ("%-34s %9s %9s %25s %12s  %9s %9s  %s"
            % ("N monitors (pidw/psw/tcpw/httpw/diskw)", "clp CPU", "clp RSS",
               "clp jitter p50/p99/max", "clp checks", "monit CPU", "monit RSS",
               "monit cycle p50/p99/max"))
    print(head)
    for r in rows:
        def ms(a, b, c, note):
            if r.get(note):
                return r[note]
            if r.get(a) in (None, "", "None"):
                return "n/a"
            return "%s/%s/%s ms" % tuple(("%.1f" % float(r[x])) if r[x] not in ("", "None")
                                         else "?" for x in (a, b, c))
        print("%-34s %9s %9s %25s %12s  %9s %9s  %s" % (
            label(r),
            r["clp_cpu"] + " %" if r["clp_cpu"] else "-",
            r["clp_rss"] + " MiB" if r["clp_rss"] else "-",
            ms("clp_p50_ms", "clp_p99_ms", "clp_max_ms", "clp_jitter_note"),
            (r["clp_checks_pct"] + " %") if r["clp_checks_pct"] else "-",
            r["monit_cpu"] + " %" if r["monit_cpu"] else "-",
            r["monit_rss"] + " MiB" if r["monit_rss"] else "-",
            ms("monit_cycle_p50_ms", "monit_cycle_p99_ms", "monit_cycle_max_ms",
               "monit_cycle_note")))
    # Issue 13's goals, as ratios of the same run: CPU <= 1/3 of monit's, RSS <= monit's;
    # at 10,000: all of the schedule, lateness p99 <= 20 ms.
    for r in rows:
        parts = []
        try:
            parts.append("CPU clp/monit = %.2f (goal <= 0.33)"
                         % (float(r["clp_cpu"]) / float(r["monit_cpu"])))
            parts.append("RSS clp/monit = %.2f (goal <= 1)"
                         % (float(r["clp_rss"]) / float(r["monit_rss"])))
        except (KeyError, ValueError, ZeroDivisionError):
            pass
        if r.get("clp_p99_ms") not in (None, "", "None"):
            parts.append("clp lateness p99 %.1f ms (goal <= 20)" % float(r["clp_p99_ms"]))
        if r.get("clp_checks_pct"):
            parts.append("clp checks %s %% of the schedule (goal 100)" % r["clp_checks_pct"])
        if r.get("clp_status_p50_ms") not in (None, "", "None"):
            parts.append("clpstat whole process p50 %s ms (goal <= 5 at 1,000; monit summary %s)"
                         % (r["clp_status_p50_ms"], (r.get("monit_status_p50_ms") or "-") + " ms"
                            if r.get("monit_status_p50_ms") else "not run"))
        if parts:
            print("  N=%s%s: %s" % (r["n"], " r%s" % r["round"] if rounds > 1 else "",
                                    "; ".join(parts)))
    # Over the rounds of one N: each round's CPU ratio, their median, and the ratio of the
    # daemons' mean CPU.
    if rounds > 1:
        for n in dict.fromkeys(r["n"] for r in rows):
            pairs = []
            for r in rows:
                try:
                    if r["n"] == n:
                        pairs.append((float(r["clp_cpu"]), float(r["monit_cpu"])))
                except (KeyError, ValueError):
                    pass
            pairs = [(c, m) for c, m in pairs if m > 0]
            if not pairs:
                continue
            ratios = sorted(c / m for c, m in pairs)
            middle = len(ratios) // 2
            median = (ratios[middle] if len(ratios) % 2
                      else (ratios[middle - 1] + ratios[middle]) / 2)
            clp_mean = sum(c for c, _ in pairs) / len(pairs)
            monit_mean = sum(m for _, m in pairs) / len(pairs)
            print("  N=%s over %d rounds: CPU clp/monit %s; median %.2f; of the means %.2f"
                  " (clp %.2f %%, monit %.2f %%; goal <= 0.33)"
                  % (n, len(pairs), " ".join("%.2f" % (c / m) for c, m in pairs), median,
                     clp_mean / monit_mean, clp_mean, monit_mean))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "mix":
        n, wmax = int(args[0]), int(args[1])
        m = mix(n, wmax)
        uncapped = mix(n, 10 ** 9)
        note = ""
        if m != uncapped:
            note = (f" (pidw capped at WORKERS_MAX={wmax}; uncapped the mix would be "
                    f"{mix_label(uncapped)})")
        print(m["workers"], mix_label(m), note)
    elif cmd == "clp-config":
        n, wmax, root, marker, outdir, piddir, tcp, http_, disk = args
        clp_config(int(n), int(wmax), root, marker, outdir, piddir, int(tcp), int(http_), disk)
    elif cmd == "monit-config":
        n, wmax, d, piddir, tcp, http_, disk = args
        monit_config(int(n), int(wmax), d, piddir, int(tcp), int(http_), disk)
    elif cmd == "serve-tcp":
        serve_tcp(args[0])
    elif cmd == "serve-http":
        serve_http(args[0], args[1])
    elif cmd == "sample-clp":
        sample_clp(args[0], float(args[1]), float(args[2]), args[3])
    elif cmd == "sample-monit":
        sample_monit(args[0], float(args[1]), float(args[2]), args[3])
    elif cmd == "time-command":
        time_command(int(args[0]), args[1], args[2:])
    elif cmd == "table":
        table(args[0])
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
