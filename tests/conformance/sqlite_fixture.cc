// The SQLite connector in the conformance suite: a fresh database file with a `contacts`
// table (text key with a random default, so a create without a key gets one), in three
// shapes:
//   sqlite              full scans (no updated_at): the mode whose scans are `complete`.
//   sqlite_incremental  `updated_at` (ISO 8601 text with milliseconds, set by the column's
//                       default and an UPDATE trigger, as an application would) with a 1 s
//                       overlap: SQLite's clock has millisecond resolution, so an edit can
//                       share the timestamp the last scan ended on; the overlap re-reads it.
//   sqlite_nocase       full scans, the key column declared COLLATE NOCASE (a common way to
//                       key by e-mail address): SQLite then folds the case of keys, so
//                       "Case-Key" and "case-key" are one row, which keeps the key it was
//                       created with; a write under the other spelling updates that row and
//                       reports its stored key (CaseSensitiveKeys() is false).
// External edits are UPDATEs from another connection.
#include <sqlite3.h>

#include "tests/conformance/fixture.h"
#include "tests/support/temp_dir.h"

namespace ghl::conformance {
namespace {

enum class Shape { kFull, kIncremental, kNoCase };

class SqliteFixture final : public ConnectorFixture {
 public:
  explicit SqliteFixture(Shape shape) : shape_(shape) {}

  std::unique_ptr<connectors::Connector> Make() override {
    const bool incremental = shape_ == Shape::kIncremental;
    Exec(std::string("CREATE TABLE contacts (id TEXT ") +
             (shape_ == Shape::kNoCase ? "COLLATE NOCASE " : "") +
             "PRIMARY KEY NOT NULL DEFAULT (lower(hex(randomblob(8)))), name TEXT, email TEXT, "
             "notes TEXT" +
             (incremental ? ", updated_at TEXT NOT NULL DEFAULT "
                            "(strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))"
                          : ")"),
         {});
    if (incremental) {
      Exec(
          "CREATE TRIGGER touch AFTER UPDATE ON contacts FOR EACH ROW WHEN NEW.updated_at IS "
          "OLD.updated_at BEGIN UPDATE contacts SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', "
          "'now') WHERE id = NEW.id; END",
          {});
      Exec("CREATE INDEX contacts_changes ON contacts (updated_at, id)", {});
    }
    config::Diagnostics errors;
    auto c =
        connectors::Create(Spec(kOptions, "{connector: under_test, table: contacts" +
                                              std::string(incremental ? kIncremental : "") + "}"),
                           errors);
    EXPECT_TRUE(errors.empty()) << config::Join(errors);
    return c;
  }

  bool ScanFromStartIsComplete() const override { return shape_ != Shape::kIncremental; }
  bool CaseSensitiveKeys() const override { return shape_ != Shape::kNoCase; }

  void ExternalEdit(const std::string& key, const std::string& column,
                    const std::string& value) override {
    std::string quoted = "\"";
    for (char ch : column) quoted += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    Exec("UPDATE contacts SET " + quoted + "\" = ?1 WHERE id = ?2", {value, key});
  }

  std::vector<BadConfig> BadConfigs() override {
    const std::string table = "{connector: under_test, table: contacts}";
    return {
        {"no path", Spec("{type: sqlite}", table),
         "connectors.under_test: missing required key 'path'"},
        {"misspelt option", Spec("{type: sqlite, path: data.db, busy_timout: 1s}", table),
         "did you mean 'busy_timeout'"},
        {"neither table nor query", Spec(kOptions, "{connector: under_test}"),
         "external: give exactly one of 'table' (read and write) or 'query' (read only)"},
        {"both table and query", Spec(kOptions, "{table: contacts, query: SELECT 1}"),
         "give exactly one of 'table'"},
        {"misspelt resource key", Spec(kOptions, "{table: contacts, updated_att: changed}"),
         "did you mean 'updated_at'"},
        {"zero batch", Spec(kOptions, "{table: contacts, batch_size: 0}"), "external.batch_size"},
        {"key as updated_at", Spec(kOptions, "{table: contacts, updated_at: id}"),
         "column 'id' cannot be both a key and the updated_at/soft-delete column"},
        {"overlap out of range",
         Spec(kOptions, "{table: contacts, updated_at: updated_at, overlap: 2d}"),
         "external.overlap"},
    };
  }

 private:
  static constexpr const char* kOptions = "{type: sqlite, path: data.db}";
  static constexpr const char* kIncremental = ", updated_at: updated_at, overlap: 1s";

  connectors::ConnectorSpec Spec(const std::string& options, const std::string& resource) const {
    return SpecFromYaml("sqlite", options, resource, dir_.path());
  }

  void Exec(const std::string& sql, const std::vector<std::string>& params) {
    sqlite3* db = nullptr;
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "data.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    for (std::size_t i = 0; i < params.size(); ++i) {
      sqlite3_bind_text(stmt, static_cast<int>(i + 1), params[i].c_str(), -1, SQLITE_TRANSIENT);
    }
    EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE) << sqlite3_errmsg(db);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
  }

  Shape shape_;
  ghl::testing::TempDir dir_;
};

std::unique_ptr<ConnectorFixture> MakeSqliteFixture() {
  return std::make_unique<SqliteFixture>(Shape::kFull);
}
std::unique_ptr<ConnectorFixture> MakeSqliteIncrementalFixture() {
  return std::make_unique<SqliteFixture>(Shape::kIncremental);
}
std::unique_ptr<ConnectorFixture> MakeSqliteNoCaseFixture() {
  return std::make_unique<SqliteFixture>(Shape::kNoCase);
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(
    Sqlite, ConnectorConformance,
    ::testing::Values(FixtureFactory{"sqlite", &MakeSqliteFixture},
                      FixtureFactory{"sqlite_incremental", &MakeSqliteIncrementalFixture},
                      FixtureFactory{"sqlite_nocase", &MakeSqliteNoCaseFixture}),
    FixtureName);

}  // namespace ghl::conformance
