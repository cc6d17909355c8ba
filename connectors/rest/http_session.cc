#include "connectors/rest/http_session.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <thread>

#include "connectors/ghl/rate_limiter.h"

namespace ghl::connectors::rest {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

constexpr size_t kMaxResponseBytes = size_t{64} << 20;
constexpr size_t kMaxBodyInMessage = 500;

struct Headers {
  curl_slist* list = nullptr;
  ~Headers() { curl_slist_free_all(list); }
  void Add(const std::string& line) { list = curl_slist_append(list, line.c_str()); }
};

std::string Escape(CURL* curl, const std::string& s) {
  char* e = curl_easy_escape(curl, s.data(), static_cast<int>(s.size()));
  std::string out = e != nullptr ? e : "";
  curl_free(e);
  return out;
}

std::string Seconds(Clock::Duration d) {
  return fmt::format("{:g}s", static_cast<double>(duration_cast<milliseconds>(d).count()) / 1000);
}

}  // namespace

struct HttpSession::Raw {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;
  CURLcode code = CURLE_OK;
  std::string error;
  bool too_large = false;
  bool sent = false;  // request bytes went out (an answer, or a failure after sending)
};

std::string HttpAnswer::Header(const std::string& lowercase_name) const {
  auto it = headers.find(lowercase_name);
  return it == headers.end() ? "" : it->second;
}

HttpSession::HttpSession(const ConnectionOptions& options, std::string options_path, Env env)
    : options_(options),
      options_path_(std::move(options_path)),
      clock_(env.clock != nullptr ? env.clock : &system_clock_),
      sleep_(env.sleep ? std::move(env.sleep)
                       : [](Clock::Duration d) { std::this_thread::sleep_for(d); }),
      curl_(curl_easy_init()) {
  ghl_client::RateLimiterOptions limits;
  limits.burst = options_.rate_limit.requests;
  limits.interval = options_.rate_limit.per;
  limits.daily = std::numeric_limits<int64_t>::max();
  limits.burst_margin = 0;
  limits.window_margin = milliseconds(0);
  limits.realtime_reserve = 0;
  limiter_ = std::make_unique<ghl_client::RateLimiter>(limits);
}

HttpSession::~HttpSession() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

std::chrono::system_clock::time_point HttpSession::Now() const {
  return std::chrono::time_point_cast<std::chrono::system_clock::duration>(clock_->Now());
}

void HttpSession::Sleep(Clock::Duration d) {
  if (d <= Clock::Duration::zero()) return;
  stats_.waited += d;
  sleep_(d);
}

void HttpSession::WaitForLimiter() {
  const auto now = Now();
  const auto when = limiter_->EarliestSend(ghl_client::Lane::kRealtime, now);
  if (when && *when > now) Sleep(*when - now);
}

Clock::Duration HttpSession::Backoff(int attempt) {
  const int64_t base = options_.retry.base_delay.count();
  const int64_t cap = options_.retry.max_delay.count();
  const int64_t full = std::min(cap, base << std::min(attempt - 1, 30));
  // Between half and all of the exponential delay, so that clients spread out.
  return milliseconds(std::uniform_int_distribution<int64_t>(full / 2, full)(rng_));
}

std::optional<Clock::Duration> HttpSession::RetryAfter(const HttpAnswer& answer) const {
  const std::string v = answer.Header("retry-after");
  if (v.empty()) return std::nullopt;
  if (std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c); })) {
    return std::chrono::seconds(std::stoll(v.substr(0, 9)));
  }
  const time_t at = curl_getdate(v.c_str(), nullptr);
  if (at < 0) return std::nullopt;
  const auto wait = std::chrono::system_clock::from_time_t(at) - Now();
  return std::max<Clock::Duration>(Clock::Duration::zero(), wait);
}

std::string HttpSession::Redact(std::string text) const {
  for (const Secret* s : {&options_.auth.token, &options_.auth.password}) {
    if (s->empty()) continue;
    for (size_t at = text.find(s->Reveal()); at != std::string::npos;
         at = text.find(s->Reveal(), at)) {
      text.replace(at, s->Reveal().size(), "<redacted>");
    }
  }
  if (text.size() > kMaxBodyInMessage) {
    text = text.substr(0, kMaxBodyInMessage) + "... (" + std::to_string(text.size()) + " bytes)";
  }
  return text;
}

