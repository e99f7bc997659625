// Reading the customers family in key order (StateDb::ForEachEntryOf, ForEachCustomer,
// FindCustomer) finds every customer wherever it is: in the files, in the memtable, or both.
// (Written for the forty-third session's hashed memtables, not kept: with them an iterator that
// did not ask for the total order found, after a seek to a partition's first key, that key
// alone; benchmarks/RESULTS.md.)
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "state/commit_batch.h"
#include "state/state_db.h"
#include "tests/unit/store_test.h"

namespace touchstream {
namespace {

class StateDbIterationTest : public testing::StoreTest {
 protected:
  void Put(int32_t partition, const std::vector<std::string>& customer_ids) {
    CommitBatch batch(*db_);
    for (const std::string& id : customer_ids) {
      v1::state::CustomerState state;
      state.set_customer_id(id);
      const std::string value = state.SerializeAsString();
      batch.PutCustomerValue(partition, id, &value);
    }
    ASSERT_TRUE(batch.Commit().ok());
  }
  std::vector<std::string> EntriesOf(int32_t partition) {
    std::vector<std::string> keys;
    Status s =
        db_->ForEachEntryOf(partition, [&](const std::string& key, v1::state::CustomerState state) {
          EXPECT_EQ(state.customer_id(), key);
          keys.push_back(key);
          return Status::Ok();
        });
    EXPECT_TRUE(s.ok()) << s.message();
    return keys;
  }
  // The customers the tests below expect: some only in the files, some only in the memtable,
  // some in both (written again after the flush).
  void PutAcrossFilesAndMemtable() {
    Put(0, {"a0", "b0"});
    Put(1, {"a1", "c1", "e1"});
    Put(2, {"a2"});
    ASSERT_TRUE(db_->CompactAll().ok());  // in the files now, the memtables empty
    Put(1, {"b1", "c1", "d1"});
    Put(2, {"b2"});
    Put(3, {"a3"});
  }
};

TEST_F(StateDbIterationTest, APartitionsEntriesAreFoundInTheFilesAndTheMemtableInKeyOrder) {
  PutAcrossFilesAndMemtable();
  EXPECT_EQ(EntriesOf(0), (std::vector<std::string>{"a0", "b0"}));
  EXPECT_EQ(EntriesOf(1), (std::vector<std::string>{"a1", "b1", "c1", "d1", "e1"}));
  EXPECT_EQ(EntriesOf(2), (std::vector<std::string>{"a2", "b2"}));
  EXPECT_EQ(EntriesOf(3), (std::vector<std::string>{"a3"}));
  EXPECT_EQ(EntriesOf(4), std::vector<std::string>());
  // The memtable alone (nothing flushed yet), as a restore reads back what it just wrote.
  Reopen();
  Put(5, {"z5", "y5", "x5"});
  EXPECT_EQ(EntriesOf(5), (std::vector<std::string>{"x5", "y5", "z5"}));
}

TEST_F(StateDbIterationTest, EveryCustomerIsFoundInPartitionAndKeyOrder) {
  PutAcrossFilesAndMemtable();
  std::vector<std::pair<int32_t, std::string>> all;
  Status s = db_->ForEachCustomer([&](int32_t partition, v1::state::CustomerState state) {
    all.emplace_back(partition, state.customer_id());
  });
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(all, (std::vector<std::pair<int32_t, std::string>>{{0, "a0"},
                                                               {0, "b0"},
                                                               {1, "a1"},
                                                               {1, "b1"},
                                                               {1, "c1"},
                                                               {1, "d1"},
                                                               {1, "e1"},
                                                               {2, "a2"},
                                                               {2, "b2"},
                                                               {3, "a3"}}));
}

TEST_F(StateDbIterationTest, ACustomerIsFoundInWhicheverPartitionHoldsIt) {
  PutAcrossFilesAndMemtable();
  for (const auto& [id, partition] : std::vector<std::pair<std::string, int32_t>>{
           {"b0", 0}, {"e1", 1}, {"d1", 1}, {"b2", 2}, {"a3", 3}}) {
    auto found = db_->FindCustomer(id);
    ASSERT_TRUE(found.ok()) << found.status().message();
    ASSERT_TRUE(found->has_value()) << id;
    EXPECT_EQ((*found)->first, partition) << id;
    EXPECT_EQ((*found)->second.customer_id(), id);
  }
  auto missing = db_->FindCustomer("nobody");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

}  // namespace
}  // namespace touchstream
