#include "processor/policy/policy_state.h"

#include <gtest/gtest.h>

#include "processor/policy/channel_choice.h"
#include "tests/unit/policy_test_support.h"
#include "tests/unit/test_events.h"

namespace touchstream {
namespace {

using testing::At;
using testing::Event;
using testing::Zones;

const TimeMs kT = At("2026-05-01T10:00:00Z");

v1::TouchpointEvent Consent(TimeMs t, v1::Channel channel, bool opted_in,
                            v1::Channel event_channel = v1::CHANNEL_WEB) {
  v1::TouchpointEvent e =
      Event("e-consent", "c-1", t, v1::EVENT_TYPE_CONSENT_CHANGE, event_channel);
  if (channel != v1::CHANNEL_UNSPECIFIED) e.mutable_consent()->set_channel(channel);
  e.mutable_consent()->set_opted_in(opted_in);
  return e;
}

v1::TouchpointEvent InZone(v1::TouchpointEvent e, const std::string& zone) {
  e.set_timezone(zone);
  return e;
}

TEST(PolicyStateTest, ConsentChangeSetsTheConsentedChannel) {
  PolicyState state;
  EXPECT_TRUE(UpdatePolicyState(Consent(kT, v1::CHANNEL_SMS, true), Zones(), state).changed);
  EXPECT_TRUE(IsPermitted(v1::CHANNEL_SMS, state, {}));
  EXPECT_EQ(state.engagement_size(), 0) << "a consent change is not an engagement";
  // A late opt-out dated before the opt-in does not override it.
  EXPECT_FALSE(UpdatePolicyState(Consent(kT - 1, v1::CHANNEL_SMS, false), Zones(), state).changed);
  EXPECT_TRUE(IsPermitted(v1::CHANNEL_SMS, state, {}));
}

TEST(PolicyStateTest, ConsentWithoutAChannelAppliesToTheEventsChannel) {
  PolicyState state;
  UpdatePolicyState(Consent(kT, v1::CHANNEL_UNSPECIFIED, false, v1::CHANNEL_EMAIL), Zones(), state);
  EXPECT_FALSE(IsPermitted(v1::CHANNEL_EMAIL, state, {}));
}

TEST(PolicyStateTest, EngagementsRecordTheLatestTimePerChannel) {
  PolicyState state;
  UpdatePolicyState(Event("e1", "c-1", kT, v1::EVENT_TYPE_MESSAGE_OPEN, v1::CHANNEL_EMAIL), Zones(),
                    state);
  UpdatePolicyState(Event("e2", "c-1", kT + 5, v1::EVENT_TYPE_APP_OPEN, v1::CHANNEL_PUSH), Zones(),
                    state);
  UpdatePolicyState(Event("e3", "c-1", kT - 5, v1::EVENT_TYPE_PAGE_VIEW, v1::CHANNEL_EMAIL),
                    Zones(), state);
  UpdatePolicyState(Event("e4", "c-1", kT + 9, v1::EVENT_TYPE_IDENTIFY, v1::CHANNEL_EMAIL), Zones(),
                    state);  // not an engagement
  ASSERT_EQ(state.engagement_size(), 2);
  EXPECT_EQ(state.engagement(0).channel(), v1::CHANNEL_EMAIL);
  EXPECT_EQ(state.engagement(0).last_ms(), kT);
  EXPECT_EQ(state.engagement(1).channel(), v1::CHANNEL_PUSH);
  EXPECT_EQ(state.engagement(1).last_ms(), kT + 5);
  EXPECT_EQ(ChooseChannel(state, {}), v1::CHANNEL_PUSH);
}

TEST(PolicyStateTest, TimeZoneIsTheLatestKnownOneByEventTime) {
  PolicyState state;
  const auto view = [](TimeMs t) { return Event("e", "c-1", t, v1::EVENT_TYPE_PAGE_VIEW); };
  EXPECT_TRUE(UpdatePolicyState(InZone(view(kT), "Europe/Berlin"), Zones(), state).changed);
  EXPECT_EQ(state.timezone(), "Europe/Berlin");
  // An older event from another zone arrives late: the later one stands.
  UpdatePolicyState(InZone(view(kT - kHourMs), "America/New_York"), Zones(), state);
  EXPECT_EQ(state.timezone(), "Europe/Berlin");
  UpdatePolicyState(InZone(view(kT + kHourMs), "America/New_York"), Zones(), state);
  EXPECT_EQ(state.timezone(), "America/New_York");
  EXPECT_EQ(state.timezone_ms(), kT + kHourMs);
  // An event without a zone changes nothing.
  UpdatePolicyState(view(kT + 2 * kHourMs), Zones(), state);
  EXPECT_EQ(state.timezone(), "America/New_York");
}

TEST(PolicyStateTest, UnknownZoneIsIgnoredAndReported) {
  PolicyState state;
  UpdatePolicyState(InZone(Event("e", "c-1", kT, v1::EVENT_TYPE_PAGE_VIEW), "Europe/Paris"),
                    Zones(), state);
  for (const char* bad : {"Mars/Olympus_Mons", "/etc/localtime", "../zoneinfo/UTC", "America"}) {
    v1::TouchpointEvent e = InZone(Event("e", "c-1", kT + kHourMs, v1::EVENT_TYPE_PAGE_VIEW), bad);
    const PolicyUpdate update = UpdatePolicyState(e, Zones(), state);
    EXPECT_TRUE(update.unknown_timezone) << bad;
    EXPECT_EQ(state.timezone(), "Europe/Paris") << bad;
  }
  // The rest of the event still applies.
  EXPECT_EQ(state.engagement(0).last_ms(), kT + kHourMs);
}

}  // namespace
}  // namespace touchstream
