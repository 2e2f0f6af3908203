#!/usr/bin/env bash
# Writes N (default 1,000,000) deterministic positions as truce locate input: uniform over the
# example agreement's extent, with times, categories and parties, so every rule kind is asked.
set -euo pipefail
n=${1:-1000000}
awk -v n="$n" 'BEGIN {
  srand(20261201)
  split("tank artillery-100mm mlrs heavy-mlrs fixed-wing naval-vessel foreign-force military-personnel civilian-traffic", cats, " ")
  split("east west", parties, " ")
  print "id,lon,lat,alt,time,category,party,count"
  for (i = 1; i <= n; i++) {
    printf "p%d,%.5f,%.5f,%d,2027-01-%02dT%02d:00:00Z,%s,%s,%d\n", i, 27 + 18 * rand(), 40.5 + 12.5 * rand(), int(20000 * rand()), 1 + int(28 * rand()), int(24 * rand()), cats[1 + int(9 * rand())], parties[1 + int(2 * rand())], 1 + int(150 * rand())
  }
}'
