#include "processor/rules/reward_window_rule.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "tests/driver/driver_test.h"

namespace touchstream {
namespace {

using testing::Event;
using testing::kT0;
using testing::WithItem;
using V = std::vector<std::string>;

constexpr TimeMs Hour(int n) { return kT0 + n * kHourMs; }

// "REWARD_EARNED rw c1 @+1h 1/5000": type, rule, customer, fire time in hours after kT0,
// purchases/amount so far, and "+N points" when bonus points were awarded.
std::string Describe(const v1::Trigger& t) {
  const TimeMs since = ToTimeMs(t.fire_time()) - kT0;
  std::string s = v1::TriggerType_Name(t.type()).substr(13) + " " + t.rule_id() + " " +
                  t.customer_id() + " @+" +
                  (since % kHourMs == 0 ? std::to_string(since / kHourMs) + "h"
                                        : std::to_string(since) + "ms") +
                  " " + std::to_string(t.reward().purchases()) + "/" +
                  std::to_string(t.reward().amount_minor());
  if (t.reward().bonus_points() != 0) {
    s += " +" + std::to_string(t.reward().bonus_points()) + " points";
  }
  return s;
}

RewardWindowParams Offer() { return {}; }

class RewardWindowRuleTest : public testing::DriverTest {
 protected:
  void SetUp() override { Start({{"rw", Offer()}}); }

  void Start(std::vector<std::pair<std::string, RewardWindowParams>> rules,
             DurationMs allowed_lateness_ms = 0) {
    RuleSet set;
    for (auto& [id, params] : rules) {
      set.push_back(std::make_unique<RewardWindowRule>(id, std::move(params)));
    }
    testing::DriverOptions options;
    options.allowed_lateness_ms = allowed_lateness_ms;
    DriverTest::Start(std::move(set), options);
  }
  void Start(RewardWindowParams params) { Start({{"rw", std::move(params)}}); }
  std::string DescribeTrigger(const v1::Trigger& t) const override { return Describe(t); }

