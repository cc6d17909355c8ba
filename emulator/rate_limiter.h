// StrictRateLimiter: GHL's limits as the server enforces them, per key.
//
// Burst: at most `burst` requests in ANY window of `interval` (a sliding log of request
// times, not a token bucket: a bucket of 100 refilling at 10/s admits 200 in 10 s).
// The window ending at t is (t - interval, t]: a request at t and one at t + interval are
// never in one window, one at t + interval - 1 is. MaxInAnyWindow, behind the admin API's
// requests/max-window report, uses the same definition (InWindow).
// Daily: at most `daily` requests per UTC day. Pure: time is passed in.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

namespace ghl::emulator {

struct RateLimits {
  int64_t burst = 100;
  std::chrono::milliseconds interval{10'000};
  int64_t daily = 200'000;
  bool enabled = true;
};

struct RateDecision {
  bool allowed = true;
  int64_t burst_remaining = 0;
  int64_t daily_remaining = 0;
  std::chrono::milliseconds retry_after{0};  // when refused: until the window has room
};

// Whether a request at `earlier` is in the window that ends at `now` (earlier <= now).
template <typename Time, typename Duration>
bool InWindow(Time earlier, Time now, Duration window) {
  return now - earlier < window;
}

// The most of `times_ms` (request times of one key, in any order) inside one window of
// `window`, as the limiter draws windows.
int64_t MaxInAnyWindow(std::vector<int64_t> times_ms, std::chrono::milliseconds window);

class StrictRateLimiter {
 public:
  using TimePoint = std::chrono::system_clock::time_point;
  explicit StrictRateLimiter(RateLimits limits) : limits_(limits) {}

  // Counts the request against `key` if allowed.
  RateDecision Admit(const std::string& key, TimePoint now);
  const RateLimits& limits() const { return limits_; }
  void set_limits(RateLimits limits) { limits_ = limits; }
  void Reset() { keys_.clear(); }

 private:
  struct State {
    std::deque<TimePoint> recent;
    int64_t day = -1;
    int64_t used_today = 0;
  };
  RateLimits limits_;
  std::unordered_map<std::string, State> keys_;
};

}  // namespace ghl::emulator
