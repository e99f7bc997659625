// A compacted changelog restores the same state: instances change owners of the partitions
// under load (join, clean stop, SIGKILL; a zombie frozen past its session timeout), then the
// changelog is compacted the way Kafka's log cleaner does it (harness: CompactChangelog) into a
// second embedded cluster that holds the same input, and a fresh instance with an empty state
// directory restores every partition from it. Its state must be the backtest oracle's
// (tests/integration/oracle.h), without processing any input again. The embedded broker does
// not compact (DESIGN.md), hence the copy.
// The fully compacted case runs every policy (tests/integration/policy_load.h) with quiet hours
// that outlast its input: deferred triggers are pending in the restored state, and more input
// to the restored instance must release each of them at its time with its trigger id.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <limits>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "audit.pb.h"
#include "processor/core/partition_name.h"
#include "processor/json/json_lines.h"
#include "processor/kafka/murmur2_ownership.h"
#include "state.pb.h"
#include "state/changelog.h"
#include "tests/integration/cluster.h"
#include "tests/integration/oracle.h"
#include "tests/integration/policy_load.h"

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

// What the restored instance is given after its restore: `input` to produce, and the oracle of
// everything (what was restored, then `input`).
struct AfterRestore {
  std::vector<std::pair<std::string, std::string>> input;
  Oracle oracle;
  TimeMs watermark = 0;  // the lowest partition's at the end: what is due by then must fire
};

// Feeds `after` to instance "fresh" of `copy`, restored to `restored`: its triggers and audit
// topics must then hold exactly what the oracle of everything adds to `restored`'s (nothing
// of before the restore is sent again), and every deferral pending in the restored state must
// be decided again at its release time (if due by the end), released ones sent with their
// trigger ids.
void ExpectDeferralsReleasedAfterRestore(Cluster& copy, const Oracle& restored,
                                         const AfterRestore& after) {
  copy.Produce(after.input);
  const std::string dumped = copy.AwaitState("fresh", after.oracle.state, std::chrono::seconds(40));
  EXPECT_TRUE(dumped == after.oracle.state)
      << "after the restore and more input, the state differs from the oracle's";
  Oracle added;  // what the oracle decides after the restore
  for (const auto& [id, bytes] : after.oracle.triggers) {
    if (restored.triggers.count(id) == 0) added.triggers[id] = bytes;
  }
  const std::set<std::string> audited_before(restored.audits.begin(), restored.audits.end());
  for (const std::string& bytes : after.oracle.audits) {
    if (audited_before.count(bytes) == 0) added.audits.push_back(bytes);
  }
  const std::vector<Record> triggers = copy.Consume(
      "triggers", added.triggers.size(), std::chrono::seconds(20), std::chrono::seconds(1));
  const DeliveryCheck check = CheckDelivery(added, triggers);
  EXPECT_EQ(check.missing, 0u) << "triggers the oracle sends after the restore are missing";
  EXPECT_EQ(check.unknown, 0u) << "triggers sent after the restore that the oracle does not send "
                                  "then (sent again, or never)";
  EXPECT_EQ(check.differing, 0u) << "copies of one id must be identical";
  const std::vector<Record> audits =
      copy.Consume("touchstream-audit", added.audits.size(), std::chrono::seconds(10),
                   std::chrono::milliseconds(500));
  ExpectPolicyInvariants(added, triggers, audits);

  // Each deferral pending in the restored state and due by the end: the restored instance's
  // first decision on it (on the audit topic) is at its release time.
  std::map<std::string, TimeMs> pending;  // trigger id -> release time
  std::istringstream lines(restored.state);
  for (std::string line; std::getline(lines, line);) {
    v1::state::CustomerState state;
    ASSERT_TRUE(ParseJsonLine(line, &state).ok()) << line;
    for (const auto& d : state.policy().deferred()) {
      if (d.release_ms() <= after.watermark) pending[d.trigger().trigger_id()] = d.release_ms();
    }
  }
  size_t released = 0, undecided = 0, decided_off_time = 0;
  for (const auto& [id, release_ms] : pending) {
    auto first = std::find_if(audits.begin(), audits.end(), [&](const Record& r) {
      v1::AuditRecord a;
      return a.ParseFromString(r.value) && a.trigger().trigger_id() == id;
    });
    if (first == audits.end()) {
      ++undecided;
      continue;
    }
    v1::AuditRecord decision;
    ASSERT_TRUE(decision.ParseFromString(first->value));
    decided_off_time += ToTimeMs(decision.decision_time()) != release_ms;
    released += decision.decision() == v1::AUDIT_DECISION_RELEASED;
  }
  std::cout << "deferrals pending in the restored state and due by the end: " << pending.size()
            << ", released " << released << ", not decided again: " << undecided << "\n";
  EXPECT_GT(pending.size(), 0u) << "no deferral was pending at the restore: the test proves little";
  EXPECT_GT(released, 0u) << "no deferral pending at the restore was released";
  EXPECT_EQ(undecided, 0u) << "deferrals pending at the restore never decided again";
  EXPECT_EQ(decided_off_time, 0u) << "deferrals decided again at another time than their release";
}

