#include "processor/rules/cart_abandonment_rule.h"

#include <limits>

#include "processor/config/yaml_reader.h"

namespace touchstream {

void CartAbandonmentRule::OnEvent(const v1::TouchpointEvent& event, const AppliedEvent& applied,
                                  const CustomerState& customer, RuleState& rule_state,
                                  std::vector<Emission>& /*out*/) const {
  if (!applied.cart_changed) return;
  if (customer.cart().lines_size() == 0) {
    rule_state.Clear();
    return;
  }
  const TimeMs t = ToTimeMs(event.event_time());
  // A late event must not move an armed episode backwards.
  if (rule_state.has_cart() && rule_state.cart().armed_at_ms() > t) return;
  auto* cart = rule_state.mutable_cart();
  cart->set_armed_at_ms(t);
  cart->set_armed_by_event_id(event.event_id());
  rule_state.set_due_ms(t + params_.delay_ms);
}

void CartAbandonmentRule::OnTimer(TimeMs due_ms, const CustomerState& customer,
                                  RuleState& rule_state, std::vector<Emission>& out) const {
  const v1::state::CartRuleState armed = rule_state.cart();
  rule_state.Clear();
  const int64_t total = CartTotalMinor(customer.cart());
  if (customer.cart().lines_size() == 0 || total < params_.min_cart_value_minor) return;

  Emission e;
  e.episode = std::to_string(armed.armed_at_ms());
  v1::Trigger& t = e.trigger;
  t.set_type(v1::TRIGGER_TYPE_CART_ABANDONED);
  *t.mutable_fire_time() = ToTimestamp(due_ms);
  t.set_cause_event_id(armed.armed_by_event_id());
  v1::CartDetail& detail = *t.mutable_cart();
  for (const auto& line : customer.cart().lines()) {
    v1::LineItem& item = *detail.add_items();
    item.set_sku(line.sku());
    item.set_quantity(line.quantity());
    item.set_unit_price_minor(line.unit_price_minor());
  }
  detail.set_total_minor(total);
  *detail.mutable_last_change_time() = ToTimestamp(customer.cart().last_change_ms());
  out.push_back(std::move(e));
}

std::unique_ptr<const Rule> MakeCartAbandonmentRule(const std::string& id, YamlReader& p) {
  CartAbandonmentParams params;
  params.delay_ms = p.Duration("delay", params.delay_ms);
  if (params.delay_ms <= 0) throw ConfigError(p.Key("delay") + ": must be greater than 0");
  params.min_cart_value_minor = p.Int("min_cart_value_minor", params.min_cart_value_minor, 0,
                                      std::numeric_limits<int64_t>::max());
  return std::make_unique<CartAbandonmentRule>(id, params);
}

bool CartAbandonmentRule::StillHolds(const v1::Trigger& trigger, TimeMs /*release_ms*/,
                                     const CustomerState& customer,
                                     const RuleState* /*rule_state*/) const {
  // The cart the reminder shows is the cart now: not changed, bought or emptied since.
  return customer.cart().lines_size() > 0 &&
         ToTimeMs(trigger.cart().last_change_time()) == customer.cart().last_change_ms();
}

}  // namespace touchstream
