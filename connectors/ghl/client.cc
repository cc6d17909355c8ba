#include "connectors/ghl/client.h"

#include <rapidjson/document.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace ghl::ghl_client {

const char* ToString(ErrorClass c) {
  switch (c) {
    case ErrorClass::kNone:
      return "none";
    case ErrorClass::kRateLimited:
      return "rate_limited";
    case ErrorClass::kServer:
      return "server";
    case ErrorClass::kTransport:
      return "transport";
    case ErrorClass::kAuth:
      return "auth";
    case ErrorClass::kPaused:
      return "paused";
    case ErrorClass::kPermanent:
      return "permanent";
  }
  return "unknown";
}

struct GhlClient::Pending {
  Lane lane;
  ApiRequest request;
  Callback done;
  int attempts = 0;
  bool refreshed = false;
  std::chrono::steady_clock::time_point queued_at;
};

struct GhlClient::Location {
  Location(boost::asio::io_context& io, std::string id, RateLimiterOptions limits,
           std::shared_ptr<TokenSource> tokens)
      : id(std::move(id)), limiter(limits), tokens(std::move(tokens)), timer(io) {}
  std::string id;
  RateLimiter limiter;
  std::shared_ptr<TokenSource> tokens;
  std::deque<Pending> lanes[3];
  int in_flight = 0;
  bool paused = false;
  bool refreshing = false;
  std::string pause_reason;
  boost::asio::steady_timer timer;
  std::optional<RateLimiter::TimePoint> timer_at;
};

struct GhlClient::Metrics {
  explicit Metrics(prometheus::Registry& r)
      : requests(prometheus::BuildCounter()
                     .Name("ghl_syncd_api_requests_total")
                     .Help("GHL API requests by operation and HTTP status (0: no answer)")
                     .Register(r)),
        rate_limited(prometheus::BuildCounter()
                         .Name("ghl_syncd_api_rate_limited_total")
                         .Help("429 answers from GHL, by location")
                         .Register(r)),
        wait(prometheus::BuildCounter()
                 .Name("ghl_syncd_rate_limit_wait_seconds_total")
                 .Help("Time calls spent queued for rate-limit budget, by location")
                 .Register(r)),
        budget(prometheus::BuildGauge()
                   .Name("ghl_syncd_rate_limit_remaining")
                   .Help("Requests left in the burst window and the UTC day, by location")
                   .Register(r)),
        paused(prometheus::BuildGauge()
                   .Name("ghl_syncd_location_paused")
                   .Help("1 while a location is paused after an auth failure")
                   .Register(r)),
        in_flight(prometheus::BuildGauge()
                      .Name("ghl_syncd_api_in_flight")
                      .Help("GHL API requests on the wire")
                      .Register(r)
                      .Add({})) {}
  prometheus::Family<prometheus::Counter>& requests;
  prometheus::Family<prometheus::Counter>& rate_limited;
  prometheus::Family<prometheus::Counter>& wait;
  prometheus::Family<prometheus::Gauge>& budget;
  prometheus::Family<prometheus::Gauge>& paused;
  prometheus::Gauge& in_flight;
};

namespace {

// GHL's message is a string (400, 401) or an array of strings (422); fall back to
// `error`, then `detail`, as the official SDK does.
void ParseBody(const std::string& body, ApiResult* result) {
  rapidjson::Document d;
  d.Parse(body.c_str(), body.size());
  if (d.HasParseError() || !d.IsObject()) return;
  if (auto it = d.FindMember("message"); it != d.MemberEnd()) {
    if (it->value.IsString()) {
      result->message = it->value.GetString();
    } else if (it->value.IsArray()) {
      for (const auto& m : it->value.GetArray()) {
        if (!m.IsString()) continue;
        if (!result->message.empty()) result->message += ", ";
        result->message += m.GetString();
      }
    }
  }
  for (const char* fallback : {"error", "detail"}) {
    if (!result->message.empty()) break;
    if (auto it = d.FindMember(fallback); it != d.MemberEnd() && it->value.IsString()) {
      result->message = it->value.GetString();
    }
  }
  if (auto it = d.FindMember("traceId"); it != d.MemberEnd() && it->value.IsString()) {
    result->trace_id = it->value.GetString();
  }
}

// Why `body` is not usable JSON, if it is not. An empty body is fine (204 and the like).
std::optional<std::string> NotJson(const std::string& body, const std::string& content_type) {
  if (body.empty()) return std::nullopt;
  rapidjson::Document d;
  d.Parse(body.c_str(), body.size());
  if (!d.HasParseError()) return std::nullopt;
  return "the body is not JSON (error at byte " + std::to_string(d.GetErrorOffset()) + " of " +
         std::to_string(body.size()) + ", content-type '" + content_type + "')";
}

std::optional<int64_t> HeaderInt(const HttpResponse& r, const char* name) {
  const std::string v = r.Header(name);
  if (v.empty()) return std::nullopt;
  char* end = nullptr;
  const long long n = std::strtoll(v.c_str(), &end, 10);
  if (end == v.c_str()) return std::nullopt;
  return n;
}

}  // namespace

