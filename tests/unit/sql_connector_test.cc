// The SQL connector on real SQLite files: configuration, type mapping, keys, scans with and
// without updated_at, writes (upsert, delete, batches, injection), read-only query sources,
// locks. PostgreSQL runs the same connector in tests/integration/postgres_connector_test.cc.
#include "connectors/sql/sql_connector.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "connectors/sql/cursor.h"
#include "connectors/sql/sql.h"
#include "tests/conformance/fixture.h"
#include "tests/support/temp_dir.h"

namespace ghl::connectors::sql {
namespace {

using mapping::Fields;
using mapping::Value;

// A connection of our own, as another program would hold one.
class RawDb {
 public:
  explicit RawDb(const std::filesystem::path& path) {
    sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  }
  ~RawDb() { sqlite3_close(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;
  void Exec(const std::string& sql) {
    char* error = nullptr;
    ASSERT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK) << error;
  }
  std::string Text(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr);
    std::string out;
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0) != nullptr) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    }
    sqlite3_finalize(s);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

WriteOp Upsert(const std::string& key, Fields fields) {
  return {WriteOp::Kind::kUpsert, key, std::move(fields)};
}

class SqliteConnectorTest : public ::testing::Test {
 protected:
  SqliteConnectorTest() : raw_(dir_ / "data.db") {
    raw_.Exec(
        "CREATE TABLE people (id TEXT PRIMARY KEY, name TEXT, email TEXT, updated_at TEXT);"
        "CREATE TABLE typed (id INTEGER PRIMARY KEY, label TEXT, count INTEGER, ratio REAL,"
        " price NUMERIC, active BOOLEAN, seen_at TIMESTAMP, doc JSON, note TEXT NOT NULL"
        " DEFAULT '');"
        "CREATE TABLE pairs (tenant TEXT, num INTEGER, name TEXT, deleted BOOLEAN DEFAULT 0,"
        " PRIMARY KEY (tenant, num));");
  }

  // The options under connectors.under_test, the resource as a mapping's `external:`.
  ConnectorSpec Spec(const std::string& resource, std::vector<std::string> keys = {"id"},
                     const std::string& options = "{type: sqlite, path: data.db}") {
    auto spec = conformance::SpecFromYaml("sqlite", options, resource, dir_.path());
    spec.key_columns = std::move(keys);
    return spec;
  }

  std::unique_ptr<SqlConnector> Make(const ConnectorSpec& spec) {
    config::Diagnostics errors;
    auto c = CreateConnector(spec, errors);
    EXPECT_TRUE(errors.empty()) << config::Join(errors);
    return c;
  }
  std::unique_ptr<SqlConnector> Make(const std::string& resource,
                                     std::vector<std::string> keys = {"id"}) {
    return Make(Spec(resource, std::move(keys)));
  }

  std::string Errors(const ConnectorSpec& spec) {
    config::Diagnostics errors;
    EXPECT_EQ(CreateSqlite(spec, errors), nullptr);
    return config::Join(errors);
  }

  // Follows a scan to its end: every row by key (a key twice fails), and the final page.
  std::pair<std::vector<Row>, ScanPage> ScanAll(Connector& c, std::string cursor, size_t limit) {
    std::vector<Row> rows;
    std::set<std::string> seen;
    for (int guard = 0; guard < 1000; ++guard) {
      auto page = c.Scan(cursor, limit);
      EXPECT_TRUE(page.ok()) << page.error().message;
      if (!page.ok()) break;
      for (auto& r : page->rows) {
        EXPECT_TRUE(seen.insert(r.key).second) << "key twice in one scan: " << r.key;
        rows.push_back(r);
      }
      if (page->done) return {rows, *page};
      cursor = page->cursor;
    }
    ADD_FAILURE() << "scan did not finish";
    return {rows, {}};
  }

