// The partition clock: watermark, allowed lateness, timer order, late events.
// Runs through the test driver: each step is processed and committed as `run`
// does it.
#include "processor/core/pipeline.h"

#include "processor/rules/cart_abandonment_rule.h"
#include "tests/driver/driver_test.h"

namespace touchstream {
namespace {

using testing::Describe;
using testing::Event;
using testing::kT0;
using testing::WithItem;
using V = std::vector<std::string>;

class PipelineTest : public testing::DriverTest {
 protected:
  void Start(DurationMs allowed_lateness_ms) {
    // Config order b, a: timers must still fire in rule id order.
    RuleSet rules;
    rules.push_back(
        std::make_unique<CartAbandonmentRule>("cart_b", CartAbandonmentParams{kHourMs, 0}));
    rules.push_back(
        std::make_unique<CartAbandonmentRule>("cart_a", CartAbandonmentParams{kHourMs, 0}));
    testing::DriverOptions options;
    options.allowed_lateness_ms = allowed_lateness_ms;
    DriverTest::Start(std::move(rules), options);
  }
  TimeMs watermark() const { return driver_->task()->watermark_ms(); }
  static v1::TouchpointEvent Add(const std::string& id, const std::string& customer, TimeMs t) {
    return WithItem(Event(id, customer, t, v1::EVENT_TYPE_ADD_TO_CART), "sku", 1, 1000);
  }
};

TEST_F(PipelineTest, TimersFireByDueTimeThenCustomerIdThenRuleId) {
  Start(0);
  EXPECT_EQ(Process(Add("e1", "zed", kT0)), V{});
  EXPECT_EQ(Process(Add("e2", "bob", kT0 + kMinuteMs)), V{});
  EXPECT_EQ(Process(Add("e3", "amy", kT0 + kMinuteMs - 1)), V{});
  EXPECT_EQ(Process(Add("e4", "al", kT0)), V{});
  EXPECT_EQ(AdvanceTo(kT0 + kHourMs + kMinuteMs),
            (V{"CART_ABANDONED cart_a al @+3600s", "CART_ABANDONED cart_b al @+3600s",
               "CART_ABANDONED cart_a zed @+3600s", "CART_ABANDONED cart_b zed @+3600s",
               "CART_ABANDONED cart_a amy @+3659s", "CART_ABANDONED cart_b amy @+3659s",
               "CART_ABANDONED cart_a bob @+3660s", "CART_ABANDONED cart_b bob @+3660s"}));
}

TEST_F(PipelineTest, AnEventFiresWhatItsWatermarkMakesDueBeforeItIsApplied) {
  Start(0);
  EXPECT_EQ(Process(Add("e1", "amy", kT0)), V{});
  // bob's event at amy's deadline moves the watermark there: her timer fires first.
  EXPECT_EQ(Process(Add("e2", "bob", kT0 + kHourMs)),
            (V{"CART_ABANDONED cart_a amy @+3600s", "CART_ABANDONED cart_b amy @+3600s"}));
  EXPECT_EQ(watermark(), kT0 + kHourMs);
}

TEST_F(PipelineTest, AllowedLatenessHoldsTheWatermarkBack) {
  Start(10 * kMinuteMs);
  EXPECT_EQ(Process(Add("e1", "amy", kT0)), V{});
  EXPECT_EQ(Process(Add("e2", "bob", kT0 + kHourMs + 9 * kMinuteMs)), V{});
  EXPECT_EQ(watermark(), kT0 + 59 * kMinuteMs);
  EXPECT_EQ(driver_->task()->max_event_time_ms(), kT0 + kHourMs + 9 * kMinuteMs);
  EXPECT_EQ(Process(Add("e3", "bob", kT0 + kHourMs + 10 * kMinuteMs)),
            (V{"CART_ABANDONED cart_a amy @+3600s", "CART_ABANDONED cart_b amy @+3600s"}));
}

TEST_F(PipelineTest, TheWatermarkNeverMovesBack) {
  Start(0);
  EXPECT_EQ(Process(Add("e1", "amy", kT0 + kHourMs)), V{});
  EXPECT_EQ(Process(Add("e2", "bob", kT0)), V{});
  EXPECT_EQ(watermark(), kT0 + kHourMs);
  EXPECT_EQ(AdvanceTo(kT0), V{});
  EXPECT_EQ(watermark(), kT0 + kHourMs);
}

TEST_F(PipelineTest, LateEventsUpdateTheAggregateAndFiredTriggersStand) {
  Start(0);
  EXPECT_EQ(Process(Add("e1", "amy", kT0)), V{});
  EXPECT_EQ(AdvanceTo(kT0 + 2 * kHourMs),
            (V{"CART_ABANDONED cart_a amy @+3600s", "CART_ABANDONED cart_b amy @+3600s"}));
  // A purchase from before the deadline arrives late: it counts in the aggregate, and the
  // cart it would have emptied has already been reported; nothing is retracted or re-sent.
  v1::TouchpointEvent purchase =
      Event("e2", "amy", kT0 + 30 * kMinuteMs, v1::EVENT_TYPE_PURCHASE, v1::CHANNEL_IN_STORE);
  purchase.set_amount_minor(1000);
  EXPECT_EQ(Process(purchase), V{});
  const std::optional<CustomerState> amy = driver_->ReadState("amy");
  ASSERT_TRUE(amy.has_value());
  EXPECT_EQ(amy->lifetime_value_minor(), 1000);
  EXPECT_EQ(amy->cart().lines_size(), 0);
  EXPECT_EQ(AdvanceTo(kT0 + 10 * kHourMs), V{});
}

}  // namespace
}  // namespace touchstream
