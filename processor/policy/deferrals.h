// A customer's deferred triggers (PolicyState.deferred): each is a durable timer of its own
// that keeps the trigger, trigger_id included, until its release time. The caller keeps the
// timer index in step (a deferral's timer key includes its trigger id). Pure.
#pragma once

#include <optional>
#include <string>

#include "processor/core/time.h"
#include "processor/policy/consent.h"
#include "processor/policy/decision.h"
#include "trigger.pb.h"

namespace touchstream {

// The stored reason of a DEFER decision: DEFERRAL_REASON_QUIET_HOURS or _FREQUENCY_CAP
// (UNSPECIFIED for any other reason: never stored).
v1::state::DeferralReason DeferralReasonOf(PolicyReason reason);

// Stores `trigger` (moved in) until `release_ms`, replacing an earlier deferral with the same
// trigger_id; the list stays sorted by (release_ms, trigger_id).
void AddDeferral(v1::Trigger trigger, TimeMs release_ms, v1::state::DeferralReason reason,
                 PolicyState& state);

// Removes the deferral of `trigger_id` (released, or erased). Returns whether there was one.
bool RemoveDeferral(const std::string& trigger_id, PolicyState& state);

// The earliest release time, nullopt when nothing is deferred.
std::optional<TimeMs> NextRelease(const PolicyState& state);

}  // namespace touchstream
