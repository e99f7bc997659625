#include "processor/policy/policy_config.h"

#include <gtest/gtest.h>

#include "processor/config/config.h"
#include "tests/unit/config_errors.h"

namespace touchstream {
namespace {

using testing::ParseErrorOf;
using testing::StartupErrorOf;

TEST(PolicyConfigTest, DefaultsAreTheIssues) {
  const PolicyConfig p = ParseConfig("", "test.yaml").policy;
  EXPECT_EQ(p.channels.messageable,
            (std::vector<v1::Channel>{v1::CHANNEL_EMAIL, v1::CHANNEL_SMS, v1::CHANNEL_PUSH,
                                      v1::CHANNEL_WHATSAPP, v1::CHANNEL_IN_APP}));
  EXPECT_EQ(p.channels.opt_in_required,
            (std::vector<v1::Channel>{v1::CHANNEL_SMS, v1::CHANNEL_WHATSAPP}));
  EXPECT_EQ(p.channels.preference,
            (std::vector<v1::Channel>{v1::CHANNEL_PUSH, v1::CHANNEL_EMAIL, v1::CHANNEL_IN_APP,
                                      v1::CHANNEL_SMS, v1::CHANNEL_WHATSAPP}));
  EXPECT_FALSE(p.quiet_hours.enabled);
  EXPECT_EQ(p.timezone, "UTC");
  EXPECT_TRUE(p.caps.empty());
  EXPECT_EQ(p.max_trigger_age_ms, 0);
  const RulePolicy& rule = p.ForRule("anything");
  EXPECT_EQ(rule.holdout_basis_points, 0);
  EXPECT_EQ(rule.quiet_hours, QuietHoursAction::kDefer);
  EXPECT_EQ(rule.on_cap, CapAction::kDrop);
  EXPECT_EQ(rule.priority, 0);
}

TEST(PolicyConfigTest, ReadsEveryKey) {
  const Config c = ParseConfig(R"(
channels:
  messageable: [CHANNEL_EMAIL, CHANNEL_SMS]
  opt_in_required: [CHANNEL_SMS]
  preference: [CHANNEL_SMS, CHANNEL_EMAIL]
policies:
  quiet_hours: {start: "21:30", end: "07:45"}
  timezone: Europe/Berlin
  caps: [{max: 2, per: 24h}, {max: 1, per: 7d, rules: [cart_1h]}]
  max_trigger_age: 6h
rules:
  cart_1h: {kind: cart_abandonment, delay: 1h, holdout_percent: 12.5, quiet_hours: drop,
            on_cap: defer, priority: 7}
  win_back: {kind: win_back, holdout_percent: "0.05", quiet_hours: ignore, priority: -2}
)",
                               "test.yaml");
  const PolicyConfig& p = c.policy;
  EXPECT_EQ(p.channels.messageable, (std::vector<v1::Channel>{v1::CHANNEL_EMAIL, v1::CHANNEL_SMS}));
  EXPECT_EQ(p.channels.opt_in_required, (std::vector<v1::Channel>{v1::CHANNEL_SMS}));
  EXPECT_EQ(p.channels.preference, (std::vector<v1::Channel>{v1::CHANNEL_SMS, v1::CHANNEL_EMAIL}));
  EXPECT_TRUE(p.quiet_hours.enabled);
  EXPECT_EQ(p.quiet_hours.start_minute, 21 * 60 + 30);
  EXPECT_EQ(p.quiet_hours.end_minute, 7 * 60 + 45);
  EXPECT_EQ(p.timezone, "Europe/Berlin");
  ASSERT_EQ(p.caps.size(), 2u);
  EXPECT_EQ(p.caps[0].max, 2);
  EXPECT_EQ(p.caps[0].per, kDayMs);
  EXPECT_TRUE(p.caps[0].rules.empty());
  EXPECT_EQ(p.caps[1].rules, (std::vector<std::string>{"cart_1h"}));
  EXPECT_EQ(p.LongestCapWindow(), 7 * kDayMs);
  EXPECT_EQ(p.max_trigger_age_ms, 6 * kHourMs);
  const RulePolicy& cart = p.ForRule("cart_1h");
  EXPECT_EQ(cart.holdout_basis_points, 1250);
  EXPECT_EQ(cart.quiet_hours, QuietHoursAction::kDrop);
  EXPECT_EQ(cart.on_cap, CapAction::kDefer);
  EXPECT_EQ(cart.priority, 7);
  EXPECT_EQ(p.ForRule("win_back").holdout_basis_points, 5);
  EXPECT_EQ(p.ForRule("win_back").quiet_hours, QuietHoursAction::kIgnore);
  EXPECT_EQ(p.ForRule("win_back").on_cap, CapAction::kDrop);
  EXPECT_EQ(p.ForRule("win_back").priority, -2);
  // The policy keys are not the kind's parameters: the rules still build.
  EXPECT_FALSE(c.rules[0].params["priority"]);
  EXPECT_EQ(StartupErrorOf(R"(
rules:
  cart_1h: {kind: cart_abandonment, holdout_percent: 100, on_cap: defer, priority: 1}
)"),
            "no error");
}

TEST(PolicyConfigTest, QuietHoursMayBeUnquotedOrOff) {
  const QuietHours q =
      ParseConfig("policies: {quiet_hours: {start: 22:15, end: 06:00}}", "t").policy.quiet_hours;
  EXPECT_TRUE(q.enabled);
  EXPECT_EQ(q.start_minute, 22 * 60 + 15);
  EXPECT_EQ(q.end_minute, 6 * 60);
  EXPECT_FALSE(ParseConfig("policies: {quiet_hours: null}", "t").policy.quiet_hours.enabled);
}

TEST(PolicyConfigTest, HoldoutPercentErrorsNameTheKey) {
  const std::string suffix = "' is not a percentage from 0 to 100 with at most two decimals";
  EXPECT_EQ(ParseErrorOf("rules: {c: {kind: win_back, holdout_percent: 12.345}}"),
            "rules.c.holdout_percent: '12.345" + suffix);
  EXPECT_EQ(ParseErrorOf("rules: {c: {kind: win_back, holdout_percent: -1}}"),
            "rules.c.holdout_percent: '-1" + suffix);
  EXPECT_EQ(ParseErrorOf("rules: {c: {kind: win_back, holdout_percent: 100.5}}"),
            "rules.c.holdout_percent: '100.5" + suffix);
  EXPECT_EQ(ParseErrorOf("rules: {c: {kind: win_back, holdout_percent: 100}}"), "no error");
}

TEST(PolicyConfigTest, RuleKeyErrorsNameTheKey) {
  EXPECT_EQ(ParseErrorOf("rules: {c: {kind: win_back, quiet_hours: later}}"),
            "rules.c.quiet_hours: 'later' is not one of: defer, drop, ignore");
  EXPECT_EQ(ParseErrorOf("rules: {c: {kind: win_back, on_cap: ignore}}"),
            "rules.c.on_cap: 'ignore' is not one of: defer, drop");
  EXPECT_EQ(ParseErrorOf("rules: {c: {kind: win_back, priority: high}}"),
            "rules.c.priority: 'high' is not an integer");
}

TEST(PolicyConfigTest, ChannelErrorsNameTheKey) {
  EXPECT_EQ(ParseErrorOf("channels: {messageable: [CHANNEL_EMAIL, EMAIL]}"),
            "channels.messageable[1]: 'EMAIL' is not a channel (CHANNEL_EMAIL, CHANNEL_SMS, "
            "CHANNEL_PUSH, ...)");
  EXPECT_EQ(ParseErrorOf("channels: {messageable: [CHANNEL_UNSPECIFIED]}"),
            "channels.messageable[0]: 'CHANNEL_UNSPECIFIED' is not a channel (CHANNEL_EMAIL, "
            "CHANNEL_SMS, CHANNEL_PUSH, ...)");
  EXPECT_EQ(ParseErrorOf("channels: {opt_in_required: [CHANNEL_SMS, CHANNEL_SMS]}"),
            "channels.opt_in_required[1]: CHANNEL_SMS is listed twice");
  EXPECT_EQ(ParseErrorOf("channels: {messageable: []}"),
            "channels.messageable: must list at least one channel");
  EXPECT_EQ(ParseErrorOf("channels: {messageable: [CHANNEL_WEB, CHANNEL_EMAIL]}"),
            "channels.preference: must list every channel in channels.messageable; CHANNEL_WEB "
            "is missing");
  EXPECT_EQ(ParseErrorOf("channels: {preference: CHANNEL_SMS}"),
            "channels.preference: expected a list of channels");
  EXPECT_EQ(ParseErrorOf("channels: {messagable: [CHANNEL_SMS]}"),
            "channels.messagable: unknown key");
}

TEST(PolicyConfigTest, PolicyErrorsNameTheKey) {
  EXPECT_EQ(ParseErrorOf("policies: {timezone: Mars/Olympus_Mons}"),
            "policies.timezone: unknown time zone 'Mars/Olympus_Mons' (an IANA name such as "
            "Europe/Berlin from the system tz database, package tzdata)");
  EXPECT_EQ(ParseErrorOf("policies: {timezone: /etc/localtime}"),
            "policies.timezone: unknown time zone '/etc/localtime' (an IANA name such as "
            "Europe/Berlin from the system tz database, package tzdata)");
  EXPECT_EQ(ParseErrorOf("policies: {quiet_hours: {start: \"21:00\"}}"),
            "policies.quiet_hours.end: required (\"HH:MM\")");
  EXPECT_EQ(ParseErrorOf("policies: {quiet_hours: {start: \"24:00\", end: \"08:00\"}}"),
            "policies.quiet_hours.start: '24:00' is not a local time of day \"HH:MM\" (00:00 to "
            "23:59)");
  EXPECT_EQ(ParseErrorOf("policies: {quiet_hours: {start: \"8:00\", end: \"09:00\"}}"),
            "policies.quiet_hours.start: '8:00' is not a local time of day \"HH:MM\" (00:00 to "
            "23:59)");
  EXPECT_EQ(ParseErrorOf("policies: {quiet_hours: {start: \"08:00\", end: \"08:00\"}}"),
            "policies.quiet_hours.end: must differ from start (quiet hours would be empty or the "
            "whole day)");
  EXPECT_EQ(ParseErrorOf("policies: {quiet_hours: {start: \"21:00\", end: \"08:00\", tz: x}}"),
            "policies.quiet_hours.tz: unknown key");
  EXPECT_EQ(ParseErrorOf("policies: {max_trigger_age: soon}"),
            "policies.max_trigger_age: invalid duration 'soon' (expected an integer with a unit: "
            "500ms, 30s, 15m, 1h, 7d)");
}

TEST(PolicyConfigTest, CapErrorsNameTheKey) {
  EXPECT_EQ(ParseErrorOf("policies: {caps: {max: 2}}"),
            "policies.caps: expected a list of caps, e.g. [{max: 2, per: 24h}]");
  EXPECT_EQ(ParseErrorOf("policies: {caps: [{per: 24h}]}"), "policies.caps[0].max: required");
  EXPECT_EQ(ParseErrorOf("policies: {caps: [{max: 0, per: 24h}]}"),
            "policies.caps[0].max: 0 is out of range [1, 1000000]");
  EXPECT_EQ(ParseErrorOf("policies: {caps: [{max: 1, per: 1h}, {max: 2}]}"),
            "policies.caps[1].per: required, greater than 0");
  EXPECT_EQ(ParseErrorOf("policies: {caps: [{max: 1, per: 1h, rule: [a]}]}"),
            "policies.caps[0].rule: unknown key");
  EXPECT_EQ(ParseErrorOf(R"(
rules: {cart_1h: {kind: cart_abandonment}}
policies: {caps: [{max: 1, per: 7d, rules: [cart_1h, cart_2h]}]}
)"),
            "policies.caps[0].rules[1]: 'cart_2h' is not a configured rule id");
}

}  // namespace
}  // namespace touchstream
