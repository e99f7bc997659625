// Frequency caps (issue 12, step 4): rolling windows in event time over the triggers sent to
// one customer. A trigger of rule R is allowed at t if, for every cap that applies to R, fewer
// than `max` sends of the cap's rules fall in (t − per, t]. Pure.
#pragma once

#include <string>
#include <vector>

#include "processor/core/time.h"
#include "processor/policy/consent.h"
#include "processor/policy/policy_config.h"

namespace touchstream {

struct CapCheck {
  bool allowed = true;
  // When not allowed: the earliest time at which every blocking cap has room again, counting
  // only the sends stored now (the oldest counted send of a full cap leaves its window).
  TimeMs retry_ms = 0;
};

// Checks `caps` for a trigger of `rule_id` at `t` against the sends in `state`.
CapCheck CheckCaps(const std::string& rule_id, TimeMs t, const PolicyState& state,
                   const std::vector<FrequencyCap>& caps);

// Records a trigger of `rule_id` sent at `send_ms` (its fire time, or its release time when it
// was deferred), if any cap counts that rule, and forgets sends that left the longest window
// as seen from the latest send. Held-out and suppressed triggers are never recorded.
void RecordSend(const std::string& rule_id, TimeMs send_ms, const PolicyConfig& config,
                PolicyState& state);

}  // namespace touchstream
