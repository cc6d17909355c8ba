// The GHL client's rate limiter on fake time.
#include "connectors/ghl/rate_limiter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace ghl::ghl_client {
namespace {

using namespace std::chrono_literals;
using TimePoint = RateLimiter::TimePoint;
using std::chrono::milliseconds;

// 2026-11-29T12:00:00Z: mid-day, so tests that do not want a day boundary have none.
const TimePoint kNoon{std::chrono::seconds(1795953600)};

// The most requests of `times` inside any window of `window`, as a server would count.
int64_t MaxInAnyWindow(std::vector<TimePoint> times, milliseconds window) {
  std::sort(times.begin(), times.end());
  int64_t best = 0;
  size_t lo = 0;
  for (size_t hi = 0; hi < times.size(); ++hi) {
    while (times[hi] - times[lo] >= window) ++lo;
    best = std::max<int64_t>(best, static_cast<int64_t>(hi - lo + 1));
  }
  return best;
}

// A client that sends whenever the limiter lets it, for `duration` of fake time.
std::vector<TimePoint> Greedy(RateLimiter& limiter, Lane lane, TimePoint start,
                              milliseconds duration) {
  std::vector<TimePoint> sent;
  TimePoint now = start;
  while (now < start + duration) {
    auto when = limiter.EarliestSend(lane, now);
    if (!when) break;
    if (*when > now) {
      now = *when;
      continue;
    }
    limiter.RecordSend(now);
    sent.push_back(now);
  }
  return sent;
}

TEST(RateLimiter, NeverMoreThanTheBurstInAnyWindowAndNearFullUtilisation) {
  RateLimiter limiter({});
  const auto sent = Greedy(limiter, Lane::kRealtime, kNoon, 60s);
  EXPECT_LE(MaxInAnyWindow(sent, 10s), 100);
  EXPECT_LE(MaxInAnyWindow(sent, 10s + 100ms), 99) << "the safety margins hold";
  // 60 s at 10/s is 600: at least 97% of it.
  const auto in_minute =
      std::count_if(sent.begin(), sent.end(), [](TimePoint t) { return t < kNoon + 60s; });
  EXPECT_GE(in_minute, 582);
}

TEST(RateLimiter, ATokenBucketWouldAdmit200InTenSecondsThisDoesNot) {
  // The tempting design (capacity 100, refill 10/s) admits 100 at t=0 and 100 more by
  // t=10 s: 200 in one window. Here the second hundred waits for the first to age out.
  RateLimiter limiter({.burst = 100, .interval = 10s, .burst_margin = 0, .window_margin = 0ms});
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(limiter.EarliestSend(Lane::kRealtime, kNoon), kNoon);
    limiter.RecordSend(kNoon);
  }
  EXPECT_EQ(limiter.EarliestSend(Lane::kRealtime, kNoon + 5s), kNoon + 10s);
  EXPECT_EQ(limiter.BurstRemaining(kNoon + 9999ms), 0);
  EXPECT_EQ(limiter.BurstRemaining(kNoon + 10s), 100);
}

TEST(RateLimiter, DailyBudgetEndsTheDayAndRollsOverAtUtcMidnight) {
  RateLimiter limiter({.burst = 1000, .daily = 50, .realtime_reserve = 0});
  const TimePoint late{std::chrono::seconds(1795996700)};  // 23:58:20Z
  const auto sent = Greedy(limiter, Lane::kRealtime, late, 60s);
  EXPECT_EQ(sent.size(), 50u);
  EXPECT_EQ(limiter.EarliestSend(Lane::kRealtime, late + 30s), std::nullopt);
  EXPECT_EQ(limiter.DailyRemaining(late + 30s), 0);
  const TimePoint midnight{std::chrono::seconds(1795996800)};
  EXPECT_EQ(limiter.EarliestSend(Lane::kRealtime, midnight), midnight);
  EXPECT_EQ(limiter.DailyRemaining(midnight), 50);
}

