// The clocks, injected (as LevelDB's Env::NowMicros). Rules never read them: they work on
// event time. The wall clock serves validation (future skew) and the hybrid idle-partition
// clock; the steady clock the consume loop's intervals.
#pragma once

#include <atomic>
#include <chrono>

#include "processor/core/time.h"

namespace touchstream {

// Safe for concurrent use.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimeMs NowMs() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimeMs NowMs() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// The monotonic clock the consume loop measures intervals with (commit interval, the pause
// past the session timeout, the once-a-second gauges), injected so that a test can step it.
// Safe for concurrent use.
class SteadyClock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  virtual ~SteadyClock() = default;
  virtual TimePoint Now() const = 0;
};

class SystemSteadyClock final : public SteadyClock {
 public:
  TimePoint Now() const override { return std::chrono::steady_clock::now(); }
};

}  // namespace touchstream
