#!/usr/bin/env bash
# The FTS5 write-cost probe: server CPU µs per message for each index variant, in a room already
# holding FILL messages (the history cap), N more written in flushes of BATCH (one multi-row
# insert each, as the room's burst), each flush trimming as many of the oldest (TRIM=1) or none
# (TRIM=0). CPU is the workerd processes' utime+stime from /proc, 10 ms ticks.
# usage: bench/fts-writes/run.sh [variant ...]   (default: none old contentless contentless+automerge=16)
# variants: none | old (internal content) | contentless | contentless-delete, each with
# +automerge=N, +crisismerge=N, +pgsz=N, +detailcolumn, +detailnone, +nosize (columnsize=0)
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(cd ../.. && pwd)
PORT=${PORT:-18941}; N=${N:-20000}; FILL=${FILL:-10000}; BATCH=${BATCH:-8}; TRIM=${TRIM:-1}; ROUNDS=${ROUNDS:-2}
variants=("$@"); [ ${#variants[@]} -gt 0 ] || variants=(none old contentless contentless+automerge=16)
state=$(mktemp -d)
CI=true WRANGLER_SEND_METRICS=false setsid "$ROOT/node_modules/.bin/wrangler" dev --local --ip 127.0.0.1 \
  --port "$PORT" --inspector-port $((PORT + 1)) --show-interactive-dev-session=false --persist-to "$state" \
  </dev/null >"$state/log" 2>&1 &
wrangler=$!
trap 'kill -- -$wrangler 2>/dev/null; rm -rf "$state"' EXIT
for _ in $(seq 60); do grep -q "Ready on" "$state/log" && curl -sf -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.5; done
cpu() { local t=0; for p in $(pgrep -s "$wrangler" workerd); do t=$((t + $(awk '{print $14+$15}' "/proc/$p/stat"))); done; echo "$t"; }
ask() { curl -sf -X POST "http://127.0.0.1:$PORT/?o=$1" -d "$2"; }
for round in $(seq "$ROUNDS"); do
  for v in "${variants[@]}"; do
    o="r$round-$v-$RANDOM"
    ask "$o" "{\"bench\":{\"name\":\"$v\",\"phase\":\"fill\",\"fill\":$FILL}}" >/dev/null
    a=$(cpu)
    ask "$o" "{\"bench\":{\"name\":\"$v\",\"phase\":\"run\",\"n\":$N,\"batch\":$BATCH,\"trim\":$TRIM,\"multi\":1}}" >/dev/null
    b=$(cpu)
    echo "round $round $v batch $BATCH trim $TRIM: $(( (b - a) * 10000 / N )) µs CPU per message"
  done
done
