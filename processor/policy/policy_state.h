// Keeps a customer's PolicyState (proto/state.proto) in step with their events: consent per
// channel, the latest engagement per channel and their time zone. Pure: the caller stores the
// state and counts what the update reports.
#pragma once

#include "processor/policy/consent.h"
#include "processor/policy/time_zone_catalog.h"
#include "touchpoint.pb.h"

namespace touchstream {

// What applying one event did to the policy state.
struct PolicyUpdate {
  bool changed = false;
  // The event named a time zone `zones` does not know: ignored (the event stays valid); the
  // caller counts it.
  bool unknown_timezone = false;
};

// Applies one valid event (event_validator.h) to `state`:
// - CONSENT_CHANGE: consent.channel (the event's own channel when consent.channel is unset)
//   opted in or out at the event time (consent.h: latest by event time, opt-out wins a tie).
// - An engagement (customer_aggregate.h's IsEngagement): the event's channel engaged at its time.
// - A non-empty `timezone` that `zones` knows becomes the customer's zone unless the stored one
//   came from a later event; an unknown one is ignored and reported.
PolicyUpdate UpdatePolicyState(const v1::TouchpointEvent& event, const TimeZoneCatalog& zones,
                               PolicyState& state);

}  // namespace touchstream
