// The REST connector against a real local JSON API (tests/support/json_api_server.h):
// pagination styles, auth, rate limits and retries, timeouts, rejected items, incremental
// scans, writes and their versions, and configuration errors. Waits run on a FakeClock
// (the connector's sleeps advance it), so no test sleeps for the connector's backoff.
#include "connectors/rest/rest_connector.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "connectors/rest/json.h"
#include "connectors/rest/pagination.h"
#include "connectors/rest/since.h"
#include "core/clock.h"
#include "tests/support/json_api_server.h"
#include "tests/support/temp_dir.h"

namespace ghl::connectors::rest {
namespace {

using namespace std::chrono_literals;
using testing::JsonApiServer;
using Paging = JsonApiServer::Paging;

class RestConnectorTest : public ::testing::Test {
 protected:
  // A connector on the test server. `connection` and `resource` are YAML added to the
  // blocks (base_url and connector are set here).
  std::unique_ptr<RestConnector> Make(const std::string& connection, const std::string& resource,
                                      config::Diagnostics* errors_out = nullptr) {
    ConnectorSpec spec;
    spec.name = "shop";
    spec.type = "rest";
    spec.options =
        YAML::Load("type: rest\nbase_url: " + (base_url_.empty() ? server_->url() : base_url_) +
                   "\n" + connection);
    spec.options_file = "ghl-syncd.yaml";
    spec.options_dir = dir_.path();
    spec.options_path = "connectors.shop";
    // Creates must be idempotent (or say they need not be): tests that are not about it
    // find a create again by its email.
    const bool creates_said = resource.find("create:") != std::string::npos ||
                              connection.find("idempotency_header") != std::string::npos;
    spec.resource = YAML::Load("connector: shop\n" + resource +
                               (creates_said ? "" : "create: {match: email}\n"));
    spec.resource_file = "mappings/customers.yaml";
    spec.resource_dir = dir_.path();
    spec.resource_path = "external";
    spec.key_columns = {"id"};
    spec.soft_delete_column = soft_delete_;
    spec.env = [](const std::string& name) -> std::optional<std::string> {
      if (name == "SHOP_TOKEN") return "s3cret-token";
      return std::nullopt;
    };
    config::Diagnostics errors;
    Env env{&clock_, [this](Clock::Duration d) {
              sleeps_.push_back(d);
              clock_.Advance(d);
            }};
    auto connector = Create(spec, errors, std::move(env));
    if (errors_out != nullptr) *errors_out = errors;
    if (errors_out == nullptr) {
      EXPECT_TRUE(errors.empty()) << config::Join(errors);
    }
    return connector;
  }

  static std::string Resource(const std::string& pagination = "{type: page}",
                              const std::string& extra = "") {
    return "list:\n  path: /customers\n  items: data\n  pagination: " + pagination + "\n" + extra;
  }

  // Every row of a scan from `cursor`, page by page; the last page in `last`.
  std::vector<Row> ScanAll(RestConnector& c, std::string cursor, size_t limit,
                           ScanPage* last = nullptr, int* pages = nullptr) {
    std::vector<Row> rows;
    for (int n = 1; n < 100; ++n) {
      auto page = c.Scan(cursor, limit);
      EXPECT_TRUE(page.ok()) << page.error().message;
      if (!page.ok()) break;
      rows.insert(rows.end(), page->rows.begin(), page->rows.end());
      cursor = page->cursor;
      if (page->done) {
        if (last != nullptr) *last = *page;
        if (pages != nullptr) *pages = n;
        break;
      }
    }
    return rows;
  }

  static std::vector<std::string> Keys(const std::vector<Row>& rows) {
    std::vector<std::string> keys;
    for (const auto& r : rows) keys.push_back(r.key);
    return keys;
  }

  static WriteOp Upsert(std::string key, mapping::Fields fields) {
    return {WriteOp::Kind::kUpsert, std::move(key), std::move(fields)};
  }

  Clock::Duration Slept() const {
    Clock::Duration total{0};
    for (auto d : sleeps_) total += d;
    return total;
  }

  std::unique_ptr<JsonApiServer> server_ = std::make_unique<JsonApiServer>();
  testing::TempDir dir_;
  FakeClock clock_;
  std::vector<Clock::Duration> sleeps_;
  std::string soft_delete_;
  std::string base_url_;  // "" = the test server's
};

// ---- pagination ----

struct PagingCase {
  Paging paging;
  std::string pagination;
  std::string items;
  int pages;  // requests for 7 items, 3 per page
};

void PrintTo(const PagingCase& c, std::ostream* os) { *os << c.pagination; }

std::string PagingName(Paging p) {
  static const char* names[] = {"None", "Page", "Offset", "Cursor", "Link"};
  return names[static_cast<int>(p)];
}

class PaginationTest : public RestConnectorTest,
                       public ::testing::WithParamInterface<PagingCase> {};

TEST_P(PaginationTest, ScansEveryItemOnceInOrder) {
  const PagingCase& c = GetParam();
  server_->SetPaging(c.paging);
  for (int i = 1; i <= 7; ++i) {
    server_->Insert(R"({"id":"c)" + std::to_string(i) + R"(","name":"n)" + std::to_string(i) +
                    R"("})");
  }
  auto connector = Make("", "list:\n  path: /customers\n  items: '" + c.items +
                                "'\n  pagination: " + c.pagination + "\n");
  ScanPage last;
  int pages = 0;
  auto rows = ScanAll(*connector, "", 3, &last, &pages);
  EXPECT_EQ(Keys(rows), (std::vector<std::string>{"c1", "c2", "c3", "c4", "c5", "c6", "c7"}));
  EXPECT_EQ(pages, c.pages);
  EXPECT_EQ(connector->stats().requests, c.pages);
  EXPECT_TRUE(last.complete);
  EXPECT_EQ(last.cursor, "");  // no incremental scans configured
  EXPECT_EQ(std::get<std::string>(rows[6].fields.at("name")), "n7");
  EXPECT_EQ(connector->stats().connections_opened, 1);  // one kept-alive connection
}

