// ghl-emulator webhook delivery, end to end over loopback HTTP: payloads and envelope,
// both signatures against the published keys, 429-only retries, faults, and --keys-dir.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <csignal>
#include <ctime>
#include <regex>
#include <set>
#include <thread>

#include "tests/support/emulator_process.h"
#include "tests/support/signature_check.h"
#include "tests/support/webhook_receiver.h"

namespace ghl {
namespace {

using namespace std::chrono_literals;
using testing::EmulatorProcess;
using testing::Json;
using testing::VerifySignature;
using testing::WebhookReceiver;
using Hits = std::vector<WebhookReceiver::Hit>;

// Seconds since the epoch of an ISO 8601 UTC time such as 2025-01-28T14:35:00.123Z.
std::optional<int64_t> ParseUtc(const std::string& s) {
  if (!std::regex_match(s, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?Z)"))) {
    return std::nullopt;
  }
  std::tm tm{};
  std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
              &tm.tm_hour, &tm.tm_min, &tm.tm_sec);
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm));
}

std::string Field(const rapidjson::Value& doc, const char* key) {
  return doc.IsObject() && doc.HasMember(key) && doc[key].IsString() ? doc[key].GetString() : "";
}

std::vector<std::string> Types(const Hits& hits) {
  std::vector<std::string> out;
  for (const auto& h : hits) out.push_back(Field(Json(h.body), "type"));
  return out;
}

// Creates a contact with `fields` (JSON members) and returns its id.
std::string CreateContactIn(EmulatorProcess& emu, const std::string& fields) {
  auto r = emu.Api("POST", "/contacts/",
                   R"({"locationId":")" + emu.location_id() + "\"," + fields + "}");
  EXPECT_EQ(r.status, 201) << r.body;
  auto d = Json(r.body);
  return d.HasMember("contact") ? d["contact"]["id"].GetString() : "";
}

class EmulatorWebhooks : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    emu_ = new EmulatorProcess({"--search-lag-ms", "0", "--no-rate-limit", "--seed", "42"});
  }
  static void TearDownTestSuite() { delete emu_; }
  void SetUp() override { ASSERT_TRUE(emu_->ok()) << emu_->startup_error(); }
  void TearDown() override {
    emu_->Admin("PUT", "/faults", "{}");
    Configure(*emu_, "[]");
  }

  // Points the emulator's webhooks at `urls_json` with the given retry schedule.
  static void Configure(EmulatorProcess& emu, const std::string& urls_json,
                        const std::string& retry_json = "[50,50]", int timeout_ms = 5000) {
    auto r = emu.Admin("PUT", "/webhooks/config",
                       R"({"urls":)" + urls_json + R"(,"retryScheduleMs":)" + retry_json +
                           R"(,"timeoutMs":)" + std::to_string(timeout_ms) + "}");
    ASSERT_EQ(r.status, 200) << r.body;
  }
  static void PointAt(const WebhookReceiver& r, const std::string& retry_json = "[50,50]") {
    Configure(*emu_, "[\"" + r.url() + "\"]", retry_json);
  }
  static void SetFaults(const std::string& faults_json) {
    auto r = emu_->Admin("PUT", "/faults", faults_json);
    ASSERT_EQ(r.status, 200) << r.body;
  }

  static std::string CreateContact(const std::string& fields) {
    return CreateContactIn(*emu_, fields);
  }

  // The recorded attempts matching `query`, oldest first, once there are at least `n`
  // (an attempt is recorded after the receiver's answer reaches the emulator).
  static rapidjson::Document Deliveries(const std::string& query, size_t n = 0) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (true) {
      auto r = emu_->Admin("GET", "/webhooks/deliveries?" + query);
      EXPECT_EQ(r.status, 200) << r.body;
      auto d = Json(r.body);
      if (d["deliveries"].Size() >= n || std::chrono::steady_clock::now() > deadline) return d;
      std::this_thread::sleep_for(10ms);
    }
  }

  static EmulatorProcess* emu_;
};
EmulatorProcess* EmulatorWebhooks::emu_ = nullptr;

