#include "state/partition_state.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <filesystem>
#include <limits>
#include <random>
#include <set>

#include "processor/core/memory_store.h"
#include "processor/core/pipeline.h"
#include "processor/policy/policy_stage.h"
#include "processor/rules/cart_abandonment_rule.h"
#include "state/commit_batch.h"
#include "state/keys.h"
#include "tests/unit/store_test.h"
#include "tests/unit/test_events.h"
#include "tests/unit/test_rules.h"

namespace touchstream {
namespace {

using testing::Describe;
using testing::Event;
using testing::kT0;
using testing::WithItem;

class PartitionStateTest : public testing::StoreTest {
 protected:
  void Commit(PartitionState& state) {
    CommitBatch batch(*db_);
    batch.AddChanges(state);
    ASSERT_TRUE(batch.Commit().ok());
    state.OnCommitted();
  }
  std::optional<TimerKey> Pop(PartitionState& state, TimeMs watermark) {
    auto r = state.PopDueTimer(TimerLimit{watermark});
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : std::nullopt;
  }
  // TimersMatchASetUnderRandomScheduleCancelFireAndCommit's sequence, in an empty store.
  void TimersMatchASetUnderRandomSequences(size_t min_fired_range);
};

TEST(KeysTest, TimerKeysSortByDueThenCustomerThenRule) {
  const std::vector<TimerKey> ordered = {
      {-5, "z", "r"}, {0, "a", "r"},  {7, "a", "r"},       {7, std::string("a\0b", 3), "r"},
      {7, "ab", "a"}, {7, "ab", "b"}, {1LL << 40, "", "r"}};
  for (size_t i = 0; i + 1 < ordered.size(); ++i) {
    EXPECT_LT(keys::Timer(3, ordered[i]), keys::Timer(3, ordered[i + 1])) << i;
  }
  for (const TimerKey& k : ordered) {
    auto decoded = keys::DecodeTimer(keys::Timer(3, k));
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(*decoded, k);
  }
  EXPECT_FALSE(keys::DecodeTimer("short").has_value());
}

TEST(KeysTest, TimerKeysRoundTripZeroBytesAnywhereAndRefuseBrokenEncodings) {
  using namespace std::string_literals;
  std::string reused = "a longer key left over from the one before, past any inline buffer";
  for (const std::string& id : {""s, "\0"s, "\0\0"s, "\0a"s, "a\0"s, "a\0\0b\0"s, "\xff\0\x01"s}) {
    keys::AssignCustomer(reused, 7, id);
    EXPECT_EQ(reused, keys::PartitionPrefix(7) + id);
    for (const std::string& rule : {""s, "r"s, "\0\x01r"s}) {
      const TimerKey key{1LL << 41, id, rule};
      keys::AssignTimer(reused, 7, key);  // replaces what the string held
      EXPECT_EQ(reused, keys::Timer(7, key));
      const std::optional<TimerKey> decoded = keys::DecodeTimer(keys::Timer(7, key));
      ASSERT_TRUE(decoded.has_value()) << ::testing::PrintToString(id) << " " << rule;
      EXPECT_EQ(*decoded, key) << ::testing::PrintToString(id);
    }
  }
  // Partition 7, due 0: a key's first 12 bytes.
  const std::string head = keys::Timer(7, TimerKey{0, "", ""}).substr(0, 12);
  EXPECT_FALSE(keys::DecodeTimer(head + "abc").has_value());          // no end of the id
  EXPECT_FALSE(keys::DecodeTimer(head + "abc"s + '\0').has_value());  // a zero byte last
  EXPECT_FALSE(keys::DecodeTimer(head + "ab\0\x02r"s).has_value());   // neither escape nor end
  EXPECT_FALSE(keys::DecodeTimer(head + "a\0\xff"s).has_value());     // an escape, then nothing
  const std::optional<TimerKey> shortest = keys::DecodeTimer(head + "\0\x01"s);
  ASSERT_TRUE(shortest.has_value());
  EXPECT_EQ(*shortest, (TimerKey{0, "", ""}));
}

// Two cart rules, as the cache tests run them.
RuleSet TwoCartRules() {
  RuleSet rules;
  rules.push_back(
      std::make_unique<CartAbandonmentRule>("cart_10m", CartAbandonmentParams{10 * kMinuteMs, 0}));
  rules.push_back(
      std::make_unique<CartAbandonmentRule>("cart_1h", CartAbandonmentParams{kHourMs, 0}));
  return rules;
}

// Event `i` of `customer` at `t`: an item added to the cart or a page view, at random.
v1::TouchpointEvent CartOrView(int i, const std::string& customer, TimeMs t, std::mt19937& rng) {
  return rng() % 2 == 0
             ? WithItem(Event("e" + std::to_string(i), customer, t, v1::EVENT_TYPE_ADD_TO_CART),
                        "sku-" + std::to_string(rng() % 50), 1, 1999)
             : Event("e" + std::to_string(i), customer, t, v1::EVENT_TYPE_PAGE_VIEW);
}

TEST_F(PartitionStateTest, CustomersPersistAcrossCommitAndReopen) {
  {
    PartitionState state(*db_, 1);
    auto c = state.Mutable("c1");
    ASSERT_TRUE(c.ok());
    (*c)->set_first_seen_ms(kT0);
    (*c)->set_lifetime_value_minor(1234);
    Commit(state);
  }
  Reopen();
  PartitionState state(*db_, 1);
  auto read = state.Read("c1");
  ASSERT_TRUE(read.ok());
  ASSERT_TRUE(read->has_value());
  EXPECT_EQ((*read)->lifetime_value_minor(), 1234);
  // Another partition does not see it.
  PartitionState other(*db_, 2);
  EXPECT_FALSE(other.Read("c1")->has_value());
}

TEST_F(PartitionStateTest, ACommitWritesOnlyWhatChangedSinceTheLast) {
  PartitionState state(*db_, 1);
  for (const char* id : {"c1", "c2", "c3"}) {
    auto c = state.Mutable(id);
    ASSERT_TRUE(c.ok());
    (*c)->set_first_seen_ms(kT0);
  }
  EXPECT_TRUE(state.has_changes());
  Commit(state);
  EXPECT_FALSE(state.has_changes());
  // Reading the cache changes nothing; one customer changed is one record.
  ASSERT_TRUE(state.Read("c1").ok());
  EXPECT_FALSE(state.has_changes());
  ASSERT_TRUE(state.Mutable("c2").ok());
  std::vector<std::string> changed;
  CommitBatch batch(*db_);
  batch.AddChanges(state,
                   [&](const std::string& id, const std::string*) { changed.push_back(id); });
  EXPECT_EQ(changed, std::vector<std::string>{"c2"});
  ASSERT_TRUE(batch.Commit().ok());
  state.OnCommitted();
  state.CancelTimer(TimerKey{kT0, "c3", "r"});
  EXPECT_TRUE(state.has_changes()) << "a timer change is a change";
}

TEST_F(PartitionStateTest, ErasedCustomerIsDeleted) {
  PartitionState state(*db_, 0);
  (*state.Mutable("c1"))->set_first_seen_ms(kT0);
  Commit(state);
  state.Erase("c1");
  Commit(state);
  EXPECT_FALSE(state.Read("c1")->has_value());
}

// Settle encodes the state the pipeline is done with: the commit writes those bytes, and hands
// the same to the changelog, without encoding the state again.
TEST_F(PartitionStateTest, ACommitWritesASettledStateAsSettled) {
  PartitionState state(*db_, 1);
  CustomerState* c = *state.Mutable("c1");
  c->set_first_seen_ms(kT0);
  c->set_lifetime_value_minor(1234);
  state.Settle(*c);
  std::string logged;
  CommitBatch batch(*db_);
  batch.AddChanges(state, [&](const std::string&, const std::string* value) { logged = *value; });
  ASSERT_TRUE(batch.Commit().ok());
  state.OnCommitted();
  EXPECT_EQ(state.settled_writes(), 1u);
  auto stored = db_->ReadCustomer(1, "c1");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->lifetime_value_minor(), 1234);
  EXPECT_EQ(logged, (*stored)->SerializeAsString());
}

// Settle given the size ByteSizeLong measured last encodes with protobuf's cached sizes, not
// measuring the state again. A total that does not hold (the caller's contract broken: a wrong
// number, or a change after the measure that moved the total) cannot write past the buffer or
// leave it short: the bounded encoding fails and the state is measured and encoded again, so the
// commit writes it as it is (verify_settled would stop the process otherwise).
TEST_F(PartitionStateTest, ASettledSizeThatDoesNotHoldIsMeasuredAgain) {
  PartitionState state(*db_, 1);
  state.set_verify_settled(true);
  CustomerState* c = *state.Mutable("c1");
  c->set_first_seen_ms(kT0);
  c->set_lifetime_value_minor(1234);
  const size_t measured = c->ByteSizeLong();
  state.Settle(*c, measured);
  Commit(state);
  EXPECT_EQ(state.settled_writes(), 1u);
  EXPECT_EQ((*db_->ReadCustomer(1, "c1"))->lifetime_value_minor(), 1234);

  int64_t value = 1234;
  for (const size_t claimed : {measured - 1, measured + 1}) {
    c = *state.Mutable("c1");
    c->set_lifetime_value_minor(++value);  // same length: the cached sizes hold
    ASSERT_EQ(c->ByteSizeLong(), measured);
    state.Settle(*c, claimed);
    Commit(state);
    EXPECT_EQ((*db_->ReadCustomer(1, "c1"))->lifetime_value_minor(), value) << claimed;
  }
  // A sub-message grown after the measure: its cached size is stale.
  c = *state.Mutable("c1");
  const size_t before_cart = c->ByteSizeLong();
  v1::state::CartLine* line = c->mutable_cart()->add_lines();
  line->set_sku("sku-1");
  line->set_quantity(2);
  state.Settle(*c, before_cart);
  Commit(state);
  auto stored = db_->ReadCustomer(1, "c1");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  ASSERT_EQ((*stored)->cart().lines_size(), 1);
  EXPECT_EQ((*stored)->cart().lines(0).sku(), "sku-1");
  EXPECT_EQ(state.settled_writes(), 4u);
}

// What changes after a Settle comes through a new Mutable, which makes the commit encode the
// state again; a Settle of a state another Mutable came after does nothing.
TEST_F(PartitionStateTest, AChangeAfterSettleIsWritten) {
  PartitionState state(*db_, 1);
  state.set_verify_settled(true);
  CustomerState* c = *state.Mutable("c1");
  c->set_first_seen_ms(kT0);
  c->set_lifetime_value_minor(1);
  state.Settle(*c);
  (*state.Mutable("c1"))->set_lifetime_value_minor(2);
  CustomerState* other = *state.Mutable("c2");
  other->set_first_seen_ms(kT0);
  state.Settle(*c);  // not the last Mutable's: ignored
  Commit(state);
  EXPECT_EQ(state.settled_writes(), 0u);
  EXPECT_EQ((*db_->ReadCustomer(1, "c1"))->lifetime_value_minor(), 2);
  EXPECT_TRUE(db_->ReadCustomer(1, "c2")->has_value());
  // An erased customer's Settle leaves the tombstone.
  CustomerState* gone = *state.Mutable("c2");
  state.Erase("c2");
  state.Settle(*gone);
  Commit(state);
  EXPECT_FALSE(db_->ReadCustomer(1, "c2")->has_value());
  EXPECT_EQ(state.settled_writes(), 0u);
}

// The pipeline settles the customer of each event it applies and of each group of timers that
// emits triggers: the commit after a timer fired writes the state as settled.
TEST_F(PartitionStateTest, ThePipelineSettlesEventsAndFiredTimers) {
  RuleSet rules;
  rules.push_back(
      std::make_unique<CartAbandonmentRule>("cart_10m", CartAbandonmentParams{10 * kMinuteMs, 0}));
  PartitionState state(*db_, 0);
  state.set_verify_settled(true);
  PartitionPipeline pipeline(rules, state, 0);
  std::vector<v1::Trigger> out;
  ASSERT_TRUE(
      pipeline
          .Process(WithItem(Event("e1", "c1", kT0, v1::EVENT_TYPE_ADD_TO_CART), "sku", 1, 100), out)
          .ok());
  Commit(state);
  EXPECT_EQ(state.settled_writes(), 1u);
  ASSERT_TRUE(pipeline.AdvanceWatermark(kT0 + 11 * kMinuteMs, out).ok());
  ASSERT_EQ(out.size(), 1u) << "the cart timer fired";
  Commit(state);
  EXPECT_EQ(state.settled_writes(), 2u);
}

// The tests' check (the test driver turns it on): a state changed after its Settle without a
// Mutable would be written as it was settled, and the commit stops the process instead.
TEST_F(PartitionStateTest, VerifySettledCatchesAChangeWithoutMutable) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  PartitionState state(*db_, 1);
  state.set_verify_settled(true);
  CustomerState* c = *state.Mutable("c1");
  c->set_first_seen_ms(kT0);
  state.Settle(*c);
  c->set_lifetime_value_minor(5);
  EXPECT_DEATH(Commit(state), "customer c1 changed after Settle without a Mutable");
}

