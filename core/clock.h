// Clock: the one source of time for logic that must be testable without sleeping.
#pragma once

#include <chrono>

namespace ghl {

class Clock {
 public:
  using Duration = std::chrono::nanoseconds;
  using TimePoint = std::chrono::time_point<std::chrono::system_clock, Duration>;
  virtual ~Clock() = default;
  // Wall-clock time (UTC), for timestamps and day boundaries.
  virtual TimePoint Now() const = 0;
  // Monotonic time, for intervals and timeouts.
  virtual std::chrono::steady_clock::time_point Steady() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
  std::chrono::steady_clock::time_point Steady() const override {
    return std::chrono::steady_clock::now();
  }
};

// A clock that moves only when told to. For tests.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start = TimePoint{}) : now_(start) {}
  TimePoint Now() const override { return now_; }
  std::chrono::steady_clock::time_point Steady() const override {
    return std::chrono::steady_clock::time_point{now_.time_since_epoch()};
  }
  void Advance(Duration d) { now_ += d; }

 private:
  TimePoint now_;
};

}  // namespace ghl
