// The policy stage's decision (issue 12): a pure function of (trigger, the customer's
// PolicyState, config, decision time), evaluated in event time so that `run` and `backtest`
// decide alike. It never changes the state: after a SEND the caller records it (RecordSend,
// frequency_cap.h); after a DEFER it stores the deferral (deferrals.h).
//
// Steps, in this order; the first that holds a trigger back decides:
//   0. first decision only: stale (policies.max_trigger_age against the wall clock passed in);
//      at a release: superseded (the rule's "still holds" check, done by the caller).
//   1. first decision only: holdout (holdout.h).
//   2. consent and channel choice (channel_choice.h): no permitted channel → no_consent.
//   3. quiet hours in the customer's zone (quiet_hours.h): per rule defer | drop | ignore.
//   4. frequency caps (frequency_cap.h): per rule on_cap drop | defer.
#pragma once

#include <optional>

#include "processor/policy/consent.h"
#include "processor/policy/decision.h"
#include "processor/policy/policy_config.h"
#include "processor/policy/time_zone_catalog.h"
#include "trigger.pb.h"

namespace touchstream {

// When and why a trigger is decided.
struct DecisionPoint {
  // The trigger's fire time on its first decision; the release time on a release.
  TimeMs decision_ms = 0;
  bool release = false;
  // The wall clock staleness is measured against (`run`: now; `backtest`: --now); nullopt =
  // not checked. On a first decision the fire time is measured, on a release the release time:
  // a deferral released long after it was due (a downtime) is as stale as a late first firing.
  std::optional<TimeMs> wall_clock_ms;
  // Release only: whether the trigger still holds (a cart reminder: the cart did not change
  // since; a win-back: no engagement since; a reward reminder: window open, goal unmet). The
  // rule knows; the wiring asks it. false → SUPPRESS superseded.
  bool still_holds = true;

  static DecisionPoint First(TimeMs fire_ms, std::optional<TimeMs> wall_clock_ms) {
    return {fire_ms, false, wall_clock_ms, true};
  }
  static DecisionPoint Release(TimeMs release_ms, bool still_holds,
                               std::optional<TimeMs> wall_clock_ms = std::nullopt) {
    return {release_ms, true, wall_clock_ms, still_holds};
  }
};

// Decides `trigger` (rule_id and customer_id set) for the customer whose policy state is
// `state`. `zones` resolves the customer's and the configured time zone.
Decision Decide(const v1::Trigger& trigger, const PolicyState& state, const PolicyConfig& config,
                const TimeZoneCatalog& zones, const DecisionPoint& point);

}  // namespace touchstream
