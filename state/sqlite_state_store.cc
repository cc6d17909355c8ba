#include "state/sqlite_state_store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>
#include <string_view>
#include <system_error>
#include <vector>

namespace ghl::state {
namespace {

constexpr std::string_view kRefuseAdvice =
    "ghl-syncd will not overwrite it. Restore it from a backup or move it aside to start fresh";

std::string Reason(int err) { return std::generic_category().message(err); }

}  // namespace

Result<void> CreateStateDirectories(const std::filesystem::path& dir) {
  struct stat st {};
  if (dir.empty() || (stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode))) return Ok();
  std::filesystem::path prefix;
  for (const std::filesystem::path& part : dir) {
    prefix /= part;
    if (mkdir(prefix.c_str(), 0700) == 0) continue;
    const int err = errno;
    if (err == EEXIST && stat(prefix.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) continue;
    return Error{fmt::format("cannot create state directory {}: {}{}", prefix.string(), Reason(err),
                             err == EEXIST ? " (and it is not a directory)" : "")};
  }
  return Ok();
}

namespace {

// After creating a file, its directory entry is durable only once the directory is synced.
void SyncDirectory(const std::filesystem::path& dir) {
  const std::filesystem::path target = dir.empty() ? "." : dir;
  const int fd = open(target.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || fsync(fd) != 0) {
    spdlog::warn("cannot sync state directory {}: {}", target.string(), Reason(errno));
  }
  if (fd >= 0) close(fd);
}

// Creates the file with mode 0600 if it is missing, so that SQLite (which gives the -wal
// and -shm files the main file's mode) never creates anything wider. The descriptor is
// closed before SQLite opens the file: closing a second descriptor later would drop
// SQLite's POSIX locks on it.
Result<void> CreateOrCheckFile(const std::filesystem::path& path) {
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  const bool created = fd >= 0;
  if (!created && errno == EEXIST) fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return Error{fmt::format("cannot open state file {}: {}", path.string(), Reason(errno))};
  }
  struct stat st {};
  Result<void> result;
  if (fstat(fd, &st) != 0) {
    result = Error{fmt::format("cannot stat state file {}: {}", path.string(), Reason(errno))};
  } else if (!S_ISREG(st.st_mode)) {
    result = Error{fmt::format("state file {} is not a regular file", path.string())};
  } else if (created && fchmod(fd, 0600) != 0) {  // exact mode, whatever the umask
    result = Error{fmt::format("cannot chmod state file {}: {}", path.string(), Reason(errno))};
  } else if (!created && (st.st_mode & 077) != 0) {
    spdlog::warn(
        "state file {} is accessible by group or others (mode {:04o}); it holds sync state "
        "that only ghl-syncd should read: run chmod 600 {}",
        path.string(), st.st_mode & 07777, path.string());
  }
  close(fd);
  if (created && result) SyncDirectory(path.parent_path());
  return result;
}

bool IsDamage(int code) { return code == SQLITE_CORRUPT || code == SQLITE_NOTADB; }

// PRAGMA quick_check, which reads every page but writes nothing. SQLite reports damage as
// rows, or as an error part-way (SQLITE_CORRUPT), or before the first row (SQLITE_NOTADB
// for a file that is not a database at all). Other failures (a lock timeout, an IO error)
// pass through as they are.
Result<void> CheckIntegrity(sqlite::Db& db) {
  constexpr std::size_t kShownLines = 3;
  const std::string path = db.path().string();
  int failure = SQLITE_OK;
  std::vector<std::string> lines;
  Result<sqlite::Statement> stmt = db.Prepare("PRAGMA quick_check");
  if (!stmt) {
    failure = db.LastErrorCode() & 0xff;
    if (!IsDamage(failure)) return stmt.error();
  }
  while (failure == SQLITE_OK) {
    Result<bool> row = stmt->Step();
    if (!row) {
      failure = db.LastErrorCode() & 0xff;
      if (!IsDamage(failure)) return row.error();
    } else if (!*row) {
      break;
    } else {
      // One row may hold several problems, one per line.
      std::istringstream text(stmt->ColumnText(0));
      for (std::string line; std::getline(text, line);) lines.push_back(line);
    }
  }
  if (failure == SQLITE_OK && lines.size() == 1 && lines[0] == "ok") return Ok();
  if (failure == SQLITE_NOTADB) {
    return Error{fmt::format("state file {} is not a SQLite database ({}); {}", path,
                             sqlite3_errstr(failure), kRefuseAdvice)};
  }
  std::erase(lines, "*** in database main ***");  // adds nothing with only one database
  if (failure != SQLITE_OK) lines.push_back(sqlite3_errstr(failure));
  std::string shown;
  for (std::size_t i = 0; i < lines.size() && i < kShownLines; ++i) {
    shown += (i == 0 ? "" : "; ") + lines[i];
  }
  if (lines.size() > kShownLines) shown += fmt::format("; and {} more", lines.size() - kShownLines);
  return Error{
      fmt::format("state file {} is corrupt (quick_check: {}); {}", path, shown, kRefuseAdvice)};
}

// Connection settings. Only journal_mode writes to the file (once, on first switch).
Result<void> Configure(sqlite::Db& db) {
  Result<std::string> mode = db.QueryText("PRAGMA journal_mode = WAL");
  if (!mode) return mode.error();
  if (*mode != "wal") {
    return Error{fmt::format(
        "state file {}: SQLite kept journal mode \"{}\" instead of \"wal\"; WAL needs a local "
        "filesystem that supports shared memory (not NFS)",
        db.path().string(), *mode)};
  }
  // FULL: a commit is on disk when it returns, so an acknowledged webhook is never lost.
  return db.Exec("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON");
}

}  // namespace

