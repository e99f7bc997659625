// Corrupt local state is rebuilt from the changelog (README, "Corrupt local state"): one
// instance is stopped, its store damaged, and restarted on it, three times — (a) one customer's
// stored state no longer parses, (b) the store's CURRENT file (which names the MANIFEST) is
// garbage, so RocksDB will not open it, (c) a partition's checkpoint no longer parses. Each
// time the instance must come back to the backtest oracle's state (tests/integration/oracle.h)
// and go on processing, and its output keeps invariants I1-I2 (re-sent triggers only as
// identical ids).
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <filesystem>
#include <fstream>

#include "state/commit_batch.h"
#include "state/keys.h"
#include "state/state_db.h"
#include "tests/integration/cluster.h"
#include "tests/integration/oracle.h"

namespace touchstream::testing {
namespace {

constexpr int kPartitions = 2;

constexpr char kRules[] = R"(
rules:
  cart_20s:
    kind: cart_abandonment
    delay: 20s
)";

using Events = std::vector<std::pair<std::string, std::string>>;

// Damage as a disk could do it, written while the instance is stopped: the first customer of
// `next` that the store holds gets a state that does not parse. Returns the customer's
// partition (-1: none found).
int32_t CorruptOneCustomer(const std::string& state_dir, const Events& next) {
  auto db = StateDb::Open(state_dir, false);
  EXPECT_TRUE(db.ok()) << db.status().message();
  if (!db.ok()) return -1;
  for (const auto& [customer_id, value] : next) {
    auto found = (*db)->FindCustomer(customer_id);
    if (!found.ok() || !found->has_value()) continue;
    const int32_t partition = (*found)->first;
    const std::string garbage = "\x0a\xff\xff\xff\xff";  // field 1, a length past the end
    CommitBatch batch(**db);
    batch.PutCustomerValue(partition, customer_id, &garbage);
    EXPECT_TRUE(batch.Commit().ok());
    return partition;
  }
  return -1;
}

// A checkpoint that does not parse, written with RocksDB directly (state/ has no API that
// writes raw checkpoint bytes): the column families are state/state_db.h's.
void CorruptCheckpoint(const std::string& state_dir, int32_t partition) {
  rocksdb::Options options;
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const char* name : {"default", "customers", "timers", "checkpoints", "outbox"}) {
    families.emplace_back(name, rocksdb::ColumnFamilyOptions(options));
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, state_dir, families, &handles, &raw);
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::unique_ptr<rocksdb::DB> db(raw);
  s = db->Put(rocksdb::WriteOptions(), handles[3], keys::Checkpoint("touchpoints", partition),
              "\x0a\xff\xff\xff\xff");
  EXPECT_TRUE(s.ok()) << s.ToString();
  for (auto* handle : handles) db->DestroyColumnFamilyHandle(handle);
}

