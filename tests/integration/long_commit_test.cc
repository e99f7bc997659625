// A commit longer than session.timeout.ms is not a stand-still (processor/run/standstill.h):
// under exactly_once a commit is one synchronous transaction, and commit_transaction waits for
// every record it produced. On a 2-broker embedded Kafka, broker 2 leads only the output topics
// and answers 9 s late (the session times out after 6 s), while broker 1 serves the input, the
// group's coordinator and the transaction coordinator, so the consumer's heartbeats go on and
// the group keeps the instance. The instance must keep its partitions (no rejoin, no second
// assignment) and, once broker 2 answers in time again, deliver what the oracle says (I1-I3,
// tests/integration/oracle.h). ZombieTest shows the other side: a process frozen past the
// session timeout rejoins.
#include <gtest/gtest.h>

#include <iostream>
#include <thread>

#include "tests/integration/cluster.h"
#include "tests/integration/oracle.h"

namespace touchstream::testing {
namespace {

constexpr int kSlowMs = 9'000;  // longer than the harness's session.timeout.ms of 6 s

size_t Occurrences(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

TEST(LongCommitTest, ACommitLongerThanTheSessionTimeoutKeepsThePartitions) {
  TempDir dir;
  const int port = FreeLoopbackPort();
  ClusterConfig config;
  config.group_id = "longcommit";
  config.processing =
      "guarantee: exactly_once, transactional_id: longcommit-tx, commit_interval: 20ms, "
      "commit_max_events: 100";
  config.http = "listen: \"127.0.0.1:" + std::to_string(port) + "\"";
  config.rules = kCart2mRules;
  Cluster cluster(dir, config, FaultChannel::kYes, 2);
  EmbeddedKafkaProcess& kafka = cluster.kafka();
  ASSERT_TRUE(cluster.started()) << kafka.Stderr();
  for (const char* command :
       {"leader touchpoints 0 1", "leader longcommit-touchpoints-repartition 0 1",
        "leader touchpoints-dlq 0 1", "coordinator group longcommit 1",
        "coordinator transaction longcommit-tx 1", "leader triggers 0 2",
        "leader longcommit-customers-changelog 0 2"}) {
    ASSERT_TRUE(Applied(kafka, command));
  }
  ChildProcess& run = cluster.Start("run");
  ASSERT_TRUE(cluster.WaitForLog("run", "assigned touchpoints/", std::chrono::seconds(30)))
      << run.Stderr();

  // The commits so far, those of at most 2.5 s (the histogram's last bound), and their time,
  // from one scrape (count -1: none answered).
  struct Commits {
    double count = -1;
    double quick = 0;
    double seconds = 0;
  };
  auto commits = [&] {
    const HttpResponse response = HttpGet(port, "/metrics");
    if (response.status != 200) return Commits{};
    const std::string& m = response.body;
    return Commits{MetricSum(m, "touchstream_commit_duration_seconds_count"),
                   MetricSum(m, "touchstream_commit_duration_seconds_bucket{le=\"2.5\"}"),
                   MetricSum(m, "touchstream_commit_duration_seconds_sum")};
  };
  Commits last = commits();
  ASSERT_GE(last.count, 0) << run.Stderr();

  // Broker 2 answers late: the next commit's transaction waits for its records' acknowledgements.
  // The input goes through broker 1 alone (the first bootstrap address).
  ASSERT_TRUE(Applied(kafka, "rtt 2 " + std::to_string(kSlowMs)));
  const std::string broker1 = cluster.bootstrap().substr(0, cluster.bootstrap().find(','));
  const auto events = JourneyLoad(23, 300, 3000);
  ProduceRaw(broker1, "touchpoints", events);

  // A commit waited for broker 2: one of more than 2.5 s ended, which here is one that waited
  // for the 9 s answers, longer than the session timeout (the loop does not poll meanwhile).
  bool slow_commit = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(40);
  while (!slow_commit && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const Commits now = commits();
    if (now.count < 0) continue;
    slow_commit = now.count - now.quick > last.count - last.quick;
    if (slow_commit)
      std::cout << "commits' time " << now.seconds - last.seconds << " s" << std::endl;
    last = now;
  }
  ASSERT_TRUE(slow_commit) << "no commit waited for broker 2\n" << run.Stderr();
  ASSERT_TRUE(Applied(kafka, "rtt 2 0"));

  // Every event consumed by the same member, which never rejoined.
  const auto consumed_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (ScrapeMetricSum(port, "touchstream_records_consumed_total") <
             static_cast<double>(events.size()) &&
         std::chrono::steady_clock::now() < consumed_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(ScrapeMetricSum(port, "touchstream_records_consumed_total"),
            static_cast<double>(events.size()));
  EXPECT_EQ(ScrapeMetricSum(port, "touchstream_rebalances_total"), 1);
  const std::string log = run.Stderr();
  EXPECT_EQ(log.find("longer than session.timeout.ms"), std::string::npos) << log;
  EXPECT_EQ(Occurrences(log, "assigned touchpoints/0"), 1u) << log;

  const auto input = cluster.ReadInput(events.size());
  const Oracle oracle = BacktestOracle(config.rules, input);
  ASSERT_GE(oracle.triggers.size(), 10u) << "the load should fire triggers";
  cluster.ExpectOracleFrom("run", oracle, std::chrono::seconds(60), [&] {
    return run.Wait(std::chrono::milliseconds(0)) == -1000;  // still running
  });
}

}  // namespace
}  // namespace touchstream::testing
