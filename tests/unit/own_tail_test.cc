// Keeping the restore hint current from the owner's acknowledged records (state/own_tail.h): at
// each of its commit markers the hint is the one a restore reading the whole log through that
// marker would leave, and an offset the owner did not see acknowledged stops the hints.
#include "state/own_tail.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "state/changelog_tail.h"
#include "tests/unit/changelog_log.h"

namespace touchstream::changelog {
namespace {

// Record `i` of `log` as the relay held it before producing it (the stamp, not its headers).
OutboxRecord Produced(const Log& log, size_t i) {
  const Record read = log.View(i);
  OutboxRecord record;
  record.set_topic("cl");
  record.set_partition(0);
  record.set_key(std::string(read.key));
  if (read.value) {
    record.set_value(std::string(*read.value));
  } else {
    record.set_null_value(true);
  }
  v1::state::ChangelogStamp* stamp = record.mutable_changelog_stamp();
  stamp->set_owner(std::string(read.owner));
  stamp->set_epoch(std::stoll(std::string(read.epoch)));
  stamp->set_seq(std::stoll(std::string(read.seq)));
  return record;
}

// The hint a restore that read records [0, last] of `log` (offset = index) would leave.
v1::state::RestoreHint HintOfAWholeRead(const Log& log, size_t last) {
  Replay whole;
  ScanRange(log, 0, last + 1, whole);
  Record read = log.View(last);
  read.offset = static_cast<int64_t>(last);
  v1::state::RestoreHint hint;
  NoteLastRecord(read, hint);
  *hint.mutable_summary() = whole.Summarize();
  return hint;
}

// Where a restore that read records [0, end) of `log` left the partition.
TailStart StartAt(const Log& log, size_t end) {
  Replay before;
  ScanRange(log, 0, end, before);
  return {static_cast<int64_t>(end), before.Summarize()};
}

bool IsCommitMarker(const Log& log, size_t i) {
  return log.View(i).key.starts_with(kCommitKeyPrefix);
}

TEST(OwnTailTest, AtEachCommitMarkerTheHintIsTheOneAWholeReadWouldLeave) {
  // a owns the partition and commits twice; b takes it over (its restore read a's records),
  // fences, commits three times, one of them an erasure.
  Log log;
  log.Fence("a", 1, "", 0, 0);
  log.Committed("a", 1, 10, {{"ann", 1}});
  log.Committed("a", 2, 20, {{"bob", 2}});
  const size_t b_fence = log.size();
  log.Fence("b", 2, "a", 2, 20);
  log.Committed("b", 1, 30, {{"ann", 3}, {"cy", 3}});
  log.Erased("b", 2, "bob");
  log.Commit("b", 2, 40);
  log.Committed("b", 3, 50, {{"dan", 5}});

  OwnTail tail(StartAt(log, b_fence));
  int hints = 0;
  for (size_t i = b_fence; i < log.size(); ++i) {
    const std::optional<v1::state::RestoreHint> hint =
        tail.Acknowledged(Produced(log, i), static_cast<int64_t>(i));
    if (!IsCommitMarker(log, i)) {
      EXPECT_FALSE(hint.has_value()) << "record " << i;
      continue;
    }
    ASSERT_TRUE(hint.has_value()) << "marker " << i;
    EXPECT_EQ(hint->SerializeAsString(), HintOfAWholeRead(log, i).SerializeAsString())
        << "marker " << i << ":\n"
        << hint->DebugString() << "against\n"
        << HintOfAWholeRead(log, i).DebugString();
    ++hints;
  }
  EXPECT_EQ(hints, 3);
  EXPECT_TRUE(tail.following());

  // A restart with the last hint reads only its record: the local commit is proven current.
  const v1::state::RestoreHint last = HintOfAWholeRead(log, log.size() - 1);
  PartitionCheckpoint local;
  local.set_owner("b");
  local.set_commit_seq(3);
  EXPECT_TRUE(ProveCurrent(last.summary(), Replay(), local).has_value());
}

TEST(OwnTailTest, AFreshPartitionsFirstOwnerGetsHintsFromItsFenceOn) {
  Log log;
  log.Fence("a", 1, "", 0, 0);
  log.Committed("a", 1, 10, {{"ann", 1}});
  log.Committed("a", 2, 20, {{"bob", 2}});
  OwnTail tail(StartAt(log, 0));
  std::optional<v1::state::RestoreHint> hint;
  for (size_t i = 0; i < log.size(); ++i) {
    if (auto h = tail.Acknowledged(Produced(log, i), static_cast<int64_t>(i))) hint = h;
  }
  ASSERT_TRUE(hint.has_value());
  EXPECT_EQ(hint->SerializeAsString(), HintOfAWholeRead(log, log.size() - 1).SerializeAsString());
}

// Another writer's records between the owner's (here a zombie's late commit after the takeover)
// take offsets the owner never sees acknowledged: it makes no hint past them, whatever follows.
TEST(OwnTailTest, AnOffsetNotAcknowledgedToTheOwnerStopsTheHints) {
  Log log;
  log.Fence("b", 1, "", 0, 0);
  log.Committed("b", 1, 10, {{"ann", 1}});
  const size_t c_fence = log.size();
  log.Fence("c", 2, "b", 1, 10);
  log.Committed("b", 2, 20, {{"ann", 99}});  // the zombie
  log.Committed("c", 1, 20, {{"bob", 2}});
  log.Committed("c", 2, 30, {{"cy", 3}});

  OwnTail tail(StartAt(log, c_fence));
  for (size_t i = c_fence; i < log.size(); ++i) {
    if (log.View(i).owner != "c") continue;  // not acknowledged to c
    EXPECT_FALSE(tail.Acknowledged(Produced(log, i), static_cast<int64_t>(i)).has_value())
        << "record " << i;
  }
  EXPECT_FALSE(tail.following());
}

TEST(OwnTailTest, AnAcknowledgementOutOfOrderStopsTheHints) {
  Log log;
  log.Fence("a", 1, "", 0, 0);
  log.Committed("a", 1, 10, {{"ann", 1}, {"bob", 1}});
  log.Committed("a", 2, 20, {{"cy", 2}});
  OwnTail tail(StartAt(log, 0));
  EXPECT_FALSE(tail.Acknowledged(Produced(log, 0), 0).has_value());
  EXPECT_FALSE(tail.Acknowledged(Produced(log, 2), 2).has_value());  // 1 not seen yet
  EXPECT_FALSE(tail.following());
  for (size_t i = 3; i < log.size(); ++i) {
    EXPECT_FALSE(tail.Acknowledged(Produced(log, i), static_cast<int64_t>(i)).has_value());
  }
}

}  // namespace
}  // namespace touchstream::changelog
