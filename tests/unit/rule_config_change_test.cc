// A rule's config changed between runs while customers' states and timers stay: a timer armed
// under the old parameters follows the new ones when it comes due (a later due time re-arms it,
// Rule::OnTimer), and a rule id given to a rule of another kind drops the old kind's state and
// timer (Rule::state_kind), rather than reading it as its own.
#include <gtest/gtest.h>

#include "processor/core/memory_store.h"
#include "processor/core/pipeline.h"
#include "processor/policy/policy_stage.h"
#include "processor/rules/browse_abandonment_rule.h"
#include "processor/rules/cart_abandonment_rule.h"
#include "processor/rules/reward_window_rule.h"
#include "processor/rules/win_back_rule.h"
#include "tests/unit/test_events.h"

namespace touchstream {
namespace {

using testing::Describe;
using testing::Event;
using testing::kT0;
using testing::WithItem;
using V = std::vector<std::string>;

class RuleConfigChangeTest : public ::testing::Test {
 protected:
  // A pipeline as a restart with `rule` makes it: on the same store, its clock at `clock_ms`.
  void Restart(std::unique_ptr<const Rule> rule, TimeMs clock_ms) {
    pipeline_.reset();
    rules_.clear();
    rules_.push_back(std::move(rule));
    pipeline_ = std::make_unique<PartitionPipeline>(rules_, store_, 0);
    pipeline_->RestoreClock(clock_ms, clock_ms);
    if (with_policy_) pipeline_->SetPolicy(&policy_);
  }
  V Process(const v1::TouchpointEvent& e) {
    std::vector<v1::Trigger> out;
    EXPECT_TRUE(pipeline_->Process(e, out).ok());
    return Describe(out);
  }
  V AdvanceTo(TimeMs t) {
    std::vector<v1::Trigger> out;
    EXPECT_TRUE(pipeline_->AdvanceWatermark(t, out).ok());
    last_ = out;
    return Describe(out);
  }
  static std::unique_ptr<const Rule> Cart(DurationMs delay_ms) {
    return std::make_unique<CartAbandonmentRule>("nudge", CartAbandonmentParams{delay_ms, 0});
  }
  static std::unique_ptr<const Rule> WinBack(std::vector<DurationMs> tiers_ms) {
    return std::make_unique<WinBackRule>("nudge", WinBackParams{std::move(tiers_ms), true});
  }
  static std::unique_ptr<const Rule> Reward(DurationMs reminder_before_ms) {
    RewardWindowParams params;
    params.reminder_before_ms = reminder_before_ms;
    return std::make_unique<RewardWindowRule>("nudge", params);
  }
  static v1::TouchpointEvent Add(const std::string& id, TimeMs t) {
    return WithItem(Event(id, "amy", t, v1::EVENT_TYPE_ADD_TO_CART), "sku-" + id, 1, 1000);
  }
  static v1::TouchpointEvent Buy(const std::string& id, TimeMs t) {
    return WithItem(Event(id, "amy", t, v1::EVENT_TYPE_PURCHASE), "sku-" + id, 1, 1000);
  }

