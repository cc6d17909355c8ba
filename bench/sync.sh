#!/usr/bin/env bash
# The two-way sync, contacts <-> a CSV file of N rows, against ghl-emulator (limits high
# enough that the rate limiter never waits: this measures the engine, not GHL's budget):
#   1. backfill: N CSV rows created in GHL: time, GHL calls per record, peak memory;
#   2. rescans with nothing changed: GHL calls per record per pass;
#   3. 1% of the rows changed in the CSV: time until GHL has them, GHL calls per change;
#   4. a contact changed in GHL: time until its webhook's change is in the CSV (p50/p99).
# Prints Markdown tables.
#   bench/sync.sh [N] [LATENCY_SAMPLES]
# GHL_BENCH_BUILD=<dir> uses binaries already built there instead of build-release/.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
n=${1:-20000}
samples=${2:-40}
bench_setup sqlite3 curl bc python3 -- ghl-syncd ghl-emulator
bench_emulator --no-rate-limit --rate-burst 100000 --rate-daily 100000000
info=$(curl -fsS "$emu_url/_emulator/info")
keys=$work/keys
mkdir -p "$keys" "$work/data" "$work/mappings"
python3 - "$info" "$keys" <<'PY'
import json, sys
info = json.loads(sys.argv[1])
for scheme, pem in info["webhookPublicKeys"].items():
    open(f"{sys.argv[2]}/{scheme}.pem", "w").write(pem)
PY
webhook_port=$(bench_free_port)
curl -fsS -X PUT "$emu_url/_emulator/webhooks/config" -H 'content-type: application/json' \
  -d "{\"urls\":[\"http://127.0.0.1:$webhook_port/webhooks/ghl\"]}" >/dev/null

bench_csv_sync 1s "webhooks:
  enabled: true
  listen: 127.0.0.1:$webhook_port
  builtin_keys: false
  public_key_files: [keys/ed25519.pem, keys/rsa.pem]"
write_csv() {  # write_csv SUFFIX_FOR_CHANGED_ROWS EVERY
  awk -v n="$n" -v suffix="$1" -v every="$2" 'BEGIN {
    print "id,first_name,last_name,email"
    for (i = 0; i < n; i++) {
      last = (every > 0 && i % every == 0) ? "Row" suffix : "Row"
      printf "c-%d,First%d,%s,user%d@example.com\n", i, i, last, i
    }
  }' >"$work/data/.contacts.tmp"
  mv "$work/data/.contacts.tmp" "$work/data/contacts.csv"
}
metric() { bench_metric "$metrics_url" "$@" | cut -d. -f1; }  # metric NAME [LABEL_TEXT]
searches() { metric ghl_syncd_api_requests_total 'operation="contacts.search"'; }
status_json() {
  "$build/ghl-syncd" status --json --config "$work/ghl-syncd.yaml" 2>"$work/status.err" | grep "^{" ||
    { cat "$work/status.err" >&2; return 1; }
}
settled() {  # every row linked, nothing waiting (fails the bench if the daemon died)
  kill -0 "$daemon" 2>/dev/null || { echo "ghl-syncd exited:" >&2; tail -20 "$work/daemon.log" >&2; exit 1; }
  status_json | python3 -c 'import json,sys; s=json.load(sys.stdin)["syncs"][0]; sys.exit(0 if s["links"]>=int(sys.argv[1]) and s["outbox"]==0 else 1)' "$n"
}
now_ms() { date +%s%3N; }

write_csv "" 0
sleep 1.1  # the CSV connector reads a file unchanged for 1 s
start=$(now_ms)
"$build/ghl-syncd" run --config "$work/ghl-syncd.yaml" >"$work/daemon.log" 2>&1 &
daemon=$!
for _ in $(seq 200); do grep -q 'http listener on' "$work/daemon.log" 2>/dev/null && break; sleep 0.05; done
metrics_url="http://$(sed -n 's/.*http listener on \([0-9.:]*\) .*/\1/p' "$work/daemon.log")/metrics"
until settled; do sleep 0.5; done
backfill_ms=$(($(now_ms) - start))
backfill_calls=$(metric ghl_syncd_api_requests_total)
peak_kb=$(awk '/VmHWM/ {print $2}' "/proc/$daemon/status")