  ghl::testing::TempDir dir_;
  RawDb raw_;
};

TEST_F(SqliteConnectorTest, RejectsBadConfigurationWithPlaceAndReason) {
  EXPECT_NE(Errors(Spec("{connector: erp, table: people}", {"id"}, "{type: sqlite}"))
                .find("ghl-syncd.yaml:1:1: connectors.under_test: missing required key 'path'"),
            std::string::npos);
  EXPECT_NE(Errors(Spec("{connector: erp, tabel: people}")).find("did you mean 'table'"),
            std::string::npos);
  EXPECT_NE(Errors(Spec("{table: people, query: SELECT 1}")).find("exactly one of 'table'"),
            std::string::npos);
  EXPECT_NE(Errors(Spec("{table: people}", {})).find("no key column"), std::string::npos);
  EXPECT_NE(Errors(Spec("{table: people, updated_at: id}")).find("cannot be both a key"),
            std::string::npos);
  EXPECT_NE(Errors(Spec("{table: people, batch_size: 0}")).find("external.batch_size"),
            std::string::npos);
}

TEST_F(SqliteConnectorTest, HealthNamesWhatIsMissing) {
  EXPECT_TRUE(Make("{table: people}")->Health().ok());
  auto no_column = Make("{table: people, updated_at: changed}")->Health();
  ASSERT_FALSE(no_column.ok());
  EXPECT_NE(no_column.error().message.find("column 'changed' is not in people (its columns: id, "
                                           "name, email, updated_at)"),
            std::string::npos)
      << no_column.error().message;
  auto no_unique = Make("{table: people}", {"email"})->Health();
  ASSERT_FALSE(no_unique.ok());
  EXPECT_NE(no_unique.error().message.find("no primary key or unique index on (email)"),
            std::string::npos);
  raw_.Exec("CREATE UNIQUE INDEX people_email ON people (email)");
  EXPECT_TRUE(Make("{table: people}", {"email"})->Health().ok());
  EXPECT_TRUE(Make("{table: pairs}", {"num", "tenant"})->Health().ok());
  auto missing = Make(Spec("{table: people}", {"id"}, "{type: sqlite, path: nowhere.db}"));
  ASSERT_FALSE(missing->Health().ok());
  EXPECT_NE(missing->Health().error().message.find("cannot open"), std::string::npos);
}

TEST_F(SqliteConnectorTest, TypesRoundTripAsTheirValueTypes) {
  auto c = Make("{table: typed}");
  const Fields fields = {{"label", Value("x")},
                         {"count", Value(42.0)},
                         {"ratio", Value(0.1)},
                         {"price", Value(12.25)},
                         {"active", Value(true)},
                         {"seen_at", Value("2024-05-01T10:00:00.250Z")},
                         {"doc", Value(R"({"a":[1,2],"b":"x"})")},
                         {"note", Value(7.0)}};
  auto written = c->Write({Upsert("1", fields)});
  ASSERT_EQ(written[0].outcome, Outcome::kOk) << written[0].message;
  auto row = c->Get("1");
  ASSERT_TRUE(row.ok() && row->has_value());
  for (const auto& [column, value] : fields) {
    if (column == "note") continue;
    EXPECT_EQ((*row)->fields.at(column), value) << column;
  }
  EXPECT_EQ((*row)->fields.at("note"), Value("7")) << "a number written to a text column";
  EXPECT_EQ((*row)->fields.at("id"), Value(1.0));
  EXPECT_EQ(raw_.Text("SELECT typeof(active) || typeof(seen_at) FROM typed"), "integertext");
  // A NULL clears a column; a 2^53+1 integer stays exact (as text).
  raw_.Exec("UPDATE typed SET count = 9007199254740993, label = NULL");
  row = c->Get("1");
  EXPECT_EQ((*row)->fields.at("count"), Value("9007199254740993"));
  EXPECT_TRUE(mapping::IsNull((*row)->fields.at("label")));
}

TEST_F(SqliteConnectorTest, ValuesAreBoundNeverSpliced) {
  auto c = Make("{table: people}");
  const std::string evil = "'); DROP TABLE people;--";
  const std::string key = "k\"'; --";
  auto r = c->Write({Upsert(key, {{"name", Value(evil)}, {"email", Value("a\nb\t\"c\"")}})});
  ASSERT_EQ(r[0].outcome, Outcome::kOk) << r[0].message;
  EXPECT_EQ(r[0].key, key);
  auto row = c->Get(key);
  ASSERT_TRUE(row.ok() && row->has_value());
  EXPECT_EQ((*row)->fields.at("name"), Value(evil));
  EXPECT_EQ((*row)->fields.at("email"), Value("a\nb\t\"c\""));
  EXPECT_EQ(raw_.Text("SELECT count(*) FROM people"), "1");
}

TEST_F(SqliteConnectorTest, UpsertUpdatesOnlyTheGivenColumns) {
  auto c = Make("{table: people}");
  ASSERT_EQ(c->Write({Upsert("a", {{"name", Value("Ann")}, {"email", Value("ann@x")}})})[0].outcome,
            Outcome::kOk);
  auto r = c->Write({Upsert("a", {{"name", Value("Anne")}})});
  ASSERT_EQ(r[0].outcome, Outcome::kOk);
  auto row = c->Get("a");
  EXPECT_EQ((*row)->fields.at("name"), Value("Anne"));
  EXPECT_EQ((*row)->fields.at("email"), Value("ann@x"));
  // The version Write returns is the one a later read reports; another program's edit
  // changes it.
  EXPECT_EQ(r[0].version, (*row)->version);
  raw_.Exec("UPDATE people SET email = 'new@x'");
  EXPECT_NE(c->Get("a").value()->version, r[0].version);
}

TEST_F(SqliteConnectorTest, UnknownColumnsAndKeyChangesAreFatalForThatOpOnly) {
  auto c = Make("{table: people}");
  auto r = c->Write({Upsert("a", {{"name", Value("A")}}), Upsert("b", {{"nmae", Value("B")}}),
                     Upsert("c", {{"id", Value("z")}}), Upsert("d", {{"name", Value("D")}})});
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].outcome, Outcome::kOk);
  EXPECT_EQ(r[1].outcome, Outcome::kFatal);
  EXPECT_NE(r[1].message.find("column 'nmae' is not in people"), std::string::npos);
  EXPECT_EQ(r[2].outcome, Outcome::kFatal);
  EXPECT_NE(r[2].message.find("a row's key cannot change"), std::string::npos);
  EXPECT_EQ(r[3].outcome, Outcome::kOk);
  EXPECT_EQ(raw_.Text("SELECT group_concat(id) FROM (SELECT id FROM people ORDER BY id)"), "a,d");
}

