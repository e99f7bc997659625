// The read-only JSON view behind GET /customers/{id}: the customer's committed state as
// `touchstream state-dump` prints it, the input partition that owns it, and the policy stage's
// view of the customer in readable form (consent and whether each channel is permitted, the
// latest engagement per channel, the time zone, the pending deferrals).
#pragma once

#include <string>

#include "processor/http/http_server.h"
#include "processor/policy/policy_config.h"
#include "state.pb.h"
#include "state/state_db.h"

namespace touchstream {

// The view of `state`, owned by input `partition`, under `policy` (which decides which channels
// are permitted and the fallback zone). One line of JSON:
//   {"partition":N,"state":{...},"policy":{
//     "timezone":{"name":"Europe/Berlin","since":"<time>"}   (or {"name":<policies.timezone>,
//                                                              "default":true})
//     "consent":[{"channel":"CHANNEL_SMS","consent":"opted_in"|"opted_out"|"unset",
//                 "time":"<time, absent when unset>","permitted":true|false}, ...]
//     "engagement":[{"channel":"CHANNEL_EMAIL","lastEngagement":"<time>"}, ...]
//     "deferred":[{"triggerId":"t-…","rule":"cart_1h","type":"TRIGGER_TYPE_CART_ABANDONED",
//                  "until":"<time>","reason":"quiet_hours"|"frequency_cap"}, ...]}}
// consent lists every messageable channel (channels.messageable order), then any other channel
// the customer changed consent for; engagement is by channel number, deferred by release time.
// Times are RFC 3339 UTC, as FormatTime writes them.
std::string CustomerViewJson(int32_t partition, const v1::state::CustomerState& state,
                             const PolicyConfig& policy);

// A lookup reading `db` (which must outlive every call; clear the lookup from the server
// before closing the store) and rendering with `policy` (copied). Shows committed state: at most
// one commit interval old.
CustomerLookup MakeCustomerLookup(StateDb& db, const PolicyConfig& policy);

}  // namespace touchstream
