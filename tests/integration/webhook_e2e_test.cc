// End to end: ghl-emulator signs and delivers webhooks (its keys kept in a directory), a
// real ghl-syncd process trusts those public keys from files, and the events land in the
// inbox of its state file, ready to become change events. Also: a locked state file makes
// the daemon answer 429, the emulator retries like GHL, and the webhook is stored once.
#include <gtest/gtest.h>

#include <regex>

#include "connectors/ghl/webhook_event.h"
#include "state/inbox.h"
#include "state/sqlite.h"
#include "tests/support/emulator_process.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/webhook_receiver.h"

namespace ghl {
namespace {

using namespace std::chrono_literals;
using testing::EmulatorProcess;
using testing::HttpCall;
using testing::Process;
using testing::TempDir;

const std::string kBinary = std::string(GHL_BINARY_DIR) + "/ghl-syncd";
constexpr const char* kToken = "pit-webhook-e2e";

class WebhookEndToEnd : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    keys_ = new TempDir();
    emu_ = new EmulatorProcess({"--no-rate-limit", "--search-lag-ms", "0", "--keys-dir",
                                (keys_->path() / "keys").string()});
    ASSERT_TRUE(emu_->ok()) << emu_->startup_error();
    auto r = emu_->Admin("POST", "/locations",
                         std::string(R"({"id":"loc-1","token":")") + kToken + R"("})");
    ASSERT_EQ(r.status, 201) << r.body;
  }
  static void TearDownTestSuite() {
    delete emu_;
    delete keys_;
  }
  void TearDown() override {
    emu_->Admin("PUT", "/webhooks/config", R"({"urls":[],"retryScheduleMs":[],"timeoutMs":5000})");
  }

  std::string Config(const std::string& webhooks_extra = "") {
    const auto keys = keys_->path() / "keys";
    return "ghl:\n  base_url: " + emu_->base_url() + R"(
  locations:
    - id: loc-1
      token: )" +
           kToken +
           R"(
state:
  path: state.db
http:
  listen: 127.0.0.1:0
logging:
  level: debug
  format: text
daemon:
  drain_timeout: 2s
mappings_dir: mappings
webhooks:
  enabled: true
  listen: 127.0.0.1:0
  public_key_files:
    - )" + (keys / "webhook-ed25519.pub.pem").string() +
           "\n    - " + (keys / "webhook-rsa.pub.pem").string() + "\n" + webhooks_extra;
  }

  // Starts ghl-syncd on Config(extra) and returns the webhook URL ("" on failure).
  std::string StartDaemon(const std::string& extra = "") {
    std::filesystem::create_directories(dir_ / "mappings");
    const auto config = dir_.Write("ghl-syncd.yaml", Config(extra));
    daemon_ = std::make_unique<Process>(
        std::vector<std::string>{kBinary, "run", "--config", config.string()},
        std::map<std::string, std::string>{}, dir_ / "daemon.log");
    if (!daemon_->WaitForLog("ready:", 20s)) {
      ADD_FAILURE() << "daemon did not become ready:\n" << daemon_->Log();
      return "";
    }
    const std::string base = ListenerUrl("webhook");
    return base.empty() ? "" : base + "/webhooks/ghl";
  }

  // "http://host:port" of the daemon's `kind` listener ("http" or "webhook"), from its log.
  std::string ListenerUrl(const std::string& kind) {
    std::smatch m;
    const std::string log = daemon_->Log();
    if (!std::regex_search(log, m, std::regex(kind + R"( listener on ([0-9.]+):([0-9]+))"))) {
      ADD_FAILURE() << "no " << kind << " listener line in:\n" << log;
      return "";
    }
    return "http://" + m[1].str() + ":" + m[2].str();
  }

  void PointEmulatorAt(const std::string& url, const std::string& retry_ms = "[]") {
    auto r = emu_->Admin(
        "PUT", "/webhooks/config",
        R"({"urls":[")" + url + R"("],"retryScheduleMs":)" + retry_ms + R"(,"timeoutMs":5000})");
    ASSERT_EQ(r.status, 200) << r.body;
  }

  std::string CreateContact(const std::string& first_name) {
    auto r = emu_->Api("POST", "/contacts/",
                       R"({"locationId":"loc-1","firstName":")" + first_name + R"("})",
                       "2021-07-28", kToken);
    EXPECT_EQ(r.status, 201) << r.body;
    auto d = testing::Json(r.body);
    return d.HasMember("contact") ? d["contact"]["id"].GetString() : "";
  }

  // Every inbox row (pending or already processed by the sync engine), once there are at
  // least `n` (or after 10 s).
  std::vector<state::InboxRow> WaitForInbox(size_t n) {
    auto db = state::sqlite::Db::Open(dir_ / "state.db", 1000ms);
    EXPECT_TRUE(db.ok());
    if (!db.ok()) return {};
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    for (;;) {
      std::vector<state::InboxRow> rows;
      auto stmt = (*db)->Prepare(
          "SELECT id, webhook_id, received_at, body, headers_json FROM webhook_inbox ORDER BY id");
      if (!stmt.ok()) return rows;
      for (auto row = stmt->Step(); row.ok() && *row; row = stmt->Step()) {
        rows.push_back({stmt->ColumnInt64(0), stmt->ColumnText(1), stmt->ColumnInt64(2),
                        stmt->ColumnText(3), stmt->ColumnText(4)});
      }
      if (rows.size() >= n || std::chrono::steady_clock::now() > deadline) return rows;
      std::this_thread::sleep_for(20ms);
    }
  }

  void StopDaemon() {
    daemon_->Signal(SIGTERM);
    EXPECT_EQ(daemon_->Wait(10s), 0) << daemon_->Log();
  }

  static TempDir* keys_;
  static EmulatorProcess* emu_;
  TempDir dir_;
  std::unique_ptr<Process> daemon_;
};
TempDir* WebhookEndToEnd::keys_ = nullptr;
EmulatorProcess* WebhookEndToEnd::emu_ = nullptr;

