#include "connectors/ghl/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace ghl::ghl_client {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

RateLimiter::RateLimiter(RateLimiterOptions options)
    : options_(options),
      server_burst_(options.burst),
      server_interval_(options.interval),
      server_daily_(options.daily) {}

int64_t RateLimiter::DayOf(TimePoint t) {
  return duration_cast<std::chrono::hours>(t.time_since_epoch()).count() / 24;
}

int64_t RateLimiter::EffectiveBurst() const {
  return std::max<int64_t>(1, server_burst_ - options_.burst_margin);
}

RateLimiter::Duration RateLimiter::Window() const {
  return server_interval_ + options_.window_margin;
}

int64_t RateLimiter::DailyCap(Lane lane) const {
  if (lane == Lane::kRealtime) return server_daily_;
  const auto reserve = static_cast<int64_t>(std::floor(
      static_cast<double>(server_daily_) * std::clamp(options_.realtime_reserve, 0.0, 1.0)));
  return server_daily_ - reserve;
}

int64_t RateLimiter::UsedToday(TimePoint now) const { return DayOf(now) == day_ ? used_today_ : 0; }

void RateLimiter::Prune(TimePoint now) {
  while (!sent_.empty() && sent_.front() <= now - Window()) sent_.pop_front();
}

std::optional<RateLimiter::TimePoint> RateLimiter::EarliestSend(Lane lane, TimePoint now) const {
  const TimePoint t = std::max(now, blocked_until_);
  if (UsedToday(t) >= DailyCap(lane)) return std::nullopt;
  // Sends still inside the window that ends at t.
  auto first = std::upper_bound(sent_.begin(), sent_.end(), t - Window());
  const auto in_window = static_cast<int64_t>(sent_.end() - first);
  const int64_t limit = EffectiveBurst();
  if (in_window < limit) return t;
  // The (in_window - limit + 1)-th oldest must leave the window first.
  const TimePoint frees = *(first + (in_window - limit)) + Window();
  return std::max(t, frees);
}

void RateLimiter::RecordSend(TimePoint now) {
  Prune(now);
  // Sorted insert: a wall clock may step back.
  sent_.insert(std::upper_bound(sent_.begin(), sent_.end(), now), now);
  if (DayOf(now) != day_) day_ = DayOf(now), used_today_ = 0;
  ++used_today_;
}

void RateLimiter::Observe(const ServerView& view, TimePoint now) {
  if (view.max && *view.max > 0 && *view.max < server_burst_) server_burst_ = *view.max;
  if (view.interval_ms && milliseconds(*view.interval_ms) > server_interval_) {
    server_interval_ = milliseconds(*view.interval_ms);
  }
  if (view.daily_limit && *view.daily_limit > 0 && *view.daily_limit < server_daily_) {
    server_daily_ = *view.daily_limit;
  }
  Prune(now);
  if (view.remaining) {
    // The server has seen more requests in its window than we count (another client
    // on the same app and location, or our clock behind its): count them as sent now.
    const int64_t ours = server_burst_ - static_cast<int64_t>(sent_.size());
    for (int64_t i = std::max<int64_t>(0, *view.remaining); i < ours; ++i) {
      sent_.insert(std::upper_bound(sent_.begin(), sent_.end(), now), now);
    }
  }
  if (view.daily_remaining) {
    const int64_t server_used = server_daily_ - std::max<int64_t>(0, *view.daily_remaining);
    if (DayOf(now) != day_) day_ = DayOf(now), used_today_ = 0;
    used_today_ = std::max(used_today_, server_used);
  }
}

void RateLimiter::OnTooManyRequests(TimePoint now, std::optional<Duration> retry_after,
                                    Duration jitter) {
  const Duration wait = retry_after.value_or(server_interval_) + jitter;
  blocked_until_ = std::max(blocked_until_, now + wait);
}

int64_t RateLimiter::BurstRemaining(TimePoint now) const {
  auto first = std::upper_bound(sent_.begin(), sent_.end(), now - Window());
  return std::max<int64_t>(0, EffectiveBurst() - static_cast<int64_t>(sent_.end() - first));
}

int64_t RateLimiter::DailyRemaining(TimePoint now) const {
  return std::max<int64_t>(0, server_daily_ - UsedToday(now));
}

RateLimiter::Duration RateLimiter::EstimateDuration(int64_t requests, Lane lane,
                                                    TimePoint now) const {
  if (requests <= 0) return Duration(0);
  const double per_request_ms =
      static_cast<double>(Window().count()) / static_cast<double>(EffectiveBurst());
  auto paced = [&](int64_t n, int64_t immediate) {
    return Duration(static_cast<int64_t>(
        std::ceil(static_cast<double>(std::max<int64_t>(0, n - immediate)) * per_request_ms)));
  };
  const int64_t today = std::max<int64_t>(0, DailyCap(lane) - UsedToday(now));
  if (requests <= today) return paced(requests, BurstRemaining(now));
  // The rest waits for the next days, DailyCap(lane) per day.
  const TimePoint tomorrow{std::chrono::hours(24 * (DayOf(now) + 1))};
  const int64_t rest = requests - today;
  const int64_t cap = std::max<int64_t>(1, DailyCap(lane));
  const int64_t full_days = (rest - 1) / cap;
  const int64_t last = rest - full_days * cap;
  return duration_cast<Duration>(tomorrow - now) + std::chrono::hours(24 * full_days) +
         paced(last, EffectiveBurst());
}

void RateLimiter::RestoreDaily(DailyState state, TimePoint now) {
  if (state.day != DayOf(now)) return;  // a new UTC day: a fresh budget
  if (day_ != state.day) day_ = state.day, used_today_ = 0;
  used_today_ = std::max(used_today_, state.used);
}

}  // namespace ghl::ghl_client