INSTANTIATE_TEST_SUITE_P(
    Styles, PaginationTest,
    ::testing::Values(PagingCase{Paging::kPage, "{type: page}", "data", 3},
                      PagingCase{Paging::kOffset, "{type: offset}", "/data", 3},
                      PagingCase{Paging::kCursor, "{type: cursor, cursor_path: meta.next_cursor}",
                                 "data", 3},
                      PagingCase{Paging::kLink, "{type: link}", "data", 3},
                      PagingCase{Paging::kNone, "{type: none}", "", 1}),
    [](const auto& info) { return PagingName(info.param.paging); });

TEST_F(RestConnectorTest, PageSizeIsTheSmallerOfConfigAndLimit) {
  for (int i = 1; i <= 5; ++i) server_->Insert(R"({"id":")" + std::to_string(i) + R"("})");
  auto connector = Make("", Resource("{type: offset, page_size: 2, offset_param: skip}"));
  auto page = connector->Scan("", 10);
  ASSERT_TRUE(page.ok()) << page.error().message;
  EXPECT_EQ(page->rows.size(), 2u);
  EXPECT_FALSE(page->done);
  EXPECT_EQ(server_->hits()[0].target, "/api/customers?limit=2&skip=0");
  // The server does not know `skip` and answers the same page again: an error, not a loop.
  auto again = connector->Scan(page->cursor, 10);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("answered the previous page again (first key '1')"),
            std::string::npos)
      << again.error().message;
  connector = Make("", Resource("{type: page, page_size: 2}"));
  int pages = 0;
  EXPECT_EQ(ScanAll(*connector, "", 10, nullptr, &pages).size(), 5u);
  EXPECT_EQ(pages, 3);
}

// ---- auth ----

TEST_F(RestConnectorTest, BearerTokenFromFileIsSentAndWrongTokenIsFatal) {
  JsonApiServer::Options o;
  o.bearer = "right-token";
  server_ = std::make_unique<JsonApiServer>(o);
  server_->Insert(R"({"id":"1"})");
  dir_.Write("token", "right-token\n");
  auto good = Make("auth: {type: bearer, token_file: token}\n", Resource());
  EXPECT_EQ(ScanAll(*good, "", 10).size(), 1u);

  auto bad = Make("auth: {type: bearer, token: wrong-token}\n", Resource());
  auto page = bad->Scan("", 10);
  ASSERT_FALSE(page.ok());
  EXPECT_NE(page.error().message.find("answered 401"), std::string::npos) << page.error().message;
  EXPECT_NE(page.error().message.find("rejected the credentials; check connectors.shop.auth"),
            std::string::npos);
  EXPECT_EQ(page.error().message.find("wrong-token"), std::string::npos);
  EXPECT_EQ(bad->stats().requests, 1);  // not retried

  // Refused credentials are not the record's fault: the write waits (retry), it is not
  // dead-lettered (fatal), and it is counted.
  auto results = bad->Write({Upsert("", {{"name", std::string("Ada")}})});
  EXPECT_EQ(results[0].outcome, Outcome::kRetry);
  EXPECT_NE(results[0].message.find("401"), std::string::npos);
  EXPECT_EQ(bad->stats().auth_errors, 2);
}

TEST_F(RestConnectorTest, OtherAuthKindsReachTheWireAndNotTheMessages) {
  auto basic = Make("auth: {type: basic, username: ada, password: lovelace}\n", Resource());
  ASSERT_TRUE(basic->Health().ok());
  EXPECT_EQ(server_->hits().back().headers["authorization"], "Basic YWRhOmxvdmVsYWNl");

  auto header = Make(
      "auth: {type: api_key_header, header: X-Shop-Key, token: '${SHOP_TOKEN}'}\n"
      "headers: {X-Tenant: acme}\n",
      Resource());
  ASSERT_TRUE(header->Health().ok());
  EXPECT_EQ(server_->hits().back().headers["x-shop-key"], "s3cret-token");
  EXPECT_EQ(server_->hits().back().headers["x-tenant"], "acme");

  auto query = Make(
      "auth: {type: api_key_query, param: key, token: s3cret-token}\n"
      "retry: {max_attempts: 1}\n",
      Resource());
  ASSERT_TRUE(query->Health().ok());
  EXPECT_NE(server_->hits().back().target.find("&key=s3cret-token"), std::string::npos);
  server_->Fail(1, 500);
  auto failed = query->Scan("", 10);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().message.find("s3cret"), std::string::npos) << failed.error().message;
  EXPECT_NE(failed.error().message.find("GET /customers?limit=10&page=1 answered 500"),
            std::string::npos)
      << failed.error().message;
}

