// SqliteDriver: the SQLite side of the SQL connector (a database file, through the SQLite C
// API). Column kinds come from the declared types (PRAGMA table_info's `type`): BOOL*,
// TIMESTAMP/DATETIME, JSON, then SQLite's affinity rules (INT, CHAR/CLOB/TEXT, REAL/FLOA/
// DOUB, else NUMERIC). Booleans are stored as 0/1, timestamps and JSON as text.
//
// Retryable failures: SQLITE_BUSY / SQLITE_LOCKED (another connection held the lock longer
// than busy_timeout), I/O errors, a file that cannot be opened or is not (or no longer) a
// database; the latter close the connection so that the next call reopens the file.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>

#include "connectors/sql/driver.h"

namespace ghl::connectors::sql {

// Kind of a column declared as `declared` ("VARCHAR(20)", "timestamptz", "" for none).
Kind SqliteKind(const char* declared);

std::unique_ptr<Driver> MakeSqliteDriver(std::filesystem::path path,
                                         std::chrono::milliseconds busy_timeout);

}  // namespace ghl::connectors::sql
