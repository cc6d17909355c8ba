// The webhook endpoint over real HTTP: what is accepted (and committed before the 200),
// and every bad input of issue 5, each refused with its status and counted by reason, with
// nothing stored.
#include "tests/integration/webhook_fixture.h"

namespace ghl::testing {
namespace {

using WebhookIngressTest = WebhookIngressFixture;

TEST_F(WebhookIngressTest, SignedWebhooksOfBothSchemesAreCommittedBeforeThe200) {
  StartIngress(Options());
  const std::string ed_body = Body("w-ed");
  const std::string rsa_body = Body("w-rsa");
  auto ed = Post(ed_body, Ed25519(ed_body));
  EXPECT_EQ(ed.status, 200) << ed.body;
  // Read through another connection right after the answer: the commit came first.
  auto rows = Inbox();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].webhook_id, "w-ed");
  EXPECT_EQ(rows[0].body, ed_body) << "the exact bytes that were signed";
  EXPECT_EQ(rows[0].received_at, 1738074900000);
  EXPECT_NE(rows[0].headers_json.find(R"("signature":"ed25519")"), std::string::npos);
  EXPECT_NE(rows[0].headers_json.find(R"("content-type":"application/json")"), std::string::npos);

  auto rsa = Post(rsa_body, Rsa(rsa_body));
  EXPECT_EQ(rsa.status, 200) << rsa.body;
  rows = Inbox();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_NE(rows[1].headers_json.find(R"("signature":"rsa-sha256")"), std::string::npos);
  EXPECT_EQ(rows[1].headers_json.find("x-wh-signature"), std::string::npos)
      << "signatures are not kept";

  EXPECT_EQ(Metric("ghl_syncd_webhooks_received_total"), 2);
  EXPECT_EQ(Metric("ghl_syncd_webhooks_accepted_total"), 2);
  EXPECT_EQ(Metric(R"(ghl_syncd_webhooks_verified_total{scheme="ed25519"})"), 1);
  EXPECT_EQ(Metric(R"(ghl_syncd_webhooks_verified_total{scheme="rsa-sha256"})"), 1);
  EXPECT_EQ(Metric("ghl_syncd_webhooks_commit_duration_seconds_count"), 2);
}

TEST_F(WebhookIngressTest, BadSignaturesGet401AndNothingIsStored) {
  StartIngress(Options());
  auto other = emulator::WebhookSigner::Create("");
  ASSERT_TRUE(other.ok());
  const std::string body = Body("w-bad");
  std::string tampered = body;
  tampered[tampered.find("Ada")] = 'E';
  struct Case {
    const char* name;
    std::string body;
    std::vector<std::string> headers;
  };
  const std::vector<Case> cases = {
      {"tampered body", tampered, Ed25519(body)},
      {"tampered body, rsa", tampered, Rsa(body)},
      {"signed by another key", body, {"x-ghl-signature: " + (*other)->SignEd25519(body)}},
      {"signed by another rsa key", body, {"x-wh-signature: " + (*other)->SignRsaSha256(body)}},
      {"signature of another body", body, Ed25519(Body("w-other"))},
      {"base64 garbage", body, {"x-ghl-signature: ###garbage###"}},
      {"missing headers", body, {}},
      {"N/A", body, {"x-ghl-signature: N/A"}},
      {"N/A in both", body, {"x-ghl-signature: N/A", "x-wh-signature: N/A"}},
  };
  for (const auto& c : cases) {
    auto r = Post(c.body, c.headers);
    EXPECT_EQ(r.status, 401) << c.name << ": " << r.body;
  }
  EXPECT_TRUE(Inbox().empty());
  EXPECT_EQ(Metric(R"(ghl_syncd_webhooks_rejected_total{reason="signature"})"),
            static_cast<double>(cases.size()));
  EXPECT_EQ(Metric("ghl_syncd_webhooks_accepted_total"), 0);
  // The same webhook, correctly signed, is still welcome: a refusal remembers nothing.
  EXPECT_EQ(PostSigned(body).status, 200);
}

// Ahead of the clock by more than timestamp_window (5 min) or older than max_age (75 min,
// so that GHL's retries of a 429-answered webhook, 10 minutes apart with the original
// payload, still get in): refused. Inside: accepted.
TEST_F(WebhookIngressTest, StaleAndFutureTimestampsAreRefusedInsideTheWindowAccepted) {
  StartIngress(Options());
  struct Case {
    std::chrono::seconds offset;
    long status;
  };
  const std::vector<Case> cases = {{-4501s, 401}, {-86400s, 401}, {301s, 401}, {86400s, 401},
                                   {-4499s, 200}, {-1800s, 200},  {299s, 200}};
  int i = 0;
  for (const auto& c : cases) {
    const std::string body = Body("w-ts-" + std::to_string(i++), kNow + c.offset);
    EXPECT_EQ(PostSigned(body).status, c.status) << c.offset.count() << "s";
  }
  EXPECT_EQ(Inbox().size(), 3u);
  EXPECT_EQ(Metric(R"(ghl_syncd_webhooks_rejected_total{reason="stale"})"), 4);
}

