#!/usr/bin/env bash
# The GHL client under GHL's real limits (100 requests per 10 s per location), against
# ghl-emulator on loopback: 1) one location, sustained; 2) fan-out to many locations at
# once, each with its own budget. Prints a Markdown table.
#   bench/ghl_client.sh [SUSTAINED_S] [FANOUT_LOCATIONS] [FANOUT_S]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
sustained=${1:-60}
fanout=${2:-500}
fanout_s=${3:-30}

ghl_ensure_packages "${GHL_BUILD_PACKAGES[@]}"
ghl_ensure_node
ghl_npm_ci tests/contract
ghl_build release ghl-emulator ghl_client_bench >/dev/null

work=$(mktemp -d)
trap 'kill $emu 2>/dev/null || true; rm -rf "$work"' EXIT
start_emulator() {
  build-release/ghl-emulator --listen 127.0.0.1:0 --log-level warn >"$work/emu.log" 2>&1 &
  emu=$!
  for _ in $(seq 100); do grep -q 'admin API' "$work/emu.log" 2>/dev/null && break; sleep 0.05; done
  url=$(sed -n 's/^ghl-emulator listening on //p' "$work/emu.log")
}
run() {
  start_emulator
  build-release/ghl_client_bench --url "$url" --locations "$1" --seconds "$2"
  kill $emu; wait $emu 2>/dev/null || true
}
# The same fan-out with the official Node SDK, as users script it today.
run_sdk() {
  start_emulator
  node bench/sdk_fanout.mjs "$url" "$1" "$2" >"$work/sdk.json"
  kill $emu; wait $emu 2>/dev/null || true
  python3 - "$1" "$2" "$work/sdk.json" <<'PY'
import json, sys
n, s, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
r = json.load(open(path))
print(f"| {n} (Node SDK) | {s} | {r['served']} | {r['served']/s:.1f} | "
      f"{100*r['served']/s/(n*10):.1f}% | {r['refused']} | – | {r['cpuSecondsPer1000']:.3f} | "
      f"{r['peakRssMiB']:.1f} |")
PY
}
echo
echo "| locations | seconds | requests served | requests/s | of the limit | 429s | max in any 10 s window / limit | client CPU s per 1,000 requests | client peak RSS MiB |"
echo "|---|---|---|---|---|---|---|---|---|"
run 1 "$sustained"
run "$fanout" "$fanout_s"
run_sdk "$fanout" "$fanout_s"
echo
echo "limit: 100 requests per 10 s per location (the emulator's default, GHL's documented limit); $(nproc) cores"
