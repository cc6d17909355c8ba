#!/usr/bin/env bash
# Reconciling a big CSV file with GHL: contacts <-> a CSV file of N rows (default
# 1,000,000) against ghl-emulator, with limits high enough that the rate limiter never
# waits (this measures the engine, not GHL's budget).
#   1. link: N contacts generated in GHL and the same N rows in the CSV; the first pass
#      pairs them by email and writes nothing (time, peak memory);
#   2. then a fresh ghl-syncd for each case, timed by its first pass
#      (ghl_syncd_sync_pass_duration_seconds) with its peak memory (VmHWM):
#      - nothing changed, the file as it was (its hash is all that is read);
#      - nothing changed, the file written again in another row order (every row is
#        compared with the state);
#      - 1% of the rows changed (the pass decides and queues the writes; the time until GHL
#        has them all is given apart).
# Prints a Markdown table.
#   bench/reconcile.sh [N]
# GHL_BENCH_BUILD=<dir> uses binaries already built there instead of build-release/.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
n=${1:-1000000}
bench_setup sqlite3 curl bc python3 -- ghl-syncd ghl-emulator
bench_emulator --no-rate-limit --rate-burst 100000000 --rate-daily 1000000000
now_ms() { date +%s%3N; }
seconds() { bc -l <<<"$1/1000" | xargs printf '%.1f'; }

# GHL: N generated contacts (contact<i>@example.com, names from two lists of ten).
start=$(now_ms)
bench_generate_contacts "$n"
generate_ms=$(($(now_ms) - start))
# Until search sees them all (its lag): a first pass that polled earlier would find no
# contact to pair a row with and create (upsert) every row.
total() {  # sorted the way a poll is, so the emulator answers from its index
  curl -fsS -X POST "$emu_url/contacts/search" -H "Authorization: Bearer $token" \
    -H 'Version: 2021-07-28' -H 'content-type: application/json' \
    -d "{\"locationId\":\"$location\",\"pageLimit\":1,\"sort\":[{\"field\":\"dateUpdated\",\"direction\":\"asc\"}]}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])'
}
for i in $(seq 600); do
  [ "$(total)" -ge "$n" ] && break
  [ "$i" -lt 600 ] || { echo "ghl-emulator's search never showed the $n contacts" >&2; exit 1; }
  sleep 0.5
done
emu_kb=$(awk '/VmRSS/ {print $2}' "/proc/$emu/status")

bench_csv_sync 5s
# write_csv ORDER SUFFIX EVERY: the rows GHL has (the generator's names), in ascending or
# descending order; every EVERY-th row's last name gets SUFFIX.
write_csv() {
  awk -v n="$n" -v order="$1" -v suffix="$2" -v every="$3" 'BEGIN {
    split("Ada Grace Alan Edsger Barbara Ken Frances Donald Radia Niklaus", first, " ")
    split("Lovelace Hopper Turing Dijkstra Liskov Thompson Allen Knuth Perlman Wirth", last, " ")
    print "id,first_name,last_name,email"
    for (k = 0; k < n; k++) {
      i = order == "desc" ? n - 1 - k : k
      l = last[int(i / 10) % 10 + 1] ((every > 0 && i % every == 0) ? suffix : "")
      printf "c-%d,%s,%s,contact%d@example.com\n", i, first[i % 10 + 1], l, i
    }
  }' >"$work/data/.contacts.tmp"
  mv "$work/data/.contacts.tmp" "$work/data/contacts.csv"
  sleep 1.1  # the CSV connector reads a file unchanged for 1 s
}
metric() { bench_metric "$metrics_url" "$@"; }  # metric NAME [LABEL_TEXT]
alive() {  # fails the bench if ghl-syncd exited or the step has waited past $deadline
  kill -0 "$daemon" 2>/dev/null || { echo "ghl-syncd exited:" >&2; tail -20 "$work/daemon.log" >&2; exit 1; }
  if [ "$(date +%s)" -gt "$deadline" ]; then
    echo "gave up waiting (${step_s}s); the daemon's log ends:" >&2
    tail -20 "$work/daemon.log" >&2
    exit 1
  fi
}
step() { step_s=$1 deadline=$(($(date +%s) + $1)); }  # step SECONDS: a limit for the next waits
start_daemon() {
  "$build/ghl-syncd" run --config "$work/ghl-syncd.yaml" >"$work/daemon.log" 2>&1 &
  daemon=$!
  until grep -q 'http listener on' "$work/daemon.log" 2>/dev/null; do alive; sleep 0.05; done
  metrics_url="http://$(sed -n 's/.*http listener on \([0-9.:]*\) .*/\1/p' "$work/daemon.log")/metrics"
}
stop_daemon() { kill -TERM "$daemon" 2>/dev/null || true; wait "$daemon" || true; daemon=; }
# Passes timed (the histogram is updated just after the pass counter).
passes() { metric ghl_syncd_sync_pass_duration_seconds_count | cut -d. -f1; }
wait_passes() {  # wait_passes K: until K passes are done
  until [ "$(passes)" -ge "$1" ]; do alive; sleep 0.2; done
}
outbox() { metric ghl_syncd_outbox_depth | cut -d. -f1; }
links() { metric ghl_syncd_links | cut -d. -f1; }
calls() { metric ghl_syncd_api_requests_total | cut -d. -f1; }
peak_mib() { awk '/VmHWM/ {printf "%d\n", $2 / 1024}' "/proc/$daemon/status"; }
rows=()
row() { rows+=("$(printf '| %s | %s | %s | %s |' "$@")"); }

