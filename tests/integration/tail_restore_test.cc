// Restoring from the changelog's tail (state/changelog_tail.h): an instance that gets its
// partitions back with a local state that is still the latest commit reads only what was written
// to the changelog since its hint, which its own acknowledged commits keep at the latest
// (state/own_tail.h), not the whole changelog; one whose local state is stale (another instance
// committed after it) still restores the latest commit, hint or not.
// A cold restore reads the changelog once when it fits in state.restore_memory_bytes (the second
// pass applies the first read's copies), twice when it does not, to the same state.
#include <gtest/gtest.h>

#include <regex>

#include "tests/integration/cluster.h"
#include "tests/integration/oracle.h"

namespace touchstream::testing {
namespace {

constexpr int kPartitions = 2;

ClusterConfig TailConfig(int port) {
  ClusterConfig config;
  config.group_id = "tail";
  config.partitions = kPartitions;
  config.changelog = "changelog";
  config.http = "listen: \"127.0.0.1:" + std::to_string(port) + "\"";
  config.rules = kCart2mRules;
  return config;
}

size_t ChangelogSize(const Cluster& cluster) {
  for (int64_t low : LowWatermarks(cluster.bootstrap(), "changelog", kPartitions)) {
    EXPECT_EQ(low, 0) << "the embedded broker trimmed the changelog: keep the input smaller";
  }
  size_t size = 0;
  for (const auto& [p, records] : ReadTopic(cluster.bootstrap(), "changelog", kPartitions)) {
    size += records.size();
  }
  return size;
}

// Each test's broker, cluster and input so far; the helpers speak of its partitions.
class TailRestoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(cluster.started()); }

  // Starts `name` (on Config(name), or `config_path`) and waits until it has taken over every
  // partition; returns the changelog records its restores read
  // (touchstream_restore_records_total).
  double StartAndRestore(const std::string& name, const std::string& config_path = "") {
    ChildProcess& instance =
        config_path.empty() ? cluster.Start(name) : cluster.Run(name, config_path);
    for (int p = 0; p < kPartitions; ++p) {
      EXPECT_TRUE(cluster.WaitForLog(name, "assigned touchpoints/" + std::to_string(p) + " from",
                                     std::chrono::seconds(30)))
          << instance.Stderr();
    }
    return ScrapeMetricSum(port, "touchstream_restore_records_total");
  }

  // Produces part `i` of `parts` of `events` and waits until `name` has applied all input so far.
  void ProduceAndApply(const std::string& name,
                       const std::vector<std::pair<std::string, std::string>>& events, size_t i,
                       size_t parts) {
    const auto part = Part(events, i, parts);
    cluster.Produce(part);
    produced += part.size();
    const Oracle so_far = Expected();
    ASSERT_EQ(cluster.AwaitState(name, so_far.state, std::chrono::seconds(40)), so_far.state)
        << cluster[name].Stderr();
  }

  // The backtest of every input record produced so far.
  Oracle Expected() {
    return BacktestOracle(cluster.config().rules, cluster.ReadInput(produced));
  }

  TempDir dir;
  const int port = FreeLoopbackPort();
  Cluster cluster{dir, TailConfig(port)};
  size_t produced = 0;  // input records
};

// Every acknowledged commit marker of the owner moves the hint on (state/own_tail.h): however
// long the run before, a restart reads one record per partition, the hint's (the run's last
// marker), where it read everything written since the previous restore before.
TEST_F(TailRestoreTest, ARestartWithTheLatestCommitLocallyReadsOnlyTheLastCommitsMarker) {
  const auto events = JourneyLoad(51, 300, 3000);

  // First run: most of the input, a changelog of thousands of records.
  StartAndRestore("a");
  for (size_t i = 0; i < 9; ++i) ProduceAndApply("a", events, i, 10);
  cluster.Stop("a");
  const size_t first = ChangelogSize(cluster);
  ASSERT_GT(first, 1000u);
  // Second run: the first run's own commits left a hint at its last marker.
  const double second_read = StartAndRestore("a");
  ProduceAndApply("a", events, 9, 10);
  cluster.Stop("a");
  const size_t changelog = ChangelogSize(cluster);

  // Third run: the local state is the latest commit of every partition.
  const double third_read = StartAndRestore("a");
  const std::string log = cluster["a"].Stderr();
  std::cout << "changelog: " << changelog << " records, " << first
            << " after the first run; the restarts read " << second_read << " and " << third_read
            << "\n";
  EXPECT_EQ(second_read, static_cast<double>(kPartitions))
      << "the second run's restore read more than each partition's last marker";
  EXPECT_EQ(third_read, static_cast<double>(kPartitions))
      << "the third run's restore read more than each partition's last marker\n"
      << log;
  for (int p = 0; p < kPartitions; ++p) {
    EXPECT_TRUE(std::regex_search(
        log, std::regex("checked touchpoints/" + std::to_string(p) +
                        " against changelog: nothing to replay, 1 records read \\(the "
                        "tail since the last restore\\)")))
        << log;
  }
  EXPECT_EQ(log.find("restored touchpoints/"), std::string::npos) << "nothing to replay\n" << log;
  cluster.ExpectOracleFrom("a", Expected(), std::chrono::seconds(40));
}

