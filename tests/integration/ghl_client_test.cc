// GhlClient against a real ghl-emulator with its strict limits on.
#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <boost/asio/io_context.hpp>

#include "connectors/ghl/client.h"
#include "tests/support/emulator_process.h"

namespace ghl::ghl_client {
namespace {

using namespace std::chrono_literals;
using testing::EmulatorProcess;
using testing::Json;

class ClientTest : public ::testing::Test {
 protected:
  // The emulator allows `burst` per `interval_ms`; the client is told the same.
  void Start(int burst, int interval_ms, std::vector<std::string> extra = {},
             RateLimiterOptions limits = {}) {
    std::vector<std::string> args = {"--rate-burst",       std::to_string(burst),
                                     "--rate-interval-ms", std::to_string(interval_ms),
                                     "--search-lag-ms",    "0"};
    args.insert(args.end(), extra.begin(), extra.end());
    emu_ = std::make_unique<EmulatorProcess>(args);
    ASSERT_TRUE(emu_->ok()) << emu_->startup_error();
    if (limits.burst == RateLimiterOptions{}.burst) {
      limits.burst = burst;
      limits.interval = std::chrono::milliseconds(interval_ms);
    }
    ClientOptions o;
    o.base_url = emu_->base_url();
    o.timeout = 2s;
    o.limits = limits;
    o.max_429_jitter = 50ms;
    client_ = std::make_unique<GhlClient>(io_, curl_, clock_, o, &registry_);
    client_->AddLocation(emu_->location_id(), std::make_shared<StaticToken>(emu_->token()));
  }

  ApiRequest ListContacts() const {
    return {"contacts.list", "GET", "/contacts/?locationId=" + emu_->location_id(), "",
            Family::kDefault};
  }

  // Runs the loop until `count` results arrived or `limit` passed.
  void RunUntil(const std::vector<ApiResult>& results, size_t count, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (results.size() < count && std::chrono::steady_clock::now() < deadline) {
      io_.run_for(20ms);
      io_.restart();
    }
  }

  int Count429() {
    auto log = Json(emu_->Admin("GET", "/requests").body);
    int n = 0;
    for (const auto& e : log["requests"].GetArray()) n += e["status"].GetInt() == 429;
    return n;
  }

  boost::asio::io_context io_;
  CurlMulti curl_{io_, {}};
  SystemClock clock_;
  prometheus::Registry registry_;
  std::unique_ptr<EmulatorProcess> emu_;
  std::unique_ptr<GhlClient> client_;
};

TEST_F(ClientTest, SustainedLoadStaysInsideEveryServerWindowWithNo429) {
  Start(10, 1000);
  std::vector<ApiResult> results;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 45; ++i) {
    client_->Call(emu_->location_id(), Lane::kRealtime, ListContacts(),
                  [&](ApiResult r) { results.push_back(std::move(r)); });
  }
  RunUntil(results, 45, 30s);
  ASSERT_EQ(results.size(), 45u);
  for (const auto& r : results) EXPECT_EQ(r.outcome, Outcome::kOk) << r.status << " " << r.message;
  EXPECT_EQ(Count429(), 0);
  EXPECT_LE(Json(emu_->Admin("GET", "/requests/max-window").body)["max"].GetInt(), 10);
  // 9 per 1.1 s window (margins): 45 calls need at least four more windows.
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 4s);

  const std::string text = prometheus::TextSerializer().Serialize(registry_.Collect());
  EXPECT_NE(text.find(R"(ghl_syncd_api_requests_total{operation="contacts.list",status="200"} 45)"),
            std::string::npos)
      << text;
}

TEST_F(ClientTest, RealtimeOvertakesQueuedBackfill) {
  Start(5, 1000);
  std::vector<ApiResult> results;
  std::vector<std::string> order;
  for (int i = 0; i < 20; ++i) {
    client_->Call(emu_->location_id(), Lane::kBackfill, ListContacts(), [&](ApiResult r) {
      order.push_back("backfill");
      results.push_back(std::move(r));
    });
  }
  io_.run_for(100ms);
  io_.restart();
  for (int i = 0; i < 4; ++i) {
    client_->Call(emu_->location_id(), Lane::kRealtime, ListContacts(), [&](ApiResult r) {
      order.push_back("realtime");
      results.push_back(std::move(r));
    });
  }
  RunUntil(results, 24, 30s);
  ASSERT_EQ(results.size(), 24u);
  const auto last_realtime = std::find(order.rbegin(), order.rend(), "realtime");
  const auto position = order.rend() - last_realtime;  // 1-based index of the last one
  EXPECT_LE(position, 12) << "the four real-time calls went in the next window or two";
}

