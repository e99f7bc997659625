#include "processor/rules/browse_abandonment_rule.h"

#include "tests/driver/driver_test.h"

namespace touchstream {
namespace {

using testing::Describe;
using testing::Event;
using testing::kT0;
using testing::WithItem;
using V = std::vector<std::string>;

constexpr TimeMs kDelay = 30 * kMinuteMs;

// "sku-1 1000 @+0s, sku-2 500 @+60s": a BROWSE_ABANDONED trigger's items in order.
std::string Items(const v1::Trigger& t) {
  std::string out;
  for (const v1::BrowseItem& item : t.browse().items()) {
    out += (out.empty() ? "" : ", ") + item.sku() + " " + std::to_string(item.unit_price_minor()) +
           " @+" + std::to_string((ToTimeMs(item.last_view_time()) - kT0) / 1000) + "s";
  }
  return out;
}

class BrowseAbandonmentRuleTest : public testing::DriverTest {
 protected:
  void SetUp() override { Start({{"browse_30m", {kDelay, 5}}}); }

  void Start(std::vector<std::pair<std::string, BrowseAbandonmentParams>> rules) {
    RuleSet set;
    for (auto& [id, params] : rules) {
      set.push_back(std::make_unique<BrowseAbandonmentRule>(id, params));
    }
    DriverTest::Start(std::move(set));
  }
  // c1's committed state.
  CustomerState C1() {
    std::optional<CustomerState> c1 = driver_->ReadState("c1");
    EXPECT_TRUE(c1.has_value());
    return c1.value_or(CustomerState());
  }
  // c1's armed timers, as its committed rule states hold them.
  size_t PendingTimers() {
    size_t n = 0;
    const CustomerState c1 = C1();
    for (const auto& slot : c1.rules()) n += slot.state().due_ms() != 0;
    return n;
  }
  // A product view of `skus`, each at `price`, without a quantity.
  static v1::TouchpointEvent View(const std::string& id, TimeMs t, std::vector<std::string> skus,
                                  int64_t price = 1000) {
    v1::TouchpointEvent e = Event(id, "c1", t, v1::EVENT_TYPE_PRODUCT_VIEW);
    for (const auto& sku : skus) e = WithItem(e, sku, 0, price);
    return e;
  }
  static v1::TouchpointEvent Add(const std::string& id, TimeMs t, const std::string& sku) {
    return WithItem(Event(id, "c1", t, v1::EVENT_TYPE_ADD_TO_CART), sku, 1, 1000);
  }