TEST_F(TailRestoreTest, AStaleLocalStateWithAHintIsReplacedByTheLatestCommit) {
  const auto events = JourneyLoad(52, 200, 1500);

  StartAndRestore("a");
  ProduceAndApply("a", events, 0, 3);
  cluster.Stop("a");
  StartAndRestore("a");  // leaves a hint
  cluster.Stop("a");
  // b, on its own state directory, takes every partition over and commits after a's commits.
  StartAndRestore("b");
  ProduceAndApply("b", events, 1, 3);
  cluster.Stop("b");

  // a's local state is stale: its hint's tail holds b's fences, so it replays the changelog.
  StartAndRestore("a");
  const std::string log = cluster["a"].Stderr();
  for (int p = 0; p < kPartitions; ++p) {
    EXPECT_NE(log.find("restored touchpoints/" + std::to_string(p) + " from changelog"),
              std::string::npos)
        << log;
  }
  ProduceAndApply("a", events, 2, 3);
  cluster.ExpectOracleFrom("a", Expected(), std::chrono::seconds(40));
}

TEST_F(TailRestoreTest, AColdRestoreReadsTheChangelogOnceWhenItFitsInTheRestoreMemory) {
  const auto events = JourneyLoad(53, 200, 1500);
  StartAndRestore("a");
  ProduceAndApply("a", events, 0, 1);
  cluster.Stop("a");
  const Oracle oracle = Expected();

  // b, on an empty state directory with the default restore memory: one read.
  const size_t changelog = ChangelogSize(cluster);
  ASSERT_GT(changelog, 200u);
  EXPECT_EQ(StartAndRestore("b"), static_cast<double>(changelog));
  cluster.ExpectOracleFrom("b", oracle, std::chrono::seconds(40));  // and stops b

  // c, on another empty state directory with none: the changelog (now with b's fences) twice.
  ClusterConfig no_memory = cluster.config();
  no_memory.state = "restore_memory_bytes: 0";
  const size_t changelog_now = ChangelogSize(cluster);
  EXPECT_EQ(StartAndRestore("c", cluster.WriteConfig("c", "c", no_memory)),
            static_cast<double>(2 * changelog_now));
  EXPECT_EQ(cluster["c"].Stderr().find("written as ingested files"), std::string::npos);
  cluster.ExpectOracleFrom("c", oracle, std::chrono::seconds(40));

  // d, on another empty state directory, reads once and writes every partition, however small,
  // as ingested files (state/restore_ingest.h): the same state.
  ClusterConfig ingest = cluster.config();
  ingest.state = "restore_ingest_customers: 0";
  EXPECT_EQ(StartAndRestore("d", cluster.WriteConfig("d", "d", ingest)),
            static_cast<double>(ChangelogSize(cluster)));
  const std::string log = cluster["d"].Stderr();
  for (int p = 0; p < kPartitions; ++p) {
    const std::regex line("restored touchpoints/" + std::to_string(p) +
                          " from changelog: [^\n]*, written as ingested files");
    EXPECT_TRUE(std::regex_search(log, line)) << "touchpoints/" << p << ":\n" << log;
  }
  cluster.ExpectOracleFrom("d", oracle, std::chrono::seconds(40));
}

}  // namespace
}  // namespace touchstream::testing
