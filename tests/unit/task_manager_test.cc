// The per-partition tasks and their commit, in process through the test driver: the hybrid clock,
// and what one commit holds (state, checkpoint, outbox: triggers, dead letters, changelog records
// closed by a marker).
#include "processor/run/task_manager.h"

#include <map>

#include "audit.pb.h"
#include "processor/core/memory_store.h"
#include "processor/rules/cart_abandonment_rule.h"
#include "state/changelog.h"
#include "tests/driver/driver_test.h"
#include "tests/unit/changelog_log.h"
#include "tests/unit/test_rules.h"

namespace touchstream {
namespace {

using testing::Event;
using testing::kT0;
using testing::WithItem;

class TaskManagerTest : public testing::DriverTest {
 protected:
  void Start(ClockMode clock, TimeMs wall_ms = kT0) {
    testing::DriverOptions options;
    options.clock = clock;
    options.wall_ms = wall_ms;
    Start(options);
  }
  // One rule, cart_1h: a cart left for an hour.
  void Start(const testing::DriverOptions& options) {
    RuleSet rules = testing::CartRule();
    DriverTest::Start(std::move(rules), options);
  }
  static v1::TouchpointEvent Add(const std::string& id, const std::string& customer, TimeMs t) {
    return WithItem(Event(id, customer, t, v1::EVENT_TYPE_ADD_TO_CART), "sku", 1, 1000);
  }
  static std::string Header(const v1::state::OutboxRecord& r, const std::string& key) {
    for (const auto& h : r.headers()) {
      if (h.key() == key) return h.value();
    }
    return "";
  }
};

TEST_F(TaskManagerTest, HybridClockFiresAnAbsenceTriggerOnAQuietPartition) {
  Start(ClockMode::kHybrid);
  EXPECT_EQ(Process(Add("e1", "amy", kT0)), V{});
  EXPECT_EQ(driver_->AdvanceWallClock(59 * kMinuteMs).size(), 0u);
  const std::vector<v1::Trigger> fired = driver_->AdvanceWallClock(kMinuteMs);
  ASSERT_EQ(testing::Describe(fired), V{"CART_ABANDONED cart_1h amy @+3600s"});
  EXPECT_EQ(driver_->task()->watermark_ms(), kT0 + kHourMs);
  // The firing is committed with the partition's clock.
  EXPECT_EQ(driver_->ReadCheckpoint()->watermark_ms(), kT0 + kHourMs);
}

// touchstream_triggers_emitted_total counts triggers committed to the outbox: one fired into a
// batch that is dropped uncommitted (a lost assignment, a rebuild, a disk pause) is not counted,
// and counts once when the batch is processed again and committed.
TEST_F(TaskManagerTest, TriggersAreCountedWhenCommittedNotWhenFired) {
  Start(ClockMode::kEventTime);
  Process(Add("e1", "amy", kT0));
  prometheus::Counter& emitted =
      driver_->metrics().triggers_emitted("cart_1h", v1::TRIGGER_TYPE_CART_ABANDONED);
  TaskManager& tasks = driver_->task_manager();
  ASSERT_TRUE(tasks.AdvanceEventTime(kT0 + 2 * kHourMs).ok());
  EXPECT_EQ(emitted.Value(), 0) << "fired into the batch, not committed";
  ASSERT_TRUE(tasks.Commit(TaskTime{kT0 + 2 * kHourMs}).ok());
  EXPECT_EQ(emitted.Value(), 1);
}

TEST_F(TaskManagerTest, ALocalClockAYearAheadFiresNothingEarly) {
  Start(ClockMode::kHybrid);
  Process(Add("e1", "amy", kT0));
  // The local clock jumps a year ahead; the producers' clock and the monotonic time do not.
  EXPECT_EQ(driver_->StepLocalClock(365 * kDayMs).size(), 0u);
  EXPECT_LT(driver_->task()->watermark_ms(), kT0 + kHourMs);
  EXPECT_LT(driver_->ReadCheckpoint()->watermark_ms(), kT0 + kHourMs);
  // Real time still fires the absence trigger when it is due, and no earlier.
  EXPECT_EQ(driver_->AdvanceWallClock(59 * kMinuteMs).size(), 0u);
  EXPECT_EQ(testing::Describe(driver_->AdvanceWallClock(kMinuteMs)),
            V{"CART_ABANDONED cart_1h amy @+3600s"});
}

TEST_F(TaskManagerTest, ALocalClockAYearBehindDeadLettersNoLiveEvent) {
  Start(ClockMode::kHybrid);
  Process(Add("e1", "amy", kT0));
  driver_->StepLocalClock(-365 * kDayMs);
  // Live events, stamped by their producers' clocks, are not "in the future".
  Process(Add("e2", "bob", kT0 + kMinuteMs));
  EXPECT_TRUE(driver_->DeadLetters().empty());
  EXPECT_TRUE(driver_->ReadState("bob").has_value());
  // The idle clock waits for the local clock instead of running ahead of it.
  EXPECT_EQ(driver_->AdvanceWallClock(2 * kHourMs).size(), 0u);
  EXPECT_EQ(driver_->StepLocalClock(365 * kDayMs).size(), 2u);
}

TEST_F(TaskManagerTest, TheLoopWakesWhenTheEarliestTimerOfACaughtUpPartitionIsDue) {
  Start(ClockMode::kHybrid);
  Process(Add("e1", "amy", kT0));
  // A partition with input still to read follows its events, not the wall clock: no wake-up.
  EXPECT_EQ(driver_->MsUntilPunctuation(), std::nullopt);
  EXPECT_TRUE(driver_->AdvanceWallClock(10 * kMinuteMs).empty());
  EXPECT_EQ(driver_->MsUntilPunctuation(), 50 * kMinuteMs);
  Process(Add("e2", "bob", kT0 + 10 * kMinuteMs));
  EXPECT_TRUE(driver_->AdvanceWallClock(20 * kMinuteMs).empty());
  EXPECT_EQ(driver_->MsUntilPunctuation(), 30 * kMinuteMs);  // amy's, not bob's
  EXPECT_EQ(testing::Describe(driver_->AdvanceWallClock(30 * kMinuteMs)),
            V{"CART_ABANDONED cart_1h amy @+3600s"});
  EXPECT_EQ(driver_->MsUntilPunctuation(), 10 * kMinuteMs);
  EXPECT_EQ(driver_->AdvanceWallClock(10 * kMinuteMs).size(), 1u);
  EXPECT_EQ(driver_->MsUntilPunctuation(), std::nullopt);  // nothing left to fire
}

TEST_F(TaskManagerTest, ALocalClockAheadDoesNotMakeATimerDueEarly) {
  Start(ClockMode::kHybrid);
  Process(Add("e1", "amy", kT0));
  driver_->AdvanceWallClock(0);
  EXPECT_EQ(driver_->MsUntilPunctuation(), kHourMs);
  // The wake-up follows the hybrid clock's limit, as the punctuation does.
  driver_->StepLocalClock(365 * kDayMs);
  EXPECT_EQ(driver_->MsUntilPunctuation(), kHourMs);
}

// A forwarded record's own timestamp is its forwarder's clock (here a year ahead): the hybrid
// clock follows its input record's CreateTime, which it names in a header, or an instance whose
// clock jumped would move every idle partition's clock with the records it forwards itself.
TEST_F(TaskManagerTest, AForwardedRecordsOwnTimestampDoesNotMoveTheHybridClock) {
  testing::DriverOptions options;
  options.clock = ClockMode::kHybrid;
  options.wall_ms = kT0;
  options.partitions = 2;
  Start(options);
  const int32_t amys = driver_->OwnerOf("amy");
  driver_->Pipe(Add("e1", "amy", kT0), amys);
  driver_->AdvanceWallClock(0);
  ASSERT_EQ(driver_->MsUntilPunctuation(), kHourMs);
  driver_->StepLocalClock(365 * kDayMs);
  // Read by the partition that does not own bob: forwarded, stamped with the local clock.
  const int32_t not_bobs = 1 - driver_->OwnerOf("bob");
  EXPECT_TRUE(driver_->Pipe(Event("v1", "bob", kT0 + kMinuteMs, v1::EVENT_TYPE_PAGE_VIEW), not_bobs)
                  .empty());
  ASSERT_TRUE(driver_->status().ok()) << driver_->status().message();
  EXPECT_TRUE(driver_->ReadState("bob", driver_->OwnerOf("bob")).has_value());
  EXPECT_EQ(driver_->MsUntilPunctuation(), kHourMs)
      << "the idle clock follows the producers' clock, not the forwarder's";
  EXPECT_TRUE(driver_->AdvanceWallClock(0).empty());
}

TEST_F(TaskManagerTest, TheWakeUpWaitsOutTheAllowedLateness) {
  testing::DriverOptions options;
  options.clock = ClockMode::kHybrid;
  options.wall_ms = kT0;
  options.allowed_lateness_ms = 5 * kMinuteMs;
  Start(options);
  Process(Add("e1", "amy", kT0));
  driver_->AdvanceWallClock(0);
  EXPECT_EQ(driver_->MsUntilPunctuation(), kHourMs + 5 * kMinuteMs);
  EXPECT_TRUE(driver_->AdvanceWallClock(kHourMs + 5 * kMinuteMs - 1).empty());
  EXPECT_EQ(driver_->MsUntilPunctuation(), 1);
  EXPECT_EQ(driver_->AdvanceWallClock(1).size(), 1u);
}

TEST_F(TaskManagerTest, InEventTimeModeNoTimerWakesTheLoop) {
  Start(ClockMode::kEventTime);
  Process(Add("e1", "amy", kT0));
  driver_->AdvanceWallClock(0);
  EXPECT_EQ(driver_->MsUntilPunctuation(), std::nullopt);
}

TEST_F(TaskManagerTest, EventTimeModeIgnoresTheWallClock) {
  Start(ClockMode::kEventTime);
  Process(Add("e1", "amy", kT0));
  EXPECT_EQ(driver_->AdvanceWallClock(2 * kHourMs).size(), 0u);
  EXPECT_EQ(AdvanceTo(kT0 + kHourMs), V{"CART_ABANDONED cart_1h amy @+3600s"});
}

TEST_F(TaskManagerTest, APartitionStillReadingDoesNotFollowTheWallClock) {
  // Catching up on input two hours old: until the end of the input is reached, the events move the
  // clock, not the wall clock (a purchase further on may still cancel the cart).
  Start(ClockMode::kHybrid, kT0 + 2 * kHourMs);
  EXPECT_EQ(Process(Add("e1", "amy", kT0)), V{});
  EXPECT_EQ(Process(Add("e2", "bob", kT0 + kMinuteMs)), V{});
  EXPECT_EQ(driver_->task()->watermark_ms(), kT0 + kMinuteMs);
  // Caught up: now the partition follows the wall clock.
  EXPECT_EQ(testing::Describe(driver_->AdvanceWallClock(0)),
            (V{"CART_ABANDONED cart_1h amy @+3600s", "CART_ABANDONED cart_1h bob @+3660s"}));
}

TEST_F(TaskManagerTest, AnIdleTickThatFiresNothingWritesNoCommit) {
  Start(ClockMode::kHybrid);
  Process(Add("e1", "amy", kT0));
  const size_t changelog = driver_->ChangelogRecords().size();
  const int64_t seq = driver_->ReadCheckpoint()->commit_seq();
  driver_->AdvanceWallClock(kMinuteMs);
  driver_->AdvanceWallClock(kMinuteMs);
  EXPECT_EQ(driver_->ChangelogRecords().size(), changelog);
  EXPECT_EQ(driver_->ReadCheckpoint()->commit_seq(), seq);
}

TEST_F(TaskManagerTest, ACommitHoldsStateCheckpointChangelogAndMarker) {
  Start(ClockMode::kEventTime);
  Process(Add("e1", "amy", kT0));
  const std::optional<CustomerState> amy = driver_->ReadState("amy");
  ASSERT_TRUE(amy.has_value());
  EXPECT_EQ(amy->cart().lines_size(), 1);
  const std::optional<v1::state::PartitionCheckpoint> checkpoint = driver_->ReadCheckpoint();
  ASSERT_TRUE(checkpoint.has_value());
  EXPECT_EQ(checkpoint->next_offset(), 1);
  EXPECT_EQ(checkpoint->commit_seq(), 1);

  // The assignment's fence, then amy's state record, then the marker that
  // closes the commit; each names its writer (owner, epoch, commit seq).
  const std::vector<v1::state::OutboxRecord> changelog = driver_->ChangelogRecords();
  ASSERT_EQ(changelog.size(), 3u);
  const std::string owner = checkpoint->owner();
  EXPECT_EQ(changelog[0].key(), std::string(changelog::kFenceKeyPrefix) + owner);
  EXPECT_EQ(Header(changelog[0], changelog::kSeqHeader), "0");
  EXPECT_EQ(Header(changelog[0], changelog::kEpochHeader), "1");
  v1::state::ChangelogMarker fence;
  ASSERT_TRUE(fence.ParseFromString(changelog[0].value()));
  EXPECT_EQ(fence.epoch(), 1);
  EXPECT_EQ(fence.prev_owner(), "");  // a fresh partition: no commit to resume from
  EXPECT_EQ(changelog[1].key(), "amy");
  EXPECT_EQ(Header(changelog[1], changelog::kOwnerHeader), owner);
  EXPECT_EQ(Header(changelog[1], changelog::kEpochHeader), "1");
  EXPECT_EQ(Header(changelog[1], changelog::kSeqHeader), "1");
  CustomerState logged;
  ASSERT_TRUE(logged.ParseFromString(changelog[1].value()));
  EXPECT_EQ(logged.SerializeAsString(), amy->SerializeAsString());
  EXPECT_EQ(changelog[2].key(), std::string(changelog::kCommitKeyPrefix) + owner);
  EXPECT_EQ(Header(changelog[2], changelog::kSeqHeader), "1");
  v1::state::ChangelogMarker marker;
  ASSERT_TRUE(marker.ParseFromString(changelog[2].value()));
  EXPECT_EQ(marker.checkpoint().SerializeAsString(), checkpoint->SerializeAsString());
}

TEST_F(TaskManagerTest, ChangelogRecordsAreRelayedInOrderButNeverStored) {
  // A restart drops undelivered changelog records (it restores from the changelog's last commit
  // and processes the input after it again): only what a restart sends is stored.
  Start(ClockMode::kEventTime);
  Process(Add("e1", "amy", kT0));
  ASSERT_EQ(testing::Describe(driver_->AdvanceEventTime(kT0 + 2 * kHourMs)),
            V{"CART_ABANDONED cart_1h amy @+3600s"});
  const std::set<std::string> stored = driver_->StoredOutboxTopics();
  EXPECT_EQ(stored.count(driver_->config().triggers.name), 1u);
  EXPECT_EQ(stored.count(driver_->config().changelog.name), 0u);
  // Delivered all the same: the fence, amy's state and a marker per commit.
  EXPECT_GE(driver_->ChangelogRecords().size(), 5u);
}

TEST_F(TaskManagerTest, UnderExactlyOnceNothingIsStoredInTheOutbox) {
  // exactly_once's restart drops the outbox (init_transactions aborts what was open, the restore
  // rewinds to the changelog's last commit): storing the triggers would only cost a write and a
  // delete each.
  testing::DriverOptions options;
  options.clock = ClockMode::kEventTime;
  options.resends_stored_outbox = false;
  Start(options);
  Process(Add("e1", "amy", kT0));
  ASSERT_EQ(testing::Describe(driver_->AdvanceEventTime(kT0 + 2 * kHourMs)),
            V{"CART_ABANDONED cart_1h amy @+3600s"});
  EXPECT_EQ(driver_->StoredOutboxTopics(), std::set<std::string>());
  EXPECT_EQ(driver_->Delivered(driver_->config().triggers.name).size(), 1u);
}

TEST_F(TaskManagerTest, AnErasureIsATombstoneInTheChangelog) {
  Start(ClockMode::kEventTime);
  Process(Add("e1", "amy", kT0));
  Process(Event("e2", "amy", kT0 + kMinuteMs, v1::EVENT_TYPE_ERASURE_REQUEST));
  EXPECT_FALSE(driver_->ReadState("amy").has_value());
  const std::vector<v1::state::OutboxRecord> changelog = driver_->ChangelogRecords();
  ASSERT_EQ(changelog.size(), 5u);  // fence, amy, commit 1, amy erased, commit 2
  EXPECT_EQ(changelog[3].key(), "amy");
  EXPECT_TRUE(changelog[3].null_value()) << "compaction keeps an empty value forever";
  EXPECT_EQ(Header(changelog[3], changelog::kSeqHeader), "2");
}

// What a restore from `records` (a changelog partition in log order) brings back: each
// customer's (or erasure memory's) state, and the checkpoint.
struct Replayed {
  std::map<std::string, std::string> entries;  // key -> the state's bytes
  std::optional<v1::state::PartitionCheckpoint> latest;
};
Replayed Replay(const std::vector<v1::state::OutboxRecord>& records) {
  changelog::Replay replay;
  for (const auto& r : records) EXPECT_TRUE(replay.Scan(changelog::RecordView(r)).ok());
  Replayed out;
  out.latest = replay.Latest();
  for (const auto& r : records) {
    EXPECT_TRUE(
        replay
            .Apply(changelog::RecordView(r),
                   [&](std::string_view key, const std::string_view* value, const CustomerState*) {
                     if (value == nullptr) {
                       out.entries.erase(std::string(key));
                     } else {
                       out.entries[std::string(key)] = std::string(*value);
                     }
                     return Status::Ok();
                   })
            .ok());
  }
  return out;
}

// The changelog topic recreated empty (README, "Scale-out and the changelog") while the instance
// keeps its local state: its restore finds no valid commit and keeps the state, flagged
// (ChangelogRestorer); the new owner then writes every entry to the new changelog before
// anything else, so that a restore from that changelog alone has them all.
TEST_F(TaskManagerTest, AStateTheChangelogLacksIsWrittenToItWholeAtTheNextAssignment) {
  testing::DriverOptions options;
  options.clock = ClockMode::kEventTime;
  options.privacy.hash_key = "0123456789abcdef";
  Start(options);
  Process(Add("e1", "amy", kT0));
  Process(Add("e2", "bob", kT0 + kMinuteMs));
  Process(Add("e3", "cy", kT0 + 2 * kMinuteMs));
  Process(Event("e4", "cy", kT0 + 3 * kMinuteMs, v1::EVENT_TYPE_ERASURE_REQUEST));
  const std::optional<v1::state::PartitionCheckpoint> local = driver_->ReadCheckpoint();
  ASSERT_TRUE(local.has_value());
  std::map<std::string, std::string> stored;  // every entry of the partition, as stored
  ASSERT_TRUE(driver_->db()
                  .ForEachEntryOf(0,
                                  [&](const std::string& key, const CustomerState& state) {
                                    stored[key] = state.SerializeAsString();
                                    return Status::Ok();
                                  })
                  .ok());
  ASSERT_EQ(stored.size(), 3u) << "amy, bob and cy's erasure memory";

  driver_->DropAllPartitions();
  const size_t recreated_at = driver_->ChangelogRecords().size();
  v1::state::PartitionCheckpoint kept = *local;
  kept.set_changelog_incomplete(true);
  int progress = 0;  // the rebalance callback's liveness (GroupMembership::MarkAlive)
  ASSERT_TRUE(driver_->task_manager().Assign(0, kept, 1, std::nullopt, [&] { ++progress; }).ok());
  EXPECT_GE(progress, 1) << "the republish reports its steps forward";

  // The new changelog: the fence, every entry as commit 1, its marker.
  const std::vector<v1::state::OutboxRecord> all = driver_->ChangelogRecords();
  const std::vector<v1::state::OutboxRecord> recreated(all.begin() + recreated_at, all.end());
  ASSERT_EQ(recreated.size(), 5u);
  v1::state::ChangelogMarker fence;
  ASSERT_TRUE(fence.ParseFromString(recreated[0].value()));
  EXPECT_TRUE(fence.checkpoint().changelog_incomplete())
      << "until its first commit, the fence names a state the log does not hold";
  EXPECT_FALSE(Replay(std::vector<v1::state::OutboxRecord>(recreated.begin(), recreated.end() - 1))
                   .latest.has_value())
      << "the fence and the entries without the marker prove no commit";
  const Replayed replayed = Replay(recreated);
  EXPECT_EQ(replayed.entries, stored);
  ASSERT_TRUE(replayed.latest.has_value());
  EXPECT_EQ(replayed.latest->commit_seq(), 1);
  EXPECT_EQ(replayed.latest->next_offset(), local->next_offset());
  EXPECT_FALSE(replayed.latest->changelog_incomplete());
  // Stored once Kafka had them: the local state is that commit.
  const std::optional<v1::state::PartitionCheckpoint> now = driver_->ReadCheckpoint();
  ASSERT_TRUE(now.has_value());
  EXPECT_EQ(now->SerializeAsString(), replayed.latest->SerializeAsString());
  // The next commit is the owner's second.
  Process(Add("e5", "dee", kT0 + 4 * kMinuteMs));
  EXPECT_EQ(driver_->ReadCheckpoint()->commit_seq(), 2);
  EXPECT_EQ(Replay(driver_->ChangelogRecords()).entries.count("dee"), 1u);
}

// A stored entry that does not parse, met while writing the local state to a changelog that
// lacks it, has no copy to rebuild it from: it is deleted and the rest written, rather than the
// takeover failing at every start.
TEST_F(TaskManagerTest, ACorruptEntryTheChangelogLacksIsDroppedAndTheRestWritten) {
  Start(ClockMode::kEventTime);
  Process(Add("e1", "amy", kT0));
  Process(Add("e2", "bob", kT0 + kMinuteMs));
  Process(Add("e3", "cy", kT0 + 2 * kMinuteMs));
  driver_->StoreRawState("bob", "\x0a\xff\xff\xff\xff");
  ASSERT_TRUE(driver_->status().ok()) << driver_->status().message();
  const std::optional<v1::state::PartitionCheckpoint> local = driver_->ReadCheckpoint();
  ASSERT_TRUE(local.has_value());
  driver_->DropAllPartitions();
  const size_t recreated_at = driver_->ChangelogRecords().size();
  v1::state::PartitionCheckpoint kept = *local;
  kept.set_changelog_incomplete(true);
  const Status assigned = driver_->task_manager().Assign(0, kept, 1);
  ASSERT_TRUE(assigned.ok()) << assigned.message();

  const std::vector<v1::state::OutboxRecord> all = driver_->ChangelogRecords();
  const Replayed replayed =
      Replay(std::vector<v1::state::OutboxRecord>(all.begin() + recreated_at, all.end()));
  std::vector<std::string> written;
  for (const auto& [key, value] : replayed.entries) written.push_back(key);
  EXPECT_EQ(written, (std::vector<std::string>{"amy", "cy"}));
  // A tombstone for bob: a restore of the commits before this one does not bring him back.
  bool tombstone = false;
  for (size_t i = recreated_at; i < all.size(); ++i) {
    tombstone = tombstone || (all[i].key() == "bob" && all[i].null_value());
  }
  EXPECT_TRUE(tombstone);
  ASSERT_TRUE(replayed.latest.has_value());
  EXPECT_FALSE(driver_->ReadCheckpoint()->changelog_incomplete());
  // The local store holds what the changelog does: bob is gone, not corrupt.
  std::vector<std::string> stored;
  EXPECT_TRUE(driver_->db()
                  .ForEachEntryOf(0,
                                  [&](const std::string& key, const CustomerState&) {
                                    stored.push_back(key);
                                    return Status::Ok();
                                  })
                  .ok());
  EXPECT_EQ(stored, (std::vector<std::string>{"amy", "cy"}));
  EXPECT_EQ(driver_->metrics().state_rebuilds(StateRebuildReason::kCorruptState).Value(), 1);
  // Bob starts again from nothing at his next event.
  Process(Add("e4", "bob", kT0 + 3 * kMinuteMs));
  EXPECT_TRUE(driver_->status().ok()) << driver_->status().message();
}

// The partition count is recorded with one partition too (no repartition stage): a state built
// when one partition owned every customer is not taken over once the topic has more, where most
// of its customers belong to other partitions.
TEST_F(TaskManagerTest, AStateBuiltOnOnePartitionIsNotTakenOverUnderMore) {
  Start(ClockMode::kEventTime);
  Process(Add("e1", "amy", kT0));
  const std::optional<v1::state::PartitionCheckpoint> built = driver_->ReadCheckpoint();
  ASSERT_TRUE(built.has_value());
  EXPECT_EQ(built->input_partitions(), 1);

  testing::DriverOptions options;
  options.partitions = 2;
  testing::TestDriver two(testing::CartRule(), options);
  ASSERT_TRUE(two.status().ok()) << two.status().message();
  two.DropAllPartitions();
  const Status s = two.task_manager().Assign(0, *built, 2);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << s.message();
  EXPECT_NE(s.message().find("topics.touchpoints"), std::string::npos) << s.message();
}

// A state the changelog holds needs nothing written but the fence.
TEST_F(TaskManagerTest, AStateTheChangelogHoldsIsNotWrittenAgain) {
  Start(ClockMode::kEventTime);
  Process(Add("e1", "amy", kT0));
  const std::optional<v1::state::PartitionCheckpoint> local = driver_->ReadCheckpoint();
  ASSERT_TRUE(local.has_value());
  driver_->DropAllPartitions();
  const size_t before = driver_->ChangelogRecords().size();
  ASSERT_TRUE(driver_->task_manager().Assign(0, *local, 2).ok());
  EXPECT_EQ(driver_->ChangelogRecords().size(), before + 1);
}

// A commit that does not punctuate (the consume loop's, while the outbox is over its bound)
// fires no timer, but still moves the wall clock staleness is judged by: the backlog's chunks
// fired after it are as old as they are now.
TEST_F(TaskManagerTest, ACommitThatDoesNotPunctuateStillMovesTheStalenessClock) {
  testing::DriverOptions options;
  options.clock = ClockMode::kHybrid;
  options.wall_ms = kT0;
  options.max_timers_per_step = 1;
  options.policy.max_trigger_age_ms = kHourMs;
  Start(options);
  Process(Add("e1", "amy", kT0));
  Process(Add("e2", "bob", kT0));
  TaskManager& tasks = driver_->task_manager();
  const std::string& triggers = driver_->config().triggers.name;
  const size_t sent_before = driver_->Delivered(triggers).size();
  // A minute after the reminders are due, the input read to its end: amy's fires, bob's waits
  // in the backlog.
  tasks.MarkCaughtUp(driver_->config().touchpoints.name, 0);
  ASSERT_TRUE(tasks.Commit(TaskTime{kT0 + 61 * kMinuteMs, 61 * kMinuteMs}).ok());
  ASSERT_EQ(driver_->Delivered(triggers).size(), sent_before + 1);
  ASSERT_TRUE(tasks.Find(0)->timer_backlog());
  // Two hours later, a commit that does not punctuate: nothing fires.
  ASSERT_TRUE(tasks.Commit(TaskTime{kT0 + 3 * kHourMs, 3 * kHourMs}, false).ok());
  EXPECT_EQ(driver_->Delivered(triggers).size(), sent_before + 1);
  // The backlog's next chunk: bob's reminder is two hours old now, past max_trigger_age.
  ASSERT_TRUE(tasks.FireTimerBacklogs().ok());
  ASSERT_TRUE(tasks.Commit(TaskTime{kT0 + 3 * kHourMs, 3 * kHourMs}, false).ok());
  const std::vector<v1::state::OutboxRecord> sent = driver_->Delivered(triggers);
  ASSERT_EQ(sent.size(), sent_before + 1) << "bob's stale reminder was sent";
  EXPECT_EQ(sent.back().key(), "amy");
  bool stale = false;
  for (const v1::state::OutboxRecord& r : driver_->Delivered(driver_->config().audit.name)) {
    v1::AuditRecord audit;
    ASSERT_TRUE(audit.ParseFromString(r.value()));
    stale = stale || (audit.trigger().customer_id() == "bob" && audit.reason() == "stale");
  }
  EXPECT_TRUE(stale);
}

TEST_F(TaskManagerTest, AnInvalidRecordIsDeadLetteredAndItsOffsetCommitted) {
  Start(ClockMode::kEventTime);
  driver_->PipeBytes(std::string("amy"), "\xff not protobuf");
  ASSERT_TRUE(driver_->status().ok());
  const std::vector<v1::state::OutboxRecord> dead = driver_->DeadLetters();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].key(), "amy");
  EXPECT_EQ(dead[0].value(), "\xff not protobuf");
  EXPECT_EQ(Header(dead[0], "touchstream.reason"), "undecodable");
  EXPECT_EQ(Header(dead[0], "touchstream.source.offset"), "0");
  EXPECT_EQ(driver_->ReadCheckpoint()->next_offset(), 1);
  // The next valid record is processed as usual.
  Process(Add("e1", "amy", kT0));
  EXPECT_TRUE(driver_->ReadState("amy").has_value());
}