TEST_F(EmulatorWebhooks, ContactLifecyclePostsDocumentedPayloadsWithEnvelope) {
  WebhookReceiver receiver;
  PointAt(receiver);
  const std::string id = CreateContact(
      R"("firstName":"Ada","lastName":"Lovelace","email":"ada@example.com","tags":["vip"])");
  ASSERT_EQ(emu_->Api("PUT", "/contacts/" + id, R"({"lastName":"King"})").status, 200);
  ASSERT_EQ(emu_->Api("DELETE", "/contacts/" + id).status, 200);

  const Hits hits = receiver.WaitFor(3, 5s);
  ASSERT_EQ(Types(hits),
            (std::vector<std::string>{"ContactCreate", "ContactUpdate", "ContactDelete"}));
  std::set<std::string> ids;
  const int64_t now = std::time(nullptr);
  for (const auto& hit : hits) {
    EXPECT_EQ(hit.method, "POST");
    EXPECT_EQ(hit.target, "/hooks");
    EXPECT_EQ(hit.Header("content-type"), "application/json");
    auto body = Json(hit.body);
    ASSERT_TRUE(body.IsObject()) << hit.body;
    EXPECT_EQ(Field(body, "locationId"), emu_->location_id());
    EXPECT_EQ(Field(body, "id"), id);
    EXPECT_EQ(Field(body, "firstName"), "Ada");
    EXPECT_EQ(Field(body, "email"), "ada@example.com");
    EXPECT_FALSE(Field(body, "dateAdded").empty());
    EXPECT_TRUE(body["tags"].IsArray());
    EXPECT_TRUE(body["customFields"].IsArray());
    EXPECT_FALSE(body.HasMember("dateUpdated")) << "contact payloads carry no dateUpdated";
    EXPECT_FALSE(body.HasMember("data")) << "the payload is flat";
    const auto ts = ParseUtc(Field(body, "timestamp"));
    ASSERT_TRUE(ts.has_value()) << Field(body, "timestamp");
    EXPECT_LE(std::abs(*ts - now), 60);
    EXPECT_FALSE(Field(body, "webhookId").empty());
    ids.insert(Field(body, "webhookId"));
  }
  EXPECT_EQ(ids.size(), 3u) << "every event has its own webhookId";
  EXPECT_EQ(Field(Json(hits[1].body), "lastName"), "King");

  auto del = Deliveries("url=" + receiver.url(), 3);
  ASSERT_EQ(del["deliveries"].Size(), 3u);
  for (const auto& d : del["deliveries"].GetArray()) {
    EXPECT_EQ(d["status"].GetInt(), 200);
    EXPECT_EQ(d["attempt"].GetInt(), 1);
    EXPECT_STREQ(d["outcome"].GetString(), "delivered");
    EXPECT_TRUE(ids.count(d["webhookId"].GetString()));
  }
}

