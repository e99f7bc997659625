// A compacted changelog restores the same state: instances change owners of the partitions
// under load (join, clean stop, SIGKILL; a zombie frozen past its session timeout), then the
// changelog is compacted the way Kafka's log cleaner does it (harness: CompactChangelog) into a
// second embedded cluster that holds the same input, and a fresh instance with an empty state
// directory restores every partition from it. Its state must be the backtest oracle's
// (tests/integration/oracle.h), without processing any input again. The embedded broker does
// not compact (DESIGN.md), hence the copy.
#include <gtest/gtest.h>

#include <csignal>
#include <map>
#include <regex>
#include <thread>

#include "processor/core/partition_name.h"
#include "state/changelog.h"
#include "tests/integration/cluster.h"
#include "tests/integration/oracle.h"

namespace touchstream::testing {
namespace {

ClusterConfig Compacted(int partitions) {
  ClusterConfig config;
  config.group_id = "compacted";
  config.partitions = partitions;
  config.changelog = "changelog";
  config.processing = "commit_interval: 20ms, commit_max_events: 200";
  config.rules = std::string(kCart2mRules) + kOfferRule;
  return config;
}

// Per changelog record: does it count on restore (state/changelog.h)? Markers count as true.
std::vector<bool> Counting(const std::vector<Record>& records) {
  auto view = [](const Record& r) {
    changelog::Record v;
    v.key = r.key;
    if (!r.null_value) v.value = r.value;
    auto header = [&](const char* key) -> std::string_view {
      auto it = r.headers.find(key);
      return it == r.headers.end() ? std::string_view() : std::string_view(it->second);
    };
    v.owner = header(changelog::kOwnerHeader);
    v.epoch = header(changelog::kEpochHeader);
    v.seq = header(changelog::kSeqHeader);
    v.offset = r.offset;
    return v;
  };
  changelog::Replay replay;
  for (const Record& r : records) {
    if (Status s = replay.Scan(view(r)); !s.ok()) {
      ADD_FAILURE() << "the changelog is not in the current format: " << s.message();
      return std::vector<bool>(records.size(), true);
    }
  }
  std::vector<bool> out;
  for (const Record& r : records) {
    out.push_back(!r.key.empty() && r.key[0] == '\xFF' ? true : replay.Counts(view(r)));
  }
  return out;
}

// The input end offset of each partition, as "assigned touchpoints/N from offset END" must say.
void ExpectResumedAtTheEnd(const std::string& log,
                           const std::map<int32_t, std::vector<std::string>>& input) {
  for (const auto& [partition, values] : input) {
    const std::string line = "assigned " + PartitionName("touchpoints", partition) +
                             " from offset " + std::to_string(values.size()) + " (restored)";
    EXPECT_NE(log.find(line), std::string::npos)
        << "expected '" << line << "': the restore must bring the checkpoint of the last "
        << "commit, and the state with it\n"
        << log;
  }
}

// Copies the input and compacts the changelog of `from` into a second cluster, starts a fresh
// instance there and requires the oracle's state from its restore alone.
void RestoreFromACompactedCopy(const Cluster& from,
                               const std::map<int32_t, std::vector<std::string>>& input,
                               const Oracle& oracle, const CleanableFn& cleanable) {
  const int partitions = from.config().partitions;
  for (int64_t low : LowWatermarks(from.bootstrap(), "changelog", partitions)) {
    ASSERT_EQ(low, 0) << "the embedded broker trimmed the changelog: keep the input smaller";
  }
  TempDir copy_dir;
  Cluster copy(copy_dir, from.config());
  ASSERT_TRUE(copy.started());
  ProduceRecords(copy.bootstrap(), "touchpoints",
                 ReadTopic(from.bootstrap(), "touchpoints", partitions));
  size_t before = 0, after = 0;
  for (const auto& [p, records] : ReadTopic(from.bootstrap(), "changelog", partitions))
    before += records.size();
  for (const auto& [p, records] :
       CompactChangelog(from.bootstrap(), "changelog", partitions, copy.bootstrap(), cleanable)) {
    after += records.size();
  }
  std::cout << "changelog: " << before << " records, " << after << " after compaction\n";
  ASSERT_LT(after, before) << "the compaction removed nothing: the test proves nothing";

  ChildProcess& restorer = copy.Start("fresh");
  const std::string dumped = copy.AwaitState("fresh", oracle.state, std::chrono::seconds(40));
  EXPECT_TRUE(dumped == oracle.state)
      << "the state restored from the compacted changelog differs from the oracle's: "
      << std::count(dumped.begin(), dumped.end(), '\n') << " customers restored, "
      << std::count(oracle.state.begin(), oracle.state.end(), '\n') << " expected";
  ExpectResumedAtTheEnd(restorer.Stderr(), input);
  copy.Stop("fresh");
}

TEST(CompactedRestoreTest, AFullyCompactedChangelogRestoresTheStateAfterOwnerChanges) {
  constexpr int kPartitions = 4;
  TempDir dir;
  Cluster run(dir, Compacted(kPartitions));
  ASSERT_TRUE(run.started());

  const auto events = JourneyLoad(41, 300, 4200);
  // After each chunk of input, one membership change. No zombie and no restart of a killed
  // instance: nothing is written late, so compacting all of the log must change nothing.
  const std::vector<std::function<void()>> steps = {
      [&] { run.Start("a"); }, [&] { run.Start("b"); }, [&] { run.Kill("b"); },
      [&] { run.Start("c"); }, [&] { run.Stop("a"); },  [&] { run.Start("d"); },
      [&] { run.Stop("c"); },
  };
  for (size_t step = 0; step < steps.size(); ++step) {
    run.Produce(Part(events, step, steps.size()));
    steps[step]();
    std::this_thread::sleep_for(std::chrono::milliseconds(step == 2 ? 7000 : 3000));
  }
  const auto input = run.ReadInput(events.size());
  ASSERT_EQ(input.size(), static_cast<size_t>(kPartitions)) << "every partition has input";
  const Oracle oracle = BacktestOracle(run.config().rules, input);
  // d, the last one standing, owns every partition.
  const std::string dumped = run.AwaitState("d", oracle.state, std::chrono::seconds(40));
  ASSERT_TRUE(dumped == oracle.state) << "the run itself did not reach the oracle's state";
  run.Stop("d");

  RestoreFromACompactedCopy(run, input, oracle, {});
}

TEST(CompactedRestoreTest, ACompactionThatLeavesTheZombieWindowRestoresTheState) {
  constexpr int kPartitions = 2;
  TempDir dir;
  // One broker with the fault channel (a changelog partition without a leader).
  Cluster run(dir, Compacted(kPartitions), FaultChannel::kYes, 1);
  ASSERT_TRUE(run.started());
  EmbeddedKafkaProcess& kafka = run.kafka();

  const auto events = JourneyLoad(43, 200, 3000);
  auto produce_part = [&](int i) { run.Produce(Part(events, i, 4)); };
  ChildProcess& a = run.Start("a");
  run.Start("b");
  std::this_thread::sleep_for(std::chrono::seconds(5));
  produce_part(0);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  std::smatch owned;
  const std::string a_log = a.Stderr();
  ASSERT_TRUE(std::regex_search(a_log, owned, std::regex("assigned touchpoints/(\\d+) from")))
      << a_log;
  const std::string zombie_partition = owned[1];
  // a's changelog partition loses its leader: a keeps committing, and its changelog records
  // wait in its producer and its relay. Frozen past its session timeout, a loses the
  // partition to b, which restores and fences; thawed, a sends what waited: late writes after
  // b's fence.
  const std::string changelog = "leader changelog " + zombie_partition;
  ASSERT_EQ(kafka.Control(changelog + " none").rfind("ok", 0), 0u);
  produce_part(1);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  a.Signal(SIGSTOP);
  ASSERT_EQ(kafka.Control(changelog + " 1").rfind("ok", 0), 0u);
  produce_part(2);
  std::this_thread::sleep_for(std::chrono::seconds(13));  // b takes a's partition
  a.Signal(SIGCONT);
  produce_part(3);
  std::this_thread::sleep_for(std::chrono::seconds(5));
  EXPECT_NE(a.Stderr().find("longer than session.timeout.ms"), std::string::npos)
      << "the thawed instance did not notice it had been away:\n"
      << a.Stderr();

  const auto input = run.ReadInput(events.size());
  ASSERT_EQ(input.size(), static_cast<size_t>(kPartitions)) << "every partition has input";
  const Oracle oracle = BacktestOracle(run.config().rules, input);
  run.Stop("b");  // a, the former zombie, owns both partitions
  const std::string dumped = run.AwaitState("a", oracle.state, std::chrono::seconds(40));
  ASSERT_TRUE(dumped == oracle.state) << "the run itself did not reach the oracle's state";
  run.Stop("a");

  // What the design promises to survive: compaction of everything before the first record that
  // does not count (the zombie's first late write, or an uncommitted tail), which is what the
  // cleaner may have compacted while the late writes are younger than min.compaction.lag.ms.
  size_t late = 0;
  const CleanableFn before_first_late = [&](int32_t partition, const std::vector<Record>& records) {
    const std::vector<bool> counts = Counting(records);
    const size_t first = std::find(counts.begin(), counts.end(), false) - counts.begin();
    late += std::count(counts.begin(), counts.end(), false);
    std::cout << PartitionName("changelog", partition) << ": " << records.size()
              << " records, the first that does not count at " << first << "\n";
    return first;
  };
  RestoreFromACompactedCopy(run, input, oracle, before_first_late);
  EXPECT_GT(late, 0u) << "no record was written late: the run had no zombie writes to ignore";
}

}  // namespace
}  // namespace touchstream::testing
