#include "processor/run/commit_due.h"

#include <gtest/gtest.h>

namespace touchstream {
namespace {

using std::chrono::milliseconds;

const CommitDue kDue{milliseconds(10), 5000};

TEST(CommitDueTest, TheIntervalIsALowerBound) {
  EXPECT_FALSE(kDue(milliseconds(9), 100, 0));
  EXPECT_TRUE(kDue(milliseconds(10), 100, 0));
}

TEST(CommitDueTest, WhileTheRelayHoldsRecordsTheBatchKeepsGrowing) {
  EXPECT_FALSE(kDue(milliseconds(10), 100, 1));
  EXPECT_FALSE(kDue(milliseconds(999), 100, 40));
  // Acknowledged: the commit goes out at once.
  EXPECT_TRUE(kDue(milliseconds(57), 100, 0));
}

TEST(CommitDueTest, ARelayThatMakesNoProgressStillGetsACommitEverySecond) {
  EXPECT_TRUE(kDue(kMaxCommitDeferral, 100, 40));
  // An interval longer than the deferral is the bound itself.
  const CommitDue slow{std::chrono::seconds(5), 5000};
  EXPECT_FALSE(slow(std::chrono::seconds(2), 100, 40));
  EXPECT_TRUE(slow(std::chrono::seconds(5), 100, 40));
}

TEST(CommitDueTest, AFullBatchCommitsWhateverTheRelayHolds) {
  EXPECT_TRUE(kDue(milliseconds(1), 5000, 40));
  EXPECT_FALSE(kDue(milliseconds(1), 4999, 0));
}

TEST(CommitDueTest, ATimerDueClosesTheBatchAtHalfTheIntervalOnceTheRelayIsIdle) {
  EXPECT_TRUE(kDue(milliseconds(5), 3, 0, /*timer_due=*/true));
  EXPECT_FALSE(kDue(milliseconds(5), 3, 0, /*timer_due=*/false));
  // Not sooner: under load timers come due continuously.
  EXPECT_FALSE(kDue(milliseconds(4), 3, 0, /*timer_due=*/true));
  // With records in flight it waits for them like any batch (the interval, then the relay).
  EXPECT_FALSE(kDue(milliseconds(1), 3, 2, /*timer_due=*/true));
  EXPECT_FALSE(kDue(milliseconds(10), 3, 2, /*timer_due=*/true));
  EXPECT_TRUE(kDue(kMaxCommitDeferral, 3, 2, /*timer_due=*/true));
}

TEST(CommitDueTest, AnIdleLoopWakesForATimerAtItsDueTimeButNotBeforeHalfTheInterval) {
  EXPECT_EQ(kDue.TimerWake(milliseconds(2), milliseconds(8)), milliseconds(8));
  EXPECT_EQ(kDue.TimerWake(milliseconds(2), milliseconds(1)), milliseconds(3));
  // Due already, past half the interval: the batch may close now (the loop waits at least 1 ms).
  EXPECT_LE(kDue.TimerWake(milliseconds(7), milliseconds(-3)), milliseconds(0));
}

}  // namespace
}  // namespace touchstream
