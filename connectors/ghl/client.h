// GhlClient: every GHL API call the daemon makes goes through here.
//
// Per location (or company) it keeps three queues, one per Lane, and one RateLimiter.
// A call waits in its lane until the limiter lets it go (real-time first), then runs on
// the shared CurlMulti. Each answer re-synchronises the limiter from the X-RateLimit-*
// headers. A 429 pauses the location for Retry-After (or the interval) plus jitter and
// puts the call back at the head of its lane. A 401 asks the TokenSource to refresh once
// and retries; a second 401 pauses that location (others go on) until Resume().
//
// Calls end in one of three outcomes for the caller (the outbox dispatcher):
//   kOk     2xx
//   kRetry  5xx, timeouts, resets, DNS, 429 beyond the retry budget, paused location:
//           try again later; nothing is lost
//   kFatal  400, 404, 422 and other 4xx: the body is kept for the dead-letter queue
// Thread-safety: single-threaded, on the io_context's thread.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>

#include "connectors/ghl/curl_multi.h"
#include "connectors/ghl/rate_limiter.h"
#include "core/clock.h"

namespace ghl::ghl_client {

// Which Version header an operation needs (FACTS.md §1.2).
enum class Family { kDefault, kCalendars, kNone };

struct ApiRequest {
  std::string operation;  // for metrics and logs, e.g. "contacts.search"
  std::string method = "GET";
  std::string path;  // with its query string, e.g. "/contacts/?locationId=..."
  std::string body;  // JSON; sent with Content-Type: application/json when not empty
  Family family = Family::kDefault;
};

enum class Outcome { kOk, kRetry, kFatal };
enum class ErrorClass { kNone, kRateLimited, kServer, kTransport, kAuth, kPaused, kPermanent };
const char* ToString(ErrorClass c);

struct ApiResult {
  Outcome outcome = Outcome::kOk;
  ErrorClass error = ErrorClass::kNone;
  long status = 0;
  std::string body;
  std::string message;   // GHL's message (a string, or an array joined) or curl's error
  std::string trace_id;  // GHL's traceId when the answer carries one
  int attempts = 0;
};

// Supplies the bearer token of one location; OAuth sources can refresh.
class TokenSource {
 public:
  virtual ~TokenSource() = default;
  virtual std::string Token() const = 0;
  // Starts a refresh; calls done(true) when a new token is in place. A Private
  // Integration Token cannot refresh and answers done(false).
  virtual void Refresh(std::function<void(bool ok)> done) = 0;
};

class StaticToken final : public TokenSource {
 public:
  explicit StaticToken(std::string token) : token_(std::move(token)) {}
  std::string Token() const override { return token_; }
  void Refresh(std::function<void(bool)> done) override { done(false); }

 private:
  std::string token_;
};

struct ClientOptions {
  std::string base_url = "https://services.leadconnectorhq.com";
  std::string version_default = "2021-07-28";
  std::string version_calendars = "2021-04-15";
  std::chrono::milliseconds timeout{30'000};
  int max_in_flight_per_location = 4;
  // Requests on the wire over all locations. Keep it at or below the CurlMulti's
  // connection limit: a call that waited inside curl for a connection would leave later
  // than the limiter counted it, and bunched arrivals can exceed GHL's window.
  int max_in_flight_total = 256;
  int max_rate_limited_attempts = 6;
  std::chrono::milliseconds max_429_jitter{1000};
  size_t max_response_bytes = 16 << 20;  // larger answers are cut off and retried
  RateLimiterOptions limits;
};

class GhlClient {
 public:
  using Callback = std::function<void(ApiResult)>;

  GhlClient(boost::asio::io_context& io, CurlMulti& curl, const Clock& clock, ClientOptions options,
            prometheus::Registry* metrics = nullptr);
  ~GhlClient();
  GhlClient(const GhlClient&) = delete;
  GhlClient& operator=(const GhlClient&) = delete;

  void AddLocation(const std::string& location_id, std::shared_ptr<TokenSource> tokens);
  // Queues `request` for `location_id`; `done` runs once, on the loop.
  void Call(const std::string& location_id, Lane lane, ApiRequest request, Callback done);
  // Pauses `location_id` (e.g. the app was uninstalled there): queued and later calls come
  // back kRetry/kPaused with `reason` until Resume().
  void Pause(const std::string& location_id, const std::string& reason);
  // Lifts a pause after an auth failure (e.g. a reload brought a new token).
  void Resume(const std::string& location_id, std::shared_ptr<TokenSource> tokens = nullptr);

  struct LocationStatus {
    bool known = false;
    bool paused = false;
    std::string pause_reason;
    int64_t burst_remaining = 0;
    int64_t daily_remaining = 0;
    size_t queued[3] = {0, 0, 0};
    int in_flight = 0;
  };
  LocationStatus Status(const std::string& location_id) const;
  RateLimiter* limiter(const std::string& location_id);

 private:
  struct Pending;
  struct Location;
  void Pump(Location& loc);
  void Send(Location& loc, Pending pending);
  void OnAnswer(const std::string& location_id, Pending pending, HttpResponse response);
  void Finish(Pending& pending, ApiResult result);
  void PauseLocation(Location& loc, const std::string& reason);
  RateLimiter::TimePoint Now() const;

  boost::asio::io_context& io_;
  CurlMulti& curl_;
  const Clock& clock_;
  ClientOptions options_;
  std::map<std::string, std::unique_ptr<Location>> locations_;
  int in_flight_total_ = 0;
  // Locations with work that the global cap held back, served first as calls finish.
  std::deque<std::string> starved_;
  std::mt19937_64 jitter_rng_{std::random_device{}()};
  std::shared_ptr<bool> alive_;

  struct Metrics;
  std::unique_ptr<Metrics> metrics_;
};

}  // namespace ghl::ghl_client
