// The SQLite state store: one file in WAL mode, migrated to the current schema at open,
// refusing files it would damage (corrupt, not a database, or from a newer ghl-syncd).
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "state/migrations.h"
#include "state/sqlite.h"
#include "state/state_store.h"

namespace ghl::state {

struct OpenOptions {
  // The database file. Missing parent directories are created with mode 0700, a missing
  // file with mode 0600; its -wal and -shm files inherit that mode.
  std::filesystem::path path;
  // How long a statement waits for another process's lock before failing. 0 to 2^31-1 ms.
  std::chrono::milliseconds busy_timeout{5000};
  // The schema, oldest first. Tests pass their own lists.
  std::vector<Migration> migrations = BuiltinMigrations();
  // Wall time for migrations (meta.created_at). Not owned; nullptr means the system clock.
  const Clock* clock = nullptr;
  // PRAGMA quick_check before anything else: it reads every page, so on a large file it
  // takes a while. The daemon checks at its start; the operator commands that open the
  // file beside it (`dlq`, `status`, `audit`, `plan`) turn it off. It runs anyway when a
  // migration is about to rewrite the file.
  bool check_integrity = true;
};

class SqliteStateStore final : public StateStore {
 public:
  SqliteStateStore(const SqliteStateStore&) = delete;
  SqliteStateStore& operator=(const SqliteStateStore&) = delete;
  ~SqliteStateStore() override = default;

  Result<int> SchemaVersion() override;
  std::string Describe() const override;  // "sqlite:<path>"
  Result<void> Checkpoint() override;
  Result<void> Close() override;

  const std::filesystem::path& Path() const { return db_->path(); }
  // The connection, for the tables later issues add.
  sqlite::Db& db() { return *db_; }

 private:
  friend Result<std::unique_ptr<SqliteStateStore>> OpenSqlite(const OpenOptions& options);
  explicit SqliteStateStore(std::unique_ptr<sqlite::Db> db) : db_(std::move(db)) {}

  std::unique_ptr<sqlite::Db> db_;  // never null; closed by Close()
};

// Opens (creating if missing) the state file, then, in this order and without writing to an
// existing file until every check has passed: refuses a file that is not a SQLite database
// or fails PRAGMA quick_check, refuses a schema newer than `options.migrations` knows,
// switches to WAL with synchronous=FULL and foreign_keys=ON, and applies missing
// migrations. Warns when an existing file is readable by group or others.
Result<std::unique_ptr<SqliteStateStore>> OpenSqlite(const OpenOptions& options);

// Creates `dir` and its missing ancestors with mode 0700 (narrowed further by the umask,
// never widened). Existing directories are left as they are. The error names the directory.
Result<void> CreateStateDirectories(const std::filesystem::path& dir);

}  // namespace ghl::state
