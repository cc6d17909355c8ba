// The SQLite state store: file creation and modes, WAL, migrations, refusal of files it
// would damage, and the transaction helper.
#include "state/state_store.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "state/app_installs.h"
#include "state/migrations.h"
#include "state/sqlite.h"
#include "state/sqlite_state_store.h"

namespace ghl::state {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string ReadBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void WriteBytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

unsigned Mode(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

fs::path Sidecar(const fs::path& db, const char* suffix) { return fs::path(db.string() + suffix); }

// Routes spdlog's default logger into a string for the lifetime of the object.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    sink->set_pattern("%l %v");
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  std::string Text() const { return out_.str(); }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

Migration MetaMigration() { return BuiltinMigrations().at(0); }

class StateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // No umask narrowing: the modes we see are exactly the modes the code asked for.
    old_umask_ = umask(0);
    std::string pattern = ::testing::TempDir() + "ghl_state_test_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    umask(old_umask_);
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  OpenOptions Options(const fs::path& path) {
    OpenOptions options;
    options.path = path;
    options.clock = &clock_;
    return options;
  }

  std::unique_ptr<SqliteStateStore> MustOpen(const OpenOptions& options) {
    Result<std::unique_ptr<SqliteStateStore>> store = OpenSqlite(options);
    if (!store) {
      ADD_FAILURE() << store.error().message;
      return nullptr;
    }
    return std::move(*store);
  }

  // A file made outside the store: rollback journal, user_version `version`.
  void MakeForeignDatabase(const fs::path& path, int version) {
    WriteBytes(path, "");
    auto db = sqlite::Db::Open(path, 1s);
    ASSERT_TRUE(db) << db.error().message;
    ASSERT_TRUE((*db)->Exec("CREATE TABLE future (x); INSERT INTO future VALUES (1);"));
    ASSERT_TRUE((*db)->Exec("PRAGMA user_version = " + std::to_string(version)));
    ASSERT_TRUE((*db)->Close());
  }

  static std::int64_t Count(sqlite::Db& db, const std::string& table) {
    Result<std::int64_t> n = db.QueryInt64("SELECT count(*) FROM " + table);
    EXPECT_TRUE(n) << n.error().message;
    return n ? *n : -1;
  }

  fs::path dir_;
  mode_t old_umask_ = 022;
  // 2026-11-29T09:04:48Z
  FakeClock clock_{Clock::TimePoint{std::chrono::seconds{1795943088}}};
};

TEST_F(StateStoreTest, FreshOpenCreatesPrivateDirectoriesAndFiles) {
  const fs::path path = dir_ / "var" / "lib" / "state.db";
  auto store = MustOpen(Options(path));
  ASSERT_NE(store, nullptr);

  EXPECT_TRUE(fs::is_directory(dir_ / "var"));
  EXPECT_EQ(Mode(dir_ / "var"), 0700u);
  EXPECT_EQ(Mode(dir_ / "var" / "lib"), 0700u);
  EXPECT_EQ(Mode(path), 0600u);

  ASSERT_TRUE(store->db().Exec("INSERT INTO meta VALUES ('probe', 'x')"));
  ASSERT_TRUE(fs::exists(Sidecar(path, "-wal")));
  EXPECT_GT(fs::file_size(Sidecar(path, "-wal")), 0u);
  EXPECT_EQ(Mode(Sidecar(path, "-wal")), 0600u);
  EXPECT_EQ(Mode(Sidecar(path, "-shm")), 0600u);
}

TEST_F(StateStoreTest, UsesWalAndConfiguresTheConnection) {
  const fs::path path = dir_ / "state.db";
  OpenOptions options = Options(path);
  options.busy_timeout = 1234ms;
  auto store = MustOpen(options);
  ASSERT_NE(store, nullptr);

  sqlite::Db& db = store->db();
  EXPECT_EQ(db.QueryText("PRAGMA journal_mode").value(), "wal");
  EXPECT_EQ(db.QueryInt64("PRAGMA synchronous").value(), 2);  // FULL
  EXPECT_EQ(db.QueryInt64("PRAGMA foreign_keys").value(), 1);

  // WAL is a property of the file, not just of this connection.
  auto other = sqlite::Db::Open(path, 1s);
  ASSERT_TRUE(other) << other.error().message;
  EXPECT_EQ((*other)->QueryText("PRAGMA journal_mode").value(), "wal");
}

// A connection waits for another's write lock up to its busy timeout, and gets it as soon
// as it is free (not after SQLite's default sleeps of up to 100 ms), then gives up with
// "database is locked".
TEST_F(StateStoreTest, BusyConnectionWaitsForTheLockUpToItsTimeout) {
  const fs::path path = dir_ / "state.db";
  auto store = MustOpen(Options(path));
  ASSERT_NE(store, nullptr);
  auto waiter = sqlite::Db::Open(path, 300ms);
  ASSERT_TRUE(waiter) << waiter.error().message;

  ASSERT_TRUE(store->db().Exec("BEGIN IMMEDIATE"));
  auto started = std::chrono::steady_clock::now();
  auto locked = (*waiter)->Exec("BEGIN IMMEDIATE");
  const auto waited = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(locked);
  EXPECT_NE(locked.error().message.find("database is locked"), std::string::npos)
      << locked.error().message;
  EXPECT_GE(waited, 300ms);

  std::thread holder([&] {
    std::this_thread::sleep_for(50ms);
    ASSERT_TRUE(store->db().Exec("COMMIT"));
  });
  started = std::chrono::steady_clock::now();
  auto got = (*waiter)->Exec("BEGIN IMMEDIATE");
  const auto took = std::chrono::steady_clock::now() - started;
  holder.join();
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_GE(took, 40ms);
  EXPECT_LT(took, 290ms) << "it got the lock before its timeout";
  ASSERT_TRUE((*waiter)->Exec("COMMIT"));
}

TEST_F(StateStoreTest, FreshOpenAppliesBuiltinMigrationsAndLogsThem) {
  LogCapture log;
  auto store = MustOpen(Options(dir_ / "state.db"));
  ASSERT_NE(store, nullptr);

  const int latest = BuiltinMigrations().back().version;
  StateStore& generic = *store;
  EXPECT_EQ(generic.SchemaVersion().value(), latest);
  EXPECT_EQ(store->db().QueryInt64("PRAGMA user_version").value(), latest);
  EXPECT_EQ(store->db().QueryText("SELECT value FROM meta WHERE key = 'schema_origin'").value(),
            "ghl-syncd");
  EXPECT_EQ(store->db().QueryText("SELECT value FROM meta WHERE key = 'created_at'").value(),
            "2026-11-29T09:04:48Z");
  EXPECT_NE(log.Text().find("applied schema migration 1 (create meta table)"), std::string::npos)
      << log.Text();
  EXPECT_EQ(generic.Describe(), "sqlite:" + (dir_ / "state.db").string());
}

TEST_F(StateStoreTest, ReopenAppliesNothingAndKeepsData) {
  const fs::path path = dir_ / "state.db";
  {
    auto store = MustOpen(Options(path));
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->db().Exec("INSERT INTO meta VALUES ('probe', 'kept')"));
    ASSERT_TRUE(store->Close());
  }
  clock_.Advance(24h);
  LogCapture log;
  auto store = MustOpen(Options(path));
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(log.Text().find("applied schema migration"), std::string::npos) << log.Text();
  EXPECT_EQ(store->SchemaVersion().value(), BuiltinMigrations().back().version);
  EXPECT_EQ(store->db().QueryText("SELECT value FROM meta WHERE key = 'probe'").value(), "kept");
  EXPECT_EQ(store->db().QueryText("SELECT value FROM meta WHERE key = 'created_at'").value(),
            "2026-11-29T09:04:48Z");
}