GhlClient::GhlClient(boost::asio::io_context& io, CurlMulti& curl, const Clock& clock,
                     ClientOptions options, prometheus::Registry* metrics)
    : io_(io),
      curl_(curl),
      clock_(clock),
      options_(std::move(options)),
      alive_(std::make_shared<bool>(true)) {
  while (!options_.base_url.empty() && options_.base_url.back() == '/')
    options_.base_url.pop_back();
  if (metrics != nullptr) metrics_ = std::make_unique<Metrics>(*metrics);
}

GhlClient::~GhlClient() { *alive_ = false; }

RateLimiter::TimePoint GhlClient::Now() const {
  return std::chrono::time_point_cast<RateLimiter::TimePoint::duration>(clock_.Now());
}

void GhlClient::AddLocation(const std::string& location_id, std::shared_ptr<TokenSource> tokens) {
  if (locations_.count(location_id) > 0) return;
  locations_[location_id] =
      std::make_unique<Location>(io_, location_id, options_.limits, std::move(tokens));
}

RateLimiter* GhlClient::limiter(const std::string& location_id) {
  auto it = locations_.find(location_id);
  return it == locations_.end() ? nullptr : &it->second->limiter;
}

void GhlClient::Call(const std::string& location_id, Lane lane, ApiRequest request, Callback done) {
  Pending p{lane, std::move(request), std::move(done), 0, false, std::chrono::steady_clock::now()};
  auto it = locations_.find(location_id);
  if (it == locations_.end()) {
    ApiResult r{Outcome::kFatal, ErrorClass::kPermanent};
    r.message = "location " + location_id + " is not configured";
    return Finish(p, std::move(r));
  }
  Location& loc = *it->second;
  if (loc.paused) {
    ApiResult r{Outcome::kRetry, ErrorClass::kPaused};
    r.message = "location " + location_id + " is paused: " + loc.pause_reason;
    return Finish(p, std::move(r));
  }
  loc.lanes[static_cast<int>(lane)].push_back(std::move(p));
  Pump(loc);
}

void GhlClient::Pump(Location& loc) {
  while (!loc.paused && !loc.refreshing && loc.in_flight < options_.max_in_flight_per_location) {
    auto lane_it = std::find_if(std::begin(loc.lanes), std::end(loc.lanes),
                                [](const auto& q) { return !q.empty(); });
    if (lane_it == std::end(loc.lanes)) return;
    if (in_flight_total_ >= options_.max_in_flight_total) {
      if (std::find(starved_.begin(), starved_.end(), loc.id) == starved_.end()) {
        starved_.push_back(loc.id);
      }
      return;
    }
    const Lane lane = static_cast<Lane>(lane_it - std::begin(loc.lanes));
    const auto now = Now();
    auto when = loc.limiter.EarliestSend(lane, now);
    if (!when) {
      // The day's budget for this lane is spent: wake up at the next UTC midnight.
      const auto day = std::chrono::duration_cast<std::chrono::hours>(now.time_since_epoch()) / 24;
      when = RateLimiter::TimePoint(std::chrono::hours((day.count() + 1) * 24));
    }
    if (*when > now) {
      if (!loc.timer_at || *loc.timer_at != *when) {
        loc.timer_at = *when;
        loc.timer.expires_after(*when - now);
        auto alive = alive_;
        const std::string id = loc.id;
        loc.timer.async_wait([this, alive, id](const boost::system::error_code& ec) {
          if (ec || !*alive) return;
          auto it = locations_.find(id);
          if (it == locations_.end()) return;
          it->second->timer_at.reset();
          Pump(*it->second);
        });
      }
      return;
    }
    Pending p = std::move(lane_it->front());
    lane_it->pop_front();
    loc.limiter.RecordSend(now);
    Send(loc, std::move(p));
  }
}

