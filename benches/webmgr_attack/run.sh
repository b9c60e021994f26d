#!/bin/sh
# The WebManager under a flood of wrong passwords (issue 9, item 4): a release clpwebmgr
# on a temporary CLP_ROOT with both passwords set gets REQUESTS requests (default 10000)
# with a wrong `Authorization: Basic`, PARALLEL (default 100) at a time, from 100 loopback
# addresses (127.0.0.1 to 127.0.0.100, so the per-client failure budget does not stop the
# flood by itself and argon2 really runs). Prints the answers by status and clpwebmgr's RSS
# before, at its peak during the flood (sampled every 20 ms), and after; then checks that
# a right password is still answered. A load run, not a test.
#
#   benches/webmgr_attack/run.sh            # from the repository root
#   REQUESTS=2000 PARALLEL=50 benches/webmgr_attack/run.sh
set -eu
cd "$(dirname "$0")/../.."
cargo build --release --quiet --bin clpwebmgr
root=$(mktemp -d)
export CLP_ROOT="$root" CLP_FORBID_OS_ACTIONS=1
bin=target/release/clpwebmgr
cleanup() {
    if [ -f "$root/run/clpwebmgr.pid" ]; then
        kill "$(cat "$root/run/clpwebmgr.pid")" 2>/dev/null || true
        sleep 0.5
    fi
    rm -rf "$root"
}
trap cleanup EXIT
"$bin" --set-password operation op-secret >/dev/null
"$bin" --set-password reference ref-secret >/dev/null
"$bin" --listen 127.0.0.1:0 >/dev/null
python3 - "$(cat "$root/run/clpwebmgr.addr")" "$(cat "$root/run/clpwebmgr.pid")" \
    "${REQUESTS:-10000}" "${PARALLEL:-100}" <<'PY'
import base64, collections, socket, sys, threading, time

addr, pid, total, parallel = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
host, port = addr.rsplit(":", 1)
port = int(port)

def rss():
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    return -1

def ask(password, source="127.0.0.1"):
    auth = base64.b64encode(b"attacker:" + password.encode()).decode()
    request = (f"GET /api/v1/cluster HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Basic {auth}\r\n"
               "Connection: close\r\n\r\n").encode()
    with socket.create_connection((host, port), timeout=60, source_address=(source, 0)) as s:
        s.sendall(request)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return int(data.split(b" ", 2)[1]) if data else 0

counts = collections.Counter()
lock = threading.Lock()
queue = iter(range(total))
peak = [rss()]
before = peak[0]
done = threading.Event()

def sample():
    while not done.is_set():
        peak[0] = max(peak[0], rss())
        time.sleep(0.02)

def client(index):
    source = f"127.0.0.{index % 100 + 1}"
    while True:
        with lock:
            if next(queue, None) is None:
                return
        try:
            status = ask("wrong-guess", source)
        except OSError as error:
            status = type(error).__name__
        with lock:
            counts[status] += 1

sampler = threading.Thread(target=sample)
sampler.start()
started = time.time()
threads = [threading.Thread(target=client, args=(i,)) for i in range(parallel)]
for t in threads:
    t.start()
for t in threads:
    t.join()
elapsed = time.time() - started
done.set()
sampler.join()
time.sleep(1)
after = rss()
good = ask("ref-secret", "127.0.0.250")
print(f"{total} wrong-password requests, {parallel} in parallel, in {elapsed:.1f} s")
print("answers: " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items(), key=str)))
print(f"clpwebmgr RSS: before {before} MiB, peak during {peak[0]} MiB, after {after} MiB")
print(f"a right password afterwards: {good}")
sys.exit(0 if good == 200 else 1)
PY