// ---- rate limits, retries, timeouts ----

TEST_F(RestConnectorTest, TooManyRequestsWaitsForRetryAfterAndIsCounted) {
  server_->Insert(R"({"id":"1"})");
  auto connector = Make("", Resource());
  server_->Fail(2, 429, "3");
  EXPECT_EQ(ScanAll(*connector, "", 10).size(), 1u);
  EXPECT_EQ(connector->stats().rate_limited, 2);
  EXPECT_EQ(connector->stats().requests, 3);
  EXPECT_GE(Slept(), 6s);  // Retry-After: 3, twice
  EXPECT_LT(Slept(), 7s);
}

TEST_F(RestConnectorTest, RetryAfterLongerThanMaxDelayEndsTheCallForLater) {
  auto connector = Make("retry: {max_delay: 30s}\n", Resource());
  server_->Fail(1, 429, "120");
  auto results = connector->Write(
      {Upsert("", {{"name", std::string("Ada")}}), Upsert("", {{"name", std::string("Bob")}})});
  EXPECT_EQ(results[0].outcome, Outcome::kRetry);
  EXPECT_NE(
      results[0].message.find("Retry-After 120s, longer than connectors.shop.retry.max_delay"),
      std::string::npos)
      << results[0].message;
  EXPECT_EQ(results[1].outcome, Outcome::kRetry);
  EXPECT_EQ(results[1].message.rfind("not attempted", 0), 0u);
  EXPECT_EQ(connector->stats().requests, 1);
  EXPECT_EQ(server_->size(), 0u);
}

TEST_F(RestConnectorTest, ServerErrorsAreRetriedWithBackoffThenSucceed) {
  server_->Insert(R"({"id":"1"})");
  auto connector = Make("retry: {max_attempts: 3, base_delay: 100ms, max_delay: 1s}\n", Resource());
  server_->Fail(2, 500);
  auto row = connector->Get("1");
  ASSERT_TRUE(row.ok()) << row.error().message;
  ASSERT_TRUE(row->has_value());
  EXPECT_EQ(connector->stats().server_errors, 2);
  EXPECT_EQ(connector->stats().retries, 2);
  ASSERT_EQ(sleeps_.size(), 2u);
  EXPECT_GE(sleeps_[0], 50ms);  // 100 ms with jitter down to half
  EXPECT_LE(sleeps_[0], 100ms);
  EXPECT_GE(sleeps_[1], 100ms);
  EXPECT_LE(sleeps_[1], 200ms);
}

TEST_F(RestConnectorTest, PersistentServerErrorsEndInRetryWithTheBody) {
  server_->Insert(R"({"id":"1"})");
  auto connector = Make("retry: {max_attempts: 3, base_delay: 10ms}\n", Resource());
  server_->Fail(100, 503);
  // An update (PATCH of values to a keyed item) is repeatable: retried within the call.
  auto results = connector->Write({Upsert("1", {{"name", std::string("Ada")}})});
  EXPECT_EQ(results[0].outcome, Outcome::kRetry);
  EXPECT_NE(
      results[0].message.find("answered 503 after 3 attempt(s): {\"error\":\"injected fault\"}"),
      std::string::npos)
      << results[0].message;
  EXPECT_EQ(connector->stats().requests, 3);
}

TEST_F(RestConnectorTest, TimeoutsAndResetsAreRetried) {
  server_->Insert(R"({"id":"1"})");
  auto connector = Make("timeout: 200ms\nretry: {max_attempts: 4, base_delay: 10ms}\n", Resource());
  server_->Delay(1, 1500ms);
  auto row = connector->Get("1");
  ASSERT_TRUE(row.ok()) << row.error().message;
  EXPECT_TRUE(row->has_value());
  EXPECT_EQ(connector->stats().transport_errors, 1);
  // Three dropped connections (curl itself retries once on a reused connection it finds
  // closed, so one or two of them reach the connector).
  server_->Reset(3);
  EXPECT_TRUE(connector->Get("1").ok());
  EXPECT_GE(connector->stats().transport_errors, 2);

  server_->Delay(5, 1500ms);
  auto slow = connector->Get("1");
  ASSERT_FALSE(slow.ok());
  EXPECT_NE(slow.error().message.find("timed out after 0.2s (connectors.shop.timeout)"),
            std::string::npos)
      << slow.error().message;
}

TEST_F(RestConnectorTest, OwnRateLimitHoldsRequestsInASlidingWindow) {
  server_->Insert(R"({"id":"1"})");
  auto connector = Make("rate_limit: {requests: 2, per: 1s}\n", Resource());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(connector->Get("1").ok());
  // Two at t=0, two at t=1s, the fifth at t=2s.
  EXPECT_EQ(Slept(), 2s);
}

// ---- reading ----

TEST_F(RestConnectorTest, ItemsWithoutKeyAreRejectedAndTheScanIsNotComplete) {
  server_->Insert(R"({"id":"1","name":"ok"})");
  server_->Insert(R"({"name":"no key"})");
  server_->Insert(R"(42)");
  server_->Insert(R"({"id":"","name":"empty key"})");
  auto connector = Make("", Resource());
  auto page = connector->Scan("", 10);
  ASSERT_TRUE(page.ok()) << page.error().message;
  EXPECT_EQ(Keys(page->rows), std::vector<std::string>{"1"});
  ASSERT_EQ(page->rejected.size(), 3u);
  EXPECT_EQ(page->rejected[0].where, "GET /customers?limit=10&page=1 item 1");
  EXPECT_EQ(page->rejected[0].reason, "no key at 'id' (external.key_field)");
  EXPECT_EQ(page->rejected[1].reason, "not a JSON object: 42");
  EXPECT_TRUE(page->done);
  EXPECT_FALSE(page->complete);
}

