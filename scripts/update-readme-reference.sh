#!/usr/bin/env bash
# Regenerates the generated references in README.md from the schema tables
# (`ghl-syncd reference [config|connectors|mappings]`, `ghl-emulator --config-reference`).
# Tests fail while the README is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ghl_build default ghl-syncd ghl-emulator >/dev/null
python3 - "$(build/ghl-syncd reference config)" "$(build/ghl-emulator --config-reference)" \
  "$(build/ghl-syncd reference connectors)" "$(build/ghl-syncd reference mappings)" <<'PY'
import sys
text = open("README.md").read()
for name, body in (("CONFIG REFERENCE (generated: ghl-syncd reference)", sys.argv[1]),
                   ("EMULATOR CONFIG REFERENCE (generated: ghl-emulator --config-reference)",
                    sys.argv[2]),
                   ("CONNECTOR REFERENCE (generated: ghl-syncd reference connectors)", sys.argv[3]),
                   ("MAPPING REFERENCE (generated: ghl-syncd reference mappings)", sys.argv[4])):
    begin = "<!-- BEGIN " + name + " -->\n"
    end = "<!-- END " + name.split(" (")[0] + " -->"
    b, e = text.index(begin) + len(begin), text.index(end)
    text = text[:b] + body + "\n" + text[e:]
open("README.md", "w").write(text)
PY
