// The policy stage wired into the per-partition task, through the in-process test driver (the
// task behind `run`): what goes out on the trigger topic and what the audit topic says about
// the rest. The decisions themselves are tested in policy_decide_test.cc.
#include "processor/policy/policy_stage.h"

#include <gtest/gtest.h>

#include "audit.pb.h"
#include "tests/driver/test_driver.h"
#include "tests/unit/test_events.h"

namespace touchstream {
namespace {

using testing::Event;
using testing::WithItem;

// 2026-05-01T20:30:00Z: a cart added now is due at 21:30, inside quiet hours 21:00-08:00 UTC.
constexpr TimeMs kEvening = 1777667400000;

std::string Config(const std::string& policies, const std::string& rule_keys = "") {
  return "policies: {" + policies + "}\n" +
         "rules:\n  cart_1h: {kind: cart_abandonment, delay: 1h" + rule_keys +
         "}\n"
         "  cart_2h: {kind: cart_abandonment, delay: 2h" +
         rule_keys + "}\n";
}

v1::TouchpointEvent Add(const std::string& id, TimeMs t, v1::Channel channel = v1::CHANNEL_WEB) {
  return WithItem(Event(id, "amy", t, v1::EVENT_TYPE_ADD_TO_CART, channel), "sku", 1, 1000);
}

v1::TouchpointEvent Consent(const std::string& id, TimeMs t, v1::Channel channel, bool in) {
  v1::TouchpointEvent e = Event(id, "amy", t, v1::EVENT_TYPE_CONSENT_CHANGE, channel);
  e.mutable_consent()->set_channel(channel);
  e.mutable_consent()->set_opted_in(in);
  return e;
}

std::vector<v1::AuditRecord> Audits(const testing::TestDriver& driver) {
  std::vector<v1::AuditRecord> out;
  for (const auto& record : driver.Delivered("touchstream-audit")) {
    v1::AuditRecord audit;
    EXPECT_TRUE(audit.ParseFromString(record.value()));
    EXPECT_EQ(record.key(), audit.trigger().customer_id());
    out.push_back(std::move(audit));
  }
  return out;
}

std::string Describe(const v1::AuditRecord& a) {
  std::string s = v1::AuditDecision_Name(a.decision()).substr(15) + " " + a.trigger().rule_id();
  if (!a.reason().empty()) s += " " + a.reason();
  if (a.has_until()) s += " until " + std::to_string(ToTimeMs(a.until()) - kEvening);
  return s;
}

TEST(PolicyStageTest, SendsOnThePermittedChannelTheCustomerEngagedOnLast) {
  auto driver = testing::TestDriver::FromYaml(Config(""));
  driver->Pipe(Event("v1", "amy", kEvening - kHourMs, v1::EVENT_TYPE_PAGE_VIEW, v1::CHANNEL_EMAIL));
  driver->Pipe(Add("e1", kEvening, v1::CHANNEL_IN_STORE));
  const auto sent = driver->AdvanceEventTime(kEvening + 3 * kHourMs);
  ASSERT_EQ(sent.size(), 2u);
  // In-store cannot carry a message; the email the customer last engaged on can.
  EXPECT_EQ(sent[0].suggested_channel(), v1::CHANNEL_EMAIL);
  EXPECT_EQ(ToTimeMs(sent[0].send_time()), kEvening + kHourMs);
  EXPECT_TRUE(Audits(*driver).empty()) << "an immediate send is not audited";
}

TEST(PolicyStageTest, NoPermittedChannelSuppressesAndTheAuditSaysWhy) {
  auto driver = testing::TestDriver::FromYaml(Config(""));
  for (v1::Channel c : {v1::CHANNEL_EMAIL, v1::CHANNEL_PUSH, v1::CHANNEL_IN_APP}) {
    driver->Pipe(Consent("o" + std::to_string(c), kEvening - kDayMs, c, false));
  }
  driver->Pipe(Add("e1", kEvening));
  EXPECT_TRUE(driver->AdvanceEventTime(kEvening + 3 * kHourMs).empty());
  const auto audits = Audits(*driver);
  ASSERT_EQ(audits.size(), 2u);
  EXPECT_EQ(Describe(audits[0]), "SUPPRESSED cart_1h no_consent");
  EXPECT_EQ(Describe(audits[1]), "SUPPRESSED cart_2h no_consent");
  EXPECT_EQ(ToTimeMs(audits[0].decision_time()), kEvening + kHourMs);
  // Nothing was suggested: not the web channel the cart was filled on, which carries no message.
  EXPECT_EQ(audits[0].trigger().suggested_channel(), v1::CHANNEL_UNSPECIFIED);
  // An SMS opt-in makes SMS the one permitted channel again.
  driver->Pipe(Consent("i1", kEvening + 4 * kHourMs, v1::CHANNEL_SMS, true));
  driver->Pipe(Add("e2", kEvening + 4 * kHourMs));
  const auto sent = driver->AdvanceEventTime(kEvening + 6 * kHourMs);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].suggested_channel(), v1::CHANNEL_SMS);
}