TEST_F(RestConnectorTest, NestedFieldsFlattenAndSoftDeleteFlagIsRead) {
  soft_delete_ = "archived";
  server_->Insert(
      R"({"id":"1","address":{"city":"Oslo"},"tags":["a","b"],"n":3,"archived":true,"x":null})");
  auto connector = Make("", Resource());
  auto rows = ScanAll(*connector, "", 10);
  ASSERT_EQ(rows.size(), 1u);
  const auto& f = rows[0].fields;
  EXPECT_EQ(std::get<std::string>(f.at("address.city")), "Oslo");
  EXPECT_EQ(std::get<mapping::List>(f.at("tags")), (mapping::List{"a", "b"}));
  EXPECT_EQ(std::get<double>(f.at("n")), 3.0);
  EXPECT_TRUE(mapping::IsNull(f.at("x")));
  EXPECT_TRUE(rows[0].deleted);
}

TEST_F(RestConnectorTest, GetOfMissingKeyIsNulloptAndClientErrorsAreFatal) {
  auto connector = Make("", Resource());
  auto missing = connector->Get("nope");
  ASSERT_TRUE(missing.ok()) << missing.error().message;
  EXPECT_FALSE(missing->has_value());
  auto results = connector->Write({Upsert("", {{"email", std::string("not-an-email")}})});
  EXPECT_EQ(results[0].outcome, Outcome::kFatal);
  EXPECT_NE(results[0].message.find(
                "POST /customers answered 422: {\"error\":\"email must be an email address\"}"),
            std::string::npos)
      << results[0].message;
  EXPECT_EQ(connector->stats().requests, 2);
}

TEST_F(RestConnectorTest, IncrementalScanAsksOnlyForItemsUpdatedSince) {
  auto connector =
      Make("", Resource("{type: page}",
                        "  updated_since: {param: updated_since, format: iso8601, overlap: 0s}\n"
                        "updated_field: updated_at\n"));
  for (const char* name : {"a", "b", "c"}) {
    auto r = connector->Write({Upsert("", {{"name", std::string(name)}})});
    ASSERT_EQ(r[0].outcome, Outcome::kOk) << r[0].message;
  }
  ScanPage last;
  auto full = ScanAll(*connector, "", 10, &last);
  EXPECT_EQ(full.size(), 3u);
  EXPECT_TRUE(last.complete);
  EXPECT_EQ(full[2].updated_ms, 1'704'067'203'000);
  ASSERT_FALSE(last.cursor.empty());

  ASSERT_EQ(connector->Write({Upsert("1", {{"name", std::string("a2")}})})[0].outcome,
            Outcome::kOk);
  server_->ClearHits();
  auto changed = ScanAll(*connector, last.cursor, 10, &last);
  // Updated at or after 00:00:03 (the highest seen): item 3 (the boundary) and item 1.
  EXPECT_EQ(Keys(changed), (std::vector<std::string>{"1", "3"}));
  EXPECT_FALSE(last.complete);
  EXPECT_NE(server_->hits()[0].target.find("updated_since=2024-01-01T00%3A00%3A03.000Z"),
            std::string::npos)
      << server_->hits()[0].target;
  // Nothing changed since: only the boundary item comes back.
  auto again = ScanAll(*connector, last.cursor, 10, &last);
  EXPECT_EQ(Keys(again), (std::vector<std::string>{"1"}));
}

TEST_F(RestConnectorTest, OverlapMovesTheFilterBack) {
  auto connector = Make("", Resource("{type: page}",
                                     "  updated_since: {param: updated_since, overlap: 2s}\n"
                                     "updated_field: updated_at\n"));
  for (int i = 0; i < 4; ++i) connector->Write({Upsert("", {{"n", double(i)}})});
  ScanPage last;
  ScanAll(*connector, "", 10, &last);
  auto rows = ScanAll(*connector, last.cursor, 10, &last);
  EXPECT_EQ(Keys(rows), (std::vector<std::string>{"2", "3", "4"}));
}

// ---- writing ----