  // Items() of the i-th trigger of the last call, "<none>" if there is no such trigger.
  std::string LastItems(size_t i = 0) const {
    return i < last_.size() ? Items(last_[i]) : "<none>";
  }
};

TEST_F(BrowseAbandonmentRuleTest, FiresAtDelayAfterTheView) {
  EXPECT_EQ(Process(View("e1", kT0, {"sku-1"})), V{});
  EXPECT_EQ(AdvanceTo(kT0 + kDelay - 1), V{});
  EXPECT_EQ(AdvanceTo(kT0 + kDelay), V{"BROWSE_ABANDONED browse_30m c1 @+1800s"});
  ASSERT_EQ(last_.size(), 1u);
  const v1::Trigger& t = last_[0];
  EXPECT_EQ(Items(t), "sku-1 1000 @+0s");
  EXPECT_EQ(ToTimeMs(t.browse().last_view_time()), kT0);
  EXPECT_EQ(t.cause_event_id(), "e1");
  // The policy stage: web and the mobile app carry no message, and the customer never engaged
  // on a channel that does: the first permitted one of channels.preference.
  EXPECT_EQ(t.suggested_channel(), v1::CHANNEL_PUSH);
  EXPECT_EQ(t.trigger_id().size(), 34u);
}

TEST_F(BrowseAbandonmentRuleTest, EachViewRearmsAndItemsAreNewestFirst) {
  Process(View("e1", kT0, {"sku-1"}));
  Process(View("e2", kT0 + 10 * kMinuteMs, {"sku-3", "sku-2"}, 500));
  EXPECT_EQ(AdvanceTo(kT0 + kDelay), V{});
  EXPECT_EQ(AdvanceTo(kT0 + 40 * kMinuteMs), V{"BROWSE_ABANDONED browse_30m c1 @+2400s"});
  // Ties in view time by sku.
  EXPECT_EQ(LastItems(), "sku-2 500 @+600s, sku-3 500 @+600s, sku-1 1000 @+0s");
  ASSERT_EQ(last_.size(), 1u);
  EXPECT_EQ(ToTimeMs(last_[0].browse().last_view_time()), kT0 + 10 * kMinuteMs);
  EXPECT_EQ(last_[0].cause_event_id(), "e2");
}

TEST_F(BrowseAbandonmentRuleTest, ViewingASkuAgainRefreshesItsTimeAndPrice) {
  Process(View("e1", kT0, {"sku-1", "sku-2"}));
  Process(View("e2", kT0 + 10 * kMinuteMs, {"sku-1"}, 900));
  EXPECT_EQ(AdvanceTo(kT0 + 40 * kMinuteMs), V{"BROWSE_ABANDONED browse_30m c1 @+2400s"});
  EXPECT_EQ(LastItems(), "sku-1 900 @+600s, sku-2 1000 @+0s");
}

TEST_F(BrowseAbandonmentRuleTest, LateViewDoesNotMoveTheTimerBack) {
  Process(View("e1", kT0 + 20 * kMinuteMs, {"sku-1"}));
  Process(View("e2", kT0 + 5 * kMinuteMs, {"sku-2"}));      // late, new sku
  Process(View("e3", kT0 + 10 * kMinuteMs, {"sku-1"}, 1));  // late, older than sku-1's
  EXPECT_EQ(AdvanceTo(kT0 + 49 * kMinuteMs), V{});
  EXPECT_EQ(AdvanceTo(kT0 + 50 * kMinuteMs), V{"BROWSE_ABANDONED browse_30m c1 @+3000s"});
  EXPECT_EQ(LastItems(), "sku-1 1000 @+1200s, sku-2 1000 @+300s");
  ASSERT_EQ(last_.size(), 1u);
  EXPECT_EQ(last_[0].cause_event_id(), "e1");
}

TEST_F(BrowseAbandonmentRuleTest, AddToCartRemovesTheSku) {
  Process(View("e1", kT0, {"sku-1", "sku-2"}));
  Process(Add("e2", kT0 + kMinuteMs, "sku-1"));
  EXPECT_EQ(AdvanceTo(kT0 + kDelay), V{"BROWSE_ABANDONED browse_30m c1 @+1800s"});
  EXPECT_EQ(LastItems(), "sku-2 1000 @+0s");
}

TEST_F(BrowseAbandonmentRuleTest, InStorePurchaseOfTheLastSkuDisarms) {
  Process(View("e1", kT0, {"sku-1"}));
  EXPECT_EQ(PendingTimers(), 1u);
  Process(
      WithItem(Event("e2", "c1", kT0 + kMinuteMs, v1::EVENT_TYPE_PURCHASE, v1::CHANNEL_IN_STORE),
               "sku-1", 1, 1000));
  EXPECT_EQ(PendingTimers(), 0u);
  EXPECT_EQ(C1().rules_size(), 0) << "nothing left to remember";
  EXPECT_EQ(AdvanceTo(kT0 + 5 * kHourMs), V{});
}

TEST_F(BrowseAbandonmentRuleTest, CartEventsWithoutItemsRemoveNothing) {
  Process(View("e1", kT0, {"sku-1"}));
  Process(Event("e2", "c1", kT0 + kMinuteMs, v1::EVENT_TYPE_PURCHASE, v1::CHANNEL_IN_STORE));
  Process(Event("e3", "c1", kT0 + 2 * kMinuteMs, v1::EVENT_TYPE_ADD_TO_CART));
  EXPECT_EQ(AdvanceTo(kT0 + kDelay), V{"BROWSE_ABANDONED browse_30m c1 @+1800s"});
  EXPECT_EQ(LastItems(), "sku-1 1000 @+0s");
}

TEST_F(BrowseAbandonmentRuleTest, EvictsTheOldestViewAtMaxItems) {
  Start({{"browse_2", {kDelay, 2}}});
  Process(View("e1", kT0, {"a"}));
  Process(View("e2", kT0 + 1000, {"b"}));
  Process(View("e3", kT0 + 2000, {"c"}));  // evicts a
  Process(View("e4", kT0 + 500, {"d"}));   // late and older than both: not kept, no re-arm
  // The stored set is bounded, not only the trigger.
  EXPECT_EQ(C1().rules(0).state().browse().skus_size(), 2);
  EXPECT_EQ(AdvanceTo(kT0 + kDelay + 2000), V{"BROWSE_ABANDONED browse_2 c1 @+1802s"});
  EXPECT_EQ(LastItems(), "c 1000 @+2s, b 1000 @+1s");
  ASSERT_EQ(last_.size(), 1u);
  EXPECT_EQ(last_[0].cause_event_id(), "e3");
}

TEST_F(BrowseAbandonmentRuleTest, AViewWhoseSkuIsEvictedAtOnceDoesNotArm) {
  Start({{"browse_1", {kDelay, 1}}});
  Process(View("e1", kT0, {"a"}));
  Process(View("e2", kT0, {"b"}));  // same time, sorts after a: evicted at once
  EXPECT_EQ(AdvanceTo(kT0 + kDelay), V{"BROWSE_ABANDONED browse_1 c1 @+1800s"});
  EXPECT_EQ(LastItems(), "a 1000 @+0s");
  ASSERT_EQ(last_.size(), 1u);
  EXPECT_EQ(last_[0].cause_event_id(), "e1");
}

TEST_F(BrowseAbandonmentRuleTest, PageViewsAndViewsWithoutItemsDoNotCount) {
  Process(Event("e1", "c1", kT0, v1::EVENT_TYPE_PAGE_VIEW));
  Process(Event("e2", "c1", kT0, v1::EVENT_TYPE_PRODUCT_VIEW));
  EXPECT_EQ(PendingTimers(), 0u);
  Process(View("e3", kT0 + kMinuteMs, {"sku-1"}));
  Process(
      WithItem(Event("e4", "c1", kT0 + 10 * kMinuteMs, v1::EVENT_TYPE_PAGE_VIEW), "sku-2", 1, 100));
  EXPECT_EQ(AdvanceTo(kT0 + 31 * kMinuteMs), V{"BROWSE_ABANDONED browse_30m c1 @+1860s"});
  EXPECT_EQ(LastItems(), "sku-1 1000 @+60s");
}

TEST_F(BrowseAbandonmentRuleTest, FiresOncePerEpisode) {
  Process(View("e1", kT0, {"sku-1"}));
  EXPECT_EQ(AdvanceTo(kT0 + kDelay).size(), 1u);
  ASSERT_EQ(last_.size(), 1u);
  const std::string first_id = last_[0].trigger_id();
  EXPECT_EQ(AdvanceTo(kT0 + 10 * kHourMs), V{});
  EXPECT_EQ(PendingTimers(), 0u);
  // The next view arms a new episode with only what it viewed: the set was cleared.
  Process(View("e2", kT0 + 11 * kHourMs, {"sku-2"}));
  EXPECT_EQ(AdvanceTo(kT0 + 12 * kHourMs), V{"BROWSE_ABANDONED browse_30m c1 @+41400s"});
  EXPECT_EQ(LastItems(), "sku-2 1000 @+39600s");
  ASSERT_EQ(last_.size(), 1u);
  EXPECT_NE(last_[0].trigger_id(), first_id);
}

TEST_F(BrowseAbandonmentRuleTest, TriggerIdsAreDeterministicAndUniquePerArmingView) {
  auto run = [this] {
    Start({{"browse_30m", {kDelay, 5}}});
    std::vector<v1::Trigger> fired;
    Process(View("e1", kT0, {"sku-1"}));
    AdvanceTo(kT0 + kDelay);
    fired.insert(fired.end(), last_.begin(), last_.end());
    // Late, after the firing, dated like e1: a new episode armed at the same time.
    Process(View("e2", kT0, {"sku-1"}));
    AdvanceTo(kT0 + 2 * kDelay);
    fired.insert(fired.end(), last_.begin(), last_.end());
    return fired;
  };
  const std::vector<v1::Trigger> first = run();
  EXPECT_EQ(Describe(first), (V{"BROWSE_ABANDONED browse_30m c1 @+1800s",
                                "BROWSE_ABANDONED browse_30m c1 @+1800s"}));
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[1].cause_event_id(), "e2");
  EXPECT_NE(first[0].trigger_id(), first[1].trigger_id());
  const std::vector<v1::Trigger> second = run();
  ASSERT_EQ(second.size(), 2u);
  EXPECT_EQ(second[0].trigger_id(), first[0].trigger_id());
  EXPECT_EQ(second[1].trigger_id(), first[1].trigger_id());
}

TEST_F(BrowseAbandonmentRuleTest, TwoInstancesKeepTheirOwnSets) {
  Start({{"browse_30m", {kDelay, 5}}, {"browse_2h_1", {2 * kHourMs, 1}}});
  Process(View("e1", kT0, {"sku-1", "sku-2"}));
  EXPECT_EQ(AdvanceTo(kT0 + 3 * kHourMs), (V{"BROWSE_ABANDONED browse_30m c1 @+1800s",
                                             "BROWSE_ABANDONED browse_2h_1 c1 @+7200s"}));
  EXPECT_EQ(LastItems(), "sku-1 1000 @+0s, sku-2 1000 @+0s");
  EXPECT_EQ(LastItems(1), "sku-1 1000 @+0s");
}

}  // namespace
}  // namespace touchstream