TEST(PolicyStageTest, AHeldOutCustomerGetsNothingAndIsAudited) {
  auto driver = testing::TestDriver::FromYaml(Config("", ", holdout_percent: 100"));
  driver->Pipe(Add("e1", kEvening));
  EXPECT_TRUE(driver->AdvanceEventTime(kEvening + 3 * kHourMs).empty());
  const auto audits = Audits(*driver);
  ASSERT_EQ(audits.size(), 2u);
  EXPECT_EQ(Describe(audits[0]), "HOLDOUT cart_1h holdout");
}

TEST(PolicyStageTest, QuietHoursDeferUntilTheirEndAndTheSameTriggerIsSentThen) {
  auto driver =
      testing::TestDriver::FromYaml(Config("quiet_hours: {start: \"21:00\", end: \"08:00\"}"));
  driver->Pipe(Add("e1", kEvening));
  EXPECT_TRUE(driver->AdvanceEventTime(kEvening + 3 * kHourMs).empty());
  // 08:00 next morning is 11h30m after 20:30.
  const TimeMs morning = kEvening + 11 * kHourMs + 30 * kMinuteMs;
  auto audits = Audits(*driver);
  ASSERT_EQ(audits.size(), 2u);
  EXPECT_EQ(Describe(audits[0]),
            "DEFERRED cart_1h quiet_hours until " + std::to_string(morning - kEvening));
  // The deferral is in the customer's committed state, with a timer of its own.
  const auto state = driver->ReadState("amy");
  ASSERT_TRUE(state.has_value());
  ASSERT_EQ(state->policy().deferred_size(), 2);
  const std::vector<TimerKey> timers = TimersOf(*state, kEvening + 3 * kHourMs);
  EXPECT_EQ(timers.size(), 2u) << "the rules' timers fired; the deferrals' remain";

  EXPECT_TRUE(driver->AdvanceEventTime(morning - 1).empty());
  const auto sent = driver->AdvanceEventTime(morning);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].trigger_id(), audits[0].trigger().trigger_id());
  EXPECT_EQ(ToTimeMs(sent[0].send_time()), morning);
  EXPECT_EQ(ToTimeMs(sent[0].fire_time()), kEvening + kHourMs);
  audits = Audits(*driver);
  ASSERT_EQ(audits.size(), 4u);
  EXPECT_EQ(Describe(audits[2]), "RELEASED cart_1h");
  EXPECT_EQ(driver->ReadState("amy")->policy().deferred_size(), 0);
}

TEST(PolicyStageTest, ADeferredCartReminderIsSupersededByAPurchase) {
  auto driver =
      testing::TestDriver::FromYaml(Config("quiet_hours: {start: \"21:00\", end: \"08:00\"}"));
  driver->Pipe(Add("e1", kEvening));
  driver->AdvanceEventTime(kEvening + 3 * kHourMs);
  // Bought at night, in the store: the reminder about that cart no longer holds.
  v1::TouchpointEvent purchase = WithItem(
      Event("p1", "amy", kEvening + 4 * kHourMs, v1::EVENT_TYPE_PURCHASE, v1::CHANNEL_IN_STORE),
      "sku", 1, 1000);
  driver->Pipe(purchase);
  EXPECT_TRUE(driver->AdvanceEventTime(kEvening + kDayMs).empty());
  const auto audits = Audits(*driver);
  ASSERT_EQ(audits.size(), 4u);
  EXPECT_EQ(Describe(audits[2]), "SUPPRESSED cart_1h superseded");
  EXPECT_EQ(Describe(audits[3]), "SUPPRESSED cart_2h superseded");
}