TEST_F(RestConnectorTest, CreateReturnsTheAssignedKeyAndUpdateDeleteWork) {
  auto connector = Make("", Resource());
  auto created = connector->Write({Upsert("", {{"id", std::monostate{}},
                                               {"name", std::string("Ada")},
                                               {"vip", true},
                                               {"score", 42.0},
                                               {"address.city", std::string("Oslo")},
                                               {"tags", mapping::List{"x"}}})});
  ASSERT_EQ(created[0].outcome, Outcome::kOk) << created[0].message;
  EXPECT_EQ(created[0].key, "1");
  EXPECT_FALSE(created[0].version.empty());
  EXPECT_EQ(server_->hits().back().body,
            R"({"address":{"city":"Oslo"},"name":"Ada","score":42,"tags":["x"],"vip":true})");

  auto updated =
      connector->Write({Upsert("1", {{"id", std::string("1")}, {"name", std::string("Ada L")}})});
  ASSERT_EQ(updated[0].outcome, Outcome::kOk) << updated[0].message;
  EXPECT_EQ(server_->hits().back().method, "PATCH");
  EXPECT_EQ(server_->hits().back().body, R"({"name":"Ada L"})");  // the key is in the path
  EXPECT_NE(server_->Item("1").find(R"("name":"Ada L")"), std::string::npos);
  EXPECT_NE(server_->Item("1").find(R"("vip":true)"), std::string::npos);  // PATCH kept it

  auto deleted = connector->Write(
      {{WriteOp::Kind::kDelete, "1", {}}, {WriteOp::Kind::kDelete, "1", {}}});  // gone: still ok
  EXPECT_EQ(deleted[0].outcome, Outcome::kOk);
  EXPECT_EQ(deleted[1].outcome, Outcome::kOk);
  EXPECT_EQ(server_->size(), 0u);
}

TEST_F(RestConnectorTest, UpsertOfUnknownKeyCreatesItUnderThatKey) {
  auto connector = Make("", Resource("{type: page}", "update: {method: PUT}\n"));
  auto r = connector->Write({Upsert("ext-7", {{"name", std::string("Eve")}})});
  ASSERT_EQ(r[0].outcome, Outcome::kOk) << r[0].message;
  EXPECT_EQ(r[0].key, "ext-7");
  auto hits = server_->hits();
  EXPECT_EQ(hits[hits.size() - 2].method, "PUT");
  EXPECT_EQ(hits.back().method, "POST");
  EXPECT_NE(server_->Item("ext-7").find(R"("name":"Eve")"), std::string::npos);
}

struct VersionCase {
  std::string name;
  std::string extra;  // resource YAML
  bool empty_answers;
};

void PrintTo(const VersionCase& c, std::ostream* os) { *os << c.name; }

class OwnWriteVersionTest : public RestConnectorTest,
                            public ::testing::WithParamInterface<VersionCase> {};

TEST_P(OwnWriteVersionTest, WriteVersionEqualsTheNextScansVersion) {
  JsonApiServer::Options o;
  o.empty_write_answers = GetParam().empty_answers;
  server_ = std::make_unique<JsonApiServer>(o);
  auto connector = Make("", Resource("{type: page}", GetParam().extra));
  auto created = connector->Write({Upsert("", {{"name", std::string("Ada")}})});
  ASSERT_EQ(created[0].outcome, Outcome::kOk) << created[0].message;
  auto updated = connector->Write({Upsert(created[0].key, {{"name", std::string("Ada L")}})});
  ASSERT_EQ(updated[0].outcome, Outcome::kOk) << updated[0].message;
  EXPECT_NE(updated[0].version, created[0].version);
  auto rows = ScanAll(*connector, "", 10);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].version, updated[0].version);
  // Reading again without a change gives the same version.
  EXPECT_EQ(ScanAll(*connector, "", 10)[0].version, rows[0].version);
}

INSTANTIATE_TEST_SUITE_P(
    Versions, OwnWriteVersionTest,
    ::testing::Values(VersionCase{"ContentHash", "", false},
                      VersionCase{"UpdatedField", "updated_field: updated_at\n", false},
                      VersionCase{"ContentHashReadBack", "", true},
                      VersionCase{"UpdatedFieldReadBack", "updated_field: updated_at\n", true}),
    [](const auto& info) { return info.param.name; });

// With coarse timestamps an outside edit can carry the very updated_at of the daemon's own
// write. The version must still differ (it hashes the content too), or the engine would take
// the edit for its own write's echo and lose it; the incremental cursor still follows
// updated_at alone.
TEST_F(RestConnectorTest, AnEditInTheSecondOfOurOwnWriteGetsANewVersion) {
  JsonApiServer::Options o;
  o.clock_step_ms = 0;  // every write is stamped 2024-01-01T00:00:00.000Z
  server_ = std::make_unique<JsonApiServer>(o);
  const std::string resource = Resource("{type: page}",
                                        "  updated_since: {param: updated_since, overlap: 0s}\n"
                                        "updated_field: updated_at\n");
  auto connector = Make("", resource);
  auto ours = connector->Write({Upsert("", {{"name", std::string("Ada")}})});
  ASSERT_EQ(ours[0].outcome, Outcome::kOk) << ours[0].message;
  ScanPage last;
  auto rows = ScanAll(*connector, "", 10, &last);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].version, ours[0].version) << "our own write, recognised";
  const std::string stamped = server_->Now();

  // Another client changes the item within the same second.
  auto other = Make("", resource);
  ASSERT_EQ(other->Write({Upsert(ours[0].key, {{"name", std::string("Eve")}})})[0].outcome,
            Outcome::kOk);
  ASSERT_EQ(server_->Now(), stamped);
  ASSERT_NE(server_->Item(ours[0].key).find(R"("updated_at":")" + stamped), std::string::npos);

  server_->ClearHits();
  auto changed = ScanAll(*connector, last.cursor, 10, &last);
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0].fields.at("name"), mapping::Value(std::string("Eve")));
  EXPECT_NE(changed[0].version, ours[0].version) << "an outside edit, not our write's echo";
  EXPECT_EQ(changed[0].version.rfind(stamped + "|", 0), 0u) << changed[0].version;
  // The scan asked for what changed since the time, not since the version.
  EXPECT_NE(server_->hits()[0].target.find("updated_since=2024-01-01T00%3A00%3A00.000Z"),
            std::string::npos)
      << server_->hits()[0].target;
  // Read again without a change: the same version.
  EXPECT_EQ(ScanAll(*connector, last.cursor, 10)[0].version, changed[0].version);
  EXPECT_EQ(connector->Get(ours[0].key).value()->version, changed[0].version);
}