void GhlClient::Send(Location& loc, Pending p) {
  if (metrics_) {
    const auto waited = std::chrono::steady_clock::now() - p.queued_at;
    metrics_->wait.Add({{"location", loc.id}})
        .Increment(std::chrono::duration<double>(waited).count());
  }
  ++p.attempts;
  ++loc.in_flight;
  ++in_flight_total_;
  if (metrics_) metrics_->in_flight.Increment();
  HttpRequest http{p.request.method,
                   options_.base_url + p.request.path,
                   {"Authorization: Bearer " + loc.tokens->Token(), "Accept: application/json"},
                   p.request.body,
                   options_.timeout,
                   options_.max_response_bytes};
  if (p.request.family == Family::kDefault) {
    http.headers.push_back("Version: " + options_.version_default);
  } else if (p.request.family == Family::kCalendars) {
    http.headers.push_back("Version: " + options_.version_calendars);
  }
  if (!p.request.body.empty()) http.headers.push_back("Content-Type: application/json");
  auto alive = alive_;
  const std::string id = loc.id;
  curl_.Start(std::move(http), [this, alive, id, p = std::move(p)](HttpResponse r) mutable {
    if (*alive) OnAnswer(id, std::move(p), std::move(r));
  });
}

void GhlClient::OnAnswer(const std::string& location_id, Pending p, HttpResponse r) {
  auto it = locations_.find(location_id);
  if (it == locations_.end()) return;
  Location& loc = *it->second;
  --loc.in_flight;
  --in_flight_total_;
  if (metrics_) {
    metrics_->in_flight.Decrement();
    metrics_->requests
        .Add({{"operation", p.request.operation}, {"status", std::to_string(r.status)}})
        .Increment();
  }
  const auto now = Now();
  if (r.status > 0) {
    loc.limiter.Observe(
        {HeaderInt(r, "x-ratelimit-remaining"), HeaderInt(r, "x-ratelimit-max"),
         HeaderInt(r, "x-ratelimit-interval-milliseconds"),
         HeaderInt(r, "x-ratelimit-daily-remaining"), HeaderInt(r, "x-ratelimit-limit-daily")},
        now);
  }
  ApiResult result;
  result.status = r.status;
  result.attempts = p.attempts;
  result.body = std::move(r.body);
  ParseBody(result.body, &result);

  if (r.status == 429) {
    if (metrics_) metrics_->rate_limited.Add({{"location", loc.id}}).Increment();
    std::optional<std::chrono::milliseconds> retry_after;
    if (auto s = HeaderInt(r, "retry-after")) retry_after = std::chrono::seconds(*s);
    const auto jitter = std::chrono::milliseconds(
        std::uniform_int_distribution<int64_t>(0, options_.max_429_jitter.count())(jitter_rng_));
    loc.limiter.OnTooManyRequests(now, retry_after, jitter);
    spdlog::warn("GHL answered 429 for location {} ({}); backing off", loc.id, p.request.operation);
    if (p.attempts < options_.max_rate_limited_attempts) {
      loc.lanes[static_cast<int>(p.lane)].push_front(std::move(p));
    } else {
      result.outcome = Outcome::kRetry;
      result.error = ErrorClass::kRateLimited;
      Finish(p, std::move(result));
    }
  } else if (r.status == 401) {
    if (!p.refreshed && !loc.refreshing) {
      // Refresh once, then retry with the new token; calls queue behind the refresh.
      p.refreshed = true;
      loc.lanes[static_cast<int>(p.lane)].push_front(std::move(p));
      loc.refreshing = true;
      auto alive = alive_;
      loc.tokens->Refresh([this, alive, location_id](bool ok) {
        if (!*alive) return;
        auto it = locations_.find(location_id);
        if (it == locations_.end()) return;
        it->second->refreshing = false;
        if (!ok)
          PauseLocation(*it->second, "GHL rejected the token (401) and it cannot be refreshed");
        Pump(*it->second);
      });
    } else if (loc.refreshing) {
      loc.lanes[static_cast<int>(p.lane)].push_front(std::move(p));
    } else {
      PauseLocation(loc, "GHL rejected the token (401) after a refresh");
      result.outcome = Outcome::kRetry;
      result.error = ErrorClass::kAuth;
      Finish(p, std::move(result));
    }
  } else if (r.status >= 200 && r.status < 300) {
    // A success whose body is not JSON (a truncated answer, a proxy's HTML page) is not
    // a success: the caller could not read it. Retry later.
    if (auto why = NotJson(result.body, r.Header("content-type"))) {
      spdlog::warn("GHL answered {} to {} for location {} with an unreadable body: {}", r.status,
                   p.request.operation, loc.id, *why);
      result.outcome = Outcome::kRetry;
      result.error = ErrorClass::kServer;
      result.message = *why;
    }
    Finish(p, std::move(result));
  } else if (r.status == 0 || r.status >= 500 || r.status == 408) {
    result.outcome = Outcome::kRetry;
    result.error = r.status == 0 ? ErrorClass::kTransport : ErrorClass::kServer;
    if (r.status == 0) result.message = r.error;
    if (r.too_large) result.error = ErrorClass::kServer;
    Finish(p, std::move(result));
  } else {
    result.outcome = Outcome::kFatal;
    result.error = ErrorClass::kPermanent;
    Finish(p, std::move(result));
  }
  if (metrics_) {
    metrics_->budget.Add({{"location", loc.id}, {"window", "burst"}})
        .Set(static_cast<double>(loc.limiter.BurstRemaining(now)));
    metrics_->budget.Add({{"location", loc.id}, {"window", "daily"}})
        .Set(static_cast<double>(loc.limiter.DailyRemaining(now)));
  }
  // Locations the global cap held back go first, round robin; then this one.
  for (size_t n = starved_.size(); n > 0 && in_flight_total_ < options_.max_in_flight_total; --n) {
    const std::string id = starved_.front();
    starved_.pop_front();
    if (auto s = locations_.find(id); s != locations_.end()) Pump(*s->second);
  }
  Pump(loc);
}

