// Progress of a sync's outbox (the backfill above all): how fast writes complete over the
// last minute, and when the writes waiting now will be done at that pace. Pure: the engine
// feeds it times and its count of completed writes.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>

namespace ghl::sync {

class Progress {
 public:
  explicit Progress(int64_t window_ms = 60'000) : window_ms_(window_ms) {}

  // `written`: completed writes so far (a counter that only grows), at `now_ms`.
  void Add(int64_t now_ms, int64_t written) {
    samples_.emplace_back(now_ms, written);
    while (samples_.size() > 2 && samples_[1].first <= now_ms - window_ms_) samples_.pop_front();
  }

  // Completed writes per second over the window; nullopt until two samples span 1 s.
  std::optional<double> Rate() const {
    if (samples_.size() < 2) return std::nullopt;
    const auto& [t0, n0] = samples_.front();
    const auto& [t1, n1] = samples_.back();
    if (t1 - t0 < 1000) return std::nullopt;
    return static_cast<double>(n1 - n0) * 1000.0 / static_cast<double>(t1 - t0);
  }

  // Seconds until `pending` writes are done at Rate(); nullopt while there is no pace yet
  // (or nothing completes).
  std::optional<double> EtaSeconds(int64_t pending) const {
    if (pending <= 0) return 0.0;
    auto rate = Rate();
    if (!rate || *rate <= 0) return std::nullopt;
    return static_cast<double>(pending) / *rate;
  }

 private:
  int64_t window_ms_;
  std::deque<std::pair<int64_t, int64_t>> samples_;  // (time, written)
};

// "1h02m", "3m05s", "42s".
inline std::string Duration(double seconds) {
  const auto s = static_cast<int64_t>(seconds + 0.5);
  if (s >= 3600) return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
  if (s >= 60) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}s", s);
}

}  // namespace ghl::sync
