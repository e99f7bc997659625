// Crash safety: three `touchstream run` instances in one group under continuous load; after
// each chunk of input one of them, chosen at random, is killed with SIGKILL at a random moment
// and restarted on its own state directory. Oracle and invariants I1-I3:
// tests/integration/oracle.h; for I3 the last instance standing owns every partition.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <thread>

#include "tests/integration/harness.h"
#include "tests/integration/oracle.h"

namespace touchstream::testing {
namespace {

constexpr int kPartitions = 4;
constexpr int kCrashes = 10;

constexpr char kRules[] = R"(
rules:
  cart_2m:
    kind: cart_abandonment
    delay: 2m
  cart_10m:
    kind: cart_abandonment
    delay: 10m
)";

constexpr char kKafka[] = R"(
topics:
  touchpoints: {name: touchpoints, partitions: 4}
  triggers: {name: triggers, partitions: 1}
  dead_letter: {name: touchpoints-dlq, partitions: 1}
consumer: {group_id: crash}
processing: {commit_interval: 20ms, commit_max_events: 500}
timers: {clock: event_time}
http: {listen: ""}
kafka_consumer: {fetch.wait.max.ms: 20, session.timeout.ms: 6000, heartbeat.interval.ms: 500}
)";

TEST(CrashTest, OneOfThreeInstancesKilledRepeatedlyUnderLoadLosesNothing) {
  TempDir dir;
  auto config_for = [&](const std::string& name) {
    return dir.Write(name + ".yaml", std::string(kKafka) + kRules + "state:\n  dir: " +
                                         dir.path() + "/state-" + name + "\n");
  };
  EmbeddedKafkaProcess kafka(config_for("kafka"), dir.path() + "/kafka");
  ASSERT_FALSE(kafka.bootstrap().empty());

  const std::vector<std::string> names = {"a", "b", "c"};
  std::map<std::string, std::unique_ptr<ChildProcess>> running;
  int launches = 0;
  auto start = [&](const std::string& name) {
    running[name] = std::make_unique<ChildProcess>(
        std::vector<std::string>{TouchstreamBin(), "run", "--config", config_for(name), "-X",
                                 "bootstrap.servers=" + kafka.bootstrap()},
        dir.path() + "/" + name + "-" + std::to_string(launches++));
  };
  for (const std::string& name : names) start(name);

  const auto events = JourneyLoad(7, 400, 12'000);
  std::mt19937 rng(11);
  const size_t chunk = events.size() / kCrashes;
  for (int crash = 0; crash < kCrashes; ++crash) {
    ProduceRaw(kafka.bootstrap(), "touchpoints",
               {events.begin() + crash * chunk,
                crash + 1 == kCrashes ? events.end() : events.begin() + (crash + 1) * chunk});
    // Let them work for a random while (sometimes past a rebalance), then crash one.
    std::this_thread::sleep_for(std::chrono::milliseconds(500 + rng() % 3500));
    const std::string& victim = names[rng() % names.size()];
    running[victim]->Kill();
    start(victim);
  }

  const auto input = ReadPartitions(kafka.bootstrap(), "touchpoints", kPartitions, events.size());
  size_t input_records = 0;
  for (const auto& [partition, values] : input) input_records += values.size();
  ASSERT_EQ(input_records, events.size());
  const Oracle oracle = BacktestOracle(kRules, input);
  ASSERT_GT(oracle.triggers.size(), 300u) << "the load should fire many triggers";

  // Two leave cleanly: "a", the last one standing, owns every partition.
  EXPECT_EQ(running["b"]->Stop(), 0) << running["b"]->Stderr();
  EXPECT_EQ(running["c"]->Stop(), 0) << running["c"]->Stderr();
  const std::string dumped =
      AwaitState(config_for("a"), oracle.state, dir.path() + "/dump", std::chrono::seconds(60));
  const std::vector<Record> records =
      ConsumeAll(kafka.bootstrap(), "triggers", oracle.triggers.size(),
                 std::chrono::seconds(30), std::chrono::milliseconds(1000));
  EXPECT_EQ(running["a"]->Stop(), 0) << running["a"]->Stderr();
  ExpectInvariants(oracle, records, dumped, dir.path());
}

}  // namespace
}  // namespace touchstream::testing
