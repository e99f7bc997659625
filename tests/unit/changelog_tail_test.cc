// Restoring from the changelog's tail: when the records after a restore's hint prove that the
// local state is still the latest valid commit, and that a proof agrees with the whole log.
#include "state/changelog_tail.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/unit/changelog_log.h"

namespace touchstream::changelog {
namespace {

std::string Describe(const std::optional<v1::state::ChangelogSummary>& s) {
  if (!s) return "unproven";
  return "head=" + s->head_owner() + "/" + std::to_string(s->head_seq()) +
         " epoch=" + std::to_string(s->head_epoch()) + " max=" + std::to_string(s->max_epoch());
}

PartitionCheckpoint Local(const std::string& owner, int64_t seq) {
  PartitionCheckpoint local;
  local.set_owner(owner);
  local.set_commit_seq(seq);
  return local;
}

// ProveCurrent with the hint after record `k` of `log` (the summary of [0, k), the tail from k).
std::optional<v1::state::ChangelogSummary> ProveAt(const Log& log, size_t k,
                                                   const PartitionCheckpoint& local) {
  Replay before;
  ScanRange(log, 0, k, before);
  Replay tail;
  ScanRange(log, k, log.size(), tail);
  return ProveCurrent(before.Summarize(), tail, local);
}

// a owns the partition (epoch 1) and commits 1 and 2; b takes it over from a's commit 2
// (epoch 2), then commits 1 and 2. Returns the index of b's fence.
size_t HandoverToB(Log& log) {
  log.Fence("a", 1, "", 0, 0);
  log.Committed("a", 1, 10, {{"ann", 1}});
  log.Committed("a", 2, 20, {{"bob", 2}});
  const size_t b_fence = log.size();
  log.Fence("b", 2, "a", 2, 20);
  log.Committed("b", 1, 30, {{"ann", 3}});
  log.Committed("b", 2, 40, {{"cy", 4}});
  return b_fence;
}

TEST(ChangelogTailTest, TheOwnersOwnFenceAndLatestCommitInTheTailProveItCurrent) {
  Log log;
  const size_t b_fence = HandoverToB(log);
  EXPECT_EQ(Describe(ProveAt(log, b_fence, Local("b", 2))), "head=b/2 epoch=2 max=2");
  EXPECT_EQ(Describe(ProveAt(log, b_fence, Local("b", 1))), "unproven");  // not b's latest
  EXPECT_EQ(Describe(ProveAt(log, b_fence, Local("a", 2))), "unproven");  // a was taken over
}

TEST(ChangelogTailTest, AnEmptyTailProvesTheEarlierHeadsLatestCommit) {
  Log log;
  HandoverToB(log);
  EXPECT_EQ(Describe(ProveAt(log, log.size(), Local("b", 2))), "head=b/2 epoch=2 max=2");
  EXPECT_EQ(Describe(ProveAt(log, log.size(), Local("b", 1))), "unproven");
  EXPECT_EQ(Describe(ProveAt(log, log.size(), Local("", 0))), "unproven");
}

TEST(ChangelogTailTest, ATakeoverInTheTailMeansTheLocalStateIsNotCurrent) {
  // b owns the partition at the hint; c takes over after it, then b, a zombie, commits on.
  Log log;
  const size_t b_fence = HandoverToB(log);
  const size_t hint = log.size();
  log.Fence("c", 3, "b", 2, 40);
  EXPECT_EQ(Describe(ProveAt(log, hint, Local("b", 2))), "unproven");
  log.Committed("b", 3, 50, {{"dan", 5}});
  EXPECT_EQ(Describe(ProveAt(log, hint, Local("b", 3))), "unproven");
  EXPECT_EQ(Describe(ProveAt(log, b_fence, Local("b", 3))), "unproven");
  EXPECT_EQ(Describe(ProveAt(log, hint, Local("c", 0))), "head=c/0 epoch=3 max=3");
}

TEST(ChangelogTailTest, AZombiesLowerEpochFenceInTheTailDoesNotUnseatTheHead) {
  // A fence of a lower epoch than the head's never leads, whatever comes after it.
  Log log;
  HandoverToB(log);
  const size_t hint = log.size();
  log.Fence("z", 1, "a", 1, 10);
  log.Committed("b", 3, 50, {{"dan", 5}});
  EXPECT_EQ(Describe(ProveAt(log, hint, Local("b", 3))), "head=b/3 epoch=2 max=2");
}

TEST(ChangelogTailTest, AReSentEarlierFenceInTheTailOnlyCostsTheWholeRead) {
  // a and b fenced at the same epoch; b's, the later, leads. A re-sent copy of a's fence after
  // the hint looks like a later fence: the tail cannot tell, and says no.
  Log log;
  log.Fence("a", 1, "", 0, 0);
  log.Fence("b", 1, "", 0, 0);
  log.Committed("b", 1, 10, {{"ann", 1}});
  const size_t hint = log.size();
  log.Fence("a", 1, "", 0, 0);
  Replay whole;
  ScanRange(log, 0, log.size(), whole);
  ASSERT_EQ(whole.Latest()->owner(), "b");
  EXPECT_EQ(Describe(ProveAt(log, hint, Local("b", 1))), "unproven");
}

TEST(ChangelogTailTest, AtEverySplitTheProofAgreesWithTheWholeLog) {
  // BuildHistory: three owners, a zombie writing after the takeover, an uncommitted tail.
  Log log;
  BuildHistory(log);
  Replay whole;
  ScanRange(log, 0, log.size(), whole);
  const PartitionCheckpoint latest = *whole.Latest();
  const v1::state::ChangelogSummary summary = whole.Summarize();
  ASSERT_EQ(Describe(summary), "head=c/1 epoch=3 max=3");
  for (size_t k = 0; k <= log.size(); ++k) {
    EXPECT_EQ(Describe(ProveAt(log, k, latest)), Describe(summary)) << "hint before record " << k;
    for (const PartitionCheckpoint& stale :
         {Local("c", 0), Local("c", 2), Local("b", 3), Local("b", 4), Local("a", 3)}) {
      EXPECT_EQ(Describe(ProveAt(log, k, stale)), "unproven")
          << stale.owner() << "/" << stale.commit_seq() << ", hint before record " << k;
    }
  }
}

TEST(ChangelogTailTest, ASummaryOfTheCompactedLogIsTheSame) {
  // The cleaner keeps offsets, fences and each owner's latest marker: a hint's summary stays
  // true of the same log compacted (the tail after it is then read compacted too).
  Log log;
  const size_t first_late = BuildHistory(log);
  Replay whole;
  ScanRange(log, 0, log.size(), whole);
  for (size_t k = 0; k <= first_late; ++k) {
    const Log compacted = log.Compacted(k, true);
    Replay replay;
    ScanRange(compacted, 0, compacted.size(), replay);
    EXPECT_EQ(Describe(replay.Summarize()), Describe(whole.Summarize()))
        << "compacted before " << k;
  }
}

TEST(ChangelogTailTest, TheHintNamesItsRecordByOffsetKeyHeadersAndValueSize) {
  Log log;
  HandoverToB(log);
  Record record = log.View(3);
  record.offset = 3;
  v1::state::RestoreHint hint;
  NoteLastRecord(record, hint);
  EXPECT_TRUE(IsLastRecord(hint, record));
  Record moved = record;
  moved.offset = 2;  // a renumbered copy
  EXPECT_FALSE(IsLastRecord(hint, moved));
  Record other = log.View(4);
  other.offset = 3;  // another record at that offset
  EXPECT_FALSE(IsLastRecord(hint, other));
  Record tombstone = record;
  tombstone.value.reset();
  EXPECT_FALSE(IsLastRecord(hint, tombstone));
}

TEST(ChangelogTailTest, LastRecordNamesTheRecordNotedLast) {
  Log log;
  HandoverToB(log);
  LastRecord last;
  v1::state::RestoreHint untouched;
  untouched.set_last_offset(7);
  last.WriteTo(untouched);  // nothing noted: the hint keeps its record
  EXPECT_EQ(untouched.last_offset(), 7);
  for (size_t i = 0; i < log.size(); ++i) {
    Record record = log.View(i);
    record.offset = static_cast<int64_t>(i);
    last.Note(record);
  }
  Record final_record = log.View(log.size() - 1);
  final_record.offset = static_cast<int64_t>(log.size() - 1);
  v1::state::RestoreHint expected;
  NoteLastRecord(final_record, expected);
  v1::state::RestoreHint hint;
  last.WriteTo(hint);
  EXPECT_EQ(hint.SerializeAsString(), expected.SerializeAsString());
  EXPECT_TRUE(IsLastRecord(hint, final_record));
  Record earlier = log.View(0);
  earlier.offset = 0;
  EXPECT_FALSE(IsLastRecord(hint, earlier));
}

}  // namespace
}  // namespace touchstream::changelog
