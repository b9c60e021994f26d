#!/usr/bin/env bash
# Runs each fuzz target for SECONDS (default 60) on its saved corpus and prints, per target,
# the executions and the crashes found.
#   fuzz/run.sh [SECONDS] [TARGET...]      e.g. fuzz/run.sh 5 (CI), fuzz/run.sh 600 license
# New inputs go to fuzz/corpus/TARGET/new (not committed); a crash is saved under
# fuzz/artifacts/TARGET/ and makes the script fail. Reproduce one with
#   cd fuzz && cargo +nightly fuzz run TARGET artifacts/TARGET/crash-...
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(config original_xml license ipc webmgr ftp_mail)
fi
# The lean release profile of fuzz/Cargo.toml, without a sanitizer (the code under test is
# safe Rust; libFuzzer's coverage is what finds the panics): the quickest build that still
# fuzzes at speed. One build for every target, kept in fuzz/target.
fuzz=(cargo +nightly fuzz)
options=(--sanitizer none)
build_start=$(date +%s)
if [ "$#" -eq 0 ] && [ ${#targets[@]} -eq 6 ]; then
  "${fuzz[@]}" build "${options[@]}"
else
  for target in "${targets[@]}"; do "${fuzz[@]}" build "${options[@]}" "$target"; done
fi
echo "built ${#targets[@]} targets in $(( $(date +%s) - build_start )) s"

failed=0
printf '%-14s %12s %10s %8s\n' target executions exec/s crashes
for target in "${targets[@]}"; do
  seeds=corpus/$target
  fresh=corpus/$target/new
  mkdir -p "$fresh" "artifacts/$target"
  log=$(mktemp)
  before=$(find "artifacts/$target" -type f | wc -l)
  rc=0
  # -fork would hide a crash's count; one process, stop at the first crash.
  "${fuzz[@]}" run "${options[@]}" "$target" "$fresh" "$seeds" -- \
    -max_total_time="$seconds" -max_len=65536 -timeout=20 -rss_limit_mb=4096 \
    -print_final_stats=1 >"$log" 2>&1 || rc=$?
  after=$(find "artifacts/$target" -type f | wc -l)
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  crashes=$(( after - before ))
  printf '%-14s %12s %10s %8s\n' "$target" "${runs:-?}" "${speed:-?}" "$crashes"
  if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then
    failed=1
    grep -E 'panicked|ERROR|SUMMARY|Test unit written' "$log" | head -20 || true
  fi
  rm -f "$log"
done
exit "$failed"
