#!/usr/bin/env python3
"""Where a process's resident memory is, by mapping: anonymous or file-backed, and which.

    benches/rss_by_mapping.py SMAPS [SMAPS...]     (a saved /proc/PID/smaps, or /proc/PID/smaps)

The idle_overhead and scale benches save the daemon's smaps at the end of each window
(OUT/clp-N.smaps). Printed per file: Rss by kind in KiB (the program's code, constants
and data; shared libraries; [heap]; other anonymous maps, split by size so that thread
stacks and big blocks show apart), then the largest single mappings. clppm fixes glibc's mmap
threshold at 128 KiB (bins/src/clppm.rs), so every larger allocation is a mapping of its own.
"""
import re
import sys

HEAD = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \d+\s*(.*)$")


def mappings(path):
    current = None
    with open(path) as f:
        for line in f:
            m = HEAD.match(line)
            if m:
                if current:
                    yield current
                start, end = int(m.group(1), 16), int(m.group(2), 16)
                current = {"size": (end - start) >> 10, "perms": m.group(3),
                           "path": m.group(4).strip(), "Rss": 0, "Anonymous": 0,
                           "Private_Dirty": 0}
                continue
            key, _, value = line.partition(":")
            if current and key in ("Rss", "Anonymous", "Private_Dirty"):
                current[key] = int(value.split()[0])
    if current:
        yield current


def kind(mapping, exe):
    path, perms = mapping["path"], mapping["perms"]
    if path and path == exe or path.endswith("/clppm"):
        return "program " + {"r-xp": "code", "r--p": "constants", "rw-p": "data"}.get(perms, perms)
    if ".so" in path:
        return "shared libraries"
    if path == "[heap]":
        return "[heap]"
    if path in ("[stack]", "[vdso]", "[vvar]", "[vsyscall]"):
        return path
    if path:
        return "other file " + path
    if perms == "---p":
        return "guard pages"
    if mapping["size"] in (2048, 8192):
        return "anonymous: thread stacks (2 MiB each)"
    if mapping["size"] > 8192:
        return "anonymous > 8 MiB (reservations: sled's histograms)"
    return "anonymous: blocks over the mmap threshold (malloc > 128 KiB)"


def main():
    for path in sys.argv[1:]:
        maps = list(mappings(path))
        exe = next((m["path"] for m in maps if m["path"].endswith("/clppm")), "")
        by_kind = {}
        for m in maps:
            k = kind(m, exe)
            r = by_kind.setdefault(k, [0, 0, 0])
            r[0] += m["Rss"]
            r[1] += m["Anonymous"]
            r[2] += 1
        total = sum(r[0] for r in by_kind.values())
        print("%s: Rss %.2f MiB (anonymous %.2f MiB) in %d mappings" % (
            path, total / 1024, sum(r[1] for r in by_kind.values()) / 1024, len(maps)))
        for k, (rss, anon, count) in sorted(by_kind.items(), key=lambda kv: -kv[1][0]):
            if rss:
                print("  %8d kB  (anon %6d)  %3d maps  %s" % (rss, anon, count, k))
        print("  largest mappings:")
        for m in sorted(maps, key=lambda m: -m["Rss"])[:12]:
            print("  %8d kB of %8d kB  %s  %s" % (m["Rss"], m["size"], m["perms"],
                                                m["path"] or "(anonymous)"))


if __name__ == "__main__":
    main()