# Rescans with nothing changed: the GHL calls of five passes, once the webhooks of the
# backfill's own writes are settled and the poll's overlap window (30 s, for GHL's search
# lag) no longer re-reads the backfill's records.
quiet() {
  until status_json | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["inbox_depth"]==0 else 1)'; do
    sleep 0.5
  done
  sleep 35
}
quiet
passes0=$(metric ghl_syncd_sync_passes_total)
calls0=$(metric ghl_syncd_api_requests_total)
curl -fsS "$metrics_url" | grep '^ghl_syncd_api_requests_total' >"$work/ops0"
until [ "$(metric ghl_syncd_sync_passes_total)" -ge $((passes0 + 5)) ]; do sleep 0.2; done
rescan_calls=$(($(metric ghl_syncd_api_requests_total) - calls0))
curl -fsS "$metrics_url" | grep '^ghl_syncd_api_requests_total' >"$work/ops1"
rescan_ops=$(join <(sort "$work/ops0") <(sort "$work/ops1") |
  awk '$3 > $2 {sub(/.*operation="/, "", $1); sub(/".*/, "", $1); printf "%s%s %d", sep, $1, $3 - $2; sep = ", "}')

# 1% of the rows changed in the CSV.
changed=$(((n + 99) / 100))
calls1=$(metric ghl_syncd_api_requests_total)
searches1=$(searches)
synced1=$(metric ghl_syncd_records_synced_total)
start=$(now_ms)
write_csv "Changed" 100
until [ "$(metric ghl_syncd_records_synced_total)" -ge $((synced1 + changed)) ] && settled; do
  sleep 0.1
done
change_ms=$(($(now_ms) - start))
change_searches=$(($(searches) - searches1))
change_calls=$(($(metric ghl_syncd_api_requests_total) - calls1 - change_searches))

# GHL -> CSV: a contact changed in GHL (its webhook), until the CSV row has it; one at a
# time, with the daemon otherwise quiet.
quiet
sqlite3 "$work/state.db" "SELECT ghl_id || ' ' || ext_key FROM links LIMIT $samples" >"$work/ids"
: >"$work/latency"
i=0
while read -r id key; do
  i=$((i + 1))
  start=$(now_ms)
  curl -fsS -X PUT "$emu_url/_emulator/user/contacts/$id" -H 'content-type: application/json' \
    -d "{\"lastName\":\"Webhook$i\"}" >/dev/null
  until grep -q "^$key,.*,Webhook$i," "$work/data/contacts.csv"; do sleep 0.005; done
  echo $(($(now_ms) - start)) >>"$work/latency"
done <"$work/ids"
percentile() { sort -g "$work/latency" | awk -v p="$1" '{a[NR]=$1} END {i=int((NR-1)*p+0.5)+1; print a[i]}'; }

poll_calls=$(awk -v c="$rescan_calls" 'BEGIN {printf "%.0f", c / 5}')
echo
echo "| phase ($n contacts, CSV <-> ghl-emulator) | time | GHL calls | calls per record |"
echo "|---|---|---|---|"
printf '| backfill: %d rows created in GHL | %.1f s | %d | %.2f |\n' "$n" \
  "$(bc -l <<<"$backfill_ms/1000")" "$backfill_calls" "$(bc -l <<<"$backfill_calls/$n")"
printf '| rescan, nothing changed (per pass; five passes: %s) | - | %d | %.4f |\n' \
  "$rescan_ops" "$poll_calls" "$(bc -l <<<"$poll_calls/$n")"
printf '| %d rows (1%%) changed in the CSV | %.1f s | %d + %d polls | %.2f per change |\n' \
  "$changed" "$(bc -l <<<"$change_ms/1000")" "$change_calls" "$change_searches" \
  "$(bc -l <<<"$change_calls/$changed")"
echo
echo "| GHL change -> CSV row (webhook, $samples samples) | p50 ms | p99 ms |"
echo "|---|---|---|"
echo "| contact updated in GHL until its row changed | $(percentile 0.5) | $(percentile 0.99) |"
echo
echo "peak memory of ghl-syncd after the backfill: $((peak_kb / 1024)) MiB;" \
  "$(nproc) cores, $(uname -r)"
