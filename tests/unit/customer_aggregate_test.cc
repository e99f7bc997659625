#include "processor/core/customer_aggregate.h"

#include <gtest/gtest.h>

#include <google/protobuf/unknown_field_set.h>

#include <limits>

#include "tests/unit/test_events.h"

namespace touchstream {
namespace {

using testing::Event;
using testing::kT0;
using testing::WithItem;

TEST(CustomerAggregateTest, TracksFirstSeenLastActivityAndChannel) {
  CustomerState s;
  AppliedEvent a = ApplyEvent(Event("e1", "c1", kT0 + 10, v1::EVENT_TYPE_PAGE_VIEW), s);
  EXPECT_TRUE(a.new_customer);
  EXPECT_EQ(s.customer_id(), "c1");
  a = ApplyEvent(Event("e2", "c1", kT0, v1::EVENT_TYPE_APP_OPEN, v1::CHANNEL_MOBILE_APP), s);
  EXPECT_FALSE(a.new_customer);
  EXPECT_EQ(s.first_seen_ms(), kT0) << "a late event moves first seen back";
  EXPECT_EQ(s.last_activity_ms(), kT0 + 10) << "but not last activity";
  EXPECT_EQ(s.last_channel(), v1::CHANNEL_WEB);
  // Consent changes are not engagement.
  ApplyEvent(Event("e3", "c1", kT0 + 99, v1::EVENT_TYPE_CONSENT_CHANGE, v1::CHANNEL_SMS), s);
  EXPECT_EQ(s.last_activity_ms(), kT0 + 10);
  EXPECT_EQ(s.events_by_channel(v1::CHANNEL_SMS), 1u);
  EXPECT_EQ(s.events_by_channel(v1::CHANNEL_WEB), 1u);
}

TEST(CustomerAggregateTest, CountsOnlineAndOfflinePurchasesIntoOneLifetimeValue) {
  CustomerState s;
  auto online = Event("e1", "c1", kT0, v1::EVENT_TYPE_PURCHASE, v1::CHANNEL_WEB);
  online.set_amount_minor(1000);
  auto offline = Event("e2", "c1", kT0 + 1, v1::EVENT_TYPE_PURCHASE, v1::CHANNEL_IN_STORE);
  offline.set_amount_minor(2500);
  ApplyEvent(online, s);
  ApplyEvent(offline, s);
  // No amount: the items' total counts.
  ApplyEvent(WithItem(Event("e3", "c1", kT0 + 2, v1::EVENT_TYPE_PURCHASE, v1::CHANNEL_CALL_CENTER),
                      "sku", 2, 300),
             s);
  EXPECT_EQ(s.purchases_online(), 1);
  EXPECT_EQ(s.purchases_offline(), 2);
  EXPECT_EQ(s.lifetime_value_minor(), 4100);
}

TEST(CustomerAggregateTest, CartAddRemoveAndPurchase) {
  CustomerState s;
  EXPECT_TRUE(
      ApplyEvent(WithItem(Event("e1", "c1", kT0, v1::EVENT_TYPE_ADD_TO_CART), "a", 2, 100), s)
          .cart_changed);
  ApplyEvent(WithItem(Event("e2", "c1", kT0 + 1, v1::EVENT_TYPE_ADD_TO_CART), "a", 1, 120), s);
  ApplyEvent(WithItem(Event("e3", "c1", kT0 + 2, v1::EVENT_TYPE_ADD_TO_CART), "b", 1, 50), s);
  EXPECT_EQ(s.cart().lines(0).quantity(), 3);
  EXPECT_EQ(s.cart().lines(0).unit_price_minor(), 120) << "last unit price wins";
  EXPECT_EQ(CartTotalMinor(s.cart()), 410);
  ApplyEvent(WithItem(Event("e4", "c1", kT0 + 3, v1::EVENT_TYPE_REMOVE_FROM_CART), "a", 5, 0), s);
  ASSERT_EQ(s.cart().lines_size(), 1) << "a sku at <= 0 leaves the cart";
  EXPECT_EQ(s.cart().lines(0).sku(), "b");
  EXPECT_EQ(s.cart().last_change_event_id(), "e4");
  // A purchase of something not in the cart changes nothing.
  EXPECT_FALSE(
      ApplyEvent(WithItem(Event("e5", "c1", kT0 + 4, v1::EVENT_TYPE_PURCHASE), "zzz", 1, 1), s)
          .cart_changed);
  EXPECT_TRUE(
      ApplyEvent(Event("e6", "c1", kT0 + 5, v1::EVENT_TYPE_PURCHASE, v1::CHANNEL_IN_STORE), s)
          .cart_changed);
  EXPECT_FALSE(s.has_cart()) << "an emptied cart leaves no trace in the stored state";
}

TEST(CustomerAggregateTest, SumsSaturateInsteadOfOverflowing) {
  // Values as large as the config lets validation accept (validation.max_*: up to 10^18):
  // quantities, cart totals and the lifetime value stop at the int limits, never wrap.
  constexpr int64_t kHuge = 1'000'000'000'000'000'000;
  CustomerState s;
  for (int i = 0; i < 10; ++i) {
    auto buy = Event("p" + std::to_string(i), "c1", kT0 + i, v1::EVENT_TYPE_PURCHASE);
    buy.set_amount_minor(kHuge);
    ApplyEvent(buy, s);
  }
  EXPECT_EQ(s.lifetime_value_minor(), std::numeric_limits<int64_t>::max());
  for (int i = 0; i < 3; ++i) {
    ApplyEvent(WithItem(Event("a" + std::to_string(i), "c1", kT0, v1::EVENT_TYPE_ADD_TO_CART),
                        "sku", std::numeric_limits<int32_t>::max() / 2 + 1, kHuge),
               s);
  }
  EXPECT_EQ(s.cart().lines(0).quantity(), std::numeric_limits<int32_t>::max());
  EXPECT_EQ(CartTotalMinor(s.cart()), std::numeric_limits<int64_t>::max());
  // An order paid by its items: quantity × price saturates too.
  auto by_items = Event("p", "c2", kT0, v1::EVENT_TYPE_PURCHASE);
  for (int j = 0; j < 3; ++j) by_items = WithItem(by_items, "x" + std::to_string(j), 1000, kHuge);
  CustomerState c2;
  ApplyEvent(by_items, c2);
  EXPECT_EQ(c2.lifetime_value_minor(), std::numeric_limits<int64_t>::max());
}

TEST(CustomerAggregateTest, OfflineChannels) {
  EXPECT_TRUE(IsOfflineChannel(v1::CHANNEL_IN_STORE));
  EXPECT_TRUE(IsOfflineChannel(v1::CHANNEL_STORE_WIFI));
  EXPECT_TRUE(IsOfflineChannel(v1::CHANNEL_CALL_CENTER));
  EXPECT_FALSE(IsOfflineChannel(v1::CHANNEL_WEB));
  EXPECT_FALSE(IsOfflineChannel(v1::CHANNEL_WHATSAPP));
}

}  // namespace
}  // namespace touchstream

