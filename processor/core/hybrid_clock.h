// How far an idle partition's clock may follow the wall clock in hybrid mode (DESIGN.md,
// principle 2). The local wall clock can jump — an NTP step, a restored VM, an operator's
// mistake — and a clock a year ahead would fire a year of absence timers at once and persist
// that watermark. The producers' clocks reach us in the records' CreateTime, and a monotonic
// clock measures the time since. So the limit is
//     min(local wall clock, anchor time + monotonic time elapsed since the anchor)
// where the anchor is the latest record CreateTime seen on any partition (when it was read),
// or, before any record, the wall clock when this instance started. A local clock that jumps
// forward fires nothing early; one that jumps back holds the idle clock until it catches up;
// a quiet topic still fires its absence triggers, on the monotonic clock. A clock that is
// already wrong when the process starts is corrected by the first record read.
#pragma once

#include <optional>

#include "processor/core/time.h"

namespace touchstream {

// Owned by the thread that drives the tasks.
class HybridClock {
 public:
  // How far ahead of the local wall clock a CreateTime counts: the limit never passes the wall
  // clock anyway, and one producer a year ahead (or a forged forwarding header) would otherwise
  // pin the anchor there and switch the guard against this host's clock jumping forward off for
  // as long as the process runs.
  static constexpr DurationMs kMaxAheadMs = 5 * kMinuteMs;

  // A record with CreateTime `create_time_ms` was read at monotonic time `steady_ms`, when the
  // local wall clock said `wall_ms` (a CreateTime past it by more than kMaxAheadMs counts as that
  // much past it).
  void ObserveRecord(TimeMs create_time_ms, TimeMs steady_ms, TimeMs wall_ms);

  // The latest time an idle partition may advance to, now.
  TimeMs Limit(TimeMs wall_ms, TimeMs steady_ms);

 private:
  struct Anchor {
    TimeMs time_ms;
    TimeMs steady_ms;
  };
  // The anchor's time moved on by the monotonic time since it was set (saturating).
  static TimeMs Since(const Anchor& anchor, TimeMs steady_ms);
  std::optional<Anchor> anchor_;  // set by the first record, or the first Limit()
};

}  // namespace touchstream
