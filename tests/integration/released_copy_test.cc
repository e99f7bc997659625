// The local copy of a partition an instance held before it stopped, which another instance owns
// by the time it starts again: released at start-up (not served, deleted after
// state.cleanup_delay), as a revoked partition's copy is. It was neither: a stop (and a crash)
// marks nothing, and the copy stayed served and on disk for good, showing customers whose
// erasures its new owner carried out.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "tests/integration/cluster.h"
#include "tests/integration/oracle.h"

namespace touchstream::testing {
namespace {

TEST(ReleasedCopyTest, ACopyLeftByAStopIsReleasedWhenItsPartitionIsNoLongerAssignedHere) {
  TempDir dir;
  ClusterConfig config;
  config.group_id = "released-copy";
  config.partitions = 2;
  config.rules = kCart2mRules;
  // Shorter than A's wait for its assignment after its restart (~5 s here): the copies are not
  // deleted before the first assignment since start-up, so A's own stays.
  config.state = "cleanup_delay: 1s";
  Cluster cluster(dir, config);
  ASSERT_TRUE(cluster.started());

  // A owns both partitions, stores both, and stops.
  cluster.Start("a");
  const auto events = JourneyLoad(31, 200, 2000);
  cluster.Produce(events);
  const auto input = cluster.ReadInput(events.size());
  ASSERT_EQ(input.size(), 2u) << "both partitions have input";
  const Oracle oracle = BacktestOracle(config.rules, input);
  cluster.AwaitState("a", oracle.state, std::chrono::seconds(60));
  cluster.Stop("a");

  // B takes both over; then A is back, and the group gives each one partition.
  cluster.Start("b");
  ASSERT_TRUE(cluster.WaitForLog("b", "assigned touchpoints/0", std::chrono::seconds(60)));
  ASSERT_TRUE(cluster.WaitForLog("b", "assigned touchpoints/1", std::chrono::seconds(60)));
  ChildProcess& a = cluster.Start("a");
  ASSERT_TRUE(cluster.WaitForLog("a", "assigned touchpoints/", std::chrono::seconds(60)))
      << a.Stderr();
  const bool a_has_0 = a.Stderr().find("assigned touchpoints/0") != std::string::npos;
  const std::string kept_by_b = a_has_0 ? "touchpoints/1" : "touchpoints/0";
  ASSERT_TRUE(a_has_0 || a.Stderr().find("assigned touchpoints/1") != std::string::npos);

  // The copy of B's partition goes once state.cleanup_delay has passed (the check runs every
  // second), and A's own stays.
  EXPECT_TRUE(
      cluster.WaitForLog("a", "deleted the local copy of " + kept_by_b, std::chrono::seconds(40)))
      << a.Stderr();
  EXPECT_EQ(a.Stderr().find("deleted the local copy of " +
                            std::string(a_has_0 ? "touchpoints/0" : "touchpoints/1")),
            std::string::npos)
      << a.Stderr();
}

}  // namespace
}  // namespace touchstream::testing
