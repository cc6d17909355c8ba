// The SQL connector against a real PostgreSQL server (a throwaway cluster per test
// process, tests/support/postgres.h): PostgreSQL's types, schema-qualified tables, keys,
// incremental scans with a trigger-maintained updated_at, own writes, timeouts, and a
// server restart in the middle of a sync.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "connectors/sql/sql.h"
#include "connectors/sql/sql_connector.h"
#include "tests/conformance/fixture.h"
#include "tests/support/postgres.h"

namespace ghl::connectors::sql {
namespace {

using mapping::Fields;
using mapping::Value;

WriteOp Upsert(const std::string& key, Fields fields) {
  return {WriteOp::Kind::kUpsert, key, std::move(fields)};
}

class PostgresConnectorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new ghl::testing::PostgresServer(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    ASSERT_TRUE(server_->ok()) << server_->error();
    ASSERT_EQ(server_->Exec("DROP SCHEMA IF EXISTS crm CASCADE; CREATE SCHEMA crm;"
                            "CREATE TABLE crm.people (id text PRIMARY KEY, name text, email text,"
                            " updated_at timestamptz NOT NULL DEFAULT clock_timestamp());"
                            "CREATE FUNCTION crm.touch() RETURNS trigger LANGUAGE plpgsql AS"
                            " $$ BEGIN NEW.updated_at := clock_timestamp(); RETURN NEW; END $$;"
                            "CREATE TRIGGER touch BEFORE UPDATE ON crm.people FOR EACH ROW"
                            " EXECUTE FUNCTION crm.touch();"
                            "CREATE INDEX people_changes ON crm.people (updated_at, id);"),
              "");
  }

