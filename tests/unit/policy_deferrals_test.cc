#include <gtest/gtest.h>

#include "processor/policy/deferrals.h"
#include "tests/unit/policy_test_support.h"

namespace touchstream {
namespace {

using testing::PolicyTrigger;

constexpr TimeMs kT = 1'800'000'000'000;

std::vector<std::string> Pending(const PolicyState& state) {
  std::vector<std::string> out;
  for (const v1::state::DeferredTrigger& d : state.deferred()) {
    out.push_back(d.trigger().trigger_id() + "@" + std::to_string(d.release_ms() - kT));
  }
  return out;
}

TEST(DeferralsTest, SortedByReleaseThenTriggerIdAndKeepTheTrigger) {
  PolicyState state;
  AddDeferral(PolicyTrigger("cart_1h", "c-1", kT, "t-b"), kT + 20,
              v1::state::DEFERRAL_REASON_QUIET_HOURS, state);
  AddDeferral(PolicyTrigger("win_back", "c-1", kT, "t-c"), kT + 10,
              v1::state::DEFERRAL_REASON_FREQUENCY_CAP, state);
  AddDeferral(PolicyTrigger("cart_1h", "c-1", kT, "t-a"), kT + 20,
              v1::state::DEFERRAL_REASON_QUIET_HOURS, state);
  EXPECT_EQ(Pending(state), (std::vector<std::string>{"t-c@10", "t-a@20", "t-b@20"}));
  EXPECT_EQ(NextRelease(state), kT + 10);
  EXPECT_EQ(state.deferred(1).trigger().rule_id(), "cart_1h");
  EXPECT_EQ(state.deferred(0).reason(), v1::state::DEFERRAL_REASON_FREQUENCY_CAP);
}

TEST(DeferralsTest, DeferringAgainReplacesTheSameTriggerId) {
  PolicyState state;
  AddDeferral(PolicyTrigger("cart_1h", "c-1", kT, "t-a"), kT + 10,
              v1::state::DEFERRAL_REASON_FREQUENCY_CAP, state);
  AddDeferral(PolicyTrigger("cart_1h", "c-1", kT, "t-a"), kT + 30,
              v1::state::DEFERRAL_REASON_QUIET_HOURS, state);
  EXPECT_EQ(Pending(state), (std::vector<std::string>{"t-a@30"}));
  EXPECT_TRUE(RemoveDeferral("t-a", state));
  EXPECT_FALSE(RemoveDeferral("t-a", state));
  EXPECT_EQ(NextRelease(state), std::nullopt);
}

TEST(DeferralsTest, OnlyQuietHoursAndCapsAreDeferralReasons) {
  EXPECT_EQ(DeferralReasonOf(PolicyReason::kQuietHours), v1::state::DEFERRAL_REASON_QUIET_HOURS);
  EXPECT_EQ(DeferralReasonOf(PolicyReason::kFrequencyCap),
            v1::state::DEFERRAL_REASON_FREQUENCY_CAP);
  EXPECT_EQ(DeferralReasonOf(PolicyReason::kStale), v1::state::DEFERRAL_REASON_UNSPECIFIED);
}

}  // namespace
}  // namespace touchstream
