#!/usr/bin/env bash
# Regenerates the configuration references in README.md from the schema tables
# (`ghl-syncd reference`, `ghl-emulator --config-reference`). Tests fail while the README
# is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ghl_build default ghl-syncd ghl-emulator >/dev/null
python3 - "$(build/ghl-syncd reference)" "$(build/ghl-emulator --config-reference)" <<'PY'
import sys
text = open("README.md").read()
for name, body in (("CONFIG REFERENCE (generated: ghl-syncd reference)", sys.argv[1]),
                   ("EMULATOR CONFIG REFERENCE (generated: ghl-emulator --config-reference)",
                    sys.argv[2])):
    begin = "<!-- BEGIN " + name + " -->\n"
    end = "<!-- END " + name.split(" (")[0] + " -->"
    b, e = text.index(begin) + len(begin), text.index(end)
    text = text[:b] + body + "\n" + text[e:]
open("README.md", "w").write(text)
PY
