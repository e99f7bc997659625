#include <gtest/gtest.h>

#include "processor/policy/decide.h"
#include "processor/policy/frequency_cap.h"
#include "processor/policy/priority.h"
#include "tests/unit/policy_test_support.h"

namespace touchstream {
namespace {

using testing::At;
using testing::PolicyTrigger;
using testing::Zones;

// Quiet hours 21:00-08:00 in UTC unless a test says otherwise; no caps.
PolicyConfig BaseConfig() {
  PolicyConfig config;
  config.quiet_hours = {true, 21 * 60, 8 * 60};
  return config;
}

std::string First(const v1::Trigger& trigger, const PolicyState& state, const PolicyConfig& config,
                  std::optional<TimeMs> wall_clock_ms = std::nullopt) {
  const TimeMs fire = ToTimeMs(trigger.fire_time());
  return DescribeDecision(
      Decide(trigger, state, config, Zones(), DecisionPoint::First(fire, wall_clock_ms)));
}

std::string Released(const v1::Trigger& trigger, const PolicyState& state,
                     const PolicyConfig& config, TimeMs release_ms, bool still_holds = true,
                     std::optional<TimeMs> wall_clock_ms = std::nullopt) {
  return DescribeDecision(Decide(trigger, state, config, Zones(),
                                 DecisionPoint::Release(release_ms, still_holds, wall_clock_ms)));
}

const TimeMs kNoon = At("2026-05-01T12:00:00Z");

TEST(DecideTest, SendsOnTheSuggestedChannel) {
  PolicyState state;
  EXPECT_EQ(First(PolicyTrigger("cart_1h", "c-1", kNoon), state, BaseConfig()),
            "SEND CHANNEL_PUSH");
  ApplyConsentChange(v1::CHANNEL_PUSH, false, kNoon - kDayMs, state);
  EXPECT_EQ(First(PolicyTrigger("cart_1h", "c-1", kNoon), state, BaseConfig()),
            "SEND CHANNEL_EMAIL");
}

TEST(DecideTest, StaleOnlyWithAWallClockByTheFireTimeThenByTheReleaseTime) {
  PolicyConfig config = BaseConfig();
  config.max_trigger_age_ms = kHourMs;
  const v1::Trigger trigger = PolicyTrigger("cart_1h", "c-1", kNoon);
  EXPECT_EQ(First(trigger, {}, config, kNoon + kHourMs + 1), "SUPPRESS stale");
  EXPECT_EQ(First(trigger, {}, config, kNoon + kHourMs), "SEND CHANNEL_PUSH") << "not older";
  EXPECT_EQ(First(trigger, {}, config), "SEND CHANNEL_PUSH") << "no wall clock: not checked";
  // A long deferral is not stale at its release, measured from the release time...
  EXPECT_EQ(Released(trigger, {}, config, kNoon + kDayMs, true, kNoon + kDayMs),
            "SEND CHANNEL_PUSH");
  // ... unless the release comes long after it (a downtime): not days late at 3 a.m.
  EXPECT_EQ(Released(trigger, {}, config, kNoon + kDayMs, true, kNoon + 3 * kDayMs),
            "SUPPRESS stale");
  EXPECT_EQ(Released(trigger, {}, config, kNoon + kDayMs, false, kNoon + 3 * kDayMs),
            "SUPPRESS superseded")
      << "what no longer holds says so first";
  config.max_trigger_age_ms = 0;
  EXPECT_EQ(First(trigger, {}, config, kNoon + 30 * kDayMs), "SEND CHANNEL_PUSH") << "off";
}

TEST(DecideTest, StaleIsCheckedBeforeHoldout) {
  PolicyConfig config = BaseConfig();
  config.max_trigger_age_ms = kHourMs;
  config.rules["cart_1h"].holdout_basis_points = 10000;
  EXPECT_EQ(First(PolicyTrigger("cart_1h", "c-1", kNoon), {}, config, kNoon + 2 * kHourMs),
            "SUPPRESS stale");
}

TEST(DecideTest, HoldoutOnFirstDecisionBeforeConsent) {
  PolicyConfig config = BaseConfig();
  // HoldoutBucket("cart_1h", "c-1") is 4618 (policy_holdout_test.cc).
  config.rules["cart_1h"].holdout_basis_points = 4619;
  PolicyState no_consent;
  for (v1::Channel channel : {v1::CHANNEL_EMAIL, v1::CHANNEL_PUSH, v1::CHANNEL_IN_APP}) {
    ApplyConsentChange(channel, false, kNoon - kDayMs, no_consent);
  }
  const v1::Trigger trigger = PolicyTrigger("cart_1h", "c-1", kNoon);
  EXPECT_EQ(First(trigger, {}, config), "HOLDOUT");
  EXPECT_EQ(First(trigger, no_consent, config), "HOLDOUT");
  EXPECT_EQ(Released(trigger, {}, config, kNoon), "SEND CHANNEL_PUSH") << "decided from step 2";
  config.rules["cart_1h"].holdout_basis_points = 4618;
  EXPECT_EQ(First(trigger, {}, config), "SEND CHANNEL_PUSH");
  EXPECT_EQ(First(trigger, no_consent, config), "SUPPRESS no_consent");
  EXPECT_EQ(First(PolicyTrigger("other", "c-1", kNoon), {}, config), "SEND CHANNEL_PUSH")
      << "holdout is per rule";
}

TEST(DecideTest, ConsentIsCheckedBeforeQuietHours) {
  PolicyState state;
  ApplyConsentChange(v1::CHANNEL_EMAIL, false, kNoon - kDayMs, state);
  ApplyConsentChange(v1::CHANNEL_PUSH, false, kNoon - kDayMs, state);
  ApplyConsentChange(v1::CHANNEL_IN_APP, false, kNoon - kDayMs, state);
  const v1::Trigger night = PolicyTrigger("cart_1h", "c-1", At("2026-05-01T23:00:00Z"));
  EXPECT_EQ(First(night, state, BaseConfig()), "SUPPRESS no_consent");
  // An opt-in to SMS makes SMS the only permitted channel.
  ApplyConsentChange(v1::CHANNEL_SMS, true, kNoon, state);
  EXPECT_EQ(First(PolicyTrigger("cart_1h", "c-1", kNoon), state, BaseConfig()), "SEND CHANNEL_SMS");
}

TEST(DecideTest, QuietHoursDeferDropOrIgnorePerRule) {
  PolicyConfig config = BaseConfig();
  const v1::Trigger night = PolicyTrigger("cart_1h", "c-1", At("2026-05-01T23:00:00Z"));
  EXPECT_EQ(First(night, {}, config), "DEFER quiet_hours until 2026-05-02T08:00:00Z");
  config.rules["cart_1h"].quiet_hours = QuietHoursAction::kDrop;
  EXPECT_EQ(First(night, {}, config), "SUPPRESS quiet_hours");
  config.rules["cart_1h"].quiet_hours = QuietHoursAction::kIgnore;
  EXPECT_EQ(First(night, {}, config), "SEND CHANNEL_PUSH");
  config.quiet_hours.enabled = false;
  config.rules["cart_1h"].quiet_hours = QuietHoursAction::kDefer;
  EXPECT_EQ(First(night, {}, config), "SEND CHANNEL_PUSH") << "quiet hours off";
}

TEST(DecideTest, QuietHoursInTheCustomersZoneAcrossTheDstChange) {
  PolicyState state;
  state.set_timezone("America/New_York");
  const v1::Trigger trigger = PolicyTrigger("cart_1h", "c-1", At("2026-03-08T03:30:00Z"));
  EXPECT_EQ(First(trigger, state, BaseConfig()), "DEFER quiet_hours until 2026-03-08T12:00:00Z");
  EXPECT_EQ(Released(trigger, state, BaseConfig(), At("2026-03-08T12:00:00Z")),
            "SEND CHANNEL_PUSH");
  // Without a zone of their own the configured default applies: 03:30 UTC is quiet until 08:00.
  EXPECT_EQ(First(trigger, {}, BaseConfig()), "DEFER quiet_hours until 2026-03-08T08:00:00Z");
  PolicyConfig tokyo = BaseConfig();
  tokyo.timezone = "Asia/Tokyo";  // 12:30 local: not quiet
  EXPECT_EQ(First(trigger, {}, tokyo), "SEND CHANNEL_PUSH");
}

TEST(DecideTest, CapDropsOrDefersUntilTheOldestCountedSendLeaves) {
  PolicyConfig config = BaseConfig();
  config.caps = {{1, 24 * kHourMs, {}}};
  PolicyState state;
  RecordSend("win_back", kNoon - 2 * kHourMs, config, state);
  const v1::Trigger trigger = PolicyTrigger("cart_1h", "c-1", kNoon);
  EXPECT_EQ(First(trigger, state, config), "SUPPRESS frequency_cap");
  config.rules["cart_1h"].on_cap = CapAction::kDefer;
  EXPECT_EQ(First(trigger, state, config), "DEFER frequency_cap until 2026-05-02T10:00:00Z");
  EXPECT_EQ(Released(trigger, state, config, At("2026-05-02T10:00:00Z")), "SEND CHANNEL_PUSH");
}

TEST(DecideTest, CapDeferralThatEndsInQuietHoursIsDeferredAgainAtRelease) {
  PolicyConfig config = BaseConfig();
  config.caps = {{1, 24 * kHourMs, {}}};
  config.rules["cart_1h"].on_cap = CapAction::kDefer;
  PolicyState state;
  RecordSend("win_back", At("2026-05-01T22:00:00Z") - 24 * kHourMs, config, state);
  const v1::Trigger trigger = PolicyTrigger("cart_1h", "c-1", At("2026-05-01T20:00:00Z"));
  EXPECT_EQ(First(trigger, state, config), "DEFER frequency_cap until 2026-05-01T22:00:00Z");
  EXPECT_EQ(Released(trigger, state, config, At("2026-05-01T22:00:00Z")),
            "DEFER quiet_hours until 2026-05-02T08:00:00Z");
}

TEST(DecideTest, ReleaseOfATriggerThatNoLongerHoldsIsSuperseded) {
  const v1::Trigger trigger = PolicyTrigger("cart_1h", "c-1", At("2026-05-01T23:00:00Z"));
  EXPECT_EQ(Released(trigger, {}, BaseConfig(), At("2026-05-02T08:00:00Z"), false),
            "SUPPRESS superseded");
}

TEST(DecideTest, PriorityDecidesWhichSameInstantTriggerTheCapLetsThrough) {
  PolicyConfig config = BaseConfig();
  config.caps = {{1, 24 * kHourMs, {}}};
  config.rules["win_back"].priority = 5;
  const v1::Trigger cart = PolicyTrigger("cart_1h", "c-1", kNoon, "t-cart");
  const v1::Trigger win_back = PolicyTrigger("win_back", "c-1", kNoon, "t-win");
  std::vector<DecisionCandidate> candidates = {{&cart, kNoon, false}, {&win_back, kNoon, false}};
  OrderForDecision(candidates, config);
  PolicyState state;
  std::vector<std::string> outcomes;
  for (const DecisionCandidate& c : candidates) {
    const Decision d = Decide(*c.trigger, state, config, Zones(), DecisionPoint::First(kNoon, {}));
    if (d.verdict == PolicyVerdict::kSend) RecordSend(c.trigger->rule_id(), kNoon, config, state);
    outcomes.push_back(c.trigger->rule_id() + ": " + DescribeDecision(d));
  }
  EXPECT_EQ(outcomes, (std::vector<std::string>{"win_back: SEND CHANNEL_PUSH",
                                                "cart_1h: SUPPRESS frequency_cap"}));
}

}  // namespace
}  // namespace touchstream