Result<std::unique_ptr<SqliteStateStore>> OpenSqlite(const OpenOptions& options) {
  if (options.path.empty()) return Error{"state file path is empty"};
  if (auto valid = ValidateMigrations(options.migrations); !valid) return valid.error();
  if (auto dirs = CreateStateDirectories(options.path.parent_path()); !dirs) return dirs.error();
  if (auto file = CreateOrCheckFile(options.path); !file) return file.error();

  Result<std::unique_ptr<sqlite::Db>> db = sqlite::Db::Open(options.path, options.busy_timeout);
  if (!db) return db.error();
  // Read-only checks first: a file we refuse must leave this function byte for byte as it was.
  bool check = options.check_integrity;
  if (!check) {
    // Unchecked, unless a migration is about to rewrite the file.
    auto current = CheckSchemaVersion(**db, options.migrations);
    if (!current) return current.error();
    check = !options.migrations.empty() && *current < options.migrations.back().version;
  }
  if (check) {
    if (auto intact = CheckIntegrity(**db); !intact) return intact.error();
  }
  if (auto known = CheckSchemaVersion(**db, options.migrations); !known) return known.error();
  if (auto configured = Configure(**db); !configured) return configured.error();

  const SystemClock system_clock;
  const Clock& clock = options.clock != nullptr ? *options.clock : system_clock;
  Result<int> version = ApplyMigrations(**db, options.migrations, clock);
  if (!version) return version.error();
  spdlog::info("state file {} is open at schema version {}", options.path.string(), *version);
  return std::unique_ptr<SqliteStateStore>(new SqliteStateStore(std::move(*db)));
}

Result<int> SqliteStateStore::SchemaVersion() {
  Result<std::int64_t> version = db_->QueryInt64("PRAGMA user_version");
  if (!version) return version.error();
  return static_cast<int>(*version);
}

std::string SqliteStateStore::Describe() const { return "sqlite:" + db_->path().string(); }

Result<void> SqliteStateStore::Checkpoint() {
  Result<sqlite::Statement> stmt = db_->Prepare("PRAGMA wal_checkpoint(TRUNCATE)");
  if (!stmt) return stmt.error();
  Result<bool> row = stmt->Step();
  if (!row) return row.error();
  if (*row && stmt->ColumnInt64(0) != 0) {
    return Error{fmt::format(
        "state file {}: checkpoint could not finish because another connection is using the "
        "file ({} of {} WAL frames copied)",
        db_->path().string(), stmt->ColumnInt64(2), stmt->ColumnInt64(1))};
  }
  return Ok();
}

Result<void> SqliteStateStore::Close() { return db_->Close(); }

}  // namespace ghl::state
