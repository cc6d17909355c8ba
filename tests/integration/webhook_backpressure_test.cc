// The webhook endpoint under pressure: huge and trickling requests, many connections at
// once, a locked database, a full disk and a full backlog. Overload is always a 429 (GHL
// retries it), never a 5xx or a crash, and a retried webhook is then stored exactly once.
#include <atomic>

#include "tests/integration/webhook_fixture.h"

namespace ghl::testing {
namespace {

using WebhookPressureTest = WebhookIngressFixture;

TEST_F(WebhookPressureTest, A50MegabyteBodyGets413WithoutBeingRead) {
  auto options = Options();
  options.max_body_bytes = 64 * 1024;
  StartIngress(std::move(options));
  auto socket = Connect();
  const std::string head =
      "POST /webhooks/ghl HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 52428800\r\nx-ghl-signature: N/A\r\n\r\n";
  boost::asio::write(socket, boost::asio::buffer(head + std::string(4096, 'x')));
  const std::string answer = ReadAll(socket, 5s);
  EXPECT_EQ(answer.rfind("HTTP/1.1 413", 0), 0u) << answer;

  // The same through curl, which sends the whole body: a 413 or, if the server closed
  // before curl finished sending, a reset; never a stored row or a 5xx.
  auto whole = HttpCall("POST", url_ + "/webhooks/ghl", std::string(50 << 20, ' '),
                        {"x-ghl-signature: N/A"}, 30'000);
  EXPECT_TRUE(whole.status == 413 || whole.status == 0) << whole.status;
  EXPECT_TRUE(Inbox().empty());
  EXPECT_GE(Metric(R"(ghl_syncd_webhooks_rejected_total{reason="too_large"})"), 1);
  EXPECT_EQ(PostSigned(Body("w-after")).status, 200) << "the listener is fine afterwards";
}

TEST_F(WebhookPressureTest, ABodyOrHeadersThatTrickleInAreCutOffAtTheReadTimeout) {
  auto options = Options();
  options.read_timeout = 300ms;
  StartIngress(std::move(options));
  const std::string body = Body("w-slow");
  const std::string request =
      "POST /webhooks/ghl HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nx-ghl-signature: " + signer_->SignEd25519(body) + "\r\n\r\n" + body;
  for (const size_t split : {size_t{20}, request.size() - body.size() + 10}) {  // headers, body
    auto socket = Connect();
    boost::asio::write(socket, boost::asio::buffer(request.substr(0, split)));
    const auto start = std::chrono::steady_clock::now();
    // One byte every 100 ms: each arrives, but the whole request never does in time.
    std::atomic<bool> closed{false};
    std::thread trickle([&] {
      for (size_t i = split; i < request.size() && !closed; ++i) {
        std::this_thread::sleep_for(100ms);
        boost::system::error_code ec;
        boost::asio::write(socket, boost::asio::buffer(&request[i], 1), ec);
        if (ec) break;
      }
    });
    const std::string answer = ReadAll(socket, 5s);
    closed = true;
    trickle.join();
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(answer, "") << "closed without an answer";
    EXPECT_LT(took, 2s) << "the connection was dropped at the read timeout";
  }
  EXPECT_TRUE(Inbox().empty());
  EXPECT_EQ(PostSigned(body).status, 200) << "a prompt request is served meanwhile";
}

TEST_F(WebhookPressureTest, ManyConnectionsAtOnceAreAllAnsweredAndStoredInFewCommits) {
  auto options = Options();
  options.writer.commit_wait = 2ms;
  StartIngress(std::move(options));
  constexpr int kClients = 100, kEach = 5;
  std::vector<std::vector<std::string>> bodies(kClients);
  std::vector<std::vector<std::vector<std::string>>> signatures(kClients);
  for (int c = 0; c < kClients; ++c) {
    for (int i = 0; i < kEach; ++i) {
      bodies[c].push_back(Body("w-" + std::to_string(c) + "-" + std::to_string(i)));
      signatures[c].push_back(Ed25519(bodies[c].back()));
    }
  }
  std::atomic<int> ok{0}, other{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < kEach; ++i) {
        (Post(bodies[c][i], signatures[c][i]).status == 200 ? ok : other)++;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), kClients * kEach);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(Inbox().size(), static_cast<size_t>(kClients * kEach));
  const double commits = Metric("ghl_syncd_webhooks_commit_batch_size_count");
  EXPECT_EQ(Metric("ghl_syncd_webhooks_commit_batch_size_sum"), kClients * kEach);
  EXPECT_LT(commits, kClients * kEach) << "webhooks shared transactions (group commit)";
}

TEST_F(WebhookPressureTest, ALockedDatabaseGets429AndTheRetryIsStoredOnce) {
  StartIngress(Options(/*busy_timeout=*/100ms));
  // Waits for a lock the writer may hold for a moment at start, then holds its own.
  auto locker = state::sqlite::Db::Open(dir_ / "state.db", 2000ms);
  ASSERT_TRUE(locker.ok());
  ASSERT_TRUE((*locker)->Exec("BEGIN EXCLUSIVE").ok());
  const std::string body = Body("w-locked");
  auto refused = PostSigned(body);
  EXPECT_EQ(refused.status, 429) << refused.body;
  EXPECT_EQ(refused.Header("retry-after"), "60");
  EXPECT_EQ(PostSigned(Body("w-locked-2")).status, 429) << "still locked, still alive";
  ASSERT_TRUE((*locker)->Exec("ROLLBACK").ok());

  EXPECT_EQ(PostSigned(body).body, "ok\n") << "GHL's retry is stored, not a duplicate";
  EXPECT_EQ(PostSigned(body).body, "duplicate\n");
  auto rows = Inbox();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].webhook_id, "w-locked");
  EXPECT_EQ(Metric(R"(ghl_syncd_webhooks_throttled_total{reason="busy"})"), 2);
}

