// How a read of the state store finds a customer (StateDb::ReadCustomerBytes), counted with
// RocksDB's perf context: a customer not written since the last flush is answered by the
// memtable's whole-key bloom filter, without a search of its skip list (a quarter of a read's
// cost once the customers outgrow the write-back cache, benchmarks/RESULTS.md); a customer in the
// memtable is still found there.
#include <gtest/gtest.h>
#include <rocksdb/perf_context.h>
#include <rocksdb/perf_level.h>

#include "state/commit_batch.h"
#include "state/state_db.h"
#include "tests/unit/test_dir.h"

namespace touchstream {
namespace {

// Counts RocksDB's perf counters of this thread while alive.
class PerfCounting {
 public:
  PerfCounting() {
    rocksdb::SetPerfLevel(rocksdb::PerfLevel::kEnableCount);
    rocksdb::get_perf_context()->Reset();
  }
  ~PerfCounting() { rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable); }
  const rocksdb::PerfContext& counts() const { return *rocksdb::get_perf_context(); }
};

TEST(StateDbReadsTest, ACustomerNotInTheMemtableIsNotSearchedForThere) {
  testing::TestDir dir("state_db_reads_test");
  auto db = StateDb::Open(dir / "store", false);
  ASSERT_TRUE(db.ok()) << db.status().message();
  CommitBatch batch(**db);
  const std::string value = "stored state";
  for (int n = 0; n < 1000; ++n) batch.PutCustomerValue(0, "c-" + std::to_string(n), &value);
  ASSERT_TRUE(batch.Commit().ok());

  std::string read;
  {
    PerfCounting perf;
    for (int n = 0; n < 100; ++n) {
      StatusOr<bool> found = (*db)->ReadCustomerBytes(0, "unknown-" + std::to_string(n), read);
      ASSERT_TRUE(found.ok());
      EXPECT_FALSE(*found);
    }
    // A filter may let an absent key through now and then (~1 % at 60 bits per key is far less).
    EXPECT_GE(perf.counts().bloom_memtable_miss_count, 95u);
  }
  {
    PerfCounting perf;
    StatusOr<bool> found = (*db)->ReadCustomerBytes(0, "c-7", read);
    ASSERT_TRUE(found.ok());
    EXPECT_TRUE(*found);
    EXPECT_EQ(read, value);
    EXPECT_EQ(perf.counts().bloom_memtable_hit_count, 1u);
    EXPECT_EQ(perf.counts().bloom_memtable_miss_count, 0u);
  }
}

}  // namespace
}  // namespace touchstream
