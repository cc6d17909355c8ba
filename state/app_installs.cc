#include "state/app_installs.h"

namespace ghl::state {

Result<bool> AppInstallStore::Record(const AppInstall& event, int64_t now_ms) {
  auto stmt = db_.Prepare(
      "INSERT INTO app_installs (resource, level, company_id, installed, event_at, webhook_id,"
      " updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
      "ON CONFLICT (resource) DO UPDATE SET level = excluded.level,"
      "  company_id = CASE WHEN excluded.company_id = '' THEN app_installs.company_id"
      "                    ELSE excluded.company_id END,"
      "  installed = excluded.installed, event_at = excluded.event_at,"
      "  webhook_id = excluded.webhook_id, updated_at = excluded.updated_at "
      "WHERE excluded.event_at >= app_installs.event_at RETURNING 1");
  if (!stmt) return stmt.error();
  if (auto b = stmt->BindText(1, event.resource); !b) return b.error();
  if (auto b = stmt->BindText(2, event.location ? "location" : "company"); !b) return b.error();
  if (auto b = stmt->BindText(3, event.company_id); !b) return b.error();
  if (auto b = stmt->BindInt64(4, event.installed ? 1 : 0); !b) return b.error();
  if (auto b = stmt->BindInt64(5, event.event_at_ms); !b) return b.error();
  if (auto b = stmt->BindText(6, event.webhook_id); !b) return b.error();
  if (auto b = stmt->BindInt64(7, now_ms); !b) return b.error();
  return stmt->Step();  // a row back: stored
}

Result<std::vector<AppInstall>> AppInstallStore::All() {
  auto stmt = db_.Prepare(
      "SELECT resource, level, company_id, installed, event_at, webhook_id FROM app_installs"
      " ORDER BY resource");
  if (!stmt) return stmt.error();
  std::vector<AppInstall> rows;
  while (true) {
    auto row = stmt->Step();
    if (!row) return row.error();
    if (!*row) break;
    rows.push_back({stmt->ColumnText(0), stmt->ColumnText(1) == "location", stmt->ColumnText(2),
                    stmt->ColumnInt64(3) != 0, stmt->ColumnInt64(4), stmt->ColumnText(5)});
  }
  return rows;
}

}  // namespace ghl::state