TEST(RateLimiter, RealtimeReserveCannotBeSpentByBackfill) {
  RateLimiter limiter({.burst = 10'000, .daily = 100, .realtime_reserve = 0.2});
  EXPECT_EQ(Greedy(limiter, Lane::kBackfill, kNoon, 10s).size(), 80u);
  EXPECT_EQ(limiter.EarliestSend(Lane::kReconcile, kNoon + 11s), std::nullopt);
  EXPECT_EQ(Greedy(limiter, Lane::kRealtime, kNoon + 11s, 10s).size(), 20u);
}

TEST(RateLimiter, ServerHeadersWinWhenStricter) {
  RateLimiter limiter({.burst = 100, .interval = 10s, .daily = 200'000});
  limiter.RecordSend(kNoon);
  // Someone else used the same app and location: the server has 40 left, we thought 98.
  limiter.Observe({.remaining = 40, .daily_remaining = 150'000}, kNoon + 1ms);
  EXPECT_EQ(limiter.BurstRemaining(kNoon + 1ms), 39) << "40 left, less our 1-request margin";
  EXPECT_EQ(limiter.DailyRemaining(kNoon + 1ms), 150'000);
  // A looser view does not loosen ours.
  limiter.Observe({.remaining = 100, .max = 500, .daily_remaining = 199'999}, kNoon + 2ms);
  EXPECT_EQ(limiter.BurstRemaining(kNoon + 2ms), 39);
  EXPECT_EQ(limiter.DailyRemaining(kNoon + 2ms), 150'000);
  // A stricter limit and a longer interval are adopted.
  RateLimiter sandbox({.burst = 100, .interval = 10s});
  sandbox.Observe({.max = 25, .interval_ms = 10'000, .daily_limit = 10'000}, kNoon);
  const auto sent = Greedy(sandbox, Lane::kRealtime, kNoon, 30s);
  EXPECT_LE(MaxInAnyWindow(sent, 10s), 25);
  EXPECT_EQ(sandbox.DailyRemaining(kNoon + 31s), 10'000 - static_cast<int64_t>(sent.size()));
}

TEST(RateLimiter, TooManyRequestsBacksOffByRetryAfterOrTheInterval) {
  RateLimiter limiter({});
  limiter.OnTooManyRequests(kNoon, 3s, 120ms);
  EXPECT_EQ(limiter.EarliestSend(Lane::kRealtime, kNoon + 1s), kNoon + 3120ms);
  RateLimiter no_header({});
  no_header.OnTooManyRequests(kNoon, std::nullopt, 0ms);
  EXPECT_EQ(no_header.EarliestSend(Lane::kRealtime, kNoon), kNoon + 10s);
  // A later, shorter 429 does not shorten the pause.
  no_header.OnTooManyRequests(kNoon + 1s, 1s, 0ms);
  EXPECT_EQ(no_header.EarliestSend(Lane::kRealtime, kNoon + 1s), kNoon + 10s);
}

TEST(RateLimiter, PersistedDailyCountSurvivesARestartSameDayOnly) {
  RateLimiter before({.daily = 1000, .realtime_reserve = 0});
  for (int i = 0; i < 30; ++i) before.RecordSend(kNoon + milliseconds(i * 200));
  const auto state = before.daily_state();
  EXPECT_EQ(state.used, 30);

  RateLimiter after({.daily = 1000, .realtime_reserve = 0});
  after.RestoreDaily(state, kNoon + 1h);
  EXPECT_EQ(after.DailyRemaining(kNoon + 1h), 970);

  RateLimiter next_day({.daily = 1000, .realtime_reserve = 0});
  next_day.RestoreDaily(state, kNoon + 24h);
  EXPECT_EQ(next_day.DailyRemaining(kNoon + 24h), 1000);
}

TEST(RateLimiter, EstimatesHowLongABackfillTakes) {
  RateLimiter limiter({.burst = 100,
                       .interval = 10s,
                       .daily = 200'000,
                       .burst_margin = 0,
                       .window_margin = 0ms,
                       .realtime_reserve = 0.1});
  EXPECT_EQ(limiter.EstimateDuration(0, Lane::kBackfill, kNoon), 0ms);
  EXPECT_EQ(limiter.EstimateDuration(100, Lane::kBackfill, kNoon), 0ms) << "one burst";
  EXPECT_EQ(limiter.EstimateDuration(1100, Lane::kBackfill, kNoon), 100s);
  // 180,000 a day for backfill: 200,000 needs tomorrow too.
  const auto two_days = limiter.EstimateDuration(200'000, Lane::kBackfill, kNoon);
  EXPECT_GT(two_days, 12h);
  EXPECT_LT(two_days, 24h);
}

}  // namespace
}  // namespace ghl::ghl_client
