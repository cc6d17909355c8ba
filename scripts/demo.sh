#!/usr/bin/env bash
# The main job on the embedded default: builds ghl-syncd and ghl-emulator, starts the
# emulator (config/examples/emulator.yaml) as the GHL side, and runs the daemon in the
# foreground on config/examples/demo.yaml, with its SQLite state in var/demo/.
# No GHL account needed. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ghl_ensure_packages "${GHL_BUILD_PACKAGES[@]}"
ghl_build default ghl-syncd ghl-emulator
mkdir -p var/demo/data
# The external side of the demo sync: a CSV file you can edit while it runs.
[ -f var/demo/data/contacts.csv ] || cp config/examples/data/contacts.csv var/demo/data/
first_run=1
[ -f var/demo/emulator-snapshot.json ] && first_run=0

http=${GHL_SYNCD_HTTP:-127.0.0.1:9464}
export GHL_SYNCD_HTTP=$http
ghl_log "starting ghl-emulator (log: var/demo/emulator.log)"
build/ghl-emulator --config config/examples/emulator.yaml >var/demo/emulator.log 2>&1 &
emulator=$!
trap 'kill $emulator 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q 'admin API' var/demo/emulator.log 2>/dev/null && break; sleep 0.1; done
if ! grep -q 'admin API' var/demo/emulator.log; then
  cat var/demo/emulator.log >&2
  echo "ghl-emulator did not start (is port 8089 taken?)" >&2
  exit 1
fi
emu=$(sed -n 's/^ghl-emulator listening on //p' var/demo/emulator.log)
if [ "$first_run" = 1 ]; then
  # Two people who exist only in GHL, and one (Grace) who is in both: the first pass
  # creates the first two in the CSV and links Grace by her email.
  for c in '"firstName":"Ada","lastName":"Lovelace","email":"ada@example.com","tags":["vip"]' \
           '"firstName":"Linus","lastName":"Torvalds","email":"linus@example.com"' \
           '"firstName":"Grace","lastName":"Hopper","email":"grace@example.com"'; do
    curl -sf -o /dev/null -X POST "$emu/contacts/" -H 'Authorization: Bearer demo-private-integration-token' \
      -H 'Version: 2021-07-28' -H 'Content-Type: application/json' -d "{\"locationId\":\"demo-location\",$c}"
  done
  # GHL's search shows a new contact a few seconds late (search_lag in the emulator's
  # config), so wait until it lists all three: the first pass then sees them. (Started
  # sooner, the daemon is still right: it looks a contact up by email before creating it
  # and links Grace instead; Ada and Linus come with the next pass.)
  for _ in $(seq 100); do
    total=$(curl -sf -X POST "$emu/contacts/search" -H 'Authorization: Bearer demo-private-integration-token' \
      -H 'Version: 2021-07-28' -H 'Content-Type: application/json' \
      -d '{"locationId":"demo-location","pageLimit":1}' | sed -n 's/.*"total":\([0-9]*\).*/\1/p')
    [ "${total:-0}" -ge 3 ] && break
    sleep 0.1
  done
fi

ghl_log "starting ghl-syncd on config/examples/demo.yaml (state: var/demo/state.db)"
cat >&2 <<MSG
    GHL side: $emu (admin API: $emu/_emulator/info)
    Try, from another terminal:
      curl -s http://$http/readyz                         # ready once GHL accepted the token
      curl -s http://$http/metrics | grep ghl_syncd_      # Prometheus metrics
      curl -s -X POST $emu/_emulator/user/contacts/ -d '{"locationId":"demo-location","firstName":"Bo","email":"bo@example.com"}'
                                                          # a GHL user adds a contact (a webhook): it appears in the CSV
      \$EDITOR var/demo/data/contacts.csv                  # edit a row: GHL follows within seconds
      build/ghl-syncd status --config config/examples/demo.yaml   # links, outbox, dead letters, budget
      kill -HUP \$(pgrep -f 'ghl-syncd run')              # reload config + mappings
    Stop with Ctrl-C (a clean drain and exit 0).
MSG
build/ghl-syncd run --config config/examples/demo.yaml