TEST(PartitionTaskTest, ARecordAlreadyAppliedIsSkipped) {
  // Replayed input at an offset before the checkpoint (e.g. the group's offset reset) is recognised
  // by the task, whatever its content.
  MemoryStore store;
  RuleSet rules = testing::CartRule();
  TaskSettings settings;
  PartitionTask fresh(settings, rules, store);
  v1::state::PartitionCheckpoint checkpoint;
  checkpoint.set_next_offset(5);
  fresh.Resume(checkpoint);
  TaskOutput out;
  const std::string bytes =
      WithItem(Event("e2", "bob", kT0, v1::EVENT_TYPE_ADD_TO_CART), "sku", 1, 1000)
          .SerializeAsString();
  auto outcome =
      fresh.Process({"touchpoints", 0, 4, "bob", bytes, std::nullopt, {}}, TaskTime{kT0}, out);
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(outcome->kind, RecordOutcome::Kind::kAlreadyApplied);
  EXPECT_TRUE(store.customers().empty());
  outcome =
      fresh.Process({"touchpoints", 0, 5, "bob", bytes, std::nullopt, {}}, TaskTime{kT0}, out);
  EXPECT_EQ(outcome->kind, RecordOutcome::Kind::kApplied);
  EXPECT_EQ(store.customers().size(), 1u);
}

