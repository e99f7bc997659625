#include <gtest/gtest.h>

#include "processor/policy/channel_choice.h"
#include "processor/policy/consent.h"
#include "tests/unit/policy_test_support.h"

namespace touchstream {
namespace {

using testing::At;

const TimeMs kT = At("2026-05-01T10:00:00Z");

std::string Chosen(const PolicyState& state, const ChannelPolicy& policy = {}) {
  std::optional<v1::Channel> channel = ChooseChannel(state, policy);
  return channel ? v1::Channel_Name(*channel) : "none";
}

TEST(ConsentTest, DefaultsPermitUntilOptOutExceptOptInChannels) {
  const PolicyState state;
  const ChannelPolicy policy;
  EXPECT_TRUE(IsPermitted(v1::CHANNEL_EMAIL, state, policy));
  EXPECT_TRUE(IsPermitted(v1::CHANNEL_PUSH, state, policy));
  EXPECT_FALSE(IsPermitted(v1::CHANNEL_SMS, state, policy)) << "needs an opt-in";
  EXPECT_FALSE(IsPermitted(v1::CHANNEL_WHATSAPP, state, policy));
  EXPECT_FALSE(IsPermitted(v1::CHANNEL_IN_STORE, state, policy)) << "not messageable";
}

TEST(ConsentTest, OptInAndOptOutChangePermission) {
  PolicyState state;
  const ChannelPolicy policy;
  EXPECT_TRUE(ApplyConsentChange(v1::CHANNEL_SMS, true, kT, state));
  EXPECT_TRUE(ApplyConsentChange(v1::CHANNEL_EMAIL, false, kT, state));
  EXPECT_TRUE(IsPermitted(v1::CHANNEL_SMS, state, policy));
  EXPECT_FALSE(IsPermitted(v1::CHANNEL_EMAIL, state, policy));
  // Opting in to a channel that is not messageable does not make it one.
  EXPECT_TRUE(ApplyConsentChange(v1::CHANNEL_WEB, true, kT, state));
  EXPECT_FALSE(IsPermitted(v1::CHANNEL_WEB, state, policy));
  ASSERT_EQ(state.consent_size(), 3);
  EXPECT_EQ(state.consent(0).channel(), v1::CHANNEL_WEB) << "sorted by channel number";
  EXPECT_EQ(state.consent(2).channel(), v1::CHANNEL_SMS);
}

TEST(ConsentTest, LateChangeDatedBeforeALaterOneDoesNotOverrideIt) {
  PolicyState state;
  EXPECT_TRUE(ApplyConsentChange(v1::CHANNEL_EMAIL, false, kT, state));
  // An opt-in from an hour earlier arrives afterwards: the opt-out stands.
  EXPECT_FALSE(ApplyConsentChange(v1::CHANNEL_EMAIL, true, kT - kHourMs, state));
  EXPECT_FALSE(IsPermitted(v1::CHANNEL_EMAIL, state, {}));
  EXPECT_EQ(state.consent(0).time_ms(), kT);
  // A later opt-in does override it.
  EXPECT_TRUE(ApplyConsentChange(v1::CHANNEL_EMAIL, true, kT + kHourMs, state));
  EXPECT_TRUE(IsPermitted(v1::CHANNEL_EMAIL, state, {}));
}

TEST(ConsentTest, OptOutWinsAtEqualTimeWhateverTheArrivalOrder) {
  PolicyState in_first;
  ApplyConsentChange(v1::CHANNEL_SMS, true, kT, in_first);
  EXPECT_TRUE(ApplyConsentChange(v1::CHANNEL_SMS, false, kT, in_first));
  PolicyState out_first;
  ApplyConsentChange(v1::CHANNEL_SMS, false, kT, out_first);
  EXPECT_FALSE(ApplyConsentChange(v1::CHANNEL_SMS, true, kT, out_first));
  EXPECT_FALSE(IsPermitted(v1::CHANNEL_SMS, in_first, {}));
  EXPECT_FALSE(IsPermitted(v1::CHANNEL_SMS, out_first, {}));
  EXPECT_EQ(in_first.SerializeAsString(), out_first.SerializeAsString());
}

TEST(ChannelChoiceTest, NeverEngagedGetsTheFirstPermittedPreference) {
  PolicyState state;
  EXPECT_EQ(Chosen(state), "CHANNEL_PUSH");
  ApplyConsentChange(v1::CHANNEL_PUSH, false, kT, state);
  EXPECT_EQ(Chosen(state), "CHANNEL_EMAIL");
}

TEST(ChannelChoiceTest, MostRecentlyEngagedPermittedChannelWins) {
  PolicyState state;
  RecordEngagement(v1::CHANNEL_EMAIL, kT, state);
  RecordEngagement(v1::CHANNEL_IN_STORE, kT + 2 * kHourMs, state);  // not messageable
  RecordEngagement(v1::CHANNEL_SMS, kT + kHourMs, state);           // no opt-in
  EXPECT_EQ(Chosen(state), "CHANNEL_EMAIL");
  ApplyConsentChange(v1::CHANNEL_SMS, true, kT, state);
  EXPECT_EQ(Chosen(state), "CHANNEL_SMS");
  // An older engagement does not move the channel's latest time back.
  EXPECT_FALSE(RecordEngagement(v1::CHANNEL_SMS, kT - kHourMs, state));
  EXPECT_EQ(Chosen(state), "CHANNEL_SMS");
}

TEST(ChannelChoiceTest, EqualEngagementTimesGoToTheEarlierPreference) {
  PolicyState state;
  RecordEngagement(v1::CHANNEL_IN_APP, kT, state);
  RecordEngagement(v1::CHANNEL_EMAIL, kT, state);
  EXPECT_EQ(Chosen(state), "CHANNEL_EMAIL");  // EMAIL comes before IN_APP in the default
}

TEST(ChannelChoiceTest, NoPermittedChannelChoosesNone) {
  PolicyState state;
  for (v1::Channel channel : {v1::CHANNEL_EMAIL, v1::CHANNEL_PUSH, v1::CHANNEL_IN_APP}) {
    ApplyConsentChange(channel, false, kT, state);
  }
  EXPECT_EQ(Chosen(state), "none");
  ChannelPolicy email_only;
  email_only.messageable = {v1::CHANNEL_EMAIL};
  EXPECT_EQ(Chosen(PolicyState(), email_only), "CHANNEL_EMAIL");
}

}  // namespace
}  // namespace touchstream