namespace touchstream {
namespace {

TEST(RuleSlotsTest, KeptSortedByRuleIdAndDroppedWhenEmpty) {
  CustomerState s;
  RuleStateFor(s, "b").set_due_ms(2);
  RuleStateFor(s, "c").set_due_ms(3);
  RuleStateFor(s, "a").set_due_ms(1);
  ASSERT_EQ(s.rules_size(), 3);
  EXPECT_EQ(s.rules(0).rule_id(), "a");
  EXPECT_EQ(s.rules(1).rule_id(), "b");
  EXPECT_EQ(s.rules(2).rule_id(), "c");
  EXPECT_EQ(FindRuleState(s, "b")->due_ms(), 2);
  EXPECT_EQ(FindRuleState(s, "zz"), nullptr);
  DropRuleStateIfEmpty(s, "b");
  EXPECT_EQ(s.rules_size(), 3) << "not empty: kept";
  FindRuleState(s, "b")->Clear();
  DropRuleStateIfEmpty(s, "b");
  ASSERT_EQ(s.rules_size(), 2);
  EXPECT_EQ(s.rules(1).rule_id(), "c");
}

TEST(RuleSlotsTest, AStateHoldingAnythingIsKeptEvenWithEveryValueAtItsDefault) {
  CustomerState s;
  RuleStateFor(s, "kind_only").mutable_cart();   // serialized: the oneof's field is present
  RuleStateFor(s, "lagging").set_indexed_ms(5);  // a lagging timer entry: rule_timer.h
  RuleStateFor(s, "unknown")
      .GetReflection()
      ->MutableUnknownFields(FindRuleState(s, "unknown"))
      ->AddVarint(99, 1);  // a field of a newer build
  for (const char* rule : {"kind_only", "lagging", "unknown"}) {
    DropRuleStateIfEmpty(s, rule);
    EXPECT_NE(FindRuleState(s, rule), nullptr) << rule;
  }
  RuleStateFor(s, "empty");
  DropRuleStateIfEmpty(s, "empty");
  EXPECT_EQ(FindRuleState(s, "empty"), nullptr);
}

TEST(RuleSlotsTest, ABlankStateIsAddedOnlyIfItHoldsSomething) {
  CustomerState s;
  RuleStateFor(s, "a").set_due_ms(1);
  RuleStateFor(s, "c").set_due_ms(3);
  v1::state::RuleState blank;
  AddRuleStateIfNotEmpty(s, "b", blank);
  EXPECT_EQ(s.rules_size(), 2) << "an empty state makes no slot";
  EXPECT_EQ(FindRuleState(s, "b"), nullptr);

  blank.set_due_ms(2);
  blank.mutable_cart()->set_armed_at_ms(7);
  AddRuleStateIfNotEmpty(s, "b", blank);
  ASSERT_EQ(s.rules_size(), 3);
  EXPECT_EQ(s.rules(1).rule_id(), "b") << "in rule_id order";
  EXPECT_EQ(s.rules(1).state().due_ms(), 2);
  EXPECT_EQ(s.rules(1).state().cart().armed_at_ms(), 7);
  EXPECT_EQ(s.rules(2).state().due_ms(), 3);
  EXPECT_TRUE(IsEmptyRuleState(blank)) << "swapped out: the blank is empty again";
}

}  // namespace
}  // namespace touchstream
