#!/usr/bin/env bash
# Builds clp and starts the demo configuration (a group with an async exec resource watched
# by pidw) in a root of its own, then shows clpstat. Run it again to restart the demo.
set -euo pipefail
cd "$(dirname "$0")"
cargo build --release --quiet
export CLP_ROOT="${CLP_ROOT:-$PWD/demo-root}"
export CLP_FORBID_OS_ACTIONS=1           # the demo never reaches a real shutdown/reboot
export PATH="$PWD/target/release:$PATH"
clpcl -t >/dev/null 2>&1 || true         # a previous demo, if it still runs
mkdir -p "$CLP_ROOT/etc"
# clppm needs a core license: the demo registers the trial once (later runs reuse it).
clplcncs --trial -P XSS10 >/dev/null 2>&1 || true
cp examples/demo/clp.conf "$CLP_ROOT/etc/clp.conf"
rm -rf "$CLP_ROOT/etc/scripts" && cp -r examples/demo/scripts "$CLP_ROOT/etc/scripts"
clpcl -s
for _ in $(seq 50); do clpstat | grep -q "exec           : Online" && break; sleep 0.1; done
clpstat
cat <<TOUR

clp runs in $CLP_ROOT. Try, with CLP_ROOT and PATH as above:
  kill -9 \$(clpstat --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["groups"][0]["resources"][0]["pid"])')
  clpstat; clpmonctrl -v; tail $CLP_ROOT/log/alert.log
  clpgrp -t failover; clpgrp -s failover; clpcl -t
TOUR
