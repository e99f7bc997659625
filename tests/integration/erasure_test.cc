// An erasure request through `run` on the embedded Kafka (README "Privacy"): the customer has a
// timer pending and an event-caused trigger in the same batch as the request (commit not yet
// built, so never in the outbox). Nothing of them is delivered; the ERASED audit names them only
// by their keyed hash; a late event is dropped and counted; state-dump and a fresh restore from
// the changelog hold nothing of them; and no byte of their (random, unique) id remains in any
// RocksDB file, WAL included, after a flush, a forced bottommost compaction of every column
// family and the deletion of obsolete files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "audit.pb.h"
#include "processor/core/clock.h"
#include "processor/core/erasure_memory.h"
#include "tests/integration/cluster.h"
#include "touchpoint.pb.h"

namespace touchstream::testing {
namespace {

constexpr char kHashKey[] = "integration-test-hash-key-0123456789";

std::string UniqueCustomerId() {
  std::random_device random;
  std::ostringstream id;
  id << "erase-me-" << std::hex << random() << random() << random();
  return id.str();
}

std::pair<std::string, std::string> EventRecord(const std::string& event_id,
                                                const std::string& customer, TimeMs t,
                                                v1::EventType type,
                                                v1::Channel channel = v1::CHANNEL_WEB) {
  v1::TouchpointEvent e;
  e.set_event_id(event_id);
  e.set_customer_id(customer);
  *e.mutable_event_time() = ToTimestamp(t);
  e.set_type(type);
  e.set_channel(channel);
  if (type == v1::EVENT_TYPE_ADD_TO_CART) {
    auto* item = e.add_items();
    item->set_sku("boots");
    item->set_quantity(1);
    item->set_unit_price_minor(12999);
  }
  return {customer, e.SerializeAsString()};
}

std::string StateDump(const std::string& config_path, const std::string& log_prefix) {
  ChildProcess dump({TouchstreamBin(), "state-dump", "--config", config_path}, log_prefix);
  EXPECT_EQ(dump.Wait(std::chrono::seconds(30)), 0) << dump.Stderr();
  return dump.Stdout();
}

// Every file below `dir` (recursively) that holds `needle`.
std::vector<std::string> FilesHolding(const std::string& dir, const std::string& needle) {
  std::vector<std::string> holding;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.find(needle) != std::string::npos) holding.push_back(entry.path().string());
  }
  return holding;
}

// What an operator does to prove an erasure on disk: `state-compact` on the stopped instance
// (flush, compact every column family to the bottom, reopen: a fresh MANIFEST, obsolete files
// deleted).
void CompactOnDisk(const std::string& config_path, const std::string& log_prefix) {
  ChildProcess compact({TouchstreamBin(), "state-compact", "--config", config_path}, log_prefix);
  ASSERT_EQ(compact.Wait(std::chrono::seconds(60)), 0) << compact.Stderr();
  EXPECT_NE(compact.Stderr().find("bytes before"), std::string::npos) << compact.Stderr();
}