TEST_F(ClientTest, A429StormIsAbsorbedByBackingOffAndAdoptingTheServersLimits) {
  // The client believes the default 100 per 10 s; the server allows 5 per second.
  Start(5, 1000, {}, RateLimiterOptions{});
  std::vector<ApiResult> results;
  for (int i = 0; i < 25; ++i) {
    client_->Call(emu_->location_id(), Lane::kRealtime, ListContacts(),
                  [&](ApiResult r) { results.push_back(std::move(r)); });
  }
  RunUntil(results, 25, 60s);
  ASSERT_EQ(results.size(), 25u);
  for (const auto& r : results) EXPECT_EQ(r.outcome, Outcome::kOk) << r.status << " " << r.message;
  // The first answers say X-RateLimit-Max: 5; after that the client paces itself.
  EXPECT_LE(Count429(), 8);
}

TEST_F(ClientTest, ErrorsAreClassifiedForTheDispatcher) {
  Start(100, 10'000, {"--no-rate-limit"});
  std::vector<ApiResult> results;
  auto call = [&](ApiRequest req) {
    client_->Call(emu_->location_id(), Lane::kRealtime, std::move(req),
                  [&](ApiResult r) { results.push_back(std::move(r)); });
    RunUntil(results, results.size() + 1, 10s);
    return results.back();
  };
  auto bad = call({"contacts.create", "POST", "/contacts/",
                   R"({"locationId":")" + emu_->location_id() + R"(","shoeSize":42})"});
  EXPECT_EQ(bad.outcome, Outcome::kFatal);
  EXPECT_EQ(bad.error, ErrorClass::kPermanent);
  EXPECT_EQ(bad.status, 422);
  EXPECT_EQ(bad.message, "property shoeSize should not exist");
  EXPECT_NE(bad.body.find("Unprocessable Entity"), std::string::npos) << "body kept for the DLQ";

  auto upsert =
      call({"contacts.upsert", "POST", "/contacts/upsert",
            R"({"locationId":")" + emu_->location_id() + R"(","email":"t@example.com"})"});
  EXPECT_EQ(upsert.outcome, Outcome::kOk);
  EXPECT_FALSE(upsert.trace_id.empty()) << "traceId kept";

  ASSERT_EQ(emu_->Admin("PUT", "/faults", R"({"errorRate":1})").status, 200);
  auto server = call(ListContacts());
  EXPECT_EQ(server.outcome, Outcome::kRetry);
  EXPECT_EQ(server.error, ErrorClass::kServer);

  ASSERT_EQ(emu_->Admin("PUT", "/faults", R"({"timeoutRate":1,"timeoutMs":5000})").status, 200);
  auto timeout = call(ListContacts());
  EXPECT_EQ(timeout.outcome, Outcome::kRetry);
  EXPECT_EQ(timeout.error, ErrorClass::kTransport);
  EXPECT_FALSE(timeout.message.empty());

  ASSERT_EQ(emu_->Admin("PUT", "/faults", R"({"resetRate":1})").status, 200);
  EXPECT_EQ(call(ListContacts()).error, ErrorClass::kTransport);
}

TEST_F(ClientTest, UnreadableAnswersAreRetriedNotTakenForSuccess) {
  Start(100, 10'000, {"--no-rate-limit"});
  std::vector<ApiResult> results;
  auto call = [&] {
    client_->Call(emu_->location_id(), Lane::kRealtime, ListContacts(),
                  [&](ApiResult r) { results.push_back(std::move(r)); });
    RunUntil(results, results.size() + 1, 20s);
    return results.back();
  };
  for (const char* fault : {"malformed", "truncated", "html", "huge"}) {
    ASSERT_EQ(emu_->Admin("PUT", "/faults",
                          std::string(R"({"bodyFaultRate":1,"bodyFault":")") + fault + R"("})")
                  .status,
              200);
    const ApiResult r = call();
    EXPECT_EQ(r.outcome, Outcome::kRetry) << fault << ": " << r.message;
    EXPECT_EQ(r.error, ErrorClass::kServer) << fault;
    EXPECT_FALSE(r.message.empty()) << fault;
  }
  EXPECT_NE(results[2].message.find("text/html"), std::string::npos) << results[2].message;
  EXPECT_NE(results[3].message.find("larger than"), std::string::npos) << results[3].message;
  ASSERT_EQ(emu_->Admin("PUT", "/faults", "{}").status, 200);
  EXPECT_EQ(call().outcome, Outcome::kOk) << "and the client goes on";
}

TEST_F(ClientTest, TheGlobalInFlightCapHoldsAcrossLocationsAndStarvesNone) {
  Start(5, 1000);
  ClientOptions o;
  o.base_url = emu_->base_url();
  o.limits = {.burst = 5, .interval = 1000ms};
  o.max_in_flight_per_location = 4;
  o.max_in_flight_total = 3;
  GhlClient capped(io_, curl_, clock_, o);
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) {
    auto loc = Json(emu_->Admin("POST", "/locations", R"({"name":"cap"})").body);
    ids.emplace_back(loc["location"]["id"].GetString());
    capped.AddLocation(ids.back(),
                       std::make_shared<StaticToken>(loc["location"]["token"].GetString()));
  }
  std::vector<ApiResult> results;
  int peak = 0;
  std::map<std::string, int> done;
  for (const auto& id : ids) {
    for (int i = 0; i < 4; ++i) {
      capped.Call(id, Lane::kRealtime,
                  {"contacts.list", "GET", "/contacts/?locationId=" + id + "&limit=1"},
                  [&, id](ApiResult r) {
                    int now = 0;
                    for (const auto& other : ids) now += capped.Status(other).in_flight;
                    peak = std::max(peak, now + 1);  // + the call that just finished
                    ++done[id];
                    results.push_back(std::move(r));
                  });
    }
  }
  RunUntil(results, 24, 30s);
  ASSERT_EQ(results.size(), 24u);
  for (const auto& r : results) EXPECT_EQ(r.outcome, Outcome::kOk) << r.status << " " << r.message;
  EXPECT_LE(peak, 3) << "never more than max_in_flight_total on the wire";
  for (const auto& id : ids) EXPECT_EQ(done[id], 4) << "every location was served";
}

// A token that is rejected until it is refreshed.
class RefreshingToken final : public TokenSource {
 public:
  RefreshingToken(std::string bad, std::string good) : current_(std::move(bad)), good_(good) {}
  std::string Token() const override { return current_; }
  void Refresh(std::function<void(bool)> done) override {
    ++refreshes;
    current_ = good_;
    done(true);
  }
  int refreshes = 0;

 private:
  std::string current_, good_;
};

TEST_F(ClientTest, A401RefreshesOnceThenRetries) {
  Start(100, 10'000, {"--no-rate-limit"});
  auto token = std::make_shared<RefreshingToken>("expired-token", emu_->token());
  client_->Resume(emu_->location_id(), token);
  std::vector<ApiResult> results;
  client_->Call(emu_->location_id(), Lane::kRealtime, ListContacts(),
                [&](ApiResult r) { results.push_back(std::move(r)); });
  RunUntil(results, 1, 10s);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, Outcome::kOk);
  EXPECT_EQ(results[0].attempts, 2);
  EXPECT_EQ(token->refreshes, 1);
}

TEST_F(ClientTest, AuthFailurePausesOnlyThatLocation) {
  Start(100, 10'000, {"--no-rate-limit"});
  auto other = Json(emu_->Admin("POST", "/locations", R"({"name":"other"})").body);
  const std::string other_id = other["location"]["id"].GetString();
  client_->AddLocation(other_id,
                       std::make_shared<StaticToken>(other["location"]["token"].GetString()));
  ASSERT_EQ(emu_->Admin("PUT", "/faults", R"({"unauthorizedTokens":[")" + emu_->token() + R"("]})")
                .status,
            200);
  std::vector<ApiResult> results;
  client_->Call(emu_->location_id(), Lane::kRealtime, ListContacts(),
                [&](ApiResult r) { results.push_back(std::move(r)); });
  RunUntil(results, 1, 10s);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, Outcome::kRetry) << "kept for later, not dropped";
  EXPECT_TRUE(client_->Status(emu_->location_id()).paused);

  client_->Call(other_id, Lane::kRealtime,
                {"contacts.list", "GET", "/contacts/?locationId=" + other_id},
                [&](ApiResult r) { results.push_back(std::move(r)); });
  RunUntil(results, 2, 10s);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[1].outcome, Outcome::kOk) << "the other location goes on";

  client_->Call(emu_->location_id(), Lane::kRealtime, ListContacts(),
                [&](ApiResult r) { results.push_back(std::move(r)); });
  ASSERT_EQ(results.size(), 3u) << "a paused location answers at once";
  EXPECT_EQ(results[2].error, ErrorClass::kPaused);

  ASSERT_EQ(emu_->Admin("PUT", "/faults", "{}").status, 200);
  client_->Resume(emu_->location_id());
  client_->Call(emu_->location_id(), Lane::kRealtime, ListContacts(),
                [&](ApiResult r) { results.push_back(std::move(r)); });
  RunUntil(results, 4, 10s);
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[3].outcome, Outcome::kOk);
}

}  // namespace
}  // namespace ghl::ghl_client
