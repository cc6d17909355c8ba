#!/usr/bin/env bash
# Regenerates the configuration reference in README.md from the schema tables
# (`ghl-syncd reference`). The config test fails while the README is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ghl_build default ghl-syncd >/dev/null
python3 - "$(build/ghl-syncd reference)" <<'PY'
import re, sys
begin = "<!-- BEGIN CONFIG REFERENCE (generated: ghl-syncd reference) -->\n"
end = "<!-- END CONFIG REFERENCE -->"
text = open("README.md").read()
b, e = text.index(begin) + len(begin), text.index(end)
open("README.md", "w").write(text[:b] + sys.argv[1] + "\n" + text[e:])
PY
