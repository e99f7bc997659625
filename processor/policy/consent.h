// Consent per channel (issue 12, step 2): a channel's consent is its latest CONSENT_CHANGE by
// event time. A late change dated before the stored one does not override it; at an equal time
// an opt-out wins, so the outcome does not depend on arrival order. Pure.
#pragma once

#include "processor/core/time.h"
#include "processor/policy/policy_config.h"
#include "state.pb.h"
#include "touchpoint.pb.h"

namespace touchstream {

using PolicyState = v1::state::PolicyState;

// Records that the customer opted in to / out of `channel` at `time_ms`, unless a change dated
// later (or an opt-out at the same time) is stored already. Returns whether the state changed.
bool ApplyConsentChange(v1::Channel channel, bool opted_in, TimeMs time_ms, PolicyState& state);

// The stored consent of `channel`, nullptr when the customer never changed it.
const v1::state::ChannelConsent* FindConsent(const PolicyState& state, v1::Channel channel);

// Whether a message may go out on `channel`: it is messageable and either opted in, or neither
// opted out nor in `opt_in_required`.
bool IsPermitted(v1::Channel channel, const PolicyState& state, const ChannelPolicy& policy);

}  // namespace touchstream