// The customer the last lookup found is found again without the hash map, until a commit, which
// may evict it: a lookup after that reads the store.
TEST_F(PartitionStateTest, ALookupAfterACommitThatEvictedTheCustomerReadsTheStore) {
  PartitionState state(*db_, 1, /*max_cache_bytes=*/1);  // every commit evicts every customer
  CustomerState* c = *state.Mutable("c1");
  c->set_first_seen_ms(kT0);
  c->set_lifetime_value_minor(7);
  ASSERT_TRUE(state.Find("c1").ok());  // the same entry, no read
  EXPECT_EQ(state.store_reads(), 1u);
  Commit(state);
  EXPECT_EQ(state.cached_customers(), 0u);
  auto found = state.Find("c1");
  ASSERT_TRUE(found.ok() && *found != nullptr);
  EXPECT_EQ((*found)->lifetime_value_minor(), 7);
  EXPECT_EQ(state.store_reads(), 2u);
}

TEST_F(PartitionStateTest, TimersPopInOrderFromDiskAndOverlay) {
  PartitionState state(*db_, 0);
  state.ScheduleTimer({30, "b", "r"});
  state.ScheduleTimer({10, "a", "r"});
  Commit(state);
  state.ScheduleTimer({20, "c", "r"});  // uncommitted
  state.ScheduleTimer({10, "b", "r"});  // uncommitted, ties with a stored one
  EXPECT_EQ(Pop(state, 5), std::nullopt);
  EXPECT_EQ(Pop(state, 100), (TimerKey{10, "a", "r"}));
  EXPECT_EQ(Pop(state, 100), (TimerKey{10, "b", "r"}));
  EXPECT_EQ(Pop(state, 100), (TimerKey{20, "c", "r"}));
  EXPECT_EQ(Pop(state, 25), std::nullopt);
  EXPECT_EQ(Pop(state, 100), (TimerKey{30, "b", "r"}));
  EXPECT_EQ(Pop(state, 1000), std::nullopt);
  Commit(state);
  EXPECT_EQ(Pop(state, 1000), std::nullopt) << "fired timers are deleted on commit";
}