// One record of half a million empty line items (valid protobuf, dead-lettered for its size): its
// decode allocated ~30 MB that the reused message kept for the life of the task.
TEST(PartitionTaskTest, ALargeRecordsDecodeIsNotKeptAfterIt) {
  MemoryStore store;
  RuleSet rules;
  TaskSettings settings;
  PartitionTask task(settings, rules, store);
  TaskOutput out;
  std::string bytes = Event("e1", "amy", kT0, v1::EVENT_TYPE_ADD_TO_CART).SerializeAsString();
  for (int i = 0; i < 500'000; ++i) bytes += std::string("\x32\x00", 2);  // items: empty
  auto outcome =
      task.Process({"touchpoints", 0, 0, "amy", bytes, std::nullopt, {}}, TaskTime{kT0}, out);
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(outcome->kind, RecordOutcome::Kind::kDeadLettered);
  EXPECT_LT(task.decode_target_bytes(), size_t{64 << 10});
  // An ordinary record after it is decoded and applied as ever.
  const std::string small =
      WithItem(Event("e2", "amy", kT0, v1::EVENT_TYPE_ADD_TO_CART), "sku", 1, 1000)
          .SerializeAsString();
  outcome = task.Process({"touchpoints", 0, 1, "amy", small, std::nullopt, {}}, TaskTime{kT0}, out);
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(outcome->kind, RecordOutcome::Kind::kApplied);
}

// A record with a null key and a null value (a tombstone) is dead-lettered with both null, not
// empty: an empty key is hashed to one fixed partition when the dead letters are replayed.
TEST(PartitionTaskTest, ADeadLetterKeepsANullKeyAndANullValue) {
  MemoryStore store;
  RuleSet rules;
  TaskSettings settings;
  PartitionTask task(settings, rules, store);
  TaskOutput out;
  auto outcome =
      task.Process({"touchpoints", 0, 0, std::nullopt, std::string_view(), std::nullopt, {}},
                   TaskTime{kT0}, out);
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(outcome->kind, RecordOutcome::Kind::kDeadLettered);
  ASSERT_EQ(out.dead_letters.size(), 1u);
  EXPECT_TRUE(out.dead_letters[0].null_key());
  EXPECT_TRUE(out.dead_letters[0].null_value());
  // An empty key and an empty value stay empty.
  out.Clear();
  outcome = task.Process({"touchpoints", 0, 1, "", "", std::nullopt, {}}, TaskTime{kT0}, out);
  ASSERT_EQ(out.dead_letters.size(), 1u);
  EXPECT_FALSE(out.dead_letters[0].null_key());
  EXPECT_FALSE(out.dead_letters[0].null_value());
}

TEST(PartitionTaskTest, EachSourceHasItsOwnOffsetInTheCheckpoint) {
  MemoryStore store;
  RuleSet rules;
  TaskSettings settings;
  PartitionTask task(settings, rules, store);
  TaskOutput out;
  auto bytes = [](const std::string& id) {
    return Event(id, "amy", kT0, v1::EVENT_TYPE_PAGE_VIEW).SerializeAsString();
  };
  const std::string e1 = bytes("e1"), e2 = bytes("e2"), e3 = bytes("e3");
  ASSERT_TRUE(
      task.Process({"touchpoints", 0, 7, "amy", e1, std::nullopt, {}}, TaskTime{kT0}, out).ok());
  ASSERT_TRUE(
      task.Process({"forwarded", 0, 2, "amy", e2, std::nullopt, {}}, TaskTime{kT0}, out).ok());
  EXPECT_EQ(task.checkpoint().next_offset(), 8);
  EXPECT_EQ(task.checkpoint().source_next_offsets().at("forwarded"), 3);
  // A re-sent record of either source is recognised by its own offset, after a restart too.
  PartitionTask resumed(settings, rules, store);
  resumed.Resume(task.checkpoint());
  EXPECT_EQ(
      resumed.Process({"forwarded", 0, 2, "amy", e2, std::nullopt, {}}, TaskTime{kT0}, out)->kind,
      RecordOutcome::Kind::kAlreadyApplied);
  EXPECT_EQ(
      resumed.Process({"touchpoints", 0, 7, "amy", e1, std::nullopt, {}}, TaskTime{kT0}, out)->kind,
      RecordOutcome::Kind::kAlreadyApplied);
  EXPECT_EQ(
      resumed.Process({"forwarded", 0, 3, "amy", e3, std::nullopt, {}}, TaskTime{kT0}, out)->kind,
      RecordOutcome::Kind::kApplied);
}

// A record that fails half applied leaves a batch no commit may write: bob's event fires amy's
// cart timer first, then bob's stored state does not parse. A commit would record amy's timer as
// fired while its trigger went with the failed record. Every commit is refused until the tasks
// are dropped (the consume loop's stop or rebuild).
TEST_F(TaskManagerTest, ABatchAStepFailedInIsNeverCommitted) {
  Start(ClockMode::kEventTime, kT0 + kDayMs);  // bob's event is not in the future
  Process(Add("e1", "amy", kT0));
  const std::optional<v1::state::CustomerState> committed = driver_->ReadState("amy");
  ASSERT_TRUE(committed.has_value());
  driver_->StoreRawState("bob", "\x0a\xff\xff\xff\xff");
  EXPECT_EQ(driver_->Pipe(Add("e2", "bob", kT0 + 2 * kHourMs)).size(), 0u);
  ASSERT_EQ(driver_->status().code(), Status::Code::kCorruption) << driver_->status().message();
  EXPECT_EQ(driver_->task()->timers_popped(), 1u) << "amy's timer fired before bob's read";

  TaskManager& tasks = driver_->task_manager();
  EXPECT_TRUE(tasks.failed());
  const Status refused = tasks.Commit(TaskTime{driver_->wall_ms(), 0});
  EXPECT_EQ(refused.code(), Status::Code::kCorruption) << refused.message();
  EXPECT_EQ(driver_->ReadState("amy")->SerializeAsString(), committed->SerializeAsString())
      << "amy's fired timer was committed without its trigger";
  tasks.Clear();
  EXPECT_FALSE(tasks.failed());
}

TEST_F(TaskManagerTest, AStoredStateThatDoesNotParseFailsTheRecordAndNamesItsPartition) {
  RuleSet rules = testing::CartRule();
  testing::DriverOptions options;
  options.partitions = 2;
  DriverTest::Start(std::move(rules), options);
  // Bob's partition (the repartition stage forwards records to it).
  const int32_t p = driver_->OwnerOf("bob");
  EXPECT_EQ(driver_->Pipe(Add("e1", "bob-neighbour", kT0), p).size(), 0u);
  driver_->StoreRawState("bob", "\x0a\xff\xff\xff\xff", p);
  ASSERT_TRUE(driver_->status().ok()) << driver_->status().message();

  // Not applied to a fresh state, not committed: the batch is to be dropped and bob's partition
  // rebuilt from the changelog.
  EXPECT_EQ(driver_->Pipe(Add("e2", "bob", kT0 + 1), p).size(), 0u);
  EXPECT_EQ(driver_->status().code(), Status::Code::kCorruption) << driver_->status().message();
  EXPECT_EQ(driver_->ReadCheckpoint(p)->next_offset(), 1);
  EXPECT_EQ(driver_->TakeCorruptPartitions(), std::vector<int32_t>{p});
  EXPECT_EQ(driver_->TakeCorruptPartitions(), std::vector<int32_t>{});
}

// Each acknowledged commit marker moves the partition's restore hint on (state/own_tail.h): the
// hint rides along with the next commit that writes, and the latest is stored when the partition
// is removed, so that a restart reads the changelog from the last commit's marker.
TEST_F(TaskManagerTest, TheRestoreHintFollowsTheAcknowledgedCommitMarkers) {
  Start(ClockMode::kEventTime);
  Process(Add("e1", "amy", kT0));  // commit 1: the fence (offset 0), amy, its marker (2)
  const std::vector<v1::state::OutboxRecord> first = driver_->ChangelogRecords();
  ASSERT_EQ(first.size(), 3u);
  const std::string topic = first[2].topic();
  const std::string owner = driver_->ReadCheckpoint()->owner();
  auto hint = [&]() {
    auto stored = driver_->db().ReadRestoreHint(topic, 0);
    EXPECT_TRUE(stored.ok());
    return stored.ok() ? *stored : std::nullopt;
  };
  EXPECT_FALSE(hint().has_value()) << "commit 1's marker was acknowledged after it was written";

  Process(Add("e2", "bob", kT0 + kMinuteMs));  // commit 2: bob (offset 3), its marker (4)
  std::optional<v1::state::RestoreHint> stored = hint();
  ASSERT_TRUE(stored.has_value()) << "commit 2 stores the hint of commit 1's marker";
  EXPECT_EQ(stored->last_offset(), 2);
  EXPECT_EQ(stored->last_owner(), owner);
  EXPECT_EQ(stored->last_seq(), "1");
  EXPECT_EQ(stored->summary().head_owner(), owner);
  EXPECT_EQ(stored->summary().head_seq(), 1);
  EXPECT_EQ(stored->summary().max_epoch(), 1);

  driver_->RemovePartition(0);
  stored = hint();
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->last_offset(), 4) << "the removal stores the last marker's hint";
  EXPECT_EQ(stored->last_seq(), "2");
  EXPECT_EQ(stored->summary().head_seq(), 2);
}