TEST_F(WebhookEndToEnd, EmulatorWebhooksLandInTheInboxAsEvents) {
  const std::string url = StartDaemon();
  ASSERT_FALSE(url.empty());
  EXPECT_NE(daemon_->Log().find("webhooks.public_key_files[0]"), std::string::npos)
      << "the trusted keys are logged with their source";
  PointEmulatorAt(url);
  const std::string id = CreateContact("Ada");
  ASSERT_EQ(emu_->Api("PUT", "/contacts/" + id, R"({"lastName":"Lovelace"})", "2021-07-28", kToken)
                .status,
            200);
  ASSERT_EQ(emu_->Api("DELETE", "/contacts/" + id, "", "2021-07-28", kToken).status, 200);

  const auto rows = WaitForInbox(3);
  ASSERT_EQ(rows.size(), 3u) << daemon_->Log();
  std::vector<std::string> kinds;
  for (const auto& row : rows) {
    EXPECT_NE(row.headers_json.find(R"("signature":"ed25519")"), std::string::npos)
        << "x-ghl-signature decides when present";
    auto event = ghl_client::ParseWebhookEvent(row.body);
    ASSERT_TRUE(event.ok()) << event.error().message;
    EXPECT_EQ(event->object, "contacts");
    EXPECT_EQ(event->location_id, "loc-1");
    EXPECT_EQ(event->id, id);
    EXPECT_EQ(event->webhook_id, row.webhook_id);
    kinds.push_back(event->type + ":" + ghl_client::ToString(event->kind));
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{"ContactCreate:upsert", "ContactUpdate:upsert",
                                             "ContactDelete:delete"}));
  auto metrics = HttpCall("GET", ListenerUrl("http") + "/metrics");
  EXPECT_NE(metrics.body.find("ghl_syncd_webhooks_accepted_total 3"), std::string::npos)
      << metrics.body;
  StopDaemon();
}

