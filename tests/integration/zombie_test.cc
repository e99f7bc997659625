// A zombie: an instance frozen (SIGSTOP) past its session timeout while another takes its
// partitions, then thawed (SIGCONT) under load. It must notice, drop what it had not
// committed and rejoin; nothing it still sends may corrupt the state the changelog restores.
// Oracle and invariants I1-I3: tests/integration/oracle.h (I3 on the last one standing).
#include <gtest/gtest.h>

#include <csignal>
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
  touchpoints: {name: touchpoints, partitions: 2}
  triggers: {name: triggers, partitions: 1}
  dead_letter: {name: touchpoints-dlq, partitions: 1}
consumer: {group_id: zombie}
processing: {commit_interval: 20ms, commit_max_events: 200}
timers: {clock: event_time}
http: {listen: ""}
kafka_consumer: {fetch.wait.max.ms: 20, session.timeout.ms: 6000, heartbeat.interval.ms: 500}
)";

TEST(ZombieTest, FrozenPastTheSessionTimeoutItRejoinsWithoutCorruptingState) {
  TempDir dir;
  auto config_for = [&](const std::string& name) {
    return dir.Write(name + ".yaml", std::string(kKafka) + kRules + "state:\n  dir: " +
                                         dir.path() + "/state-" + name + "\n");
  };
  EmbeddedKafkaProcess kafka(config_for("kafka"), dir.path() + "/kafka");
  ASSERT_FALSE(kafka.bootstrap().empty());
  auto start = [&](const std::string& name) {
    return std::make_unique<ChildProcess>(
        std::vector<std::string>{TouchstreamBin(), "run", "--config", config_for(name), "-X",
                                 "bootstrap.servers=" + kafka.bootstrap()},
        dir.path() + "/" + name);
  };

  const auto events = JourneyLoad(31, 300, 6000);
  auto produce_part = [&](int part) {
    const size_t n = events.size() / 3;
    ProduceRaw(kafka.bootstrap(), "touchpoints",
               {events.begin() + part * n,
                part == 2 ? events.end() : events.begin() + (part + 1) * n});
  };

  auto a = start("a");
  auto b = start("b");
  std::this_thread::sleep_for(std::chrono::seconds(5));
  produce_part(0);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  a->Signal(SIGSTOP);
  produce_part(1);
  std::this_thread::sleep_for(std::chrono::seconds(12));  // B takes A's partitions
  a->Signal(SIGCONT);
  produce_part(2);
  std::this_thread::sleep_for(std::chrono::seconds(8));
  EXPECT_NE(a->Stderr().find("longer than session.timeout.ms"), std::string::npos)
      << "the thawed instance did not notice it had been away:\n"
      << a->Stderr();

  const auto input = ReadPartitions(kafka.bootstrap(), "touchpoints", 2, events.size());
  const Oracle oracle = BacktestOracle(kRules, input);
  ASSERT_GT(oracle.triggers.size(), 100u);

  // B leaves: A, the former zombie, owns both partitions and restores what it lacks.
  EXPECT_EQ(b->Stop(), 0) << b->Stderr();
  const std::string dumped =
      AwaitState(config_for("a"), oracle.state, dir.path() + "/dump", std::chrono::seconds(60));
  const std::vector<Record> output =
      ConsumeAll(kafka.bootstrap(), "triggers", oracle.triggers.size(),
                 std::chrono::seconds(30), std::chrono::milliseconds(1000));
  EXPECT_EQ(a->Stop(), 0) << a->Stderr();
  ExpectInvariants(oracle, output, dumped, dir.path());
}

}  // namespace
}  // namespace touchstream::testing
