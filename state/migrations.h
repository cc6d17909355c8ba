// Versioned schema migrations for the SQLite state store.
//
// The file's `PRAGMA user_version` is the number of the last migration applied to it.
// At open, every migration with a higher number is applied in order, each in its own
// BEGIN IMMEDIATE transaction together with the user_version bump, so a crash leaves the
// file at one version or the next, never in between. Migrations are never edited once
// released: a change to the schema is a new migration at the end of the list.
#pragma once

#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "state/sqlite.h"

namespace ghl::state {

struct Migration {
  int version = 0;   // 1, 2, 3, ... in order, without gaps
  std::string name;  // what it does, for the log
  std::string sql;   // one or more statements; `:now` is bound to the UTC time (ISO-8601)
};

// The schema this build of ghl-syncd knows, oldest first.
const std::vector<Migration>& BuiltinMigrations();

// An error unless versions run 1, 2, 3, ... in order.
Result<void> ValidateMigrations(const std::vector<Migration>& migrations);

// The file's schema version. Refuses (without writing anything) a file whose version is
// newer than the last of `migrations`: this build does not know that schema.
Result<int> CheckSchemaVersion(sqlite::Db& db, const std::vector<Migration>& migrations);

// Applies the migrations the file does not have yet and logs each one. Returns the schema
// version the file is at afterwards. REQUIRES: ValidateMigrations(migrations) passed.
Result<int> ApplyMigrations(sqlite::Db& db, const std::vector<Migration>& migrations,
                            const Clock& clock);

// "2026-11-29T09:04:48Z": a UTC time to whole seconds, as stored in the meta table.
std::string FormatUtcIso8601(Clock::TimePoint time);

}  // namespace ghl::state
