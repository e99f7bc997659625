// state/restore_ingest.h: a partition written as ingested files reads back as RestoreWriter's
// memtable writes of the same customers do (values, erasures, the timer index), and only after
// Finish; customer ids out of order are refused.
#include "state/restore_ingest.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "processor/core/erasure_memory.h"
#include "state/commit_batch.h"
#include "state/partition_state.h"
#include "state/restore_writer.h"

namespace touchstream {
namespace {

constexpr int32_t kPartition = 2;
// The restored commit's watermark: a lagging timer entry (processor/core/rule_timer.h) due by
// then was re-armed at its due time already.
constexpr TimeMs kWatermark = 1767225600000;

class RestoreIngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("touchstream_restore_ingest_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<StateDb> Open(const std::string& name) {
    auto db = StateDb::Open((dir_ / name).string(), false);
    EXPECT_TRUE(db.ok()) << db.status().message();
    return std::move(*db);
  }

  // What the partition holds: every entry, serialized, and the timer index in order.
  static std::pair<std::map<std::string, std::string>, std::vector<TimerKey>> Contents(
      StateDb& db) {
    std::map<std::string, std::string> entries;
    EXPECT_TRUE(db.ForEachEntryOf(kPartition, [&](const std::string& key,
                                                  v1::state::CustomerState state) {
                    entries[key] = state.SerializeAsString();
                    return Status::Ok();
                  }).ok());
    std::vector<TimerKey> timers;
    PartitionState store(db, kPartition);
    for (;;) {
      auto timer = store.PopDueTimer(TimerLimit{INT64_MAX});
      EXPECT_TRUE(timer.ok());
      if (!timer.ok() || !timer->has_value()) break;
      timers.push_back(**timer);
    }
    return {entries, timers};
  }