TEST_F(PartitionStateTest, TheNextDueTimeComesFromTheStoreAndTheOverlayWithoutPopping) {
  PartitionState state(*db_, 0);
  auto next_due = [&] {
    StatusOr<std::optional<TimeMs>> due = state.NextTimerDue();
    EXPECT_TRUE(due.ok());
    return due.ok() ? *due : std::nullopt;
  };
  EXPECT_EQ(next_due(), std::nullopt);
  state.ScheduleTimer({30, "b", "r"});
  state.ScheduleTimer({20, "a", "r"});
  Commit(state);
  EXPECT_EQ(next_due(), 20);
  state.ScheduleTimer({10, "c", "r"});  // uncommitted, earlier than every stored one
  EXPECT_EQ(next_due(), 10);
  EXPECT_EQ(next_due(), 10) << "asking pops nothing";
  EXPECT_EQ(Pop(state, 15), (TimerKey{10, "c", "r"}));
  EXPECT_EQ(next_due(), 20);
  state.CancelTimer({20, "a", "r"});
  EXPECT_EQ(next_due(), 30);
  Commit(state);
  EXPECT_EQ(next_due(), 30);
  EXPECT_EQ(Pop(state, 100), (TimerKey{30, "b", "r"}));
  EXPECT_EQ(next_due(), std::nullopt);
}

