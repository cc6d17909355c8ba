// webhooks_bench: signed GHL webhooks against ghl-syncd's webhook endpoint, as fast as the
// daemon answers, over N keep-alive connections on one Asio thread.
//
//   webhooks_bench --url http://127.0.0.1:PORT/webhooks/ghl --keys-dir DIR
//                  --connections 64 --seconds 10 [--scheme ed25519|rsa] [--acked FILE]
//   webhooks_bench --url ... --keys-dir DIR --keys-only     (creates the keys, exits)
//
// Every body is distinct (its own webhookId, a current timestamp) and signed before the
// clock starts, with the emulator's signer (its keys kept in DIR, so the daemon can trust
// DIR/webhook-ed25519.pub.pem and DIR/webhook-rsa.pub.pem). Prints one line:
//   RESULT connections=64 seconds=10.0 sent=.. ok=.. throttled=.. other=.. errors=..
//          rate=.. p50_ms=.. p99_ms=.. max_ms=..
// where rate counts 200 answers per second. With --acked, the webhookIds answered 200 are
// written to FILE, one a line (for the kill -9 check: each must be in the inbox).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "emulator/webhook_signer.h"
#include "state/migrations.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

struct Target {
  std::string host, port, path;
};

std::optional<Target> ParseUrl(const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) return std::nullopt;
  const size_t slash = url.find('/', scheme.size());
  const std::string authority = url.substr(scheme.size(), slash - scheme.size());
  const size_t colon = authority.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  return Target{authority.substr(0, colon), authority.substr(colon + 1),
                slash == std::string::npos ? "/" : url.substr(slash)};
}

// One pre-built request: its raw HTTP text and its webhookId.
struct Prepared {
  std::string id;
  std::string wire;
};

std::vector<Prepared> Prepare(const ghl::emulator::WebhookSigner& signer, const Target& target,
                              size_t count, bool rsa) {
  std::mt19937_64 rng(std::random_device{}());
  const std::string run = std::to_string(rng());
  const std::string timestamp = ghl::state::FormatUtcIso8601(std::chrono::system_clock::now());
  std::vector<Prepared> out;
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    const std::string id = "bench-" + run + "-" + std::to_string(i);
    // A ContactUpdate of the documented shape, about 600 bytes.
    const std::string body =
        R"({"type":"ContactUpdate","locationId":"bench-location","id":"c)" + std::to_string(i) +
        R"(","address1":"3535 1st St N","city":"Dolomite","state":"AL","companyName":"Bench",)"
        R"("country":"DE","source":"bench","dateAdded":"2021-11-26T12:41:02.193Z",)"
        R"("dnd":false,"email":"bench)" +
        std::to_string(i) +
        R"(@example.com","name":"Bench User","firstName":"Bench","lastName":"User",)"
        R"("phone":"+14155550100","postalCode":"35061","tags":["bench","load"],)"
        R"("website":"https://example.com/","attachments":[],"assignedTo":"u1",)"
        R"("customFields":[{"id":"BcdmQEsNgz6AVpgLVUJ0","value":"XYZ Corp"}],"timestamp":")" +
        timestamp + R"(","webhookId":")" + id + R"("})";
    const std::string signature = rsa ? "x-wh-signature: " + signer.SignRsaSha256(body)
                                      : "x-ghl-signature: " + signer.SignEd25519(body);
    out.push_back({id, "POST " + target.path + " HTTP/1.1\r\nHost: " + target.host +
                           "\r\nContent-Type: application/json\r\nContent-Length: " +
                           std::to_string(body.size()) + "\r\n" + signature + "\r\n\r\n" + body});
  }
  return out;
}

struct Totals {
  size_t sent = 0, ok = 0, throttled = 0, other = 0, errors = 0;
  std::vector<double> latencies_ms;  // of 200 answers
  std::vector<std::string> acked;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(asio::io_context& io, const std::vector<Prepared>& work, size_t& next,
             SteadyClock::time_point until, Totals& totals)
      : stream_(io), work_(work), next_(next), until_(until), totals_(totals) {}

  void Start(const tcp::resolver::results_type& endpoints) {
    stream_.async_connect(endpoints, [self = shared_from_this()](beast::error_code ec, auto) {
      if (ec) {
        ++self->totals_.errors;
        return;
      }
      self->stream_.socket().set_option(tcp::no_delay(true));
      self->Send();
    });
  }

