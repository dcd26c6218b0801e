#!/usr/bin/env bash
# Runs a throwaway Keystone (Debian's `keystone` package) on loopback for tests and CI:
# a fresh Postgres database, fernet keys in KEYSTONE_DIR, served by uwsgi (no apache, no systemd),
# bootstrapped with keystone-manage, then seeded with the service user, test projects and
# users, and the volume service in the catalog (types volumev3 and block-storage).
#
# Usage: scripts/keystone/start-keystone.sh [VOLUME_ENDPOINT [IMAGE_ENDPOINT [COMPUTE_ENDPOINT]]]
#   VOLUME_ENDPOINT   default http://127.0.0.1:8776/v3/%(project_id)s
#   IMAGE_ENDPOINT    optional: registered as the `image` service (OSC's `volume create` needs one)
#   COMPUTE_ENDPOINT  optional: registered as the `compute` service (OSC's `quota set/show` need one)
# Environment:
#   KEYSTONE_DIR      state directory (default /tmp/cbt-keystone)
#   KEYSTONE_PORT     loopback port (default 5000)
#   KEYSTONE_PG_ADMIN_URL  Postgres to create the throwaway database on
#                     (default postgres://postgres@127.0.0.1:5432/postgres). NOTE: not sqlite:
#                     Keystone 22 on a sqlite file fails writes with "database is locked".
#   KEYSTONE_ADMIN_PASSWORD, KEYSTONE_TEST_PASSWORD   passwords (defaults below; test use only)
# Idempotent: a Keystone already answering on the port is reused and the seed re-applied.
# Prints the environment (OS_AUTH_URL, KEYSTONE_*, test users) and writes it to $KEYSTONE_DIR/env.
# Stop it with scripts/keystone/stop-keystone.sh.
set -euo pipefail

VOLUME_ENDPOINT="${1:-http://127.0.0.1:8776/v3/%(project_id)s}"
IMAGE_ENDPOINT="${2:-}"
COMPUTE_ENDPOINT="${3:-}"
DIR="${KEYSTONE_DIR:-/tmp/cbt-keystone}"
PORT="${KEYSTONE_PORT:-5000}"
ADMIN_PASSWORD="${KEYSTONE_ADMIN_PASSWORD:-admin-secret}"
TEST_PASSWORD="${KEYSTONE_TEST_PASSWORD:-test-secret}"
URL="http://127.0.0.1:${PORT}"
PG_ADMIN_URL="${KEYSTONE_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
DB_NAME="cbt_keystone_${PORT}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# Debian's python, not a pyenv shim: keystone and keystoneclient live in /usr/lib/python3.
PY=/usr/bin/python3

log() { printf '[keystone] %s\n' "$*" >&2; }

install_packages() {
  if [[ -x /usr/bin/keystone-manage && -x /usr/bin/uwsgi && -e /usr/lib/uwsgi/plugins/python3_plugin.so ]] &&
    /usr/bin/python3 -c 'import psycopg2' 2>/dev/null && command -v psql >/dev/null; then
    return
  fi
  log "installing Debian packages keystone uwsgi-core uwsgi-plugin-python3 python3-psycopg2"
  # Keep the package from starting its own service (uwsgi under init) while installing.
  local own_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && own_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    keystone uwsgi-core uwsgi-plugin-python3 python3-psycopg2 postgresql-client curl >&2 || { [[ $own_policy == 1 ]] && rm -f /usr/sbin/policy-rc.d; exit 1; }
  [[ $own_policy == 1 ]] && rm -f /usr/sbin/policy-rc.d
  # If a service got started anyway (a system with a live init), stop and disable it.
  if command -v systemctl >/dev/null && systemctl is-system-running >/dev/null 2>&1; then
    systemctl disable --now keystone.service apache2.service >/dev/null 2>&1 || true
  elif [[ -x /etc/init.d/keystone ]]; then
    /etc/init.d/keystone stop >/dev/null 2>&1 || true
  fi
}

answering() { curl -fsS -m 2 -o /dev/null "${URL}/v3" 2>/dev/null; }

