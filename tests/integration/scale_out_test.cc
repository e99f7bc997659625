// Scale-out: instances join and leave one consumer group under load (clean SIGTERM and
// SIGKILL, restarts on the same state directory); partitions and their state move between
// them through the changelog. Oracle and invariants I1-I3: tests/integration/oracle.h; for I3
// the last instance standing owns every partition.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <thread>

#include "tests/integration/harness.h"
#include "tests/integration/oracle.h"

namespace touchstream::testing {
namespace {

constexpr int kPartitions = 4;

constexpr char kRules[] = R"(
rules:
  cart_2m:
    kind: cart_abandonment
    delay: 2m
  offer:
    kind: reward_window
    opener: {event_type: OFFER_ACCEPTED}
    duration: 5m
    reminder_before: 2m
    points_per_unit: 10
)";

constexpr char kKafka[] = R"(
topics:
  touchpoints: {name: touchpoints, partitions: 4}
  triggers: {name: triggers, partitions: 1}
  dead_letter: {name: touchpoints-dlq, partitions: 1}
consumer: {group_id: scale}
processing: {commit_interval: 20ms, commit_max_events: 500}
timers: {clock: event_time}
http: {listen: ""}
kafka_consumer: {fetch.wait.max.ms: 20, session.timeout.ms: 6000, heartbeat.interval.ms: 500}
)";

TEST(ScaleOutTest, InstancesJoinAndLeaveUnderLoadStateMovesWithPartitions) {
  TempDir dir;
  auto config_for = [&](const std::string& name) {
    return dir.Write(name + ".yaml", std::string(kKafka) + kRules + "state:\n  dir: " +
                                         dir.path() + "/state-" + name + "\n");
  };
  const std::string kafka_config = config_for("kafka");
  EmbeddedKafkaProcess kafka(kafka_config, dir.path() + "/kafka");
  ASSERT_FALSE(kafka.bootstrap().empty());

  const auto events = JourneyLoad(23, 600, 12'000);
  std::map<std::string, std::unique_ptr<ChildProcess>> running;
  int launches = 0;
  auto start = [&](const std::string& name) {
    running[name] = std::make_unique<ChildProcess>(
        std::vector<std::string>{TouchstreamBin(), "run", "--config", config_for(name), "-X",
                                 "bootstrap.servers=" + kafka.bootstrap()},
        dir.path() + "/" + name + "-" + std::to_string(launches++));
  };
  std::vector<std::string> logs;
  auto finish = [&](const std::string& name, bool crash) {
    if (crash) {
      running[name]->Kill();
    } else {
      EXPECT_EQ(running[name]->Stop(), 0) << running[name]->Stderr();
    }
    logs.push_back(running[name]->Stderr());
    running.erase(name);
  };

  // After each chunk of input, one membership change.
  const std::vector<std::function<void()>> steps = {
      [&] { start("a"); },         [&] { start("b"); },        [&] { start("c"); },
      [&] { finish("b", true); },  [&] { start("b"); },        [&] { finish("a", false); },
      [&] { finish("c", true); },  [&] { start("a"); },
  };
  std::mt19937 rng(5);
  const size_t chunk = events.size() / steps.size();
  for (size_t step = 0; step < steps.size(); ++step) {
    ProduceRaw(kafka.bootstrap(), "touchpoints",
               {events.begin() + step * chunk,
                step + 1 == steps.size() ? events.end() : events.begin() + (step + 1) * chunk});
    steps[step]();
    std::this_thread::sleep_for(std::chrono::milliseconds(2000 + rng() % 3000));
  }

  // The oracle: each partition on its own, in offset order, as `run` sees it.
  const auto input =
      ReadPartitions(kafka.bootstrap(), "touchpoints", kPartitions, events.size());
  size_t input_records = 0;
  for (const auto& [partition, values] : input) input_records += values.size();
  ASSERT_EQ(input_records, events.size());
  ASSERT_EQ(input.size(), static_cast<size_t>(kPartitions)) << "every partition has input";
  const Oracle oracle = BacktestOracle(kRules, input);
  ASSERT_GT(oracle.triggers.size(), 300u) << "the load should fire many triggers";

  // B leaves cleanly: A, the last one standing, owns every partition.
  finish("b", false);
  const std::string dumped =
      AwaitState(config_for("a"), oracle.state, dir.path() + "/dump", std::chrono::seconds(60));
  const std::vector<Record> records =
      ConsumeAll(kafka.bootstrap(), "triggers", oracle.triggers.size(),
                 std::chrono::seconds(30), std::chrono::milliseconds(1000));
  finish("a", false);
  ExpectInvariants(oracle, records, dumped, dir.path());

  // State moved through the changelog, not by luck of a shared directory.
  int restores = 0;
  for (const std::string& log : logs) {
    for (size_t at = log.find("restored touchpoints/"); at != std::string::npos;
         at = log.find("restored touchpoints/", at + 1)) {
      ++restores;
    }
  }
  EXPECT_GT(restores, 0) << "no partition was restored from the changelog";
  std::cout << "restores=" << restores << "\n";
}

}  // namespace
}  // namespace touchstream::testing
