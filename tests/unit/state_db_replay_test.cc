// A store's writes recorded and replayed (StateDb::set_write_recorder, StateDb::Replay), as
// BM_CommitWrites measures RocksDB's part of the commit path: a second store that replays every
// recorded batch, in order, holds what the first one does; nothing is recorded once the
// recorder is removed.
#include <gtest/gtest.h>

#include "state/commit_batch.h"
#include "state/state_db.h"
#include "tests/unit/test_dir.h"

namespace touchstream {
namespace {

class StateDbReplayTest : public ::testing::Test {
 protected:
  std::unique_ptr<StateDb> Open(const std::string& name) {
    auto db = StateDb::Open(dir_ / name, false);
    EXPECT_TRUE(db.ok()) << db.status().message();
    return db.ok() ? std::move(*db) : nullptr;
  }

  testing::TestDir dir_;
};

std::vector<std::pair<uint64_t, std::string>> Outbox(StateDb& db) {
  std::vector<std::pair<uint64_t, std::string>> records;
  EXPECT_TRUE(db.ForEachOutbox([&](uint64_t seq, const v1::state::OutboxRecord& r) {
                  records.emplace_back(seq, r.value());
                }).ok());
  return records;
}

TEST_F(StateDbReplayTest, AStoreThatReplaysTheRecordedBatchesHoldsTheSame) {
  std::unique_ptr<StateDb> written = Open("written");
  ASSERT_NE(written, nullptr);
  std::vector<std::string> recorded;
  written->set_write_recorder([&](const std::string& data) { recorded.push_back(data); });

  std::vector<uint64_t> seqs;
  for (int commit = 0; commit < 3; ++commit) {
    CommitBatch batch(*written);
    for (int i = 0; i < 20; ++i) {
      v1::state::OutboxRecord record;
      record.set_topic("triggers");
      record.set_value("commit " + std::to_string(commit) + " record " + std::to_string(i));
      seqs.push_back(batch.AddOutbox(record));
    }
    v1::state::PartitionCheckpoint checkpoint;
    checkpoint.set_next_offset(100 * (commit + 1));
    batch.PutCheckpoint("touchpoints", 0, checkpoint);
    ASSERT_TRUE(batch.Commit().ok());
  }
  // A run of delivered records (one range deletion) and a stray (a point deletion).
  ASSERT_TRUE(written->DeleteOutbox({seqs.begin(), seqs.begin() + 20}).ok());
  ASSERT_TRUE(written->DeleteOutbox({seqs[30]}).ok());
  ASSERT_EQ(recorded.size(), 5u);

  // Removed: the next write is not recorded.
  written->set_write_recorder(nullptr);
  ASSERT_TRUE(written->DeleteOutbox({seqs[31]}).ok());
  EXPECT_EQ(recorded.size(), 5u);

  std::unique_ptr<StateDb> replayed = Open("replayed");
  ASSERT_NE(replayed, nullptr);
  for (const std::string& data : recorded) ASSERT_TRUE(replayed->Replay(data).ok());

  std::vector<std::pair<uint64_t, std::string>> expected = Outbox(*written);
  // The unrecorded deletion is the one difference.
  expected.insert(expected.begin() + 10, {seqs[31], "commit 1 record 11"});
  EXPECT_EQ(Outbox(*replayed), expected);
  EXPECT_EQ(Outbox(*replayed).size(), 39u);
  auto checkpoint = replayed->ReadCheckpoint("touchpoints", 0);
  ASSERT_TRUE(checkpoint.ok());
  ASSERT_TRUE(checkpoint->has_value());
  EXPECT_EQ((*checkpoint)->next_offset(), 300);
}

TEST_F(StateDbReplayTest, BytesThatAreNoBatchAreAnError) {
  std::unique_ptr<StateDb> db = Open("db");
  ASSERT_NE(db, nullptr);
  EXPECT_FALSE(db->Replay("not a write batch").ok());
}

}  // namespace
}  // namespace touchstream
