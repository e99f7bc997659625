#include "processor/rules/rule_registry.h"

#include <gtest/gtest.h>

#include "processor/config/config.h"
#include "processor/core/memory_store.h"
#include "processor/core/pipeline.h"
#include "processor/rules/browse_abandonment_rule.h"
#include "processor/rules/cart_abandonment_rule.h"
#include "processor/rules/reward_window_rule.h"
#include "processor/rules/win_back_rule.h"
#include "tests/unit/config_errors.h"
#include "tests/unit/test_events.h"

namespace touchstream {
namespace {

using testing::Event;
using testing::kT0;
using testing::StartupErrorOf;
using testing::WithItem;
using Tiers = std::vector<DurationMs>;

RuleSet Build(const std::string& yaml) { return BuildRuleSet(ParseConfig(yaml, "t").rules); }

// The only rule as a T (nullptr if it is another kind).
template <typename T>
const T* OnlyRule(const RuleSet& rules) {
  EXPECT_EQ(rules.size(), 1u);
  return rules.empty() ? nullptr : dynamic_cast<const T*>(rules[0].get());
}

TEST(RuleRegistryTest, CartAbandonmentReadsDelay) {
  const RuleSet c = Build("rules:\n  cart_2h:\n    kind: cart_abandonment\n    delay: 2h\n");
  ASSERT_NE(OnlyRule<CartAbandonmentRule>(c), nullptr);
  EXPECT_EQ(c[0]->id(), "cart_2h");
  MemoryStore store;
  PartitionPipeline pipeline(c, store, 0);
  std::vector<v1::Trigger> out;
  ASSERT_TRUE(
      pipeline
          .Process(WithItem(Event("e1", "c1", kT0, v1::EVENT_TYPE_ADD_TO_CART), "s", 1, 100), out)
          .ok());
  ASSERT_TRUE(pipeline.AdvanceWatermark(kT0 + 2 * kHourMs - 1, out).ok());
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(pipeline.AdvanceWatermark(kT0 + 2 * kHourMs, out).ok());
  EXPECT_EQ(out.size(), 1u);
}

TEST(RuleRegistryTest, CartAbandonmentErrorsNameTheKey) {
  EXPECT_EQ(StartupErrorOf("rules: {c: {kind: cart_abandonment, delay: soon}}"),
            "rules.c.delay: invalid duration 'soon' (expected an integer with a unit: 500ms, 30s, "
            "15m, 1h, 7d)");
  EXPECT_EQ(StartupErrorOf("rules: {c: {kind: cart_abandonment, min_cart_value_minor: -1}}"),
            "rules.c.min_cart_value_minor: -1 is out of range [0, 9223372036854775807]");
}

TEST(RuleRegistryTest, FindsEveryRegisteredKindByName) {
  ASSERT_FALSE(RuleKinds().empty());
  for (const RuleKind& kind : RuleKinds()) {
    const RuleKind* found = FindRuleKind(kind.name);
    ASSERT_NE(found, nullptr) << kind.name;
    EXPECT_EQ(found->build, kind.build) << kind.name;
  }
  EXPECT_EQ(FindRuleKind("cart"), nullptr);
  EXPECT_EQ(FindRuleKind(""), nullptr);
}

TEST(RuleRegistryTest, KindMustBeKnown) {
  EXPECT_EQ(StartupErrorOf("rules: {x: {kind: winback}}"),
            "rules.x.kind: 'winback' is not one of: browse_abandonment, cart_abandonment, "
            "reward_window, win_back");
  EXPECT_EQ(StartupErrorOf("rules: {x: {tiers: [1d]}}"),
            "rules.x.kind: '' is not one of: browse_abandonment, cart_abandonment, reward_window, "
            "win_back");
}

TEST(RuleRegistryTest, BrowseAbandonmentDefaults) {
  const RuleSet c = Build("rules:\n  browse:\n    kind: browse_abandonment\n");
  const BrowseAbandonmentRule* rule = OnlyRule<BrowseAbandonmentRule>(c);
  ASSERT_NE(rule, nullptr);
  EXPECT_EQ(rule->params().delay_ms, 30 * kMinuteMs);
  EXPECT_EQ(rule->params().max_items, 5);
}

TEST(RuleRegistryTest, BrowseAbandonmentReadsEveryParam) {
  const RuleSet c = Build("rules: {b: {kind: browse_abandonment, delay: 2h, max_items: 100}}");
  const BrowseAbandonmentRule* rule = OnlyRule<BrowseAbandonmentRule>(c);
  ASSERT_NE(rule, nullptr);
  EXPECT_EQ(rule->params().delay_ms, 2 * kHourMs);
  EXPECT_EQ(rule->params().max_items, 100);
}

TEST(RuleRegistryTest, BrowseAbandonmentErrorsNameTheKey) {
  EXPECT_EQ(StartupErrorOf("rules: {b: {kind: browse_abandonment, delay: 0}}"),
            "rules.b.delay: must be greater than 0");
  EXPECT_EQ(StartupErrorOf("rules: {b: {kind: browse_abandonment, delay: later}}"),
            "rules.b.delay: invalid duration 'later' (expected an integer with a unit: 500ms, "
            "30s, 15m, 1h, 7d)");
  EXPECT_EQ(StartupErrorOf("rules: {b: {kind: browse_abandonment, max_items: 0}}"),
            "rules.b.max_items: 0 is out of range [1, 100]");
  EXPECT_EQ(StartupErrorOf("rules: {b: {kind: browse_abandonment, max_items: 101}}"),
            "rules.b.max_items: 101 is out of range [1, 100]");
  EXPECT_EQ(StartupErrorOf("rules: {b: {kind: browse_abandonment, min_cart_value_minor: 1}}"),
            "rules.b.min_cart_value_minor: unknown key");
}

TEST(RuleRegistryTest, WinBackDefaults) {
  const RuleSet c = Build("rules:\n  wb:\n    kind: win_back\n");
  const WinBackRule* rule = OnlyRule<WinBackRule>(c);
  ASSERT_NE(rule, nullptr);
  EXPECT_EQ(rule->params().tiers_ms, (Tiers{30 * kDayMs, 60 * kDayMs, 90 * kDayMs}));
  EXPECT_TRUE(rule->params().require_purchase);
}

TEST(RuleRegistryTest, WinBackReadsTiersAndRequirePurchase) {
  const RuleSet c = Build(
      "rules:\n  wb:\n    kind: win_back\n    tiers: [36h, 30d]\n    require_purchase: false\n");
  const WinBackRule* rule = OnlyRule<WinBackRule>(c);
  ASSERT_NE(rule, nullptr);
  EXPECT_EQ(rule->params().tiers_ms, (Tiers{36 * kHourMs, 30 * kDayMs}));
  EXPECT_FALSE(rule->params().require_purchase);
}

TEST(RuleRegistryTest, WinBackErrorsNameTheKey) {
  EXPECT_EQ(StartupErrorOf("rules: {wb: {kind: win_back, tiers: [30d, 30d]}}"),
            "rules.wb.tiers[1]: must be greater than the previous tier (30d)");
  EXPECT_EQ(StartupErrorOf("rules: {wb: {kind: win_back, tiers: [60d, 30d]}}"),
            "rules.wb.tiers[1]: must be greater than the previous tier (60d)");
  EXPECT_EQ(StartupErrorOf("rules: {wb: {kind: win_back, tiers: [0]}}"),
            "rules.wb.tiers[0]: must be greater than 0");
  // Added to event times, as every config duration: bounded like them.
  EXPECT_EQ(StartupErrorOf("rules: {wb: {kind: win_back, tiers: [30d, 36501d]}}"),
            "rules.wb.tiers[1]: must be at most 36500d (100 years)");
  EXPECT_EQ(StartupErrorOf("rules: {wb: {kind: win_back, tiers: [30d, soon]}}"),
            "rules.wb.tiers[1]: invalid duration 'soon' (expected an integer with a unit: 500ms, "
            "30s, 15m, 1h, 7d)");
  EXPECT_EQ(StartupErrorOf("rules: {wb: {kind: win_back, tiers: [[30d]]}}"),
            "rules.wb.tiers[0]: expected a duration");
  EXPECT_EQ(StartupErrorOf("rules: {wb: {kind: win_back, tiers: 30d}}"),
            "rules.wb.tiers: expected a non-empty list of durations, e.g. [30d, 60d, 90d]");
  EXPECT_EQ(StartupErrorOf("rules: {wb: {kind: win_back, tiers: []}}"),
            "rules.wb.tiers: expected a non-empty list of durations, e.g. [30d, 60d, 90d]");
  EXPECT_EQ(StartupErrorOf("rules: {wb: {kind: win_back, require_purchase: maybe}}"),
            "rules.wb.require_purchase: 'maybe' is not true or false");
  EXPECT_EQ(StartupErrorOf("rules: {wb: {kind: win_back, tier: [30d]}}"),
            "rules.wb.tier: unknown key");
}

TEST(RuleRegistryTest, RewardWindowDefaults) {
  const RuleSet c =
      Build("rules:\n  rw:\n    kind: reward_window\n    opener: {event_type: OFFER_ACCEPTED}\n");
  const RewardWindowRule* rule = OnlyRule<RewardWindowRule>(c);
  ASSERT_NE(rule, nullptr);
  const RewardWindowParams& p = rule->params();
  EXPECT_EQ(p.opener_type, v1::EVENT_TYPE_OFFER_ACCEPTED);
  EXPECT_EQ(p.opener_campaign_id, "");
  EXPECT_EQ(p.duration_ms, 72 * kHourMs);
  EXPECT_EQ(p.goal_purchases, 1);
  EXPECT_EQ(p.goal_min_amount_minor, 0);
  EXPECT_EQ(p.reminder_before_ms, 0);
  EXPECT_EQ(p.points_per_unit, 0);
  EXPECT_EQ(p.cooldown_ms, 0);
}

TEST(RuleRegistryTest, RewardWindowReadsEveryParam) {
  const RuleSet c = Build(R"(
rules:
  rw:
    kind: reward_window
    opener: {event_type: EVENT_TYPE_LOYALTY_SCAN, campaign_id: spring}
    duration: 7d
    goal: {purchases: 2, min_amount_minor: 5000}
    reminder_before: 1d
    points_per_unit: 10
    cooldown: 30d
)");
  const RewardWindowRule* rule = OnlyRule<RewardWindowRule>(c);
  ASSERT_NE(rule, nullptr);
  const RewardWindowParams& p = rule->params();
  EXPECT_EQ(p.opener_type, v1::EVENT_TYPE_LOYALTY_SCAN);
  EXPECT_EQ(p.opener_campaign_id, "spring");
  EXPECT_EQ(p.duration_ms, 7 * kDayMs);
  EXPECT_EQ(p.goal_purchases, 2);
  EXPECT_EQ(p.goal_min_amount_minor, 5000);
  EXPECT_EQ(p.reminder_before_ms, kDayMs);
  EXPECT_EQ(p.points_per_unit, 10);
  EXPECT_EQ(p.cooldown_ms, 30 * kDayMs);
}

TEST(RuleRegistryTest, RewardWindowErrorsNameTheKey) {
  EXPECT_EQ(StartupErrorOf("rules: {rw: {kind: reward_window}}"),
            "rules.rw.opener.event_type: required, e.g. OFFER_ACCEPTED");
  EXPECT_EQ(StartupErrorOf("rules: {rw: {kind: reward_window, opener: OFFER_ACCEPTED}}"),
            "rules.rw.opener: expected a mapping of keys to values");
  EXPECT_EQ(StartupErrorOf("rules: {rw: {kind: reward_window, opener: {event_type: OFFER}}}"),
            "rules.rw.opener.event_type: 'OFFER' is not an event type that can open a window, "
            "e.g. OFFER_ACCEPTED");
  EXPECT_EQ(StartupErrorOf("rules: {rw: {kind: reward_window, opener: {event_type: UNSPECIFIED}}}"),
            "rules.rw.opener.event_type: 'UNSPECIFIED' is not an event type that can open a "
            "window, e.g. OFFER_ACCEPTED");
  EXPECT_EQ(StartupErrorOf("rules: {rw: {kind: reward_window, opener: {event_type: OFFER_ACCEPTED, "
                           "campaign: x}}}"),
            "rules.rw.opener.campaign: unknown key");
  const std::string opener = "opener: {event_type: OFFER_ACCEPTED}, ";
  EXPECT_EQ(StartupErrorOf("rules: {rw: {kind: reward_window, " + opener + "duration: 0}}"),
            "rules.rw.duration: must be greater than 0");
  EXPECT_EQ(
      StartupErrorOf("rules: {rw: {kind: reward_window, " + opener + "goal: {purchases: 0}}}"),
      "rules.rw.goal.purchases: 0 is out of range [1, 1000000]");
  EXPECT_EQ(
      StartupErrorOf("rules: {rw: {kind: reward_window, " + opener + "goal: {min_amount: 100}}}"),
      "rules.rw.goal.min_amount: unknown key");
  EXPECT_EQ(
      StartupErrorOf("rules: {rw: {kind: reward_window, " + opener + "reminder_before: 72h}}"),
      "rules.rw.reminder_before: must be less than duration (3d)");
  EXPECT_EQ(StartupErrorOf("rules: {rw: {kind: reward_window, " + opener + "points_per_unit: -1}}"),
            "rules.rw.points_per_unit: -1 is out of range [0, 1000000]");
  EXPECT_EQ(StartupErrorOf("rules: {rw: {kind: reward_window, " + opener + "cooldown: -1d}}"),
            "rules.rw.cooldown: invalid duration '-1d' (expected an integer with a unit: 500ms, "
            "30s, 15m, 1h, 7d)");
  EXPECT_EQ(StartupErrorOf("rules: {rw: {kind: reward_window, " + opener + "window: 3d}}"),
            "rules.rw.window: unknown key");
}

TEST(RuleRegistryTest, SeveralKindsAndInstancesInConfigOrder) {
  const RuleSet c = Build(R"(
rules:
  cart_1h: {kind: cart_abandonment}
  wb: {kind: win_back, tiers: [7d]}
  browse: {kind: browse_abandonment}
  rw_offer: {kind: reward_window, opener: {event_type: OFFER_ACCEPTED}}
  rw_scan: {kind: reward_window, opener: {event_type: LOYALTY_SCAN}}
)");
  ASSERT_EQ(c.size(), 5u);
  EXPECT_EQ(c[0]->id(), "cart_1h");
  EXPECT_EQ(c[1]->id(), "wb");
  EXPECT_EQ(c[2]->id(), "browse");
  EXPECT_EQ(c[3]->id(), "rw_offer");
  EXPECT_EQ(c[4]->id(), "rw_scan");
}

}  // namespace
}  // namespace touchstream
