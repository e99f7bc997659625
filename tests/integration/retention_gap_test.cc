// A retention gap: input deleted by retention before the processor read it. The stored offset
// is then below the partition's earliest offset. By default the processor refuses to start
// (exit code 1, naming the partition and the lost range); with
// processing.on_retention_gap: skip_to_earliest it logs, counts and continues from the
// earliest offset. The embedded Kafka keeps about 5 MiB per partition, so 6 MiB of large
// records push the stored offset out of the log.
#include <gtest/gtest.h>

#include <csignal>
#include <map>

#include "tests/integration/cluster.h"
#include "tests/integration/oracle.h"

namespace touchstream::testing {
namespace {

TEST(RetentionGapTest, FailsLoudlyByDefaultAndSkipsWhenConfigured) {
  TempDir dir;
  ClusterConfig config;
  config.group_id = "gap";
  config.processing = "commit_interval: 20ms";
  config.kafka_consumer = "fetch.wait.max.ms: 20, session.timeout.ms: 6000";
  config.rules = kCart2mRules;
  Cluster cluster(dir, config);
  ASSERT_TRUE(cluster.started());
  // Two configs on one state directory ("run"): the default, and skip_to_earliest.
  const std::string fail_config = cluster.Config("run");
  ClusterConfig skip = config;
  skip.processing += ", on_retention_gap: skip_to_earliest";
  const std::string skip_config = cluster.WriteConfig("skip", "run", skip);

  // 200 events processed and committed: the stored offset is 200.
  const auto events = JourneyLoad(61, 50, 200);
  std::map<int32_t, std::vector<std::string>> input;
  for (const auto& [customer, value] : events) input[0].push_back(value);
  const Oracle oracle = BacktestOracle(config.rules, input);
  cluster.Run("first", fail_config);
  cluster.Produce(events);
  ASSERT_TRUE(cluster.AwaitState("run", oracle.state, std::chrono::seconds(30)) == oracle.state);
  cluster.Stop("first");

  // While it is down, 6 MiB arrive and retention drops the oldest records, some unread.
  cluster.Produce(
      std::vector<std::pair<std::string, std::string>>(96, {"bulk", std::string(64 * 1024, 'x')}));
  const int64_t earliest = LowWatermarks(cluster.bootstrap(), "touchpoints", 1)[0];
  ASSERT_GT(earliest, 200) << "the embedded Kafka did not trim the partition";

  ChildProcess& failing = cluster.Run("failing", fail_config);
  EXPECT_EQ(failing.Wait(std::chrono::seconds(30)), 1) << failing.Stderr();
  EXPECT_NE(failing.Stderr().find("retention gap on touchpoints/0: the next offset to process "
                                  "is 200 but the earliest in Kafka is " +
                                  std::to_string(earliest)),
            std::string::npos)
      << failing.Stderr();

  ChildProcess& skipping = cluster.Run("skipping", skip_config);
  EXPECT_TRUE(cluster.WaitForLog("skipping",
                                 "assigned touchpoints/0 from offset " + std::to_string(earliest),
                                 std::chrono::seconds(30)))
      << skipping.Stderr();
  EXPECT_NE(skipping.Stderr().find("; continuing from " + std::to_string(earliest)),
            std::string::npos)
      << skipping.Stderr();
  // The bulk records it did read are not events: each is dead-lettered, once.
  const std::vector<Record> dead = cluster.Consume("touchpoints-dlq", 1, std::chrono::seconds(20));
  EXPECT_FALSE(dead.empty());
  cluster.Stop("skipping");
}

// A gap met while running: the instance is stopped (SIGSTOP, shorter than the session timeout)
// while 12 MiB arrive, so that its next fetch asks for an offset retention has deleted.
// librdkafka then stops fetching the partition, and a seek cannot restart it: with
// skip_to_earliest the instance commits and rejoins, its assignment continues from the earliest
// offset, and the events after the gap are processed. (Before, the seek failed unseen and the
// partition stood still for good.)
TEST(RetentionGapTest, AGapMetWhileRunningIsSkippedWhenConfigured) {
  TempDir dir;
  ClusterConfig config;
  config.group_id = "gap-running";
  config.processing = "commit_interval: 20ms, on_retention_gap: skip_to_earliest";
  config.kafka_consumer =
      "fetch.wait.max.ms: 20, session.timeout.ms: 10000, heartbeat.interval.ms: 500";
  config.rules = kCart2mRules;
  Cluster cluster(dir, config);
  ASSERT_TRUE(cluster.started());

  const auto before = JourneyLoad(63, 50, 200);
  const auto after = JourneyLoad(64, 50, 100);
  std::map<int32_t, std::vector<std::string>> input;
  for (const auto& [customer, value] : before) input[0].push_back(value);
  ChildProcess& a = cluster.Start("a");
  cluster.Produce(before);
  ASSERT_EQ(
      cluster.AwaitState("a", BacktestOracle(config.rules, input).state, std::chrono::seconds(30)),
      BacktestOracle(config.rules, input).state)
      << a.Stderr();

  a.Signal(SIGSTOP);
  cluster.Produce(
      std::vector<std::pair<std::string, std::string>>(192, {"bulk", std::string(64 * 1024, 'x')}));
  cluster.Produce(after);
  const int64_t earliest = LowWatermarks(cluster.bootstrap(), "touchpoints", 1)[0];
  a.Signal(SIGCONT);
  ASSERT_GT(earliest, 216) << "the embedded Kafka did not trim the partition past a fetch";

  for (const auto& [customer, value] : after) input[0].push_back(value);
  const Oracle oracle = BacktestOracle(config.rules, input);
  EXPECT_EQ(cluster.AwaitState("a", oracle.state, std::chrono::seconds(60)), oracle.state)
      << a.Stderr();
  EXPECT_NE(a.Stderr().find("; continuing from "), std::string::npos) << a.Stderr();
  cluster.Stop("a");
}

// An assignment whose take-over stops at a partition (here the gap under the default `fail`)
// leaves the partitions restored before it but not taken over as the instance's released
// copies: a restore runs for every partition of the assignment first, so a new instance has
// written their states, but it owns none of them. state-dump (and /customers) must not serve
// them. A new instance (an empty state directory) restores both partitions from the changelog.
TEST(RetentionGapTest, PartitionsRestoredButNotTakenOverAreNotServed) {
  TempDir dir;
  ClusterConfig config;
  config.group_id = "gap-two";
  config.partitions = 2;
  config.changelog = "gap-two-customers-changelog";
  config.processing = "commit_interval: 20ms";
  config.kafka_consumer = "fetch.wait.max.ms: 20, session.timeout.ms: 6000";
  config.rules = kCart2mRules;
  Cluster cluster(dir, config);
  ASSERT_TRUE(cluster.started());

  const auto events = JourneyLoad(62, 50, 200);
  cluster.Run("first", cluster.Config("first"));
  cluster.Produce(events);
  const std::map<int32_t, std::vector<std::string>> input = cluster.ReadInput(events.size());
  ASSERT_EQ(input.size(), 2u) << "the load should reach both partitions";
  const Oracle oracle = BacktestOracle(config.rules, input);
  ASSERT_TRUE(cluster.AwaitState("first", oracle.state, std::chrono::seconds(30)) ==
              oracle.state);
  cluster.Stop("first");

  // 6 MiB of one key: retention drops unread input of the partition it lands in.
  cluster.Produce(
      std::vector<std::pair<std::string, std::string>>(96, {"bulk", std::string(64 * 1024, 'x')}));
  const std::vector<int64_t> earliest = LowWatermarks(cluster.bootstrap(), "touchpoints", 2);
  const int32_t gap = earliest[0] > 0 ? 0 : 1;
  ASSERT_GT(earliest[gap], static_cast<int64_t>(input.at(gap).size()))
      << "the embedded Kafka did not trim the partition";

  ChildProcess& fresh = cluster.Run("fresh", cluster.Config("fresh"));
  EXPECT_EQ(fresh.Wait(std::chrono::seconds(60)), 1) << fresh.Stderr();
  const std::string log = fresh.Stderr();
  ASSERT_NE(log.find("retention gap on touchpoints/" + std::to_string(gap)), std::string::npos)
      << log;
  EXPECT_NE(log.find("restored touchpoints/" + std::to_string(gap)), std::string::npos) << log;
  // Both partitions were restored before the first take-over; the assignment's order decides
  // whether the other one was taken over before the gap's.
  std::map<int32_t, std::vector<std::string>> owned;
  for (int32_t partition : {0, 1}) {
    if (log.find("assigned touchpoints/" + std::to_string(partition) + " from offset") !=
        std::string::npos) {
      owned[partition] = input.at(partition);
    }
  }
  EXPECT_EQ(owned.count(gap), 0u);
  const std::string served = owned.empty() ? "" : BacktestOracle(config.rules, owned).state;
  EXPECT_EQ(cluster.AwaitState("fresh", served, std::chrono::seconds(1)), served)
      << "served a partition restored but not taken over";
}

}  // namespace
}  // namespace touchstream::testing
