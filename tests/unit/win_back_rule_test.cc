#include "processor/rules/win_back_rule.h"

#include <gtest/gtest.h>

#include "tests/driver/driver_test.h"

namespace touchstream {
namespace {

using testing::Event;
using testing::kT0;
using V = std::vector<std::string>;

constexpr TimeMs Day(int n) { return kT0 + n * kDayMs; }

// "WIN_BACK wb c1 day 30 tier 1 inactive 30d": type, rule, customer, fire day after kT0, detail.
std::string Describe(const v1::Trigger& t) {
  std::string s = v1::TriggerType_Name(t.type()).substr(13) + " " + t.rule_id() + " " +
                  t.customer_id() + " day " +
                  std::to_string((ToTimeMs(t.fire_time()) - kT0) / kDayMs);
  if (t.has_win_back()) {
    s += " tier " + std::to_string(t.win_back().tier()) + " inactive " +
         std::to_string(t.win_back().inactive_days()) + "d";
  }
  if (t.has_reactivated()) {
    s += " dormant " + std::to_string(t.reactivated().dormant_days()) + "d via " +
         v1::Channel_Name(t.reactivated().channel());
  }
  return s;
}

class WinBackRuleTest : public testing::DriverTest {
 protected:
  void SetUp() override { Start({}); }

  void Start(WinBackParams params) {
    RuleSet rules;
    rules.push_back(std::make_unique<WinBackRule>("wb", std::move(params)));
    DriverTest::Start(std::move(rules));
  }
  std::string DescribeTrigger(const v1::Trigger& t) const override { return Describe(t); }

