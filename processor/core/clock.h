// The wall clock, injected (as LevelDB's Env::NowMicros). Rules never read it: they work on
// event time. Only validation (future skew) and the hybrid idle-partition clock use it.
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

// A clock tests set and advance by hand. Safe for concurrent use.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimeMs now) : now_(now) {}
  TimeMs NowMs() const override { return now_.load(); }
  void Set(TimeMs now) { now_.store(now); }
  void Advance(DurationMs d) { now_.fetch_add(d); }

 private:
  std::atomic<TimeMs> now_;
};

}  // namespace touchstream
