// A record that fails half applied (TOUCHSTREAM_FAIL_AT, processor/diagnostics/fault_points.h)
// stops the processor with an error, and its batch is never committed: not by the loop, and not
// by the revocation's commit when the stopping consumer leaves the group. The next start
// processes that input again from the last commit and emits what the failed run did not.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "tests/integration/cluster.h"
#include "tests/unit/test_events.h"

namespace touchstream::testing {
namespace {

// Customer a's cart comes due (2 minutes) at customer b's event an hour later: b's event fires
// a's timer first, then reads b's stored state, and that read fails (the second read of the
// store: the first looked for a's, which was not there). The fired timer's trigger is dropped with
// the failed record; a commit of the batch would have recorded the timer as fired, and the trigger
// been lost.
TEST(FailedRecordTest, ARecordThatFailsHalfAppliedIsProcessedAgainAndLosesNothing) {
  TempDir dir;
  ClusterConfig config;
  config.group_id = "failed-record";
  config.rules = kCart2mRules;
  Cluster cluster(dir, config);
  ASSERT_TRUE(cluster.started()) << cluster.kafka().Stderr();
  const v1::TouchpointEvent cart =
      WithItem(Event("a-1", "a", kT0, v1::EVENT_TYPE_ADD_TO_CART), "sku-1", 1, 1999);
  const v1::TouchpointEvent later = Event("b-1", "b", kT0 + 3'600'000, v1::EVENT_TYPE_PAGE_VIEW);
  cluster.Produce({{cart.customer_id(), cart.SerializeAsString()},
                   {later.customer_id(), later.SerializeAsString()}});

  const std::string config_path = cluster.Config("run");
  {
    ChildProcess& failing = cluster.Run("run", config_path, {"TOUCHSTREAM_FAIL_AT=state_read:2"});
    const int code = failing.Wait(std::chrono::seconds(60));
    ASSERT_EQ(code, 1) << "the failure did not stop the processor: " << failing.Stderr();
    ASSERT_NE(failing.Stderr().find("failure point state_read reached"), std::string::npos)
        << failing.Stderr();
    EXPECT_NE(failing.Stderr().find("stopping: cannot read customer"), std::string::npos)
        << failing.Stderr();
  }
  ChildProcess& next = cluster.Start("run");
  const std::vector<Record> triggers =
      cluster.Consume("triggers", 1, std::chrono::seconds(40), std::chrono::seconds(1));
  const std::string log = next.Stderr();
  cluster.Stop("run");
  ASSERT_EQ(triggers.size(), 1u) << "the cart's trigger was lost: " << log;
  v1::Trigger trigger;
  ASSERT_TRUE(trigger.ParseFromString(triggers[0].value));
  EXPECT_EQ(Describe(trigger), "CART_ABANDONED cart_2m a @+120s");
}

}  // namespace
}  // namespace touchstream::testing
