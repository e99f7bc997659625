// processor/core/rule_timer.h: a rule's timer index entry follows a due time that moves later
// lazily (no index write), is re-armed when it comes due (no trigger, no state write), moves at
// once when the due time moves earlier or is cleared, and an erasure finds it wherever it is.
#include "processor/core/rule_timer.h"

#include <gtest/gtest.h>

#include "processor/core/memory_store.h"
#include "processor/core/pipeline.h"
#include "processor/rules/cart_abandonment_rule.h"
#include "processor/rules/win_back_rule.h"
#include "tests/driver/driver_test.h"
#include "tests/unit/test_events.h"
#include "tests/unit/test_rules.h"

namespace touchstream {
namespace {

using testing::Event;
using testing::kT0;
using testing::WithItem;

v1::state::RuleState State(TimeMs due_ms, TimeMs indexed_ms = 0) {
  v1::state::RuleState s;
  s.set_due_ms(due_ms);
  s.set_indexed_ms(indexed_ms);
  return s;
}

TEST(RuleTimerTest, TheEntryStaysWhenTheDueTimeMovesLaterAndMovesWhenItMovesEarlier) {
  // Armed: no entry yet.
  v1::state::RuleState s = State(100);
  TimerMove move = FollowDue(s, 0);
  EXPECT_EQ(move.cancel_ms, 0);
  EXPECT_EQ(move.schedule_ms, 100);
  EXPECT_EQ(s.indexed_ms(), 0);
  // Later: the entry stays at 100 and lags.
  s.set_due_ms(150);
  move = FollowDue(s, 100);
  EXPECT_EQ(move.cancel_ms, 0);
  EXPECT_EQ(move.schedule_ms, 0);
  EXPECT_EQ(s.indexed_ms(), 100);
  // Later again: still at 100.
  s.set_due_ms(180);
  move = FollowDue(s, IndexedAt(s, 90));  // lagging: IndexedAt reads indexed_ms, not due_ms
  EXPECT_EQ(move.schedule_ms, 0);
  EXPECT_EQ(s.indexed_ms(), 100);
  // Back to exactly the entry's time: no longer lagging.
  TimeMs indexed = IndexedAt(s, 90);
  s.set_due_ms(100);
  move = FollowDue(s, indexed);
  EXPECT_EQ(move.schedule_ms, 0);
  EXPECT_EQ(s.indexed_ms(), 0);
  // Earlier than the entry: it moves.
  indexed = IndexedAt(s, 50);
  s.set_due_ms(80);
  move = FollowDue(s, indexed);
  EXPECT_EQ(move.cancel_ms, 100);
  EXPECT_EQ(move.schedule_ms, 80);
  EXPECT_EQ(s.indexed_ms(), 0);
  // Cleared while lagging: the entry goes.
  s = State(0, 100);
  move = FollowDue(s, 100);
  EXPECT_EQ(move.cancel_ms, 100);
  EXPECT_EQ(move.schedule_ms, 0);
  EXPECT_EQ(s.indexed_ms(), 0);
}

TEST(RuleTimerTest, ALaggingEntryIsAtTheDueTimeOnceTheWatermarkPassedIt) {
  const v1::state::RuleState lagging = State(200, 100);
  EXPECT_EQ(IndexedAt(lagging, 99), 100);
  EXPECT_EQ(IndexedAt(lagging, 100), 200) << "popped at 100 and re-armed at the due time";
  EXPECT_EQ(IndexedAt(State(200), 150), 200);
  EXPECT_EQ(IndexedAt(State(0), 150), 0);
  // When an event is applied, nothing at or before the watermark is left in the index.
  EXPECT_EQ(LiveEntry(lagging, 99), 100);
  EXPECT_EQ(LiveEntry(lagging, 150), 200);
  EXPECT_EQ(LiveEntry(lagging, 200), 0) << "popped: fired, or dropped with its rule out";

  EXPECT_EQ(ClassifyPopped(lagging, 100), PoppedTimer::kRearm);
  EXPECT_EQ(ClassifyPopped(lagging, 200), PoppedTimer::kDue);
  EXPECT_EQ(ClassifyPopped(lagging, 150), PoppedTimer::kStale);
  EXPECT_EQ(ClassifyPopped(State(200), 100), PoppedTimer::kStale);
}

// A MemoryStore that counts the timer index's writes.
class CountingStore final : public PartitionStore {
 public:
  StatusOr<CustomerState*> Mutable(const std::string& id) override { return inner_.Mutable(id); }
  StatusOr<const CustomerState*> Find(const std::string& id) override { return inner_.Find(id); }
  StatusOr<const CustomerState*> Peek(const std::string& id) override { return inner_.Peek(id); }
  void Erase(const std::string& id) override { inner_.Erase(id); }
  void ScheduleTimer(const TimerKey& key) override {
    ++schedules;
    inner_.ScheduleTimer(key);
  }
  void CancelTimer(const TimerKey& key) override {
    ++cancels;
    inner_.CancelTimer(key);
  }
  StatusOr<std::optional<TimerKey>> PopDueTimer(const TimerLimit& limit) override {
    return inner_.PopDueTimer(limit);
  }
  StatusOr<std::optional<TimeMs>> NextTimerDue() override { return inner_.NextTimerDue(); }