TEST(ErasureOnKafkaTest, NothingOfAnErasedCustomerIsDeliveredKeptOrRestored) {
  TempDir dir;
  const int port = FreeLoopbackPort();
  ClusterConfig config;
  config.group_id = "erasure";
  config.changelog = "changelog";
  // One batch: every record below is polled before the first commit is built.
  config.processing = "commit_interval: 3s, commit_max_events: 100000";
  config.http = "listen: \"127.0.0.1:" + std::to_string(port) + "\"";
  config.extra = std::string("privacy: {hash_key: \"") + kHashKey + "\"}\n";
  config.rules = std::string(kCart2mRules) + R"(  visit:
    kind: reward_window
    opener: {event_type: STORE_VISIT}
    duration: 1h
)";
  Cluster cluster(dir, config);
  ASSERT_TRUE(cluster.started());

  const std::string erased = UniqueCustomerId();
  const TimeMs t0 = SystemClock().NowMs() - kHourMs;
  cluster.Produce({
      EventRecord("e1", erased, t0, v1::EVENT_TYPE_ADD_TO_CART),  // a timer pending
      EventRecord("e2", erased, t0 + 1000, v1::EVENT_TYPE_STORE_VISIT, v1::CHANNEL_IN_STORE),
      EventRecord("b1", "bob", t0 + 2000, v1::EVENT_TYPE_STORE_VISIT, v1::CHANNEL_IN_STORE),
      EventRecord("e3", erased, t0 + 3000, v1::EVENT_TYPE_ERASURE_REQUEST),
      EventRecord("e0", erased, t0 + 500, v1::EVENT_TYPE_PAGE_VIEW),  // a late upload: dropped
      // Past the erased cart's due time: its timer would fire now.
      EventRecord("c1", "carl", t0 + 10 * 60'000, v1::EVENT_TYPE_ADD_TO_CART),
  });
  cluster.Start("a");

  // Bob's trigger (and nothing else) arrives; one ERASED audit record.
  const std::vector<Record> triggers =
      cluster.Consume("triggers", 1, std::chrono::seconds(40), std::chrono::seconds(3));
  ASSERT_EQ(triggers.size(), 1u) << cluster["a"].Stderr();
  EXPECT_EQ(triggers[0].key, "bob");
  const std::vector<Record> audits =
      cluster.Consume("touchstream-audit", 1, std::chrono::seconds(20), std::chrono::seconds(1));
  ASSERT_EQ(audits.size(), 1u);
  v1::AuditRecord audit;
  ASSERT_TRUE(audit.ParseFromString(audits[0].value));
  EXPECT_EQ(audit.decision(), v1::AUDIT_DECISION_ERASED);
  EXPECT_EQ(audit.event_id(), "e3");
  EXPECT_EQ(audit.customer_hash(), CustomerHash(kHashKey, erased));
  EXPECT_EQ(audits[0].key, audit.customer_hash());
  EXPECT_EQ(audits[0].value.find(erased), std::string::npos);
  EXPECT_EQ(ScrapeMetricSum(port, "touchstream_events_dropped_total"), 1);
  cluster.Stop("a");

  // The changelog ends the customer with a real tombstone.
  const auto changelog = ReadTopic(cluster.bootstrap(), "changelog", 1);
  const Record* last = nullptr;
  for (const Record& r : changelog.at(0)) {
    if (r.key == erased) last = &r;
  }
  ASSERT_NE(last, nullptr);
  EXPECT_TRUE(last->null_value);

  const std::string dumped = StateDump(cluster.Config("a"), dir.path() + "/dump-a");
  EXPECT_NE(dumped.find("\"bob\""), std::string::npos) << dumped;
  EXPECT_EQ(dumped.find(erased), std::string::npos) << dumped;

  // A fresh instance on its own state directory restores from the changelog: nothing of them.
  cluster.Start("b");
  ASSERT_TRUE(cluster.WaitForLog("b", "assigned touchpoints/0", std::chrono::seconds(40)))
      << cluster["b"].Stderr();
  cluster.Stop("b");
  const std::string restored = StateDump(cluster.Config("b"), dir.path() + "/dump-b");
  EXPECT_NE(restored.find("\"carl\""), std::string::npos) << restored;
  EXPECT_EQ(restored.find(erased), std::string::npos) << restored;

  for (const std::string name : {"a", "b"}) {
    const std::string state = "state-" + name;
    const std::string state_dir = dir.path() + "/" + state;
    ASSERT_TRUE(std::filesystem::exists(state_dir)) << state_dir;
    CompactOnDisk(cluster.Config(name), dir.path() + "/compact-" + name);
    EXPECT_EQ(FilesHolding(state_dir, erased), std::vector<std::string>{})
        << "a file of " << state << " still holds the erased customer's id";
    // The check itself finds what is there.
    EXPECT_FALSE(FilesHolding(state_dir, "carl").empty());
  }
}

}  // namespace
}  // namespace touchstream::testing