TEST_F(StateStoreTest, NewMigrationIsAppliedToAnExistingFile) {
  const fs::path path = dir_ / "state.db";
  OpenOptions v1 = Options(path);
  v1.migrations = {MetaMigration()};
  {
    auto store = MustOpen(v1);
    ASSERT_NE(store, nullptr);
    ASSERT_EQ(store->SchemaVersion().value(), 1);
  }

  OpenOptions v2 = v1;
  v2.migrations.push_back({2, "create widgets", "CREATE TABLE widgets (id INTEGER PRIMARY KEY);"});
  LogCapture log;
  auto store = MustOpen(v2);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->SchemaVersion().value(), 2);
  EXPECT_EQ(Count(store->db(), "widgets"), 0);
  EXPECT_EQ(Count(store->db(), "meta"), 2);  // migration 1 did not run again
  EXPECT_NE(log.Text().find("applied schema migration 2 (create widgets)"), std::string::npos);
  EXPECT_EQ(log.Text().find("applied schema migration 1"), std::string::npos) << log.Text();
}

TEST_F(StateStoreTest, FailedMigrationIsRolledBackWhole) {
  const fs::path path = dir_ / "state.db";
  OpenOptions v1 = Options(path);
  v1.migrations = {MetaMigration()};
  ASSERT_NE(MustOpen(v1), nullptr);

  OpenOptions broken = v1;
  broken.migrations.push_back(
      {2, "half done", "CREATE TABLE half (x); INSERT INTO missing VALUES (1);"});
  auto failed = OpenSqlite(broken);
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.error().message.find("schema migration 2 (half done) failed"), std::string::npos)
      << failed.error().message;
  EXPECT_NE(failed.error().message.find("no such table: missing"), std::string::npos);

  auto store = MustOpen(v1);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->SchemaVersion().value(), 1);
  EXPECT_EQ(
      store->db().QueryInt64("SELECT count(*) FROM sqlite_schema WHERE name = 'half'").value(), 0);
}

