#!/usr/bin/env bash
# Stops the Swift SAIO started by start-swift.sh in STATE_DIR (default /tmp/swift-saio).
# Only the processes recorded in STATE_DIR/run/*.pid are signalled. Bounded: TERM, wait 10 s, KILL.
set -euo pipefail
S="${1:-/tmp/swift-saio}"
[ -d "$S/run" ] || exit 0
for f in "$S"/run/*.pid; do
  [ -f "$f" ] || continue
  pid="$(cat "$f")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
done
echo "stop-swift: stopped $S" >&2
