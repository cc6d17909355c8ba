#include "emulator/rate_limiter.h"

#include <algorithm>

namespace ghl::emulator {

int64_t MaxInAnyWindow(std::vector<int64_t> times_ms, std::chrono::milliseconds window) {
  std::sort(times_ms.begin(), times_ms.end());
  int64_t best = 0;
  size_t lo = 0;
  for (size_t hi = 0; hi < times_ms.size(); ++hi) {
    while (lo < hi && !InWindow(times_ms[lo], times_ms[hi], window.count())) ++lo;
    best = std::max<int64_t>(best, static_cast<int64_t>(hi - lo + 1));
  }
  return best;
}

RateDecision StrictRateLimiter::Admit(const std::string& key, TimePoint now) {
  State& s = keys_[key];
  const int64_t day =
      std::chrono::duration_cast<std::chrono::hours>(now.time_since_epoch()).count() / 24;
  if (day != s.day) s.day = day, s.used_today = 0;
  while (!s.recent.empty() && !InWindow(s.recent.front(), now, limits_.interval)) {
    s.recent.pop_front();
  }

  RateDecision d;
  if (limits_.enabled) {
    if (static_cast<int64_t>(s.recent.size()) >= limits_.burst) {
      d.allowed = false;
      d.retry_after = std::chrono::duration_cast<std::chrono::milliseconds>(s.recent.front() +
                                                                            limits_.interval - now);
    } else if (s.used_today >= limits_.daily) {
      d.allowed = false;
      const auto next_day = TimePoint(std::chrono::hours(24 * (day + 1)));
      d.retry_after = std::chrono::duration_cast<std::chrono::milliseconds>(next_day - now);
    }
  }
  if (d.allowed) {
    s.recent.push_back(now);
    ++s.used_today;
  }
  d.burst_remaining = std::max<int64_t>(0, limits_.burst - static_cast<int64_t>(s.recent.size()));
  d.daily_remaining = std::max<int64_t>(0, limits_.daily - s.used_today);
  return d;
}

}  // namespace ghl::emulator
