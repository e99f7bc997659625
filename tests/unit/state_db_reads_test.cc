// How a read of the state store finds a customer (StateDb::ReadCustomerBytes), counted with
// RocksDB's perf context: a customer not written since the last flush is answered by the
// memtable's whole-key bloom filter, without a search of its skip list (a quarter of a read's
// cost once the customers outgrow the write-back cache, benchmarks/RESULTS.md), and still read
// right from the files, or not at all once a wipe of its partition deleted it; a customer in the
// memtable is still found there.
#include <gtest/gtest.h>
#include <rocksdb/perf_context.h>
#include <rocksdb/perf_level.h>

#include <optional>
#include <string>

#include "state/commit_batch.h"
#include "state/state_db.h"
#include "tests/unit/store_test.h"

namespace touchstream {
namespace {

// Counts RocksDB's perf counters of this thread while alive.
class PerfCounting {
 public:
  PerfCounting() : level_(rocksdb::GetPerfLevel()) {
    rocksdb::SetPerfLevel(rocksdb::PerfLevel::kEnableCount);
    rocksdb::get_perf_context()->Reset();
  }
  ~PerfCounting() { rocksdb::SetPerfLevel(level_); }
  const rocksdb::PerfContext& counts() const { return *rocksdb::get_perf_context(); }

 private:
  rocksdb::PerfLevel level_;
};

class StateDbReadsTest : public testing::StoreTest {
 protected:
  void Put(const std::string& customer_id, const std::string& value) {
    CommitBatch batch(*db_);
    batch.PutCustomerValue(0, customer_id, &value);
    ASSERT_TRUE(batch.Commit().ok());
  }
  // The stored value, or nullopt.
  std::optional<std::string> Read(const std::string& customer_id) {
    std::string value;
    StatusOr<bool> found = db_->ReadCustomerBytes(0, customer_id, value);
    EXPECT_TRUE(found.ok());
    return found.ok() && *found ? std::optional<std::string>(value) : std::nullopt;
  }
};

TEST_F(StateDbReadsTest, ACustomerNotInTheMemtableIsNotSearchedForThere) {
  CommitBatch batch(*db_);
  const std::string value = "stored state";
  for (int n = 0; n < 1000; ++n) batch.PutCustomerValue(0, "c-" + std::to_string(n), &value);
  ASSERT_TRUE(batch.Commit().ok());
  {
    PerfCounting perf;
    for (int n = 0; n < 100; ++n) EXPECT_EQ(Read("unknown-" + std::to_string(n)), std::nullopt);
    // The filter holds ~2.7 Mbit for these 1,000 keys: a false positive is all but impossible.
    EXPECT_EQ(perf.counts().bloom_memtable_miss_count, 100u);
  }
  {
    PerfCounting perf;
    EXPECT_EQ(Read("c-7"), value);
    EXPECT_EQ(perf.counts().bloom_memtable_hit_count, 1u);
    EXPECT_EQ(perf.counts().bloom_memtable_miss_count, 0u);
  }
}

TEST_F(StateDbReadsTest, ACustomerInTheFilesIsReadFromThemPastTheMemtableAndGoneAfterAWipe) {
  Put("amy", "amy's state");
  ASSERT_TRUE(db_->CompactAll().ok());  // amy is in a file now, the memtable empty
  Put("bob", "bob's state");            // an empty memtable is not asked at all
  {
    PerfCounting perf;
    EXPECT_EQ(Read("amy"), "amy's state");
    EXPECT_EQ(perf.counts().bloom_memtable_miss_count, 1u);
  }
  EXPECT_EQ(Read("bob"), "bob's state");

  // The wipe's range deletion sits in the memtable beside bob; amy's read must meet it there.
  CommitBatch wipe(*db_);
  wipe.WipePartition("touchpoints", 0);
  ASSERT_TRUE(wipe.Commit().ok());
  EXPECT_EQ(Read("amy"), std::nullopt);
  EXPECT_EQ(Read("bob"), std::nullopt);
}

}  // namespace
}  // namespace touchstream
