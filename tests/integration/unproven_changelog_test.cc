// A changelog whose records have lost their writer's fence (a topic that is not compacted,
// whose retention deleted its oldest segment; records deleted or the topic recreated under a
// running owner): a restore can prove no commit in it and starts the partition without state.
// That was silent ("nothing to replay"), so the state only the changelog held was lost without
// a word; now it is an error in the log and a state rebuild in the metrics, which alert. The
// embedded broker deletes nothing, hence a copy of the changelog without its fences on a
// second cluster.
#include <gtest/gtest.h>

#include <chrono>

#include "state/changelog.h"
#include "tests/integration/cluster.h"
#include "tests/integration/oracle.h"

namespace touchstream::testing {
namespace {

TEST(UnprovenChangelogTest, AChangelogWithoutItsFenceIsReportedNotTakenForEmpty) {
  ClusterConfig config;
  config.group_id = "unproven";
  config.changelog = "changelog";
  config.rules = kCart2mRules;
  TempDir dir;
  Cluster run(dir, config);
  ASSERT_TRUE(run.started());
  run.Start("a");
  const auto events = JourneyLoad(43, 100, 1000);
  run.Produce(events);
  const Oracle oracle = BacktestOracle(config.rules, run.ReadInput(events.size()));
  run.AwaitState("a", oracle.state, std::chrono::seconds(60));
  run.Stop("a");

  TempDir copy_dir;
  Cluster copy(copy_dir, config);
  ASSERT_TRUE(copy.started());
  auto changelog = ReadTopic(run.bootstrap(), "changelog", 1);
  size_t fences = 0;
  std::erase_if(changelog[0], [&](const Record& r) {
    const bool fence = r.key.starts_with(changelog::kFenceKeyPrefix);
    fences += fence;
    return fence;
  });
  ASSERT_EQ(fences, 1u);
  ASSERT_GT(changelog[0].size(), 100u);
  ProduceRecords(copy.bootstrap(), "changelog", changelog);

  ChildProcess& fresh = copy.Start("fresh");
  EXPECT_TRUE(copy.WaitForLog("fresh", "assigned touchpoints/0", std::chrono::seconds(30)))
      << fresh.Stderr();
  EXPECT_NE(fresh.Stderr().find("changelog/0 holds " + std::to_string(changelog[0].size()) +
                                " records but no commit this instance can prove"),
            std::string::npos)
      << fresh.Stderr();
  EXPECT_NE(fresh.Stderr().find("touchpoints/0 starts with no state"), std::string::npos)
      << fresh.Stderr();
}

}  // namespace
}  // namespace touchstream::testing
