#include "state/rate_budget.h"

namespace ghl::state {

Result<std::optional<DailyBudget>> RateBudgetStore::Load(const std::string& resource) {
  auto stmt = db_.Prepare("SELECT day, used FROM rate_budget WHERE resource = ?1");
  if (!stmt) return stmt.error();
  if (auto b = stmt->BindText(1, resource); !b) return b.error();
  auto row = stmt->Step();
  if (!row) return row.error();
  if (!*row) return std::optional<DailyBudget>();
  return std::optional<DailyBudget>(DailyBudget{stmt->ColumnInt64(0), stmt->ColumnInt64(1)});
}

Result<void> RateBudgetStore::Save(const std::string& resource, DailyBudget budget,
                                   const std::string& now_iso) {
  auto stmt = db_.Prepare(
      "INSERT INTO rate_budget (resource, day, used, updated_at) VALUES (?1, ?2, ?3, ?4) "
      "ON CONFLICT (resource) DO UPDATE SET "
      "  used = CASE WHEN excluded.day = rate_budget.day "
      "              THEN max(rate_budget.used, excluded.used) ELSE excluded.used END, "
      "  day = excluded.day, updated_at = excluded.updated_at "
      "WHERE excluded.day >= rate_budget.day");
  if (!stmt) return stmt.error();
  if (auto b = stmt->BindText(1, resource); !b) return b;
  if (auto b = stmt->BindInt64(2, budget.day); !b) return b;
  if (auto b = stmt->BindInt64(3, budget.used); !b) return b;
  if (auto b = stmt->BindText(4, now_iso); !b) return b;
  return stmt->Run();
}

}  // namespace ghl::state
