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

// The consume loop's waits (CommitDue::LoopWaits), with a 100 ms interval.
const CommitDue kDefault{milliseconds(100), 5000};

TEST(CommitDueTest, AnIdleLoopWaitsForInputUntilTheIntervalEnds) {
  const CommitDue::Waits waits = kDefault.LoopWaits(milliseconds(30), false, false, std::nullopt);
  EXPECT_EQ(waits.consume_ms, 70);
  EXPECT_EQ(waits.relay_ms, 0);
  // Past the interval with nothing to wait for: the shortest poll, and the batch closes.
  EXPECT_EQ(kDefault.LoopWaits(milliseconds(130), false, false, std::nullopt).consume_ms, 1);
  // A long interval: at most 100 ms per poll, so that a stop is seen.
  const CommitDue slow{std::chrono::seconds(5), 5000};
  EXPECT_EQ(slow.LoopWaits(milliseconds(0), false, false, std::nullopt).consume_ms, 100);
}

TEST(CommitDueTest, WithRecordsInFlightTheRelaysPollWaitsNotTheConsumers) {
  CommitDue::Waits waits = kDefault.LoopWaits(milliseconds(95), true, false, std::nullopt);
  EXPECT_EQ(waits.consume_ms, 0);
  EXPECT_EQ(waits.relay_ms, 5);  // the rest of the interval
  // Past the interval the batch waits for the acknowledgements: 10 ms polls, not a 1 ms spin.
  waits = kDefault.LoopWaits(milliseconds(150), true, false, std::nullopt);
  EXPECT_EQ(waits.consume_ms, 0);
  EXPECT_EQ(waits.relay_ms, 10);
  // A timer changes nothing while records are in flight: it waits like the rest of the batch.
  waits = kDefault.LoopWaits(milliseconds(60), true, false, milliseconds(-5));
  EXPECT_EQ(waits.consume_ms, 0);
  EXPECT_EQ(waits.relay_ms, 10);
}

TEST(CommitDueTest, AnIdleLoopWakesForADueTimerNotBeforeHalfTheInterval) {
  // Due in 20 ms, the batch open for 10: it may close at half the interval, 40 ms from now.
  EXPECT_EQ(kDefault.LoopWaits(milliseconds(10), false, false, milliseconds(20)).consume_ms, 40);
  // Due in 55 ms, open for 30: at its due time, before the interval's end.
  EXPECT_EQ(kDefault.LoopWaits(milliseconds(30), false, false, milliseconds(55)).consume_ms, 55);
  // Due after the interval's end: the interval decides.
  EXPECT_EQ(kDefault.LoopWaits(milliseconds(30), false, false, milliseconds(90)).consume_ms, 70);
  // Due already, past half the interval: the shortest poll, then the commit.
  EXPECT_EQ(kDefault.LoopWaits(milliseconds(60), false, false, milliseconds(-5)).consume_ms, 1);
}

TEST(CommitDueTest, ATimerBacklogDoesNotWaitForInput) {
  EXPECT_EQ(kDefault.LoopWaits(milliseconds(10), false, true, std::nullopt).consume_ms, 0);
}

}  // namespace
}  // namespace touchstream