// ---- creates whose answer is lost ----

// How the answer to a create is lost after the API carried it out.
enum class Lost { kReset, kServerError, kTimeout };
// How the connector makes the create idempotent.
enum class Guard { kMatch, kIdempotencyHeader };

struct LostCase {
  Lost lost;
  Guard guard;
};

std::string LostName(const LostCase& c) {
  static const char* lost[] = {"Reset", "ServerError", "Timeout"};
  return std::string(lost[static_cast<int>(c.lost)]) +
         (c.guard == Guard::kMatch ? "FoundByMatch" : "DeduplicatedByIdempotencyKey");
}
void PrintTo(const LostCase& c, std::ostream* os) { *os << LostName(c); }

class LostCreateAnswerTest : public RestConnectorTest,
                             public ::testing::WithParamInterface<LostCase> {
 protected:
  void SetUp() override {
    JsonApiServer::Options o;
    if (GetParam().guard == Guard::kIdempotencyHeader) o.idempotency_header = "Idempotency-Key";
    server_ = std::make_unique<JsonApiServer>(o);
  }
  // Loses the answer to the next create (the API has carried it out).
  void LoseNextCreate() {
    switch (GetParam().lost) {
      case Lost::kReset:
        server_->LoseAnswers(1, JsonApiServer::Loss::kReset, "POST");
        break;
      case Lost::kServerError:
        server_->LoseAnswers(1, JsonApiServer::Loss::kServerError, "POST");
        break;
      case Lost::kTimeout:
        server_->Delay(1, 1500ms);  // past the 300 ms timeout
        break;
    }
  }
};

// The engine's sequence for a create job: Write; its answer is lost (kRetry); the next
// attempt asks FindCreated first and, when it finds the item, records it (here: updates
// it, as the dispatcher writes a found create as an update) instead of creating again.
// Before the fix the session sent the POST again by itself: two items.
TEST_P(LostCreateAnswerTest, ExactlyOneItemAndItsKeyIsFound) {
  const bool header = GetParam().guard == Guard::kIdempotencyHeader;
  auto connector =
      Make(std::string("timeout: 300ms\nretry: {max_attempts: 4, base_delay: 10ms}\n") +
               (header ? "idempotency_header: Idempotency-Key\n" : ""),
           Resource("{type: page}", header ? "" : "create: {match: email}\n"));
  WriteOp create =
      Upsert("", {{"email", std::string("ada@example.com")}, {"name", std::string("Ada")}});
  create.idempotency_key = "job-17-7f3a";
  LoseNextCreate();
  auto first = connector->Write({create});
  EXPECT_EQ(server_->size(), 1u) << "the create was sent again after its answer was lost";
  EXPECT_EQ(server_->creates(), 1);

  std::string key;
  if (header) {
    // Sent again within the call with the same key: the API answered the first create.
    ASSERT_EQ(first[0].outcome, Outcome::kOk) << first[0].message;
    key = first[0].key;
    for (const auto& hit : server_->hits()) {
      if (hit.method == "POST") {
        EXPECT_EQ(hit.headers.at("idempotency-key"), "job-17-7f3a");
      }
    }
    // A later attempt of the same job (a stop with the call in flight) is deduplicated too.
    EXPECT_EQ(connector->FindCreated(create).key, "") << "nothing to look up";
    auto again = connector->Write({create});
    ASSERT_EQ(again[0].outcome, Outcome::kOk) << again[0].message;
    EXPECT_EQ(again[0].key, key);
  } else {
    ASSERT_EQ(first[0].outcome, Outcome::kRetry) << first[0].message;
    EXPECT_EQ(connector->stats().not_resent, 1);
    int posts = 0;
    for (const auto& hit : server_->hits()) posts += hit.method == "POST";
    EXPECT_EQ(posts, 1);
    auto found = connector->FindCreated(create);
    ASSERT_EQ(found.outcome, Outcome::kOk) << found.message;
    key = found.key;
    EXPECT_EQ(server_->hits().back().target,
              "/api/customers?email=ada%40example.com&limit=100&page=1");
    EXPECT_EQ(found.version, connector->Get(key).value()->version);
    create.key = key;
    auto recorded = connector->Write({create});
    ASSERT_EQ(recorded[0].outcome, Outcome::kOk) << recorded[0].message;
  }
  EXPECT_EQ(key, "1");
  EXPECT_EQ(server_->size(), 1u);
  EXPECT_NE(server_->Item("1").find(R"("email":"ada@example.com")"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Losses, LostCreateAnswerTest,
                         ::testing::Values(LostCase{Lost::kReset, Guard::kMatch},
                                           LostCase{Lost::kServerError, Guard::kMatch},
                                           LostCase{Lost::kTimeout, Guard::kMatch},
                                           LostCase{Lost::kReset, Guard::kIdempotencyHeader},
                                           LostCase{Lost::kServerError, Guard::kIdempotencyHeader},
                                           LostCase{Lost::kTimeout, Guard::kIdempotencyHeader}),
                         [](const auto& info) { return LostName(info.param); });

TEST_F(RestConnectorTest, ACreateThatCannotHaveArrivedIsRetriedWithinTheCall) {
  {
    JsonApiServer gone;  // a port nothing listens on once it is destroyed
    base_url_ = gone.url();
  }
  auto connector = Make("retry: {max_attempts: 3, base_delay: 10ms}\n", Resource());
  auto results = connector->Write({Upsert("", {{"email", std::string("ada@example.com")}})});
  EXPECT_EQ(results[0].outcome, Outcome::kRetry);
  EXPECT_EQ(connector->stats().requests, 3) << results[0].message;  // refused: nothing was sent
  EXPECT_EQ(connector->stats().not_resent, 0);
}

TEST_F(RestConnectorTest, ACreateRefusedWithTooManyRequestsIsRetriedWithinTheCall) {
  auto connector = Make("", Resource());
  server_->Fail(1, 429, "1");
  auto results = connector->Write({Upsert("", {{"email", std::string("ada@example.com")}})});
  ASSERT_EQ(results[0].outcome, Outcome::kOk) << results[0].message;
  EXPECT_EQ(server_->size(), 1u);
}

TEST_F(RestConnectorTest, FindCreatedComparesTheValueItselfAcrossPages) {
  // An API that ignores the filter parameter answers every item, a page at a time.
  for (int i = 1; i <= 5; ++i) {
    server_->Insert(R"({"id":"c)" + std::to_string(i) + R"(","email":"p)" + std::to_string(i) +
                    R"(@example.com"})");
  }
  auto connector = Make(
      "", Resource("{type: page, page_size: 2}", "create: {match: email, match_param: mail}\n"));
  WriteOp op = Upsert("", {{"email", std::string("P5@Example.com")}});
  auto found = connector->FindCreated(op);
  ASSERT_EQ(found.outcome, Outcome::kOk) << found.message;
  EXPECT_EQ(found.key, "c5");  // on the third page, compared without regard to case
  EXPECT_EQ(server_->hits()[0].target, "/api/customers?mail=P5%40Example.com&limit=2&page=1");
  EXPECT_EQ(connector->FindCreated(Upsert("", {{"email", std::string("x@example.com")}})).key, "");

  // Two items with the value: which one the create made cannot be told.
  server_->Insert(R"({"id":"c6","email":"p5@example.com"})");
  auto two = connector->FindCreated(op);
  EXPECT_EQ(two.outcome, Outcome::kFatal);
  EXPECT_NE(two.message.find("2 items of rest:"), std::string::npos) << two.message;
  EXPECT_NE(two.message.find("(c5, c6)"), std::string::npos) << two.message;

  // A create that writes no email cannot be looked up: a person must look.
  auto none = connector->FindCreated(Upsert("", {{"name", std::string("Ada")}}));
  EXPECT_EQ(none.outcome, Outcome::kFatal);
  EXPECT_NE(none.message.find("writes no 'email' (external.create.match)"), std::string::npos)
      << none.message;
  // The API unreachable: try again later.
  server_->Fail(100, 503);
  EXPECT_EQ(connector->FindCreated(op).outcome, Outcome::kRetry);
}

