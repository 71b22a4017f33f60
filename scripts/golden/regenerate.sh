#!/usr/bin/env bash
# Regenerate test/golden/gpsdecode/*.jsonl.gz: gpsd's `gpsdecode -j` output for every bundled
# capture. Committed so the differential test does not depend on the gpsd installed in CI; the
# test also re-runs gpsdecode when it is installed and checks the stored copy still matches.
# -j (scaled) rather than -u (unscaled): the scaled numbers check our scaling against gpsd's
# (within the digits gpsd printed), and -u does not remove gpsd's words ("nan", "N/A", text
# status) anyway. -s (split24) prints type 24 parts A and B as received, as aisflow does.
# gzip -n: no name/time in the header, so regenerating unchanged output changes no bytes.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v gpsdecode >/dev/null || { echo "gpsdecode not found (Debian package gpsd-clients)" >&2; exit 1; }
out=test/golden/gpsdecode
mkdir -p "$out"
gpsdecode -V 2>&1 | head -1 > "$out/VERSION"
for f in pipeline/data/ais/*.nmea pipeline/data/ais/*.aivdm; do
  name=$(basename "$f")
  # gpsdecode logs rejects on stderr; only its JSON is golden
  gpsdecode -j -s < "$f" 2>/dev/null | gzip -n -9 > "$out/$name.jsonl.gz"
  echo "$name: $(gzip -dc "$out/$name.jsonl.gz" | wc -l) messages"
done
