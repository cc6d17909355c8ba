// AppInstallStore: where the GHL Marketplace app is installed, as INSTALL / UNINSTALL
// webhooks said (FACTS.md §8.2), in the state store's `app_installs` table (schema
// migration 7). One row per resource: a location id, or a company id for an agency-level
// event. The newest event wins: an older one, delivered late or retried, changes nothing.
//
// The sync engine records an event in the transaction that marks its inbox row done; the
// daemon reads the table at start and after each change, and adds or pauses locations to
// match (daemon/app.cc ApplyInstalls).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "state/sqlite.h"

namespace ghl::state {

struct AppInstall {
  std::string resource;     // the location id; the company id when `location` is false
  bool location = true;     // a location-level event (false: agency level)
  std::string company_id;   // as the event said; "" when it did not
  bool installed = true;    // INSTALL (true) or UNINSTALL (false)
  int64_t event_at_ms = 0;  // the webhook's timestamp (its receive time when it had none)
  std::string webhook_id;
};

class AppInstallStore {
 public:
  explicit AppInstallStore(sqlite::Db& db) : db_(db) {}

  // Stores `event` unless the row holds a newer one (a later event_at_ms); true if stored.
  Result<bool> Record(const AppInstall& event, int64_t now_ms);
  // Every row, by resource.
  Result<std::vector<AppInstall>> All();

 private:
  sqlite::Db& db_;
};

}  // namespace ghl::state
