#!/usr/bin/env bash
# Starts a Swift all-in-one (SAIO) with the s3api middleware on loopback, for tests.
#
# Usage: scripts/swift/start-swift.sh [STATE_DIR]     (default /tmp/swift-saio)
# Env:   SWIFT_PORT (proxy, default 8080), SWIFT_BACKEND_PORT (object; container and
#        account use +1 and +2; default 6200), SWIFT_MEMCACHED_PORT (default 11211),
#        SWIFT_WAIT_SECONDS (default 60).
# Prints TEST_SWIFT_S3_ENDPOINT, TEST_SWIFT_ACCESS_KEY and TEST_SWIFT_SECRET_KEY lines
# (eval-able). Idempotent: a healthy instance in STATE_DIR is reused. Stop it with
# scripts/swift/stop-swift.sh STATE_DIR. Layout follows shared/reference/components.md §1c.
set -euo pipefail

S="$(mkdir -p "${1:-/tmp/swift-saio}" && cd "${1:-/tmp/swift-saio}" && pwd)"
PORT="${SWIFT_PORT:-8080}"
OBJ_PORT="${SWIFT_BACKEND_PORT:-6200}"
CONT_PORT=$((OBJ_PORT + 1))
ACC_PORT=$((OBJ_PORT + 2))
MC_PORT="${SWIFT_MEMCACHED_PORT:-11211}"
WAIT="${SWIFT_WAIT_SECONDS:-60}"
PACKAGES=(swift swift-proxy swift-object swift-container swift-account python3-swift memcached)

log() { echo "start-swift: $*" >&2; }
die() { log "$*"; exit 1; }

report() {
  echo "TEST_SWIFT_S3_ENDPOINT=http://127.0.0.1:${PORT}"
  echo "TEST_SWIFT_ACCESS_KEY=test:tester"
  echo "TEST_SWIFT_SECRET_KEY=testing"
}