TEST(CorruptStateTest, ACorruptStateValueAndAnUnopenableStoreAreRebuiltFromTheChangelog) {
  TempDir dir;
  ClusterConfig config;
  config.group_id = "corrupt";
  config.partitions = kPartitions;
  config.changelog = "changelog";
  config.processing = "commit_interval: 20ms, commit_max_events: 200";
  config.rules = kRules;
  Cluster cluster(dir, config);
  ASSERT_TRUE(cluster.started());
  const std::string state_dir = dir.path() + "/state-a";
  // The oracle of the first `count` input records.
  auto oracle_of = [&](size_t count) { return BacktestOracle(kRules, cluster.ReadInput(count)); };

  const Events events = JourneyLoad(23, 80, 1500);
  const Events first = Part(events, 0, 3);
  const Events second = Part(events, 1, 3);
  const Events last = Part(events, 2, 3);

  cluster.Start("a");
  cluster.Produce(first);
  const Oracle after_first = oracle_of(first.size());
  ASSERT_EQ(cluster.AwaitState("a", after_first.state, std::chrono::seconds(30)),
            after_first.state);
  // ChildProcess::Stop, not Cluster::Stop: the test cannot go on unless the instance exited 0.
  ASSERT_EQ(cluster["a"].Stop(), 0) << cluster["a"].Stderr();

  // (a) One customer's stored state does not parse. The customer has events in `second`, so
  // the restarted instance reads it while processing.
  const int32_t partition = CorruptOneCustomer(state_dir, second);
  ASSERT_GE(partition, 0) << "no customer of the second third is stored yet";
  cluster.Start("a");
  cluster.Produce(second);
  const Oracle after_second = oracle_of(first.size() + second.size());
  EXPECT_EQ(cluster.AwaitState("a", after_second.state, std::chrono::seconds(40)),
            after_second.state);
  EXPECT_NE(
      cluster["a"].Stderr().find("the local data of touchpoints/" + std::to_string(partition)),
      std::string::npos)
      << "the corrupt state must be found while processing and its partition rebuilt\n"
      << cluster["a"].Stderr();
  ASSERT_EQ(cluster["a"].Stop(), 0) << cluster["a"].Stderr();

  // (b) RocksDB will not open the store: CURRENT, which names the MANIFEST, is garbage.
  std::ofstream(state_dir + "/CURRENT", std::ios::trunc) << "garbage\n";
  cluster.Start("a");
  EXPECT_EQ(cluster.AwaitState("a", after_second.state, std::chrono::seconds(30)),
            after_second.state)
      << "the state must be restored from the changelog alone";
  cluster.Produce(last);
  const Oracle after_all = oracle_of(events.size());
  ASSERT_GT(after_all.triggers.size(), 20u) << "the load should fire triggers";
  const std::string dumped = cluster.AwaitState("a", after_all.state, std::chrono::seconds(30));
  EXPECT_NE(cluster["a"].Stderr().find("moved the state store aside to " + state_dir + ".corrupt-"),
            std::string::npos)
      << cluster["a"].Stderr();
  int moved_aside = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("state-a.corrupt-", 0) == 0) {
      ++moved_aside;
      std::ifstream current(entry.path() / "CURRENT");
      std::string line;
      std::getline(current, line);
      EXPECT_EQ(line, "garbage") << "the damaged store is kept as it was";
    }
  }
  EXPECT_EQ(moved_aside, 1);

  EXPECT_EQ(dumped, after_all.state);
  ASSERT_EQ(cluster["a"].Stop(), 0) << cluster["a"].Stderr();

  // (c) A partition's checkpoint does not parse: found when the partition is assigned.
  CorruptCheckpoint(state_dir, 0);
  cluster.Start("a");
  // The state-dump reads no checkpoint: first wait until the partition was taken over.
  EXPECT_TRUE(cluster.WaitForLog("a",
                                 "corrupt checkpoint for touchpoints/0: deleted the local data of "
                                 "touchpoints/0",
                                 std::chrono::seconds(20)))
      << cluster["a"].Stderr();
  // Restored from the changelog with the checkpoint of the last commit: nothing is redone.
  const size_t end_offset = cluster.ReadInput(events.size())[0].size();
  EXPECT_TRUE(cluster.WaitForLog(
      "a", "assigned touchpoints/0 from offset " + std::to_string(end_offset) + " (restored)",
      std::chrono::seconds(20)))
      << cluster["a"].Stderr();
  // Spelled out rather than ExpectOracleFrom, which would wait 30 s for the triggers, not 20.
  const std::string restored = cluster.AwaitState("a", after_all.state, std::chrono::seconds(30));

  const std::vector<Record> triggers =
      cluster.Consume("triggers", after_all.triggers.size(), std::chrono::seconds(20),
                      std::chrono::milliseconds(1000));
  cluster.Stop("a");
  ExpectInvariants(after_all, triggers, restored, dir.path());
}

}  // namespace
}  // namespace touchstream::testing