  int schedules = 0;
  int cancels = 0;

 private:
  MemoryStore inner_;
};

class LazyTimerPipelineTest : public ::testing::Test {
 protected:
  static RuleSet CartRule() {
    RuleSet rules = testing::CartRule();
    return rules;
  }

  std::vector<std::string> Process(const v1::TouchpointEvent& event) {
    std::vector<v1::Trigger> out;
    StatusOr<EventStep> step = pipeline_.Process(event, out);
    EXPECT_TRUE(step.ok()) << step.status().message();
    return Describe(out);
  }
  std::vector<std::string> AdvanceTo(TimeMs t) {
    std::vector<v1::Trigger> out;
    EXPECT_TRUE(pipeline_.AdvanceWatermark(t, out).ok());
    return Describe(out);
  }
  static std::vector<std::string> Describe(const std::vector<v1::Trigger>& triggers) {
    std::vector<std::string> lines;
    for (const auto& t : triggers) lines.push_back(testing::Describe(t) + " " + t.cause_event_id());
    return lines;
  }
  static v1::TouchpointEvent Add(const std::string& id, TimeMs t) {
    return WithItem(Event(id, "amy", t, v1::EVENT_TYPE_ADD_TO_CART), "sku-" + id, 1, 1000);
  }
  const v1::state::RuleState& AmysCart() {
    const CustomerState* amy = *store_.Find("amy");
    return *FindRuleState(*amy, "cart_1h");
  }
  // Every entry left in the index, popped.
  std::vector<TimerKey> DrainIndex() {
    std::vector<TimerKey> left;
    while (true) {
      auto next = store_.PopDueTimer(TimerLimit{std::numeric_limits<TimeMs>::max()});
      EXPECT_TRUE(next.ok());
      if (!next.ok() || !next->has_value()) return left;
      left.push_back(**next);
    }
  }

  RuleSet rules_ = CartRule();
  CountingStore store_;
  PartitionPipeline pipeline_{rules_, store_, /*allowed_lateness_ms=*/0};
};

TEST_F(LazyTimerPipelineTest, ACartChangedEveryTenMinutesWritesItsEntryOnceAndFiresOnTime) {
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(Process(Add("e" + std::to_string(i), kT0 + i * 10 * kMinuteMs)).empty());
  }
  // The hour restarted three times; the index holds the first change's entry only.
  EXPECT_EQ(store_.schedules, 1);
  EXPECT_EQ(store_.cancels, 0);
  EXPECT_EQ(AmysCart().due_ms(), kT0 + 90 * kMinuteMs);
  EXPECT_EQ(AmysCart().indexed_ms(), kT0 + kHourMs);

  // The entry comes due: re-armed at the due time, nothing sent, the state not rewritten.
  const std::string before = (*store_.Find("amy"))->SerializeAsString();
  EXPECT_TRUE(AdvanceTo(kT0 + kHourMs).empty());
  EXPECT_EQ(pipeline_.timers_rearmed(), 1u);
  EXPECT_EQ(store_.schedules, 2);
  EXPECT_EQ((*store_.Find("amy"))->SerializeAsString(), before);