TEST_F(SqliteConnectorTest, ConstraintViolationRollsBackOnlyItsOp) {
  auto c = Make("{table: typed}");
  auto r = c->Write({Upsert("1", {{"label", Value("one")}}), Upsert("2", {{"note", Value()}}),
                     Upsert("3", {{"label", Value("three")}})});
  EXPECT_EQ(r[0].outcome, Outcome::kOk);
  EXPECT_EQ(r[1].outcome, Outcome::kFatal);
  EXPECT_NE(r[1].message.find("NOT NULL"), std::string::npos) << r[1].message;
  EXPECT_EQ(r[2].outcome, Outcome::kOk);
  EXPECT_EQ(raw_.Text("SELECT group_concat(id) FROM typed"), "1,3");
}

TEST_F(SqliteConnectorTest, EmptyKeyTakesTheKeyTheTableAssigns) {
  auto c = Make("{table: typed}");
  auto r = c->Write({Upsert("", {{"label", Value("a")}}), Upsert("", {})});
  ASSERT_EQ(r[0].outcome, Outcome::kOk) << r[0].message;
  EXPECT_EQ(r[0].key, "1");
  EXPECT_EQ(r[1].key, "2");
  EXPECT_EQ(c->Get("1").value()->fields.at("label"), Value("a"));
  // A table that cannot assign one says so.
  auto people = Make("{table: people}");
  auto none = people->Write({Upsert("", {{"name", Value("x")}})});
  EXPECT_EQ(none[0].outcome, Outcome::kFatal);
  EXPECT_NE(none[0].message.find("assigned no key"), std::string::npos) << none[0].message;
}