HttpAnswer HttpSession::Call(const std::string& method, const std::string& target,
                             const std::string& body) {
  return Call(Request{method, target, body, {}, std::nullopt});
}

HttpAnswer HttpSession::Call(const Request& request) {
  const std::string what = request.method + " " + request.target;
  const bool repeatable =
      request.repeatable.value_or(request.method != "POST" && request.method != "PATCH");
  for (int attempt = 1;; ++attempt) {
    WaitForLimiter();
    limiter_->RecordSend(Now());
    Raw raw = Perform(request, repeatable);
    ++stats_.requests;
    if (attempt > 1) ++stats_.retries;
    HttpAnswer a;
    a.attempts = attempt;
    a.status = raw.code == CURLE_OK ? raw.status : 0;
    a.body = std::move(raw.body);
    a.headers = std::move(raw.headers);
    const auto wait =
        Classify(a, what, raw.code == CURLE_OK ? "" : raw.error, repeatable || !raw.sent);
    if (!wait) return a;
    spdlog::warn("{}: {}; retrying in {}", options_path_, a.message, Seconds(*wait));
    Sleep(*wait);
  }
}

std::optional<Clock::Duration> HttpSession::Classify(HttpAnswer& a, const std::string& what,
                                                     const std::string& transport_error,
                                                     bool resendable) {
  const bool last = a.attempts >= options_.retry.max_attempts;
  const std::string after = last ? " after " + std::to_string(a.attempts) + " attempt(s)" : "";
  a.outcome = Outcome::kRetry;
  if (a.status >= 200 && a.status < 300) {
    a.outcome = Outcome::kOk;
    return std::nullopt;
  }
  if (a.status == 429) {
    ++stats_.rate_limited;
    const auto retry_after = RetryAfter(a);
    if (retry_after && *retry_after > options_.retry.max_delay) {
      a.message = what + " answered 429 (rate limited) with Retry-After " + Seconds(*retry_after) +
                  ", longer than " + options_path_ + ".retry.max_delay; the call is left for later";
      return std::nullopt;
    }
    a.message = what + " answered 429 (rate limited)" + after;
    if (last) return std::nullopt;
    // The limiter also holds the connector's other requests until the wait is over.
    const auto wait = retry_after.value_or(Backoff(a.attempts));
    limiter_->OnTooManyRequests(Now(), duration_cast<milliseconds>(wait), milliseconds(0));
    return wait;
  }
  if (a.status == 0 || a.status >= 500 || a.status == 408) {
    ++(a.status == 0 ? stats_.transport_errors : stats_.server_errors);
    a.message = a.status == 0 ? what + " failed" + after + ": " + transport_error
                              : what + " answered " + std::to_string(a.status) + after + ": " +
                                    Redact(a.body);
    if (!resendable) {
      // It may have been carried out: sending it again could do it twice (a second item).
      ++stats_.not_resent;
      a.message +=
          " (not sent again within the call: the API may have carried it out; the retry "
          "looks for what it did first)";
      return std::nullopt;
    }
    if (last) return std::nullopt;
    return Backoff(a.attempts);
  }
  a.message = what + " answered " + std::to_string(a.status);
  if (a.status == 401 || a.status == 403) {
    // The credentials, not the record: like a GHL location whose token is refused, the
    // write waits (the dispatcher's backoff) until they are fixed, and no record is
    // dead-lettered for it. Not retried here: the same request would be refused again.
    ++stats_.auth_errors;
    a.message += ": the API rejected the credentials; check " + options_path_ +
                 ".auth (writes wait and are retried): " + Redact(a.body);
    return std::nullopt;
  }
  a.outcome = Outcome::kFatal;
  a.message += ": " + Redact(a.body);
  return std::nullopt;
}

