// A zombie: an instance frozen (SIGSTOP) past its session timeout while another takes its
// partitions, then thawed (SIGCONT) under load. It must notice, drop what it had not
// committed and rejoin; nothing it still sends may corrupt the state the changelog restores.
// Oracle and invariants I1-I3: tests/integration/oracle.h (I3 on the last one standing).
#include <gtest/gtest.h>

#include <csignal>
#include <thread>

#include "tests/integration/cluster.h"
#include "tests/integration/oracle.h"

namespace touchstream::testing {
namespace {

TEST(ZombieTest, FrozenPastTheSessionTimeoutItRejoinsWithoutCorruptingState) {
  TempDir dir;
  ClusterConfig config;
  config.group_id = "zombie";
  config.partitions = 2;
  config.processing = "commit_interval: 20ms, commit_max_events: 200";
  config.rules = kCart2mRules;
  Cluster cluster(dir, config);
  ASSERT_TRUE(cluster.started());

  const auto events = JourneyLoad(31, 300, 6000);
  auto produce_part = [&](int part) { cluster.Produce(Part(events, part, 3)); };

  ChildProcess& a = cluster.Start("a");
  cluster.Start("b");
  std::this_thread::sleep_for(std::chrono::seconds(5));
  produce_part(0);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  a.Signal(SIGSTOP);
  produce_part(1);
  std::this_thread::sleep_for(std::chrono::seconds(12));  // B takes A's partitions
  a.Signal(SIGCONT);
  produce_part(2);
  std::this_thread::sleep_for(std::chrono::seconds(8));
  EXPECT_NE(a.Stderr().find("longer than session.timeout.ms"), std::string::npos)
      << "the thawed instance did not notice it had been away:\n"
      << a.Stderr();

  const auto input = cluster.ReadInput(events.size());
  const Oracle oracle = BacktestOracle(config.rules, input);
  ASSERT_GT(oracle.triggers.size(), 100u);

  // B leaves: A, the former zombie, owns both partitions and restores what it lacks.
  cluster.Stop("b");
  cluster.ExpectOracleFrom("a", oracle, std::chrono::seconds(60));
}

}  // namespace
}  // namespace touchstream::testing
