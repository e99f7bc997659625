#include "processor/http/customer_view.h"

#include <gtest/gtest.h>

#include "processor/policy/deferrals.h"
#include "processor/policy/policy_state.h"
#include "tests/unit/policy_test_support.h"
#include "tests/unit/test_events.h"

namespace touchstream {
namespace {

using testing::At;
using testing::Event;
using testing::PolicyTrigger;
using testing::Zones;

v1::TouchpointEvent Consent(const std::string& id, TimeMs t, v1::Channel channel, bool opted_in) {
  v1::TouchpointEvent e = Event(id, "alice", t, v1::EVENT_TYPE_CONSENT_CHANGE, v1::CHANNEL_WEB);
  e.mutable_consent()->set_channel(channel);
  e.mutable_consent()->set_opted_in(opted_in);
  return e;
}

// The "policy" object of the view, the part this module adds to the stored state.
std::string PolicyPart(const std::string& view) {
  const size_t at = view.rfind(",\"policy\":");
  return at == std::string::npos ? "" : view.substr(at + 1, view.size() - at - 2);
}

TEST(CustomerViewTest, ShowsConsentEngagementTimeZoneAndDeferrals) {
  v1::state::CustomerState state;
  state.set_customer_id("alice");
  PolicyState& policy = *state.mutable_policy();
  auto apply = [&](const v1::TouchpointEvent& e) { (void)UpdatePolicyState(e, Zones(), policy); };
  apply(Consent("c1", At("2026-05-01T09:00:00Z"), v1::CHANNEL_SMS, true));
  apply(Consent("c2", At("2026-05-01T09:05:00Z"), v1::CHANNEL_PUSH, false));
  v1::TouchpointEvent open = Event("o1", "alice", At("2026-05-01T10:00:00Z"),
                                   v1::EVENT_TYPE_MESSAGE_OPEN, v1::CHANNEL_EMAIL);
  open.set_timezone("Europe/Berlin");
  apply(open);
  apply(Event("v1", "alice", At("2026-05-01T10:30:00Z"), v1::EVENT_TYPE_PAGE_VIEW));
  v1::Trigger cart = PolicyTrigger("cart_1h", "alice", At("2026-05-01T20:30:00Z"), "t-cart");
  AddDeferral(cart, At("2026-05-02T06:00:00Z"), v1::state::DEFERRAL_REASON_QUIET_HOURS, policy);
  v1::Trigger win_back = PolicyTrigger("win_back", "alice", At("2026-05-01T12:00:00Z"), "t-wb");
  win_back.set_type(v1::TRIGGER_TYPE_WIN_BACK);
  AddDeferral(win_back, At("2026-05-01T14:00:00Z"), v1::state::DEFERRAL_REASON_FREQUENCY_CAP,
              policy);

  const std::string view = CustomerViewJson(3, state, PolicyConfig{});
  EXPECT_EQ(view.rfind("{\"partition\":3,\"state\":{\"customerId\":\"alice\",", 0), 0) << view;
  EXPECT_EQ(
      PolicyPart(view),
      "\"policy\":{"
      "\"timezone\":{\"name\":\"Europe/Berlin\",\"since\":\"2026-05-01T10:00:00Z\"},"
      "\"consent\":["
      "{\"channel\":\"CHANNEL_EMAIL\",\"consent\":\"unset\",\"permitted\":true},"
      "{\"channel\":\"CHANNEL_SMS\",\"consent\":\"opted_in\","
      "\"time\":\"2026-05-01T09:00:00Z\",\"permitted\":true},"
      "{\"channel\":\"CHANNEL_PUSH\",\"consent\":\"opted_out\","
      "\"time\":\"2026-05-01T09:05:00Z\",\"permitted\":false},"
      "{\"channel\":\"CHANNEL_WHATSAPP\",\"consent\":\"unset\",\"permitted\":false},"
      "{\"channel\":\"CHANNEL_IN_APP\",\"consent\":\"unset\",\"permitted\":true}],"
      "\"engagement\":["
      "{\"channel\":\"CHANNEL_WEB\",\"lastEngagement\":\"2026-05-01T10:30:00Z\"},"
      "{\"channel\":\"CHANNEL_EMAIL\",\"lastEngagement\":\"2026-05-01T10:00:00Z\"}],"
      "\"deferred\":["
      "{\"triggerId\":\"t-wb\",\"rule\":\"win_back\",\"type\":\"TRIGGER_TYPE_WIN_BACK\","
      "\"until\":\"2026-05-01T14:00:00Z\",\"reason\":\"frequency_cap\"},"
      "{\"triggerId\":\"t-cart\",\"rule\":\"cart_1h\",\"type\":\"TRIGGER_TYPE_CART_ABANDONED\","
      "\"until\":\"2026-05-02T06:00:00Z\",\"reason\":\"quiet_hours\"}]}");
}

TEST(CustomerViewTest, ANewCustomerHasTheDefaultZoneAndOnlyDefaultConsent) {
  v1::state::CustomerState state;
  state.set_customer_id("bob");
  PolicyConfig config;
  config.timezone = "America/New_York";
  config.channels.messageable = {v1::CHANNEL_EMAIL, v1::CHANNEL_SMS};
  EXPECT_EQ(PolicyPart(CustomerViewJson(0, state, config)),
            "\"policy\":{"
            "\"timezone\":{\"name\":\"America/New_York\",\"default\":true},"
            "\"consent\":["
            "{\"channel\":\"CHANNEL_EMAIL\",\"consent\":\"unset\",\"permitted\":true},"
            "{\"channel\":\"CHANNEL_SMS\",\"consent\":\"unset\",\"permitted\":false}],"
            "\"engagement\":[],\"deferred\":[]}");
}

TEST(CustomerViewTest, AConsentChangeOnANonMessageableChannelIsListedAndNotPermitted) {
  v1::state::CustomerState state;
  PolicyState& policy = *state.mutable_policy();
  (void)UpdatePolicyState(Consent("c1", At("2026-05-01T09:00:00Z"), v1::CHANNEL_IN_APP, true),
                          Zones(), policy);
  PolicyConfig config;
  config.channels.messageable = {v1::CHANNEL_EMAIL};
  const std::string view = CustomerViewJson(0, state, config);
  EXPECT_NE(view.find("\"consent\":["
                      "{\"channel\":\"CHANNEL_EMAIL\",\"consent\":\"unset\",\"permitted\":true},"
                      "{\"channel\":\"CHANNEL_IN_APP\",\"consent\":\"opted_in\","
                      "\"time\":\"2026-05-01T09:00:00Z\",\"permitted\":false}]"),
            std::string::npos)
      << view;
}

}  // namespace
}  // namespace touchstream