TEST_F(SqliteConnectorTest, CompositeKeysAreJsonArraysAndScanInKeyOrder) {
  auto c = Make("{table: pairs}", {"tenant", "num"});
  auto r =
      c->Write({Upsert(R"(["a,\"b","10"])", {{"name", Value("x")}}),
                Upsert(R"(["a,\"b","9"])", {{"name", Value("y")}}), Upsert(R"(["a","1"])", {})});
  for (const auto& w : r) ASSERT_EQ(w.outcome, Outcome::kOk) << w.message;
  EXPECT_EQ(r[0].key, R"(["a,\"b","10"])");
  auto [rows, last] = ScanAll(*c, "", 2);
  ASSERT_EQ(rows.size(), 3u);
  // Integer parts order as numbers (9 before 10), not as text.
  EXPECT_EQ(rows[0].key, R"(["a","1"])");
  EXPECT_EQ(rows[1].key, R"(["a,\"b","9"])");
  EXPECT_EQ(rows[2].key, R"(["a,\"b","10"])");
  EXPECT_TRUE(last.complete);
  EXPECT_EQ(last.cursor, "");
  EXPECT_EQ(c->Write({Upsert("not json", {})})[0].outcome, Outcome::kFatal);
  // A cursor that is no key of this source (the key columns changed) starts over.
  auto restart = c->Scan("key:not json", 2);
  ASSERT_TRUE(restart.ok());
  EXPECT_EQ(restart->rows[0].key, R"(["a","1"])");
}

TEST_F(SqliteConnectorTest, FullScanPagesByKeyAndVersionsFollowContent) {
  raw_.Exec(
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 25) "
      "INSERT INTO people (id, name) SELECT printf('p%02d', i), 'n' || i FROM n");
  auto c = Make("{table: people, batch_size: 7}");
  auto [rows, last] = ScanAll(*c, "", 100);  // pages of batch_size
  ASSERT_EQ(rows.size(), 25u);
  EXPECT_TRUE(last.complete);
  std::map<std::string, std::string> versions;
  for (const auto& r : rows) versions[r.key] = r.version;
  raw_.Exec("UPDATE people SET name = 'changed' WHERE id = 'p13'");
  auto [again, unused] = ScanAll(*c, "", 10);
  int changed = 0;
  for (const auto& r : again) changed += versions[r.key] != r.version;
  EXPECT_EQ(changed, 1);
  auto first = c->Scan("", 10);
  EXPECT_FALSE(first->done);
  EXPECT_EQ(first->rows.size(), 7u);
  EXPECT_EQ(first->cursor, "key:p07");
}

TEST_F(SqliteConnectorTest, IncrementalScanNeverSkipsOrRepeatsEqualTimestamps) {
  // Five rows share one timestamp; pages of two must still see each exactly once.
  raw_.Exec(
      "INSERT INTO people (id, updated_at) VALUES ('e', '2024-05-01T10:00:00Z'),"
      " ('a', '2024-05-01T10:00:00Z'), ('c', '2024-05-01T10:00:00Z'),"
      " ('b', '2024-05-01T10:00:00Z'), ('d', '2024-05-01T10:00:00Z'),"
      " ('z', '2024-05-01T09:00:00Z'), ('n', NULL)");
  auto c = Make("{table: people, updated_at: updated_at, overlap: 0s}");
  auto [rows, last] = ScanAll(*c, "", 2);
  std::vector<std::string> keys;
  for (const auto& r : rows) keys.push_back(r.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"z", "a", "b", "c", "d", "e"}));
  EXPECT_FALSE(last.complete);
  EXPECT_EQ(last.cursor, "2024-05-01T10:00:00Z|e");
  EXPECT_EQ(rows[0].version.rfind("2024-05-01T09:00:00Z|", 0), 0u);
  EXPECT_EQ(rows[0].updated_ms, 1714554000000);
  // Nothing changed: nothing comes back, and the cursor stays.
  auto [none, same] = ScanAll(*c, last.cursor, 2);
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(same.cursor, last.cursor);
  // A change after the cursor comes back; so does one at the same timestamp with a later key.
  raw_.Exec(
      "UPDATE people SET name = 'x', updated_at = '2024-05-01T10:00:01Z' WHERE id = 'a';"
      "INSERT INTO people (id, updated_at) VALUES ('f', '2024-05-01T10:00:00Z')");
  auto [changed, end] = ScanAll(*c, last.cursor, 2);
  ASSERT_EQ(changed.size(), 2u);
  EXPECT_EQ(changed[0].key, "f");
  EXPECT_EQ(changed[1].key, "a");
  EXPECT_EQ(end.cursor, "2024-05-01T10:00:01Z|a");
}

