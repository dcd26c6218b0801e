#!/usr/bin/env bash
# Stops the Swift SAIO started by start-swift.sh in STATE_DIR (default /tmp/swift-saio).
# Only the processes recorded in STATE_DIR/run/*.pid are signalled: all get TERM at once,
# then (bounded, 10 s) whatever is still alive gets KILL.
set -euo pipefail
S="${1:-/tmp/swift-saio}"
[ -d "$S/run" ] || exit 0
pids=()
for f in "$S"/run/*.pid; do
  [ -f "$f" ] || continue
  pid="$(cat "$f")"
  kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
  rm -f "$f"
done
for _ in $(seq 50); do
  left=()
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && left+=("$pid"); done
  [ "${#left[@]}" -eq 0 ] && break
  sleep 0.2
done
for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
echo "stop-swift: stopped $S" >&2
