#!/usr/bin/env bash
# ghl-syncd's webhook endpoint: signed webhooks per second accepted durably (committed to
# the inbox with synchronous=FULL before the 200), over keep-alive connections on loopback,
# with p50/p99 latency; then a kill -9 during load, after which every webhook that got a
# 200 must be in the inbox. Measured twice: the whole ghl-syncd (whose sync engine reads
# and settles every inbox row meanwhile) and the endpoint alone (bench/webhooks_server.cc).
# The server is pinned to CPU 0, the load generator (bench/webhooks_bench.cc, bodies signed
# in advance) to CPU 1. Prints Markdown tables.
#   bench/webhooks.sh [DURATION_S] [REPEATS]
# GHL_BENCH_BUILD=<dir> uses binaries already built there instead of build-release/.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
duration=${1:-10}
repeats=${2:-3}
bench_setup sqlite3 -- ghl-syncd ghl-emulator webhooks_bench webhooks_server

# The GHL side: the daemon checks its location's token there at start.
bench_emulator --no-rate-limit
keys=$work/keys
"$build/webhooks_bench" --url http://127.0.0.1:1/ --keys-dir "$keys" --keys-only

# start_daemon DIR: a fresh ghl-syncd with its state in DIR; sets $daemon and $url.
start_daemon() {
  local dir=$1
  mkdir -p "$dir/mappings"
  bench_syncd_yaml "$dir/ghl-syncd.yaml" "mappings_dir: mappings
webhooks:
  enabled: true
  listen: 127.0.0.1:0
  builtin_keys: false
  public_key_files: [$keys/webhook-ed25519.pub.pem, $keys/webhook-rsa.pub.pem]"
  taskset -c 0 "$build/ghl-syncd" run --config "$dir/ghl-syncd.yaml" >"$dir/daemon.log" 2>&1 &
  daemon=$!
  for _ in $(seq 200); do grep -q 'webhook listener on' "$dir/daemon.log" 2>/dev/null && break; sleep 0.05; done
  url="http://$(sed -n 's/.*webhook listener on \([0-9.:]*\) .*/\1/p' "$dir/daemon.log")/webhooks/ghl"
}
# start_endpoint DIR: the endpoint alone, its state in DIR; sets $daemon and $url.
start_endpoint() {
  local dir=$1
  mkdir -p "$dir"
  taskset -c 0 "$build/webhooks_server" --state "$dir/state.db" \
    --key-file "$keys/webhook-ed25519.pub.pem" --key-file "$keys/webhook-rsa.pub.pem" \
    >"$dir/daemon.log" 2>&1 &
  daemon=$!
  for _ in $(seq 200); do grep -q 'webhook listener on' "$dir/daemon.log" 2>/dev/null && break; sleep 0.05; done
  url="http://$(sed -n 's/.*webhook listener on \([0-9.:]*\).*/\1/p' "$dir/daemon.log")/webhooks/ghl"
}
stop_daemon() {
  kill -TERM "$daemon"
  wait "$daemon" 2>/dev/null || true
  daemon=
}
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo
echo "| server | signature | connections | accepted webhooks/s (median of $repeats × ${duration}s) | p50 ms | p99 ms | 429s |"
echo "|---|---|---|---|---|---|---|"
run=0
for server in ghl-syncd endpoint; do
for scheme in ed25519 rsa; do
  for conns in 1 64; do
    : >"$work/rate"; : >"$work/p50"; : >"$work/p99"; : >"$work/429"
    for _ in $(seq "$repeats"); do
      run=$((run + 1))
      if [ "$server" = ghl-syncd ]; then start_daemon "$work/run-$run"; else start_endpoint "$work/run-$run"; fi
      taskset -c 1 "$build/webhooks_bench" --url "$url" --keys-dir "$keys" --scheme "$scheme" \
        --connections "$conns" --seconds "$duration" --count $((duration * 15000)) \
        >"$work/out" 2>"$work/err"
      stop_daemon
      line=$(grep '^RESULT' "$work/out")
      if [ "$(field other <<<"$line")" != 0 ] || [ "$(field errors <<<"$line")" != 0 ]; then
        echo "unexpected answers: $line" >&2; cat "$work/err" "$work/run-$run/daemon.log" >&2; exit 1
      fi
      field rate <<<"$line" >>"$work/rate"
      field p50_ms <<<"$line" >>"$work/p50"
      field p99_ms <<<"$line" >>"$work/p99"
      field throttled <<<"$line" >>"$work/429"
      rows=$(sqlite3 "$work/run-$run/state.db" 'SELECT count(*) FROM webhook_inbox')
      if [ "$rows" != "$(field ok <<<"$line")" ]; then
        echo "inbox has $rows rows but $line" >&2; exit 1
      fi
    done
    printf '| %s | %s | %s | %.0f | %s | %s | %s |\n' "$server" "$scheme" "$conns" \
      "$(median <"$work/rate")" "$(median <"$work/p50")" "$(median <"$work/p99")" \
      "$(median <"$work/429")"
  done
done
done

# kill -9 in the middle of a 64-connection load.
kill_dir=$work/kill
start_daemon "$kill_dir"
taskset -c 1 "$build/webhooks_bench" --url "$url" --keys-dir "$keys" --connections 64 \
  --seconds 8 --count 120000 --acked "$work/acked.txt" >"$work/kill.out" 2>&1 &
client=$!
for _ in $(seq 600); do grep -q '; sending' "$work/kill.out" && break; sleep 0.05; done
sleep 3
kill -9 "$daemon"
wait "$daemon" 2>/dev/null || true
daemon=
wait "$client"
acked=$(wc -l <"$work/acked.txt")
read -r stored missing duplicates < <(sqlite3 -separator ' ' "$work/check.db" <<SQL
ATTACH '$kill_dir/state.db' AS s;
CREATE TABLE acked (id TEXT PRIMARY KEY);
.import $work/acked.txt acked
SELECT (SELECT count(*) FROM s.webhook_inbox),
       (SELECT count(*) FROM acked WHERE id NOT IN (SELECT webhook_id FROM s.webhook_inbox)),
       (SELECT count(*) - count(DISTINCT webhook_id) FROM s.webhook_inbox);
SQL
)
echo
echo "| kill -9 after 3 s of 64-connection load | webhooks |"
echo "|---|---|"
echo "| answered 200 before the kill | $acked |"
echo "| in the inbox after the kill | $stored |"
echo "| answered 200 but missing from the inbox | $missing |"
echo "| stored twice | $duplicates |"
echo
echo "server pinned to CPU 0, webhooks_bench to CPU 1; ~600-byte ContactUpdate bodies, each with"
echo "its own webhookId; ghl-syncd without mappings (its engine marks every row skipped);"
echo "SQLite WAL, synchronous=FULL; $(nproc) cores, $(uname -r)"
[ "$missing" = 0 ] && [ "$duplicates" = 0 ]