// A browse reminder deferred to the morning: gone once the customer bought something or put one
// of its products in the cart overnight (the rule's set was cleared when it fired).
TEST(PolicyStageTest, ADeferredBrowseReminderIsSupersededByAPurchaseOrACartAdd) {
  auto driver = testing::TestDriver::FromYaml(
      "policies: {quiet_hours: {start: \"21:00\", end: \"08:00\"}}\n"
      "rules:\n  browse_1h: {kind: browse_abandonment, delay: 1h}\n");
  // Dee's product was in her cart before she viewed it again: the reminder stands, as it did
  // when it fired.
  driver->Pipe(WithItem(
      Event("a0", "dee", kEvening - kDayMs, v1::EVENT_TYPE_ADD_TO_CART, v1::CHANNEL_MOBILE_APP),
      "sku", 1, 1000));
  for (const char* customer : {"amy", "bob", "cy", "dee"}) {
    driver->Pipe(WithItem(Event(std::string("v-") + customer, customer, kEvening,
                                v1::EVENT_TYPE_PRODUCT_VIEW, v1::CHANNEL_MOBILE_APP),
                          "sku", 1, 1000));
  }
  EXPECT_TRUE(driver->AdvanceEventTime(kEvening + 3 * kHourMs).empty());
  // Overnight: amy buys something else in the store, bob puts the product in his cart.
  driver->Pipe(WithItem(
      Event("p1", "amy", kEvening + 4 * kHourMs, v1::EVENT_TYPE_PURCHASE, v1::CHANNEL_IN_STORE),
      "other", 1, 500));
  driver->Pipe(WithItem(Event("a1", "bob", kEvening + 4 * kHourMs, v1::EVENT_TYPE_ADD_TO_CART,
                              v1::CHANNEL_MOBILE_APP),
                        "sku", 1, 1000));
  const auto sent = driver->AdvanceEventTime(kEvening + kDayMs);
  std::vector<std::string> sent_to;
  for (const v1::Trigger& t : sent) {
    if (t.rule_id() == "browse_1h") sent_to.push_back(t.customer_id());
  }
  EXPECT_EQ(sent_to, (std::vector<std::string>{"cy", "dee"}));
  std::vector<std::string> released;
  for (const v1::AuditRecord& a : Audits(*driver)) {
    if (a.decision() != v1::AUDIT_DECISION_DEFERRED) {
      released.push_back(a.trigger().customer_id() + " " + Describe(a));
    }
  }
  EXPECT_EQ(released,
            (std::vector<std::string>{"amy SUPPRESSED browse_1h superseded",
                                      "bob SUPPRESSED browse_1h superseded",
                                      "cy RELEASED browse_1h", "dee RELEASED browse_1h"}));
}

TEST(PolicyStageTest, ACappedTriggerIsDeferredUntilTheOldestSendLeavesTheWindow) {
  auto driver =
      testing::TestDriver::FromYaml(Config("caps: [{max: 1, per: 24h}]", ", on_cap: defer"));
  driver->Pipe(Add("e1", kEvening));
  const auto first = driver->AdvanceEventTime(kEvening + 3 * kHourMs);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].rule_id(), "cart_1h");
  const auto audits = Audits(*driver);
  ASSERT_EQ(audits.size(), 1u);
  EXPECT_EQ(Describe(audits[0]),
            "DEFERRED cart_2h frequency_cap until " + std::to_string(kHourMs + kDayMs));
  const auto later = driver->AdvanceEventTime(kEvening + kHourMs + kDayMs);
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].rule_id(), "cart_2h");
  EXPECT_EQ(ToTimeMs(later[0].send_time()), kEvening + kHourMs + kDayMs);
}

TEST(PolicyStageTest, AnErasureCancelsAPendingDeferral) {
  auto driver =
      testing::TestDriver::FromYaml(Config("quiet_hours: {start: \"21:00\", end: \"08:00\"}"));
  driver->Pipe(Add("e1", kEvening));
  driver->AdvanceEventTime(kEvening + 3 * kHourMs);
  driver->Pipe(Event("x1", "amy", kEvening + 4 * kHourMs, v1::EVENT_TYPE_ERASURE_REQUEST));
  EXPECT_TRUE(driver->AdvanceEventTime(kEvening + 2 * kDayMs).empty());
  EXPECT_FALSE(driver->ReadState("amy").has_value());
}

}  // namespace
}  // namespace touchstream
