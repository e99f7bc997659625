// exactly_once, a member the group moved on without (its session timed out, its poll interval
// passed): the group coordinator refuses its commit's input offsets for the old generation, and
// every retry of the transaction alike. The instance stopped (exit 1) after five aborted
// attempts, into a restart; now it aborts once, drops its partitions and rejoins, and the
// state and triggers come out as the oracle's. The embedded Kafka checks no generation, so the
// refusals are injected.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tests/integration/cluster.h"
#include "tests/integration/oracle.h"

namespace touchstream::testing {
namespace {

TEST(MembershipLostTest, ACommitRefusedForAnOldGenerationRejoinsAndLosesNothing) {
  TempDir dir;
  ClusterConfig config;
  config.group_id = "membership-lost";
  config.rules = kCart2mRules;
  config.processing = "guarantee: exactly_once, commit_interval: 50ms";
  Cluster cluster(dir, config, FaultChannel::kYes);
  ASSERT_TRUE(cluster.started()) << cluster.kafka().Stderr();
  ChildProcess& a = cluster.Start("a");
  ASSERT_TRUE(cluster.WaitForLog("a", "assigned touchpoints/", std::chrono::seconds(30)))
      << a.Stderr();
  const auto events = JourneyLoad(13, 200, 3000);
  cluster.Produce(Part(events, 0, 2));
  std::this_thread::sleep_for(std::chrono::seconds(2));

  // Refused as often as the old code tried; cleared once the instance has seen the first.
  std::string reply = cluster.kafka().Control("errors TxnOffsetCommit ILLEGAL_GENERATION 5");
  ASSERT_EQ(reply.rfind("ok", 0), 0u) << reply;
  cluster.Produce(Part(events, 1, 2));
  ASSERT_TRUE(
      cluster.WaitForLog("a", "the group moved on without this member", std::chrono::seconds(30)))
      << a.Stderr();
  reply = cluster.kafka().Control("clear-errors TxnOffsetCommit");
  ASSERT_EQ(reply.rfind("ok", 0), 0u) << reply;
  EXPECT_TRUE(cluster.WaitForLog("a", "rejoining membership-lost", std::chrono::seconds(5)))
      << a.Stderr();

  const Oracle oracle = BacktestOracle(config.rules, cluster.ReadInput(events.size()));
  ASSERT_GT(oracle.triggers.size(), 20u);
  cluster.ExpectOracleFrom("a", oracle, std::chrono::seconds(60));
}

}  // namespace
}  // namespace touchstream::testing
