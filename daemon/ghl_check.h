// `ghl-syncd check` against GHL itself: the custom-field keys the mappings name must exist
// in every location they sync (a renamed or deleted custom field is reported before the
// daemon starts, with the mapping's file:line:col).
#pragma once

#include <string>
#include <vector>

#include "config/config.h"
#include "config/diagnostics.h"
#include "sync/engine.h"

namespace ghl::daemon {

// Looks up the custom fields of every location the syncs use (one GHL call per location
// and object). An unknown key is an error in `errors`; a location that cannot be asked
// (unreachable, token refused, OAuth) is a line in `notes`, so `check` works offline.
void CheckCustomFieldKeys(const config::Config& config, const std::vector<sync::SyncSetup>& syncs,
                          config::Diagnostics& errors, std::vector<std::string>& notes);

}  // namespace ghl::daemon
