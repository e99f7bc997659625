#include "processor/policy/priority.h"

#include <algorithm>
#include <tuple>

namespace touchstream {

bool DecidedBefore(const DecisionCandidate& a, const DecisionCandidate& b,
                   const PolicyConfig& config) {
  const int32_t a_priority = config.ForRule(a.trigger->rule_id()).priority;
  const int32_t b_priority = config.ForRule(b.trigger->rule_id()).priority;
  // Negated where a larger value goes first.
  return std::forward_as_tuple(a.decision_ms, !a.timer_fired, -int64_t{a_priority},
                               a.trigger->rule_id(), a.trigger->trigger_id()) <
         std::forward_as_tuple(b.decision_ms, !b.timer_fired, -int64_t{b_priority},
                               b.trigger->rule_id(), b.trigger->trigger_id());
}

void OrderForDecision(std::vector<DecisionCandidate>& candidates, const PolicyConfig& config) {
  std::stable_sort(candidates.begin(), candidates.end(),
                   [&config](const DecisionCandidate& a, const DecisionCandidate& b) {
                     return DecidedBefore(a, b, config);
                   });
}

}  // namespace touchstream
