#!/bin/sh
# Installs OpenStack Cinder's backup drivers from Debian (python3-cinder, Zed 21.x) and the
# zstd binding its zstd codec needs, unless /usr/bin/python3 can already import them.
# Used by the Cinder interoperability test and by the benchmark (npm run bench).
# Exit status 0 = importable afterwards; non-zero = not available on this machine.
set -eu

PY=/usr/bin/python3
check() {
  "$PY" -c 'import cinder.backup.drivers.s3, cinder.backup.drivers.posix' >/dev/null 2>&1
}
check_zstd() {
  "$PY" -c 'import zstd' >/dev/null 2>&1
}

if check && check_zstd; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-cinder: not root, cannot apt-get install python3-cinder python3-zstd" >&2
  exit 2
fi
export DEBIAN_FRONTEND=noninteractive
# Another apt run may hold the lock: wait for it rather than fail.
APT="apt-get -q -o DPkg::Lock::Timeout=600"
# The package lists may be missing on a fresh image; update once if the candidate is unknown.
if ! apt-cache policy python3-cinder 2>/dev/null | grep -q 'Candidate: [0-9]'; then
  $APT update >/dev/null
fi
$APT install -y --no-install-recommends python3-cinder python3-zstd >/dev/null
check || { echo "install-cinder: python3-cinder installed but not importable" >&2; exit 3; }
check_zstd || echo "install-cinder: python3-zstd not importable; Cinder's zstd codec unavailable" >&2
exit 0