  EXPECT_TRUE(AdvanceTo(kT0 + 90 * kMinuteMs - 1).empty());
  EXPECT_EQ(AdvanceTo(kT0 + 90 * kMinuteMs),
            std::vector<std::string>{"CART_ABANDONED cart_1h amy @+5400s e3"});
  EXPECT_TRUE(DrainIndex().empty());
}

TEST_F(LazyTimerPipelineTest, ADueTimeClearedTakesTheLaggingEntryWithIt) {
  EXPECT_TRUE(Process(Add("e1", kT0)).empty());
  EXPECT_TRUE(Process(Add("e2", kT0 + 20 * kMinuteMs)).empty());
  ASSERT_EQ(AmysCart().indexed_ms(), kT0 + kHourMs);
  v1::TouchpointEvent purchase = Event("e3", "amy", kT0 + 30 * kMinuteMs, v1::EVENT_TYPE_PURCHASE);
  purchase.set_amount_minor(2000);
  EXPECT_TRUE(Process(purchase).empty());  // the cart is bought: nothing left to fire
  EXPECT_EQ(store_.cancels, 1);
  EXPECT_TRUE(DrainIndex().empty());
}

TEST_F(LazyTimerPipelineTest, AnErasureRemovesTheEntryWhetherItLagsOrWasReArmed) {
  // Lagging: the entry is at the first change's hour.
  EXPECT_TRUE(Process(Add("e1", kT0)).empty());
  EXPECT_TRUE(Process(Add("e2", kT0 + 20 * kMinuteMs)).empty());
  EXPECT_TRUE(Process(Event("x1", "amy", kT0 + 30 * kMinuteMs, v1::EVENT_TYPE_ERASURE_REQUEST))
                  .empty());
  EXPECT_TRUE(DrainIndex().empty()) << "an entry keyed by the erased customer's id was left";

  // Re-armed: the state still names the popped entry; the index holds the due time's.
  EXPECT_TRUE(Process(Add("e3", kT0 + 2 * kHourMs)).empty());
  EXPECT_TRUE(Process(Add("e4", kT0 + 2 * kHourMs + 20 * kMinuteMs)).empty());
  EXPECT_TRUE(AdvanceTo(kT0 + 3 * kHourMs).empty());
  ASSERT_EQ(pipeline_.timers_rearmed(), 1u);
  ASSERT_EQ(AmysCart().indexed_ms(), kT0 + 3 * kHourMs);
  EXPECT_TRUE(Process(Event("x2", "amy", kT0 + 3 * kHourMs + kMinuteMs,
                            v1::EVENT_TYPE_ERASURE_REQUEST))
                  .empty());
  EXPECT_TRUE(DrainIndex().empty()) << "an entry keyed by the erased customer's id was left";
}

TEST_F(LazyTimerPipelineTest, AnEventAfterTheReArmKeepsTheReArmedEntry) {
  EXPECT_TRUE(Process(Add("e1", kT0)).empty());
  EXPECT_TRUE(Process(Add("e2", kT0 + 20 * kMinuteMs)).empty());
  EXPECT_TRUE(AdvanceTo(kT0 + kHourMs).empty());  // re-armed at +80 min
  EXPECT_TRUE(Process(Add("e3", kT0 + 70 * kMinuteMs)).empty());
  // The entry at +80 min lags behind the new due time, +130 min; no write.
  EXPECT_EQ(store_.schedules, 2);
  EXPECT_EQ(store_.cancels, 0);
  EXPECT_EQ(AmysCart().indexed_ms(), kT0 + 80 * kMinuteMs);
  EXPECT_TRUE(AdvanceTo(kT0 + 129 * kMinuteMs).empty());
  EXPECT_EQ(AdvanceTo(kT0 + 130 * kMinuteMs),
            std::vector<std::string>{"CART_ABANDONED cart_1h amy @+7800s e3"});
  EXPECT_EQ(pipeline_.timers_rearmed(), 2u);
  EXPECT_TRUE(DrainIndex().empty());
}

// A win-back whose first tier fired waits for the second; an engagement restarts the dormancy,
// and its first tier is due before the second was: the entry moves earlier at once.
TEST(LazyTimerWinBackTest, AnEngagementThatBringsTheNextTierForwardMovesTheEntry) {
  RuleSet rules;
  rules.push_back(std::make_unique<WinBackRule>(
      "win_back", WinBackParams{{kHourMs, 10 * kHourMs}, /*require_purchase=*/false}));
  CountingStore store;
  PartitionPipeline pipeline(rules, store, 0);
  std::vector<v1::Trigger> out;
  auto describe = [&] {
    std::vector<std::string> lines = testing::Describe(out);
    out.clear();
    return lines;
  };
  using V = std::vector<std::string>;
  ASSERT_TRUE(pipeline.Process(Event("e1", "amy", kT0, v1::EVENT_TYPE_PAGE_VIEW), out).ok());
  ASSERT_TRUE(pipeline.AdvanceWatermark(kT0 + kHourMs, out).ok());
  EXPECT_EQ(describe(), V{"WIN_BACK win_back amy @+3600s"});  // the second tier: due at +10 h
  ASSERT_TRUE(
      pipeline.Process(Event("e2", "amy", kT0 + 2 * kHourMs, v1::EVENT_TYPE_PAGE_VIEW), out).ok());
  EXPECT_EQ(describe(), V{"REACTIVATED win_back amy @+7200s"});
  EXPECT_EQ(store.cancels, 1) << "the entry at +10 h moves to the new first tier's +3 h";
  ASSERT_TRUE(pipeline.AdvanceWatermark(kT0 + 3 * kHourMs, out).ok());
  EXPECT_EQ(describe(), V{"WIN_BACK win_back amy @+10800s"});
  ASSERT_TRUE(pipeline.AdvanceWatermark(kT0 + 12 * kHourMs, out).ok());
  EXPECT_EQ(describe(), V{"WIN_BACK win_back amy @+43200s"});
  EXPECT_EQ(pipeline.timers_rearmed(), 0u);
}

// A rule taken out of the config and put back (two restarts) on the same store and clock.
class RuleOutOfTheConfigTest : public ::testing::Test {
 protected:
  RuleOutOfTheConfigTest() {
    with_.push_back(
        std::make_unique<CartAbandonmentRule>("cart_1h", CartAbandonmentParams{kHourMs, 0}));
  }
  // A pipeline as a restart makes it: on the store, its clock at `clock_ms`.
  std::unique_ptr<PartitionPipeline> Restart(const RuleSet& rules, TimeMs clock_ms) {
    auto pipeline = std::make_unique<PartitionPipeline>(rules, store_, 0);
    pipeline->RestoreClock(clock_ms, clock_ms);
    return pipeline;
  }
  static v1::TouchpointEvent Add(const std::string& id, TimeMs t) {
    return WithItem(Event(id, "amy", t, v1::EVENT_TYPE_ADD_TO_CART), "sku-" + id, 1, 1000);
  }

