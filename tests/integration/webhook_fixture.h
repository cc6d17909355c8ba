// WebhookIngressFixture: a WebhookIngress in this process, on loopback port 0, over a real
// state file, with its io_context on a thread; signed bodies from the emulator's signer and
// a fake clock fixed at kNow (so timestamps are exact, not racing the wall clock).
#pragma once

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <future>
#include <sstream>
#include <thread>

#include "daemon/webhook_ingress.h"
#include "emulator/webhook_signer.h"
#include "state/inbox.h"
#include "state/migrations.h"
#include "state/sqlite_state_store.h"
#include "tests/support/http_client.h"
#include "tests/support/temp_dir.h"

namespace ghl::testing {

using namespace std::chrono_literals;

// 2025-01-28T14:35:00Z
inline const Clock::TimePoint kNow{std::chrono::milliseconds(1738074900000)};

class WebhookIngressFixture : public ::testing::Test {
 protected:
  WebhookIngressFixture() : clock_(kNow) {
    auto store = state::OpenSqlite({.path = dir_ / "state.db"});
    if (!store.ok()) std::abort();
    store_ = std::move(store).value();
    auto signer = emulator::WebhookSigner::Create("");
    if (!signer.ok()) std::abort();
    signer_ = std::move(signer).value();
  }
  ~WebhookIngressFixture() override { StopIngress(); }

  // Options trusting only the signer's keys; tests adjust them before StartIngress.
  daemon::WebhookIngressOptions Options(std::chrono::milliseconds busy_timeout = 1000ms) {
    auto verifier = ghl_client::WebhookVerifier::Create(
        {false,
         {{"ed25519", signer_->ed25519_public_pem()}, {"rsa", signer_->rsa_public_pem()}},
         true});
    if (!verifier.ok()) std::abort();
    daemon::WebhookIngressOptions o;
    o.verifier = std::move(verifier).value();
    o.read_timeout = 2s;
    o.writer.open = [path = dir_ / "state.db"] { return state::sqlite::Db::Open(path, 0ms); };
    o.writer.lock_wait = busy_timeout;
    o.writer.refresh_interval = 20ms;
    return o;
  }

  void StartIngress(daemon::WebhookIngressOptions options) {
    auto ingress = daemon::WebhookIngress::Start(io_, std::move(options), clock_, registry_);
    ASSERT_TRUE(ingress.ok()) << ingress.error().message;
    ingress_ = std::move(ingress).value();
    url_ = "http://127.0.0.1:" + std::to_string(ingress_->port());
    thread_ = std::thread([this] { io_.run(); });
  }

  // Ends the ingress on its io thread (commits what is queued), then the thread.
  void StopIngress() {
    if (!thread_.joinable()) return;
    std::promise<void> done;
    boost::asio::post(io_, [&] {
      ingress_.reset();
      done.set_value();
    });
    done.get_future().wait();
    io_.stop();
    thread_.join();
  }

  void OnIo(const std::function<void()>& fn) {
    std::promise<void> done;
    boost::asio::post(io_, [&] {
      fn();
      done.set_value();
    });
    done.get_future().wait();
  }

  // A ContactCreate body with the given envelope.
  static std::string Body(const std::string& webhook_id, Clock::TimePoint at = kNow,
                          const std::string& first_name = "Ada") {
    return R"({"type":"ContactCreate","locationId":"loc-1","id":"c-)" + webhook_id +
           R"(","firstName":")" + first_name + R"(","timestamp":")" + state::FormatUtcIso8601(at) +
           R"(","webhookId":")" + webhook_id + R"("})";
  }

  std::vector<std::string> Ed25519(const std::string& body) const {
    return {"x-ghl-signature: " + signer_->SignEd25519(body)};
  }
  std::vector<std::string> Rsa(const std::string& body) const {
    return {"x-wh-signature: " + signer_->SignRsaSha256(body)};
  }

  HttpReply Post(const std::string& body, const std::vector<std::string>& headers,
                 const std::string& path = "/webhooks/ghl") {
    return HttpCall("POST", url_ + path, body, headers);
  }
  HttpReply PostSigned(const std::string& body) { return Post(body, Ed25519(body)); }

  // What is in the inbox, read through a connection of its own.
  std::vector<state::InboxRow> Inbox() {
    state::InboxStore inbox(store_->db());
    auto rows = inbox.Pending(1'000'000);
    EXPECT_TRUE(rows.ok());
    return rows.ok() ? *rows : std::vector<state::InboxRow>{};
  }

  // The value of one series ("name{label=\"x\"}"), -1 when absent.
  double Metric(const std::string& series) {
    std::istringstream in(prometheus::TextSerializer().Serialize(registry_.Collect()));
    for (std::string line; std::getline(in, line);) {
      if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
    }
    return -1;
  }

  // A raw connection to the listener, for requests curl will not send.
  boost::asio::ip::tcp::socket Connect() {
    boost::asio::ip::tcp::socket socket(client_io_);
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), ingress_->port()});
    return socket;
  }
  // Reads until the server closes (or `timeout`); returns what arrived.
  static std::string ReadAll(boost::asio::ip::tcp::socket& socket,
                             std::chrono::milliseconds timeout) {
    timeval tv{static_cast<time_t>(timeout.count() / 1000),
               static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
    setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    std::string out;
    char buf[4096];
    for (;;) {
      const ssize_t n = ::recv(socket.native_handle(), buf, sizeof(buf), 0);
      if (n <= 0) return out;
      out.append(buf, static_cast<size_t>(n));
    }
  }

  TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<state::SqliteStateStore> store_;
  std::unique_ptr<emulator::WebhookSigner> signer_;
  prometheus::Registry registry_;
  boost::asio::io_context io_;
  boost::asio::io_context client_io_;
  std::unique_ptr<daemon::WebhookIngress> ingress_;
  std::thread thread_;
  std::string url_;
};

}  // namespace ghl::testing
