#include "processor/policy/policy_stage.h"

#include <utility>

#include "processor/core/rule_timer.h"
#include "processor/policy/deferrals.h"
#include "processor/policy/frequency_cap.h"
#include "processor/policy/policy_state.h"
#include "processor/policy/priority.h"

namespace touchstream {

namespace {

constexpr char kDeferralPrefix[] = "~defer:";

// The audit record of `trigger` (a copy, or moved in when the decision has no other use for it).
// Only a trigger that went out (RELEASED) carries a suggested channel: one held back was
// suggested none, and what the field holds before the decision (the customer's last channel) may
// be one that cannot carry a message.
v1::AuditRecord Audit(v1::Trigger trigger, v1::AuditDecision decision, PolicyReason reason,
                      TimeMs decision_ms) {
  v1::AuditRecord audit;
  *audit.mutable_trigger() = std::move(trigger);
  if (decision != v1::AUDIT_DECISION_RELEASED) audit.mutable_trigger()->clear_suggested_channel();
  audit.set_decision(decision);
  audit.set_reason(std::string(ReasonName(reason)));
  *audit.mutable_decision_time() = ToTimestamp(decision_ms);
  return audit;
}

}  // namespace

std::string DeferralTimerId(const std::string& trigger_id) { return kDeferralPrefix + trigger_id; }

std::optional<std::string> DeferredTriggerOf(const std::string& timer_rule_id) {
  const std::string_view prefix(kDeferralPrefix);
  if (timer_rule_id.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  return timer_rule_id.substr(prefix.size());
}

std::vector<TimerKey> TimersOf(const CustomerState& customer, TimeMs watermark_ms) {
  std::vector<TimerKey> timers;
  for (const auto& slot : customer.rules()) {
    if (const TimeMs at = IndexedAt(slot.state(), watermark_ms); at != 0) {
      timers.push_back({at, customer.customer_id(), slot.rule_id()});
    }
  }
  for (const auto& deferred : customer.policy().deferred()) {
    timers.push_back({deferred.release_ms(), customer.customer_id(),
                      DeferralTimerId(deferred.trigger().trigger_id())});
  }
  return timers;
}

bool PolicyStage::OnEvent(const v1::TouchpointEvent& event, CustomerState& customer) const {
  return UpdatePolicyState(event, zones_, *customer.mutable_policy()).unknown_timezone;
}

void PolicyStage::Decide(std::vector<PolicyCandidate>& group, CustomerState& customer,
                         std::optional<TimeMs> wall_clock_ms, PolicyOutput& out) const {
  std::vector<DecisionCandidate> order;
  order.reserve(group.size());
  for (const PolicyCandidate& c : group)
    order.push_back({&c.trigger, c.decision_ms, c.timer_fired});
  OrderForDecision(order, config_);
  PolicyState& state = *customer.mutable_policy();
  for (const DecisionCandidate& ordered : order) {
    // Groups are a few triggers: find the candidate the ordered entry points into.
    size_t i = 0;
    while (&group[i].trigger != ordered.trigger) ++i;
    PolicyCandidate& c = group[i];
    const DecisionPoint point =
        c.release ? DecisionPoint::Release(c.decision_ms, c.still_holds, wall_clock_ms)
                  : DecisionPoint::First(c.decision_ms, wall_clock_ms);
    const Decision decision = touchstream::Decide(c.trigger, state, config_, zones_, point);
    switch (decision.verdict) {
      case PolicyVerdict::kSend:
        c.trigger.set_suggested_channel(decision.channel);
        *c.trigger.mutable_send_time() = ToTimestamp(c.decision_ms);
        RecordSend(c.trigger.rule_id(), c.decision_ms, config_, state);
        if (c.release) {
          out.audits.push_back(
              Audit(c.trigger, v1::AUDIT_DECISION_RELEASED, PolicyReason::kNone, c.decision_ms));
        }
        out.sent.push_back(std::move(c.trigger));
        break;
      case PolicyVerdict::kDefer: {
        v1::AuditRecord audit =
            Audit(c.trigger, v1::AUDIT_DECISION_DEFERRED, decision.reason, c.decision_ms);
        *audit.mutable_until() = ToTimestamp(decision.until_ms);
        out.audits.push_back(std::move(audit));
        out.deferral_timers.push_back(
            {decision.until_ms, customer.customer_id(), DeferralTimerId(c.trigger.trigger_id())});
        AddDeferral(std::move(c.trigger), decision.until_ms, DeferralReasonOf(decision.reason),
                    state);
        break;
      }
      case PolicyVerdict::kSuppress:
        out.audits.push_back(Audit(std::move(c.trigger), v1::AUDIT_DECISION_SUPPRESSED,
                                   decision.reason, c.decision_ms));
        break;
      case PolicyVerdict::kHoldout:
        out.audits.push_back(Audit(std::move(c.trigger), v1::AUDIT_DECISION_HOLDOUT,
                                   decision.reason, c.decision_ms));
        break;
    }
  }
}

}  // namespace touchstream
