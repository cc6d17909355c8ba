// RateBudgetStore: the daily GHL request count of each rate-limit resource, persisted in
// the state store so that a restart does not reset the day's budget.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/result.h"
#include "state/sqlite.h"

namespace ghl::state {

struct DailyBudget {
  int64_t day = 0;  // days since the Unix epoch, UTC
  int64_t used = 0;
};

class RateBudgetStore {
 public:
  explicit RateBudgetStore(sqlite::Db& db) : db_(db) {}

  // The stored count for `resource`, if any.
  Result<std::optional<DailyBudget>> Load(const std::string& resource);
  // Stores the count; a count for an older day is replaced, a smaller count for the
  // same day never lowers the stored one (two writers must not undo each other).
  Result<void> Save(const std::string& resource, DailyBudget budget, const std::string& now_iso);

 private:
  sqlite::Db& db_;
};

}  // namespace ghl::state