TEST_F(WebhookIngressTest, AReplayedWebhookIdGets200AndIsStoredOnce) {
  StartIngress(Options());
  const std::string body = Body("w-replay");
  auto first = PostSigned(body);
  auto second = PostSigned(body);
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.body, "ok\n");
  EXPECT_EQ(second.status, 200) << "GHL must not retry it";
  EXPECT_EQ(second.body, "duplicate\n");
  // Same id, other content (re-signed): still the same webhook.
  const std::string changed = Body("w-replay", kNow, "Grace");
  EXPECT_EQ(Post(changed, Rsa(changed)).body, "duplicate\n");
  EXPECT_EQ(Inbox().size(), 1u);
  EXPECT_EQ(Metric("ghl_syncd_webhooks_deduplicated_total"), 2);
  EXPECT_EQ(Metric("ghl_syncd_webhooks_accepted_total"), 1);
}

TEST_F(WebhookIngressTest, SignedBodiesThatAreNotWebhooksGet400) {
  StartIngress(Options());
  const std::vector<std::string> bodies = {
      "{not json",
      "[1,2,3]",
      R"("just a string")",
      "null",
      R"({"type":"ContactCreate","webhookId":"w-no-ts"})",
      R"({"type":"ContactCreate","webhookId":"w-bad-ts","timestamp":"yesterday"})",
      R"({"type":7,"timestamp":"2025-01-28T14:35:00Z"})",
  };
  for (const auto& body : bodies) EXPECT_EQ(PostSigned(body).status, 400) << body;
  EXPECT_TRUE(Inbox().empty());
  EXPECT_EQ(Metric(R"(ghl_syncd_webhooks_rejected_total{reason="malformed"})"),
            static_cast<double>(bodies.size()));
}

TEST_F(WebhookIngressTest, AWebhookWithoutIdIsDeduplicatedByItsContent) {
  StartIngress(Options());
  const std::string body =
      R"({"type":"ContactUpdate","id":"c-9","timestamp":"2025-01-28T14:35:00Z"})";
  EXPECT_EQ(PostSigned(body).body, "ok\n");
  EXPECT_EQ(PostSigned(body).body, "duplicate\n");
  auto rows = Inbox();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].webhook_id.rfind("sha256:", 0), 0u) << rows[0].webhook_id;
}

TEST_F(WebhookIngressTest, OtherPathsAndMethodsGet404And405) {
  StartIngress(Options());
  const std::string body = Body("w-path");
  EXPECT_EQ(Post(body, Ed25519(body), "/webhooks/other").status, 404);
  EXPECT_EQ(Post(body, Ed25519(body), "/").status, 404);
  auto get = HttpCall("GET", url_ + "/webhooks/ghl");
  EXPECT_EQ(get.status, 405);
  EXPECT_EQ(get.Header("allow"), "POST");
  EXPECT_EQ(HttpCall("PUT", url_ + "/webhooks/ghl", body, Ed25519(body)).status, 405);
  EXPECT_EQ(Post(body, Ed25519(body), "/webhooks/ghl?source=ghl").status, 200)
      << "a query string does not change the path";
  EXPECT_EQ(Metric(R"(ghl_syncd_webhooks_rejected_total{reason="path"})"), 2);
  EXPECT_EQ(Metric(R"(ghl_syncd_webhooks_rejected_total{reason="method"})"), 2);
}

TEST_F(WebhookIngressTest, KeepAliveServesManyWebhooksOnOneConnection) {
  StartIngress(Options());
  auto socket = Connect();
  std::string all;
  for (int i = 0; i < 3; ++i) {
    const std::string body = Body("w-ka-" + std::to_string(i));
    const std::string request =
        "POST /webhooks/ghl HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\nx-ghl-signature: " + signer_->SignEd25519(body) + "\r\n\r\n" + body;
    boost::asio::write(socket, boost::asio::buffer(request));
  }
  socket.shutdown(boost::asio::ip::tcp::socket::shutdown_send);
  all = ReadAll(socket, 5s);
  size_t answers = 0;
  for (size_t pos = 0; (pos = all.find("HTTP/1.1 200", pos)) != std::string::npos; ++pos) {
    ++answers;
  }
  EXPECT_EQ(answers, 3u) << all;
  EXPECT_EQ(Inbox().size(), 3u);
}

}  // namespace
}  // namespace ghl::testing