TEST_F(EmulatorWebhooks, SignaturesVerifyWithPublishedKeysOnly) {
  auto info = Json(emu_->Admin("GET", "/info").body);
  const std::string ed_pem = Field(info["webhookPublicKeys"], "ed25519");
  const std::string rsa_pem = Field(info["webhookPublicKeys"], "rsa");
  ASSERT_NE(ed_pem.find("BEGIN PUBLIC KEY"), std::string::npos) << ed_pem;
  ASSERT_NE(rsa_pem.find("BEGIN PUBLIC KEY"), std::string::npos) << rsa_pem;
  EXPECT_NE(emu_->Log().find(ed_pem), std::string::npos) << "main prints the same key";
  EXPECT_NE(emu_->Log().find(rsa_pem), std::string::npos);

  WebhookReceiver receiver;
  PointAt(receiver);
  CreateContact(R"("firstName":"Grace")");
  const Hits hits = receiver.WaitFor(1, 5s);
  ASSERT_EQ(hits.size(), 1u);
  const std::string body = hits[0].body;
  const std::string ghl = hits[0].Header("x-ghl-signature");
  const std::string wh = hits[0].Header("x-wh-signature");
  ASSERT_FALSE(ghl.empty());
  ASSERT_FALSE(wh.empty());
  EXPECT_TRUE(VerifySignature(ed_pem, nullptr, body, ghl));
  EXPECT_TRUE(VerifySignature(rsa_pem, EVP_sha256(), body, wh));

  std::string tampered = body;
  tampered[tampered.find("Grace")] = 'g';
  EXPECT_FALSE(VerifySignature(ed_pem, nullptr, tampered, ghl));
  EXPECT_FALSE(VerifySignature(rsa_pem, EVP_sha256(), tampered, wh));
  EXPECT_FALSE(VerifySignature(ed_pem, nullptr, body + " ", ghl)) << "exact bytes only";
  EXPECT_FALSE(VerifySignature(testing::OtherPublicKeyPem("ED25519"), nullptr, body, ghl));
  EXPECT_FALSE(VerifySignature(testing::OtherPublicKeyPem("RSA"), EVP_sha256(), body, wh));
  EXPECT_FALSE(VerifySignature(ed_pem, nullptr, body, wh)) << "headers are not interchangeable";
}

TEST_F(EmulatorWebhooks, A429IsRetriedOnTheScheduleThenDelivered) {
  WebhookReceiver receiver;
  receiver.Script({429, 429});
  PointAt(receiver, "[150,300]");
  CreateContact(R"("firstName":"Alan")");
  const Hits hits = receiver.WaitFor(3, 5s);
  ASSERT_EQ(hits.size(), 3u);
  for (const auto& h : hits) {
    EXPECT_EQ(h.body, hits[0].body) << "a retry re-sends the same payload";
    EXPECT_EQ(h.Header("x-ghl-signature"), hits[0].Header("x-ghl-signature"));
  }
  EXPECT_GE(hits[1].at - hits[0].at, 150ms);
  EXPECT_GE(hits[2].at - hits[1].at, 300ms);
  EXPECT_LT(hits[2].at - hits[0].at, 2s);

  const std::string id = Field(Json(hits[0].body), "webhookId");
  auto del = Deliveries("webhookId=" + id, 3);
  ASSERT_EQ(del["deliveries"].Size(), 3u);
  const auto& d = del["deliveries"];
  for (rapidjson::SizeType i = 0; i < 3; ++i) EXPECT_EQ(d[i]["attempt"].GetInt(), int(i) + 1);
  EXPECT_EQ(d[0]["status"].GetInt(), 429);
  EXPECT_STREQ(d[0]["outcome"].GetString(), "retry");
  EXPECT_STREQ(d[1]["outcome"].GetString(), "retry");
  EXPECT_EQ(d[2]["status"].GetInt(), 200);
  EXPECT_STREQ(d[2]["outcome"].GetString(), "delivered");
}

TEST_F(EmulatorWebhooks, A429AfterTheLastRetryLosesTheEvent) {
  WebhookReceiver receiver;
  receiver.Script({}, 429);
  PointAt(receiver, "[30,30]");
  CreateContact(R"("firstName":"Edsger")");
  ASSERT_EQ(receiver.WaitFor(3, 5s).size(), 3u);
  std::this_thread::sleep_for(250ms);
  EXPECT_EQ(receiver.hits().size(), 3u) << "one try plus the two scheduled retries";
  auto del = Deliveries("url=" + receiver.url(), 3);
  ASSERT_EQ(del["deliveries"].Size(), 3u);
  EXPECT_STREQ(del["deliveries"][2]["outcome"].GetString(), "lost");
}

