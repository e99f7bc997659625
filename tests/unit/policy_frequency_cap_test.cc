#include <gtest/gtest.h>

#include "processor/policy/frequency_cap.h"
#include "tests/unit/policy_test_support.h"

namespace touchstream {
namespace {

using testing::At;

const TimeMs kT = At("2026-05-01T10:00:00Z");

PolicyConfig WithCaps(std::vector<FrequencyCap> caps) {
  PolicyConfig config;
  config.caps = std::move(caps);
  return config;
}

void Sent(PolicyState& state, const std::string& rule_id, TimeMs t) {
  v1::state::SentTrigger* sent = state.add_sent();
  sent->set_rule_id(rule_id);
  sent->set_time_ms(t);
}

std::string Check(const std::string& rule_id, TimeMs t, const PolicyState& state,
                  const PolicyConfig& config) {
  const CapCheck check = CheckCaps(rule_id, t, state, config.caps);
  return check.allowed ? "allowed" : "capped until " + FormatTime(check.retry_ms);
}

TEST(FrequencyCapTest, WindowIsOpenAtItsStartAndClosedAtItsEnd) {
  const PolicyConfig config = WithCaps({{2, 24 * kHourMs, {}}});
  PolicyState state;
  Sent(state, "cart_1h", kT - 24 * kHourMs);  // left the window (t − per, t] exactly now
  Sent(state, "win_back", kT - kHourMs);
  EXPECT_EQ(Check("cart_1h", kT, state, config), "allowed");
  Sent(state, "cart_1h", kT);  // a send at t itself counts
  EXPECT_EQ(Check("cart_1h", kT, state, config), "capped until 2026-05-02T09:00:00Z");
}

TEST(FrequencyCapTest, RuleListLimitsWhatCountsAndWhatIsCapped) {
  const PolicyConfig config = WithCaps({{1, 7 * kDayMs, {"cart_1h"}}});
  PolicyState state;
  Sent(state, "win_back", kT - kDayMs);
  EXPECT_EQ(Check("cart_1h", kT, state, config), "allowed") << "win_back sends do not count";
  Sent(state, "cart_1h", kT - kDayMs);
  EXPECT_EQ(Check("cart_1h", kT, state, config), "capped until 2026-05-07T10:00:00Z");
  EXPECT_EQ(Check("win_back", kT, state, config), "allowed") << "the cap is not win_back's";
}

TEST(FrequencyCapTest, RetryIsWhenEveryBlockingCapHasRoom) {
  const PolicyConfig config =
      WithCaps({{2, 24 * kHourMs, {}}, {1, 7 * kDayMs, {"cart_1h"}}, {10, kHourMs, {}}});
  PolicyState state;
  Sent(state, "cart_1h", kT - 3 * kDayMs);
  Sent(state, "win_back", kT - 2 * kHourMs);
  Sent(state, "win_back", kT - kHourMs / 2);
  // 24h cap: room at (kT - 2h) + 24h; 7d cap: room at (kT - 3d) + 7d, the later one.
  EXPECT_EQ(Check("cart_1h", kT, state, config), "capped until 2026-05-05T10:00:00Z");
  EXPECT_EQ(Check("win_back", kT, state, config), "capped until 2026-05-02T08:00:00Z");
}

TEST(FrequencyCapTest, OverfullWindowWaitsForEnoughSendsToLeave) {
  const PolicyConfig config = WithCaps({{1, 24 * kHourMs, {}}});
  PolicyState state;
  Sent(state, "a", kT - 3 * kHourMs);
  Sent(state, "b", kT - 2 * kHourMs);  // e.g. the cap was lowered since
  EXPECT_EQ(Check("a", kT, state, config), "capped until 2026-05-02T08:00:00Z");
}

TEST(FrequencyCapTest, RecordSendKeepsOnlyCountedRulesWithinTheLongestWindow) {
  const PolicyConfig config = WithCaps({{1, 7 * kDayMs, {"cart_1h"}}, {3, kDayMs, {"cart_1h"}}});
  PolicyState state;
  RecordSend("win_back", kT, config, state);
  EXPECT_EQ(state.sent_size(), 0) << "no cap counts win_back";
  RecordSend("cart_1h", kT, config, state);
  RecordSend("cart_1h", kT - kDayMs, config, state);  // recorded late: still in time order
  ASSERT_EQ(state.sent_size(), 2);
  EXPECT_EQ(state.sent(0).time_ms(), kT - kDayMs);
  RecordSend("cart_1h", kT + 13 * kDayMs, config, state);
  ASSERT_EQ(state.sent_size(), 2)
      << "the send 14 days before the latest is in no window of a decision up to 7 days before it";
  EXPECT_EQ(state.sent(0).time_ms(), kT);
  EXPECT_EQ(state.sent(1).time_ms(), kT + 13 * kDayMs);
}

// Out of event-time order: a send later in event time than the decision (a late add-to-cart's
// reminder, due at once, decided at its due time after today's reminder went out) counts too.
TEST(FrequencyCapTest, ASendAfterTheDecisionTimeCountsToo) {
  const PolicyConfig config = WithCaps({{1, 24 * kHourMs, {}}});
  PolicyState state;
  Sent(state, "cart_1h", kT + 4 * kHourMs);
  EXPECT_EQ(Check("cart_1h", kT, state, config), "capped until 2026-05-02T14:00:00Z");
  EXPECT_EQ(Check("cart_1h", kT - 20 * kHourMs, state, config), "allowed")
      << "a day before that send: no window holds both";
  // Two a day: a window that holds kT and the later send has room for one more.
  const PolicyConfig two = WithCaps({{2, 24 * kHourMs, {}}});
  EXPECT_EQ(Check("cart_1h", kT, state, two), "allowed");
  Sent(state, "win_back", kT - 10 * kHourMs);
  // [kT - 10h, kT + 14h) would hold three: room once the first send leaves, at kT + 14h.
  EXPECT_EQ(Check("cart_1h", kT, state, two), "capped until 2026-05-02T00:00:00Z");
}

TEST(FrequencyCapTest, WithoutCapsNothingIsRemembered) {
  PolicyState state;
  RecordSend("cart_1h", kT, PolicyConfig{}, state);
  EXPECT_EQ(state.sent_size(), 0);
  EXPECT_EQ(Check("cart_1h", kT, state, PolicyConfig{}), "allowed");
}

}  // namespace
}  // namespace touchstream