TEST_F(StateStoreTest, InvalidMigrationListIsRejectedBeforeTouchingDisk) {
  OpenOptions options = Options(dir_ / "new" / "state.db");
  options.migrations = {MetaMigration(), {3, "skips two", "SELECT 1"}};
  auto store = OpenSqlite(options);
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message.find("has version 3, expected 2"), std::string::npos)
      << store.error().message;
  EXPECT_FALSE(fs::exists(dir_ / "new"));
}

TEST_F(StateStoreTest, NewerSchemaIsRefusedAndFileLeftUnchanged) {
  const fs::path path = dir_ / "state.db";
  MakeForeignDatabase(path, 99);
  const std::string before = ReadBytes(path);

  auto store = OpenSqlite(Options(path));
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().message,
            "state file " + path.string() + " has schema version 99 but this ghl-syncd knows " +
                "only up to " + std::to_string(BuiltinMigrations().back().version) +
                "; upgrade ghl-syncd or restore a backup made by this version");
  EXPECT_EQ(ReadBytes(path), before);
  EXPECT_FALSE(fs::exists(Sidecar(path, "-wal")));  // never switched to WAL
}

TEST_F(StateStoreTest, CorruptFileIsRefusedAndLeftUnchanged) {
  const fs::path path = dir_ / "state.db";
  std::int64_t root = 0, page_size = 0;
  {
    auto store = MustOpen(Options(path));
    ASSERT_NE(store, nullptr);
    sqlite::Db& db = store->db();
    ASSERT_TRUE(
        db.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL);"
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) "
                "INSERT INTO t (body) SELECT printf('row %d %s', i, hex(randomblob(20))) FROM n;"));
    root = db.QueryInt64("SELECT rootpage FROM sqlite_schema WHERE name = 't'").value();
    page_size = db.QueryInt64("PRAGMA page_size").value();
    ASSERT_GT(db.QueryInt64("PRAGMA page_count").value(), root + 2);  // t spans many pages
    ASSERT_TRUE(store->Close());  // checkpoints the WAL into the main file
  }
  // Clobber the b-tree page header and cell pointers of t's root page.
  std::string bytes = ReadBytes(path);
  ASSERT_GE(bytes.size(), static_cast<std::size_t>(root * page_size));
  bytes.replace(static_cast<std::size_t>((root - 1) * page_size), 64, 64, '\xa5');
  WriteBytes(path, bytes);

  auto store = OpenSqlite(Options(path));
  ASSERT_FALSE(store);
  const std::string& message = store.error().message;
  EXPECT_EQ(message.rfind("state file " + path.string() + " is corrupt (quick_check: ", 0), 0u)
      << message;
  EXPECT_NE(message.find("ghl-syncd will not overwrite it. Restore it from a backup or move it "
                         "aside to start fresh"),
            std::string::npos);
  EXPECT_NE(
      message.find("Page " + std::to_string(root) + ": btreeInitPage() returns error code 11"),
      std::string::npos);
  EXPECT_EQ(message.find('\n'), std::string::npos);
  EXPECT_EQ(ReadBytes(path), bytes);

  // Without the check (the operator commands beside a running daemon) the open reads only
  // what it needs: the damaged table is not looked at.
  OpenOptions unchecked = Options(path);
  unchecked.check_integrity = false;
  auto opened = OpenSqlite(unchecked);
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_EQ((*opened)->SchemaVersion().value(), static_cast<int>(BuiltinMigrations().size()));
  ASSERT_TRUE((*opened)->Close());
  // A migration still to apply would rewrite the file: then it is checked anyway.
  unchecked.migrations.push_back(
      {static_cast<int>(BuiltinMigrations().size()) + 1, "one more", "CREATE TABLE more (x)"});
  auto migrating = OpenSqlite(unchecked);
  ASSERT_FALSE(migrating);
  EXPECT_NE(migrating.error().message.find("is corrupt (quick_check: "), std::string::npos)
      << migrating.error().message;
}