TEST_F(EmulatorWebhooks, OtherErrorAnswersAreNotRetried) {
  WebhookReceiver receiver;
  receiver.Script({500, 503, 400});
  PointAt(receiver, "[30,30]");
  CreateContact(R"("firstName":"Barbara")");
  CreateContact(R"("firstName":"Ken")");
  CreateContact(R"("firstName":"Frances")");
  ASSERT_EQ(receiver.WaitFor(3, 5s).size(), 3u);
  std::this_thread::sleep_for(250ms);
  const Hits hits = receiver.hits();
  ASSERT_EQ(hits.size(), 3u) << "5xx and 4xx are final, as at GHL";
  std::set<std::string> ids;
  for (const auto& h : hits) ids.insert(Field(Json(h.body), "webhookId"));
  EXPECT_EQ(ids.size(), 3u);
  auto del = Deliveries("url=" + receiver.url(), 3);
  ASSERT_EQ(del["deliveries"].Size(), 3u);
  for (const auto& d : del["deliveries"].GetArray()) {
    EXPECT_STREQ(d["outcome"].GetString(), "lost");
    EXPECT_EQ(d["attempt"].GetInt(), 1);
  }
}

TEST_F(EmulatorWebhooks, RefusedAndTimedOutAttemptsAreLostWithoutBlockingTheApi) {
  std::string closed_url;
  {
    WebhookReceiver gone;
    closed_url = gone.url();
  }
  WebhookReceiver slow;
  slow.SetDelay(1500ms);
  Configure(*emu_, "[\"" + closed_url + "\",\"" + slow.url() + "\"]", "[30,30]", 300);
  CreateContact(R"("firstName":"Donald")");
  ASSERT_EQ(slow.WaitFor(1, 5s).size(), 1u);
  // While the worker waits on the slow receiver, the API answers at once.
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(emu_->Api("GET", "/contacts/?locationId=" + emu_->location_id()).status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 250ms);

  auto refused = Deliveries("url=" + closed_url, 1);
  ASSERT_EQ(refused["deliveries"].Size(), 1u);
  EXPECT_EQ(refused["deliveries"][0]["status"].GetInt(), 0);
  EXPECT_EQ(Field(refused["deliveries"][0], "error").rfind("connection failed", 0), 0u)
      << Field(refused["deliveries"][0], "error");
  EXPECT_EQ(Field(refused["deliveries"][0], "outcome"), "lost");
  auto timed_out = Deliveries("url=" + slow.url(), 1);
  ASSERT_EQ(timed_out["deliveries"].Size(), 1u);
  EXPECT_EQ(Field(timed_out["deliveries"][0], "error").rfind("timeout", 0), 0u)
      << Field(timed_out["deliveries"][0], "error");
  EXPECT_EQ(Field(timed_out["deliveries"][0], "outcome"), "lost");
  std::this_thread::sleep_for(150ms);
  EXPECT_EQ(slow.hits().size(), 1u) << "a timeout is not retried";
}

TEST_F(EmulatorWebhooks, DropFaultNeverSends) {
  WebhookReceiver receiver;
  PointAt(receiver);
  SetFaults(R"({"webhookDropRate":1})");
  CreateContact(R"("firstName":"Radia")");
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(receiver.hits().empty());
  auto del = Deliveries("url=" + receiver.url(), 1);
  ASSERT_EQ(del["deliveries"].Size(), 1u);
  EXPECT_EQ(Field(del["deliveries"][0], "outcome"), "dropped");
  EXPECT_EQ(Field(del["deliveries"][0], "type"), "ContactCreate");
}

TEST_F(EmulatorWebhooks, DuplicateFaultSendsTheSameBodyTwice) {
  WebhookReceiver receiver;
  PointAt(receiver);
  SetFaults(R"({"webhookDuplicateRate":1})");
  CreateContact(R"("firstName":"Niklaus")");
  const Hits hits = receiver.WaitFor(2, 5s);
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].body, hits[1].body);
  EXPECT_EQ(hits[0].Header("x-ghl-signature"), hits[1].Header("x-ghl-signature"));
  EXPECT_EQ(hits[0].Header("x-wh-signature"), hits[1].Header("x-wh-signature"));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(receiver.hits().size(), 2u);
}