# 1. Link: the first pass reads every contact and every row and pairs them.
write_csv asc "" 0
step $((600 + n / 1000))  # the link pass: about 85 s at 1M here
start=$(now_ms)
start_daemon
wait_passes 1
until [ "$(links)" -ge "$n" ] && [ "$(outbox)" -eq 0 ]; do alive; sleep 0.5; done
link_ms=$(($(now_ms) - start))
link_calls=$(calls)
link_writes=$(metric ghl_syncd_records_synced_total | cut -d. -f1)
row "link: $n contacts and $n rows paired by email (first pass)" "$(seconds "$link_ms") s" \
  "$(peak_mib) MiB" "$link_calls GHL calls, $link_writes writes"
# Until the poll's overlap window has passed the generated contacts: a pass then reads
# one search page.
step $((600 + n / 2000))
while true; do
  c=$(calls) p=$(passes)
  wait_passes $((p + 2))  # one whole pass after this moment
  [ $(($(calls) - c)) -le 2 ] && break
done
stop_daemon

# 2. A fresh ghl-syncd per case, measured by its first pass.
first_pass() {  # first_pass LABEL: starts ghl-syncd, times its first pass
  step $((300 + n / 2000))
  start_daemon
  wait_passes 1
  local took
  took=$(metric ghl_syncd_sync_pass_duration_seconds_sum)
  row "$1" "$(printf '%.2f' "$took") s" "$(peak_mib) MiB" "$(calls) GHL calls"
}
first_pass "no change: the file as it was"
stop_daemon
write_csv desc "" 0
first_pass "no change: the file written again, rows in reverse order"
stop_daemon
write_csv asc Changed 100
start=$(now_ms)
first_pass "1% changed: $((n / 100)) rows decided and queued"
step $((300 + n / 1000))
until [ "$(metric ghl_syncd_records_synced_total | cut -d. -f1)" -ge $((n / 100)) ] &&
  [ "$(outbox)" -eq 0 ]; do
  alive
  sleep 0.2
done
drain_ms=$(($(now_ms) - start))
written=$(metric ghl_syncd_records_synced_total | cut -d. -f1)
row "1% changed: until GHL has all $written writes" "$(seconds "$drain_ms") s" "$(peak_mib) MiB" \
  "$(calls) GHL calls"
stop_daemon

echo
echo "| $n rows, CSV <-> ghl-emulator | time | peak RSS of ghl-syncd | |"
echo "|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "ghl-emulator: $n contacts generated in $(seconds "$generate_ms") s, $((emu_kb / 1024)) MiB;" \
  "state file $(($(stat -c %s "$work/state.db") / 1048576)) MiB; $(nproc) cores, $(uname -r)"
