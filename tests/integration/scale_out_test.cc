// Scale-out: instances join and leave one consumer group under load (clean SIGTERM and
// SIGKILL, restarts on the same state directory); partitions and their state move between
// them through the changelog. Oracle and invariants I1-I3: tests/integration/oracle.h; for I3
// the last instance standing owns every partition.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <thread>

#include "tests/integration/cluster.h"
#include "tests/integration/oracle.h"

namespace touchstream::testing {
namespace {

constexpr int kPartitions = 4;

TEST(ScaleOutTest, InstancesJoinAndLeaveUnderLoadStateMovesWithPartitions) {
  TempDir dir;
  ClusterConfig config;
  config.group_id = "scale";
  config.partitions = kPartitions;
  config.rules = std::string(kCart2mRules) + kOfferRule + "    points_per_unit: 10\n";
  Cluster cluster(dir, config);
  ASSERT_TRUE(cluster.started());

  const auto events = JourneyLoad(23, 600, 12'000);
  auto start = [&](const std::string& name) { cluster.Start(name); };
  auto finish = [&](const std::string& name, bool crash) {
    if (crash) {
      cluster.Kill(name);
    } else {
      cluster.Stop(name);
    }
  };

  // After each chunk of input, one membership change.
  const std::vector<std::function<void()>> steps = {
      [&] { start("a"); },        [&] { start("b"); }, [&] { start("c"); },
      [&] { finish("b", true); }, [&] { start("b"); }, [&] { finish("a", false); },
      [&] { finish("c", true); }, [&] { start("a"); },
  };
  std::mt19937 rng(5);
  for (size_t step = 0; step < steps.size(); ++step) {
    cluster.Produce(Part(events, step, steps.size()));
    steps[step]();
    std::this_thread::sleep_for(std::chrono::milliseconds(2000 + rng() % 3000));
  }

  // The oracle: each partition on its own, in offset order, as `run` sees it.
  const auto input = cluster.ReadInput(events.size());
  ASSERT_EQ(RecordCount(input), events.size());
  ASSERT_EQ(input.size(), static_cast<size_t>(kPartitions)) << "every partition has input";
  const Oracle oracle = BacktestOracle(config.rules, input);
  ASSERT_GT(oracle.triggers.size(), 300u) << "the load should fire many triggers";

  // B leaves cleanly: A, the last one standing, owns every partition.
  cluster.Stop("b");
  cluster.ExpectOracleFrom("a", oracle, std::chrono::seconds(60));

  // State moved through the changelog, not by luck of a shared directory.
  int restores = 0;
  for (const std::string& log : cluster.finished_logs()) {
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