TEST_F(StateStoreTest, FileThatIsNotADatabaseIsRefusedAndLeftUnchanged) {
  const fs::path path = dir_ / "state.db";
  std::string garbage;
  while (garbage.size() < 8192) garbage += "this is a spreadsheet, not a database\n";
  WriteBytes(path, garbage);

  auto store = OpenSqlite(Options(path));
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().message,
            "state file " + path.string() +
                " is not a SQLite database (file is not a database); ghl-syncd will not "
                "overwrite it. Restore it from a backup or move it aside to start fresh");
  EXPECT_EQ(ReadBytes(path), garbage);
}

TEST_F(StateStoreTest, ParentThatIsAFileGivesOneLineErrorWithPathAndReason) {
  const fs::path file = dir_ / "not-a-dir";
  WriteBytes(file, "x");

  auto direct = OpenSqlite(Options(file / "state.db"));
  ASSERT_FALSE(direct);
  EXPECT_EQ(direct.error().message, "cannot create state directory " + file.string() +
                                        ": File exists (and it is not a directory)");

  auto nested = OpenSqlite(Options(file / "sub" / "state.db"));
  ASSERT_FALSE(nested);
  EXPECT_EQ(nested.error().message, "cannot create state directory " + file.string() +
                                        ": File exists (and it is not a directory)");
  EXPECT_EQ(ReadBytes(file), "x");
}

TEST_F(StateStoreTest, PathThatIsADirectoryIsRefused) {
  fs::create_directory(dir_ / "state.db");
  auto store = OpenSqlite(Options(dir_ / "state.db"));
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().message,
            "cannot open state file " + (dir_ / "state.db").string() + ": Is a directory");
}

TEST_F(StateStoreTest, WarnsAboutAFileOthersCanRead) {
  const fs::path path = dir_ / "state.db";
  {
    LogCapture log;
    ASSERT_NE(MustOpen(Options(path)), nullptr);
    EXPECT_EQ(log.Text().find("chmod"), std::string::npos) << log.Text();
  }
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                            fs::perms::others_read);
  LogCapture log;
  ASSERT_NE(MustOpen(Options(path)), nullptr);
  EXPECT_NE(log.Text().find("warning state file " + path.string() +
                            " is accessible by group or others (mode 0644)"),
            std::string::npos)
      << log.Text();
  EXPECT_NE(log.Text().find("chmod 600 " + path.string()), std::string::npos);
  EXPECT_EQ(Mode(path), 0644u);  // warned, not silently changed
}

