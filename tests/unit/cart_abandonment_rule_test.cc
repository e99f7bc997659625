#include "processor/rules/cart_abandonment_rule.h"

#include <gtest/gtest.h>

#include "tests/driver/driver_test.h"

namespace touchstream {
namespace {

using testing::Describe;
using testing::Event;
using testing::kT0;
using testing::WithItem;
using V = std::vector<std::string>;

class CartAbandonmentRuleTest : public testing::DriverTest {
 protected:
  void SetUp() override { Start({{"cart_1h", {kHourMs, 0}}}); }

  // Restarts the driver with these rules, in order.
  void Start(std::vector<std::pair<std::string, CartAbandonmentParams>> rules) {
    RuleSet set;
    for (const auto& [id, params] : rules) {
      set.push_back(std::make_unique<CartAbandonmentRule>(id, params));
    }
    DriverTest::Start(std::move(set));
  }
  v1::TouchpointEvent Add(const std::string& id, TimeMs t, const std::string& sku = "sku-1",
                          int qty = 1, int64_t price = 1000) {
    return WithItem(Event(id, "c1", t, v1::EVENT_TYPE_ADD_TO_CART), sku, qty, price);
  }
};

TEST_F(CartAbandonmentRuleTest, FiresAtDelayAfterLastCartChange) {
  EXPECT_EQ(Process(Add("e1", kT0)), V{});
  EXPECT_EQ(AdvanceTo(kT0 + kHourMs - 1), V{});
  EXPECT_EQ(AdvanceTo(kT0 + kHourMs), V{"CART_ABANDONED cart_1h c1 @+3600s"});
  ASSERT_EQ(last_.size(), 1u);
  const v1::Trigger& t = last_[0];
  EXPECT_EQ(t.cart().total_minor(), 1000);
  EXPECT_EQ(t.cart().items(0).sku(), "sku-1");
  EXPECT_EQ(t.cause_event_id(), "e1");
  // The policy stage: web and the mobile app carry no message, and the customer never engaged
  // on a channel that does: the first permitted one of channels.preference.
  EXPECT_EQ(t.suggested_channel(), v1::CHANNEL_PUSH);
  EXPECT_EQ(t.trigger_id().size(), 34u);
}

TEST_F(CartAbandonmentRuleTest, FiresOncePerEpisode) {
  Process(Add("e1", kT0));
  EXPECT_EQ(AdvanceTo(kT0 + kHourMs).size(), 1u);
  EXPECT_EQ(AdvanceTo(kT0 + 10 * kHourMs), V{});
  // The next change arms a new episode.
  Process(Add("e2", kT0 + 11 * kHourMs));
  EXPECT_EQ(AdvanceTo(kT0 + 12 * kHourMs), V{"CART_ABANDONED cart_1h c1 @+43200s"});
}

TEST_F(CartAbandonmentRuleTest, EachChangeRearms) {
  Process(Add("e1", kT0));
  Process(Add("e2", kT0 + 30 * kMinuteMs, "sku-2"));
  EXPECT_EQ(AdvanceTo(kT0 + kHourMs), V{});
  EXPECT_EQ(AdvanceTo(kT0 + 90 * kMinuteMs), V{"CART_ABANDONED cart_1h c1 @+5400s"});
  EXPECT_EQ(last_[0].cart().total_minor(), 2000);
}

TEST_F(CartAbandonmentRuleTest, InStorePurchaseCancelsOnlineCart) {
  Process(Add("e1", kT0));
  auto purchase = WithItem(
      Event("e2", "c1", kT0 + 10 * kMinuteMs, v1::EVENT_TYPE_PURCHASE, v1::CHANNEL_IN_STORE),
      "sku-1", 1, 1000);
  Process(purchase);
  EXPECT_EQ(AdvanceTo(kT0 + 5 * kHourMs), V{});
}

TEST_F(CartAbandonmentRuleTest, PurchaseWithoutItemsEmptiesTheCart) {
  Process(Add("e1", kT0));
  Process(Event("e2", "c1", kT0 + kMinuteMs, v1::EVENT_TYPE_PURCHASE, v1::CHANNEL_IN_STORE));
  EXPECT_EQ(AdvanceTo(kT0 + 5 * kHourMs), V{});
}

TEST_F(CartAbandonmentRuleTest, PartialPurchaseRearmsForTheRest) {
  Process(Add("e1", kT0, "sku-1", 2, 500));
  Process(
      WithItem(Event("e2", "c1", kT0 + 20 * kMinuteMs, v1::EVENT_TYPE_PURCHASE), "sku-1", 1, 500));
  EXPECT_EQ(AdvanceTo(kT0 + kHourMs), V{});
  EXPECT_EQ(AdvanceTo(kT0 + 80 * kMinuteMs), V{"CART_ABANDONED cart_1h c1 @+4800s"});
  EXPECT_EQ(last_[0].cart().items(0).quantity(), 1);
}

TEST_F(CartAbandonmentRuleTest, EventExactlyAtDeadlineIsTooLate) {
  Process(Add("e1", kT0));
  // The purchase at the deadline moves the watermark first, so the timer fires before it.
  EXPECT_EQ(Process(Event("e2", "c1", kT0 + kHourMs, v1::EVENT_TYPE_PURCHASE)),
            V{"CART_ABANDONED cart_1h c1 @+3600s"});
}

TEST_F(CartAbandonmentRuleTest, RespectsMinimumCartValue) {
  Start({{"big_carts", {kHourMs, 5000}}});
  EXPECT_EQ(Process(Add("e1", kT0, "cheap", 1, 100)), V{});
  EXPECT_EQ(AdvanceTo(kT0 + 2 * kHourMs), V{});
}

TEST_F(CartAbandonmentRuleTest, TwoInstancesFireIndependently) {
  Start({{"cart_1h", {kHourMs, 0}}, {"cart_24h", {24 * kHourMs, 0}}});
  Process(Add("e1", kT0));
  EXPECT_EQ(AdvanceTo(kT0 + 30 * kHourMs),
            (V{"CART_ABANDONED cart_1h c1 @+3600s", "CART_ABANDONED cart_24h c1 @+86400s"}));
  EXPECT_NE(last_[0].trigger_id(), last_[1].trigger_id());
}

TEST_F(CartAbandonmentRuleTest, RemovingEverythingDisarms) {
  Process(Add("e1", kT0));
  Process(Event("e2", "c1", kT0 + kMinuteMs, v1::EVENT_TYPE_REMOVE_FROM_CART));
  EXPECT_EQ(AdvanceTo(kT0 + 5 * kHourMs), V{});
}

}  // namespace
}  // namespace touchstream
