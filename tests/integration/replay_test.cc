// Input seen again: upstream retries (the same events at new offsets) and a consumer group
// whose committed offsets were moved back to the beginning (an operator's reset, a tool that
// reused the group id). Neither may change the state or add a trigger: the processor resumes
// from the offsets stored with its state and skips event ids it already applied. Oracle and
// invariants I1-I3: tests/integration/oracle.h, on the input without the retries.
#include <gtest/gtest.h>

#include <thread>

#include "tests/integration/harness.h"
#include "tests/integration/oracle.h"

namespace touchstream::testing {
namespace {

constexpr char kRules[] = R"(
rules:
  cart_2m:
    kind: cart_abandonment
    delay: 2m
)";

constexpr char kKafka[] = R"(
topics:
  touchpoints: {name: touchpoints, partitions: 1}
  triggers: {name: triggers, partitions: 1}
  dead_letter: {name: touchpoints-dlq, partitions: 1}
consumer: {group_id: replay}
processing: {commit_interval: 20ms, commit_max_events: 500}
timers: {clock: event_time}
http: {listen: ""}
kafka_consumer: {fetch.wait.max.ms: 20, session.timeout.ms: 6000}
)";

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
  const std::string config = dir.Write(
      "config.yaml", std::string(kKafka) + kRules + "state:\n  dir: " + dir.path() + "/state\n");
  EmbeddedKafkaProcess kafka(config, dir.path() + "/kafka");
  ASSERT_FALSE(kafka.bootstrap().empty());
  auto run = [&](const std::string& name) {
    return std::make_unique<ChildProcess>(
        std::vector<std::string>{TouchstreamBin(), "run", "--config", config, "-X",
                                 "bootstrap.servers=" + kafka.bootstrap()},
        dir.path() + "/" + name);
  };

  const auto events = JourneyLoad(53, 300, 5000);
  std::map<int32_t, std::vector<std::string>> input;
  for (const auto& [customer, value] : events) input[0].push_back(value);
  const Oracle oracle = BacktestOracle(kRules, input);
  ASSERT_GT(oracle.triggers.size(), 40u);

  auto first = run("first");
  ProduceRaw(kafka.bootstrap(), "touchpoints", events);
  const std::string before =
      AwaitState(config, oracle.state, dir.path() + "/dump", std::chrono::seconds(60));
  ASSERT_TRUE(before == oracle.state) << "the first run did not reach the oracle's state";
  EXPECT_EQ(first->Stop(), 0) << first->Stderr();

  // Upstream retries: the first thousand events again, at new offsets. And the group's
  // committed offset back at the beginning.
  ProduceRaw(kafka.bootstrap(), "touchpoints", {events.begin(), events.begin() + 1000});
  ResetGroupOffset(kafka.bootstrap(), "replay", 0);

  auto second = run("second");
  ASSERT_TRUE(WaitFor([&] { return second->Stderr(); }, "assigned touchpoints/0 from offset 5000",
                      std::chrono::seconds(30)))
      << "it must resume from its stored offset, not the group's:\n"
      << second->Stderr();
  std::this_thread::sleep_for(std::chrono::seconds(3));  // time to process the retries
  const std::string after =
      AwaitState(config, oracle.state, dir.path() + "/dump", std::chrono::seconds(30));
  const std::vector<Record> output =
      ConsumeAll(kafka.bootstrap(), "triggers", oracle.triggers.size(),
                 std::chrono::seconds(30), std::chrono::milliseconds(1000));
  EXPECT_EQ(second->Stop(), 0) << second->Stderr();
  ExpectInvariants(oracle, output, after, dir.path());
}

}  // namespace
}  // namespace touchstream::testing
