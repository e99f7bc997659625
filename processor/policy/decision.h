// What the policy stage decides about one trigger, and the names the audit records and metric
// labels use for it (issue 12). Plain values.
#pragma once

#include <string>
#include <string_view>

#include "processor/core/time.h"
#include "touchpoint.pb.h"

namespace touchstream {

enum class PolicyVerdict { kSend, kDefer, kSuppress, kHoldout };

// Why a trigger did not go out at once. kNone for a SEND.
enum class PolicyReason {
  kNone,
  kHoldout,
  kNoConsent,
  kQuietHours,
  kFrequencyCap,
  kSuperseded,
  kStale,
  kStateLimit,  // a deferral dropped to keep the customer's state within limits.max_state_bytes
};

struct Decision {
  PolicyVerdict verdict = PolicyVerdict::kSend;
  PolicyReason reason = PolicyReason::kNone;
  // kDefer: the release time (event time), always after the decision time.
  TimeMs until_ms = 0;
  // kSend: the trigger's suggested_channel.
  v1::Channel channel = v1::CHANNEL_UNSPECIFIED;

  static Decision Send(v1::Channel channel) {
    return {PolicyVerdict::kSend, PolicyReason::kNone, 0, channel};
  }
  static Decision Defer(TimeMs until_ms, PolicyReason reason) {
    return {PolicyVerdict::kDefer, reason, until_ms, v1::CHANNEL_UNSPECIFIED};
  }
  static Decision Suppress(PolicyReason reason) {
    return {PolicyVerdict::kSuppress, reason, 0, v1::CHANNEL_UNSPECIFIED};
  }
  static Decision Holdout() {
    return {PolicyVerdict::kHoldout, PolicyReason::kHoldout, 0, v1::CHANNEL_UNSPECIFIED};
  }
};

// "send", "defer", "suppress", "holdout".
std::string_view PolicyVerdictName(PolicyVerdict verdict);
// The audit record's and the metrics' reason: "holdout", "no_consent", "quiet_hours",
// "frequency_cap", "superseded", "stale"; "" for kNone.
std::string_view ReasonName(PolicyReason reason);

// One line for logs and test asserts, e.g. "SEND CHANNEL_EMAIL",
// "DEFER quiet_hours until 2026-03-08T12:00:00Z", "SUPPRESS no_consent", "HOLDOUT".
std::string DescribeDecision(const Decision& decision);

}  // namespace touchstream
