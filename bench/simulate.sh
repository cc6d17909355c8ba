#!/usr/bin/env bash
# The in-process sync simulation (tests/simulation/simulation.h) over many seeds: each seed
# runs SyncRunner, its SQLite state file and ghl-emulator's handlers on a fake clock against
# an in-memory external system, with faults, crashes and racing edits, and an oracle judges
# the end state. Prints a table: seeds, seeds/s, edits simulated, failures by check with
# their seeds.
#   bench/simulate.sh [N] [--from F]   seeds F .. F+N-1 (default: 10000 seeds from 1)
#   bench/simulate.sh --seed S         replays seed S with its whole history (and, when it
#                                      fails, the smallest failing run shrinking found)
# Builds ghl-simulate with ghlb (in build/); GHL_BENCH_BUILD=<dir> uses one built there.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${GHL_BENCH_BUILD:-build}
if [ -z "${GHL_BENCH_BUILD:-}" ]; then
  ghlb ghl-simulate >/dev/null
fi
if [ $# -eq 0 ]; then
  set -- 10000
fi
exec "$build/tests/ghl-simulate" "$@"