void GhlClient::PauseLocation(Location& loc, const std::string& reason) {
  if (!loc.paused) spdlog::error("location {} paused: {}; other locations go on", loc.id, reason);
  loc.paused = true;
  loc.pause_reason = reason;
  if (metrics_) metrics_->paused.Add({{"location", loc.id}}).Set(1);
  // Queued calls go back to their callers to be retried after Resume(); none is lost.
  for (auto& lane : loc.lanes) {
    while (!lane.empty()) {
      Pending p = std::move(lane.front());
      lane.pop_front();
      ApiResult r{Outcome::kRetry, ErrorClass::kPaused};
      r.message = "location " + loc.id + " is paused: " + reason;
      Finish(p, std::move(r));
    }
  }
}

void GhlClient::Pause(const std::string& location_id, const std::string& reason) {
  if (auto it = locations_.find(location_id); it != locations_.end()) {
    PauseLocation(*it->second, reason);
  }
}

void GhlClient::Resume(const std::string& location_id, std::shared_ptr<TokenSource> tokens) {
  auto it = locations_.find(location_id);
  if (it == locations_.end()) return;
  Location& loc = *it->second;
  if (tokens) loc.tokens = std::move(tokens);
  loc.paused = false;
  loc.pause_reason.clear();
  if (metrics_) metrics_->paused.Add({{"location", loc.id}}).Set(0);
  Pump(loc);
}

void GhlClient::Finish(Pending& p, ApiResult result) {
  if (result.attempts == 0) result.attempts = p.attempts;
  if (!p.done) return;
  auto done = std::move(p.done);
  p.done = nullptr;
  done(std::move(result));
}

GhlClient::LocationStatus GhlClient::Status(const std::string& location_id) const {
  LocationStatus s;
  auto it = locations_.find(location_id);
  if (it == locations_.end()) return s;
  const Location& loc = *it->second;
  const auto now = Now();
  s.known = true;
  s.paused = loc.paused;
  s.pause_reason = loc.pause_reason;
  s.burst_remaining = loc.limiter.BurstRemaining(now);
  s.daily_remaining = loc.limiter.DailyRemaining(now);
  for (int i = 0; i < 3; ++i) s.queued[i] = loc.lanes[i].size();
  s.in_flight = loc.in_flight;
  return s;
}

}  // namespace ghl::ghl_client
