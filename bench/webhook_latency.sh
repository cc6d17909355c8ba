#!/usr/bin/env bash
# A GHL change that arrives by webhook, until the external side has it, while passes over
# N rows (default 100,000) run back to back: contacts <-> an SQLite table of N rows (no
# updated_at column, so every pass reads and compares all N rows) against ghl-emulator,
# limits out of the way. N contacts are generated in GHL and the same N rows written to the
# table; the first pass links them. Then, with a pass every second, SAMPLES contacts are
# changed in GHL one at a time at random moments, and each is timed from the change until
# its row has the new last name. Prints a Markdown table: p50/p90/p99/max, and how many
# passes ran meanwhile and how long they took.
#   bench/webhook_latency.sh [N] [SAMPLES]
# GHL_BENCH_BUILD=<dir> uses binaries already built there instead of build-release/.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
n=${1:-100000}
samples=${2:-200}
bench_setup sqlite3 curl python3 -- ghl-syncd ghl-emulator
bench_emulator --no-rate-limit --rate-burst 100000000 --rate-daily 1000000000 --search-lag-ms 0

# GHL: N generated contacts (contact<i>@example.com, names from two lists of ten).
bench_generate_contacts "$n"
# The external side: the same N rows.
python3 - "$work/crm.db" "$n" <<'PY'
import sqlite3, sys
first = "Ada Grace Alan Edsger Barbara Ken Frances Donald Radia Niklaus".split()
last = "Lovelace Hopper Turing Dijkstra Liskov Thompson Allen Knuth Perlman Wirth".split()
db = sqlite3.connect(sys.argv[1])
db.execute("PRAGMA journal_mode = WAL")
db.execute("CREATE TABLE contacts (id TEXT PRIMARY KEY, first_name TEXT, last_name TEXT, email TEXT)")
db.executemany("INSERT INTO contacts VALUES (?, ?, ?, ?)",
               ((f"c-{i}", first[i % 10], last[i // 10 % 10], f"contact{i}@example.com")
                for i in range(int(sys.argv[2]))))
db.commit()
PY
info=$(curl -fsS "$emu_url/_emulator/info")
keys=$work/keys
mkdir -p "$keys" "$work/mappings"
python3 - "$info" "$keys" <<'PY'
import json, sys
for scheme, pem in json.loads(sys.argv[1])["webhookPublicKeys"].items():
    open(f"{sys.argv[2]}/{scheme}.pem", "w").write(pem)
PY
webhook_port=$(bench_free_port)
curl -fsS -X PUT "$emu_url/_emulator/webhooks/config" -H 'content-type: application/json' \
  -d "{\"urls\":[\"http://127.0.0.1:$webhook_port/webhooks/ghl\"]}" >/dev/null
bench_syncd_yaml "$work/ghl-syncd.yaml" "connectors:
  crm: {type: sqlite, path: crm.db}
mappings_dir: mappings
webhooks:
  enabled: true
  listen: 127.0.0.1:$webhook_port
  builtin_keys: false
  public_key_files: [keys/ed25519.pem, keys/rsa.pem]"
cat >"$work/mappings/contacts.yaml" <<YAML
object: contacts
external: {connector: crm, table: contacts}
key: id
match: [email]
conflict: newest
poll_interval: 1s
fields:
  - {ghl: firstName, external: first_name}
  - {ghl: lastName, external: last_name}
  - {ghl: email, external: email, transforms: [trim, lower]}
YAML

metric() { bench_metric "$metrics_url" "$@"; }
alive() {
  kill -0 "$daemon" 2>/dev/null || { echo "ghl-syncd exited:" >&2; tail -20 "$work/daemon.log" >&2; exit 1; }
  [ "$(date +%s)" -le "$deadline" ] || { echo "gave up waiting; the log ends:" >&2; tail -20 "$work/daemon.log" >&2; exit 1; }
}
"$build/ghl-syncd" run --config "$work/ghl-syncd.yaml" >"$work/daemon.log" 2>&1 &
daemon=$!
deadline=$(($(date +%s) + 600 + n / 500))
until grep -q 'http listener on' "$work/daemon.log" 2>/dev/null; do alive; sleep 0.05; done
metrics_url="http://$(sed -n 's/.*http listener on \([0-9.:]*\) .*/\1/p' "$work/daemon.log")/metrics"
until [ "$(metric ghl_syncd_links | cut -d. -f1)" -ge "$n" ] &&
  [ "$(metric ghl_syncd_outbox_depth | cut -d. -f1)" -eq 0 ]; do
  alive
  sleep 0.5
done
passes() { metric ghl_syncd_sync_pass_duration_seconds_count | cut -d. -f1; }
p=$(passes)
until [ "$(passes)" -ge $((p + 2)) ]; do alive; sleep 0.2; done  # passes of N rows now

passes0=$(passes)
seconds0=$(metric ghl_syncd_sync_pass_duration_seconds_sum)
python3 - "$work/crm.db" "$work/state.db" "$emu_url" "$samples" >"$work/latency" <<'PY'
import json, random, sqlite3, sys, time, urllib.request
crm, state, emu, samples = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
links = sqlite3.connect(f"file:{state}?mode=ro", uri=True).execute(
    "SELECT ghl_id, ext_key FROM links WHERE ghl_id IS NOT NULL AND ext_key IS NOT NULL").fetchall()
random.seed(7)
picked = random.sample(links, samples)
db = sqlite3.connect(f"file:{crm}?mode=ro", uri=True)
for i, (ghl_id, key) in enumerate(picked):
    time.sleep(random.uniform(0, 0.5))  # a random moment of a pass
    value = f"Webhook{i}"
    req = urllib.request.Request(f"{emu}/_emulator/user/contacts/{ghl_id}", method="PUT",
                                 data=json.dumps({"lastName": value}).encode(),
                                 headers={"content-type": "application/json"})
    start = time.monotonic()
    urllib.request.urlopen(req).read()
    deadline = start + 60
    while db.execute("SELECT last_name FROM contacts WHERE id = ?", (key,)).fetchone()[0] != value:
        if time.monotonic() > deadline:
            sys.exit(f"{key} never got {value}")
        time.sleep(0.001)
    print(f"{(time.monotonic() - start) * 1000:.1f}")
PY
passes1=$(passes)
seconds1=$(metric ghl_syncd_sync_pass_duration_seconds_sum)
during=$((passes1 - passes0))
pct() { sort -g "$work/latency" | awk -v p="$1" '{a[NR]=$1} END {i=int((NR-1)*p+0.5)+1; print a[i]}'; }
echo
echo "| GHL change -> SQLite row by webhook, $samples samples, while passes over $n rows run | p50 ms | p90 ms | p99 ms | max ms |"
echo "|---|---|---|---|---|"
echo "| contact updated in GHL until its row has the change | $(pct 0.5) | $(pct 0.9) | $(pct 0.99) | $(pct 1) |"
echo
awk -v d="$during" -v s="$(awk -v a="$seconds1" -v b="$seconds0" 'BEGIN {print a - b}')" \
  'BEGIN {printf "%d passes ran meanwhile, %.2f s each on average; ", d, (d > 0 ? s / d : 0)}'
echo "$(nproc) cores, $(uname -r)"