TEST_F(SqliteConnectorTest, OverlapRereadsRowsThatCommittedLate) {
  raw_.Exec("INSERT INTO people (id, updated_at) VALUES ('a', '2024-05-01 10:00:10.500')");
  auto strict = Make("{table: people, updated_at: updated_at, overlap: 0s}");
  auto overlapping = Make("{table: people, updated_at: updated_at, overlap: 5s}");
  const std::string cursor = ScanAll(*strict, "", 10).second.cursor;
  EXPECT_EQ(cursor, "2024-05-01 10:00:10.500|a");
  // A transaction that began earlier commits now, with an older timestamp.
  raw_.Exec(
      "INSERT INTO people (id, updated_at) VALUES ('late', '2024-05-01 10:00:07.000'),"
      " ('old', '2024-05-01 10:00:04.000')");
  EXPECT_TRUE(ScanAll(*strict, cursor, 10).first.empty());
  auto [rows, last] = ScanAll(*overlapping, cursor, 10);
  std::vector<std::string> keys;
  for (const auto& r : rows) keys.push_back(r.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"late", "a"}));  // `a` again: same version
  EXPECT_EQ(last.cursor, cursor);
}

TEST_F(SqliteConnectorTest, QuerySourceIsReadOnly) {
  raw_.Exec("INSERT INTO people (id, name) VALUES ('a', 'Ann'), ('b', 'Bob'), (NULL, 'ghost')");
  auto c = Make("{query: \"SELECT id, upper(name) AS name FROM people;\"}");
  ASSERT_TRUE(c->Health().ok()) << c->Health().error().message;
  auto page = c->Scan("", 10);
  ASSERT_TRUE(page.ok()) << page.error().message;
  ASSERT_EQ(page->rows.size(), 2u);
  EXPECT_EQ(page->rows[1].fields.at("name"), Value("BOB"));
  ASSERT_EQ(page->rejected.size(), 1u);  // the row without a key is reported, not dropped
  EXPECT_FALSE(page->complete);
  auto r = c->Write({Upsert("a", {{"name", Value("x")}})});
  EXPECT_EQ(r[0].outcome, Outcome::kFatal);
  EXPECT_NE(r[0].message.find("read only"), std::string::npos);
  EXPECT_EQ(raw_.Text("SELECT name FROM people WHERE id = 'a'"), "Ann");
}

TEST_F(SqliteConnectorTest, DeletesAreRealOrSoft) {
  auto hard = Make("{table: people}");
  ASSERT_EQ(hard->Write({Upsert("a", {})})[0].outcome, Outcome::kOk);
  auto d = hard->Write({{WriteOp::Kind::kDelete, "a", {}}, {WriteOp::Kind::kDelete, "gone", {}}});
  EXPECT_EQ(d[0].outcome, Outcome::kOk);
  EXPECT_EQ(d[1].outcome, Outcome::kOk);
  EXPECT_FALSE(hard->Get("a").value().has_value());

  auto spec = Spec("{table: pairs}", {"tenant", "num"});
  spec.soft_delete_column = "deleted";
  auto soft = Make(spec);
  ASSERT_EQ(soft->Write({Upsert(R"(["t","1"])", {{"name", Value("x")}})})[0].outcome, Outcome::kOk);
  EXPECT_FALSE(soft->Get(R"(["t","1"])").value()->deleted);
  auto sd = soft->Write({{WriteOp::Kind::kDelete, R"(["t","1"])", {}}});
  ASSERT_EQ(sd[0].outcome, Outcome::kOk);
  auto row = soft->Get(R"(["t","1"])");
  ASSERT_TRUE(row->has_value());
  EXPECT_TRUE((*row)->deleted);
  EXPECT_EQ(sd[0].version, (*row)->version);
}

