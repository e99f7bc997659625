// Crash safety: three `touchstream run` instances in one group under continuous load; after
// each chunk of input one of them, chosen at random, is killed with SIGKILL at a random moment
// and restarted on its own state directory. Oracle and invariants I1-I3:
// tests/integration/oracle.h; for I3 the last instance standing owns every partition.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <thread>

#include "tests/integration/cluster.h"
#include "tests/integration/oracle.h"

namespace touchstream::testing {
namespace {

constexpr int kPartitions = 4;
constexpr int kCrashes = 10;

TEST(CrashTest, OneOfThreeInstancesKilledRepeatedlyUnderLoadLosesNothing) {
  TempDir dir;
  ClusterConfig config;
  config.group_id = "crash";
  config.partitions = kPartitions;
  config.rules = std::string(kCart2mRules) + R"(  cart_10m:
    kind: cart_abandonment
    delay: 10m
)";
  Cluster cluster(dir, config);
  ASSERT_TRUE(cluster.started());

  const std::vector<std::string> names = {"a", "b", "c"};
  for (const std::string& name : names) cluster.Start(name);

  const auto events = JourneyLoad(7, 400, 12'000);
  std::mt19937 rng(11);
  for (int crash = 0; crash < kCrashes; ++crash) {
    cluster.Produce(Part(events, crash, kCrashes));
    // Let them work for a random while (sometimes past a rebalance), then crash one.
    std::this_thread::sleep_for(std::chrono::milliseconds(500 + rng() % 3500));
    const std::string& victim = names[rng() % names.size()];
    cluster.Kill(victim);
    cluster.Start(victim);
  }

  const auto input = cluster.ReadInput(events.size());
  ASSERT_EQ(RecordCount(input), events.size());
  const Oracle oracle = BacktestOracle(config.rules, input);
  ASSERT_GT(oracle.triggers.size(), 300u) << "the load should fire many triggers";

  // Two leave cleanly: "a", the last one standing, owns every partition.
  cluster.Stop("b");
  cluster.Stop("c");
  cluster.ExpectOracleFrom("a", oracle, std::chrono::seconds(60));
}

}  // namespace
}  // namespace touchstream::testing