  static v1::TouchpointEvent Accept(const std::string& id, TimeMs t,
                                    const std::string& campaign = "spring") {
    v1::TouchpointEvent e = Event(id, "c1", t, v1::EVENT_TYPE_OFFER_ACCEPTED, v1::CHANNEL_EMAIL);
    e.set_campaign_id(campaign);
    return e;
  }
  static v1::TouchpointEvent Purchase(const std::string& id, TimeMs t, int64_t amount,
                                      v1::Channel channel = v1::CHANNEL_WEB) {
    v1::TouchpointEvent e = Event(id, "c1", t, v1::EVENT_TYPE_PURCHASE, channel);
    e.set_amount_minor(amount);
    return e;
  }
};

TEST_F(RewardWindowRuleTest, OpenerOpensAWindow) {
  EXPECT_EQ(Process(Accept("o1", kT0)), V{"REWARD_WINDOW_OPENED rw c1 @+0h 0/0"});
  const v1::Trigger& t = last_.at(0);
  EXPECT_EQ(t.reward().window_id(), "rw:" + std::to_string(kT0));
  EXPECT_EQ(t.reward().campaign_id(), "spring");
  EXPECT_EQ(ToTimeMs(t.reward().opens_at()), kT0);
  EXPECT_EQ(ToTimeMs(t.reward().expires_at()), Hour(72));
  EXPECT_EQ(t.cause_event_id(), "o1");
}

TEST_F(RewardWindowRuleTest, PurchaseInsideTheWindowEarnsAndCloses) {
  Process(Accept("o1", kT0));
  EXPECT_EQ(Process(Purchase("p1", Hour(5), 5000)), V{"REWARD_EARNED rw c1 @+5h 1/5000"});
  const v1::Trigger& t = last_.at(0);
  EXPECT_EQ(t.cause_event_id(), "p1");
  EXPECT_EQ(t.reward().window_id(), "rw:" + std::to_string(kT0));
  EXPECT_EQ(ToTimeMs(t.reward().expires_at()), Hour(72));
  EXPECT_EQ(Process(Purchase("p2", Hour(6), 100)), V{});
  EXPECT_EQ(AdvanceTo(Hour(200)), V{});
}

TEST_F(RewardWindowRuleTest, GoalNeedsBothPurchasesAndAmount) {
  RewardWindowParams params;
  params.goal_purchases = 2;
  params.goal_min_amount_minor = 10000;
  Start(params);
  Process(Accept("o1", kT0));
  EXPECT_EQ(Process(Purchase("p1", Hour(1), 9000)), V{});
  EXPECT_EQ(Process(Purchase("p2", Hour(2), 500)), V{});  // 2 purchases, 9500 < 10000
  EXPECT_EQ(Process(Purchase("p3", Hour(3), 700)), V{"REWARD_EARNED rw c1 @+3h 3/10200"});
}

TEST_F(RewardWindowRuleTest, BonusPointsAreAmountTimesPointsPerUnitOver100Floored) {
  RewardWindowParams params;
  params.points_per_unit = 7;
  Start(params);
  Process(Accept("o1", kT0));
  // 12345 × 7 / 100 = 864.15
  EXPECT_EQ(Process(Purchase("p1", Hour(1), 12345)),
            V{"REWARD_EARNED rw c1 @+1h 1/12345 +864 points"});
}

TEST_F(RewardWindowRuleTest, ItemsTotalCountsWhenAmountIsMissing) {
  RewardWindowParams params;
  params.goal_min_amount_minor = 3000;
  Start(params);
  Process(Accept("o1", kT0));
  EXPECT_EQ(Process(WithItem(Purchase("p1", Hour(1), 0), "sku", 3, 1000)),
            V{"REWARD_EARNED rw c1 @+1h 1/3000"});
}

TEST_F(RewardWindowRuleTest, InStorePurchaseCounts) {
  Process(Accept("o1", kT0));
  EXPECT_EQ(Process(Purchase("p1", Hour(30), 2500, v1::CHANNEL_IN_STORE)),
            V{"REWARD_EARNED rw c1 @+30h 1/2500"});
}

TEST_F(RewardWindowRuleTest, ExpiresWithTheGoalUnmet) {
  RewardWindowParams params;
  params.goal_min_amount_minor = 10000;
  Start(params);
  Process(Accept("o1", kT0));
  Process(Purchase("p1", Hour(1), 4000));
  EXPECT_EQ(AdvanceTo(Hour(72) - 1), V{});
  EXPECT_EQ(AdvanceTo(Hour(72)), V{"REWARD_WINDOW_EXPIRED rw c1 @+72h 1/4000"});
  EXPECT_EQ(last_.at(0).cause_event_id(), "o1");
  // Closed: the next opener opens a new window.
  EXPECT_EQ(Process(Accept("o2", Hour(80))), V{"REWARD_WINDOW_OPENED rw c1 @+80h 0/0"});
  EXPECT_EQ(last_.at(0).reward().window_id(), "rw:" + std::to_string(Hour(80)));
}

TEST_F(RewardWindowRuleTest, PurchaseExactlyAtExpiryIsTooLate) {
  Process(Accept("o1", kT0));
  EXPECT_EQ(Process(Purchase("p1", Hour(72), 5000)), V{"REWARD_WINDOW_EXPIRED rw c1 @+72h 0/0"});
}

TEST_F(RewardWindowRuleTest, PurchaseAtExpiryIsTooLateEvenBeforeTheExpiryFires) {
  // With allowed lateness the watermark trails the purchase, so the window is
  // still open.
  Start({{"rw", Offer()}}, kHourMs);
  Process(Accept("o1", kT0));
  EXPECT_EQ(Process(Purchase("p1", Hour(72), 5000)), V{});
  EXPECT_EQ(Process(Purchase("p2", Hour(73), 5000)), V{"REWARD_WINDOW_EXPIRED rw c1 @+72h 0/0"});
}

// With allowed lateness an opener after the window's end can arrive before its expiry fires:
// the window expires first and the opener opens the next, as in event-time order.
TEST_F(RewardWindowRuleTest, AnOpenerAfterTheExpiryOpensTheNextWindowBeforeTheExpiryFires) {
  Start({{"rw", Offer()}}, kHourMs);
  Process(Accept("o1", kT0));
  const TimeMs reopened = Hour(72) + 30 * kMinuteMs;
  EXPECT_EQ(Process(Accept("o2", reopened)),
            (V{"REWARD_WINDOW_EXPIRED rw c1 @+72h 0/0",
               "REWARD_WINDOW_OPENED rw c1 @+" + std::to_string(reopened - kT0) + "ms 0/0"}));
  EXPECT_EQ(Process(Purchase("p1", Hour(74), 5000)), V{"REWARD_EARNED rw c1 @+74h 1/5000"});
  EXPECT_EQ(AdvanceTo(Hour(200)), V{}) << "the first window's expiry fired again";
}

// The cooldown counts from the expiry, as in event-time order.
TEST_F(RewardWindowRuleTest, AnOpenerAfterTheExpiryWithinTheCooldownDoesNotOpen) {
  RewardWindowParams params;
  params.cooldown_ms = kHourMs;
  Start({{"rw", params}}, kHourMs);
  Process(Accept("o1", kT0));
  EXPECT_EQ(Process(Accept("o2", Hour(72) + 30 * kMinuteMs)),
            V{"REWARD_WINDOW_EXPIRED rw c1 @+72h 0/0"});
  EXPECT_EQ(AdvanceTo(Hour(200)), V{});
}

TEST_F(RewardWindowRuleTest, PurchaseBeforeTheWindowDoesNotCount) {
  Process(Accept("o1", Hour(10)));
  EXPECT_EQ(Process(Purchase("p1", Hour(9), 5000)), V{});  // late event from before the opener
  EXPECT_EQ(AdvanceTo(Hour(82)), V{"REWARD_WINDOW_EXPIRED rw c1 @+82h 0/0"});
}

TEST_F(RewardWindowRuleTest, RemindsOnceBeforeExpiry) {
  RewardWindowParams params;
  params.reminder_before_ms = 24 * kHourMs;
  Start(params);
  Process(Accept("o1", kT0));
  EXPECT_EQ(AdvanceTo(Hour(48) - 1), V{});
  EXPECT_EQ(AdvanceTo(Hour(48)), V{"REWARD_WINDOW_REMINDER rw c1 @+48h 0/0"});
  EXPECT_EQ(last_.at(0).cause_event_id(), "o1");
  EXPECT_EQ(AdvanceTo(Hour(71)), V{});
  EXPECT_EQ(AdvanceTo(Hour(72)), V{"REWARD_WINDOW_EXPIRED rw c1 @+72h 0/0"});
}

TEST_F(RewardWindowRuleTest, NoReminderOnceEarned) {
  RewardWindowParams params;
  params.reminder_before_ms = 24 * kHourMs;
  Start(params);
  Process(Accept("o1", kT0));
  Process(Purchase("p1", Hour(10), 100));
  EXPECT_EQ(AdvanceTo(Hour(100)), V{});
}

TEST_F(RewardWindowRuleTest, EarnedAfterTheReminder) {
  RewardWindowParams params;
  params.reminder_before_ms = 24 * kHourMs;
  Start(params);
  Process(Accept("o1", kT0));
  AdvanceTo(Hour(48));
  EXPECT_EQ(Process(Purchase("p1", Hour(50), 100)), V{"REWARD_EARNED rw c1 @+50h 1/100"});
  EXPECT_EQ(AdvanceTo(Hour(100)), V{});
}

TEST_F(RewardWindowRuleTest, OpenerWhileAWindowIsOpenIsIgnored) {
  Process(Accept("o1", kT0));
  EXPECT_EQ(Process(Accept("o2", Hour(10))), V{});
  EXPECT_EQ(AdvanceTo(Hour(72)), V{"REWARD_WINDOW_EXPIRED rw c1 @+72h 0/0"});
}

TEST_F(RewardWindowRuleTest, CooldownAfterEarning) {
  RewardWindowParams params;
  params.cooldown_ms = 7 * 24 * kHourMs;
  Start(params);
  Process(Accept("o1", kT0));
  Process(Purchase("p1", Hour(1), 100));
  EXPECT_EQ(Process(Accept("o2", Hour(1 + 168) - 1)), V{});
  EXPECT_EQ(Process(Accept("o3", Hour(1 + 168))), V{"REWARD_WINDOW_OPENED rw c1 @+169h 0/0"});
}

TEST_F(RewardWindowRuleTest, CooldownAfterExpiryStartsAtExpiry) {
  RewardWindowParams params;
  params.cooldown_ms = 24 * kHourMs;
  Start(params);
  Process(Accept("o1", kT0));
  AdvanceTo(Hour(72));
  EXPECT_EQ(Process(Accept("o2", Hour(95))), V{});
  EXPECT_EQ(Process(Accept("o3", Hour(96))), V{"REWARD_WINDOW_OPENED rw c1 @+96h 0/0"});
}

TEST_F(RewardWindowRuleTest, LateOpenerFromBeforeTheLastCloseIsIgnored) {
  Process(Accept("o1", Hour(10)));
  Process(Purchase("p1", Hour(11), 100));
  EXPECT_EQ(Process(Accept("o2", Hour(5))), V{});
}

TEST_F(RewardWindowRuleTest, CampaignFilter) {
  RewardWindowParams params;
  params.opener_campaign_id = "spring";
  Start(params);
  EXPECT_EQ(Process(Accept("o1", kT0, "autumn")), V{});
  EXPECT_EQ(Process(Accept("o2", Hour(1), "spring")), V{"REWARD_WINDOW_OPENED rw c1 @+1h 0/0"});
}

TEST_F(RewardWindowRuleTest, OpenerPurchaseDoesNotCountTowardsItsOwnGoal) {
  RewardWindowParams params;
  params.opener_type = v1::EVENT_TYPE_PURCHASE;
  Start(params);
  EXPECT_EQ(Process(Purchase("p1", kT0, 5000)), V{"REWARD_WINDOW_OPENED rw c1 @+0h 0/0"});
  EXPECT_EQ(Process(Purchase("p2", Hour(1), 3000)), V{"REWARD_EARNED rw c1 @+1h 1/3000"});
  // The purchase that earned opens no window; the next one does.
  EXPECT_EQ(Process(Purchase("p3", Hour(2), 1000)), V{"REWARD_WINDOW_OPENED rw c1 @+2h 0/0"});
}

TEST_F(RewardWindowRuleTest, TwoInstancesWithDifferentOpenersCoexist) {
  RewardWindowParams scan;
  scan.opener_type = v1::EVENT_TYPE_LOYALTY_SCAN;
  scan.duration_ms = 24 * kHourMs;
  scan.points_per_unit = 10;
  Start({{"rw_offer", Offer()}, {"rw_scan", scan}});
  EXPECT_EQ(Process(Accept("o1", kT0)), V{"REWARD_WINDOW_OPENED rw_offer c1 @+0h 0/0"});
  EXPECT_EQ(Process(Event("s1", "c1", Hour(1), v1::EVENT_TYPE_LOYALTY_SCAN, v1::CHANNEL_IN_STORE)),
            V{"REWARD_WINDOW_OPENED rw_scan c1 @+1h 0/0"});
  EXPECT_EQ(Process(Purchase("p1", Hour(2), 2000, v1::CHANNEL_IN_STORE)),
            (V{"REWARD_EARNED rw_offer c1 @+2h 1/2000",
               "REWARD_EARNED rw_scan c1 @+2h 1/2000 +200 points"}));
  EXPECT_NE(last_.at(0).trigger_id(), last_.at(1).trigger_id());
  EXPECT_EQ(last_.at(1).reward().window_id(), "rw_scan:" + std::to_string(Hour(1)));
}

TEST_F(RewardWindowRuleTest, TriggerIdsDifferPerTypeAndWindow) {
  RewardWindowParams params;
  params.reminder_before_ms = kHourMs;
  Start(params);
  std::vector<std::string> ids;
  Process(Accept("o1", kT0));
  ids.push_back(last_.at(0).trigger_id());
  AdvanceTo(Hour(72));
  ASSERT_EQ(last_.size(), 2u);  // reminder and expiry
  ids.push_back(last_.at(0).trigger_id());
  ids.push_back(last_.at(1).trigger_id());
  Process(Accept("o2", Hour(80)));
  ids.push_back(last_.at(0).trigger_id());
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::unique(ids.begin(), ids.end()), ids.end());
}

}  // namespace
}  // namespace touchstream
