// Broker faults under load, on a 3-broker embedded Kafka with two instances in one group: a
// broker leading input, trigger and changelog partitions down for 6 s, leader moves, a move
// of the group coordinator, and slow produce acknowledgements. Input keeps arriving through
// all of it. Oracle and invariants I1-I3: tests/integration/oracle.h (I3 on the last one
// standing).
#include <gtest/gtest.h>

#include <iostream>
#include <thread>

#include "tests/integration/cluster.h"
#include "tests/integration/oracle.h"
#include "tests/integration/paced_producer.h"

namespace touchstream::testing {
namespace {

constexpr int kPartitions = 4;

// The changelog keeps its default name, <group_id>-customers-changelog.
constexpr char kChangelog[] = "faults-customers-changelog";

ClusterConfig Faults() {
  ClusterConfig config;
  config.group_id = "faults";
  config.partitions = kPartitions;
  config.rules = std::string(kCart2mRules) + kOfferRule + "    points_per_unit: 10\n";
  return config;
}

bool Running(ChildProcess& process) { return process.Wait(std::chrono::milliseconds(0)) == -1000; }

TEST(BrokerFaultTest, BrokerDownLeaderAndCoordinatorMovesSlowAcksKeepI1ToI3) {
  TempDir dir;
  Cluster cluster(dir, Faults(), FaultChannel::kYes, 3);
  EmbeddedKafkaProcess& kafka = cluster.kafka();
  ASSERT_TRUE(cluster.started()) << kafka.Stderr();
  auto pause = [](int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); };

  // Deterministic placement. Broker 2 leads an input partition, the trigger partition and a
  // changelog partition (phase 1 takes it down); the group's coordinator is broker 1.
  const std::string changelog = kChangelog;
  for (const std::string& command : std::vector<std::string>{
           "leader touchpoints 0 1", "leader touchpoints 1 2", "leader touchpoints 2 3",
           "leader touchpoints 3 1", "leader triggers 0 2", "leader touchpoints-dlq 0 3",
           "leader " + changelog + " 0 3", "leader " + changelog + " 1 2",
           "leader " + changelog + " 2 1", "leader " + changelog + " 3 3",
           "coordinator group faults 1"}) {
    ASSERT_TRUE(Applied(kafka, command));
  }

  ChildProcess& a = cluster.Start("a");
  ASSERT_TRUE(cluster.WaitForLog("a", "assigned touchpoints/", std::chrono::seconds(20)))
      << a.Stderr();
  // B's join is a rebalance of A as well; on a loaded 2-core machine it once took over 20 s.
  ChildProcess& b = cluster.Start("b");
  ASSERT_TRUE(cluster.WaitForLog("b", "assigned touchpoints/", std::chrono::seconds(60)))
      << "B:\n"
      << b.Stderr() << "\nA:\n"
      << a.Stderr();

  // About 36 s of input at a steady rate: it keeps arriving while every fault is active.
  const auto events = JourneyLoad(47, 600, 10'000);
  PacedProducer input(kafka.bootstrap(), "touchpoints", events, 280);
  pause(3000);

  // 1. Broker 2 down for 6 s: touchpoints/1, triggers/0 and changelog/1 have no reachable
  // leader (the mock does not move leaderships). The other input partitions are consumed
  // and committed on; the relays' records wait. Then it comes back.
  ASSERT_TRUE(Applied(kafka, "broker-down 2"));
  pause(6000);
  ASSERT_TRUE(Applied(kafka, "broker-up 2"));
  pause(4000);

  // 2. Leader moves under load, one after another: triggers/0 and changelog/1 to broker 3,
  // input partitions 0 and 2 to broker 2. Broker 3 then leads no input partition, so only
  // the relays produce to it (phase 4).
  for (const std::string& command :
       std::vector<std::string>{"leader triggers 0 3", "leader touchpoints 0 2",
                                "leader " + changelog + " 1 3", "leader touchpoints 2 2"}) {
    ASSERT_TRUE(Applied(kafka, command));
    pause(700);
  }
  pause(3000);

  // 3. The group coordinator moves to broker 2: heartbeats and offset commits get
  // NOT_COORDINATOR until the members find it; the final rebalance (B leaves) runs there.
  ASSERT_TRUE(Applied(kafka, "coordinator group faults 2"));
  pause(4000);

  // 4. Slow produce acks: broker 3 (triggers/0, changelog/0,1,3) answers its next 10 Produce
  // requests after 1.5 s each, and every response of broker 1 (touchpoints/3, changelog/2)
  // takes 300 ms, for 6 s.
  ASSERT_TRUE(Applied(kafka, "errors-rtt 3 Produce NO_ERROR 1500 10"));
  ASSERT_TRUE(Applied(kafka, "rtt 1 300"));
  pause(6000);
  ASSERT_TRUE(Applied(kafka, "rtt 1 0"));

  ASSERT_EQ(input.Finish(std::chrono::seconds(60)), "") << "input was not fully produced";
  // The relays really produced through the slow broker: every delayed response was used.
  const auto acks_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::string pending;
  while (std::chrono::steady_clock::now() < acks_deadline) {
    pending = kafka.Control("pending-errors 3 Produce");
    if (pending == "ok 0") break;
    pause(500);
  }
  EXPECT_EQ(pending, "ok 0") << "broker 3 did not answer 10 Produce requests";
  EXPECT_TRUE(Running(a)) << "A exited during the faults:\n" << a.Stderr();
  EXPECT_TRUE(Running(b)) << "B exited during the faults:\n" << b.Stderr();

  // The oracle: each partition on its own, in offset order, as `run` sees it.
  const auto partitions = cluster.ReadInput(events.size());
  ASSERT_EQ(RecordCount(partitions), events.size());
  ASSERT_EQ(partitions.size(), static_cast<size_t>(kPartitions)) << "every partition has input";
  const Oracle oracle = BacktestOracle(cluster.config().rules, partitions);
  ASSERT_GT(oracle.triggers.size(), 300u) << "the load should fire many triggers";

  // B leaves cleanly, a rebalance through the moved coordinator: A owns every partition.
  cluster.Stop("b");
  cluster.ExpectOracleFrom("a", oracle, std::chrono::seconds(60), [&] { return Running(a); });
}

}  // namespace
}  // namespace touchstream::testing
