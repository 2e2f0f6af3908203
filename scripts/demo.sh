#!/usr/bin/env bash
# The demo behind `make demo`: the main job of truce on the embedded default (SQLite in a
# temporary data directory), end to end, with the example agreement and its demo keys.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=bin/truce
ex=examples/line-of-contact.yaml
addr=127.0.0.1:${TRUCE_DEMO_PORT:-18080}
server=http://$addr
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

step() { printf '\n== %s\n' "$*"; }

step "1. the agreement as code: check it, render its zones, locate sample positions"
$bin check $ex && echo "$ex: valid"
$bin zones $ex > bin/zones.geojson && echo "wrote bin/zones.geojson (open it in any GIS tool)"
$bin locate $ex examples/positions.csv

step "2. scenarios: the verification engine and its CAP alerts, as treaty unit tests"
mkdir -p bin/cap
$bin scenario run --cap-out bin/cap scenario/testdata/*.scn
echo "CAP 1.2 alerts in bin/cap/"

step "3. the mission's server on the embedded store ($work/data)"
$bin serve --agreement $ex --data "$work/data" --addr "$addr" 2> "$work/serve.log" &
pid=$!
for _ in $(seq 100); do
  curl -fsS "$server/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "$server/healthz" && echo

step "4. intake: a monitor team's field sheet, a drone ground station and an AIS receiver, each signed by its key"
$bin ingest --server "$server" --key examples/keys/monitor-1.key --format csv examples/observations-monitor-1.csv
$bin ingest --server "$server" --key examples/keys/uav-gs-1.key --format csv examples/observations-uav-gs-1.csv
# The agreement lists the Eastern Party's naval transponders: one of the two ships is its own.
$bin ingest --server "$server" --key examples/keys/ais-rx-1.key --format ais --agreement $ex examples/corridor.nmea

step "5. the record no one can quietly rewrite: export the log and verify it offline"
$bin log checkpoint --server "$server" > "$work/kept.checkpoint"
cat "$work/kept.checkpoint"
$bin log export --server "$server" --key examples/keys/analyst-1.key "$work/log.archive"
$bin log verify --agreement $ex --verifier-key "$(curl -fsS "$server/v1/log/verifier")" \
  --checkpoint "$work/kept.checkpoint" "$work/log.archive" && echo "log verified offline"

step "6. verification: the incidents the engine found, and one in full with its evidence"
$bin incidents --server "$server" --key examples/keys/analyst-1.key
$bin incidents --server "$server" --key examples/keys/analyst-1.key 1
