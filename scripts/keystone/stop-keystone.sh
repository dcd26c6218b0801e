#!/usr/bin/env bash
# Stops the Keystone started by start-keystone.sh (by its uwsgi pid file) and, with --purge,
# drops its database and removes its state directory.
set -euo pipefail
DIR="${KEYSTONE_DIR:-/tmp/cbt-keystone}"
if [[ -f "$DIR/uwsgi.pid" ]]; then
  pid="$(cat "$DIR/uwsgi.pid")"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  rm -f "$DIR/uwsgi.pid"
fi
if [[ "${1:-}" == "--purge" ]]; then
  if [[ -f "$DIR/database" ]]; then
    { read -r admin_url; read -r db_name; } <"$DIR/database"
    psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $db_name WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$DIR"
fi
