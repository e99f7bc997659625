// Priority (issue 12, step 5): the order in which one customer's triggers of the same instant
// are decided, which matters when a frequency cap lets only some of them through. Pure.
#pragma once

#include <vector>

#include "processor/core/time.h"
#include "processor/policy/policy_config.h"
#include "trigger.pb.h"

namespace touchstream {

struct DecisionCandidate {
  const v1::Trigger* trigger = nullptr;  // not owned; rule_id and trigger_id set
  TimeMs decision_ms = 0;                // fire time, or release time for a released deferral
  // Fired by a timer, including a released deferral; false for one caused by an event.
  bool timer_fired = false;
};

// Whether `a` is decided before `b`: earlier decision time first; at the same instant
// timer-fired before event-caused, then higher rule priority (rules.<id>.priority), then rule
// id, then trigger id (a total order, so the outcome never depends on arrival order).
bool DecidedBefore(const DecisionCandidate& a, const DecisionCandidate& b,
                   const PolicyConfig& config);

// Sorts one customer's candidates into decision order (DecidedBefore).
void OrderForDecision(std::vector<DecisionCandidate>& candidates, const PolicyConfig& config);

}  // namespace touchstream
