// Internal to mapping/: the schema of a mapping file (config::Table rows for every key, so
// unknown keys get a "did you mean", defaults and docs come from one place) and the checks
// that span keys (field names against the GHL catalogue, directions, owners, duplicates,
// transforms), run once the keys are parsed.
#pragma once

#include <yaml-cpp/yaml.h>

#include "config/schema.h"
#include "mapping/mapping.h"

namespace ghl::mapping::detail {

// The top level of a mapping file. Its check runs CheckSync.
const config::Table<SyncSpec>& SyncTable();

// Checks what spans keys and compiles every field's transforms into its chains; narrows
// each field's direction to the effective one. Reports into `ctx`; `root` is the file's
// top-level node (for positions).
void CheckSync(SyncSpec& spec, const YAML::Node& root, config::Context& ctx);

// The node under `key` of the mapping `n`, or `n` itself when there is none: the place to
// point an error at.
YAML::Node At(const YAML::Node& n, const char* key);

}  // namespace ghl::mapping::detail
