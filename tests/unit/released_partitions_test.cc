// The local copies of partitions this instance lost (state/released_partitions.h): never served
// by state-dump or /customers (StateDb::ForEachCustomer, FindCustomer), deleted after
// state.cleanup_delay unless the partition is owned again, and served again once it is.
#include "state/released_partitions.h"

#include <gtest/gtest.h>

#include "state/commit_batch.h"
#include "tests/unit/store_test.h"

namespace touchstream {
namespace {

class ReleasedPartitionsTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(StoreTest::SetUp());
    // amy in partition 0, bob in partition 1, each with a checkpoint.
    CommitBatch batch(*db_);
    for (const auto& [partition, id] : {std::pair{0, "amy"}, std::pair{1, "bob"}}) {
      v1::state::CustomerState state;
      state.set_customer_id(id);
      state.set_first_seen_ms(1);
      const std::string value = state.SerializeAsString();
      batch.PutCustomerValue(partition, id, &value);
      batch.PutCheckpoint("touchpoints", partition, v1::state::PartitionCheckpoint());
    }
    ASSERT_TRUE(batch.Commit().ok());
  }
  std::vector<std::string> Dumped() {
    std::vector<std::string> ids;
    EXPECT_TRUE(db_->ForEachCustomer(
                       [&](int32_t, v1::state::CustomerState s) { ids.push_back(s.customer_id()); })
                    .ok());
    return ids;
  }
  bool Found(const std::string& id) {
    auto found = db_->FindCustomer(id);
    EXPECT_TRUE(found.ok());
    return found.ok() && found->has_value();
  }
};

TEST_F(ReleasedPartitionsTest, AReleasedCopyIsNeverServed) {
  ASSERT_EQ(Dumped(), (std::vector<std::string>{"amy", "bob"}));
  ASSERT_TRUE(db_->MarkReleased({0}, 1000).ok());
  EXPECT_EQ(Dumped(), std::vector<std::string>{"bob"});
  EXPECT_FALSE(Found("amy"));
  EXPECT_TRUE(Found("bob"));
  // Still on disk (a quick reassignment reads only the changelog's tail) until deleted.
  EXPECT_TRUE(db_->ReadCustomer(0, "amy")->has_value());
}

// What a start releases (GroupMembership::ReleaseUnassigned): every partition holding customers
// or timers, each named once.
TEST_F(ReleasedPartitionsTest, StoredPartitionsAreThoseWithCustomersOrTimers) {
  CommitBatch batch(*db_);
  batch.PutTimer(7, TimerKey{5, "cy", "cart_1h"});
  batch.PutTimer(7, TimerKey{6, "cy", "cart_1h"});
  const std::string value = "x";
  batch.PutCustomerValue(0x10000, "dee", &value);  // a partition number over two bytes
  ASSERT_TRUE(batch.Commit().ok());
  EXPECT_EQ(*db_->StoredPartitions(), (std::vector<int32_t>{0, 1, 7, 0x10000}));
}

TEST_F(ReleasedPartitionsTest, TakenOverAgainItIsServedAgain) {
  ASSERT_TRUE(db_->MarkReleased({0}, 1000).ok());
  CommitBatch batch(*db_);
  batch.ClearReleased(0);
  ASSERT_TRUE(batch.Commit().ok());
  EXPECT_TRUE(Found("amy"));
  EXPECT_TRUE(db_->ReleasedPartitions()->empty());
}

TEST_F(ReleasedPartitionsTest, DeletedAfterTheDelayUnlessOwned) {
  ASSERT_TRUE(db_->MarkReleased({0, 1}, 1000).ok());
  auto none = [](int32_t) { return false; };
  // Not yet: 1 ms short of the delay.
  auto deleted = DeleteReleasedCopies(*db_, "touchpoints", 1000 + 599'999, 600'000, none);
  ASSERT_TRUE(deleted.ok());
  EXPECT_TRUE(deleted->empty());
  EXPECT_TRUE(db_->ReadCustomer(0, "amy")->has_value());

  // Partition 1 is owned again (its mark is cleared with the fence; here it is still set).
  deleted = DeleteReleasedCopies(*db_, "touchpoints", 1000 + 600'000, 600'000,
                                 [](int32_t p) { return p == 1; });
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, std::vector<int32_t>{0});
  EXPECT_FALSE(db_->ReadCustomer(0, "amy")->has_value());
  EXPECT_FALSE(db_->ReadCheckpoint("touchpoints", 0)->has_value());
  EXPECT_TRUE(db_->ReadCustomer(1, "bob")->has_value());
  EXPECT_EQ(db_->ReleasedPartitions()->count(0), 0u);
}

}  // namespace
}  // namespace touchstream
