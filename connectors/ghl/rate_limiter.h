// RateLimiter: the client side of GHL's limits for ONE resource (app + location or
// company): at most `burst` requests in ANY window of `interval`, as the server counts
// them, and at most `daily` per UTC day.
//
// Why a sliding log and not a token bucket: a bucket of 100 refilling at 10/s admits
// 100 at once and 100 more over the next 10 s, i.e. 200 in one server window. The log
// remembers when each of the last `burst` requests left and admits a new one only when
// fewer than the effective burst left within the last interval + jitter margin, so the
// server, whose clock and arrival times differ from ours by less than the margin, never
// sees more than `burst` in its window.
//
// Lanes: real-time changes before reconciliation before backfill. The limiter does not
// queue; it answers "may a request of this lane go now, and if not, when". The caller
// asks for its highest waiting lane first. A share of the daily budget is reserved for
// the real-time lane so that a backfill cannot starve live changes.
//
// Pure: every method takes the current time; tests drive it with a fake clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>

namespace ghl::ghl_client {

enum class Lane { kRealtime = 0, kReconcile = 1, kBackfill = 2 };

struct RateLimiterOptions {
  int64_t burst = 100;
  std::chrono::milliseconds interval{10'000};
  int64_t daily = 200'000;
  // Safety: stay this many requests under the burst, and treat the window as this much
  // longer than the server's, to absorb clock skew and network jitter.
  // The defaults keep utilisation near 98% of the limit while tolerating 100 ms of
  // difference in latency between two requests.
  int64_t burst_margin = 1;
  std::chrono::milliseconds window_margin{100};
  // Share of the daily budget only the real-time lane may use.
  double realtime_reserve = 0.1;
};

class RateLimiter {
 public:
  using TimePoint = std::chrono::system_clock::time_point;
  using Duration = std::chrono::milliseconds;

  explicit RateLimiter(RateLimiterOptions options);

  // When a request of `lane` may be sent: `now` if it may go at once, a later time if
  // it must wait, nullopt if the daily budget for this lane is spent until the next UTC
  // day (then DayStart(now) + 24h is the earliest time).
  std::optional<TimePoint> EarliestSend(Lane lane, TimePoint now) const;
  // Records a request sent at `now`. REQUIRES: EarliestSend(lane, now) == now (or the
  // caller accepts going over; the record is kept either way).
  void RecordSend(TimePoint now);

  // Server view from the X-RateLimit-* headers of a response received at `now`; each
  // value that is present and stricter than ours wins.
  struct ServerView {
    std::optional<int64_t> remaining;        // X-RateLimit-Remaining
    std::optional<int64_t> max;              // X-RateLimit-Max
    std::optional<int64_t> interval_ms;      // X-RateLimit-Interval-Milliseconds
    std::optional<int64_t> daily_remaining;  // X-RateLimit-Daily-Remaining
    std::optional<int64_t> daily_limit;      // X-RateLimit-Limit-Daily
  };
  void Observe(const ServerView& view, TimePoint now);

  // A 429: nothing is sent before `now + retry_after` (Retry-After when the server gave
  // one, else the interval) plus `jitter`.
  void OnTooManyRequests(TimePoint now, std::optional<Duration> retry_after, Duration jitter);

  // Budget figures for metrics and `status`.
  int64_t BurstRemaining(TimePoint now) const;
  int64_t DailyRemaining(TimePoint now) const;

  // How long `requests` more requests of `lane` take at the current budget, from `now`
  // (whole days when the daily budget runs out first). For backfill ETAs.
  Duration EstimateDuration(int64_t requests, Lane lane, TimePoint now) const;

  // The daily count, for persisting in the state store so a restart does not reset it.
  struct DailyState {
    int64_t day = 0;  // days since the Unix epoch, UTC
    int64_t used = 0;
  };
  DailyState daily_state() const { return {day_, used_today_}; }
  void RestoreDaily(DailyState state, TimePoint now);

  const RateLimiterOptions& options() const { return options_; }

 private:
  static int64_t DayOf(TimePoint t);
  int64_t EffectiveBurst() const;
  Duration Window() const;
  int64_t DailyCap(Lane lane) const;
  int64_t UsedToday(TimePoint now) const;
  void Prune(TimePoint now);

  RateLimiterOptions options_;
  int64_t server_burst_;
  Duration server_interval_;
  int64_t server_daily_;
  std::deque<TimePoint> sent_;  // send times within the current window, oldest first
  int64_t day_ = 0;
  int64_t used_today_ = 0;
  TimePoint blocked_until_{};
};

}  // namespace ghl::ghl_client
