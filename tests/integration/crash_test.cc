// Crash safety: `touchstream run` killed with SIGKILL at random points under continuous load
// and restarted on the same state directory. Oracle and invariants I1-I3:
// tests/integration/oracle.h.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "processor/backtest/backtest.h"
#include "processor/demo/journey_generator.h"
#include "processor/json/json_lines.h"
#include "tests/integration/harness.h"
#include "tests/integration/oracle.h"
#include "tests/unit/test_events.h"
#include "trigger.pb.h"

namespace touchstream::testing {
namespace {

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
  touchpoints: {name: touchpoints, partitions: 1}
  triggers: {name: triggers, partitions: 1}
  dead_letter: {name: touchpoints-dlq, partitions: 1}
consumer: {group_id: crash}
processing: {commit_interval: 20ms, commit_max_events: 500}
timers: {clock: event_time}
http: {listen: ""}
kafka_consumer: {fetch.wait.max.ms: 20, session.timeout.ms: 6000}
)";

std::vector<v1::TouchpointEvent> GenerateEvents(size_t count) {
  JourneyOptions options;
  options.seed = 7;
  options.journeys_per_second = 3;
  options.customers = 400;
  options.step_ms = 20'000;
  JourneyGenerator generator(options);
  std::vector<v1::TouchpointEvent> events;
  for (TimeMs now = kT0; events.size() < count; now += 1000) {
    for (auto& e : generator.Poll(now)) events.push_back(std::move(e));
  }
  events.resize(count);
  return events;
}

TEST(CrashTest, KillNineUnderLoadLosesNothingAndDuplicatesOnlyIdenticalIds) {
  TempDir dir;
  const std::string config_path = dir.Write(
      "config.yaml", std::string(kKafka) + kRules + "state:\n  dir: " + dir.path() + "/state\n");
  EmbeddedKafkaProcess kafka(config_path, dir.path() + "/kafka");
  ASSERT_FALSE(kafka.bootstrap().empty());

  const std::vector<v1::TouchpointEvent> events = GenerateEvents(12'000);
  std::map<int32_t, std::vector<std::string>> input;
  for (const auto& e : events) input[0].push_back(e.SerializeAsString());
  const Oracle oracle = BacktestOracle(kRules, input);
  ASSERT_GT(oracle.triggers.size(), 300u) << "the load should fire many triggers";

  const std::vector<std::string> run_args = {TouchstreamBin(), "run", "--config", config_path,
                                             "-X", "bootstrap.servers=" + kafka.bootstrap()};
  std::mt19937 rng(11);
  int restarts = 0;
  auto processor = std::make_unique<ChildProcess>(run_args, dir.path() + "/run0");
  const size_t chunk = 1000;
  for (size_t begin = 0; begin < events.size(); begin += chunk) {
    std::vector<std::pair<std::string, std::string>> records;
    for (size_t i = begin; i < std::min(events.size(), begin + chunk); ++i) {
      records.emplace_back(events[i].customer_id(), events[i].SerializeAsString());
    }
    ProduceRaw(kafka.bootstrap(), "touchpoints", records);
    // Let it work for a random while (past the ~3 s group join sometimes), then crash it.
    std::this_thread::sleep_for(std::chrono::milliseconds(500 + rng() % 4000));
    processor->Kill();
    ++restarts;
    processor = std::make_unique<ChildProcess>(
        run_args, dir.path() + "/run" + std::to_string(restarts));
  }

  // Read the output until every oracle trigger arrived (bounded).
  std::vector<Record> records;
  DeliveryCheck check;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (std::chrono::steady_clock::now() < deadline) {
    records = ConsumeAll(kafka.bootstrap(), "triggers", oracle.triggers.size(),
                         std::chrono::seconds(5), std::chrono::milliseconds(500));
    check = CheckDelivery(oracle, records);
    if (check.missing == 0) break;
  }
  EXPECT_EQ(processor->Stop(), 0) << processor->Stderr();

  EXPECT_EQ(check.missing, 0u) << "I1: oracle triggers missing from the output, after "
                               << restarts << " crashes";
  EXPECT_EQ(check.unknown, 0u) << "I2: trigger ids the oracle does not emit";
  EXPECT_EQ(check.differing, 0u) << "I2: copies of one id must be identical";
  ChildProcess dump({TouchstreamBin(), "state-dump", "--config", config_path},
                    dir.path() + "/dump");
  ASSERT_EQ(dump.Wait(std::chrono::seconds(30)), 0) << dump.Stderr();
  EXPECT_TRUE(dump.Stdout() == oracle.state) << "I3: final state differs from the oracle's";
  if (dump.Stdout() != oracle.state) {
    std::ofstream(dir.path() + "/oracle_state.jsonl") << oracle.state;
    std::cout << "compare " << dir.path() << "/dump.out with " << dir.path()
              << "/oracle_state.jsonl\n";
  }
  std::cout << "crashes=" << restarts << " oracle=" << oracle.triggers.size()
            << " delivered=" << check.delivered << " (duplicates "
            << check.delivered - check.distinct << ")\n";
}

}  // namespace
}  // namespace touchstream::testing
