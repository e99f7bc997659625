// The changelog topic recreated empty while the instances keep their local state (README,
// "Scale-out and the changelog", after a format change; or a first owner whose records never
// reached Kafka): the first instance to get each partition back writes its whole local state to
// the new changelog (PartitionCheckpoint.changelog_incomplete, TaskManager::Republish), so that
// an instance with no local state restores all of it from there, not only the customers changed
// since. The recreated topic is a second embedded cluster holding the same input and an empty
// changelog (the embedded broker cannot delete a topic).
#include <gtest/gtest.h>

#include <regex>

#include "tests/integration/cluster.h"
#include "tests/integration/oracle.h"

namespace touchstream::testing {
namespace {

constexpr int kPartitions = 2;

TEST(RecreatedChangelogTest, TheKeptLocalStateIsWrittenToTheNewChangelogAndRestoredFromIt) {
  ClusterConfig config;
  config.group_id = "recreated";
  config.partitions = kPartitions;
  config.changelog = "changelog";
  config.rules = kCart2mRules;
  const auto events = JourneyLoad(53, 300, 2000);

  TempDir dir;
  Cluster first(dir, config);
  ASSERT_TRUE(first.started());
  first.Produce(events);
  const Oracle oracle = BacktestOracle(config.rules, first.ReadInput(events.size()));
  first.Start("a");
  ASSERT_EQ(first.AwaitState("a", oracle.state, std::chrono::seconds(40)), oracle.state)
      << first["a"].Stderr();
  first.Stop("a");

  // The same input, an empty changelog; instance a keeps its state directory.
  TempDir second_dir;
  ClusterConfig second_config = config;
  second_config.state_root = dir.path();
  Cluster second(second_dir, second_config);
  ASSERT_TRUE(second.started());
  ProduceRecords(second.bootstrap(), "touchpoints",
                 ReadTopic(first.bootstrap(), "touchpoints", kPartitions));
  ChildProcess& a = second.Start("a");
  for (int p = 0; p < kPartitions; ++p) {
    EXPECT_TRUE(second.WaitForLog("a", "assigned touchpoints/" + std::to_string(p) + " from",
                                  std::chrono::seconds(30)))
        << a.Stderr();
  }
  second.Stop("a");
  const std::string log = second.finished_logs().back();
  for (int p = 0; p < kPartitions; ++p) {
    EXPECT_TRUE(std::regex_search(
        log, std::regex("wrote the local state of touchpoints/" + std::to_string(p) +
                        " to changelog/" + std::to_string(p) + ", which held none")))
        << log;
  }

  // An instance with no local state restores every customer from the new changelog alone.
  ChildProcess& fresh = second.Start("fresh");
  const std::string dumped = second.AwaitState("fresh", oracle.state, std::chrono::seconds(40));
  EXPECT_TRUE(dumped == oracle.state)
      << "restored from the new changelog: " << std::count(dumped.begin(), dumped.end(), '\n')
      << " customers, " << std::count(oracle.state.begin(), oracle.state.end(), '\n')
      << " expected\n"
      << fresh.Stderr();
  second.Stop("fresh");
}

}  // namespace
}  // namespace touchstream::testing
