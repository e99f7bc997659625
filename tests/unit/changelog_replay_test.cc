// Changelog replay: which records count when owners change and zombies write late, and that a
// log the cleaner compacted restores the same state as the whole log.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "state/changelog.h"
#include "tests/unit/changelog_log.h"
#include "touchpoint.pb.h"

namespace touchstream::changelog {
namespace {

std::string Describe(const Restored& r) {
  std::string out = "{";
  for (const auto& [id, first_seen] : r.customers)
    out += id + ":" + std::to_string(first_seen) + " ";
  out += "} latest=";
  out += r.latest ? r.latest->owner() + "/" + std::to_string(r.latest->commit_seq()) + "@" +
                        std::to_string(r.latest->next_offset())
                  : "none";
  return out;
}

using Customers = std::map<std::string, int64_t>;

// The opening most tests share: a owns the partition from the start (epoch 1) and commits ann
// (first seen 1) as its commit 1, up to offset 10.
Log AnnCommittedByA() {
  Log log;
  log.Fence("a", 1, "", 0, 0);
  log.Committed("a", 1, 10, {{"ann", 1}});
  return log;
}

// b takes the partition over from a's commit 1 (epoch 2) and commits bob (first seen 2) as its
// commit 1, up to offset 20.
void BobCommittedByB(Log& log) {
  log.Fence("b", 2, "a", 1, 10);
  log.Committed("b", 1, 20, {{"bob", 2}});
}

// A record as the restorer reads it (a view: the arguments must outlive it); "": no header.
Record Consumed(std::string_view key, std::string_view value, std::string_view owner,
                std::string_view seq) {
  Record r;
  r.key = key;
  r.value = value;
  r.owner = owner;
  r.seq = seq;
  return r;
}

TEST(ChangelogReplayTest, AppliesCommittedRecordsOfTheOwner) {
  Log log;
  log.Fence("a", 1, "", 0, 0);
  log.Committed("a", 1, 10, {{"ann", 1}, {"bob", 2}});
  log.State("a", 2, "ann", 3);
  log.Erased("a", 2, "bob");
  log.Commit("a", 2, 20);
  const Restored r = log.Replayed();
  EXPECT_EQ(r.customers, (Customers{{"ann", 3}}));
  EXPECT_EQ(Describe(r), "{ann:3 } latest=a/2@20");
}

TEST(ChangelogReplayTest, RecordsWithoutTheirMarkerDoNotCount) {
  Log log = AnnCommittedByA();
  log.State("a", 2, "ann", 2);  // the commit's marker never made it
  log.State("a", 2, "bob", 2);
  EXPECT_EQ(Describe(log.Replayed()), "{ann:1 } latest=a/1@10");
}

TEST(ChangelogReplayTest, AValidStateRecordThatDoesNotParseIsFatalNotARebuild) {
  ChangelogMarker fence;
  fence.mutable_checkpoint()->set_owner("a");
  fence.set_epoch(1);
  ChangelogMarker commit;
  commit.mutable_checkpoint()->set_owner("a");
  commit.mutable_checkpoint()->set_commit_seq(1);
  const OutboxRecord fence_record = WithStampHeaders(FenceRecord("cl", 0, fence));
  OutboxRecord corrupt = WithStampHeaders(StateRecord("cl", 0, {"a", 1}, 1, "ann", nullptr));
  corrupt.set_null_value(false);
  corrupt.set_value("\x0a\xff\xff\xff\xff");  // field 1, a length past the end
  const OutboxRecord commit_record = WithStampHeaders(CommitRecord("cl", 0, {"a", 1}, commit));
  auto view = [](const OutboxRecord& r, int64_t offset) {
    Record out = RecordView(r);
    out.offset = offset;
    return out;
  };
  Replay replay;
  ASSERT_TRUE(replay.Scan(view(fence_record, 0)).ok());
  ASSERT_TRUE(replay.Scan(view(corrupt, 1)).ok());
  ASSERT_TRUE(replay.Scan(view(commit_record, 2)).ok());
  int applied = 0;
  const Status s = replay.Apply(view(corrupt, 1), [&](std::string_view, const std::string_view*,
                                                        const v1::state::CustomerState*) {
    ++applied;
    return Status::Ok();
  });
  EXPECT_EQ(s.code(), Status::Code::kInternal) << s.message();
  EXPECT_NE(s.message().find("offset 1"), std::string::npos) << s.message();
  EXPECT_EQ(applied, 0);
}

TEST(ChangelogReplayTest, EveryRecordCarriesItsWritersThreeHeadersAfterItsOwn) {
  std::string value = "state";
  OutboxRecord state = SerializedStateRecord("cl", 3, {"owner-1", 12}, 345, "ann", &value);
  state.add_headers()->set_key("other");
  std::vector<std::pair<std::string, std::string>> headers;
  ForEachStampHeader(state, [&](const std::string& name, std::string_view v) {
    headers.emplace_back(name, std::string(v));
  });
  const std::vector<std::pair<std::string, std::string>> stamp = {
      {kOwnerHeader, "owner-1"}, {kEpochHeader, "12"}, {kSeqHeader, "345"}};
  EXPECT_EQ(headers, stamp);
  const OutboxRecord consumed = WithStampHeaders(state);
  EXPECT_FALSE(consumed.has_changelog_stamp());
  ASSERT_EQ(consumed.headers_size(), 4);
  EXPECT_EQ(consumed.headers(0).key(), "other");
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(consumed.headers(i + 1).key(), stamp[i].first);
    EXPECT_EQ(consumed.headers(i + 1).value(), stamp[i].second);
  }
  EXPECT_EQ(consumed.value(), "state");
  // Markers and fences carry them too (a fence's seq is 0); a record without a stamp none.
  ChangelogMarker marker;
  marker.mutable_checkpoint()->set_owner("owner-1");
  marker.set_epoch(12);
  EXPECT_EQ(WithStampHeaders(FenceRecord("cl", 3, marker)).headers(2).value(), "0");
  marker.mutable_checkpoint()->set_commit_seq(9);
  EXPECT_EQ(WithStampHeaders(CommitRecord("cl", 3, {"owner-1", 12}, marker)).headers(2).value(),
            "9");
  headers.clear();
  ForEachStampHeader(OutboxRecord(), [&](const std::string& name, std::string_view v) {
    headers.emplace_back(name, std::string(v));
  });
  EXPECT_TRUE(headers.empty());
}

TEST(ChangelogReplayTest, EmptyLogHasNoLatest) {
  EXPECT_EQ(Describe(Log().Replayed()), "{} latest=none");
}

TEST(ChangelogReplayTest, HandoverKeepsBothOwnersCommits) {
  Log log = AnnCommittedByA();
  BobCommittedByB(log);  // b restored a's commit 1, then fenced
  EXPECT_EQ(Describe(log.Replayed()), "{ann:1 bob:2 } latest=b/1@20");
}

TEST(ChangelogReplayTest, ZombieCommitAfterTheTakeoverIsIgnored) {
  Log log = AnnCommittedByA();
  log.Fence("b", 2, "a", 1, 10);
  log.Committed("a", 2, 30, {{"ann", 99}});  // a lost the partition; its batch arrives late
  log.Committed("b", 1, 20, {{"bob", 2}});
  EXPECT_EQ(Describe(log.Replayed()), "{ann:1 bob:2 } latest=b/1@20");
}

TEST(ChangelogReplayTest, ZombieCommitBetweenTheNewOwnersRestoreAndFenceIsIgnored) {
  Log log = AnnCommittedByA();
  log.Committed("a", 2, 30, {{"ann", 99}});  // after b's restore read, before b's fence
  log.Fence("b", 2, "a", 1, 10);
  EXPECT_EQ(Describe(log.Replayed()), "{ann:1 } latest=b/0@10");
}

TEST(ChangelogReplayTest, AChainOfOwnersKeepsWhatEachSuccessorRestored) {
  Log log = AnnCommittedByA();
  BobCommittedByB(log);
  log.Committed("b", 2, 30, {{"cy", 3}});
  log.Fence("c", 3, "b", 2, 30);
  log.Committed("b", 3, 40, {{"bob", 99}});  // b, a zombie now
  log.Committed("c", 1, 50, {{"dan", 4}});
  EXPECT_EQ(Describe(log.Replayed()), "{ann:1 bob:2 cy:3 dan:4 } latest=c/1@50");
}

TEST(ChangelogReplayTest, AFenceWithALowerEpochIsIgnored) {
  Log log = AnnCommittedByA();
  BobCommittedByB(log);
  // c's restore began before a's fence arrived: it saw nothing, yet fenced later.
  log.Fence("c", 1, "", 0, 0);
  log.Committed("c", 1, 5, {{"cy", 3}});
  EXPECT_EQ(Describe(log.Replayed()), "{ann:1 bob:2 } latest=b/1@20");
}

TEST(ChangelogReplayTest, TiedEpochsTheLaterFenceWinsADocumentedLimit) {
  // c finished a restore of a's commit after the partition had moved to b: both fenced at
  // epoch 2 without seeing each other. The later fence in the log wins, here c's, and b's
  // commits are lost (state/changelog.h).
  Log log = AnnCommittedByA();
  BobCommittedByB(log);
  log.Fence("c", 2, "a", 1, 10);
  log.Committed("c", 1, 15, {{"cy", 3}});
  log.Committed("b", 2, 30, {{"bob", 4}});
  EXPECT_EQ(Describe(log.Replayed()), "{ann:1 cy:3 } latest=c/1@15");
}

TEST(ChangelogReplayTest, LatestIsTheFenceWhenTheNewOwnerHasNotCommitted) {
  Log log;
  log.Fence("a", 1, "", 0, 0);
  log.Commit("a", 1, 10);
  log.Fence("b", 2, "a", 1, 10);
  EXPECT_EQ(Describe(log.Replayed()), "{} latest=b/0@10");
}

// An owner writing its whole local state to a changelog that lacks it (TaskManager::Assign) fences
// with changelog_incomplete: its fence proves nothing until that first commit's marker.
TEST(ChangelogReplayTest, AFenceAwaitingItsWholeStateIsNoValidCommitUntilItsMarker) {
  Log log;
  log.Fence("b", 1, "a-of-the-old-topic", 7, 500, /*incomplete=*/true);
  log.State("b", 1, "ann", 1);
  log.State("b", 1, "bob", 2);
  EXPECT_EQ(Describe(log.Replayed()), "{} latest=none");
  log.Commit("b", 1, 500);
  EXPECT_EQ(Describe(log.Replayed()), "{ann:1 bob:2 } latest=b/1@500");
}

TEST(ChangelogReplayTest, CommitsWithoutAFenceOfTheirOwnerAreIgnored) {
  Log log;
  log.Committed("x", 1, 10, {{"ann", 1}});
  EXPECT_EQ(Describe(log.Replayed()), "{} latest=none");
}

TEST(ChangelogReplayTest, NextEpochIsOneMoreThanAnyFenceSeen) {
  Replay replay;
  EXPECT_EQ(replay.NextEpoch(), 1);
  ChangelogMarker m;
  m.mutable_checkpoint()->set_owner("a");
  m.set_epoch(7);
  const OutboxRecord fence = FenceRecord("cl", 0, m);
  ASSERT_TRUE(replay.Scan(Consumed(fence.key(), fence.value(), "a", "0")).ok());
  EXPECT_EQ(replay.NextEpoch(), 8);
}

TEST(ChangelogReplayTest, AnErasureIsATombstoneAndDeletes) {
  const OutboxRecord erased = StateRecord("cl", 0, {"a", 1}, 2, "bob", nullptr);
  EXPECT_TRUE(erased.null_value());
  EXPECT_EQ(erased.key(), "bob");
  Log log;
  log.Fence("a", 1, "", 0, 0);
  log.Committed("a", 1, 10, {{"bob", 1}});
  log.Erased("a", 2, "bob");
  log.Commit("a", 2, 20);
  EXPECT_EQ(Describe(log.Replayed()), "{} latest=a/2@20");
  // After the cleaner dropped the tombstone too, bob stays gone.
  EXPECT_EQ(Describe(log.Compacted(log.size(), true).Replayed()), "{} latest=a/2@20");
}

TEST(ChangelogReplayTest, MarkerKeysCannotBeCustomerIds) {
  const std::string commit_key(kCommitKeyPrefix);
  const std::string fence_key(kFenceKeyPrefix);
  EXPECT_EQ(commit_key[0], '\xFF');
  EXPECT_EQ(fence_key[0], '\xFF');
  // customer_id (field 2) holding the byte 0xFF: protobuf refuses the event (proto3 strings
  // are UTF-8), so it is dead-lettered and never becomes a customer.
  v1::TouchpointEvent event;
  EXPECT_FALSE(event.ParseFromString(std::string("\x12\x01\xff", 3)));
  EXPECT_TRUE(event.ParseFromString(std::string("\x12\x01\x7f", 3))) << "the control case";
}

TEST(ChangelogReplayTest, CustomerIdsEqualToTheOldMarkerKeysRestore) {
  // The previous format's marker keys: valid UTF-8, so valid customer ids.
  const std::string fence_like("\0touchstream.fence", 18);
  const std::string commit_like("\0touchstream.commit", 19);
  Log log;
  log.Fence("a", 1, "", 0, 0);
  log.Committed("a", 1, 10, {{fence_like, 1}, {commit_like, 2}});
  log.Fence("b", 2, "a", 1, 10);
  log.Committed("b", 1, 20, {{"bob", 3}});
  const Customers expected{{fence_like, 1}, {commit_like, 2}, {"bob", 3}};
  EXPECT_EQ(log.Replayed().customers, expected);
  EXPECT_EQ(log.Compacted(log.size(), false).Replayed().customers, expected);
}

TEST(ChangelogReplayTest, MalformedRecordsAreErrors) {
  Replay replay;
  EXPECT_FALSE(replay.Scan(Consumed(kCommitKeyPrefix, "\xff\xff garbage", "a", "1")).ok());
  // A state record of the previous format: no seq header.
  EXPECT_FALSE(replay.Scan(Consumed("ann", "", "a", "")).ok());
  const std::string unknown_marker =
      "\xFF"
      "touchstream.other";
  EXPECT_FALSE(replay.Scan(Consumed(unknown_marker, "", "a", "0")).ok());
}

TEST(ChangelogReplayTest, TheHistoryRestoresTheValidCommits) {
  Log log;
  BuildHistory(log);
  EXPECT_EQ(Describe(log.Replayed()), "{bob:7 cy:1 dan:4 eve:5 fay:7 } latest=c/1@70");
}

TEST(ChangelogReplayTest, CompactionOfTheOldPartRestoresTheSameState) {
  Log log;
  const size_t first_late = BuildHistory(log);
  const std::string whole = Describe(log.Replayed());
  // The cleaner reduces the part older than min.compaction.lag.ms; every late write is younger.
  for (size_t k = 0; k <= first_late; ++k) {
    for (bool drop_tombstones : {false, true}) {
      const Log compacted = log.Compacted(k, drop_tombstones);
      EXPECT_EQ(Describe(compacted.Replayed()), whole)
          << "compacted before record " << k << (drop_tombstones ? ", tombstones dropped" : "")
          << " (" << compacted.size() << " of " << log.size() << " records left)";
    }
  }
}

TEST(ChangelogReplayTest, CompactingPastAZombieWriteLosesTheCustomerADocumentedLimit) {
  // cy's last valid record (a's commit 1) is followed only by the zombie's write: once the
  // cleaner compacts past that write, cy's valid record is gone. This is why the changelog
  // needs min.compaction.lag.ms above the zombie window (README).
  Log log;
  const size_t first_late = BuildHistory(log);
  EXPECT_EQ(log.Compacted(first_late, false).Replayed().customers.count("cy"), 1u);
  const Restored past = log.Compacted(first_late + 1, false).Replayed();
  EXPECT_EQ(past.customers.count("cy"), 0u);
  EXPECT_EQ(Describe(past), "{bob:7 dan:4 eve:5 fay:7 } latest=c/1@70");
}

}  // namespace
}  // namespace touchstream::changelog