HttpSession::Raw HttpSession::Perform(const Request& request, bool repeatable) {
  const std::string& method = request.method;
  const std::string& target = request.target;
  const std::string& body = request.body;
  CURL* curl = static_cast<CURL*>(curl_);
  curl_easy_reset(curl);  // keeps the open connections
  Raw raw;
  const AuthOptions& auth = options_.auth;
  std::string url = options_.base_url + target;
  if (auth.type == "api_key_query") {
    url += (target.find('?') == std::string::npos ? "?" : "&") + Escape(curl, auth.param) + "=" +
           Escape(curl, auth.token.Reveal());
  }
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  if (method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  if (!body.empty() || (method != "GET" && method != "DELETE")) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  Headers headers;
  headers.Add("Accept: application/json");
  headers.Add("Expect:");
  if (!body.empty()) headers.Add("Content-Type: application/json");
  for (const auto& [name, value] : options_.headers) headers.Add(name + ": " + value);
  for (const auto& [name, value] : request.headers) headers.Add(name + ": " + value);
  if (auth.type == "bearer") headers.Add("Authorization: Bearer " + auth.token.Reveal());
  if (auth.type == "api_key_header") headers.Add(auth.header + ": " + auth.token.Reveal());
  if (auth.type == "basic") {
    curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(curl, CURLOPT_USERNAME, auth.username.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, auth.password.Reveal().c_str());
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.list);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  // On a reused connection that dies before any answer libcurl sends the request again by
  // itself; a request that must not be repeated gets a connection of its own.
  if (!repeatable) curl_easy_setopt(curl, CURLOPT_FRESH_CONNECT, 1L);
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(
      curl, CURLOPT_WRITEFUNCTION, +[](char* data, size_t size, size_t n, void* out) -> size_t {
        auto* r = static_cast<Raw*>(out);
        if (r->body.size() + size * n > kMaxResponseBytes) {
          r->too_large = true;
          return 0;
        }
        r->body.append(data, size * n);
        return size * n;
      });
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &raw);
  curl_easy_setopt(
      curl, CURLOPT_HEADERFUNCTION, +[](char* data, size_t size, size_t n, void* out) -> size_t {
        auto& h = static_cast<Raw*>(out)->headers;
        std::string line(data, size * n);
        if (line.rfind("HTTP/", 0) == 0) h.clear();  // a new response (after 100 Continue)
        const size_t colon = line.find(':');
        if (colon == std::string::npos) return size * n;
        std::string name = line.substr(0, colon);
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return std::tolower(c); });
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(" \t"));
        while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
        std::string& slot = h[name];
        slot += (slot.empty() ? "" : ", ") + value;  // repeated headers (Link) are joined
        return size * n;
      });
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &raw);
  raw.code = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &raw.status);
  long connects = 0;
  curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &connects);
  stats_.connections_opened += connects;
  long request_size = 0;
  curl_easy_getinfo(curl, CURLINFO_REQUEST_SIZE, &request_size);
  raw.sent = request_size > 0 || raw.status != 0;
  if (raw.code != CURLE_OK) {
    raw.status = 0;
    raw.error =
        raw.too_large ? "the answer is larger than 64 MiB"
        : raw.code == CURLE_OPERATION_TIMEDOUT
            ? "timed out after " + Seconds(options_.timeout) + " (" + options_path_ + ".timeout)"
            : std::string(error[0] != 0 ? error : curl_easy_strerror(raw.code));
    raw.error = Redact(raw.error);
  }
  return raw;
}

std::optional<std::string> HttpSession::TargetOf(const std::string& url) const {
  CURLU* u = curl_url();
  auto text = [&](const std::string& base) -> std::optional<std::string> {
    char* out = nullptr;
    if (curl_url_set(u, CURLUPART_URL, base.c_str(), 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_URL, &out, 0) != CURLUE_OK) {
      return std::nullopt;
    }
    std::string s = out;
    curl_free(out);
    return s;
  };
  auto base = text(options_.base_url + "/");
  auto full = base ? text(url) : std::nullopt;  // resolved against the base
  curl_url_cleanup(u);
  if (!base || !full) return std::nullopt;
  base->pop_back();
  if (full->rfind(*base, 0) != 0) return std::nullopt;
  std::string target = full->substr(base->size());
  if (!target.empty() && target[0] != '/' && target[0] != '?') return std::nullopt;
  if (options_.auth.type != "api_key_query") return target;
  // Drop our own key from the query: Perform adds it again.
  const size_t q = target.find('?');
  if (q == std::string::npos) return target;
  std::string kept;
  size_t start = q + 1;
  while (start <= target.size()) {
    size_t end = target.find('&', start);
    if (end == std::string::npos) end = target.size();
    const std::string pair = target.substr(start, end - start);
    if (!pair.empty() && pair.substr(0, pair.find('=')) != options_.auth.param) {
      kept += (kept.empty() ? "" : "&") + pair;
    }
    start = end + 1;
  }
  return target.substr(0, q) + (kept.empty() ? "" : "?" + kept);
}

}  // namespace ghl::connectors::rest
