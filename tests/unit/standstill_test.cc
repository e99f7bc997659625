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
// found by the ticks whether or not a Take comes first.
TEST(StandstillWatchTest, ItsThreadTicksTheTracker) {
  ManualSteadyClock clock;
  StandstillWatch watch(clock);
  clock.Set(5'000);
  std::this_thread::sleep_for(StandstillWatch::kTick * 3);  // ticks at 5,000 ms
  clock.Set(5'010);
  const auto longest = watch.TakeLongest();  // 5,010 ms if the thread has not ticked yet
  EXPECT_GE(longest, milliseconds(5'000));
  EXPECT_LE(longest, milliseconds(5'010));
  EXPECT_LE(watch.TakeLongest(), milliseconds(10));
}

}  // namespace
}  // namespace touchstream