TEST_F(RestConnectorTest, CreatesThatCannotBeMadeIdempotentAreRefused) {
  config::Diagnostics errors;
  EXPECT_EQ(Make("", Resource("{type: page}", "create: {method: POST}\n"), &errors), nullptr);
  const std::string all = config::Join(errors);
  EXPECT_NE(all.find("mappings/customers.yaml:6:9: external.create: creates are not idempotent"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("connectors.shop.idempotency_header"), std::string::npos) << all;
  EXPECT_NE(Make("idempotency_header: Idempotency-Key\n", Resource()), nullptr);
  EXPECT_NE(Make("", Resource("{type: page}", "create: {allow_duplicates: true}\n")), nullptr);
  EXPECT_NE(Make("", Resource("{type: page}", "create: {match: email}\n")), nullptr);
}

// ---- health, describe, configuration ----

TEST_F(RestConnectorTest, HealthChecksTheItemsPathAndDescribeHasNoSecret) {
  auto good = Make("auth: {type: bearer, token: s3cret}\n", Resource());
  EXPECT_TRUE(good->Health().ok());
  EXPECT_EQ(good->Describe(), "rest:" + server_->url() + "/customers");
  auto wrong = Make("", "list: {path: /customers, items: results}\n");
  auto health = wrong->Health();
  ASSERT_FALSE(health.ok());
  EXPECT_NE(health.error().message.find("check external.list.items"), std::string::npos)
      << health.error().message;
}

TEST_F(RestConnectorTest, BadCursorIsAnError) {
  auto connector = Make("", Resource());
  auto page = connector->Scan("not a cursor", 10);
  ASSERT_FALSE(page.ok());
  EXPECT_NE(page.error().message.find("was not written by this connector"), std::string::npos);
}

TEST_F(RestConnectorTest, BadConfigurationIsRejectedWithEveryProblemAndItsPlace) {
  config::Diagnostics errors;
  auto connector = Make(
      "auth: {type: bearer}\n"
      "timout: 5s\n"
      "retry: {base_delay: 10s, max_delay: 1s}\n",
      "list:\n"
      "  path: customers\n"
      "  pagination: {type: cursor}\n"
      "  updated_since: {param: since}\n"
      "get: {path: /customers/one}\n",
      &errors);
  EXPECT_EQ(connector, nullptr);
  const std::string all = config::Join(errors);
  for (const char* want : {
           "ghl-syncd.yaml:3:7: connectors.shop.auth: auth type 'bearer' needs 'token' (or "
           "'token_file')",
           "ghl-syncd.yaml:4:1: connectors.shop.timout: unknown key 'timout'; did you mean "
           "'timeout'?",
           "connectors.shop.retry: base_delay is longer than max_delay",
           "external.list.pagination: pagination type 'cursor' needs 'cursor_path'",
           "external: list.updated_since needs updated_field",
           "external: get.path '/customers/one' has no {key}",
           "external: list.path must start with '/'",
       }) {
    EXPECT_NE(all.find(want), std::string::npos) << "missing: " << want << "\nin:\n" << all;
  }
}

TEST(RestReference, ListsEveryOptionOfBothBlocks) {
  const std::string md = ReferenceMarkdown();
  for (const char* key :
       {"`base_url`", "`auth.token` / `auth.token_file`", "`rate_limit.per`",
        "`retry.max_attempts`", "`headers`", "`list.pagination.cursor_path`",
        "`list.updated_since.overlap`", "`key_field`", "`delete.method`", "`idempotency_header`",
        "`create.match`", "`create.match_param`", "`create.allow_duplicates`"}) {
    EXPECT_NE(md.find(key), std::string::npos) << key;
  }
}

// ---- pure parts ----

TEST(RestSince, TimesParseAndFormat) {
  struct Case {
    std::string text, format;
    std::optional<int64_t> ms;
  } cases[] = {
      {"2024-01-01T00:00:03.000Z", "iso8601", 1'704'067'203'000},
      {"2024-01-01T00:00:03Z", "iso8601", 1'704'067'203'000},
      {"2024-01-01 01:00:03.5+01:00", "iso8601", 1'704'067'203'500},
      {"2023-12-31T19:00:03-0500", "iso8601", 1'704'067'203'000},
      {"2024-02-30T00:00:00Z", "iso8601", std::nullopt},
      {"2024-01-01T00:00:03Zjunk", "iso8601", std::nullopt},
      {"1704067203", "unix", 1'704'067'203'000},
      {"1704067203.25", "unix", 1'704'067'203'250},
      {"1704067203000", "unix_ms", 1'704'067'203'000},
      {"abc", "unix", std::nullopt},
      {"5", "raw", std::nullopt},
  };
  for (const auto& c : cases) EXPECT_EQ(ParseTime(c.text, c.format), c.ms) << c.text;
  EXPECT_EQ(FormatTime(1'704'067'203'045, "iso8601"), "2024-01-01T00:00:03.045Z");
  EXPECT_EQ(FormatTime(1'704'067'203'999, "unix"), "1704067203");
  EXPECT_EQ(Later("2024-01-01T00:00:03Z", "2023-12-31T23:59:59+00:00", "iso8601"),
            "2024-01-01T00:00:03Z");
  EXPECT_EQ(Later("9", "10", "raw"), "10");
  EXPECT_EQ(Later("", "b", "raw"), "b");
  UpdatedSinceOptions since;
  since.overlap = 1500ms;
  EXPECT_EQ(SinceValue("2024-01-01T00:00:03Z", since), "2024-01-01T00:00:01.500Z");
  EXPECT_EQ(UpdatedMs("1704067203000", ""), 1'704'067'203'000);
  EXPECT_EQ(UpdatedMs("1704067203", ""), 1'704'067'203'000);
}

TEST(RestPagination, LinkHeaderNext) {
  struct Case {
    std::string header;
    std::optional<std::string> next;
  } cases[] = {
      {R"(<https://a/x?page=2>; rel="next")", "https://a/x?page=2"},
      {R"(<https://a/x?page=1>; rel="prev", <https://a/x?page=3>; rel="next")",
       "https://a/x?page=3"},
      {R"(<https://a/x?a=1,2>; rel="last next")", "https://a/x?a=1,2"},
      {R"(<https://a/x?page=9>; REL=next)", "https://a/x?page=9"},
      {R"(<https://a/x?page=9>; rel="last")", std::nullopt},
      {"", std::nullopt},
  };
  for (const auto& c : cases) EXPECT_EQ(LinkNext(c.header), c.next) << c.header;
}

TEST(RestJson, ContentHashIgnoresMemberOrderAndBodyKeepsTypes) {
  rapidjson::Document a, b, c;
  a.Parse(R"({"x":1,"y":{"b":true,"a":"s"}})");
  b.Parse(R"({"y":{"a":"s","b":true},"x":1})");
  c.Parse(R"({"y":{"a":"s","b":false},"x":1})");
  EXPECT_EQ(ContentHash(a), ContentHash(b));
  EXPECT_NE(ContentHash(a), ContentHash(c));
  EXPECT_EQ(ContentHash(a).size(), 32u);
  EXPECT_EQ(Body({{"a", std::monostate{}}, {"n", 1.5}, {"q", std::string("\"quoted\"\n")}}),
            R"({"a":null,"n":1.5,"q":"\"quoted\"\n"})");
}

}  // namespace
}  // namespace ghl::connectors::rest