// Copies the input and compacts the changelog of `from` into a second cluster, starts a fresh
// instance there and requires the oracle's state from its restore alone; then, if given,
// `after` (ExpectDeferralsReleasedAfterRestore).
void RestoreFromACompactedCopy(const Cluster& from,
                               const std::map<int32_t, std::vector<std::string>>& input,
                               const Oracle& oracle, const CleanableFn& cleanable,
                               const AfterRestore* after = nullptr) {
  const int partitions = from.config().partitions;
  for (int64_t low : LowWatermarks(from.bootstrap(), "changelog", partitions)) {
    ASSERT_EQ(low, 0) << "the embedded broker trimmed the changelog: keep the input smaller";
  }
  TempDir copy_dir;
  Cluster copy(copy_dir, from.config());
  ASSERT_TRUE(copy.started());
  ProduceRecords(copy.bootstrap(), "touchpoints",
                 ReadTopic(from.bootstrap(), "touchpoints", partitions));
  size_t before = 0, after_compaction = 0;
  for (const auto& [p, records] : ReadTopic(from.bootstrap(), "changelog", partitions))
    before += records.size();
  for (const auto& [p, records] :
       CompactChangelog(from.bootstrap(), "changelog", partitions, copy.bootstrap(), cleanable)) {
    after_compaction += records.size();
  }
  std::cout << "changelog: " << before << " records, " << after_compaction << " after compaction\n";
  ASSERT_LT(after_compaction, before) << "the compaction removed nothing: the test proves nothing";

  ChildProcess& restorer = copy.Start("fresh");
  const std::string dumped = copy.AwaitState("fresh", oracle.state, std::chrono::seconds(40));
  EXPECT_TRUE(dumped == oracle.state)
      << "the state restored from the compacted changelog differs from the oracle's: "
      << std::count(dumped.begin(), dumped.end(), '\n') << " customers restored, "
      << std::count(oracle.state.begin(), oracle.state.end(), '\n') << " expected";
  ExpectResumedAtTheEnd(restorer.Stderr(), input);
  if (after != nullptr) ExpectDeferralsReleasedAfterRestore(copy, oracle, *after);
  copy.Stop("fresh");
}

TEST(CompactedRestoreTest, AFullyCompactedChangelogRestoresTheStateAndDeferralsAfterOwnerChanges) {
  constexpr int kPartitions = 4;
  // The run's input, then what the restored instance gets: a prefix of one load and the rest.
  // 100 customers: they come back often enough to meet the caps.
  const auto load = WithPolicyInput(JourneyLoad(41, 100, 6600));
  const auto events = WithPolicyInput(JourneyLoad(41, 100, 4200));
  const std::vector<std::pair<std::string, std::string>> more(load.begin() + events.size(),
                                                              load.end());
  const auto [first, last] = EventTimeSpan(events);
  const TimeMs end = EventTimeSpan(load).second;
  // Quiet from three fifths into the run's input to halfway through what follows the restore.
  const TimeMs quiet_end = last + (end - last) / 2;
  ASSERT_GT(quiet_end / 60'000, last / 60'000 + 1) << "quiet hours must outlast the run's input";
  ClusterConfig config = Compacted(kPartitions);
  config.extra = PolicySections(first + (last - first) * 3 / 5, quiet_end);
  config.rules = kPolicyCartOfferRules;
  TempDir dir;
  Cluster run(dir, config);
  ASSERT_TRUE(run.started());

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
  const std::string decides = config.extra + config.rules;
  const Oracle oracle = BacktestOracle(decides, input);
  // d, the last one standing, owns every partition.
  const std::string dumped = run.AwaitState("d", oracle.state, std::chrono::seconds(40));
  ASSERT_TRUE(dumped == oracle.state) << "the run itself did not reach the oracle's state";
  run.Stop("d");

  // The oracle of everything: each partition's input, then what follows in that partition.
  std::map<int32_t, std::vector<std::string>> everything = input;
  const Murmur2Ownership owners(kPartitions);
  for (const auto& [customer, value] : more) everything[owners.OwnerOf(customer)].push_back(value);
  TimeMs watermark = std::numeric_limits<TimeMs>::max();
  for (const auto& [partition, values] : everything) {
    TimeMs latest = 0;
    for (const std::string& value : values) {
      v1::TouchpointEvent e;
      if (e.ParseFromString(value)) latest = std::max(latest, ToTimeMs(e.event_time()));
    }
    watermark = std::min(watermark, latest);
  }
  ASSERT_GT(watermark, quiet_end) << "quiet hours must end before the input does";
  const AfterRestore after{more, BacktestOracle(decides, everything), watermark};
  ExpectEveryPolicyDecides(after.oracle);
  RestoreFromACompactedCopy(run, input, oracle, {}, &after);
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
  ChildProcess& b = run.Start("b");
  // Once both have joined, b owns one partition and a the other. A slow start can give the first
  // to join both for a generation: b's partitions are replayed from its log (an eager rebalance
  // revokes and assigns everything again, a cooperative one only what moves).
  auto owned_by_b = [&] {
    std::set<std::string> owned;
    const std::string log = b.Stderr();
    const std::regex change("(assigned|revoked) touchpoints/(\\d+)");
    for (auto it = std::sregex_iterator(log.begin(), log.end(), change);
         it != std::sregex_iterator(); ++it) {
      if ((*it)[1] == "assigned") {
        owned.insert((*it)[2]);
      } else {
        owned.erase((*it)[2]);
      }
    }
    return owned;
  };
  ASSERT_TRUE(run.WaitForLog("a", "assigned touchpoints/", std::chrono::seconds(30))) << a.Stderr();
  const auto joined_by = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (owned_by_b().size() != 1 && std::chrono::steady_clock::now() < joined_by) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const std::set<std::string> b_owns = owned_by_b();
  ASSERT_EQ(b_owns.size(), 1u) << b.Stderr();
  const std::string zombie_partition = *b_owns.begin() == "0" ? "1" : "0";
  produce_part(0);
  std::this_thread::sleep_for(std::chrono::seconds(2));
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