  // The options under connectors.under_test (dsn from $PGDSN), the resource as `external:`.
  ConnectorSpec Spec(const std::string& resource, std::vector<std::string> keys = {"id"},
                     const std::string& options = "{type: postgresql, dsn: '${PGDSN}'}") {
    auto spec = conformance::SpecFromYaml("postgresql", options, resource, "/etc/ghl-syncd");
    spec.key_columns = std::move(keys);
    spec.env = [dsn = server_->Dsn()](const std::string& name) -> std::optional<std::string> {
      if (name == "PGDSN") return dsn;
      return std::nullopt;
    };
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

  // Pages from `cursor` until done, advancing `cursor` to the resume point; no key twice.
  static std::vector<Row> ScanAll(Connector& c, std::string& cursor, size_t limit) {
    std::vector<Row> rows;
    std::set<std::string> keys;
    for (bool done = false; !done;) {
      auto page = c.Scan(cursor, limit);
      if (!page.ok()) {
        ADD_FAILURE() << page.error().message;
        break;
      }
      for (auto& r : page->rows) EXPECT_TRUE(keys.insert(r.key).second) << r.key;
      rows.insert(rows.end(), page->rows.begin(), page->rows.end());
      cursor = page->cursor;
      done = page->done;
    }
    return rows;
  }

  // Waits until the connector's session (application_name ghl-syncd) waits for a lock
  // another session holds; false after 10 s.
  static bool ConnectorWaitsOnALock() {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < until) {
      PGconn* conn = PQconnectdb(server_->Dsn().c_str());
      PGresult* res = PQexec(conn,
                             "SELECT count(*) FROM pg_stat_activity WHERE application_name ="
                             " 'ghl-syncd' AND wait_event_type = 'Lock'");
      const bool waiting =
          PQresultStatus(res) == PGRES_TUPLES_OK && std::string(PQgetvalue(res, 0, 0)) != "0";
      PQclear(res);
      PQfinish(conn);
      if (waiting) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  // Runs `sql` on `conn` and expects it to succeed.
  static void ExecOn(PGconn* conn, const std::string& sql) {
    PGresult* res = PQexec(conn, sql.c_str());
    EXPECT_EQ(PQresultStatus(res), PGRES_COMMAND_OK) << sql << ": " << PQerrorMessage(conn);
    PQclear(res);
  }

  static ghl::testing::PostgresServer* server_;
};

ghl::testing::PostgresServer* PostgresConnectorTest::server_ = nullptr;

TEST_F(PostgresConnectorTest, ConfigurationErrorsAndDescribeKeepTheSecret) {
  config::Diagnostics errors;
  EXPECT_EQ(CreatePostgres(Spec("{table: crm.people}", {"id"},
                                "{type: postgresql, dsn: 'host=db password hunter2'}"),
                           errors),
            nullptr);
  const std::string message = config::Join(errors);
  EXPECT_NE(message.find("connectors.under_test.dsn: not a valid libpq connection string"),
            std::string::npos)
      << message;
  EXPECT_EQ(message.find("hunter2"), std::string::npos);
  auto c = Make(Spec("{table: crm.people}", {"id"},
                     "{type: postgresql, dsn: '" + server_->Dsn() + " password=hunter2'}"));
  EXPECT_EQ(c->Describe(),
            "postgresql:postgres@127.0.0.1:" + std::to_string(server_->port()) + "/crm.people");
  auto wrong_port = Make(Spec("{table: crm.people}", {"id"},
                              "{type: postgresql, dsn: 'host=127.0.0.1 port=1 password=hunter2',"
                              " connect_timeout: 2s}"));
  auto health = wrong_port->Health();
  ASSERT_FALSE(health.ok());
  EXPECT_NE(health.error().message.find("cannot connect"), std::string::npos);
  EXPECT_EQ(health.error().message.find("hunter2"), std::string::npos);
}

TEST_F(PostgresConnectorTest, TypesComeBackAsTheirValueTypes) {
  ASSERT_EQ(server_->Exec(
                "CREATE TABLE crm.typed (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
                " label varchar(40), n integer, big bigint, ratio double precision,"
                " price numeric(12,2), active boolean, at timestamptz, local timestamp,"
                " doc jsonb, raw json, \"we\"\"ird col\" text)"),
            "");
  auto c = Make("{table: crm.typed}");
  ASSERT_TRUE(c->Health().ok()) << c->Health().error().message;
  const Fields fields = {{"label", Value("x")},
                         {"n", Value(42.0)},
                         {"big", Value("9007199254740993")},
                         {"ratio", Value(0.1)},
                         {"price", Value(12.25)},
                         {"active", Value(true)},
                         {"at", Value("2024-05-01T12:00:00.25+02:00")},
                         {"local", Value("2024-05-01T10:00:00")},
                         {"doc", Value(R"({"a": [1, 2]})")},
                         {"raw", Value(R"({"b":"it's"})")},
                         {"we\"ird col", Value("'); DROP TABLE crm.typed;--")}};
  auto r = c->Write({Upsert("", fields)});
  ASSERT_EQ(r[0].outcome, Outcome::kOk) << r[0].message;
  EXPECT_EQ(r[0].key, "1");
  auto row = c->Get("1");
  ASSERT_TRUE(row.ok() && row->has_value()) << (row.ok() ? "" : row.error().message);
  Fields expected = fields;
  expected["at"] = Value("2024-05-01T10:00:00.25Z");  // the same instant, in UTC
  expected["id"] = Value(1.0);
  EXPECT_EQ((*row)->fields, expected);
  EXPECT_EQ((*row)->version, r[0].version);
  // Upserting the generated key updates; a wrong type is this op's fatal error only.
  auto again = c->Write({Upsert("1", {{"n", Value(7.0)}}), Upsert("1", {{"n", Value("seven")}})});
  EXPECT_EQ(again[0].outcome, Outcome::kOk) << again[0].message;
  EXPECT_EQ(again[1].outcome, Outcome::kFatal);
  EXPECT_NE(again[1].message.find("invalid input syntax for type integer"), std::string::npos)
      << again[1].message;
  EXPECT_EQ(c->Get("1").value()->fields.at("n"), Value(7.0));
}

TEST_F(PostgresConnectorTest, CompositeKeyUpsertDeleteAndQuerySource) {
  ASSERT_EQ(server_->Exec("CREATE TABLE public.deals (tenant text, num int, stage text,"
                          " archived_at timestamptz, PRIMARY KEY (tenant, num))"),
            "");
  auto spec = Spec("{table: deals}", {"tenant", "num"});
  spec.soft_delete_column = "archived_at";
  auto c = Make(spec);
  ASSERT_TRUE(c->Health().ok()) << c->Health().error().message;
  auto r = c->Write({Upsert(R"(["a","10"])", {{"stage", Value("won")}}),
                     Upsert(R"(["a","9"])", {{"stage", Value("new")}}),
                     {WriteOp::Kind::kDelete, R"(["a","9"])", {}}});
  for (const auto& w : r) ASSERT_EQ(w.outcome, Outcome::kOk) << w.message;
  std::string cursor;
  auto rows = ScanAll(*c, cursor, 1);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].key, R"(["a","9"])");
  EXPECT_TRUE(rows[0].deleted);
  EXPECT_FALSE(rows[1].deleted);
  EXPECT_EQ(cursor, "");

  auto query =
      Make("{query: 'SELECT tenant, num, upper(stage) AS stage FROM deals'}", {"tenant", "num"});
  auto page = query->Scan("", 10);
  ASSERT_TRUE(page.ok()) << page.error().message;
  ASSERT_EQ(page->rows.size(), 2u);
  EXPECT_EQ(page->rows[1].fields.at("stage"), Value("WON"));
  auto refused = query->Write({Upsert(R"(["a","10"])", {{"stage", Value("lost")}})});
  EXPECT_EQ(refused[0].outcome, Outcome::kFatal);
  EXPECT_NE(refused[0].message.find("read only"), std::string::npos);
}

TEST_F(PostgresConnectorTest, IncrementalScanSeesOthersChangesAndRecognisesOwnWrites) {
  ASSERT_EQ(server_->Exec("INSERT INTO crm.people (id, name, updated_at) SELECT 'p' || i, 'n',"
                          " '2024-05-01T10:00:00Z' FROM generate_series(1, 7) i"),
            "");
  auto c = Make("{table: crm.people, updated_at: updated_at, overlap: 0s}");
  std::string cursor;
  auto rows = ScanAll(*c, cursor, 3);  // seven rows at one timestamp, pages of three
  ASSERT_EQ(rows.size(), 7u);
  EXPECT_EQ(cursor, "2024-05-01T10:00:00Z|p7");
  EXPECT_EQ(rows[0].updated_ms, 1714557600000);

  // Our write: the trigger sets updated_at; the version we get is what the scan reports.
  auto w = c->Write({Upsert("p3", {{"name", Value("ours")}})});
  ASSERT_EQ(w[0].outcome, Outcome::kOk) << w[0].message;
  // Someone else's write.
  ASSERT_EQ(server_->Exec("UPDATE crm.people SET email = 'x@y' WHERE id = 'p5'"), "");
  auto changed = ScanAll(*c, cursor, 3);
  ASSERT_EQ(changed.size(), 2u);
  EXPECT_EQ(changed[0].key, "p3");
  EXPECT_EQ(changed[0].version, w[0].version);  // the engine's ledger matches: our own write
  EXPECT_EQ(changed[1].key, "p5");
  EXPECT_TRUE(ScanAll(*c, cursor, 3).empty());
}

TEST_F(PostgresConnectorTest, LockTimeoutIsRetriedAndCounted) {
  ASSERT_EQ(server_->Exec("INSERT INTO crm.people (id) VALUES ('a')"), "");
  auto c = Make(Spec("{table: crm.people}", {"id"},
                     "{type: postgresql, dsn: '${PGDSN}', statement_timeout: 300ms}"));
  ASSERT_TRUE(c->Health().ok());
  PGconn* other = PQconnectdb(server_->Dsn().c_str());
  PQclear(PQexec(other, "BEGIN; UPDATE crm.people SET name = 'theirs' WHERE id = 'a'"));
  auto r = c->Write({Upsert("b", {}), Upsert("a", {{"name", Value("ours")}})});
  EXPECT_EQ(r[0].outcome, Outcome::kRetry);
  EXPECT_EQ(r[1].outcome, Outcome::kRetry);
  EXPECT_NE(r[1].message.find("statement timeout"), std::string::npos) << r[1].message;
  EXPECT_EQ(c->retryable_errors(), 1u);
  PQclear(PQexec(other, "COMMIT"));
  PQfinish(other);
  r = c->Write({Upsert("b", {}), Upsert("a", {{"name", Value("ours")}})});
  EXPECT_EQ(r[1].outcome, Outcome::kOk) << r[1].message;
  EXPECT_EQ(c->Get("a").value()->fields.at("name"), Value("ours"));
}

// A deadlock between the connector's batch and another session (SQLSTATE 40P01): the
// connector holds row a and waits for b, the other session holds b and asks for a.
// PostgreSQL aborts the connector's transaction; the batch is rolled back and every op is
// a retry (never fatal, never a dead letter), and the engine's retry goes through.
TEST_F(PostgresConnectorTest, DeadlockIsARetryAndTheRetrySucceeds) {
  ASSERT_EQ(server_->Exec("INSERT INTO crm.people (id, name) VALUES ('a', 'old'), ('b', 'old')"),
            "");
  auto c = Make("{table: crm.people}");
  ASSERT_TRUE(c->Health().ok());
  const std::vector<WriteOp> batch = {Upsert("a", {{"name", Value("ours a")}}),
                                      Upsert("b", {{"name", Value("ours b")}})};
  PGconn* other = PQconnectdb(server_->Dsn().c_str());
  // The other session checks for deadlocks only after 60 s; the connector's after the
  // default 1 s: the connector's session finds the cycle and is the one aborted.
  ExecOn(other, "SET deadlock_timeout = '60s'");
  ExecOn(other, "BEGIN");
  ExecOn(other, "UPDATE crm.people SET name = 'theirs' WHERE id = 'b'");
  auto written = std::async(std::launch::async, [&] { return c->Write(batch); });
  ASSERT_TRUE(ConnectorWaitsOnALock()) << "the connector never waited for row b";
  ExecOn(other, "UPDATE crm.people SET name = 'theirs' WHERE id = 'a'");  // the cycle
  const auto results = written.get();
  ASSERT_EQ(results.size(), 2u);
  for (const auto& r : results) {
    EXPECT_EQ(r.outcome, Outcome::kRetry) << r.message;
    EXPECT_NE(r.message.find("deadlock detected"), std::string::npos) << r.message;
    EXPECT_NE(r.message.find("the batch was rolled back"), std::string::npos) << r.message;
  }
  EXPECT_EQ(c->retryable_errors(), 1u);
  ExecOn(other, "COMMIT");
  PQfinish(other);
  EXPECT_EQ(c->Get("a").value()->fields.at("name"), Value("theirs"));

  // The dispatcher retries the batch later: it goes through, both ops.
  const auto retried = c->Write(batch);
  for (const auto& r : retried) EXPECT_EQ(r.outcome, Outcome::kOk) << r.message;
  EXPECT_EQ(c->Get("a").value()->fields.at("name"), Value("ours a"));
  EXPECT_EQ(c->Get("b").value()->fields.at("name"), Value("ours b"));
  EXPECT_EQ(c->Get("b").value()->version, retried[1].version);
}

// A serialization failure (SQLSTATE 40001): the connector's sessions run SERIALIZABLE (the
// database's default here, set through the dsn's `options`); its upsert waits for a row
// another transaction updates, which then commits. The connector's transaction cannot be
// serialized after it: the op is a retry, and the retry (a new transaction) succeeds.
TEST_F(PostgresConnectorTest, SerializationFailureIsARetryAndTheRetrySucceeds) {
  ASSERT_EQ(server_->Exec("INSERT INTO crm.people (id, name) VALUES ('a', 'old')"), "");
  auto c = Make(Spec("{table: crm.people}", {"id"},
                     "{type: postgresql, dsn: \"" + server_->Dsn() +
                         " options='-c default_transaction_isolation=serializable'\"}"));
  ASSERT_TRUE(c->Health().ok());
  PGconn* other = PQconnectdb(server_->Dsn().c_str());
  ExecOn(other, "BEGIN ISOLATION LEVEL SERIALIZABLE");
  ExecOn(other, "UPDATE crm.people SET email = 'theirs@example.com' WHERE id = 'a'");
  auto written = std::async(std::launch::async, [&] {
    return c->Write({Upsert("a", {{"name", Value("ours")}})});
  });
  ASSERT_TRUE(ConnectorWaitsOnALock()) << "the connector never waited for row a";
  ExecOn(other, "COMMIT");
  PQfinish(other);
  const auto results = written.get();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, Outcome::kRetry) << results[0].message;
  EXPECT_NE(results[0].message.find("could not serialize access"), std::string::npos)
      << results[0].message;
  EXPECT_EQ(c->retryable_errors(), 1u);

  const auto retried = c->Write({Upsert("a", {{"name", Value("ours")}})});
  ASSERT_EQ(retried[0].outcome, Outcome::kOk) << retried[0].message;
  const auto row = c->Get("a").value();
  EXPECT_EQ(row->fields.at("name"), Value("ours"));
  EXPECT_EQ(row->fields.at("email"), Value("theirs@example.com")) << "their commit is kept";
}

TEST_F(PostgresConnectorTest, ServerRestartDuringASyncLosesNothing) {
  auto c = Make("{table: crm.people, updated_at: updated_at, overlap: 2s}");
  std::map<std::string, std::string> written;  // key -> name the engine wants there
  auto batch = [&](int from, int to) {
    std::vector<WriteOp> ops;
    for (int i = from; i < to; ++i) {
      ops.push_back(Upsert("k" + std::to_string(i), {{"name", Value("v" + std::to_string(i))}}));
    }
    return ops;
  };
  for (const auto& r : c->Write(batch(0, 50))) ASSERT_EQ(r.outcome, Outcome::kOk) << r.message;
  auto page = c->Scan("", 20);
  ASSERT_TRUE(page.ok());
  const std::string mid_scan = page->cursor;

  ASSERT_TRUE(server_->Stop());
  // While it is down: every write is a retry, scans fail with a clear message.
  for (const auto& r : c->Write(batch(50, 100))) {
    EXPECT_EQ(r.outcome, Outcome::kRetry);
    EXPECT_NE(r.message.find("postgresql:"), std::string::npos);
  }
  auto down = c->Scan(mid_scan, 20);
  ASSERT_FALSE(down.ok());
  EXPECT_NE(down.error().message.find("cannot connect"), std::string::npos) << down.error().message;

  ASSERT_TRUE(server_->Start()) << server_->Log();
  // The dispatcher retries the batch: it goes through on a new connection.
  for (const auto& r : c->Write(batch(50, 100))) EXPECT_EQ(r.outcome, Outcome::kOk) << r.message;
  EXPECT_GE(c->reconnects(), 1u);
  EXPECT_GE(c->retryable_errors(), 2u);

  // The interrupted scan resumes from its cursor; with the rows before it, every row is seen.
  std::string cursor = mid_scan;
  auto rest = ScanAll(*c, cursor, 20);
  std::set<std::string> seen;
  for (const auto& r : page->rows) seen.insert(r.key);
  for (const auto& r : rest) seen.insert(r.key);
  EXPECT_EQ(seen.size(), 100u);
  for (int i = 0; i < 100; ++i) {
    auto row = c->Get("k" + std::to_string(i));
    ASSERT_TRUE(row.ok() && row->has_value()) << i;
    EXPECT_EQ((*row)->fields.at("name"), Value("v" + std::to_string(i)));
  }
}

TEST_F(PostgresConnectorTest, ConnectionKilledMidSessionIsRetriedNotFatal) {
  auto c = Make("{table: crm.people}");
  ASSERT_TRUE(c->Health().ok());
  ASSERT_EQ(server_->Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                          " WHERE application_name = 'ghl-syncd'"),
            "");
  auto r = c->Write({Upsert("a", {})});
  EXPECT_EQ(r[0].outcome, Outcome::kRetry);
  EXPECT_NE(r[0].message.find("reconnecting on the next call"), std::string::npos) << r[0].message;
  EXPECT_EQ(c->Write({Upsert("a", {})})[0].outcome, Outcome::kOk);
}

}  // namespace
}  // namespace ghl::connectors::sql
