// The idle partitions' clock limit (core/hybrid_clock.h) with CreateTimes far ahead: a record may
// carry any CreateTime up to INT64_MAX. At the limit, the anchor plus the monotonic time since
// wrapped to a limit far in the past, which held every idle clock of the instance back (no
// absence trigger fired) until a record of another partition moved it; a year ahead, it pinned
// the anchor there and switched off the guard against the local clock jumping forward.
#include "processor/core/hybrid_clock.h"

#include <gtest/gtest.h>

#include <limits>

namespace touchstream {
namespace {

constexpr TimeMs kWall = 1'700'000'000'000;

TEST(HybridClockTest, ACreateTimeAtTheInt64LimitLeavesTheWallClockTheLimit) {
  HybridClock clock;
  clock.ObserveRecord(std::numeric_limits<int64_t>::max(), 1'000, kWall);
  EXPECT_EQ(clock.Limit(kWall, 1'000), kWall);
  EXPECT_EQ(clock.Limit(kWall + 5'000, 6'000), kWall + 5'000);
  // A later ordinary record changes nothing: the anchor is the latest CreateTime.
  clock.ObserveRecord(kWall, 7'000, kWall + 6'000);
  EXPECT_EQ(clock.Limit(kWall + 10'000, 11'000), kWall + 10'000);
}

TEST(HybridClockTest, TheLimitIsTheAnchorMovedOnByTheMonotonicClock) {
  HybridClock clock;
  clock.ObserveRecord(kWall, 1'000, kWall);
  // A local clock a year ahead: the anchor holds it.
  EXPECT_EQ(clock.Limit(kWall + 365 * kDayMs, 3'000), kWall + 2'000);
}

// One producer's clock a year ahead (or a forged forwarding header): its CreateTime pinned the
// anchor a year ahead, and a local clock that jumped a year forward later fired a year of
// absence timers at once. It counts as kMaxAheadMs past the local clock.
TEST(HybridClockTest, ACreateTimeFarAheadOfTheLocalClockStillGuardsAgainstAJumpForward) {
  HybridClock clock;
  clock.ObserveRecord(kWall + 365 * kDayMs, 1'000, kWall);
  EXPECT_EQ(clock.Limit(kWall + 1'000, 2'000), kWall + 1'000);
  // The local clock jumps a year ahead.
  EXPECT_EQ(clock.Limit(kWall + 365 * kDayMs, 3'000), kWall + HybridClock::kMaxAheadMs + 2'000);
}

}  // namespace
}  // namespace touchstream
