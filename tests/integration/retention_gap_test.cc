// A retention gap: input deleted by retention before the processor read it. The stored offset
// is then below the partition's earliest offset. By default the processor refuses to start
// (exit code 1, naming the partition and the lost range); with
// processing.on_retention_gap: skip_to_earliest it logs, counts and continues from the
// earliest offset. The embedded Kafka keeps about 5 MiB per partition, so 6 MiB of large
// records push the stored offset out of the log.
#include <gtest/gtest.h>

#include <map>

#include "tests/integration/harness.h"
#include "tests/integration/oracle.h"

namespace touchstream::testing {
namespace {

constexpr char kConfig[] = R"(
topics:
  touchpoints: {name: touchpoints, partitions: 1}
  triggers: {name: triggers, partitions: 1}
  dead_letter: {name: touchpoints-dlq, partitions: 1}
consumer: {group_id: gap}
processing: {commit_interval: 20ms}
timers: {clock: event_time}
http: {listen: ""}
kafka_consumer: {fetch.wait.max.ms: 20, session.timeout.ms: 6000}
rules:
  cart_2m: {kind: cart_abandonment, delay: 2m}
)";

int64_t EarliestOffset(const std::string& bootstrap) {
  std::string errstr;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", bootstrap, errstr);
  conf->set("group.id", "gap-probe", errstr);
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(
      RdKafka::KafkaConsumer::create(conf.get(), errstr));
  int64_t low = -1;
  int64_t high = -1;
  consumer->query_watermark_offsets("touchpoints", 0, &low, &high, 5'000);
  consumer->close();
  return low;
}

TEST(RetentionGapTest, FailsLoudlyByDefaultAndSkipsWhenConfigured) {
  TempDir dir;
  const std::string state = "state:\n  dir: " + dir.path() + "/state\n";
  const std::string fail_config = dir.Write("fail.yaml", std::string(kConfig) + state);
  std::string skip = std::string(kConfig) + state;
  const std::string processing = "processing: {commit_interval: 20ms";
  skip.insert(skip.find(processing) + processing.size(), ", on_retention_gap: skip_to_earliest");
  const std::string skip_config = dir.Write("skip.yaml", skip);
  EmbeddedKafkaProcess kafka(fail_config, dir.path() + "/kafka");
  ASSERT_FALSE(kafka.bootstrap().empty());
  auto run = [&](const std::string& config, const std::string& name) {
    return std::make_unique<ChildProcess>(
        std::vector<std::string>{TouchstreamBin(), "run", "--config", config, "-X",
                                 "bootstrap.servers=" + kafka.bootstrap()},
        dir.path() + "/" + name);
  };

  // 200 events processed and committed: the stored offset is 200.
  const auto events = JourneyLoad(61, 50, 200);
  std::map<int32_t, std::vector<std::string>> input;
  for (const auto& [customer, value] : events) input[0].push_back(value);
  const Oracle oracle = BacktestOracle(kConfig, input);
  auto first = run(fail_config, "first");
  ProduceRaw(kafka.bootstrap(), "touchpoints", events);
  ASSERT_TRUE(AwaitState(fail_config, oracle.state, dir.path() + "/dump",
                         std::chrono::seconds(30)) == oracle.state);
  EXPECT_EQ(first->Stop(), 0) << first->Stderr();

  // While it is down, 6 MiB arrive and retention drops the oldest records, some unread.
  ProduceRaw(kafka.bootstrap(), "touchpoints",
             std::vector<std::pair<std::string, std::string>>(
                 96, {"bulk", std::string(64 * 1024, 'x')}));
  const int64_t earliest = EarliestOffset(kafka.bootstrap());
  ASSERT_GT(earliest, 200) << "the embedded Kafka did not trim the partition";

  auto failing = run(fail_config, "failing");
  EXPECT_EQ(failing->Wait(std::chrono::seconds(30)), 1) << failing->Stderr();
  EXPECT_NE(failing->Stderr().find("retention gap on touchpoints/0: the next offset to process "
                                   "is 200 but the earliest in Kafka is " +
                                   std::to_string(earliest)),
            std::string::npos)
      << failing->Stderr();

  auto skipping = run(skip_config, "skipping");
  EXPECT_TRUE(WaitFor([&] { return skipping->Stderr(); },
                      "assigned touchpoints/0 from offset " + std::to_string(earliest),
                      std::chrono::seconds(30)))
      << skipping->Stderr();
  EXPECT_NE(skipping->Stderr().find("; continuing from " + std::to_string(earliest)),
            std::string::npos)
      << skipping->Stderr();
  // The bulk records it did read are not events: each is dead-lettered, once.
  const std::vector<Record> dead = ConsumeAll(kafka.bootstrap(), "touchpoints-dlq", 1,
                                              std::chrono::seconds(20));
  EXPECT_FALSE(dead.empty());
  EXPECT_EQ(skipping->Stop(), 0) << skipping->Stderr();
}

}  // namespace
}  // namespace touchstream::testing
