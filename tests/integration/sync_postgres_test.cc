// Two-way sync of contacts between ghl-emulator and a PostgreSQL table, as a user runs it:
// the real daemon (tests/support/sync_harness.h) with a `postgresql` connector against a
// throwaway server (tests/support/postgres.h), in both scan modes (incremental by a
// trigger-maintained updated_at, and full scans with row hashes). The server is restarted
// while changes flow both ways: every change must arrive exactly once, and the daemon must
// ride it out (retrying, never exiting).
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "state/sqlite.h"
#include "tests/support/postgres.h"
#include "tests/support/sync_harness.h"

namespace ghl {
namespace {

using namespace std::chrono_literals;
using testing::SyncHarness;

// A contact as both sides should hold it, by email: first name, last name, tags (sorted,
// joined by ";").
struct Person {
  std::string first, last, tags;
  bool operator==(const Person&) const = default;
};
using Model = std::map<std::string, Person>;

std::string SortedTags(const std::string& joined) {
  std::vector<std::string> tags;
  std::stringstream in(joined);
  for (std::string t; std::getline(in, t, ';');) {
    if (!t.empty()) tags.push_back(t);
  }
  std::sort(tags.begin(), tags.end());
  std::string out;
  for (const auto& t : tags) out += (out.empty() ? "" : ";") + t;
  return out;
}

std::string Show(const Person& p) { return p.first + " " + p.last + " [" + p.tags + "]"; }

struct ModeCase {
  std::string name;
  std::string external_extra;  // more keys of the mapping's external: block
};

void PrintTo(const ModeCase& c, std::ostream* os) { *os << c.name; }

class SyncPostgresTest : public ::testing::TestWithParam<ModeCase> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(pg_.ok()) << pg_.error();
    ASSERT_EQ(pg_.Exec("CREATE SCHEMA crm;"
                       "CREATE TABLE crm.contacts (id text PRIMARY KEY, first_name text,"
                       " last_name text, email text, tags text,"
                       " updated_at timestamptz NOT NULL DEFAULT clock_timestamp());"
                       "CREATE FUNCTION crm.touch() RETURNS trigger LANGUAGE plpgsql AS"
                       " $$ BEGIN NEW.updated_at := clock_timestamp(); RETURN NEW; END $$;"
                       "CREATE TRIGGER touch BEFORE UPDATE ON crm.contacts FOR EACH ROW"
                       " EXECUTE FUNCTION crm.touch();"
                       "CREATE INDEX contacts_changes ON crm.contacts (updated_at, id);"),
              "");
    h_.UseExternal("  crm_pg:\n    type: postgresql\n    dsn: '" + pg_.Dsn() +
                       "'\n    connect_timeout: 2s\n    statement_timeout: 5s\n",
                   "  connector: crm_pg\n  table: crm.contacts\n" + GetParam().external_extra);
    h_.WriteConfig();
  }

  // Runs `sql` on the table's server and expects it to succeed.
  void Sql(const std::string& sql) { ASSERT_EQ(pg_.Exec(sql), "") << sql; }

  // Every row of crm.contacts by id, read with libpq (not through the connector).
  std::map<std::string, std::map<std::string, std::string>> Rows() {
    std::map<std::string, std::map<std::string, std::string>> out;
    PGconn* conn = PQconnectdb(pg_.Dsn().c_str());
    PGresult* res = PQexec(conn,
                           "SELECT id, coalesce(first_name, ''), coalesce(last_name, ''),"
                           " coalesce(email, ''), coalesce(tags, '') FROM crm.contacts");
    if (PQresultStatus(res) == PGRES_TUPLES_OK) {
      for (int r = 0; r < PQntuples(res); ++r) {
        out[PQgetvalue(res, r, 0)] = {{"first_name", PQgetvalue(res, r, 1)},
                                      {"last_name", PQgetvalue(res, r, 2)},
                                      {"email", PQgetvalue(res, r, 3)},
                                      {"tags", SortedTags(PQgetvalue(res, r, 4))}};
      }
    } else {
      ADD_FAILURE() << "reading crm.contacts: " << PQerrorMessage(conn);
    }
    PQclear(res);
    PQfinish(conn);
    return out;
  }

  // Whether GHL and the table both hold exactly `model`: one contact and one row per email
  // (no duplicates, nothing else), every field equal. `why` says what differs.
  bool Converged(const Model& model, std::string* why) {
    std::ostringstream diff;
    const auto ghl = h_.Ghl();
    const auto rows = Rows();
    if (ghl.size() != model.size()) diff << ghl.size() << " GHL contacts; ";
    if (rows.size() != model.size()) diff << rows.size() << " rows; ";
    for (const auto& [email, want] : model) {
      std::vector<Person> in_ghl, in_table;
      for (const auto& [id, c] : ghl) {
        if (c.at("email") == email) {
          in_ghl.push_back({c.at("firstName"), c.at("lastName"), c.at("tags")});
        }
      }
      for (const auto& [id, r] : rows) {
        if (r.at("email") == email) {
          in_table.push_back({r.at("first_name"), r.at("last_name"), r.at("tags")});
        }
      }
      if (in_ghl.size() != 1 || in_table.size() != 1) {
        diff << email << ": " << in_ghl.size() << " in GHL, " << in_table.size() << " rows; ";
        continue;
      }
      if (!(in_ghl[0] == want)) diff << email << " in GHL: " << Show(in_ghl[0]) << "; ";
      if (!(in_table[0] == want)) diff << email << " in the table: " << Show(in_table[0]) << "; ";
    }
    *why = diff.str();
    return why->empty();
  }

