// browse_abandonment: products viewed and then left, neither added to a cart nor bought, for
// `delay` (event time) fire BROWSE_ABANDONED.
// Each instance keeps its own browsed set in its RuleState: sku -> latest view time and unit
// price, at most `max_items` skus (one more evicts the oldest view). A PRODUCT_VIEW adds its
// items' skus (a present sku's view time only moves forward) and, if it added or refreshed
// one, (re)arms the timer at its time + delay; a late view never moves the timer back.
// ADD_TO_CART or PURCHASE of a sku, on any channel, online or in-store, removes it; one
// without items removes nothing. Removal does not look at times: a view applied after the
// add-to-cart of its sku (a late view) adds it again. An empty set disarms the timer.
// Fires once per armed episode with the set, newest view first; the set is then cleared.
// A reminder the policy stage deferred (quiet hours, a cap) no longer holds at its release once
// one of its products is in the customer's cart by a cart change since it fired, or the customer
// bought anything (online or in store) since it fired: the set it named was cleared at the firing,
// so only the customer's state can say what happened after.
#pragma once

#include "processor/core/rule.h"

namespace touchstream {

class YamlReader;

struct BrowseAbandonmentParams {
  DurationMs delay_ms = 30 * kMinuteMs;  // > 0
  int max_items = 5;                     // 1..100
};

class BrowseAbandonmentRule final : public Rule {
 public:
  BrowseAbandonmentRule(std::string id, BrowseAbandonmentParams params)
      : Rule(std::move(id)), params_(params) {}

  void OnEvent(const v1::TouchpointEvent& event, const AppliedEvent& applied,
               const CustomerState& customer, RuleState& rule_state,
               std::vector<Emission>& out) const override;
  void OnTimer(TimeMs due_ms, const CustomerState& customer, RuleState& rule_state,
               std::vector<Emission>& out) const override;
  RuleState::KindCase state_kind() const override { return RuleState::kBrowse; }
  TimeMs DueNow(const CustomerState& /*customer*/, const RuleState& rule_state) const override {
    return rule_state.browse().armed_at_ms() + params_.delay_ms;
  }
  bool Emits(v1::TriggerType type) const override {
    return type == v1::TRIGGER_TYPE_BROWSE_ABANDONED;
  }
  bool StillHolds(const v1::Trigger& trigger, TimeMs release_ms, const CustomerState& customer,
                  const RuleState* rule_state) const override;

  const BrowseAbandonmentParams& params() const { return params_; }

 private:
  void OnView(const v1::TouchpointEvent& event, RuleState& rule_state) const;
  // Removes the skus of an add-to-cart or purchase from the set.
  void OnCartOrPurchase(const v1::TouchpointEvent& event, RuleState& rule_state) const;

  const BrowseAbandonmentParams params_;
};

// The `browse_abandonment` kind's builder (processor/rules/rule_registry.h): reads `delay`
// (> 0) and `max_items` (1..100).
std::unique_ptr<const Rule> MakeBrowseAbandonmentRule(const std::string& id, YamlReader& params);

}  // namespace touchstream