TEST_F(SqliteConnectorTest, LockedDatabaseMeansRetryThenSuccess) {
  auto c =
      Make(Spec("{table: people}", {"id"}, "{type: sqlite, path: data.db, busy_timeout: 50ms}"));
  ASSERT_TRUE(c->Health().ok());
  RawDb other(dir_ / "data.db");
  other.Exec("BEGIN IMMEDIATE; INSERT INTO people (id) VALUES ('other')");
  auto r = c->Write({Upsert("a", {}), Upsert("b", {})});
  EXPECT_EQ(r[0].outcome, Outcome::kRetry);
  EXPECT_EQ(r[1].outcome, Outcome::kRetry);
  EXPECT_NE(r[0].message.find("database is locked"), std::string::npos) << r[0].message;
  EXPECT_EQ(c->retryable_errors(), 1u);
  other.Exec("COMMIT");
  r = c->Write({Upsert("a", {}), Upsert("b", {})});
  EXPECT_EQ(r[0].outcome, Outcome::kOk) << r[0].message;
  EXPECT_EQ(raw_.Text("SELECT count(*) FROM people"), "3");
}

TEST_F(SqliteConnectorTest, MissingFileIsAScanErrorAndRecoversWhenItAppears) {
  auto c = Make(Spec("{table: t}", {"id"}, "{type: sqlite, path: later.db}"));
  auto page = c->Scan("", 10);
  ASSERT_FALSE(page.ok());
  EXPECT_NE(page.error().message.find("sqlite:"), std::string::npos);
  EXPECT_EQ(c->Write({Upsert("a", {})})[0].outcome, Outcome::kRetry);
  RawDb later(dir_ / "later.db");
  later.Exec("CREATE TABLE t (id TEXT PRIMARY KEY)");
  EXPECT_EQ(c->Write({Upsert("a", {})})[0].outcome, Outcome::kOk);
  EXPECT_EQ(c->Scan("", 10)->rows.size(), 1u);
}

struct ShiftCase {
  std::string in;
  int64_t by_ms;
  std::optional<std::string> out;
};

TEST(SqlCursor, ShiftBackKeepsTheLayout) {
  const std::vector<ShiftCase> cases = {
      {"2024-05-01T10:00:10Z", 5000, "2024-05-01T10:00:05Z"},
      {"2024-05-01 00:00:01.250+02:00", 1500, "2024-04-30 23:59:59.750+02:00"},
      {"2024-05-01T10:00:00.123456Z", 30000, "2024-05-01T09:59:30.123456Z"},
      {"2024-05-01T10:00:00.5", 200, "2024-05-01T10:00:00.3"},
      {"2024-05-01T10:00:00", 1, "2024-05-01T09:59:59"},  // rounded down, never later
      {"2024-03-01", 1000, "2024-02-29"},
      {"1714557600", 30000, "1714557570"},
      {"soon", 1000, std::nullopt},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(ShiftBack(c.in, std::chrono::milliseconds(c.by_ms)), c.out) << c.in;
  }
}

TEST(SqlCursor, UnixMillisReadsZones) {
  EXPECT_EQ(UnixMillis("2024-05-01T10:00:00Z"), 1714557600000);
  EXPECT_EQ(UnixMillis("2024-05-01T12:00:00.5+02:00"), 1714557600500);
  EXPECT_EQ(UnixMillis("2024-05-01 05:30:00-0430"), 1714557600000);
  EXPECT_EQ(UnixMillis("1714557600"), 1714557600000);
  EXPECT_EQ(UnixMillis("yesterday"), std::nullopt);
}

TEST(SqlCursor, CursorsAndKeysRoundTrip) {
  for (const Cursor& c : std::vector<Cursor>{{Cursor::Kind::kAfter, "2024-05-01T10:00:00Z", "a|b"},
                                             {Cursor::Kind::kResume, "17", R"(["x","1"])"}}) {
    const Cursor back = ParseCursor(FormatCursor(c), true);
    EXPECT_EQ(back.kind, c.kind);
    EXPECT_EQ(back.updated_at, c.updated_at);
    EXPECT_EQ(back.key, c.key);
  }
  EXPECT_EQ(ParseCursor("key:a", true).kind, Cursor::Kind::kStart);  // the mode changed
  EXPECT_EQ(ParseCursor("2024-05-01|a", false).kind, Cursor::Kind::kStart);
  EXPECT_EQ(DecodeKey(EncodeKey({"a\"", ",", "]"}), 3),
            (std::vector<std::string>{"a\"", ",", "]"}));
  EXPECT_EQ(DecodeKey(R"(["a"])", 2), std::nullopt);
}

}  // namespace
}  // namespace ghl::connectors::sql