TEST_F(StateStoreTest, CheckpointEmptiesTheWal) {
  const fs::path path = dir_ / "state.db";
  auto store = MustOpen(Options(path));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->db().Exec("INSERT INTO meta VALUES ('probe', 'x')"));
  ASSERT_GT(fs::file_size(Sidecar(path, "-wal")), 0u);

  StateStore& generic = *store;
  ASSERT_TRUE(generic.Checkpoint());
  EXPECT_EQ(fs::file_size(Sidecar(path, "-wal")), 0u);

  // The main file alone now holds the row.
  const fs::path copy = dir_ / "copy.db";
  fs::copy_file(path, copy);
  auto db = sqlite::Db::Open(copy, 1s);
  ASSERT_TRUE(db) << db.error().message;
  EXPECT_EQ((*db)->QueryText("SELECT value FROM meta WHERE key = 'probe'").value(), "x");
}

TEST_F(StateStoreTest, CloseIsIdempotentAndLaterCallsFail) {
  const fs::path path = dir_ / "state.db";
  auto store = MustOpen(Options(path));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Close());
  ASSERT_TRUE(store->Close());
  auto version = store->SchemaVersion();
  ASSERT_FALSE(version);
  EXPECT_EQ(version.error().message, "state file " + path.string() + ": connection is closed");
  EXPECT_FALSE(store->Checkpoint());
}

// ---- sqlite wrapper -------------------------------------------------------------------

class SqliteDbTest : public StateStoreTest {
 protected:
  void SetUp() override {
    StateStoreTest::SetUp();
    store_ = MustOpen(Options(dir_ / "state.db"));
    ASSERT_NE(store_, nullptr);
    ASSERT_TRUE(db().Exec("CREATE TABLE t (n INTEGER)"));
  }
  sqlite::Db& db() { return store_->db(); }

  std::unique_ptr<SqliteStateStore> store_;
};

TEST_F(SqliteDbTest, TransactionCommitsWhenBodySucceeds) {
  Result<void> result = db().Transaction([&]() -> Result<void> {
    if (auto r = db().Exec("INSERT INTO t VALUES (1)"); !r) return r;
    return db().Exec("INSERT INTO t VALUES (2)");
  });
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_FALSE(db().InTransaction());
  EXPECT_EQ(Count(db(), "t"), 2);
}

TEST_F(SqliteDbTest, TransactionRollsBackWhenBodyFails) {
  ASSERT_TRUE(db().Exec("INSERT INTO t VALUES (1)"));
  Result<void> result = db().Transaction([&]() -> Result<void> {
    if (auto r = db().Exec("INSERT INTO t VALUES (2)"); !r) return r;
    return Error{"contact 42 has no email"};
  });
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message, "contact 42 has no email");
  EXPECT_FALSE(db().InTransaction());
  EXPECT_EQ(Count(db(), "t"), 1);
}

TEST_F(SqliteDbTest, TransactionRollsBackAndRethrowsWhenBodyThrows) {
  EXPECT_THROW((void)db().Transaction([&]() -> Result<void> {
    if (auto r = db().Exec("INSERT INTO t VALUES (1)"); !r) return r;
    throw std::runtime_error("boom");
  }),
               std::runtime_error);
  EXPECT_FALSE(db().InTransaction());
  EXPECT_EQ(Count(db(), "t"), 0);
}

TEST_F(SqliteDbTest, NestedTransactionIsRejectedAndOuterOneUnharmed) {
  std::string inner_error;
  Result<void> outer = db().Transaction([&]() -> Result<void> {
    if (auto r = db().Exec("INSERT INTO t VALUES (1)"); !r) return r;
    Result<void> inner =
        db().Transaction([&]() -> Result<void> { return db().Exec("INSERT INTO t VALUES (2)"); });
    if (!inner) inner_error = inner.error().message;
    return db().Exec("INSERT INTO t VALUES (3)");
  });
  ASSERT_TRUE(outer) << outer.error().message;
  EXPECT_NE(inner_error.find("transactions do not nest"), std::string::npos) << inner_error;
  EXPECT_EQ(db().QueryInt64("SELECT group_concat(n) = '1,3' FROM t").value(), 1);
}

