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
#include "tests/integration/harness.h"
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

constexpr char kKafka[] = R"(
topics:
  touchpoints: {name: touchpoints, partitions: 2}
  triggers: {name: triggers, partitions: 1}
  dead_letter: {name: touchpoints-dlq, partitions: 1}
  changelog: {name: changelog, partitions: 2}
consumer: {group_id: corrupt}
processing: {commit_interval: 20ms, commit_max_events: 200}
timers: {clock: event_time}
http: {listen: ""}
kafka_consumer: {fetch.wait.max.ms: 20, session.timeout.ms: 6000, heartbeat.interval.ms: 500}
)";

using Events = std::vector<std::pair<std::string, std::string>>;

// The oracle of the first `count` input records.
Oracle OracleOf(const std::string& bootstrap, size_t count) {
  return BacktestOracle(kRules, ReadPartitions(bootstrap, "touchpoints", kPartitions, count));
}

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
  const std::string state_dir = dir.path() + "/state-a";
  const std::string config =
      dir.Write("a.yaml", std::string(kKafka) + kRules + "state:\n  dir: " + state_dir + "\n");
  EmbeddedKafkaProcess kafka(config, dir.path() + "/kafka");
  ASSERT_FALSE(kafka.bootstrap().empty());
  int launches = 0;
  auto start = [&] {
    return std::make_unique<ChildProcess>(
        std::vector<std::string>{TouchstreamBin(), "run", "--config", config, "-X",
                                 "bootstrap.servers=" + kafka.bootstrap()},
        dir.path() + "/a-" + std::to_string(launches++));
  };

  const Events events = JourneyLoad(23, 80, 1500);
  const size_t third = events.size() / 3;
  const Events first(events.begin(), events.begin() + third);
  const Events second(events.begin() + third, events.begin() + 2 * third);
  const Events last(events.begin() + 2 * third, events.end());

  auto a = start();
  ProduceRaw(kafka.bootstrap(), "touchpoints", first);
  const Oracle after_first = OracleOf(kafka.bootstrap(), first.size());
  ASSERT_EQ(AwaitState(config, after_first.state, dir.path() + "/dump", std::chrono::seconds(30)),
            after_first.state);
  ASSERT_EQ(a->Stop(), 0) << a->Stderr();

  // (a) One customer's stored state does not parse. The customer has events in `second`, so
  // the restarted instance reads it while processing.
  const int32_t partition = CorruptOneCustomer(state_dir, second);
  ASSERT_GE(partition, 0) << "no customer of the second third is stored yet";
  a = start();
  ProduceRaw(kafka.bootstrap(), "touchpoints", second);
  const Oracle after_second = OracleOf(kafka.bootstrap(), first.size() + second.size());
  EXPECT_EQ(AwaitState(config, after_second.state, dir.path() + "/dump", std::chrono::seconds(40)),
            after_second.state);
  EXPECT_NE(a->Stderr().find("the local data of touchpoints/" + std::to_string(partition)),
            std::string::npos)
      << "the corrupt state must be found while processing and its partition rebuilt\n"
      << a->Stderr();
  ASSERT_EQ(a->Stop(), 0) << a->Stderr();

  // (b) RocksDB will not open the store: CURRENT, which names the MANIFEST, is garbage.
  std::ofstream(state_dir + "/CURRENT", std::ios::trunc) << "garbage\n";
  a = start();
  EXPECT_EQ(AwaitState(config, after_second.state, dir.path() + "/dump", std::chrono::seconds(30)),
            after_second.state)
      << "the state must be restored from the changelog alone";
  ProduceRaw(kafka.bootstrap(), "touchpoints", last);
  const Oracle after_all = OracleOf(kafka.bootstrap(), events.size());
  ASSERT_GT(after_all.triggers.size(), 20u) << "the load should fire triggers";
  const std::string dumped =
      AwaitState(config, after_all.state, dir.path() + "/dump", std::chrono::seconds(30));
  EXPECT_NE(a->Stderr().find("moved the state store aside to " + state_dir + ".corrupt-"),
            std::string::npos)
      << a->Stderr();
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
  ASSERT_EQ(a->Stop(), 0) << a->Stderr();

  // (c) A partition's checkpoint does not parse: found when the partition is assigned.
  CorruptCheckpoint(state_dir, 0);
  a = start();
  // The state-dump reads no checkpoint: first wait until the partition was taken over.
  EXPECT_TRUE(WaitFor([&] { return a->Stderr(); },
                      "corrupt checkpoint for touchpoints/0: deleted the local data of "
                      "touchpoints/0",
                      std::chrono::seconds(20)))
      << a->Stderr();
  // Restored from the changelog with the checkpoint of the last commit: nothing is redone.
  const size_t end_offset =
      ReadPartitions(kafka.bootstrap(), "touchpoints", kPartitions, events.size())[0].size();
  EXPECT_TRUE(
      WaitFor([&] { return a->Stderr(); },
              "assigned touchpoints/0 from offset " + std::to_string(end_offset) + " (restored)",
              std::chrono::seconds(20)))
      << a->Stderr();
  const std::string restored =
      AwaitState(config, after_all.state, dir.path() + "/dump", std::chrono::seconds(30));

  const std::vector<Record> triggers =
      ConsumeAll(kafka.bootstrap(), "triggers", after_all.triggers.size(), std::chrono::seconds(20),
                 std::chrono::milliseconds(1000));
  EXPECT_EQ(a->Stop(), 0) << a->Stderr();
  ExpectInvariants(after_all, triggers, restored, dir.path());
}

}  // namespace
}  // namespace touchstream::testing