  RuleSet with_;
  RuleSet without_;
  MemoryStore store_;
  std::vector<v1::Trigger> out_;
};

TEST_F(RuleOutOfTheConfigTest, ALaggingEntryPoppedWhileItsRuleIsOutFiresOnTimeWhenItIsBack) {
  auto pipeline = Restart(with_, kT0);
  ASSERT_TRUE(pipeline->Process(Add("e1", kT0), out_).ok());
  ASSERT_TRUE(pipeline->Process(Add("e2", kT0 + 20 * kMinuteMs), out_).ok());  // due +80 min
  // Out of the config while the lagging entry (+60 min) pops: re-armed all the same.
  pipeline = Restart(without_, kT0 + 20 * kMinuteMs);
  ASSERT_TRUE(pipeline->AdvanceWatermark(kT0 + 70 * kMinuteMs, out_).ok());
  pipeline = Restart(with_, kT0 + 70 * kMinuteMs);
  ASSERT_TRUE(pipeline->AdvanceWatermark(kT0 + 200 * kMinuteMs, out_).ok());
  ASSERT_EQ(out_.size(), 1u) << "the cart due at +80 min did not fire";
  EXPECT_EQ(ToTimeMs(out_[0].fire_time()), kT0 + 80 * kMinuteMs);
}

TEST_F(RuleOutOfTheConfigTest, ARuleBackAfterItsDueTimePassedIsIndexedAgainByItsNextEvent) {
  auto pipeline = Restart(with_, kT0);
  ASSERT_TRUE(pipeline->Process(Add("e1", kT0), out_).ok());  // due +60 min
  // Out of the config when it comes due: its entry is dropped, the state keeps the due time.
  pipeline = Restart(without_, kT0);
  ASSERT_TRUE(pipeline->AdvanceWatermark(kT0 + 90 * kMinuteMs, out_).ok());
  pipeline = Restart(with_, kT0 + 90 * kMinuteMs);
  ASSERT_TRUE(pipeline->Process(Add("e3", kT0 + 100 * kMinuteMs), out_).ok());  // due +160 min
  ASSERT_TRUE(pipeline->AdvanceWatermark(kT0 + 300 * kMinuteMs, out_).ok());
  ASSERT_EQ(out_.size(), 1u) << "the cart due at +160 min did not fire";
  EXPECT_EQ(ToTimeMs(out_[0].fire_time()), kT0 + 160 * kMinuteMs);
}

// Whether an entry lags depends on the watermark; what the state limits trim must not.
TEST(RuleTimerLimitsTest, TheStateLimitsMeasureTheStateWithoutTheIndexBookkeeping) {
  RuleSet rules = testing::CartRule();
  const std::vector<v1::TouchpointEvent> events = {
      WithItem(Event("e1", "amy", kT0, v1::EVENT_TYPE_ADD_TO_CART), "sku-1", 1, 1000),
      WithItem(Event("e2", "amy", kT0 + kMinuteMs, v1::EVENT_TYPE_ADD_TO_CART), "sku-2", 1, 1000)};
  auto run = [&](StateLimits limits, TrimCounts& trims) {
    MemoryStore store;
    PartitionPipeline pipeline(rules, store, 0, DedupPolicy{}, limits);
    std::vector<v1::Trigger> out;
    for (const auto& e : events) EXPECT_TRUE(pipeline.Process(e, out).ok());
    trims = pipeline.trims();
    return store.customers().at("amy");
  };
  TrimCounts unlimited_trims;
  const CustomerState unlimited = run(StateLimits{}, unlimited_trims);
  ASSERT_NE(FindRuleState(unlimited, "cart_1h")->indexed_ms(), 0) << "the entry should lag";
  CustomerState without = unlimited;
  without.mutable_rules(0)->mutable_state()->clear_indexed_ms();
  ASSERT_LT(without.ByteSizeLong(), unlimited.ByteSizeLong());

  // A limit the state meets only without indexed_ms: nothing is trimmed, indexed_ms is kept.
  TrimCounts trims;
  const CustomerState limited = run(StateLimits{200, without.ByteSizeLong()}, trims);
  EXPECT_EQ(trims.total(), 0u);
  EXPECT_EQ(limited.SerializeAsString(), unlimited.SerializeAsString());
}

// Through the driver (the RocksDB store and the commits of `run`): the re-arm, and the metrics.
class LazyTimerDriverTest : public testing::DriverTest {
 protected:
  void SetUp() override {
    RuleSet rules = testing::CartRule();
    Start(std::move(rules));
  }
  double Popped() { return driver_->metrics().timers_popped().Value(); }
  double Rearmed() { return driver_->metrics().timers_rearmed().Value(); }
};

TEST_F(LazyTimerDriverTest, ALaggingEntryIsReArmedInTheStoreAndCounted) {
  Process(WithItem(Event("e1", "amy", kT0, v1::EVENT_TYPE_ADD_TO_CART), "sku-1", 1, 1000));
  Process(WithItem(Event("e2", "amy", kT0 + 20 * kMinuteMs, v1::EVENT_TYPE_ADD_TO_CART), "sku-2",
                   1, 1000));
  EXPECT_EQ(driver_->ReadState("amy")->rules(0).state().indexed_ms(), kT0 + kHourMs);
  EXPECT_EQ(AdvanceTo(kT0 + kHourMs), V{});
  EXPECT_EQ(Popped(), 1);
  EXPECT_EQ(Rearmed(), 1);
  EXPECT_EQ(AdvanceTo(kT0 + 80 * kMinuteMs - 1), V{});
  EXPECT_EQ(AdvanceTo(kT0 + 80 * kMinuteMs), V{"CART_ABANDONED cart_1h amy @+4800s"});
  EXPECT_EQ(Popped(), 2);
  EXPECT_EQ(Rearmed(), 1);
}

}  // namespace
}  // namespace touchstream