healthy() { [ "$(curl -fsS --max-time 2 "http://127.0.0.1:${PORT}/healthcheck" 2>/dev/null)" = "OK" ]; }

# A process started by us earlier and still alive.
alive() { local f="$S/run/$1.pid"; [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Waits (bounded) until `$@` succeeds.
wait_for() {
  local what="$1"; shift
  local deadline=$((SECONDS + WAIT))
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || die "timed out after ${WAIT}s waiting for ${what} (logs in $S/log)"
    sleep 0.2
  done
}

if alive proxy && healthy; then
  log "already running in $S"
  report
  exit 0
fi

# --- packages -----------------------------------------------------------------
if ! command -v swift-proxy-server >/dev/null || ! command -v swift-ring-builder >/dev/null \
  || ! command -v swift-object-server >/dev/null || ! command -v memcached >/dev/null; then
  [ "$(id -u)" = 0 ] || die "Swift packages are missing and installing them needs root"
  log "installing ${PACKAGES[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends "${PACKAGES[@]}" >"$S/apt.log" 2>&1; then
    apt-get update >>"$S/apt.log" 2>&1 || die "apt-get update failed (see $S/apt.log)"
    apt-get install -y --no-install-recommends "${PACKAGES[@]}" >>"$S/apt.log" 2>&1 \
      || die "apt-get install failed (see $S/apt.log)"
  fi
fi

# --- configuration -------------------------------------------------------------
mkdir -p "$S/etc" "$S/node/d1" "$S/run" "$S/log"
# NOTE: Swift reads its hash path constants from /etc/swift/swift.conf whatever swift_dir says.
if [ ! -f /etc/swift/swift.conf ]; then
  mkdir -p /etc/swift
  printf '[swift-hash]\nswift_hash_path_prefix = changeme\nswift_hash_path_suffix = changeme\n' >/etc/swift/swift.conf
fi
cp /etc/swift/swift.conf "$S/etc/swift.conf"

common() {
  cat <<CONF
[DEFAULT]
swift_dir = $S/etc
devices = $S/node
mount_check = false
user = root
workers = 0
bind_ip = 127.0.0.1
bind_port = $1
log_name = $2
CONF
}

{
  common "$PORT" proxy-server
  cat <<CONF

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats s3api tempauth copy slo dlo proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin

[filter:s3api]
use = egg:swift#s3api
location = us-east-1

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$MC_PORT

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:listing_formats]
use = egg:swift#listing_formats

[filter:copy]
use = egg:swift#copy

[filter:slo]
use = egg:swift#slo

[filter:dlo]
use = egg:swift#dlo
CONF
} >"$S/etc/proxy-server.conf"

for pair in "object:$OBJ_PORT" "container:$CONT_PORT" "account:$ACC_PORT"; do
  t="${pair%%:*}"; p="${pair#*:}"
  {
    common "$p" "$t-server"
    printf '\n[pipeline:main]\npipeline = %s-server\n\n[app:%s-server]\nuse = egg:swift#%s\n' "$t" "$t" "$t"
    # The replicators, updaters and auditors are not started; their sections keep the loader quiet.
    printf '\n[%s-replicator]\n\n[%s-updater]\n\n[%s-auditor]\n' "$t" "$t" "$t"
  } >"$S/etc/$t-server.conf"
done

# --- rings (built once per set of ports; each swift-ring-builder call costs ~0.4 s of Python start-up) ---
ring_stamp="$OBJ_PORT $CONT_PORT $ACC_PORT"
if [ "$(cat "$S/etc/rings.ports" 2>/dev/null)" != "$ring_stamp" ] \
  || [ ! -f "$S/etc/object.ring.gz" ] || [ ! -f "$S/etc/container.ring.gz" ] || [ ! -f "$S/etc/account.ring.gz" ]; then
  (
    cd "$S/etc"
    for pair in "object:$OBJ_PORT" "container:$CONT_PORT" "account:$ACC_PORT"; do
      t="${pair%%:*}"; p="${pair#*:}"
      rm -f "$t.builder" "$t.ring.gz"
      swift-ring-builder "$t.builder" create 8 1 1 >/dev/null
      swift-ring-builder "$t.builder" add "r1z1-127.0.0.1:$p/d1" 100 >/dev/null
      # rebalance exits 1 on warnings; the ring file is what matters.
      swift-ring-builder "$t.builder" rebalance >/dev/null || [ -f "$t.ring.gz" ] || die "ring $t failed"
    done
  )
  echo "$ring_stamp" >"$S/etc/rings.ports"
fi

# --- processes ---------------------------------------------------------------
# A port held by someone else would make the health checks below talk to the wrong server.
for pair in "memcached:$MC_PORT" "object:$OBJ_PORT" "container:$CONT_PORT" "account:$ACC_PORT" "proxy:$PORT"; do
  name="${pair%%:*}"; p="${pair#*:}"
  if ! alive "$name" && port_open "$p"; then die "port $p ($name) is already in use by another process"; fi
done

start() { # name, command...
  local name="$1"; shift
  if alive "$name"; then return 0; fi
  setsid nohup "$@" >"$S/log/$name.log" 2>&1 </dev/null &
  echo $! >"$S/run/$name.pid"
}

mc_user=root
id memcache >/dev/null 2>&1 && mc_user=memcache
start memcached memcached -u "$mc_user" -l 127.0.0.1 -p "$MC_PORT"
for t in object container account; do
  start "$t" "swift-$t-server" "$S/etc/$t-server.conf"
done
start proxy swift-proxy-server "$S/etc/proxy-server.conf"

wait_for "memcached on $MC_PORT" port_open "$MC_PORT"
for p in "$OBJ_PORT" "$CONT_PORT" "$ACC_PORT"; do wait_for "a storage server on $p" port_open "$p"; done
wait_for "the proxy healthcheck on $PORT" healthy
for name in memcached object container account proxy; do
  alive "$name" || die "$name exited (see $S/log/$name.log)"
done
log "running in $S"
report
