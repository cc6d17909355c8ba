// The PostgreSQL connector in the conformance suite, on a throwaway server (one per test
// process): each case gets its own schema with a `contacts` table whose text key defaults
// to a random UUID, in both scan modes:
//   postgresql              full scans (no updated_at).
//   postgresql_incremental  `updated_at timestamptz` set by clock_timestamp() (column
//                           default and a BEFORE UPDATE trigger, as an application would),
//                           overlap 0s: microsecond timestamps, so resumed scans take the
//                           strict (updated_at, key) tie-break path rather than re-reading.
// External edits are UPDATEs from another session.
#include <libpq-fe.h>

#include <atomic>

#include "tests/conformance/fixture.h"
#include "tests/support/postgres.h"

namespace ghl::conformance {
namespace {

ghl::testing::PostgresServer& Server() {
  static ghl::testing::PostgresServer server;
  return server;
}

class PostgresFixture final : public ConnectorFixture {
 public:
  explicit PostgresFixture(bool incremental) : incremental_(incremental) {
    static std::atomic<int> next{0};
    schema_ = "conformance_" + std::to_string(next++);
  }

  bool ScanFromStartIsComplete() const override { return !incremental_; }

  std::unique_ptr<connectors::Connector> Make() override {
    if (!Server().ok()) {
      ADD_FAILURE() << Server().error();
      return nullptr;
    }
    std::string ddl = "DROP SCHEMA IF EXISTS " + schema_ + " CASCADE; CREATE SCHEMA " + schema_ +
                      "; CREATE TABLE " + schema_ +
                      ".contacts (id text PRIMARY KEY DEFAULT gen_random_uuid()::text, name "
                      "text, email text, notes text";
    if (incremental_) {
      ddl += ", updated_at timestamptz NOT NULL DEFAULT clock_timestamp()); CREATE FUNCTION " +
             schema_ +
             ".touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := "
             "clock_timestamp(); RETURN NEW; END $$; CREATE TRIGGER touch BEFORE UPDATE ON " +
             schema_ + ".contacts FOR EACH ROW EXECUTE FUNCTION " + schema_ +
             ".touch(); CREATE INDEX ON " + schema_ + ".contacts (updated_at, id)";
    } else {
      ddl += ")";
    }
    EXPECT_EQ(Server().Exec(ddl), "");
    config::Diagnostics errors;
    auto c = connectors::Create(
        Spec(Options(), "{connector: under_test, table: " + schema_ + ".contacts" +
                            (incremental_ ? ", updated_at: updated_at, overlap: 0s" : "") + "}"),
        errors);
    EXPECT_TRUE(errors.empty()) << config::Join(errors);
    return c;
  }

  void ExternalEdit(const std::string& key, const std::string& column,
                    const std::string& value) override {
    PGconn* conn = PQconnectdb(Server().Dsn().c_str());
    char* quoted = PQescapeIdentifier(conn, column.c_str(), column.size());
    const std::string sql =
        "UPDATE " + schema_ + ".contacts SET " + std::string(quoted) + " = $1 WHERE id = $2";
    PQfreemem(quoted);
    const char* params[] = {value.c_str(), key.c_str()};
    PGresult* res = PQexecParams(conn, sql.c_str(), 2, nullptr, params, nullptr, nullptr, 0);
    EXPECT_EQ(PQresultStatus(res), PGRES_COMMAND_OK) << PQerrorMessage(conn);
    EXPECT_STREQ(PQcmdTuples(res), "1");
    PQclear(res);
    PQfinish(conn);
  }

  std::vector<BadConfig> BadConfigs() override {
    const std::string table = "{connector: under_test, table: contacts}";
    return {
        {"no dsn", Spec("{type: postgresql}", table),
         "connectors.under_test: missing required key 'dsn' (or 'dsn_file')"},
        {"not a conninfo", Spec("{type: postgresql, dsn: 'host=db secret'}", table),
         "connectors.under_test.dsn: not a valid libpq connection string"},
        {"unset variable", Spec("{type: postgresql, dsn: '${CONFORMANCE_UNSET_DSN}'}", table),
         "environment variable CONFORMANCE_UNSET_DSN is not set"},
        {"missing dsn_file", Spec("{type: postgresql, dsn_file: /nonexistent/dsn}", table),
         "connectors.under_test.dsn_file: cannot read secret file /nonexistent/dsn"},
        {"timeout out of range",
         Spec("{type: postgresql, dsn: 'host=db', connect_timeout: 0s}", table),
         "connectors.under_test.connect_timeout"},
        {"neither table nor query", Spec(Options(), "{connector: under_test}"),
         "give exactly one of 'table' (read and write) or 'query' (read only)"},
        {"misspelt resource key", Spec(Options(), "{table: contacts, bach_size: 10}"),
         "did you mean 'batch_size'"},
        {"overlap out of range",
         Spec(Options(), "{table: contacts, updated_at: updated_at, overlap: 2d}"),
         "external.overlap"},
    };
  }

 private:
  static std::string Options() { return "{type: postgresql, dsn: '" + Server().Dsn() + "'}"; }

  connectors::ConnectorSpec Spec(const std::string& options, const std::string& resource) const {
    return SpecFromYaml("postgresql", options, resource, dir_.path());
  }

  bool incremental_;
  std::string schema_;
  ghl::testing::TempDir dir_;
};

std::unique_ptr<ConnectorFixture> MakePostgresFixture() {
  return std::make_unique<PostgresFixture>(false);
}
std::unique_ptr<ConnectorFixture> MakePostgresIncrementalFixture() {
  return std::make_unique<PostgresFixture>(true);
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(Postgres, ConnectorConformance,
                         ::testing::Values(FixtureFactory{"postgresql", &MakePostgresFixture},
                                           FixtureFactory{"postgresql_incremental",
                                                          &MakePostgresIncrementalFixture}),
                         FixtureName);

}  // namespace ghl::conformance
