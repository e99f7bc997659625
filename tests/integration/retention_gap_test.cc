// A retention gap: input deleted by retention before the processor read it. The stored offset
// is then below the partition's earliest offset. By default the processor refuses to start
// (exit code 1, naming the partition and the lost range); with
// processing.on_retention_gap: skip_to_earliest it logs, counts and continues from the
// earliest offset. The embedded Kafka keeps about 5 MiB per partition, so 6 MiB of large
// records push the stored offset out of the log.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace touchstream::testing
