#!/bin/sh
# ctest runs the Node.js tests (contract.mjs, sdk.mjs) through this, so that a machine
# without a usable node fails them with the way out instead of "Could not find executable".
fix="run scripts/test.sh (it installs the nodejs and npm packages, then runs npm ci in tests/contract)"
if ! command -v node >/dev/null 2>&1; then
  echo "FAILED: node not found: $fix" >&2
  exit 1
fi
if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)'; then
  echo "FAILED: node $(node --version) is older than 18: $fix" >&2
  exit 1
fi
exec node "$@"
