#!/usr/bin/env bash
# The SQL connectors' scan cost (issue 7), in SQLite and in a throwaway PostgreSQL server
# on loopback: full scans of 1,000,000 rows with no changes and with 1% changed (time,
# peak RSS; target under 10 s and 500 MB), and an incremental scan (updated_at) of 1,000
# changed rows in tables of 100,000 and 1,000,000 rows (target: independent of table size).
# Prints a Markdown table.
#   bench/sql_scan.sh [ROWS] [SMALL_ROWS] [ROWS_PER_SCAN_CALL]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
rows=${1:-1000000}
small=${2:-100000}
page=${3:-1000}

ghl_ensure_packages "${GHL_BUILD_PACKAGES[@]}" libpq-dev postgresql
ghl_build release sql_scan_bench >/dev/null
build-release/sql_scan_bench --rows "$rows" --small-rows "$small" --page "$page"
