// exactly_once, a member the group moved on without (its session timed out, its poll interval
// passed): the group coordinator refuses its commit's input offsets for the old generation, and
// every retry of the transaction alike. The instance stopped (exit 1) after five aborted
// attempts, into a restart; now it aborts once, drops its partitions and rejoins, and the
// state and triggers come out as the oracle's. The embedded Kafka checks no generation, so the
// refusals are injected: into the loop's commit, a revocation's and the stop's.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tests/integration/cluster.h"
#include "tests/integration/oracle.h"

namespace touchstream::testing {
namespace {

// exactly_once, commits every 50 ms, in consumer group `group`.
ClusterConfig ExactlyOnce(const std::string& group) {
  ClusterConfig config;
  config.group_id = group;
  config.rules = kCart2mRules;
  config.processing = "guarantee: exactly_once, commit_interval: 50ms";
  return config;
}

// Instance "a" with commits an hour apart, so that an injected refusal meets the commit the test
// provokes (a revocation's, the stop's), not one of a's own.
ChildProcess& RunPatient(Cluster& cluster, const ClusterConfig& config) {
  ClusterConfig patient = config;
  patient.processing = "guarantee: exactly_once, commit_interval: 1h";
  return cluster.Run("a", cluster.WriteConfig("a-patient", "a", patient));
}

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

// The refusal met by the commit of a revocation (another instance joins): the old code stopped
// with exit 1; now the instance drops its partitions and the batch as for a lost assignment and
// takes what the new generation gives it.
TEST(MembershipLostTest, ARevocationsCommitRefusedDropsThePartitionsAndStaysInTheGroup) {
  TempDir dir;
  const ClusterConfig config = ExactlyOnce("membership-lost-revoke");
  Cluster cluster(dir, config, FaultChannel::kYes);
  ASSERT_TRUE(cluster.started()) << cluster.kafka().Stderr();
  ChildProcess& a = RunPatient(cluster, config);
  ASSERT_TRUE(cluster.WaitForLog("a", "assigned touchpoints/", std::chrono::seconds(30)))
      << a.Stderr();
  const auto events = JourneyLoad(13, 200, 3000);
  cluster.Produce(Part(events, 0, 2));
  std::this_thread::sleep_for(std::chrono::seconds(2));
  std::string reply = cluster.kafka().Control("errors TxnOffsetCommit ILLEGAL_GENERATION 1");
  ASSERT_EQ(reply.rfind("ok", 0), 0u) << reply;
  cluster.Start("b");
  ASSERT_TRUE(
      cluster.WaitForLog("a", "the group moved on without this member", std::chrono::seconds(60)))
      << a.Stderr();
  EXPECT_TRUE(
      cluster.WaitForLog("a", "partitions and the uncommitted batch", std::chrono::seconds(5)))
      << a.Stderr();
  cluster.Produce(Part(events, 1, 2));
  std::this_thread::sleep_for(std::chrono::seconds(2));
  cluster.Stop("a");  // exit code 0, its last batch committed

  const Oracle oracle = BacktestOracle(config.rules, cluster.ReadInput(events.size()));
  ASSERT_GT(oracle.triggers.size(), 20u);
  cluster.ExpectOracleFrom("b", oracle, std::chrono::seconds(90));
}

// The refusal met by the stop's commit: the old code exited 1; the transaction was aborted, so
// the stop is clean (exit 0) and the next start processes that batch again.
TEST(MembershipLostTest, TheStopsCommitRefusedExitsCleanlyAndTheNextStartRedoesIt) {
  TempDir dir;
  const ClusterConfig config = ExactlyOnce("membership-lost-stop");
  Cluster cluster(dir, config, FaultChannel::kYes);
  ASSERT_TRUE(cluster.started()) << cluster.kafka().Stderr();
  ChildProcess& a = RunPatient(cluster, config);
  ASSERT_TRUE(cluster.WaitForLog("a", "assigned touchpoints/", std::chrono::seconds(30)))
      << a.Stderr();
  const auto events = JourneyLoad(13, 200, 3000);
  cluster.Produce(events);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  std::string reply = cluster.kafka().Control("errors TxnOffsetCommit ILLEGAL_GENERATION 1");
  ASSERT_EQ(reply.rfind("ok", 0), 0u) << reply;
  cluster.Stop("a");  // exit code 0
  ASSERT_NE(cluster.finished_logs().back().find("shutting down without the last commit"),
            std::string::npos)
      << cluster.finished_logs().back();

  cluster.Start("a");  // the usual commit interval, the same state
  const Oracle oracle = BacktestOracle(config.rules, cluster.ReadInput(events.size()));
  ASSERT_GT(oracle.triggers.size(), 20u);
  cluster.ExpectOracleFrom("a", oracle, std::chrono::seconds(90));
}

}  // namespace
}  // namespace touchstream::testing