  bool with_policy_ = false;
  PolicyConfig policy_config_;
  PolicyStage policy_{policy_config_, TimeZoneCatalog::System()};
  MemoryStore store_;
  RuleSet rules_;
  std::unique_ptr<PartitionPipeline> pipeline_;
  std::vector<v1::Trigger> last_;
};

TEST_F(RuleConfigChangeTest, AnIdGivenToAWinBackDropsTheCartsStateAndTimer) {
  Restart(Cart(kHourMs), kT0);
  EXPECT_EQ(Process(Buy("p1", kT0)), V{});
  EXPECT_EQ(Process(Add("a1", kT0 + kMinuteMs)), V{});  // the cart is due at +61 min
  Restart(WinBack({7 * kDayMs}), kT0 + kMinuteMs);
  EXPECT_EQ(AdvanceTo(kT0 + 2 * kHourMs), V{}) << "the cart's timer read as a win-back's";
  // The win-back's own dormancy starts at the customer's next engagement, with no REACTIVATED.
  EXPECT_EQ(Process(Add("a2", kT0 + 3 * kHourMs)), V{});
  EXPECT_EQ(AdvanceTo(kT0 + 3 * kHourMs + 7 * kDayMs),
            V{"WIN_BACK nudge amy @+" + std::to_string((3 * kHourMs + 7 * kDayMs) / 1000) + "s"});
  EXPECT_EQ(last_.at(0).win_back().inactive_days(), 7);
}

TEST_F(RuleConfigChangeTest, AnIdGivenToACartDropsTheWinBacksStateAndTimer) {
  Restart(WinBack({7 * kDayMs}), kT0);
  EXPECT_EQ(Process(Buy("p1", kT0)), V{});
  EXPECT_EQ(Process(Add("a1", kT0 + kMinuteMs)), V{});  // a win-back due 7 days after
  Restart(Cart(kHourMs), kT0 + kMinuteMs);
  EXPECT_EQ(AdvanceTo(kT0 + 8 * kDayMs), V{}) << "the win-back's timer read as a cart's";
  ASSERT_EQ(store_.customers().at("amy").rules_size(), 0) << "the win-back's state is kept";
}

TEST_F(RuleConfigChangeTest, AWinBackTierMadeLongerFiresAtItsNewTime) {
  Restart(WinBack({7 * kDayMs}), kT0);
  EXPECT_EQ(Process(Buy("p1", kT0)), V{});
  Restart(WinBack({30 * kDayMs}), kT0);
  EXPECT_EQ(AdvanceTo(kT0 + 8 * kDayMs), V{}) << "tier 1 fired at the old 7 days";
  EXPECT_EQ(AdvanceTo(kT0 + 31 * kDayMs),
            V{"WIN_BACK nudge amy @+" + std::to_string(30 * kDayMs / 1000) + "s"});
  EXPECT_EQ(last_.at(0).win_back().inactive_days(), 30);
}

TEST_F(RuleConfigChangeTest, ACartDelayMadeLongerFiresAtItsNewTime) {
  Restart(Cart(kHourMs), kT0);
  EXPECT_EQ(Process(Add("a1", kT0)), V{});
  Restart(Cart(2 * kHourMs), kT0);
  EXPECT_EQ(AdvanceTo(kT0 + 90 * kMinuteMs), V{}) << "fired at the old hour";
  EXPECT_EQ(AdvanceTo(kT0 + 3 * kHourMs), V{"CART_ABANDONED nudge amy @+7200s"});
}

TEST_F(RuleConfigChangeTest, ABrowseDelayMadeLongerFiresAtItsNewTime) {
  Restart(std::make_unique<BrowseAbandonmentRule>("nudge", BrowseAbandonmentParams{kHourMs, 5}),
          kT0);
  EXPECT_EQ(Process(WithItem(Event("v1", "amy", kT0, v1::EVENT_TYPE_PRODUCT_VIEW), "sku-1", 1, 10)),
            V{});
  Restart(std::make_unique<BrowseAbandonmentRule>("nudge", BrowseAbandonmentParams{2 * kHourMs, 5}),
          kT0);
  EXPECT_EQ(AdvanceTo(kT0 + 90 * kMinuteMs), V{}) << "fired at the old hour";
  EXPECT_EQ(AdvanceTo(kT0 + 3 * kHourMs), V{"BROWSE_ABANDONED nudge amy @+7200s"});
}

TEST_F(RuleConfigChangeTest, AReminderTurnedOffIsNotSent) {
  Restart(Reward(24 * kHourMs), kT0);
  EXPECT_EQ(Process(Event("o1", "amy", kT0, v1::EVENT_TYPE_OFFER_ACCEPTED)),
            V{"REWARD_WINDOW_OPENED nudge amy @+0s"});  // the reminder due at +48 h
  Restart(Reward(0), kT0);
  EXPECT_EQ(AdvanceTo(kT0 + 100 * kHourMs), V{"REWARD_WINDOW_EXPIRED nudge amy @+259200s"});
}

// A cart reminder deferred by quiet hours, released after the id went to a win-back: that rule
// does not stand behind a cart reminder (it would have said it holds, and sent it).
TEST_F(RuleConfigChangeTest, AnIdGivenToAnotherKindDoesNotReleaseTheOldKindsDeferrals) {
  with_policy_ = true;
  policy_config_.quiet_hours = {true, 0, 8 * 60};  // 00:00-08:00 UTC; kT0 is midnight
  Restart(Cart(kHourMs), kT0);
  EXPECT_EQ(Process(Buy("p1", kT0)), V{});
  EXPECT_EQ(Process(Add("a1", kT0 + kMinuteMs)), V{});
  EXPECT_EQ(AdvanceTo(kT0 + 2 * kHourMs), V{}) << "the reminder is deferred to 08:00";
  Restart(WinBack({30 * kDayMs}), kT0 + 2 * kHourMs);
  EXPECT_EQ(AdvanceTo(kT0 + 9 * kHourMs), V{}) << "released under the win-back rule";
  ASSERT_FALSE(pipeline_->audits().empty());
  EXPECT_EQ(pipeline_->audits().back().reason(), "superseded");
}

}  // namespace
}  // namespace touchstream