 private:
  void Send() {
    if (next_ >= work_.size() || SteadyClock::now() >= until_) return;
    current_ = &work_[next_++];
    ++totals_.sent;
    started_ = SteadyClock::now();
    asio::async_write(stream_, asio::buffer(current_->wire),
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec) return self->Fail();
                        self->Receive();
                      });
  }

  void Receive() {
    response_.emplace();
    http::async_read(stream_, buffer_, *response_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) return self->Fail();
                       self->Done();
                     });
  }

  void Done() {
    const unsigned status = response_->result_int();
    if (status == 200) {
      ++totals_.ok;
      totals_.latencies_ms.push_back(
          std::chrono::duration<double, std::milli>(SteadyClock::now() - started_).count());
      totals_.acked.push_back(current_->id);
    } else if (status == 429) {
      ++totals_.throttled;
    } else {
      ++totals_.other;
    }
    if (!response_->keep_alive()) return;
    Send();
  }

  // The daemon went away (killed): this connection is done.
  void Fail() { ++totals_.errors; }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::response<http::string_body>> response_;
  const std::vector<Prepared>& work_;
  size_t& next_;
  SteadyClock::time_point until_;
  Totals& totals_;
  const Prepared* current_ = nullptr;
  SteadyClock::time_point started_;
};

double Percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const size_t i = std::min(sorted.size() - 1, static_cast<size_t>(p * sorted.size()));
  return sorted[i];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"Signed GHL webhooks against ghl-syncd's webhook endpoint"};
  std::string url, keys_dir, scheme = "ed25519", acked_path;
  int connections = 1;
  double seconds = 10;
  size_t count = 200'000;
  cli.add_option("--url", url, "Webhook URL (http://host:port/path)")->required();
  cli.add_option("--keys-dir", keys_dir, "Signing keys (created if missing)")->required();
  cli.add_option("--connections", connections, "Concurrent keep-alive connections");
  cli.add_option("--seconds", seconds, "Duration");
  cli.add_option("--count", count, "Webhooks signed in advance (the most that are sent)");
  cli.add_option("--scheme", scheme, "ed25519 (x-ghl-signature) or rsa (x-wh-signature)")
      ->check(CLI::IsMember({"ed25519", "rsa"}));
  cli.add_option("--acked", acked_path, "Write the webhookIds answered 200 here");
  bool keys_only = false;
  cli.add_flag("--keys-only", keys_only, "Create the keys in --keys-dir and exit");
  CLI11_PARSE(cli, argc, argv);

  const auto target = ParseUrl(url);
  if (!target) {
    std::fprintf(stderr, "--url: expected http://host:port/path, got %s\n", url.c_str());
    return 2;
  }
  auto signer = ghl::emulator::WebhookSigner::Create(keys_dir);
  if (!signer.ok()) {
    std::fprintf(stderr, "%s\n", signer.error().message.c_str());
    return 1;
  }
  if (keys_only) return 0;
  const auto work = Prepare(**signer, *target, count, scheme == "rsa");
  std::fprintf(stderr, "signed %zu webhooks; sending\n", work.size());

  asio::io_context io;
  tcp::resolver resolver(io);
  beast::error_code ec;
  const auto endpoints = resolver.resolve(target->host, target->port, ec);
  if (ec) {
    std::fprintf(stderr, "cannot resolve %s: %s\n", target->host.c_str(), ec.message().c_str());
    return 1;
  }
  Totals totals;
  size_t next = 0;
  const auto start = SteadyClock::now();
  const auto until = start + std::chrono::duration_cast<SteadyClock::duration>(
                                 std::chrono::duration<double>(seconds));
  for (int i = 0; i < connections; ++i) {
    std::make_shared<Connection>(io, work, next, until, totals)->Start(endpoints);
  }
  io.run();
  const double took = std::chrono::duration<double>(SteadyClock::now() - start).count();

  std::sort(totals.latencies_ms.begin(), totals.latencies_ms.end());
  std::printf(
      "RESULT connections=%d seconds=%.1f sent=%zu ok=%zu throttled=%zu other=%zu errors=%zu "
      "rate=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
      connections, took, totals.sent, totals.ok, totals.throttled, totals.other, totals.errors,
      static_cast<double>(totals.ok) / took, Percentile(totals.latencies_ms, 0.50),
      Percentile(totals.latencies_ms, 0.99),
      totals.latencies_ms.empty() ? 0.0 : totals.latencies_ms.back());
  if (!acked_path.empty()) {
    std::ofstream out(acked_path);
    for (const auto& id : totals.acked) out << id << "\n";
  }
  if (next >= work.size()) {
    std::fprintf(stderr, "note: all %zu prepared webhooks were sent before the time was up\n",
                 work.size());
  }
  return 0;
}