TEST_F(TaskManagerTest, ALostAssignmentStoresThePendingRestoreHint) {
  Start(ClockMode::kEventTime);
  Process(Add("e1", "amy", kT0));               // commit 1: the fence (0), amy, its marker (2)
  Process(Add("e2", "bob", kT0 + kMinuteMs));  // commit 2: bob (3), its marker (4)
  const std::string topic = driver_->ChangelogRecords().back().topic();
  auto stored = driver_->db().ReadRestoreHint(topic, 0);
  ASSERT_TRUE(stored.ok());
  ASSERT_TRUE(stored->has_value());
  ASSERT_EQ((*stored)->last_offset(), 2) << "commit 2 stored commit 1's marker's hint";

  // Commit 2's marker is acknowledged; no commit writes after it before the tasks are dropped.
  driver_->DropAllPartitions();
  stored = driver_->db().ReadRestoreHint(topic, 0);
  ASSERT_TRUE(stored.ok());
  ASSERT_TRUE(stored->has_value());
  EXPECT_EQ((*stored)->last_offset(), 4) << "dropping the tasks stores the last marker's hint";
  EXPECT_EQ((*stored)->last_seq(), "2");
  EXPECT_EQ((*stored)->summary().head_seq(), 2);
}

// A removal stores the removed partition's pending hint and leaves the others' pending, for the
// next commit or the drop of every task.
TEST_F(TaskManagerTest, RemovingAPartitionStoresItsHintAndKeepsTheOthersPending) {
  testing::DriverOptions options;
  options.clock = ClockMode::kEventTime;
  options.partitions = 2;
  Start(options);
  std::string customer[2];  // one of each partition
  for (int i = 0; customer[0].empty() || customer[1].empty(); ++i) {
    const std::string id = "c" + std::to_string(i);
    customer[driver_->OwnerOf(id)] = id;
  }
  driver_->Pipe(Add("e1", customer[0], kT0), 0);
  driver_->Pipe(Add("e2", customer[1], kT0), 1);
  // One commit writes both partitions (each cart is abandoned); its markers' acknowledgements
  // leave a hint pending in each.
  ASSERT_EQ(driver_->AdvanceEventTime(kT0 + 2 * kHourMs).size(), 2u);
  const std::string topic = driver_->ChangelogRecords().back().topic();
  auto last_offset = [&](int32_t partition) -> int64_t {
    auto stored = driver_->db().ReadRestoreHint(topic, partition);
    EXPECT_TRUE(stored.ok());
    return stored.ok() && stored->has_value() ? (*stored)->last_offset() : -1;
  };
  const int64_t before[2] = {last_offset(0), last_offset(1)};

  driver_->RemovePartition(0);
  EXPECT_GT(last_offset(0), before[0]) << "the removal stores partition 0's pending hint";
  EXPECT_EQ(last_offset(1), before[1]) << "and only partition 0's";
  driver_->DropAllPartitions();
  EXPECT_GT(last_offset(1), before[1]) << "partition 1's hint stayed pending until the drop";
}

}  // namespace
}  // namespace touchstream
