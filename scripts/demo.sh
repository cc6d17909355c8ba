#!/usr/bin/env bash
# The main job on the embedded default: builds ghl-syncd and runs it in the foreground on
# config/examples/demo.yaml, with its SQLite state in var/demo/. No GHL account needed.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ghl_ensure_packages "${GHL_BUILD_PACKAGES[@]}"
ghl_build default ghl-syncd
mkdir -p var/demo

http=${GHL_SYNCD_HTTP:-127.0.0.1:9464}
export GHL_SYNCD_HTTP=$http
ghl_log "starting ghl-syncd on config/examples/demo.yaml (state: var/demo/state.db)"
cat >&2 <<MSG
    Try, from another terminal:
      curl -s http://$http/metrics | grep ghl_syncd_      # Prometheus metrics
      curl -s http://$http/readyz                         # readiness
      kill -HUP \$(pgrep -f 'ghl-syncd run')              # reload config + mappings
      build/ghl-syncd check --config config/examples/demo.yaml
    Stop with Ctrl-C (a clean drain and exit 0).
MSG
exec build/ghl-syncd run --config config/examples/demo.yaml
