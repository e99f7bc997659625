// The policy stage's series (processor/metrics/policy_metrics.h), counted by the task manager
// from what each commit holds, through the in-process test driver.
#include "processor/metrics/policy_metrics.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "tests/driver/test_driver.h"
#include "tests/unit/test_events.h"

namespace touchstream {
namespace {

using testing::Event;
using testing::kT0;
using testing::WithItem;

v1::TouchpointEvent Add(const std::string& id, const std::string& customer, TimeMs t) {
  return WithItem(Event(id, customer, t, v1::EVENT_TYPE_ADD_TO_CART), "sku", 1, 1000);
}

v1::TouchpointEvent OptOut(const std::string& id, const std::string& customer, TimeMs t,
                           v1::Channel channel) {
  v1::TouchpointEvent e = Event(id, customer, t, v1::EVENT_TYPE_CONSENT_CHANGE);
  e.mutable_consent()->set_channel(channel);
  e.mutable_consent()->set_opted_in(false);
  return e;
}

// The number of series of `name` the registry serves (0 if none).
size_t SeriesOf(const Metrics& metrics, const std::string& name) {
  for (const auto& family : metrics.collectables()[0]->Collect()) {
    if (family.name == name) return family.metric.size();
  }
  return 0;
}

// The value the registry serves for the series of `name` with exactly `labels`; -1 if none. What
// a scrape sees: the accessors above return the counters the stage counts in, whatever their
// labels say.
double ServedValue(const Metrics& metrics, const std::string& name,
                   const std::map<std::string, std::string>& labels) {
  for (const auto& family : metrics.collectables()[0]->Collect()) {
    if (family.name != name) continue;
    for (const auto& metric : family.metric) {
      std::map<std::string, std::string> served;
      for (const auto& pair : metric.label) served[pair.name] = pair.value;
      if (served == labels) return metric.counter.value;
    }
  }
  return -1;
}

constexpr char kTwoRules[] = R"(
rules:
  cart_1h: {kind: cart_abandonment, delay: 1h}
  cart_held: {kind: cart_abandonment, delay: 1h, holdout_percent: 100}
channels:
  messageable: [CHANNEL_EMAIL]
  opt_in_required: []
  preference: [CHANNEL_EMAIL]
)";

TEST(PolicyMetricsTest, SeriesExistAtZeroFromStartUp) {
  auto driver = testing::TestDriver::FromYaml(kTwoRules);
  const Metrics& metrics = driver->metrics();
  // Per rule: 6 suppression reasons, 2 deferral reasons, holdout, 8 types x 1 messageable channel.
  EXPECT_EQ(SeriesOf(metrics, "touchstream_triggers_suppressed_total"), 2u * 6);
  EXPECT_EQ(SeriesOf(metrics, "touchstream_triggers_deferred_total"), 2u * 2);
  EXPECT_EQ(SeriesOf(metrics, "touchstream_triggers_holdout_total"), 2u);
  EXPECT_EQ(SeriesOf(metrics, "touchstream_triggers_sent_total"), 2u * 8);
  EXPECT_EQ(SeriesOf(metrics, "touchstream_deferred_pending"), 1u);
}

TEST(PolicyMetricsTest, CountsSentHoldoutAndSuppressedByRuleAndReason) {
  auto driver = testing::TestDriver::FromYaml(kTwoRules);
  driver->Pipe(Add("a1", "amy", kT0));
  driver->Pipe(OptOut("b0", "bob", kT0, v1::CHANNEL_EMAIL));
  driver->Pipe(Add("b1", "bob", kT0));
  const auto fired = driver->AdvanceEventTime(kT0 + kHourMs);
  ASSERT_TRUE(driver->status().ok()) << driver->status().message();
  EXPECT_EQ(testing::Describe(fired),
            std::vector<std::string>{"CART_ABANDONED cart_1h amy @+3600s"});

  PolicyMetrics& policy = driver->metrics().policy();
  EXPECT_EQ(policy.sent("cart_1h", v1::TRIGGER_TYPE_CART_ABANDONED, v1::CHANNEL_EMAIL).Value(), 1);
  EXPECT_EQ(policy.holdout("cart_held").Value(), 2);
  EXPECT_EQ(policy.holdout("cart_1h").Value(), 0);
  EXPECT_EQ(policy.suppressed("cart_1h", "no_consent").Value(), 1);
  EXPECT_EQ(policy.suppressed("cart_held", "no_consent").Value(), 0) << "held out first";
  EXPECT_EQ(ServedValue(driver->metrics(), "touchstream_triggers_suppressed_total",
                        {{"rule", "cart_1h"}, {"reason", "no_consent"}}),
            1);
  EXPECT_EQ(
      ServedValue(driver->metrics(), "touchstream_triggers_holdout_total", {{"rule", "cart_held"}}),
      2);
  EXPECT_EQ(policy.deferred_pending().Value(), 0);
  // Emitted counts what went out, as sent does: not bob's suppressed trigger.
  EXPECT_EQ(driver->metrics().triggers_emitted("cart_1h", v1::TRIGGER_TYPE_CART_ABANDONED).Value(),
            1);
}

TEST(PolicyMetricsTest, DeferredPendingRisesAtADeferralAndFallsAtItsRelease) {
  // kT0 is midnight UTC: the 01:00 trigger falls in quiet hours and waits until 02:00.
  auto driver = testing::TestDriver::FromYaml(R"(
rules:
  cart_1h: {kind: cart_abandonment, delay: 1h}
policies:
  quiet_hours: {start: "00:00", end: "02:00"}
)");
  driver->Pipe(Add("a1", "amy", kT0));
  EXPECT_TRUE(driver->AdvanceEventTime(kT0 + kHourMs).empty());
  PolicyMetrics& policy = driver->metrics().policy();
  EXPECT_EQ(policy.deferred("cart_1h", "quiet_hours").Value(), 1);
  EXPECT_EQ(ServedValue(driver->metrics(), "touchstream_triggers_deferred_total",
                        {{"rule", "cart_1h"}, {"reason", "quiet_hours"}}),
            1);
  EXPECT_EQ(policy.deferred_pending().Value(), 1);

  const auto released = driver->AdvanceEventTime(kT0 + 2 * kHourMs);
  ASSERT_TRUE(driver->status().ok()) << driver->status().message();
  ASSERT_EQ(released.size(), 1u);
  EXPECT_EQ(policy.deferred_pending().Value(), 0);
  EXPECT_EQ(policy.sent("cart_1h", v1::TRIGGER_TYPE_CART_ABANDONED, released[0].suggested_channel())
                .Value(),
            1);
}

TEST(PolicyMetricsTest, TimerFireDelayOfAReleasedDeferralCountsFromItsRelease) {
  // Released at 02:00 with the wall clock at 02:00:05: 5 s late, not the hour it was deferred.
  testing::DriverOptions options;
  options.wall_ms = kT0 + 2 * kHourMs + 5000;
  auto driver = testing::TestDriver::FromYaml(R"(
rules:
  cart_1h: {kind: cart_abandonment, delay: 1h}
timers: {clock: event_time}
policies:
  quiet_hours: {start: "00:00", end: "02:00"}
)",
                                              options);
  driver->Pipe(Add("a1", "amy", kT0));
  // One step past the quiet hours' end: deferred and released in it.
  ASSERT_EQ(driver->AdvanceEventTime(kT0 + 2 * kHourMs).size(), 1u);
  ASSERT_TRUE(driver->status().ok()) << driver->status().message();
  const auto families = driver->metrics().collectables()[0]->Collect();
  double sum = -1;
  for (const auto& family : families) {
    if (family.name == "touchstream_timer_fire_delay_seconds") {
      sum = family.metric.at(0).histogram.sample_sum;
    }
  }
  EXPECT_DOUBLE_EQ(sum, 5.0);
}

TEST(PolicyMetricsTest, TimersFiredAfterADowntimeAreStaleByTheClockNow) {
  // A cart at the wall clock's time; the instance is then down for three days (no record
  // since): its timer fires on the idle clock three days late, older than max_trigger_age.
  testing::DriverOptions options;
  options.wall_ms = kT0;
  auto driver = testing::TestDriver::FromYaml(R"(
rules:
  cart_1h: {kind: cart_abandonment, delay: 1h}
policies:
  max_trigger_age: 6h
)",
                                              options);
  driver->Pipe(Add("a1", "amy", kT0));
  EXPECT_TRUE(driver->AdvanceWallClock(3 * kDayMs).empty());
  ASSERT_TRUE(driver->status().ok()) << driver->status().message();
  EXPECT_EQ(driver->metrics().policy().suppressed("cart_1h", "stale").Value(), 1);
}

}  // namespace
}  // namespace touchstream
