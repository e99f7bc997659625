// A trigger rule: a pure function of (customer state, event) or (customer state, due time).
// Rules never touch Kafka, RocksDB or a clock. A rule keeps its own per-customer state in a
// RuleState (keyed by the rule's id) and asks for a timer by setting RuleState.due_ms; the
// pipeline keeps the timer index in step with it and calls OnTimer when the watermark
// reaches the due time.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "processor/core/customer_aggregate.h"
#include "trigger.pb.h"

namespace touchstream {

using RuleState = v1::state::RuleState;

// A trigger as a rule produces it. The pipeline completes it: trigger_id (a hash of rule id,
// customer id, type and `episode`), rule_id, customer_id, suggested channel and summary.
struct Emission {
  v1::Trigger trigger;  // type, fire_time, cause_event_id and the detail set by the rule
  std::string episode;  // what makes this firing unique for (rule, customer, type)
};

// Immutable after construction; safe for concurrent use.
class Rule {
 public:
  explicit Rule(std::string id) : id_(std::move(id)) {}
  virtual ~Rule() = default;

  // The rule's name in the config; the trigger's rule_id.
  const std::string& id() const { return id_; }

  // Called for every valid event, after the aggregate has been updated with it.
  virtual void OnEvent(const v1::TouchpointEvent& event, const AppliedEvent& applied,
                       const CustomerState& customer, RuleState& rule_state,
                       std::vector<Emission>& out) const = 0;

  // Called when the watermark reaches rule_state.due_ms (== due_ms), unless DueNow is later. The
  // rule sets the next due time, or 0 for none.
  virtual void OnTimer(TimeMs due_ms, const CustomerState& customer, RuleState& rule_state,
                       std::vector<Emission>& out) const = 0;

  // The member of RuleState's `kind` this rule keeps its state in. A stored state holding
  // another (the rule's id was given to a rule of another kind since) is not this rule's: the
  // pipeline drops it and its timer before the rule sees the customer.
  virtual RuleState::KindCase state_kind() const = 0;
  // The due time the rule's current parameters give `rule_state` (0: none to tell). The timer
  // may have been armed under other parameters (the config changed since): when it comes due and
  // this is later, the pipeline re-arms it there instead of calling OnTimer; an earlier one
  // fires then, at the old due time.
  virtual TimeMs DueNow(const CustomerState& customer, const RuleState& rule_state) const = 0;
  // Whether this rule emits triggers of `type`: a deferred trigger of another type under the
  // rule's id (the id given to a rule of another kind since) no longer holds at its release.
  virtual bool Emits(v1::TriggerType type) const = 0;

  // A trigger of this rule the policy stage deferred is released at `release_ms`: whether it
  // still holds for the customer as they are now (a cart reminder: the cart did not change
  // since). `rule_state` is null when the rule keeps none for the customer. By default a
  // trigger always holds (an opening, an earned reward: facts that do not expire).
  virtual bool StillHolds(const v1::Trigger& /*trigger*/, TimeMs /*release_ms*/,
                          const CustomerState& /*customer*/,
                          const RuleState* /*rule_state*/) const {
    return true;
  }

 private:
  const std::string id_;
};

using RuleSet = std::vector<std::unique_ptr<const Rule>>;

}  // namespace touchstream
