// Outbox backpressure with a broker that stops acknowledging (processor/run/outbox_backpressure.h):
// on a 2-broker embedded Kafka, broker 2 leads the triggers and changelog partitions and answers
// every request 15 s late, so no record the relay produces is acknowledged meanwhile. With a small
// processing.max_outbox_records the instance pauses its input: touchstream_input_paused is 1, the
// outbox backlog stays near the limit instead of growing with the input, and consumption stops.
// Once the broker answers again everything completes: triggers and state equal the oracle's
// (I1-I3, tests/integration/oracle.h). BackpressureTest shows the same pause with a healthy broker.
// The second test holds the bound while the records kept behind a timer backlog are applied.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>

#include "tests/integration/cluster.h"
#include "tests/integration/oracle.h"
#include "tests/unit/test_events.h"

namespace touchstream::testing {
namespace {

constexpr int kMaxOutboxRecords = 300;
constexpr int kCommitMaxEvents = 100;
constexpr size_t kEvents = 3000;
// Longer than the stalled phase of the test takes, shorter than the producer's 30 s
// request.timeout.ms: the delayed acknowledgements arrive, none time out.
constexpr int kStallMs = 15'000;

// A test's cluster config: the 2-minute cart rule, /metrics on `port`.
ClusterConfig StalledConfig(const std::string& group_id, int port, std::string processing) {
  ClusterConfig config;
  config.group_id = group_id;
  config.processing = std::move(processing);
  config.http = "listen: \"127.0.0.1:" + std::to_string(port) + "\"";
  config.rules = kCart2mRules;
  return config;
}

// Broker 1 serves the input side (input, repartition and dead-letter partitions, the group's
// coordinator); broker 2 only what the relay produces: triggers and the changelog.
::testing::AssertionResult OutputOnBroker2(EmbeddedKafkaProcess& kafka, const std::string& group) {
  const std::vector<std::string> commands{
      "leader touchpoints 0 1",     "leader " + group + "-touchpoints-repartition 0 1",
      "leader touchpoints-dlq 0 1", "coordinator group " + group + " 1",
      "leader triggers 0 2",        "leader " + group + "-customers-changelog 0 2"};
  for (const std::string& command : commands) {
    if (!Applied(kafka, command)) return ::testing::AssertionFailure() << command;
  }
  return ::testing::AssertionSuccess();
}

// Starts `run` (cluster["run"]) once the cluster's brokers are up and its output is on broker 2
// (OutputOnBroker2); succeeds once it was assigned its input.
::testing::AssertionResult StartRunWithOutputOnBroker2(Cluster& cluster,
                                                       const ClusterConfig& config) {
  if (!cluster.started()) return ::testing::AssertionFailure() << cluster.kafka().Stderr();
  if (::testing::AssertionResult placed = OutputOnBroker2(cluster.kafka(), config.group_id);
      !placed) {
    return placed;
  }
  ChildProcess& run = cluster.Start("run");
  if (!cluster.WaitForLog("run", "assigned touchpoints/", std::chrono::seconds(30))) {
    return ::testing::AssertionFailure() << run.Stderr();
  }
  return ::testing::AssertionSuccess();
}

// Carts of customers `prefix`<from> .. `prefix`<to - 1>, one each, added at `t0` (`spread`: the
// i-th at `t0` + i ms), as (key, value) records.
std::vector<std::pair<std::string, std::string>> Carts(int from, int to, const std::string& prefix,
                                                       TimeMs t0, bool spread) {
  std::vector<std::pair<std::string, std::string>> records;
  for (int i = from; i < to; ++i) {
    const std::string customer = prefix + std::to_string(i);
    records.emplace_back(customer, WithItem(Event("e" + std::to_string(i), customer,
                                                  spread ? t0 + i : t0, v1::EVENT_TYPE_ADD_TO_CART),
                                            "sku", 1, 1000)
                                       .SerializeAsString());
  }
  return records;
}

// Waits up to 15 s until the instance serving /metrics on `port` has consumed `consumed`
// records and Kafka acknowledged everything it produced; whether it did.
bool AwaitApplied(int port, double consumed) {
  auto applied = [&] {
    const std::string metrics = HttpGet(port, "/metrics").body;
    return MetricSum(metrics, "touchstream_records_consumed_total") == consumed &&
           MetricSum(metrics, "touchstream_outbox_pending") == 0;
  };
  for (int i = 0; i < 300 && !applied(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return applied();
}

// Broker 1 alone, the first bootstrap address: producing the input does not wait on broker 2.
std::string Broker1(Cluster& cluster) {
  return cluster.bootstrap().substr(0, cluster.bootstrap().find(','));
}

TEST(StalledBrokerTest, InputPausesWhileTheBrokerStopsAcknowledgingAndNothingIsLost) {
  TempDir dir;
  const int port = FreeLoopbackPort();
  const ClusterConfig config = StalledConfig(
      "stalled", port,
      "commit_interval: 20ms, commit_max_events: " + std::to_string(kCommitMaxEvents) +
          ", max_outbox_records: " + std::to_string(kMaxOutboxRecords));
  Cluster cluster(dir, config, FaultChannel::kYes, 2);
  ASSERT_TRUE(StartRunWithOutputOnBroker2(cluster, config));
  EmbeddedKafkaProcess& kafka = cluster.kafka();
  ChildProcess& run = cluster["run"];

  // Broker 2 stops acknowledging.
  ASSERT_TRUE(Applied(kafka, "rtt 2 " + std::to_string(kStallMs)));
  const auto events = JourneyLoad(23, 300, kEvents);
  ProduceRaw(Broker1(cluster), "touchpoints", events);

  // At most the limit plus one commit's output: the loop decides to pause after every poll, and
  // the backlog grows only at a commit, so it passes the limit by one commit at most. A commit of
  // at most kCommitMaxEvents events hands the relay one changelog record per customer it
  // touched, the triggers its event time fired and a marker: well under 2 * kCommitMaxEvents.
  // Without the pause the backlog grows with the input (several thousand records).
  const double bound = kMaxOutboxRecords + 2 * kCommitMaxEvents;
  double max_pending = 0;
  auto sample_pending = [&] {
    max_pending = std::max(max_pending, ScrapeMetricSum(port, "touchstream_outbox_pending"));
  };
  const auto pause_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (ScrapeMetricSum(port, "touchstream_input_paused") != 1 &&
         std::chrono::steady_clock::now() < pause_deadline) {
    sample_pending();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(ScrapeMetricSum(port, "touchstream_input_paused"), 1)
      << "input never paused; outbox pending "
      << ScrapeMetricSum(port, "touchstream_outbox_pending") << "\n"
      << run.Stderr();

  // Paused, consumption stays flat for 2 s while nothing is acknowledged.
  const double consumed = ScrapeMetricSum(port, "touchstream_records_consumed_total");
  for (int i = 0; i < 20; ++i) {
    sample_pending();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  sample_pending();
  EXPECT_EQ(ScrapeMetricSum(port, "touchstream_records_consumed_total"), consumed);
  EXPECT_LT(consumed, static_cast<double>(kEvents)) << "it paused before reading all input";
  EXPECT_EQ(ScrapeMetricSum(port, "touchstream_input_paused"), 1);
  EXPECT_GT(max_pending, kMaxOutboxRecords) << "the backlog reached the limit";
  EXPECT_LE(max_pending, bound);
  std::cout << "paused after " << consumed << " of " << kEvents
            << " events; outbox pending at most " << max_pending << " (bound " << bound << ")"
            << std::endl;

  // The broker answers again: the backlog drains, input resumes, everything completes.
  ASSERT_TRUE(Applied(kafka, "rtt 2 0"));
  const auto input = cluster.ReadInput(events.size());
  ASSERT_EQ(RecordCount(input), events.size());
  const Oracle oracle = BacktestOracle(config.rules, input);
  ASSERT_GE(oracle.triggers.size(), 20u) << "the load should fire triggers";
  cluster.ExpectOracleFrom("run", oracle, std::chrono::seconds(40), [&] {
    return run.Wait(std::chrono::milliseconds(0)) == -1000;  // still running
  });
}

// Records kept in memory behind a timer backlog (processor/run/held_records.h) are applied with
// the outbox's bound too (ConsumeLoop::ApplyKept): 2,000 carts, then 4,000 carts ten minutes
// later, on one partition. The first late cart makes the 2,000 reminders due: they fire in
// chunks, waiting for room in the outbox, and the late carts the consumer delivers meanwhile are
// kept. Broker 2 answers 100 ms late from the late carts on, so what a drain of them hands the
// relay stays in flight that long or longer. Before, a drain applied them all and the outbox
// passed the limit by as many changelog records; now by one commit at most, and everything
// still completes.
TEST(StalledBrokerTest, RecordsKeptBehindATimerBacklogWaitForRoomInTheOutbox) {
  TempDir dir;
  const int port = FreeLoopbackPort();
  // Room for many passes of a chunk of 20 reminders and 64 late carts kept before the input
  // pauses.
  constexpr int kMaxOutbox = 1000;
  const ClusterConfig config = StalledConfig(
      "stalled-kept", port,
      "commit_interval: 20ms, commit_max_events: " + std::to_string(kCommitMaxEvents) +
          ", max_outbox_records: " + std::to_string(kMaxOutbox) + ", max_timers_per_step: 20");
  Cluster cluster(dir, config, FaultChannel::kYes, 2);
  ASSERT_TRUE(StartRunWithOutputOnBroker2(cluster, config));
  EmbeddedKafkaProcess& kafka = cluster.kafka();
  ChildProcess& run = cluster["run"];
  // The backlog's carts go through first, acknowledged at once.
  constexpr int kBacklog = 2'000;
  constexpr int kLate = 4'000;
  std::vector<std::pair<std::string, std::string>> events = Carts(0, kBacklog, "c", kT0, true);
  ProduceRaw(Broker1(cluster), "touchpoints", events);
  ASSERT_TRUE(AwaitApplied(port, kBacklog)) << run.Stderr();

  // Then broker 2 answers 100 ms late, and the late carts come.
  ASSERT_TRUE(Applied(kafka, "rtt 2 100"));
  const auto late = Carts(kBacklog, kBacklog + kLate, "k", kT0 + 10 * kMinuteMs, false);
  events.insert(events.end(), late.begin(), late.end());
  ProduceRaw(Broker1(cluster), "touchpoints", late);

  // Sampled until every record is consumed and the outbox is empty. Each late cart's changelog
  // record stays in flight 100 ms or more: a drain applying all the kept ones at once would hold
  // thousands.
  const double bound = kMaxOutbox + 2 * kCommitMaxEvents;
  double max_pending = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string metrics = HttpGet(port, "/metrics").body;
    const double pending = MetricSum(metrics, "touchstream_outbox_pending");
    max_pending = std::max(max_pending, pending);
    if (MetricSum(metrics, "touchstream_records_consumed_total") == kBacklog + kLate &&
        pending == 0) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const double kept = ScrapeMetricSum(port, "touchstream_input_records_kept_total");
  std::cout << kept << " records kept; outbox pending at most " << max_pending << " (bound "
            << bound << ")" << std::endl;
  // Enough kept that applying them at once, on top of what the backlog's chunks left in flight,
  // passes the bound (before ApplyKept held the bound: 1,664 kept, up to 2,601 pending).
  EXPECT_GE(kept, kMaxOutbox / 2) << run.Stderr();
  EXPECT_GT(max_pending, kMaxOutbox) << "the backlog reached the limit";
  EXPECT_LE(max_pending, bound);

  ASSERT_TRUE(Applied(kafka, "rtt 2 0"));
  const auto input = cluster.ReadInput(events.size());
  ASSERT_EQ(RecordCount(input), events.size());
  const Oracle oracle = BacktestOracle(config.rules, input);
  ASSERT_GE(oracle.triggers.size(), static_cast<size_t>(kBacklog));
  cluster.ExpectOracleFrom("run", oracle, std::chrono::seconds(60), [&] {
    return run.Wait(std::chrono::milliseconds(0)) == -1000;  // still running
  });
}

// With the hybrid clock (the default) an idle, caught-up partition's clock follows the wall clock
// at each commit. 2,000 carts whose reminders come due together a few seconds after they are all
// applied fire in chunks of 20 while the outbox has room; broker 2 stops acknowledging before
// they come due. Once the outbox is over its bound the loop still commits, about once a second
// (for the relay), and each commit's punctuation fired the backlog's next chunk: the outbox grew
// past its bound by a chunk's triggers and changelog records a second. Now no commit fires
// timers while the outbox is over its bound, and every reminder still goes out once the broker
// answers.
TEST(StalledBrokerTest, WhileTheOutboxIsOverItsBoundNoCommitFiresTimers) {
  TempDir dir;
  const int port = FreeLoopbackPort();
  constexpr int kMaxOutbox = 200;
  ClusterConfig config = StalledConfig(
      "stalled-timers", port,
      "commit_interval: 20ms, commit_max_events: " + std::to_string(kCommitMaxEvents) +
          ", max_outbox_records: " + std::to_string(kMaxOutbox) + ", max_timers_per_step: 20");
  config.timers = "clock: hybrid";
  Cluster cluster(dir, config, FaultChannel::kYes, 2);
  ASSERT_TRUE(StartRunWithOutputOnBroker2(cluster, config));
  EmbeddedKafkaProcess& kafka = cluster.kafka();
  ChildProcess& run = cluster["run"];

  constexpr int kCarts = 2'000;
  const TimeMs now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  const TimeMs due = now + 20'000;  // the 2-minute reminders
  ProduceRaw(Broker1(cluster), "touchpoints", Carts(0, kCarts, "c", due - 2 * kMinuteMs, false));
  ASSERT_TRUE(AwaitApplied(port, kCarts)) << run.Stderr();
  ASSERT_LT(std::chrono::system_clock::now().time_since_epoch(), std::chrono::milliseconds(due))
      << "the carts took too long to apply: their reminders came due before the stall";

  ASSERT_TRUE(Applied(kafka, "rtt 2 " + std::to_string(kStallMs)));
  const auto pause_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (ScrapeMetricSum(port, "touchstream_input_paused") != 1 &&
         std::chrono::steady_clock::now() < pause_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(ScrapeMetricSum(port, "touchstream_input_paused"), 1) << run.Stderr();
  // Eight seconds paused: eight or more commits.
  double max_pending = 0;
  for (int i = 0; i < 80; ++i) {
    max_pending = std::max(max_pending, ScrapeMetricSum(port, "touchstream_outbox_pending"));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // Past the bound by one commit's records at most (as the first test bounds it): the chunk of 20
  // reminders or the 100 carts that passed it, with their changelog records.
  const double bound = kMaxOutbox + 2 * kCommitMaxEvents;
  std::cout << "outbox pending at most " << max_pending << " (bound " << bound << ")" << std::endl;
  EXPECT_GT(max_pending, kMaxOutbox) << "the backlog reached the limit";
  EXPECT_LE(max_pending, bound);

  // The broker answers again: every reminder goes out, once.
  ASSERT_TRUE(Applied(kafka, "rtt 2 0"));
  const std::vector<Record> triggers =
      cluster.Consume("triggers", kCarts, std::chrono::seconds(60), std::chrono::seconds(1));
  EXPECT_EQ(triggers.size(), static_cast<size_t>(kCarts)) << run.Stderr();
  std::set<std::string> customers;
  for (const Record& r : triggers) customers.insert(r.key);
  EXPECT_EQ(customers.size(), static_cast<size_t>(kCarts));
}

}  // namespace
}  // namespace touchstream::testing
