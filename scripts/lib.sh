# Shared by scripts/demo.sh and scripts/test.sh: install what is missing, configure, build.
# Sourced, not run.

# Debian 12 packages the build needs.
GHL_BUILD_PACKAGES=(build-essential cmake ninja-build pkg-config git
  libboost-dev libyaml-cpp-dev libspdlog-dev libfmt-dev libcli11-dev prometheus-cpp-dev
  libsqlite3-dev curl libsystemd-dev rapidjson-dev libssl-dev libcurl4-openssl-dev
  libphonenumber-dev libhowardhinnant-date-dev libicu-dev tzdata libcsv-dev libpq-dev)
# ... and what the test suite needs on top (format check, unit verification, HTTP client).
# nghttp2-server and openssl: the HTTP/2 test (tests/integration/curl_multi_h2_test.cc).
GHL_TEST_PACKAGES=(libgtest-dev libgmock-dev clang-format sqlite3 systemd postgresql nghttp2-server
                   openssl)

ghl_log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# ghl_ensure_packages PKG...: apt-get installs the packages that are not installed yet.
# Works as root and, for other users, through sudo. Does nothing when all are present.
ghl_ensure_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
      missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
  fi
  ghl_log "installing ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}

# ghl_ensure_node: node and npm for the Node.js tests in tests/contract (Debian 12's nodejs is
# Node 18, which they support). Leaves an existing node alone (its npm may come with it).
ghl_ensure_node() {
  command -v node >/dev/null || ghl_ensure_packages nodejs npm
  command -v npm >/dev/null || ghl_ensure_packages npm
}

# ghl_npm_ci DIR: `npm ci` in DIR when its node_modules is missing or older than its
# package-lock.json (npm ci writes node_modules/.package-lock.json).
ghl_npm_ci() {
  local dir=$1 installed=$1/node_modules/.package-lock.json
  [ -f "$installed" ] && [ ! "$dir/package-lock.json" -nt "$installed" ] && return 0
  ghl_log "npm ci in $dir"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
}

# ghl_build PRESET [TARGET...]: configures (once) and builds with the CMake preset.
ghl_build() {
  local preset=$1
  shift
  local dir=build
  [ "$preset" != default ] && dir=build-$preset
  if [ ! -f "$dir/CMakeCache.txt" ]; then
    ghl_log "configuring $dir ($preset)"
    cmake --preset "$preset" >/dev/null
  fi
  ghl_log "building $dir"
  local targets=()
  for t in "$@"; do targets+=(--target "$t"); done
  cmake --build "$dir" -j "$(nproc)" "${targets[@]}"
}
