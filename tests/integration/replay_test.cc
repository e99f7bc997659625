// Input seen again: upstream retries (the same events at new offsets) and a consumer group
// whose committed offsets were moved back to the beginning (an operator's reset, a tool that
// reused the group id). Neither may change the state or add a trigger: the processor resumes
// from the offsets stored with its state and skips event ids it already applied. Oracle and
// invariants I1-I3: tests/integration/oracle.h, on the input without the retries.
#include <gtest/gtest.h>

#include <thread>

#include "tests/integration/cluster.h"
#include "tests/integration/oracle.h"

namespace touchstream::testing {
namespace {

// Joins `group` (its processors stopped) and commits offset `offset` of touchpoints/0, as a
// reset tool would.
void ResetGroupOffset(const std::string& bootstrap, const std::string& group, int64_t offset) {
  std::string errstr;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", bootstrap, errstr);
  conf->set("group.id", group, errstr);
  conf->set("enable.auto.commit", "false", errstr);
  conf->set("partition.assignment.strategy", "range,roundrobin", errstr);
  conf->set("session.timeout.ms", "6000", errstr);
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(
      RdKafka::KafkaConsumer::create(conf.get(), errstr));
  ASSERT_TRUE(consumer) << errstr;
  ASSERT_EQ(consumer->subscribe({"touchpoints"}), RdKafka::ERR_NO_ERROR);
  std::vector<RdKafka::TopicPartition*> assigned;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (assigned.empty() && std::chrono::steady_clock::now() < deadline) {
    delete consumer->consume(100);
    consumer->assignment(assigned);
  }
  ASSERT_FALSE(assigned.empty()) << "the reset tool did not join the group";
  RdKafka::TopicPartition::destroy(assigned);
  std::vector<RdKafka::TopicPartition*> offsets = {
      RdKafka::TopicPartition::create("touchpoints", 0, offset)};
  EXPECT_EQ(consumer->commitSync(offsets), RdKafka::ERR_NO_ERROR);
  RdKafka::TopicPartition::destroy(offsets);
  consumer->close();
}

TEST(ReplayTest, RetriedEventsAndAGroupResetToTheBeginningChangeNothing) {
  TempDir dir;
  ClusterConfig config;
  config.group_id = "replay";
  config.kafka_consumer = "fetch.wait.max.ms: 20, session.timeout.ms: 6000";
  config.rules = kCart2mRules;
  Cluster cluster(dir, config);
  ASSERT_TRUE(cluster.started());

  const auto events = JourneyLoad(53, 300, 5000);
  std::map<int32_t, std::vector<std::string>> input;
  for (const auto& [customer, value] : events) input[0].push_back(value);
  const Oracle oracle = BacktestOracle(config.rules, input);
  ASSERT_GT(oracle.triggers.size(), 40u);

  // Two runs of one instance ("run") on one state directory.
  cluster.Start("run");
  cluster.Produce(events);
  const std::string before = cluster.AwaitState("run", oracle.state, std::chrono::seconds(60));
  ASSERT_TRUE(before == oracle.state) << "the first run did not reach the oracle's state";
  cluster.Stop("run");

  // Upstream retries: the first thousand events again, at new offsets. And the group's
  // committed offset back at the beginning.
  cluster.Produce({events.begin(), events.begin() + 1000});
  ResetGroupOffset(cluster.bootstrap(), "replay", 0);

  ChildProcess& second = cluster.Start("run");
  ASSERT_TRUE(cluster.WaitForLog("run", "assigned touchpoints/0 from offset 5000",
                                 std::chrono::seconds(30)))
      << "it must resume from its stored offset, not the group's:\n"
      << second.Stderr();
  std::this_thread::sleep_for(std::chrono::seconds(3));  // time to process the retries
  cluster.ExpectOracleFrom("run", oracle, std::chrono::seconds(30));
}

}  // namespace
}  // namespace touchstream::testing
