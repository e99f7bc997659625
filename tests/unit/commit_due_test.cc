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

}  // namespace
}  // namespace touchstream
