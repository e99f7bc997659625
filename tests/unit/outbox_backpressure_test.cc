#include "processor/run/outbox_backpressure.h"

#include <gtest/gtest.h>

namespace touchstream {
namespace {

TEST(OutboxBackpressureTest, PausesOverEitherLimitAndResumesBelowHalfOfBoth) {
  OutboxBackpressure b(100, 1000);
  EXPECT_FALSE(b.Update(100, 1000)) << "at the limits: still running";
  EXPECT_TRUE(b.Update(101, 0));
  EXPECT_TRUE(b.Update(60, 0)) << "above half: stays paused (no flapping)";
  EXPECT_FALSE(b.Update(50, 500));
  EXPECT_TRUE(b.Update(0, 1001)) << "bytes alone pause too";
  EXPECT_TRUE(b.Update(0, 501));
  EXPECT_FALSE(b.Update(0, 500));
}

}  // namespace
}  // namespace touchstream
