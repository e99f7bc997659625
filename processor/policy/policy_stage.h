// The policy stage as the pipeline runs it (issue 12, README "Policies"): keeps each customer's
// PolicyState in step with their events and decides every trigger the rules emit before it
// leaves the pipeline, one customer's triggers of one instant at a time, in priority order
// (priority.h). SEND: the trigger goes out with its suggested channel and send time and counts
// toward the caps. DEFER: the trigger is stored in the customer's state with a durable timer of
// its own (DeferralTimerId: the timer index, the changelog and a restore carry it like every
// timer) and decided again when that timer fires, after the rule says whether it still holds.
// Everything but an immediate SEND becomes an AuditRecord. It never changes rule state.
//
// Immutable after construction; safe for concurrent use.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "audit.pb.h"
#include "processor/core/customer_aggregate.h"
#include "processor/core/partition_store.h"
#include "processor/policy/decide.h"
#include "processor/policy/policy_config.h"
#include "processor/policy/time_zone_catalog.h"

namespace touchstream {

// The timer index's rule-id slot for a deferral of `trigger_id` ('~' is no rule id character).
std::string DeferralTimerId(const std::string& trigger_id);
// The trigger id of a deferral timer's rule-id slot; nullopt for a rule's own timer.
std::optional<std::string> DeferredTriggerOf(const std::string& timer_rule_id);

// Every timer index entry a customer's state holds: each rule's (where it is once every entry
// due at or before `watermark_ms` was popped: processor/core/rule_timer.h) and each pending
// deferral's.
std::vector<TimerKey> TimersOf(const CustomerState& customer, TimeMs watermark_ms);

// One trigger to decide.
struct PolicyCandidate {
  v1::Trigger trigger;
  TimeMs decision_ms = 0;  // the fire time; the release time for a released deferral
  bool timer_fired = false;
  bool release = false;     // a released deferral
  bool still_holds = true;  // release only: the rule's answer
};

// What a group's decisions produced.
struct PolicyOutput {
  std::vector<v1::Trigger> sent;
  std::vector<v1::AuditRecord> audits;
  std::vector<TimerKey> deferral_timers;  // to schedule
};

class PolicyStage {
 public:
  // `config` and `zones` must outlive the stage.
  PolicyStage(const PolicyConfig& config, const TimeZoneCatalog& zones)
      : config_(config), zones_(zones) {}

  // Applies one valid, applied event to the customer's policy state; true if it named an
  // unknown time zone (ignored; the caller counts it).
  bool OnEvent(const v1::TouchpointEvent& event, CustomerState& customer) const;

  // Decides one customer's triggers of one instant (sorted here into decision order), updating
  // the customer's policy state. Each candidate's trigger is moved out (into `out` or the state's
  // deferrals): `group` is for clearing afterwards. `wall_clock_ms`: for staleness (nullopt: not
  // checked).
  void Decide(std::vector<PolicyCandidate>& group, CustomerState& customer,
              std::optional<TimeMs> wall_clock_ms, PolicyOutput& out) const;

  const PolicyConfig& config() const { return config_; }

 private:
  const PolicyConfig& config_;
  const TimeZoneCatalog& zones_;
};

}  // namespace touchstream