TEST_F(PartitionStateTest, AskingTheNextDueTimeBetweenPopsFromDiskChangesNoPop) {
  PartitionState state(*db_, 0);
  for (TimeMs due : {10, 20, 30, 40}) state.ScheduleTimer({due, "a", "r"});
  Commit(state);
  EXPECT_EQ(Pop(state, 15), (TimerKey{10, "a", "r"}));  // the iterator stays between pops
  EXPECT_EQ(state.NextTimerDue()->value_or(-1), 20);
  EXPECT_EQ(Pop(state, 25), (TimerKey{20, "a", "r"}));
  EXPECT_EQ(Pop(state, 35), (TimerKey{30, "a", "r"}));
  EXPECT_EQ(state.NextTimerDue()->value_or(-1), 40);
  EXPECT_EQ(state.NextTimerDue()->value_or(-1), 40);
  EXPECT_EQ(Pop(state, 35), std::nullopt);
  EXPECT_EQ(Pop(state, 45), (TimerKey{40, "a", "r"}));
  EXPECT_FALSE(state.NextTimerDue()->has_value());
}

TEST_F(PartitionStateTest, TheEarliestTimerKnownBeforeACommitIsKnownAfterIt) {
  PartitionState state(*db_, 0);
  state.ScheduleTimer({10, "a", "r"});
  state.ScheduleTimer({30, "a", "r"});
  Commit(state);
  EXPECT_EQ(Pop(state, 5), std::nullopt);  // the head (10) is known now
  state.ScheduleTimer({7, "b", "r"});      // earlier than it
  state.ScheduleTimer({20, "b", "r"});
  Commit(state);
  EXPECT_EQ(state.NextTimerDue()->value_or(-1), 7);
  EXPECT_EQ(Pop(state, 8), (TimerKey{7, "b", "r"}));
  EXPECT_EQ(Pop(state, 8), std::nullopt);
  state.CancelTimer({10, "a", "r"});  // the known head goes
  Commit(state);
  EXPECT_EQ(Pop(state, 100), (TimerKey{20, "b", "r"}));
  EXPECT_EQ(Pop(state, 100), (TimerKey{30, "a", "r"}));
  EXPECT_EQ(Pop(state, 100), std::nullopt);
  Commit(state);
  Reopen();
  PartitionState reopened(*db_, 0);
  EXPECT_EQ(Pop(reopened, 100), std::nullopt);
}

TEST_F(PartitionStateTest, CancelledTimersNeverPop) {
  PartitionState state(*db_, 0);
  state.ScheduleTimer({10, "a", "r"});
  state.ScheduleTimer({20, "a", "r"});
  Commit(state);
  state.CancelTimer({10, "a", "r"});
  state.ScheduleTimer({15, "b", "r"});
  state.CancelTimer({15, "b", "r"});
  EXPECT_EQ(Pop(state, 100), (TimerKey{20, "a", "r"}));
  Commit(state);
  Reopen();
  PartitionState reopened(*db_, 0);
  EXPECT_EQ(Pop(reopened, 100), std::nullopt);
}