  // Waits until both sides hold `model`; fails with the difference and the daemon's log.
  void ExpectConverges(const Model& model, testing::Process& daemon,
                       std::chrono::milliseconds timeout) {
    std::string why;
    EXPECT_TRUE(SyncHarness::Eventually([&] { return Converged(model, &why); }, timeout))
        << "not converged: " << why << "\n"
        << daemon.Log();
  }

  // The number a `SELECT count(*) ...` answers, or -1.
  int Count(const std::string& sql) {
    PGconn* conn = PQconnectdb(pg_.Dsn().c_str());
    PGresult* res = PQexec(conn, sql.c_str());
    const int n = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1
                      ? std::stoi(PQgetvalue(res, 0, 0))
                      : -1;
    PQclear(res);
    PQfinish(conn);
    return n;
  }

  // The GHL id of the contact with `email`, or "".
  std::string GhlId(const std::string& email) {
    for (const auto& [id, c] : h_.Ghl()) {
      if (c.at("email") == email) return id;
    }
    return "";
  }

  // Declared before the harness: the daemon (held by the test body) and the emulator go
  // first, the server last.
  testing::PostgresServer pg_;
  SyncHarness h_{{"--no-rate-limit", "--search-lag-ms", "300"}};
};

TEST_P(SyncPostgresTest, BothSidesConvergeAndAServerRestartLosesAndDuplicatesNothing) {
  const auto started = std::chrono::steady_clock::now();
  // GHL has three contacts; the table three rows of its own and one for Ada (same email:
  // linked, not created twice).
  const std::string ada = h_.CreateContact(
      R"("firstName":"Ada","lastName":"Lovelace","email":"ada@example.com","tags":["vip"])");
  const std::string bob =
      h_.CreateContact(R"("firstName":"Bob","lastName":"Builder","email":"bob@example.com")");
  const std::string cy = h_.CreateContact(
      R"("firstName":"Cy","lastName":"Young","email":"cy@example.com","tags":["pitcher"])");
  Sql("INSERT INTO crm.contacts (id, first_name, last_name, email, tags) VALUES"
      " ('p-1', 'Dee', 'Dee', 'dee@example.com', NULL),"
      " ('p-2', 'Eve', 'Evans', 'eve@example.com', 'b;a'),"
      " ('p-3', 'Fay', 'Wray', 'fay@example.com', ''),"
      " ('p-4', 'Ada', 'Lovelace', 'ada@example.com', 'vip')");
  Model model = {
      {"ada@example.com", {"Ada", "Lovelace", "vip"}}, {"bob@example.com", {"Bob", "Builder", ""}},
      {"cy@example.com", {"Cy", "Young", "pitcher"}},  {"dee@example.com", {"Dee", "Dee", ""}},
      {"eve@example.com", {"Eve", "Evans", "a;b"}},    {"fay@example.com", {"Fay", "Wray", ""}},
  };
  auto d = h_.StartDaemon();
  ExpectConverges(model, *d, 30s);
  if (HasFailure()) return;
  auto rows = Rows();
  EXPECT_EQ(rows.count("p-4"), 1u) << "Ada's row kept its key";
  EXPECT_EQ(rows.count(bob), 1u) << "a row made from GHL is keyed by the GHL id";
  const std::string dee = GhlId("dee@example.com");
  const std::string fay = GhlId("fay@example.com");
  ASSERT_FALSE(dee.empty() || fay.empty());

  // Changes on both sides just before the server goes down: the daemon may or may not have
  // read them when it does.
  Sql("UPDATE crm.contacts SET last_name = 'Stopped' WHERE id = 'p-1';"
      "INSERT INTO crm.contacts (id, first_name, last_name, email) VALUES"
      " ('p-5', 'Gil', 'Gold', 'gil@example.com')");
  h_.UpdateContact(bob, R"("lastName":"Marley")");
  model["dee@example.com"].last = "Stopped";
  model["gil@example.com"] = {"Gil", "Gold", ""};
  model["bob@example.com"].last = "Marley";
  // And a write in flight when it goes: another session holds Fay's row, so the daemon's
  // write of her GHL change waits on the lock until the shutdown cuts its connection.
  PGconn* holder = PQconnectdb(pg_.Dsn().c_str());
  PQclear(PQexec(holder, "BEGIN; SELECT * FROM crm.contacts WHERE id = 'p-3' FOR UPDATE"));
  h_.UpdateContact(fay, R"("tags":["locked"])");
  model["fay@example.com"].tags = "locked";
  EXPECT_TRUE(SyncHarness::Eventually(
      [&] {
        return Count(
                   "SELECT count(*) FROM pg_stat_activity WHERE application_name ="
                   " 'ghl-syncd' AND wait_event_type = 'Lock'") == 1;
      },
      15s))
      << "the daemon's write never waited on the lock:\n"
      << d->Log();
  ASSERT_TRUE(pg_.Stop());
  PQfinish(holder);
  // Usually the shutdown cuts the waiting write and it is retried. The fast shutdown can
  // also end the holder's session first, and the write then commits just before its own
  // session goes (CI saw it once); either way the convergence below checks Fay's row.
  if (!d->WaitForLog("external write for link", 10s)) {
    std::cerr << "note: the write waiting on the lock was not cut off by the shutdown\n";
  }

  // GHL changes during the outage: reading their rows fails, they are tried again.
  h_.UpdateContact(cy, R"("firstName":"Cyrus")");
  h_.UpdateContact(ada, R"("tags":["vip","during"])");
  const std::string hal =
      h_.CreateContact(R"("firstName":"Hal","lastName":"Jordan","email":"hal@example.com")");
  model["cy@example.com"].first = "Cyrus";
  model["ada@example.com"].tags = "during;vip";
  model["hal@example.com"] = {"Hal", "Jordan", ""};
  EXPECT_TRUE(d->WaitForLog("pass failed", 10s)) << d->Log();
  // Counted ("...; tried again in 1.0s (attempt 1 of 12)") or, once the passes fail too,
  // not ("...: tried again in 30s, not counted").
  EXPECT_TRUE(d->WaitForLog("tried again in ", 10s)) << d->Log();
  ASSERT_FALSE(d->Wait(0ms).has_value()) << d->Log();

  ASSERT_TRUE(pg_.Start()) << pg_.Log();
  // More changes on both sides while the retries are still waiting.
  Sql("UPDATE crm.contacts SET first_name = 'Evelyn' WHERE id = 'p-2'");
  h_.UpdateContact(bob, R"("firstName":"Robert")");
  model["eve@example.com"].first = "Evelyn";
  model["bob@example.com"].first = "Robert";

  ExpectConverges(model, *d, 40s);
  EXPECT_FALSE(d->Wait(0ms).has_value()) << "the daemon exited:\n" << d->Log();
  EXPECT_EQ(Rows().count(hal), 1u) << "Hal's row is keyed by his GHL id";

  // Settled: a few more passes change nothing, and nothing went to the dead-letter queue.
  std::this_thread::sleep_for(3s);
  std::string why;
  EXPECT_TRUE(Converged(model, &why)) << why << "\n" << d->Log();
  auto [code, dlq] = h_.Cli({"dlq", "list"});
  EXPECT_EQ(code, 0) << dlq;
  EXPECT_NE(dlq.find("empty"), std::string::npos) << dlq;
  // The webhooks waited out the outage without it counting against them (the first
  // failure or two, before the passes failed too, may count; webhooks.max_attempts is 12).
  {
    auto db = state::sqlite::Db::Open(h_.state_path(), 5s);
    ASSERT_TRUE(db.ok()) << db.error().message;
    auto most = (*db)->QueryInt64("SELECT max(attempts) FROM webhook_inbox");
    ASSERT_TRUE(most.ok()) << most.error().message;
    EXPECT_LE(most.value(), 2) << d->Log();
  }
  // The outage is counted where an operator looks.
  const std::string metrics = testing::HttpRequest(h_.MetricsUrl(*d)).body;
  EXPECT_GT(
      h_.Metric(metrics,
                R"(ghl_syncd_connector_events_total{event="retryable_error",sync="contacts"})"),
      0)
      << metrics;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 60s);
}

