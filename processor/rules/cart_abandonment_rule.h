// cart_abandonment: a cart left non-empty for `delay` (event time) fires CART_ABANDONED.
// Any cart change that leaves it non-empty (re)arms the timer at that event's time + delay;
// an empty cart disarms it. A purchase on any channel, online or in-store, changes the cart.
// Fires once per armed episode, only if the cart total >= min_cart_value_minor.
#pragma once

#include "processor/core/rule.h"

namespace touchstream {

class YamlReader;

struct CartAbandonmentParams {
  DurationMs delay_ms = kHourMs;
  int64_t min_cart_value_minor = 0;
};

class CartAbandonmentRule final : public Rule {
 public:
  CartAbandonmentRule(std::string id, CartAbandonmentParams params)
      : Rule(std::move(id)), params_(params) {}

  void OnEvent(const v1::TouchpointEvent& event, const AppliedEvent& applied,
               const CustomerState& customer, RuleState& rule_state,
               std::vector<Emission>& out) const override;
  void OnTimer(TimeMs due_ms, const CustomerState& customer, RuleState& rule_state,
               std::vector<Emission>& out) const override;
  RuleState::KindCase state_kind() const override { return RuleState::kCart; }
  TimeMs DueNow(const CustomerState& /*customer*/, const RuleState& rule_state) const override {
    return rule_state.cart().armed_at_ms() + params_.delay_ms;
  }
  bool Emits(v1::TriggerType type) const override {
    return type == v1::TRIGGER_TYPE_CART_ABANDONED;
  }
  bool StillHolds(const v1::Trigger& trigger, TimeMs release_ms, const CustomerState& customer,
                  const RuleState* rule_state) const override;

 private:
  const CartAbandonmentParams params_;
};

// The `cart_abandonment` kind's builder (processor/rules/rule_registry.h): reads `delay`
// (> 0) and `min_cart_value_minor` (>= 0).
std::unique_ptr<const Rule> MakeCartAbandonmentRule(const std::string& id, YamlReader& params);

}  // namespace touchstream