// A timer scheduled and then cancelled or fired within one batch never reached the store: the
// commit writes nothing for it (no tombstone for the timer index's iterators to step over),
// while a stored timer's removal, and one of a key scheduled again after its removal, is written.
TEST_F(PartitionStateTest, ATimerAddedAndRemovedWithinOneBatchWritesNothing) {
  PartitionState state(*db_, 0);
  auto writes = [&] {
    CommitBatch batch(*db_);
    batch.AddChanges(state);
    return batch.size();
  };
  state.ScheduleTimer({10, "a", "r"});
  state.CancelTimer({10, "a", "r"});
  state.ScheduleTimer({20, "b", "r"});
  EXPECT_EQ(Pop(state, 100), (TimerKey{20, "b", "r"}));
  EXPECT_EQ(writes(), 0);

  state.ScheduleTimer({30, "c", "r"});
  Commit(state);
  state.CancelTimer({30, "c", "r"});  // stored: its removal is written
  EXPECT_EQ(writes(), 1);
  state.ScheduleTimer({30, "c", "r"});  // again, after the removal: the stored copy goes too
  state.CancelTimer({30, "c", "r"});
  EXPECT_EQ(writes(), 1);
  Commit(state);

  // The stored head, scheduled again in a batch (the pipeline does not, but a stale stored timer
  // is possible) and then popped: the stored copy is deleted too.
  state.ScheduleTimer({40, "d", "r"});
  Commit(state);
  ASSERT_EQ(state.NextTimerDue().value(), std::optional<TimeMs>(40));  // the head, from the store
  state.ScheduleTimer({40, "d", "r"});
  EXPECT_EQ(Pop(state, 100), (TimerKey{40, "d", "r"}));
  EXPECT_EQ(writes(), 1);
  Commit(state);
  Reopen();
  PartitionState reopened(*db_, 0);
  EXPECT_EQ(Pop(reopened, 100), std::nullopt);
}

// Schedules 100 stored timers c0..c99 at 0, 10, .., 990; cancels c5 and fires c0..c59 (not c5);
// cancels c70 (past the fired ones) and schedules inside the fired range c30 again and a new one.
// Returns the commit batch's writes; `state` is committed.
int FireSixtyOfAHundred(StateDb& db, PartitionState& state) {
  for (int i = 0; i < 100; ++i) state.ScheduleTimer({10 * i, "c" + std::to_string(i), "r"});
  CommitBatch first(db);
  first.AddChanges(state);
  EXPECT_TRUE(first.Commit().ok());
  state.OnCommitted();
  state.CancelTimer({50, "c5", "r"});
  for (int i = 0; i < 60; ++i) {
    if (i == 5) continue;
    EXPECT_EQ(state.PopDueTimer({595}).value(), (TimerKey{10 * i, "c" + std::to_string(i), "r"}))
        << i;
  }
  EXPECT_EQ(state.PopDueTimer({595}).value(), std::nullopt);
  state.CancelTimer({700, "c70", "r"});
  state.ScheduleTimer({300, "c30", "r"});
  state.ScheduleTimer({305, "new", "r"});
  CommitBatch batch(db);
  batch.AddChanges(state);
  const int writes = batch.size();
  EXPECT_TRUE(batch.Commit().ok());
  state.OnCommitted();
  return writes;
}