// A daemon started while the database is down keeps running and syncs once it is up.
TEST_P(SyncPostgresTest, DaemonStartedWhileTheServerIsDownSyncsOnceItIsUp) {
  Sql("INSERT INTO crm.contacts (id, first_name, last_name, email) VALUES"
      " ('p-1', 'Ivy', 'Early', 'ivy@example.com')");
  h_.CreateContact(R"("firstName":"Jon","lastName":"Late","email":"jon@example.com")");
  ASSERT_TRUE(pg_.Stop());
  auto d = h_.StartDaemon();
  EXPECT_TRUE(d->WaitForLog("pass failed", 15s)) << d->Log();
  ASSERT_FALSE(d->Wait(0ms).has_value()) << d->Log();
  ASSERT_TRUE(pg_.Start()) << pg_.Log();
  ExpectConverges(
      {{"ivy@example.com", {"Ivy", "Early", ""}}, {"jon@example.com", {"Jon", "Late", ""}}}, *d,
      40s);
  EXPECT_FALSE(d->Wait(0ms).has_value()) << d->Log();
}

INSTANTIATE_TEST_SUITE_P(Modes, SyncPostgresTest,
                         ::testing::Values(ModeCase{"Incremental",
                                                    "  updated_at: updated_at\n  overlap: 2s\n"},
                                           ModeCase{"FullScan", ""}),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace ghl
