// Changelog replay: which commits count when owners change and zombies write late.
#include "state/changelog.h"

#include <gtest/gtest.h>

#include <map>

namespace touchstream::changelog {
namespace {

using v1::state::ChangelogMarker;
using v1::state::CustomerState;
using v1::state::OutboxRecord;

// Builds a changelog partition as the outbox would produce it, one offset per record.
class Log {
 public:
  void State(const std::string& owner, const std::string& customer, int64_t first_seen) {
    CustomerState state;
    state.set_customer_id(customer);
    state.set_first_seen_ms(first_seen);
    Add(StateRecord("cl", 0, owner, customer, &state));
  }
  void Erased(const std::string& owner, const std::string& customer) {
    Add(StateRecord("cl", 0, owner, customer, nullptr));
  }
  // Returns the marker's offset.
  int64_t Commit(const std::string& owner, int64_t seq, int64_t next_offset) {
    return Add(MarkerRecord("cl", 0, Marker(owner, seq, next_offset, 0), false));
  }
  int64_t Fence(const std::string& owner, int64_t next_offset, int64_t base_offset) {
    return Add(MarkerRecord("cl", 0, Marker(owner, 0, next_offset, base_offset), true));
  }
  int64_t end() const { return static_cast<int64_t>(records_.size()); }

  // Replays everything: customer -> first_seen_ms; and the latest checkpoint.
  std::map<std::string, int64_t> Replayed(std::optional<v1::state::PartitionCheckpoint>* latest =
                                              nullptr) const {
    Replay replay;
    for (const auto& r : records_) EXPECT_TRUE(replay.Scan(View(r)).ok());
    if (latest != nullptr) *latest = replay.Latest();
    std::map<std::string, int64_t> out;
    for (const auto& r : records_) {
      EXPECT_TRUE(replay
                      .Apply(View(r),
                             [&](const std::string& id, const std::string* value) {
                               if (value == nullptr) {
                                 out.erase(id);
                               } else {
                                 CustomerState s;
                                 EXPECT_TRUE(s.ParseFromString(*value));
                                 out[id] = s.first_seen_ms();
                               }
                               return Status::Ok();
                             })
                      .ok());
    }
    return out;
  }