TEST_F(WebhookEndToEnd, TheLegacyRsaSignatureAloneIsAcceptedAndCanBeSwitchedOff) {
  // A relay keeps only the emulator's x-wh-signature, as GHL sent before Ed25519.
  testing::WebhookReceiver relay;
  PointEmulatorAt(relay.url());
  CreateContact("Grace");
  const auto hits = relay.WaitFor(1, 10s);
  ASSERT_EQ(hits.size(), 1u);
  const std::string body = hits[0].body;
  const std::string wh = "x-wh-signature: " + hits[0].Header("x-wh-signature");

  const std::string url = StartDaemon();
  ASSERT_FALSE(url.empty());
  auto accepted = HttpCall("POST", url, body, {wh});
  EXPECT_EQ(accepted.status, 200) << accepted.body;
  const auto rows = WaitForInbox(1);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].body, body);
  EXPECT_NE(rows[0].headers_json.find(R"("signature":"rsa-sha256")"), std::string::npos);
  StopDaemon();

  const std::string strict = StartDaemon("  rsa_signatures: false\n");
  ASSERT_FALSE(strict.empty());
  EXPECT_EQ(HttpCall("POST", strict, body, {wh}).status, 401);
  StopDaemon();
}

TEST_F(WebhookEndToEnd, ALockedStateFileGets429AndTheEmulatorsRetryIsStoredOnce) {
  const std::string url = StartDaemon("  busy_timeout: 100ms\n");
  ASSERT_FALSE(url.empty());
  // Waits out the daemon's own short writes (its engine starting) to take the lock.
  auto locker = state::sqlite::Db::Open(dir_ / "state.db", 5s);
  ASSERT_TRUE(locker.ok());
  ASSERT_TRUE((*locker)->Exec("BEGIN EXCLUSIVE").ok());
  PointEmulatorAt(url, "[300,300,300]");
  CreateContact("Retry");
  // The first attempt meets the lock; release it before the retry.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (daemon_->Log().find("answered 429") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE((*locker)->Exec("ROLLBACK").ok());
  const auto rows = WaitForInbox(1);
  ASSERT_EQ(rows.size(), 1u) << daemon_->Log();
  // The emulator logs a delivery once it has read the answer, which can be just after
  // the row is committed.
  std::vector<std::string> outcomes;
  const auto logged = std::chrono::steady_clock::now() + 10s;
  do {
    auto deliveries = testing::Json(emu_->Admin("GET", "/webhooks/deliveries?url=" + url).body);
    outcomes.clear();
    for (const auto& d : deliveries["deliveries"].GetArray()) {
      outcomes.push_back(std::to_string(d["status"].GetInt()) + ":" + d["outcome"].GetString());
    }
    if (!outcomes.empty() && outcomes.back() == "200:delivered") break;
    std::this_thread::sleep_for(10ms);
  } while (std::chrono::steady_clock::now() < logged);
  ASSERT_GE(outcomes.size(), 2u);
  EXPECT_EQ(outcomes.front(), "429:retry");
  EXPECT_EQ(outcomes.back(), "200:delivered");
  StopDaemon();
}

TEST_F(WebhookEndToEnd, AnUnreadableKeyFileIsAConfigurationError) {
  std::filesystem::create_directories(dir_ / "mappings");
  const auto config = dir_.Write("ghl-syncd.yaml", Config("  public_keys: [\"not a key\"]\n"));
  Process p({kBinary, "run", "--config", config.string()}, {}, dir_ / "bad.log");
  EXPECT_EQ(p.Wait(20s), 78) << p.Log();
  EXPECT_NE(p.Log().find("webhooks.public_keys[0]: not a public key"), std::string::npos)
      << p.Log();
}

}  // namespace
}  // namespace ghl
