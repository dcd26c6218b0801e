#!/bin/sh
# Regenerates test/fixtures/cinder/: backups written by OpenStack Cinder's own PosixBackupDriver
# (Debian python3-cinder 21.x) of two small deterministic images, so the interoperability test
# can check our restore of Cinder's format on machines without python3-cinder.
#   full zlib (B1) + incremental zlib (B2) ; full zstd (B3) + incremental zstd (B4)
# The images are not committed: the test regenerates them from the seeds in manifest.json.
# Usage (from the repository root): scripts/cinder/make-fixture.sh
set -eu
cd "$(dirname "$0")/../.."
scripts/cinder/install-cinder.sh
OUT=test/fixtures/cinder
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

SIZE=328457        # 10 blocks of 32 KiB and an odd tail
OBJ=65536          # 2 sha blocks per object: several objects per backup
BASE_SEED=11
CHANGE_SEED=12
FRACTION=0.2
VOL=5b0c2a6e-7d1f-4c3b-9a8e-1f2d3c4b5a60
B1=c1000000-0000-4000-8000-000000000001
B2=c1000000-0000-4000-8000-000000000002
B3=c1000000-0000-4000-8000-000000000003
B4=c1000000-0000-4000-8000-000000000004

npx tsx bench/gen-image.ts --out "$TMP/base.img" --size $SIZE --seed $BASE_SEED >/dev/null
npx tsx bench/gen-image.ts --out "$TMP/changed.img" --change-from "$TMP/base.img" --fraction $FRACTION --seed $CHANGE_SEED >/dev/null

rm -rf "$OUT"
mkdir -p "$OUT/posix" "$OUT/state"
run() { /usr/bin/python3 scripts/cinder/cinder_driver.py "$@" --driver posix --posix-path "$OUT/posix" --state "$OUT/state" --object-size $OBJ --volume-id $VOL >/dev/null 2>"$TMP/err" || { cat "$TMP/err" >&2; exit 1; }; }
run backup --file "$TMP/base.img" --backup-id $B1 --compression zlib
run backup --file "$TMP/changed.img" --backup-id $B2 --parent-id $B1 --compression zlib
run backup --file "$TMP/base.img" --backup-id $B3 --compression zstd
run backup --file "$TMP/changed.img" --backup-id $B4 --parent-id $B3 --compression zstd

BASE_SHA=$(sha256sum "$TMP/base.img" | cut -d' ' -f1)
CHANGED_SHA=$(sha256sum "$TMP/changed.img" | cut -d' ' -f1)
CINDER_VERSION=$(dpkg-query -W -f='${Version}' python3-cinder)
cat > "$OUT/manifest.json" <<EOF
{
  "generatedBy": "scripts/cinder/make-fixture.sh",
  "cinder": "python3-cinder $CINDER_VERSION, PosixBackupDriver",
  "volumeId": "$VOL",
  "objectSize": $OBJ,
  "image": { "sizeBytes": $SIZE, "seed": $BASE_SEED, "sha256": "$BASE_SHA" },
  "changed": { "fraction": $FRACTION, "seed": $CHANGE_SEED, "sha256": "$CHANGED_SHA" },
  "chains": {
    "zlib": { "full": "$B1", "incremental": "$B2" },
    "zstd": { "full": "$B3", "incremental": "$B4" }
  }
}
EOF
du -sh "$OUT"