 private:
  static ChangelogMarker Marker(const std::string& owner, int64_t seq, int64_t next_offset,
                                int64_t base) {
    ChangelogMarker m;
    m.mutable_checkpoint()->set_owner(owner);
    m.mutable_checkpoint()->set_commit_seq(seq);
    m.mutable_checkpoint()->set_next_offset(next_offset);
    m.set_base_offset(base);
    return m;
  }
  int64_t Add(OutboxRecord record) {
    records_.push_back(std::move(record));
    return end() - 1;
  }
  Record View(const OutboxRecord& r) const {
    Record out;
    out.offset = &r - records_.data();
    out.key = r.key();
    out.value = r.value();
    for (const auto& h : r.headers()) {
      if (h.key() == kOwnerHeader) out.owner = h.value();
      if (h.key() == kMarkerHeader) out.marker = h.value();
    }
    return out;
  }
  std::vector<OutboxRecord> records_;
};

TEST(ChangelogReplayTest, AppliesCommittedRecordsOfTheOwner) {
  Log log;
  log.Fence("a", 0, 0);
  log.State("a", "ann", 1);
  log.State("a", "bob", 2);
  log.Commit("a", 1, 10);
  log.State("a", "ann", 3);
  log.Erased("a", "bob");
  log.Commit("a", 2, 20);
  std::optional<v1::state::PartitionCheckpoint> latest;
  EXPECT_EQ(log.Replayed(&latest), (std::map<std::string, int64_t>{{"ann", 3}}));
  ASSERT_TRUE(latest.has_value());
  EXPECT_EQ(latest->owner(), "a");
  EXPECT_EQ(latest->commit_seq(), 2);
  EXPECT_EQ(latest->next_offset(), 20);
}

TEST(ChangelogReplayTest, RecordsAfterTheLastMarkerDoNotCount) {
  Log log;
  log.Fence("a", 0, 0);
  log.State("a", "ann", 1);
  log.Commit("a", 1, 10);
  log.State("a", "ann", 2);  // the commit's marker never made it
  std::optional<v1::state::PartitionCheckpoint> latest;
  EXPECT_EQ(log.Replayed(&latest), (std::map<std::string, int64_t>{{"ann", 1}}));
  EXPECT_EQ(latest->next_offset(), 10);
}

TEST(ChangelogReplayTest, EmptyLogHasNoLatest) {
  Log log;
  std::optional<v1::state::PartitionCheckpoint> latest;
  EXPECT_TRUE(log.Replayed(&latest).empty());
  EXPECT_FALSE(latest.has_value());
}

TEST(ChangelogReplayTest, HandoverKeepsBothOwnersCommits) {
  Log log;
  log.Fence("a", 0, 0);
  log.State("a", "ann", 1);
  log.Commit("a", 1, 10);
  log.Fence("b", 10, log.end());  // b restored everything, then fenced
  log.State("b", "bob", 2);
  log.Commit("b", 1, 20);
  std::optional<v1::state::PartitionCheckpoint> latest;
  EXPECT_EQ(log.Replayed(&latest), (std::map<std::string, int64_t>{{"ann", 1}, {"bob", 2}}));
  EXPECT_EQ(latest->owner(), "b");
}

TEST(ChangelogReplayTest, ZombieCommitAfterTheTakeoverIsIgnored) {
  Log log;
  log.Fence("a", 0, 0);
  log.State("a", "ann", 1);
  log.Commit("a", 1, 10);
  log.Fence("b", 10, log.end());
  log.State("a", "ann", 99);  // a lost the partition but its batch arrives late
  log.Commit("a", 2, 30);
  log.State("b", "bob", 2);
  log.Commit("b", 1, 20);
  std::optional<v1::state::PartitionCheckpoint> latest;
  EXPECT_EQ(log.Replayed(&latest), (std::map<std::string, int64_t>{{"ann", 1}, {"bob", 2}}));
  EXPECT_EQ(latest->owner(), "b");
  EXPECT_EQ(latest->next_offset(), 20);
}

TEST(ChangelogReplayTest, ZombieCommitInTheNewOwnersBlindSpotIsIgnored) {
  Log log;
  log.Fence("a", 0, 0);
  log.State("a", "ann", 1);
  log.Commit("a", 1, 10);
  const int64_t b_restored_up_to = log.end();
  log.State("a", "ann", 99);  // lands after b's restore read, before b's fence
  log.Commit("a", 2, 30);
  log.Fence("b", 10, b_restored_up_to);
  std::optional<v1::state::PartitionCheckpoint> latest;
  EXPECT_EQ(log.Replayed(&latest), (std::map<std::string, int64_t>{{"ann", 1}}));
  EXPECT_EQ(latest->owner(), "b");
  EXPECT_EQ(latest->next_offset(), 10);
}

TEST(ChangelogReplayTest, FenceOfARestoreThatMissedATakeoverIsIgnored) {
  Log log;
  log.Fence("a", 0, 0);
  log.State("a", "ann", 1);
  log.Commit("a", 1, 10);
  const int64_t c_restored_up_to = log.end();
  log.Fence("b", 10, log.end());
  log.State("b", "bob", 2);
  log.Commit("b", 1, 20);
  log.Fence("c", 10, c_restored_up_to);  // c's restore did not see b's takeover: a zombie
  log.State("c", "cy", 3);
  log.Commit("c", 1, 15);
  log.State("b", "bob", 4);
  log.Commit("b", 2, 30);
  std::optional<v1::state::PartitionCheckpoint> latest;
  EXPECT_EQ(log.Replayed(&latest), (std::map<std::string, int64_t>{{"ann", 1}, {"bob", 4}}));
  EXPECT_EQ(latest->owner(), "b");
  EXPECT_EQ(latest->commit_seq(), 2);
}

TEST(ChangelogReplayTest, LatestIsTheFenceWhenTheNewOwnerHasNotCommitted) {
  Log log;
  log.Fence("a", 0, 0);
  log.Commit("a", 1, 10);
  log.Fence("b", 10, log.end());
  std::optional<v1::state::PartitionCheckpoint> latest;
  log.Replayed(&latest);
  EXPECT_EQ(latest->owner(), "b");
  EXPECT_EQ(latest->commit_seq(), 0);
}

TEST(ChangelogReplayTest, CommitsWithoutAFenceOfTheirOwnerAreIgnored) {
  Log log;
  log.State("x", "ann", 1);
  log.Commit("x", 1, 10);
  EXPECT_TRUE(log.Replayed().empty());
}

TEST(ChangelogReplayTest, GarbageMarkerIsAnError) {
  Replay replay;
  Record r;
  r.marker = kCommit;
  r.value = "\xff\xff garbage";
  EXPECT_FALSE(replay.Scan(r).ok());
}

}  // namespace
}  // namespace touchstream::changelog
