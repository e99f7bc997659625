#include "processor/run/standstill.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace touchstream {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const SteadyClock::TimePoint kT0{seconds(1000)};

TEST(StandstillTrackerTest, TicksOfARunningProcessGiveTheTickInterval) {
  StandstillTracker tracker(kT0);
  for (int i = 1; i <= 100; ++i) tracker.Tick(kT0 + i * milliseconds(100));
  EXPECT_EQ(tracker.Take(kT0 + milliseconds(10'050)), milliseconds(100));
}

// A consume loop busy in one commit for a minute while the process runs: the ticks go on, so
// the longest interval stays a tick's (the gap between two polls was taken for a stand-still).
TEST(StandstillTrackerTest, ALoopBusyForAMinuteIsNoStandstill) {
  StandstillTracker tracker(kT0);
  EXPECT_EQ(tracker.Take(kT0 + milliseconds(5)), milliseconds(5));  // a poll
  for (int i = 1; i <= 600; ++i) tracker.Tick(kT0 + milliseconds(5) + i * milliseconds(100));
  EXPECT_EQ(tracker.Take(kT0 + milliseconds(60'010)), milliseconds(100));  // the next poll
}

TEST(StandstillTrackerTest, AFrozenProcessShowsItsStandstillOnce) {
  StandstillTracker tracker(kT0);
  tracker.Tick(kT0 + milliseconds(100));
  tracker.Tick(kT0 + milliseconds(20'100));  // thawed after 20 s
  tracker.Tick(kT0 + milliseconds(20'200));
  EXPECT_EQ(tracker.Take(kT0 + milliseconds(20'250)), milliseconds(20'000));
  tracker.Tick(kT0 + milliseconds(20'300));
  EXPECT_EQ(tracker.Take(kT0 + milliseconds(20'310)), milliseconds(50));
}

// The poll right after a thaw may come before the ticking thread has woken: the interval still
// open counts, and is not counted again by the tick that follows.
TEST(StandstillTrackerTest, ATakeBeforeTheFirstTickAfterAThawSeesTheStandstill) {
  StandstillTracker tracker(kT0);
  tracker.Tick(kT0 + milliseconds(100));
  EXPECT_EQ(tracker.Take(kT0 + milliseconds(30'100)), milliseconds(30'000));
  tracker.Tick(kT0 + milliseconds(30'101));
  EXPECT_EQ(tracker.Take(kT0 + milliseconds(30'150)), milliseconds(49));
}

class ManualSteadyClock final : public SteadyClock {
 public:
  TimePoint Now() const override { return TimePoint(milliseconds(now_ms_.load())); }
  void Set(int64_t ms) { now_ms_.store(ms); }

 private:
  std::atomic<int64_t> now_ms_{0};
};

// The watch's thread ticks on its own: a clock that jumped while it ran shows as one interval,
// found by a tick before the Take (a Take the thread has not ticked before sees 10 ms more: the
// round is tried again, a few times on a loaded machine, and a thread that never ticks fails).
TEST(StandstillWatchTest, ItsThreadTicksTheTracker) {
  ManualSteadyClock clock;
  StandstillWatch watch(clock);
  watch.TakeLongest();
  bool ticked = false;
  for (int64_t round = 0, start = 0; round < 20 && !ticked; ++round, start += 5'010) {
    clock.Set(start + 5'000);
    std::this_thread::sleep_for(StandstillWatch::kTick * 3);  // ticks at start + 5,000 ms
    clock.Set(start + 5'010);
    const auto longest = watch.TakeLongest();
    ASSERT_GE(longest, milliseconds(5'000));
    ASSERT_LE(longest, milliseconds(5'010));
    ticked = longest == milliseconds(5'000);
  }
  EXPECT_TRUE(ticked) << "the watch's thread never ticked";
  EXPECT_LE(watch.TakeLongest(), milliseconds(10));
}

}  // namespace
}  // namespace touchstream