TEST_F(SqliteDbTest, ErrorsNameTheFileAndCarrySqlitesMessage) {
  Result<void> result = db().Exec("SELECT * FROM nope");
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("state file " + (dir_ / "state.db").string()),
            std::string::npos)
      << result.error().message;
  EXPECT_NE(result.error().message.find("no such table: nope"), std::string::npos);

  ASSERT_TRUE(db().Exec("CREATE TABLE u (n INTEGER NOT NULL)"));
  Result<void> constraint = db().Exec("INSERT INTO u VALUES (NULL)");
  ASSERT_FALSE(constraint);
  EXPECT_NE(constraint.error().message.find("NOT NULL constraint failed: u.n"), std::string::npos)
      << constraint.error().message;
}

TEST_F(SqliteDbTest, StatementBindsAndReadsColumns) {
  ASSERT_TRUE(db().Exec("CREATE TABLE kv (k TEXT, v INTEGER, note TEXT)"));
  auto insert = db().Prepare("INSERT INTO kv VALUES (?1, ?2, ?3)");
  ASSERT_TRUE(insert) << insert.error().message;
  const std::string with_nul("a\0b", 3);
  ASSERT_TRUE(insert->BindText(1, with_nul));
  ASSERT_TRUE(insert->BindInt64(2, INT64_C(9007199254740993)));
  ASSERT_TRUE(insert->BindNull(3));
  ASSERT_TRUE(insert->Run());
  insert->Reset();
  ASSERT_TRUE(insert->BindText(1, "second"));
  ASSERT_TRUE(insert->Run());             // ?2 and ?3 were cleared by Reset: NULL
  EXPECT_FALSE(insert->BindInt64(4, 1));  // no such parameter

  auto select = db().Prepare("SELECT k, v, note FROM kv ORDER BY rowid");
  ASSERT_TRUE(select) << select.error().message;
  EXPECT_EQ(select->ColumnCount(), 3);
  ASSERT_TRUE(select->Step().value());
  EXPECT_EQ(select->ColumnText(0), with_nul);
  EXPECT_EQ(select->ColumnInt64(1), INT64_C(9007199254740993));
  EXPECT_TRUE(select->ColumnIsNull(2));
  ASSERT_TRUE(select->Step().value());
  EXPECT_EQ(select->ColumnText(0), "second");
  EXPECT_TRUE(select->ColumnIsNull(1));
  EXPECT_FALSE(select->Step().value());
}

TEST(FormatUtcIso8601Test, FormatsWholeSecondsInUtc) {
  EXPECT_EQ(FormatUtcIso8601(Clock::TimePoint{}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatUtcIso8601(Clock::TimePoint{std::chrono::milliseconds{951782399999}}),
            "2000-02-28T23:59:59Z");
  EXPECT_EQ(FormatUtcIso8601(Clock::TimePoint{std::chrono::seconds{-1}}), "1969-12-31T23:59:59Z");
}

TEST_F(StateStoreTest, AppInstallsKeepTheNewestEventOfEachResource) {
  auto store = MustOpen(Options(dir_ / "state.db"));
  ASSERT_NE(store, nullptr);
  AppInstallStore installs(store->db());
  auto record = [&](const AppInstall& event, int64_t now) {
    auto r = installs.Record(event, now);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() && *r;
  };
  AppInstall install{"loc-1", true, "co-1", true, 2'000, "wh-1"};
  EXPECT_TRUE(record(install, 10));
  // A late UNINSTALL from before the INSTALL changes nothing.
  AppInstall stale{"loc-1", true, "", false, 1'000, "wh-0"};
  EXPECT_FALSE(record(stale, 11));
  // A newer UNINSTALL (location-level: no companyId) wins and keeps the known company.
  AppInstall removed{"loc-1", true, "", false, 3'000, "wh-2"};
  EXPECT_TRUE(record(removed, 12));
  AppInstall agency{"co-1", false, "co-1", true, 500, "wh-3"};
  EXPECT_TRUE(record(agency, 13));
  auto rows = installs.All();
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].resource, "co-1");
  EXPECT_FALSE((*rows)[0].location);
  EXPECT_EQ((*rows)[1].resource, "loc-1");
  EXPECT_FALSE((*rows)[1].installed);
  EXPECT_EQ((*rows)[1].company_id, "co-1");
  EXPECT_EQ((*rows)[1].event_at_ms, 3'000);
  EXPECT_EQ((*rows)[1].webhook_id, "wh-2");
}

}  // namespace
}  // namespace ghl::state
