#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what is missing, builds
# the normal and the ASan+UBSan configurations, and runs every test in both.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ghl_ensure_packages "${GHL_BUILD_PACKAGES[@]}" "${GHL_TEST_PACKAGES[@]}"
ghl_ensure_node
ghl_npm_ci tests/contract
export CTEST_OUTPUT_ON_FAILURE=1

ghl_build default
ghl_log "running the suite (build/)"
ctest --test-dir build -j "$(nproc)" --timeout 300

ghl_build asan
ghl_log "running the suite under ASan+UBSan (build-asan/)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan -j "$(nproc)" --timeout 600
