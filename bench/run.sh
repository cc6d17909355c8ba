#!/usr/bin/env bash
# Every benchmark, one after the other; each prints its own table.
set -euo pipefail
cd "$(dirname "$0")"
./emulator.sh
./ghl_client.sh
./sql_scan.sh
./webhooks.sh
./sync.sh
./reconcile.sh  # 1,000,000 rows: about 10 GB of memory at its peak (ghl-emulator and the link pass)
