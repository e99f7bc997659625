// Frequency caps (issue 12, step 4): rolling windows in event time over the triggers sent to
// one customer. A trigger of rule R is allowed at t if, for every cap that applies to R, every
// window of length `per` that holds t ([w, w + per) with t − per < w ≤ t) holds fewer than
// `max` sends of the cap's rules: the sends before t, as (t − per, t], and those after it too.
// Decisions do not always come in event-time order (a timer of a late event is due at once; with
// allowed lateness a timer fires after a later event's trigger was sent), and a send later in
// event time is as much a message the customer got. Pure.
#pragma once

#include <string>
#include <vector>

#include "processor/core/time.h"
#include "processor/policy/consent.h"
#include "processor/policy/policy_config.h"

namespace touchstream {

struct CapCheck {
  bool allowed = true;
  // When not allowed: the earliest time after t at which every cap has room again, counting
  // only the sends stored now (a send leaves every window that holds a time `per` after it).
  TimeMs retry_ms = 0;
};

// Checks `caps` for a trigger of `rule_id` at `t` against the sends in `state`.
CapCheck CheckCaps(const std::string& rule_id, TimeMs t, const PolicyState& state,
                   const std::vector<FrequencyCap>& caps);

// Records a trigger of `rule_id` sent at `send_ms` (its fire time, or its release time when it
// was deferred), if any cap counts that rule, and forgets sends more than two longest windows
// before the latest send (no decision up to a window before it counts them). Held-out and
// suppressed triggers are never recorded.
void RecordSend(const std::string& rule_id, TimeMs send_ms, const PolicyConfig& config,
                PolicyState& state);

}  // namespace touchstream
