// HttpSession: the REST connector's blocking HTTP calls, with its own rate limit and retry
// policy. One libcurl easy handle is kept for the session, so connections are reused.
//
// A call waits until the rate limiter (a sliding window of rate_limit.requests per
// rate_limit.per, the GHL client's RateLimiter) lets it go, then sends. Within the call:
//   2xx                      kOk
//   429                      waits Retry-After (seconds or an HTTP date; else the backoff)
//                            and tries again; a Retry-After beyond retry.max_delay ends the
//                            call at once with kRetry
//   5xx, 408, timeouts,      backoff (base_delay doubling, with jitter, up to max_delay)
//   resets, refused          and try again
// until retry.max_attempts, then kRetry. A request that is not repeatable (Request::
// repeatable; by default POST and PATCH) is tried again only when it cannot have reached
// the API (the connection was refused, the name did not resolve, nothing was sent) or the
// API refused it unprocessed (429): after a timeout, a reset or a 5xx it may have been
// carried out, and the call ends with kRetry at once, for the engine to retry after it has
// looked for what the request did. Such a request also goes on a fresh connection:
// libcurl silently sends a request again when a reused connection dies before any answer. 401/403
// and other 4xx are kFatal at once, with the response body (truncated) in the message. Messages
// name the method and the target (path and query); credentials never appear in them (an
// api_key_query key is added to the URL only on the wire).
//
// Thread-safety: one thread at a time (the connector's contract).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "connectors/connector.h"
#include "connectors/rest/options.h"
#include "core/clock.h"

namespace ghl::ghl_client {
class RateLimiter;
}

namespace ghl::connectors::rest {

// Time for the session: waits go through `sleep`, so tests can pass a FakeClock and a
// sleep that advances it. Curl's own timeouts run on real time.
struct Env {
  const Clock* clock = nullptr;                // null: the system clock
  std::function<void(Clock::Duration)> sleep;  // empty: std::this_thread::sleep_for
};

struct HttpAnswer {
  Outcome outcome = Outcome::kOk;
  long status = 0;  // 0 when no HTTP answer arrived
  std::string body;
  std::map<std::string, std::string> headers;  // names lowercased
  std::string message;                         // for kRetry / kFatal
  int attempts = 0;
  std::string Header(const std::string& lowercase_name) const;
};

struct Request {
  std::string method;
  std::string target;  // a path with its query under base_url ("/customers?page=2")
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // besides the configured ones
  // May the request be sent again within the call once it may have reached the API?
  // nullopt: by method (GET, HEAD, PUT, DELETE, OPTIONS yes; POST, PATCH no).
  std::optional<bool> repeatable;
};

// Counters since the session started, for tests, logs and metrics.
struct Stats {
  int64_t requests = 0;          // sent (every attempt)
  int64_t retries = 0;           // attempts after the first
  int64_t rate_limited = 0;      // 429 answers
  int64_t server_errors = 0;     // 5xx and 408 answers
  int64_t transport_errors = 0;  // no answer: timeouts, resets, refused connections
  int64_t auth_errors = 0;       // 401 and 403 answers (the credentials were refused)
  int64_t not_resent = 0;        // calls ended at once: not repeatable, and may have arrived
  int64_t connections_opened = 0;
  Clock::Duration waited{0};  // spent in rate-limit waits and backoff
};

class HttpSession {
 public:
  HttpSession(const ConnectionOptions& options, std::string options_path, Env env);
  ~HttpSession();
  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;

  // `target` is a path with its query under base_url ("/customers?page=2").
  HttpAnswer Call(const std::string& method, const std::string& target,
                  const std::string& body = "");
  HttpAnswer Call(const Request& request);

  // The target under base_url that `url` (absolute, or relative to base_url) names, or
  // nullopt when it lies outside base_url. Any api_key_query parameter is removed.
  std::optional<std::string> TargetOf(const std::string& url) const;

  const Stats& stats() const { return stats_; }

 private:
  struct Raw;
  Raw Perform(const Request& request, bool repeatable);
  // Sets a's outcome and message from its status (0: no answer, `transport_error` says
  // why); returns how long to wait before the next attempt, or nullopt when the call ends.
  // `resendable`: the request may be sent again after a failure (it is repeatable, or it
  // cannot have reached the API).
  std::optional<Clock::Duration> Classify(HttpAnswer& a, const std::string& what,
                                          const std::string& transport_error, bool resendable);
  void WaitForLimiter();
  void Sleep(Clock::Duration d);
  Clock::Duration Backoff(int attempt);
  std::optional<Clock::Duration> RetryAfter(const HttpAnswer& answer) const;
  std::chrono::system_clock::time_point Now() const;
  // `text` without any credential, cut to a length fit for a message.
  std::string Redact(std::string text) const;

  ConnectionOptions options_;
  std::string options_path_;  // "connectors.<name>", for messages
  SystemClock system_clock_;
  const Clock* clock_;
  std::function<void(Clock::Duration)> sleep_;
  std::unique_ptr<ghl_client::RateLimiter> limiter_;
  void* curl_;  // CURL*, kept for connection reuse
  std::mt19937_64 rng_{std::random_device{}()};
  Stats stats_;
};

}  // namespace ghl::connectors::rest
