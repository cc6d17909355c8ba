// Emulator: a stateful, in-memory stand-in for the GHL API v2.
//
// Every API request goes through one pipeline, in GHL's order: route → auth (Bearer) →
// Version header → rate limit (per app or token and location) → handler. Every
// response carries the X-RateLimit-* headers and is recorded in the request log that
// tests read through the admin API (/_emulator/...). Faults (5xx, latency, resets,
// timeouts, 401s) are injected on demand. Changes fire webhooks through a WebhookSink.
// Thread-safety: single-threaded, on the io_context's thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/http_server.h"
#include "emulator/json.h"
#include "emulator/rate_limiter.h"
#include "emulator/router.h"
#include "emulator/world.h"

namespace ghl::emulator {

struct Faults {
  double error_rate = 0;    // share of API requests answered with a 5xx
  double reset_rate = 0;    // share dropped without an answer
  double timeout_rate = 0;  // share held unanswered for `timeout_ms`, then dropped
  int64_t timeout_ms = 30'000;
  int64_t latency_ms = 0;  // added before every API answer
  // Share of successful API answers whose body is spoiled, and how: "malformed" (not
  // JSON), "truncated" (cut in half), "html" (a proxy's error page with status 200),
  // "huge" (40 MiB of JSON padding).
  double body_fault_rate = 0;
  std::string body_fault = "malformed";
  std::set<std::string> unauthorized_tokens;  // always 401, as if revoked
  // Share of successful API writes (POST, PUT, DELETE; not POST /contacts/search) that are
  // applied, webhooks and all, and whose answer is then lost, and how: "5xx" (replaced
  // with a 500, 502, 503 or 504), "reset" (dropped), "timeout" (held for `timeout_ms`,
  // then dropped). The request log keeps the applied status and the fault.
  double lost_answer_rate = 0;
  std::string lost_answer = "5xx";
  // Webhook delivery faults, applied by the dispatcher.
  double webhook_drop_rate = 0;
  double webhook_duplicate_rate = 0;
  bool webhook_reorder = false;
  int64_t webhook_delay_ms = 0;
};

struct RequestLogEntry {
  int64_t at_ms;  // the time the rate limiter judged the request at (and its handler ran at)
  std::string method;
  std::string path;
  int status;
  std::string rate_key;  // empty for unauthenticated calls
  std::string location_id;
  std::string lost_answer;  // the lost-answer fault that took its answer; empty: none
};

// Receives every event the emulator fires; the dispatcher signs and POSTs them.
class WebhookSink {
 public:
  virtual ~WebhookSink() = default;
  // `payload` is the flat event body without timestamp/webhookId (the sink adds them).
  virtual void Publish(const std::string& type, const JsonDoc& payload) = 0;
  virtual void SetFaults(const Faults& faults) = 0;
  // PEM public keys for x-ghl-signature (Ed25519) and x-wh-signature (RSA).
  virtual std::string Ed25519PublicKeyPem() const = 0;
  virtual std::string RsaPublicKeyPem() const = 0;
};

struct EmulatorOptions {
  uint64_t seed = 1;
  RateLimits limits;
  int64_t search_lag_ms = 2000;  // GHL: "updates may take a few seconds to appear in search"
  int64_t access_token_ttl_s = 86'399;
  std::string snapshot_path;  // where the world is saved (snapshot.h); empty: nowhere
  // The emulator's time (Unix ms) for records, search lag and rate limits; empty: the system
  // clock. The in-process simulation (tests/simulation/) runs it on a fake clock.
  std::function<int64_t()> now_ms;
};

class Emulator {
 public:
  Emulator(boost::asio::io_context& io, EmulatorOptions options);
  ~Emulator();

  void Handle(http_server::Request&& req, std::shared_ptr<http_server::Responder> responder);
  // One API request as the app makes it, in process and at once: route → auth → Version →
  // rate limit → handler, logged like Handle's; the X-RateLimit-* headers are added to the
  // reply's. No transport faults (resets, timeouts, latency, spoiled bodies): the caller
  // injects its own.
  Reply HandleNow(http_server::Request& req);

  // Creates the default world (one location, its PIT, a pipeline, a calendar, custom
  // fields, a user) and returns a human-readable summary of ids and the token.
  std::string SeedDefault();
  // Creates `loc` with its PIT `token` and the same companions as the default world.
  std::string SeedLocation(Location loc, const std::string& token);
  void Reset();

  World& world() { return world_; }
  const EmulatorOptions& options() const { return options_; }
  EmulatorOptions& mutable_options() { return options_; }
  StrictRateLimiter& limiter() { return limiter_; }
  Faults& faults() { return faults_; }
  void ApplyFaults();
  std::deque<RequestLogEntry>& request_log() { return request_log_; }
  const std::vector<JsonDoc>& events() const { return events_; }
  void set_webhook_sink(std::unique_ptr<WebhookSink> sink);
  WebhookSink* webhook_sink() { return sink_.get(); }
  boost::asio::io_context& io() { return io_; }

  int64_t NowMs() const;
  std::string NewId(size_t length = 20) { return ids_.Next(length); }
  // The seed the id sequence last started from: options.seed, or the stream a loaded
  // snapshot continues on (snapshot.cc), so that new ids do not repeat the loaded ones.
  // (Reset() restarts at options.seed without changing it: its world is new anyway.)
  uint64_t id_stream() const { return id_stream_; }
  void StartIdStream(uint64_t stream) {
    id_stream_ = stream;
    ids_.Reseed(stream);
  }
  // Runs an API call as a GHL user in the web app would make the change: no token, no
  // rate limit, not logged, no faults; webhooks fire unless `webhooks` is false.
  Reply ActAsUser(http::verb method, const std::string& target, std::string body,
                  bool webhooks = true);
  // Fires a webhook event: `payload` gets `type` and `locationId` and goes to the sink.
  void Emit(const std::string& type, const std::string& location_id, JsonDoc payload);

 private:
  struct DispatchInfo {
    int64_t at_ms = 0;  // the request's time (Call::now_ms)
    std::string rate_key;
    std::string location_id;
    std::map<std::string, std::string> headers;
  };
  Reply Dispatch(http_server::Request& req, DispatchInfo* info, bool as_user);
  bool Chance(double p);
  int RandomServerError();
  // Whether the answer to this applied write is to be lost (Faults::lost_answer_rate).
  bool LoseAnswer(const http_server::Request& req, const std::string& path, const Reply& reply);
  void SpoilBody(Reply* reply);

  boost::asio::io_context& io_;
  EmulatorOptions options_;
  World world_;
  Router router_;
  StrictRateLimiter limiter_;
  Faults faults_;
  IdGenerator ids_;
  uint64_t id_stream_;
  std::mt19937_64 fault_rng_;
  std::deque<RequestLogEntry> request_log_;
  std::vector<JsonDoc> events_;
  std::unique_ptr<WebhookSink> sink_;
  bool mute_webhooks_ = false;
};

// Route groups, one file each.
void RegisterContactRoutes(Router& router);
void RegisterCustomFieldRoutes(Router& router);
void RegisterOpportunityRoutes(Router& router);
void RegisterCalendarRoutes(Router& router);
void RegisterOAuthRoutes(Router& router);
void RegisterAdminRoutes(Router& router);

}  // namespace ghl::emulator