// What FireSixtyOfAHundred leaves in the index, popped from a reopened store.
void ExpectTheFortyLeftAndTheTwoScheduledAgain(StateDb& db) {
  PartitionState reopened(db, 0);
  EXPECT_EQ(reopened.PopDueTimer({10'000}).value(), (TimerKey{300, "c30", "r"}));
  EXPECT_EQ(reopened.PopDueTimer({10'000}).value(), (TimerKey{305, "new", "r"}));
  for (int i = 60; i < 100; ++i) {
    if (i == 70) continue;
    ASSERT_EQ(reopened.PopDueTimer({10'000}).value(),
              (TimerKey{10 * i, "c" + std::to_string(i), "r"}))
        << i;
  }
  EXPECT_EQ(reopened.PopDueTimer({10'000}).value(), std::nullopt);
}

// A batch that fires fewer stored timers than kMinFiredRange deletes each with a tombstone of its
// own: a range tombstone at every commit made RocksDB fragment a growing list of them for every
// new iterator of the timer index (seen failing with the range written for these 59).
TEST_F(PartitionStateTest, AFewStoredTimersFiredInABatchGoAsATombstoneEach) {
  static_assert(PartitionState::kMinFiredRange > 59);
  PartitionState state(*db_, 0);
  EXPECT_EQ(FireSixtyOfAHundred(*db_, state), 63)
      << "59 fired, c5 and c70 cancelled, the two scheduled again";
  Reopen();
  ExpectTheFortyLeftAndTheTwoScheduledAgain(*db_);
}

// From min_fired_range fired stored timers on, a batch deletes them by one range tombstone, first
// to last; stored timers between them that were cancelled go with it (no tombstone of their
// own), and the rest of the index stays.
TEST_F(PartitionStateTest, ManyStoredTimersFiredInABatchGoAsOneRangeTombstone) {
  PartitionState state(*db_, 0, 32ull << 20, /*min_fired_range=*/50);
  EXPECT_EQ(FireSixtyOfAHundred(*db_, state), 4)
      << "the range (c5 inside it), c70 and the two scheduled again";
  Reopen();
  ExpectTheFortyLeftAndTheTwoScheduledAgain(*db_);
}

void PartitionStateTest::TimersMatchASetUnderRandomSequences(size_t min_fired_range) {
  SCOPED_TRACE("min_fired_range " + std::to_string(min_fired_range));
  db_.reset();
  std::filesystem::remove_all(dir_.path() / "store");
  Reopen();
  std::mt19937 rng(11);
  auto state = std::make_unique<PartitionState>(*db_, 0, 32ull << 20, min_fired_range);
  std::set<TimerKey> live;
  TimeMs watermark = 0;
  auto key = [&] {
    return TimerKey{watermark + static_cast<TimeMs>(rng() % 200),
                    "c" + std::to_string(rng() % 30), rng() % 2 ? "r1" : "r2"};
  };
  for (int step = 0; step < 10000; ++step) {
    const int op = static_cast<int>(rng() % 100);
    if (op < 40) {
      const TimerKey k = key();
      if (live.insert(k).second) state->ScheduleTimer(k);
    } else if (op < 55 && !live.empty()) {
      auto it = live.begin();
      std::advance(it, rng() % live.size());
      state->CancelTimer(*it);
      live.erase(it);
    } else if (op < 90) {
      if (rng() % 4 == 0) watermark += static_cast<TimeMs>(rng() % 40);
      const std::optional<TimerKey> popped = Pop(*state, watermark);
      if (!live.empty() && live.begin()->due_ms <= watermark) {
        ASSERT_EQ(popped, *live.begin()) << "step " << step;
        live.erase(live.begin());
      } else {
        ASSERT_EQ(popped, std::nullopt) << "step " << step;
      }
    } else if (op < 99) {
      Commit(*state);
    } else {
      Commit(*state);
      state.reset();
      Reopen();
      state = std::make_unique<PartitionState>(*db_, 0, 32ull << 20, min_fired_range);
    }
  }
  Commit(*state);
  state.reset();
  Reopen();
  PartitionState reopened(*db_, 0);
  for (const TimerKey& k : live) ASSERT_EQ(Pop(reopened, std::numeric_limits<TimeMs>::max()), k);
  EXPECT_EQ(Pop(reopened, std::numeric_limits<TimeMs>::max()), std::nullopt);
}

// Timers scheduled, cancelled and fired at random, with commits and reopenings in between, pop
// as a set of the live ones says (the pipeline's contract: it schedules only a key it does not
// hold and cancels only one it holds); with every batch's fired timers deleted by a range, by a
// tombstone each, and by either.
TEST_F(PartitionStateTest, TimersMatchASetUnderRandomScheduleCancelFireAndCommit) {
  TimersMatchASetUnderRandomSequences(1);
  TimersMatchASetUnderRandomSequences(PartitionState::kMinFiredRange);
  TimersMatchASetUnderRandomSequences(3);
}

// The RocksDB store with commits at random points behaves exactly like the in-memory one.
TEST_F(PartitionStateTest, PipelineOnRocksMatchesPipelineInMemory) {
  RuleSet rules = TwoCartRules();
  MemoryStore memory;
  PartitionPipeline reference(rules, memory, 0);
  auto rocks = std::make_unique<PartitionState>(*db_, 0);
  rocks->set_verify_settled(true);
  auto pipeline = std::make_unique<PartitionPipeline>(rules, *rocks, 0);
  uint64_t settled = 0;

  std::mt19937 rng(7);
  std::vector<std::string> expected, actual;
  TimeMs t = kT0;
  for (int i = 0; i < 3000; ++i) {
    t += std::uniform_int_distribution<int>(0, 3 * 60'000)(rng);
    const std::string customer = "c" + std::to_string(rng() % 40);
    const int kind = rng() % 10;
    v1::TouchpointEvent e =
        kind < 5 ? WithItem(Event("e" + std::to_string(i), customer, t, v1::EVENT_TYPE_ADD_TO_CART),
                            "sku" + std::to_string(rng() % 3), 1, 100)
        : kind < 7 ? Event("e" + std::to_string(i), customer, t, v1::EVENT_TYPE_PURCHASE,
                           v1::CHANNEL_IN_STORE)
        : kind < 8 ? Event("e" + std::to_string(i), customer, t, v1::EVENT_TYPE_ERASURE_REQUEST)
                   : Event("e" + std::to_string(i), customer, t, v1::EVENT_TYPE_PAGE_VIEW);
    std::vector<v1::Trigger> a, b;
    ASSERT_TRUE(reference.Process(e, a).ok());
    ASSERT_TRUE(pipeline->Process(e, b).ok());
    for (auto& s : Describe(a)) expected.push_back(s);
    for (auto& s : Describe(b)) actual.push_back(s);
    if (rng() % 7 == 0) Commit(*rocks);
    if (rng() % 200 == 0) {  // restart: only committed state survives, so commit first
      Commit(*rocks);
      const TimeMs max = pipeline->max_event_time_ms(), wm = pipeline->watermark_ms();
      settled += rocks->settled_writes();
      pipeline.reset();
      rocks.reset();
      Reopen();
      rocks = std::make_unique<PartitionState>(*db_, 0);
      rocks->set_verify_settled(true);
      pipeline = std::make_unique<PartitionPipeline>(rules, *rocks, 0);
      pipeline->RestoreClock(max, wm);
    }
  }
  EXPECT_GT(expected.size(), 50u);
  EXPECT_EQ(actual, expected);
  // Each event's customer is settled once the event is applied (verified at every commit); a
  // customer a timer changed after that is encoded again.
  EXPECT_GT(settled + rocks->settled_writes(), 1000u);
}

// 300 customers with carts, rule state and remembered event ids: far more than 64 KiB of
// states. After every commit the cache holds at most its bound, and an eviction leaves it close to
// the bound (PartitionState::kEvictToPercent), so that a full cache's memory stays level.
TEST_F(PartitionStateTest, TheCacheIsBoundedInBytes) {
  constexpr uint64_t kBound = 64 << 10;
  RuleSet rules = TwoCartRules();
  PartitionState rocks(*db_, 0, kBound);
  PartitionPipeline pipeline(rules, rocks, 0, DedupPolicy{24 * kHourMs, 64});
  std::mt19937 rng(11);
  TimeMs t = kT0;
  uint64_t most_cached = 0;
  int evictions = 0;
  for (int i = 0; i < 6000; ++i) {
    t += std::uniform_int_distribution<int>(0, 2'000)(rng);
    std::vector<v1::Trigger> fired;
    ASSERT_TRUE(
        pipeline.Process(CartOrView(i, "customer-" + std::to_string(rng() % 300), t, rng), fired)
            .ok());
    most_cached = std::max(most_cached, rocks.cached_bytes());
    if (i % 50 == 49) {
      const size_t before = rocks.cached_customers();
      Commit(rocks);
      EXPECT_LE(rocks.cached_bytes(), kBound) << "after commit " << i / 50;
      if (rocks.cached_customers() < before) {
        ++evictions;
        // Stopped within a customer or two (~1 KB each here) of the eviction's target.
        EXPECT_GE(rocks.cached_bytes(), kBound * (PartitionState::kEvictToPercent - 3) / 100)
            << "evicted far below the bound";
      }
    }
  }
  EXPECT_GT(most_cached, kBound) << "the load must outgrow the bound between commits";
  EXPECT_GT(evictions, 0);
}

// The bound's estimate against what the cache really holds: the heap that goes when the store
// does (glibc's malloc, which the unit tests use, not jemalloc: mallinfo2's bytes in use, which
// count chunks in this thread's tcache as in use, so a little below the truth). Not below it,
// and not far above (the gauge touchstream_state_cache_bytes reports the estimate as memory).
TEST_F(PartitionStateTest, TheCacheEstimateCoversWhatItHolds) {
  RuleSet rules = TwoCartRules();
  std::mt19937 rng(12);
  const size_t heap_before = mallinfo2().uordblks;
  auto rocks = std::make_unique<PartitionState>(*db_, 0, /*max_cache_bytes=*/1ull << 30);
  uint64_t estimate = 0;
  size_t customers = 0;
  {
    PartitionPipeline pipeline(rules, *rocks, 0, DedupPolicy{24 * kHourMs, 64});
    TimeMs t = kT0;
    for (int i = 0; i < 20000; ++i) {
      t += std::uniform_int_distribution<int>(0, 2'000)(rng);
      std::vector<v1::Trigger> fired;
      ASSERT_TRUE(
          pipeline.Process(CartOrView(i, "customer-" + std::to_string(rng() % 2000), t, rng), fired)
              .ok());
      if (i % 500 == 499) Commit(*rocks);
    }
    Commit(*rocks);
    estimate = rocks->cached_bytes();
    customers = rocks->cached_customers();
  }
  const size_t heap_with_cache = mallinfo2().uordblks;
  rocks.reset();
  const size_t heap_after = mallinfo2().uordblks;
  ASSERT_GT(heap_with_cache, heap_after);
  const uint64_t held = heap_with_cache - heap_after;
  EXPECT_EQ(customers, 2000u);
  EXPECT_GE(estimate, held) << customers << " customers";
  EXPECT_LE(estimate, 2 * held) << customers << " customers";
  // What the store freed is about what it took (RocksDB's own memory is the store's, not the
  // cache's, and stayed).
  EXPECT_LE(held, heap_with_cache - heap_before);
}

TEST_F(PartitionStateTest, AStoredStateThatDoesNotParseIsCorruptionNotAFreshCustomer) {
  const std::string garbage = "\x0a\xff\xff\xff\xff";  // field 1, a length past the end
  CommitBatch batch(*db_);
  batch.PutCustomerValue(3, "ann", &garbage);
  ASSERT_TRUE(batch.Commit().ok());
  PartitionState state(*db_, 3);
  // Applying an event to a default state would forget the customer: the caller must rebuild.
  auto ann = state.Mutable("ann");
  EXPECT_EQ(ann.status().code(), Status::Code::kCorruption) << ann.status().message();
  EXPECT_EQ(state.Read("ann").status().code(), Status::Code::kCorruption);
  EXPECT_EQ(
      db_->ForEachEntryOf(3, [](const std::string&, CustomerState) { return Status::Ok(); }).code(),
      Status::Code::kCorruption);
}

TEST_F(PartitionStateTest, ANewCustomersEventUnderErasureMemoryReadsTheStoreOnceForEachKey) {
  RuleSet rules = testing::CartRule();
  PartitionState rocks(*db_, 0);
  PartitionPipeline pipeline(rules, rocks, 0);
  const PrivacySettings privacy{"a-hash-key-of-thirty-two-bytes!!"};
  pipeline.SetPrivacy(&privacy);
  std::vector<v1::Trigger> fired;
  ASSERT_TRUE(pipeline.Process(Event("e1", "newcomer", kT0, v1::EVENT_TYPE_PAGE_VIEW), fired).ok());
  // Whether the customer was erased: their state (none), then the erasure memory's entry (none).
  // Applying the event reuses the first read.
  EXPECT_EQ(rocks.store_reads(), 2u);
  ASSERT_TRUE(
      pipeline.Process(Event("e2", "newcomer", kT0 + 1000, v1::EVENT_TYPE_PAGE_VIEW), fired).ok());
  EXPECT_EQ(rocks.store_reads(), 2u) << "cached";
}

// A timer group's customer is decided before the forget timers due at its instant load erasure
// memories (their keys sort after every customer id): with more of them than the store keeps
// parsed, the group's state was closed under the pipeline, its send went into an erasure
// memory's message and was lost, and the cap let a second cart reminder through. The same
// events on the in-memory store are the reference.
TEST_F(PartitionStateTest, ATimerGroupOutlastsTheForgetTimersAtItsInstant) {
  const auto drive = [&](PartitionStore& store, PartitionState* rocks) {
    RuleSet rules = testing::CartRule();
    PolicyConfig config;
    config.caps.push_back(FrequencyCap{1, 24 * kHourMs, {}});
    PolicyStage policy(config, TimeZoneCatalog::System());
    const PrivacySettings privacy{"a-hash-key-of-thirty-two-bytes!!", 2 * kHourMs};
    PartitionPipeline pipeline(rules, store, 0);
    pipeline.SetPolicy(&policy);
    pipeline.SetPrivacy(&privacy);
    std::vector<v1::Trigger> out;
    const auto commit = [&] {
      if (rocks != nullptr) Commit(*rocks);
    };
    // Twice as many erasure memories as the store keeps parsed, forgotten at kT0 + 2h.
    for (size_t i = 0; i < 2 * PartitionStore::kHeldStates; ++i) {
      EXPECT_TRUE(pipeline
                      .Process(Event("x" + std::to_string(i), "gone" + std::to_string(i), kT0,
                                     v1::EVENT_TYPE_ERASURE_REQUEST),
                               out)
                      .ok());
    }
    commit();
    // amy's cart reminder is due at kT0 + 2h too; a second cart's is capped (one a day).
    EXPECT_TRUE(pipeline
                    .Process(WithItem(Event("a1", "amy", kT0 + kHourMs, v1::EVENT_TYPE_ADD_TO_CART),
                                      "sku", 1, 100),
                             out)
                    .ok());
    EXPECT_TRUE(pipeline.AdvanceWatermark(kT0 + 3 * kHourMs, out).ok());
    EXPECT_TRUE(
        pipeline
            .Process(WithItem(Event("a2", "amy", kT0 + 3 * kHourMs, v1::EVENT_TYPE_ADD_TO_CART),
                              "sku2", 1, 100),
                     out)
            .ok());
    EXPECT_TRUE(pipeline.AdvanceWatermark(kT0 + 5 * kHourMs, out).ok());
    commit();
    std::vector<std::string> triggers;
    for (const v1::Trigger& t : out) triggers.push_back(t.trigger_id() + "@" + t.customer_id());
    StatusOr<const CustomerState*> amy = store.Find("amy");
    EXPECT_TRUE(amy.ok() && *amy != nullptr);
    return std::make_pair(triggers, amy.ok() && *amy ? (*amy)->policy().DebugString() : "");
  };
  MemoryStore memory;
  const auto expected = drive(memory, nullptr);
  PartitionState rocks(*db_, 0);
  const auto actual = drive(rocks, &rocks);
  EXPECT_EQ(actual.first.size(), 1u);
  EXPECT_EQ(actual.first, expected.first);
  EXPECT_EQ(actual.second, expected.second);
}

}  // namespace
}  // namespace touchstream
