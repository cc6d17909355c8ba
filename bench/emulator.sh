#!/usr/bin/env bash
# ghl-emulator throughput: simple API requests over keep-alive connections on loopback,
# rate limit off, the emulator pinned to one core and wrk to the other. Prints a
# Markdown table of medians over REPEATS runs.
#   bench/emulator.sh [DURATION_S] [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
duration=${1:-10}
repeats=${2:-3}

ghl_ensure_packages "${GHL_BUILD_PACKAGES[@]}" wrk curl
ghl_build release ghl-emulator >/dev/null

work=$(mktemp -d)
trap 'kill $emu 2>/dev/null || true; rm -rf "$work"' EXIT
taskset -c 0 build-release/ghl-emulator --listen 127.0.0.1:0 --no-rate-limit \
  --log-level warn >"$work/emu.log" 2>&1 &
emu=$!
for _ in $(seq 100); do grep -q 'admin API' "$work/emu.log" 2>/dev/null && break; sleep 0.05; done
url=$(sed -n 's/^ghl-emulator listening on //p' "$work/emu.log")
token=$(sed -n 's/^  token (PIT): //p' "$work/emu.log")
location=$(sed -n 's/^location \([^ ]*\) .*/\1/p' "$work/emu.log")

contact=$(curl -sf -X POST "$url/contacts/" -H "Authorization: Bearer $token" \
  -H 'Version: 2021-07-28' -H 'Content-Type: application/json' \
  -d "{\"locationId\":\"$location\",\"firstName\":\"Bench\",\"email\":\"bench@example.com\"}" |
  sed -n 's/.*"contact":{"id":"\([^"]*\)".*/\1/p')

cat >"$work/get.lua" <<LUA
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer $token"
wrk.headers["Version"] = "2021-07-28"
LUA
cat >"$work/upsert.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $token"
wrk.headers["Version"] = "2021-07-28"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"locationId":"$location","email":"bench@example.com","lastName":"Upserted"}'
LUA

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# wrk prints latencies as 812.00us / 1.20ms / 2.00s: normalise to milliseconds.
to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; printf "%.3f\n", v}'; }

echo
echo "| request | connections | requests/s (median of $repeats × ${duration}s) | p50 ms | p99 ms |"
echo "|---|---|---|---|---|"
for spec in "GET /contacts/{id}:get:/contacts/$contact" "POST /contacts/upsert:upsert:/contacts/upsert"; do
  name=${spec%%:*}; rest=${spec#*:}; script=${rest%%:*}; path=${rest#*:}
  for conns in 1 8 64; do
    : >"$work/rps"; : >"$work/p50"; : >"$work/p99"
    for _ in $(seq "$repeats"); do
      taskset -c 1 wrk -t1 -c"$conns" -d"${duration}s" --latency -s "$work/$script.lua" \
        "$url$path" >"$work/out"
      awk '/Requests\/sec/ {print $2}' "$work/out" >>"$work/rps"
      awk '$1 == "50%" {print $2}' "$work/out" | to_ms >>"$work/p50"
      awk '$1 == "99%" {print $2}' "$work/out" | to_ms >>"$work/p99"
      if grep -q 'Non-2xx' "$work/out"; then echo "non-2xx answers in a run:" >&2; cat "$work/out" >&2; exit 1; fi
    done
    printf '| %s | %s | %.0f | %s | %s |\n' "$name" "$conns" "$(median <"$work/rps")" \
      "$(median <"$work/p50")" "$(median <"$work/p99")"
  done
done
echo
echo "emulator pinned to CPU 0 (one core), wrk to CPU 1; rate limit off; $(nproc) cores, $(uname -r)"