  std::filesystem::path dir_;
};

v1::state::CustomerState Customer(const std::string& id, TimeMs due_ms) {
  v1::state::CustomerState c;
  c.set_customer_id(id);
  c.set_first_seen_ms(1767225600000);
  c.set_last_activity_ms(1767225600000);
  auto* slot = c.add_rules();
  slot->set_rule_id("cart_1h");
  slot->mutable_state()->set_due_ms(due_ms);
  return c;
}

struct Entry {
  std::string id;
  std::optional<std::string> value;  // nullopt: erased
  std::optional<v1::state::CustomerState> state;
};

// Puts every entry into `writer` (a RestoreWriter or a RestoreIngest).
template <typename Writer>
void PutAll(Writer& writer, const std::vector<Entry>& entries) {
  for (const Entry& e : entries) {
    const std::string_view value = e.value ? std::string_view(*e.value) : std::string_view();
    ASSERT_TRUE(
        writer.Put(e.id, e.value ? &value : nullptr, e.state ? &*e.state : nullptr).ok());
  }
}

std::vector<Entry> Entries() {
  std::vector<Entry> entries;
  for (int i = 0; i < 50; ++i) {
    // Two-digit ids: their string order is their number's.
    const std::string id = "c" + std::to_string(10 + i);
    if (i % 10 == 3) {
      entries.push_back({id, std::nullopt, std::nullopt});  // erased: nothing stored
      continue;
    }
    v1::state::CustomerState state = Customer(id, 1767229200000 - i * 1000);
    auto& rule_state = *state.mutable_rules(0)->mutable_state();
    // Lagging timer entries: one still ahead of the watermark, one re-armed before it.
    if (i % 10 == 1) rule_state.set_indexed_ms(rule_state.due_ms() - 600000);
    if (i % 10 == 2) rule_state.set_indexed_ms(kWatermark - 1000);
    entries.push_back({id, state.SerializeAsString(), state});
  }
  // An erasure memory with its forget timer.
  v1::state::CustomerState memory;
  memory.mutable_erased()->set_erased_at_ms(1767225600000);
  memory.mutable_erased()->set_forget_at_ms(1767312000000);
  entries.push_back({ErasureMemoryKey("ab12"), memory.SerializeAsString(), memory});
  return entries;
}

TEST_F(RestoreIngestTest, ReadsBackAsTheMemtableWritesOfTheSameCustomers) {
  auto written = Open("written");
  auto ingested = Open("ingested");
  // Both partitions hold an older state first, which the restore's wipe removes.
  for (StateDb* db : {written.get(), ingested.get()}) {
    CommitBatch old(*db);
    const std::string stale = Customer("c00-stale", 1).SerializeAsString();
    old.PutCustomerValue(kPartition, "c00-stale", &stale);
    old.PutTimer(kPartition, TimerKey{1, "c00-stale", "cart_1h"});
    ASSERT_TRUE(old.Commit().ok());
  }
  const std::vector<Entry> entries = Entries();
  {
    CommitBatch batch(*written);
    batch.WipePartition("touchpoints", kPartition);
    RestoreWriter writer(batch, kPartition, kWatermark);
    ASSERT_NO_FATAL_FAILURE(PutAll(writer, entries));
    ASSERT_TRUE(writer.Flush().ok());
  }
  {
    CommitBatch wipe(*ingested);
    wipe.WipePartition("touchpoints", kPartition);
    ASSERT_TRUE(wipe.Commit().ok());
    RestoreIngest ingest(*ingested, kPartition, kWatermark);
    ASSERT_NO_FATAL_FAILURE(PutAll(ingest, entries));
    // Nothing is visible before Finish: the wipe is.
    EXPECT_TRUE(Contents(*ingested).first.empty());
    EXPECT_FALSE(ingest.ingested());
    ASSERT_TRUE(ingest.Finish().ok());
    EXPECT_TRUE(ingest.ingested());
    // The files were moved into the store (linked, the originals removed), not copied.
    for (const auto& file : std::filesystem::directory_iterator(dir_ / "ingested")) {
      EXPECT_EQ(file.path().filename().string().rfind("restore-", 0), std::string::npos)
          << file.path();
    }
  }
  const auto expected = Contents(*written);
  ASSERT_EQ(expected.first.size(), 46u);  // 45 customers and the memory
  ASSERT_EQ(expected.second.size(), 46u);
  // Each entry where the pipeline left it: c11's lagging one ahead of the watermark, c12's at
  // its due time (re-armed before the commit).
  auto indexed = [&](TimeMs due_ms, const std::string& id) {
    return std::find(expected.second.begin(), expected.second.end(),
                     TimerKey{due_ms, id, "cart_1h"}) != expected.second.end();
  };
  EXPECT_TRUE(indexed(1767229200000 - 1000 - 600000, "c11"));
  EXPECT_TRUE(indexed(1767229200000 - 2000, "c12"));
  const auto actual = Contents(*ingested);
  EXPECT_EQ(actual.first, expected.first);
  EXPECT_EQ(actual.second, expected.second);
}

TEST_F(RestoreIngestTest, RefusesCustomersOutOfOrderAndIngestsNothingWhenEmpty) {
  auto db = Open("db");
  {
    RestoreIngest ingest(*db, kPartition, kWatermark);
    const std::string_view erased = "erased-only";
    ASSERT_TRUE(ingest.Put(erased, nullptr, nullptr).ok());
    EXPECT_TRUE(ingest.Finish().ok());  // nothing to ingest
    EXPECT_FALSE(ingest.ingested());
  }
  RestoreIngest ingest(*db, kPartition, kWatermark);
  const std::string value = Customer("b", 5).SerializeAsString();
  const std::string_view view = value;
  ASSERT_TRUE(ingest.Put("b", &view, nullptr).ok());
  const Status s = ingest.Put("a", &view, nullptr);
  EXPECT_EQ(s.code(), Status::Code::kInternal);
  EXPECT_NE(s.message().find("out of order"), std::string::npos) << s.message();
  EXPECT_EQ(ingest.Put("b", &view, nullptr).code(), Status::Code::kInternal);  // not strictly after
  EXPECT_TRUE(std::filesystem::exists(dir_ / "db" / "restore-2-customers.sst"));
}

TEST_F(RestoreIngestTest, AnAbandonedIngestLeavesNoFile) {
  auto db = Open("db");
  {
    RestoreIngest ingest(*db, kPartition, kWatermark);
    const std::string value = Customer("a", 5).SerializeAsString();
    const std::string_view view = value;
    ASSERT_TRUE(ingest.Put("a", &view, nullptr).ok());
    ASSERT_TRUE(std::filesystem::exists(dir_ / "db" / "restore-2-customers.sst"));
  }  // a failed restore returns without Finish
  EXPECT_FALSE(std::filesystem::exists(dir_ / "db" / "restore-2-customers.sst"));
  EXPECT_FALSE(db->ReadCustomer(kPartition, "a")->has_value());
}

TEST_F(RestoreIngestTest, OpeningTheStoreRemovesFilesACrashLeft) {
  Open("db").reset();
  const auto left = dir_ / "db" / "restore-5-customers.sst";
  const auto other = dir_ / "db" / "restore-notes.txt";
  for (const auto& path : {left, other}) std::ofstream(path) << "partial";
  auto db = Open("db");
  EXPECT_FALSE(std::filesystem::exists(left));
  EXPECT_TRUE(std::filesystem::exists(other));  // not one of its files
}

}  // namespace
}  // namespace touchstream
