// A restore longer than http.healthz_max_poll_age keeps /healthz live while it moves forward.
// A rebalance's restore runs inside the consumer's poll, so the loop polls again only once every
// assigned partition is restored; a liveness probe that followed the poll alone (Kubernetes'
// startup and liveness probes on /healthz, deploy/k8s/statefulset.yaml) would restart a new pod
// in the middle of restoring a large state, and again each time after. Here the broker answers
// every request 200 ms late, so that reading a changelog of a few thousand records takes
// seconds, while /healthz allows 2 s without a poll.
#include <gtest/gtest.h>

#include <thread>

#include "tests/integration/cluster.h"
#include "tests/integration/oracle.h"

namespace touchstream::testing {
namespace {

struct Probe {
  double restoring = -1;  // touchstream_restoring_partitions
  HttpResponse healthz;
};

TEST(RestoreLivenessTest, HealthzStaysLiveWhileASlowRestoreMovesForward) {
  const int http_port = FreeLoopbackPort();
  ASSERT_GT(http_port, 0);
  ClusterConfig config;
  config.group_id = "restore-liveness";
  config.changelog = "changelog";
  config.rules = kCart2mRules;
  config.http = "listen: \"127.0.0.1:" + std::to_string(http_port) + "\", healthz_max_poll_age: 2s";
  const auto events = JourneyLoad(71, 2000, 6000);

  TempDir dir;
  Cluster cluster(dir, config, FaultChannel::kYes);
  ASSERT_TRUE(cluster.started());
  cluster.Produce(events);
  const Oracle oracle = BacktestOracle(config.rules, cluster.ReadInput(events.size()));
  cluster.Start("a");
  ASSERT_EQ(cluster.AwaitState("a", oracle.state, std::chrono::seconds(60)), oracle.state)
      << cluster["a"].Stderr();
  cluster.Stop("a");
  const size_t changelog_records = ReadTopic(cluster.bootstrap(), "changelog", 1)[0].size();
  ASSERT_GE(changelog_records, 2500u);

  ASSERT_EQ(cluster.kafka().Control("rtt all 200").rfind("ok", 0), 0u);
  ChildProcess& fresh = cluster.Start("fresh");
  std::vector<Probe> probes;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (fresh.Stderr().find("assigned touchpoints/0 from") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    Probe probe;
    probe.restoring = ScrapeMetricSum(http_port, "touchstream_restoring_partitions");
    probe.healthz = HttpGet(http_port, "/healthz");
    probes.push_back(probe);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(cluster.kafka().Control("rtt all 0").rfind("ok", 0), 0u);
  ASSERT_NE(fresh.Stderr().find("assigned touchpoints/0 from"), std::string::npos)
      << fresh.Stderr();

  size_t restoring = 0;
  std::string failures;
  for (const Probe& probe : probes) {
    if (probe.restoring != 1) continue;
    ++restoring;
    if (probe.healthz.status != 200) {
      failures += std::to_string(probe.healthz.status) + " " + probe.healthz.body;
    }
  }
  // Long enough that a poll-only liveness would have failed: over 3 s of probes.
  EXPECT_GE(restoring, 30u) << changelog_records << " changelog records; " << probes.size()
                            << " probes\n"
                            << fresh.Stderr();
  EXPECT_EQ(failures, "") << restoring << " probes while restoring " << changelog_records
                          << " changelog records\n"
                          << fresh.Stderr();
  // The restore was complete.
  EXPECT_EQ(cluster.AwaitState("fresh", oracle.state, std::chrono::seconds(60)), oracle.state);
  cluster.Stop("fresh");
}

}  // namespace
}  // namespace touchstream::testing
