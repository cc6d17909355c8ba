# Shared by the benchmarks that run ghl-emulator and ghl-syncd: the build, a work
# directory removed on exit, and the emulator. Source it from the repository root.
#   bench_setup PACKAGES -- TARGETS   sets $build (GHL_BENCH_BUILD=<dir> skips the build)
#   bench_emulator ARGS...            sets $emu, $emu_url, $token, $location
#   bench_free_port                   prints a free loopback port outside the ephemeral range
#   bench_syncd_yaml FILE [YAML]      a ghl-syncd.yaml for the emulator, limits out of the way
#   bench_csv_sync POLL [YAML]        $work/ghl-syncd.yaml and a contacts <-> CSV mapping
#   bench_metric URL NAME [LABEL]     the sum of a metric's series (whose labels hold LABEL)
#   bench_generate_contacts N         N contacts in the emulator's location (contact<i>@...)
source scripts/lib.sh

bench_setup() {
  local packages=() targets=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do packages+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  targets=("$@")
  build=${GHL_BENCH_BUILD:-build-release}
  if [ -z "${GHL_BENCH_BUILD:-}" ]; then
    ghl_ensure_packages "${GHL_BUILD_PACKAGES[@]}" "${packages[@]}"
    ghl_build release "${targets[@]}" >/dev/null
  fi
  work=$(mktemp -d)
  emu= daemon=
  trap bench_cleanup EXIT
}

# GHL_BENCH_KEEP=1 keeps the work directory (state file, logs) for a look afterwards.
bench_cleanup() {
  if [ -n "$daemon" ]; then kill -TERM "$daemon" 2>/dev/null || true; wait "$daemon" 2>/dev/null || true; fi
  if [ -n "$emu" ]; then kill "$emu" 2>/dev/null || true; fi
  if [ -z "${GHL_BENCH_KEEP:-}" ]; then rm -rf "$work"; else echo "kept $work" >&2; fi
}

bench_emulator() {
  "$build/ghl-emulator" --listen 127.0.0.1:0 --log-level warn "$@" >"$work/emu.log" 2>&1 &
  emu=$!
  for _ in $(seq 100); do grep -q 'admin API' "$work/emu.log" 2>/dev/null && break; sleep 0.05; done
  emu_url=$(sed -n 's/^ghl-emulator listening on //p' "$work/emu.log")
  token=$(sed -n 's/^  token (PIT): //p' "$work/emu.log")
  location=$(sed -n 's/^location \([^ ]*\) .*/\1/p' "$work/emu.log")
}

# A port the kernel handed out for bind(0) can be handed out again the moment it is closed
# (to the daemon's metrics listener, say), so pick one outside the ephemeral range instead,
# as tests/support/free_port.h does.
bench_free_port() {
  python3 - <<'PY'
import random, socket
lo, hi = map(int, open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
below, above = (10000, lo - 1), (hi + 1, 65535)
a, b = below if below[1] - below[0] >= above[1] - above[0] else above
for _ in range(200):
    port = random.randint(a, b)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break
PY
}

# bench_syncd_yaml FILE [MORE_YAML]: a ghl-syncd.yaml for the emulator's location, with
# limits high enough that the rate limiter never waits (a benchmark measures the engine,
# not GHL's budget), state in state.db beside it, MORE_YAML (top-level sections) appended.
bench_syncd_yaml() {
  cat >"$1" <<YAML
ghl:
  base_url: $emu_url
  rate_limit: {burst: 100000, daily: 100000000}
  locations:
    - id: $location
      token: $token
state:
  path: state.db
http:
  listen: 127.0.0.1:0
logging:
  level: info
  format: text
${2:-}
YAML
}

# bench_csv_sync POLL_INTERVAL [MORE_YAML]: $work/ghl-syncd.yaml (bench_syncd_yaml) with the
# CSV connector `crm` on data/, and $work/mappings/contacts.yaml: contacts <->
# data/contacts.csv (id, first_name, last_name, email), paired by email.
bench_csv_sync() {
  mkdir -p "$work/data" "$work/mappings"
  bench_syncd_yaml "$work/ghl-syncd.yaml" "connectors:
  crm: {type: csv, dir: data}
mappings_dir: mappings
${2:-}"
  cat >"$work/mappings/contacts.yaml" <<YAML
object: contacts
external: {connector: crm, file: contacts.csv}
key: id
match: [email]
conflict: newest
poll_interval: $1
fields:
  - {ghl: firstName, external: first_name}
  - {ghl: lastName, external: last_name}
  - {ghl: email, external: email, transforms: [trim, lower]}
YAML
}

bench_metric() {
  curl -fsS "$1" |
    awk -v m="$2" -v l="${3:-}" '$1 ~ "^"m"({|$)" && index($1, l) {s += $2} END {printf "%.3f\n", s}'
}

# bench_generate_contacts N: N generated contacts in the emulator's location, deterministic
# (contact<i>@example.com; first names "Ada Grace Alan Edsger Barbara Ken Frances Donald
# Radia Niklaus" by i % 10, last names "Lovelace Hopper Turing Dijkstra Liskov Thompson
# Allen Knuth Perlman Wirth" by i / 10 % 10), no webhooks (a bulk import).
bench_generate_contacts() {
  local left=$1 chunk
  while [ "$left" -gt 0 ]; do
    chunk=$((left < 100000 ? left : 100000))
    curl -fsS -X POST "$emu_url/_emulator/locations/$location/contacts/generate" \
      -H 'content-type: application/json' -d "{\"count\":$chunk}" >/dev/null
    left=$((left - chunk))
  done
}