  static v1::TouchpointEvent Purchase(const std::string& id, TimeMs t,
                                      v1::Channel channel = v1::CHANNEL_WEB) {
    return Event(id, "c1", t, v1::EVENT_TYPE_PURCHASE, channel);
  }
  static v1::TouchpointEvent View(const std::string& id, TimeMs t,
                                  v1::Channel channel = v1::CHANNEL_WEB) {
    return Event(id, "c1", t, v1::EVENT_TYPE_PAGE_VIEW, channel);
  }
};

TEST_F(WinBackRuleTest, FiresEachTierOnceInOrder) {
  Process(Purchase("e1", kT0));
  EXPECT_EQ(AdvanceTo(Day(30) - 1), V{});
  EXPECT_EQ(AdvanceTo(Day(30)), V{"WIN_BACK wb c1 day 30 tier 1 inactive 30d"});
  const v1::Trigger& t = last_.at(0);
  EXPECT_EQ(ToTimeMs(t.win_back().last_activity_time()), kT0);
  EXPECT_EQ(t.cause_event_id(), "e1");
  // The policy stage: web and the mobile app carry no message, and the customer never engaged
  // on a channel that does: the first permitted one of channels.preference.
  EXPECT_EQ(t.suggested_channel(), v1::CHANNEL_PUSH);
  EXPECT_EQ(AdvanceTo(Day(365)), (V{"WIN_BACK wb c1 day 60 tier 2 inactive 60d",
                                    "WIN_BACK wb c1 day 90 tier 3 inactive 90d"}));
  EXPECT_EQ(AdvanceTo(Day(1000)), V{});
}

TEST_F(WinBackRuleTest, EngagementBeforeATierRearmsAllTiers) {
  Process(Purchase("e1", kT0));
  Process(View("e2", Day(20)));
  EXPECT_EQ(AdvanceTo(Day(49)), V{});
  EXPECT_EQ(AdvanceTo(Day(50)), V{"WIN_BACK wb c1 day 50 tier 1 inactive 30d"});
  EXPECT_EQ(last_.at(0).cause_event_id(), "e2");
}

TEST_F(WinBackRuleTest, EngagementAfterWinBackStartsNewDormancyWithNewIds) {
  Process(Purchase("e1", kT0));
  AdvanceTo(Day(30));
  const std::string first_id = last_.at(0).trigger_id();
  Process(View("e2", Day(40)));
  EXPECT_EQ(AdvanceTo(Day(69)), V{});
  EXPECT_EQ(AdvanceTo(Day(70)), V{"WIN_BACK wb c1 day 70 tier 1 inactive 30d"});
  EXPECT_NE(last_.at(0).trigger_id(), first_id);
}

TEST_F(WinBackRuleTest, RequiresAPurchaseByDefault) {
  Process(View("e1", kT0));
  EXPECT_EQ(AdvanceTo(Day(365)), V{});
}

TEST_F(WinBackRuleTest, InStorePurchaseMakesEligible) {
  Process(View("e1", kT0));
  Process(Purchase("e2", Day(1), v1::CHANNEL_IN_STORE));
  EXPECT_EQ(AdvanceTo(Day(31)), V{"WIN_BACK wb c1 day 31 tier 1 inactive 30d"});
}

TEST_F(WinBackRuleTest, WithoutRequirePurchaseAnyEngagedCustomerQualifies) {
  Start({{30 * kDayMs}, false});
  Process(View("e1", kT0));
  EXPECT_EQ(AdvanceTo(Day(30)), V{"WIN_BACK wb c1 day 30 tier 1 inactive 30d"});
}

TEST_F(WinBackRuleTest, LatePurchaseMakesEligibleForTheCurrentDormancy) {
  Process(View("e1", Day(5)));
  Process(Purchase("e2", Day(2)));  // late: older than the last activity
  EXPECT_EQ(AdvanceTo(Day(35)), V{"WIN_BACK wb c1 day 35 tier 1 inactive 30d"});
  EXPECT_EQ(last_.at(0).cause_event_id(), "e1");
}

TEST_F(WinBackRuleTest, LateEngagementDoesNotStartANewDormancy) {
  Process(Purchase("e1", Day(10)));
  Process(View("e2", Day(5)));
  EXPECT_EQ(AdvanceTo(Day(40)), V{"WIN_BACK wb c1 day 40 tier 1 inactive 30d"});
  // Older than the last activity: no REACTIVATED either.
  EXPECT_EQ(Process(View("e3", Day(8))), V{});
  EXPECT_EQ(AdvanceTo(Day(70)), V{"WIN_BACK wb c1 day 70 tier 2 inactive 60d"});
}

TEST_F(WinBackRuleTest, ReactivatedOnFirstEngagementAfterAWinBack) {
  Process(Purchase("e1", kT0));
  AdvanceTo(Day(30));
  EXPECT_EQ(Process(View("e2", Day(45), v1::CHANNEL_MOBILE_APP)),
            V{"REACTIVATED wb c1 day 45 dormant 45d via CHANNEL_MOBILE_APP"});
  const v1::Trigger& t = last_.at(0);
  EXPECT_EQ(t.cause_event_id(), "e2");
  // The policy stage: web and the mobile app carry no message, and the customer never engaged
  // on a channel that does: the first permitted one of channels.preference.
  EXPECT_EQ(t.suggested_channel(), v1::CHANNEL_PUSH);
  EXPECT_EQ(Process(View("e3", Day(46))), V{});
}

TEST_F(WinBackRuleTest, NoReactivatedAfterMereInactivity) {
  Process(Purchase("e1", kT0));
  EXPECT_EQ(Process(View("e2", Day(29))), V{});
  EXPECT_EQ(Process(Purchase("e3", Day(58), v1::CHANNEL_IN_STORE)), V{});
}

TEST_F(WinBackRuleTest, NoReactivatedForIneligibleCustomer) {
  Process(View("e1", kT0));
  AdvanceTo(Day(100));
  EXPECT_EQ(Process(View("e2", Day(101))), V{});
}

TEST_F(WinBackRuleTest, EngagementExactlyAtTierDueComesAfterTheWinBack) {
  Process(Purchase("e1", kT0));
  EXPECT_EQ(Process(View("e2", Day(30), v1::CHANNEL_IN_STORE)),
            (V{"WIN_BACK wb c1 day 30 tier 1 inactive 30d",
               "REACTIVATED wb c1 day 30 dormant 30d via CHANNEL_IN_STORE"}));
}

TEST_F(WinBackRuleTest, LateEngagementFromBeforeTheWinBackIsNoReactivation) {
  Process(Purchase("e1", kT0));
  AdvanceTo(Day(30));
  // Happened on day 20, arrives after the day-30 win-back: a new dormancy, no REACTIVATED.
  EXPECT_EQ(Process(View("e2", Day(20))), V{});
  EXPECT_EQ(AdvanceTo(Day(50)), V{"WIN_BACK wb c1 day 50 tier 1 inactive 30d"});
}

TEST_F(WinBackRuleTest, NonEngagementEventsDoNotEndTheDormancy) {
  Process(Purchase("e1", kT0));
  AdvanceTo(Day(30));
  EXPECT_EQ(Process(Event("e2", "c1", Day(35), v1::EVENT_TYPE_IDENTIFY)), V{});
  EXPECT_EQ(Process(Event("e3", "c1", Day(36), v1::EVENT_TYPE_CONSENT_CHANGE)), V{});
  EXPECT_EQ(AdvanceTo(Day(60)), V{"WIN_BACK wb c1 day 60 tier 2 inactive 60d"});
}

TEST_F(WinBackRuleTest, InactiveDaysAreWholeDays) {
  Start({{36 * kHourMs}, true});
  Process(Purchase("e1", kT0));
  EXPECT_EQ(AdvanceTo(kT0 + 36 * kHourMs), V{"WIN_BACK wb c1 day 1 tier 1 inactive 1d"});
}

}  // namespace
}  // namespace touchstream
