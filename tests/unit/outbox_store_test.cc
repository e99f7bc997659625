// The outbox in the store (StateDb::DeleteOutbox): a delivered run of consecutive records goes as
// one range deletion, short runs and strays one by one; either way exactly the named records go
// and every other stays, across a reopen (the restart's recovery reads the outbox).
#include <gtest/gtest.h>

#include <numeric>

#include "state/commit_batch.h"
#include "state/state_db.h"
#include "tests/unit/store_test.h"

namespace touchstream {
namespace {

class OutboxStoreTest : public testing::StoreTest {
 protected:
  // Commits `count` outbox records; returns their seqs.
  std::vector<uint64_t> Commit(int count) {
    CommitBatch batch(*db_);
    std::vector<uint64_t> seqs;
    for (int i = 0; i < count; ++i) {
      v1::state::OutboxRecord record;
      record.set_topic("triggers");
      record.set_value("v" + std::to_string(i));
      seqs.push_back(batch.AddOutbox(record));
    }
    EXPECT_TRUE(batch.Commit().ok());
    return seqs;
  }
  std::vector<uint64_t> Pending() {
    std::vector<uint64_t> seqs;
    EXPECT_TRUE(db_->ForEachOutbox(
                       [&](uint64_t seq, const v1::state::OutboxRecord&) { seqs.push_back(seq); })
                    .ok());
    return seqs;
  }
};

TEST_F(OutboxStoreTest, DeletesExactlyTheDeliveredRecordsInRunsAndOneByOne) {
  const std::vector<uint64_t> seqs = Commit(100);
  // Delivered, out of order: a long run (0-39), strays (41, 43), another long run (50-79) and a
  // short one (90-92). A run is split where one record is missing (44 stays between 43 and 45).
  std::vector<uint64_t> delivered;
  for (int i = 79; i >= 50; --i) delivered.push_back(seqs[i]);
  for (int i = 0; i < 40; ++i) delivered.push_back(seqs[i]);
  for (int i : {41, 43, 45, 90, 91, 92}) delivered.push_back(seqs[i]);
  ASSERT_TRUE(db_->DeleteOutbox(delivered).ok());

  std::vector<uint64_t> expected;
  for (int i = 0; i < 100; ++i) {
    const bool gone =
        i < 40 || i == 41 || i == 43 || i == 45 || (i >= 50 && i < 80) || (i >= 90 && i <= 92);
    if (!gone) expected.push_back(seqs[i]);
  }
  EXPECT_EQ(Pending(), expected);
  Reopen();
  EXPECT_EQ(Pending(), expected) << "after a reopen";
  // Records committed after a range deletion are kept: the range ends at its last record.
  const std::vector<uint64_t> later = Commit(3);
  expected.insert(expected.end(), later.begin(), later.end());
  EXPECT_EQ(Pending(), expected);
}

}  // namespace
}  // namespace touchstream