TEST_F(EmulatorWebhooks, ReorderFaultSwapsNeighbours) {
  WebhookReceiver receiver;
  PointAt(receiver);
  SetFaults(R"({"webhookReorder":true})");
  const std::string first = CreateContact(R"("firstName":"First")");
  const std::string second = CreateContact(R"("firstName":"Second")");
  const Hits hits = receiver.WaitFor(2, 5s);
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(Field(Json(hits[0].body), "id"), second);
  EXPECT_EQ(Field(Json(hits[1].body), "id"), first);
  // A lone event is not held forever.
  const std::string third = CreateContact(R"("firstName":"Third")");
  const Hits all = receiver.WaitFor(3, 5s);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(Field(Json(all[2].body), "id"), third);
}

TEST_F(EmulatorWebhooks, DelayFaultHoldsEachEvent) {
  WebhookReceiver receiver;
  PointAt(receiver);
  SetFaults(R"({"webhookDelayMs":400})");
  const auto t0 = std::chrono::steady_clock::now();
  CreateContact(R"("firstName":"Slow")");
  const Hits hits = receiver.WaitFor(1, 5s);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_GE(hits[0].at - t0, 400ms);
}

TEST_F(EmulatorWebhooks, ConfigRouteValidatesAndReports) {
  EXPECT_EQ(emu_->Admin("PUT", "/webhooks/config", R"({"urls":["ftp://x"]})").status, 422);
  EXPECT_EQ(emu_->Admin("PUT", "/webhooks/config", R"({"retryScheduleMs":[-1]})").status, 422);
  EXPECT_EQ(emu_->Admin("PUT", "/webhooks/config", R"({"urls":"http://x"})").status, 422);
  auto put = emu_->Admin("PUT", "/webhooks/config", R"({"urls":["http://127.0.0.1:9/a"]})");
  ASSERT_EQ(put.status, 200) << put.body;
  auto got = Json(emu_->Admin("GET", "/webhooks/config").body);
  ASSERT_EQ(got["urls"].Size(), 1u);
  EXPECT_STREQ(got["urls"][0].GetString(), "http://127.0.0.1:9/a");
  EXPECT_TRUE(got["retryScheduleMs"].IsArray());
}

// Two emulators with the same seed drop the same events.
TEST_F(EmulatorWebhooks, FaultsAreDeterministicUnderTheSeed) {
  auto delivered = [] {
    EmulatorProcess emu({"--search-lag-ms", "0", "--no-rate-limit", "--seed", "7"});
    EXPECT_TRUE(emu.ok()) << emu.startup_error();
    WebhookReceiver receiver;
    Configure(emu, "[\"" + receiver.url() + "\"]");
    EXPECT_EQ(emu.Admin("PUT", "/faults", R"({"webhookDropRate":0.5})").status, 200);
    for (int i = 0; i < 12; ++i)
      CreateContactIn(emu, R"("firstName":"N)" + std::to_string(i) + "\"");
    auto del = Json(emu.Admin("GET", "/webhooks/deliveries").body);
    size_t dropped = 0;
    for (const auto& d : del["deliveries"].GetArray()) dropped += Field(d, "outcome") == "dropped";
    const Hits hits = receiver.WaitFor(12 - dropped, 5s);
    std::set<std::string> ids;
    for (const auto& h : hits) ids.insert(Field(Json(h.body), "id"));
    return ids;
  };
  const auto a = delivered(), b = delivered();
  EXPECT_GT(a.size(), 0u);
  EXPECT_LT(a.size(), 12u);
  EXPECT_EQ(a, b);
}

TEST(EmulatorWebhookCli, UrlsRetriesAndKeysDirSurviveRestarts) {
  testing::TempDir dir;
  const std::string keys = (dir / "keys").string();
  WebhookReceiver r1, r2;
  std::string ed_pem, rsa_pem;
  {
    EmulatorProcess emu({"--search-lag-ms", "0", "--keys-dir", keys, "--webhook-url", r1.url(),
                         "--webhook-url", r2.url(), "--webhook-retry-ms", "40",
                         "--webhook-retry-ms", "60"});
    ASSERT_TRUE(emu.ok()) << emu.startup_error();
    auto config = Json(emu.Admin("GET", "/webhooks/config").body);
    ASSERT_EQ(config["urls"].Size(), 2u);
    ASSERT_EQ(config["retryScheduleMs"].Size(), 2u);
    EXPECT_EQ(config["retryScheduleMs"][1].GetInt64(), 60);
    auto info = Json(emu.Admin("GET", "/info").body);
    ed_pem = Field(info["webhookPublicKeys"], "ed25519");
    rsa_pem = Field(info["webhookPublicKeys"], "rsa");
    CreateContactIn(emu, R"("firstName":"Restart")");
    ASSERT_EQ(r1.WaitFor(1, 5s).size(), 1u);
    ASSERT_EQ(r2.WaitFor(1, 5s).size(), 1u);
    for (const char* name : {"webhook-ed25519.pem", "webhook-rsa.pem"}) {
      struct stat st {};
      ASSERT_EQ(stat((dir / "keys" / name).c_str(), &st), 0) << name;
      EXPECT_EQ(st.st_mode & 0777, 0600u) << name;
    }
    emu.process().Signal(SIGTERM);
    EXPECT_EQ(emu.process().Wait(10s), 0) << "clean shutdown with the worker running";
  }
  {
    EmulatorProcess emu({"--search-lag-ms", "0", "--keys-dir", keys, "--webhook-url", r1.url()});
    ASSERT_TRUE(emu.ok()) << emu.startup_error();
    auto info = Json(emu.Admin("GET", "/info").body);
    EXPECT_EQ(Field(info["webhookPublicKeys"], "ed25519"), ed_pem);
    EXPECT_EQ(Field(info["webhookPublicKeys"], "rsa"), rsa_pem);
    CreateContactIn(emu, R"("firstName":"Restart")");
    const Hits hits = r1.WaitFor(2, 5s);
    ASSERT_EQ(hits.size(), 2u);
    EXPECT_TRUE(VerifySignature(ed_pem, nullptr, hits[1].body, hits[1].Header("x-ghl-signature")));
    EXPECT_TRUE(
        VerifySignature(rsa_pem, EVP_sha256(), hits[1].body, hits[1].Header("x-wh-signature")));
  }
  {
    EmulatorProcess emu({"--search-lag-ms", "0"});
    ASSERT_TRUE(emu.ok()) << emu.startup_error();
    auto info = Json(emu.Admin("GET", "/info").body);
    EXPECT_NE(Field(info["webhookPublicKeys"], "ed25519"), ed_pem) << "no --keys-dir: fresh keys";
  }
}

TEST(EmulatorWebhookCli, ShutdownDuringAHungDeliveryIsPromptAndClean) {
  WebhookReceiver slow;
  slow.SetDelay(8s);
  EmulatorProcess emu({"--search-lag-ms", "0", "--webhook-url", slow.url()});
  ASSERT_TRUE(emu.ok()) << emu.startup_error();
  CreateContactIn(emu, R"("firstName":"Hung")");
  ASSERT_EQ(slow.WaitFor(1, 5s).size(), 1u);
  const auto t0 = std::chrono::steady_clock::now();
  emu.process().Signal(SIGTERM);
  EXPECT_EQ(emu.process().Wait(5s), 0) << emu.Log();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s) << "the attempt in flight is abandoned";
}

}  // namespace
}  // namespace ghl