# The throwaway database's SQLAlchemy URL: same server and credentials as PG_ADMIN_URL.
db_url() {
  local rest="${PG_ADMIN_URL#postgres*://}"
  printf 'postgresql+psycopg2://%s/%s' "${rest%/*}" "$DB_NAME"
}

fresh_database() {
  psql -q -v ON_ERROR_STOP=1 "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" -c "CREATE DATABASE $DB_NAME" >&2
  # stop-keystone.sh --purge drops it again.
  printf '%s\n%s\n' "$PG_ADMIN_URL" "$DB_NAME" >"$DIR/database"
}

write_config() {
  mkdir -p "$DIR/fernet-keys" "$DIR/credential-keys"
  chmod 700 "$DIR/fernet-keys" "$DIR/credential-keys"
  cat >"$DIR/keystone.conf" <<EOF
[DEFAULT]
log_file = $DIR/keystone-app.log
[database]
connection = $(db_url)
[fernet_tokens]
key_repository = $DIR/fernet-keys
[credential]
key_repository = $DIR/credential-keys
[token]
provider = fernet
expiration = 3600
EOF
}

start_server() {
  local manage=(keystone-manage --config-file "$DIR/keystone.conf")
  "${manage[@]}" db_sync
  "${manage[@]}" fernet_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)"
  "${manage[@]}" credential_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)"
  "${manage[@]}" bootstrap --bootstrap-password "$ADMIN_PASSWORD" \
    --bootstrap-admin-url "$URL/v3/" --bootstrap-internal-url "$URL/v3/" --bootstrap-public-url "$URL/v3/" \
    --bootstrap-region-id RegionOne
  log "starting uwsgi on $URL"
  OS_KEYSTONE_CONFIG_FILES="$DIR/keystone.conf" setsid /usr/bin/uwsgi \
    --plugin python3 --http-socket "127.0.0.1:${PORT}" --wsgi-file /usr/bin/keystone-wsgi-public \
    --master --processes 1 --threads 4 --enable-threads --add-header "Connection: close" --lazy-apps --die-on-term --buffer-size 65535 \
    --pidfile "$DIR/uwsgi.pid" --logto "$DIR/uwsgi.log" --daemonize2 "$DIR/uwsgi.log"
  # Bounded wait: 60 s (the first request imports keystone, a few seconds on two cores).
  for _ in $(seq 1 120); do
    answering && return
    sleep 0.5
  done
  log "Keystone did not answer on $URL within 60 s; last log lines:"
  tail -n 30 "$DIR/uwsgi.log" >&2 || true
  exit 1
}

install_packages
mkdir -p "$DIR"
if answering; then
  log "reusing the Keystone already answering on $URL"
else
  fresh_database
  write_config
  start_server
fi

# Seed (idempotent): roles, service user, test projects/users, catalog entries.
OS_AUTH_URL="$URL/v3" OS_USERNAME=admin OS_PASSWORD="$ADMIN_PASSWORD" OS_PROJECT_NAME=admin \
  TEST_PASSWORD="$TEST_PASSWORD" VOLUME_ENDPOINT="$VOLUME_ENDPOINT" IMAGE_ENDPOINT="$IMAGE_ENDPOINT" COMPUTE_ENDPOINT="$COMPUTE_ENDPOINT" \
  "$PY" "$HERE/seed_keystone.py" >"$DIR/env.tmp"
{
  cat <<EOF
export OS_AUTH_URL=$URL/v3
export OS_IDENTITY_API_VERSION=3
export OS_USER_DOMAIN_NAME=Default
export OS_PROJECT_DOMAIN_NAME=Default
export KEYSTONE_URL=$URL
export KEYSTONE_ADMIN_PASSWORD=$ADMIN_PASSWORD
export KEYSTONE_TEST_PASSWORD=$TEST_PASSWORD
EOF
  cat "$DIR/env.tmp"
} >"$DIR/env"
rm -f "$DIR/env.tmp"
cat "$DIR/env"
