// The policy stage's settings (issue 12): the `channels` and `policies` sections of the config
// and each rule's policy keys. Plain values, filled once at start-up by the config reader
// (processor/config/policy_section.h, rule_spec.cc) and immutable afterwards: safe to read from
// any thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "processor/core/time.h"
#include "touchpoint.pb.h"

namespace touchstream {

// `channels`: which channels can carry a message, which need an opt-in, and which to suggest.
struct ChannelPolicy {
  // Channels a trigger may be sent on; others are never suggested.
  std::vector<v1::Channel> messageable{v1::CHANNEL_EMAIL, v1::CHANNEL_SMS, v1::CHANNEL_PUSH,
                                       v1::CHANNEL_WHATSAPP, v1::CHANNEL_IN_APP};
  // Permitted only after an opt-in; every other messageable channel is permitted until an
  // opt-out.
  std::vector<v1::Channel> opt_in_required{v1::CHANNEL_SMS, v1::CHANNEL_WHATSAPP};
  // For a customer who never engaged on a permitted channel: the first permitted one here.
  // Lists every messageable channel (checked at start-up).
  std::vector<v1::Channel> preference{v1::CHANNEL_PUSH, v1::CHANNEL_EMAIL, v1::CHANNEL_IN_APP,
                                      v1::CHANNEL_SMS, v1::CHANNEL_WHATSAPP};
};

// `policies.quiet_hours`: local minutes of the day in [start, end), wrapping midnight when
// start > end. start != end.
struct QuietHours {
  bool enabled = false;
  int start_minute = 0;  // 0..1439
  int end_minute = 0;    // 0..1439
};

// One entry of `policies.caps`: fewer than `max` counted sends in (t − per, t].
struct FrequencyCap {
  int64_t max = 1;     // >= 1
  DurationMs per = 0;  // > 0
  // The rules whose sends count and which the cap applies to; empty = all rules.
  std::vector<std::string> rules;

  bool AppliesTo(const std::string& rule_id) const;
};

// A rule's `quiet_hours` key: what a trigger due in quiet hours does.
enum class QuietHoursAction { kDefer, kDrop, kIgnore };
// A rule's `on_cap` key: what a trigger over a frequency cap does.
enum class CapAction { kDrop, kDefer };

// A rule's policy keys (`rules.<id>.holdout_percent|quiet_hours|on_cap|priority`).
struct RulePolicy {
  // holdout_percent × 100: 0..10000 (processor/policy/holdout.h).
  int32_t holdout_basis_points = 0;
  QuietHoursAction quiet_hours = QuietHoursAction::kDefer;
  CapAction on_cap = CapAction::kDrop;
  // Among same-instant triggers of one customer, higher is decided first.
  int32_t priority = 0;
};

struct PolicyConfig {
  ChannelPolicy channels;
  QuietHours quiet_hours;
  // IANA name of the zone for customers none of whose events carried a known one.
  std::string timezone = "UTC";
  std::vector<FrequencyCap> caps;
  // A new trigger whose fire time is older than this relative to the wall clock is stale; 0 =
  // off.
  DurationMs max_trigger_age_ms = 0;
  // By rule id; a rule not listed has the defaults.
  std::map<std::string, RulePolicy> rules;

  // The rule's policy keys, or the defaults for a rule not configured.
  const RulePolicy& ForRule(const std::string& rule_id) const;
  // The longest `per` among the caps, 0 without caps: how far back sends are remembered.
  DurationMs LongestCapWindow() const;
  // Whether any cap counts sends of `rule_id` (only those are remembered).
  bool AnyCapCounts(const std::string& rule_id) const;
};

}  // namespace touchstream