TEST_F(WebhookPressureTest, AFullDiskGets429AndNothingIsLostOnceThereIsRoom) {
  auto options = Options();
  // The writer's connection may not grow the file: SQLite answers SQLITE_FULL, as it does
  // when the disk is full.
  options.writer.open = [path = dir_ / "state.db"]() -> Result<std::unique_ptr<state::sqlite::Db>> {
    auto db = state::sqlite::Db::Open(path, 1000ms);
    if (!db.ok()) return db;
    auto pages = (*db)->QueryInt64("PRAGMA page_count");
    if (!pages.ok()) return pages.error();
    if (auto cap = (*db)->Exec("PRAGMA max_page_count = " + std::to_string(*pages)); !cap.ok()) {
      return cap.error();
    }
    return db;
  };
  StartIngress(std::move(options));
  const std::string big = Body("w-full", kNow, std::string(200'000, 'a'));
  auto refused = PostSigned(big);
  EXPECT_EQ(refused.status, 429) << refused.body;
  EXPECT_EQ(PostSigned(big).status, 429);
  EXPECT_TRUE(Inbox().empty());
  StopIngress();

  // Room again (a fresh writer without the cap): GHL's retry lands.
  thread_ = std::thread();
  io_.restart();
  StartIngress(Options());
  EXPECT_EQ(PostSigned(big).body, "ok\n");
  ASSERT_EQ(Inbox().size(), 1u);
  EXPECT_EQ(Inbox()[0].body, big);
}

TEST_F(WebhookPressureTest, AFullBacklogGets429UntilTheEngineCatchesUp) {
  auto options = Options();
  options.max_backlog = 2;
  StartIngress(std::move(options));
  EXPECT_EQ(PostSigned(Body("w-1")).status, 200);
  EXPECT_EQ(PostSigned(Body("w-2")).status, 200);
  EXPECT_EQ(PostSigned(Body("w-3")).status, 429);
  EXPECT_EQ(Metric(R"(ghl_syncd_webhooks_throttled_total{reason="backlog"})"), 1);

  state::InboxStore inbox(store_->db());
  ASSERT_TRUE(inbox.MarkDone(Inbox()[0].id, "synced", 0).ok());
  // The writer recounts the backlog every refresh_interval (20 ms here).
  long status = 0;
  for (int i = 0; i < 100 && status != 200; ++i) {
    std::this_thread::sleep_for(10ms);
    status = PostSigned(Body("w-3")).status;
  }
  EXPECT_EQ(status, 200);
  EXPECT_EQ(Inbox().size(), 2u);
  // The gauge follows at the next recount.
  for (int i = 0; i < 100 && Metric("ghl_syncd_webhooks_inbox_depth") != 2; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(Metric("ghl_syncd_webhooks_inbox_depth"), 2);
}

TEST_F(WebhookPressureTest, WhileStoppingNewWebhooksGet429) {
  StartIngress(Options());
  OnIo([&] { ingress_->Refuse(); });
  EXPECT_EQ(PostSigned(Body("w-stop")).status, 429);
  EXPECT_TRUE(Inbox().empty());
  EXPECT_EQ(Metric(R"(ghl_syncd_webhooks_throttled_total{reason="stopping"})"), 1);
}

}  // namespace
}  // namespace ghl::testing
