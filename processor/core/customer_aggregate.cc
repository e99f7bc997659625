#include "processor/core/customer_aggregate.h"

#include <algorithm>

#include "processor/core/saturating.h"

namespace touchstream {

bool IsOfflineChannel(v1::Channel channel) {
  return channel == v1::CHANNEL_IN_STORE || channel == v1::CHANNEL_STORE_WIFI ||
         channel == v1::CHANNEL_CALL_CENTER;
}

bool IsEngagement(v1::EventType type) {
  return type != v1::EVENT_TYPE_CONSENT_CHANGE && type != v1::EVENT_TYPE_ERASURE_REQUEST &&
         type != v1::EVENT_TYPE_IDENTIFY && type != v1::EVENT_TYPE_UNSPECIFIED;
}

namespace {

// The slot of `rule_id`, or where it would go: `slots` is a customer's rules, const or not.
template <typename Slots>
auto LowerBound(Slots& slots, const std::string& rule_id) {
  return std::lower_bound(
      slots.begin(), slots.end(), rule_id,
      [](const v1::state::RuleSlot& slot, const std::string& id) { return slot.rule_id() < id; });
}

}  // namespace

v1::state::RuleState* FindRuleState(CustomerState& customer, const std::string& rule_id) {
  auto it = LowerBound(*customer.mutable_rules(), rule_id);
  if (it == customer.mutable_rules()->end() || it->rule_id() != rule_id) return nullptr;
  return it->mutable_state();
}

const v1::state::RuleState* FindRuleState(const CustomerState& customer,
                                          const std::string& rule_id) {
  auto it = LowerBound(customer.rules(), rule_id);
  return it == customer.rules().end() || it->rule_id() != rule_id ? nullptr : &it->state();
}

v1::state::RuleState& RuleStateFor(CustomerState& customer, const std::string& rule_id) {
  if (v1::state::RuleState* found = FindRuleState(customer, rule_id)) return *found;
  auto& slots = *customer.mutable_rules();
  const int index = static_cast<int>(LowerBound(slots, rule_id) - slots.begin());
  v1::state::RuleSlot* slot = slots.Add();
  slot->set_rule_id(rule_id);
  for (int i = slots.size() - 1; i > index; --i) slots.SwapElements(i, i - 1);
  return *slots.Mutable(index)->mutable_state();
}

bool IsEmptyRuleState(const v1::state::RuleState& state) {
  // Empty: nothing to serialize. A rule's state is mostly not: its kind set or a timer held,
  // told without measuring (ByteSizeLong walks the whole kind's message, per rule per event).
  return state.kind_case() == v1::state::RuleState::KIND_NOT_SET && state.due_ms() == 0 &&
         state.indexed_ms() == 0 && state.ByteSizeLong() == 0;
}

void DropRuleStateIfEmpty(CustomerState& customer, const std::string& rule_id) {
  auto& slots = *customer.mutable_rules();
  auto it = LowerBound(slots, rule_id);
  if (it == slots.end() || it->rule_id() != rule_id || !IsEmptyRuleState(it->state())) return;
  slots.erase(it);
}

void AddRuleStateIfNotEmpty(CustomerState& customer, const std::string& rule_id,
                            v1::state::RuleState& state) {
  if (IsEmptyRuleState(state)) return;
  RuleStateFor(customer, rule_id).Swap(&state);
}

int64_t CartTotalMinor(const v1::state::Cart& cart) {
  int64_t total = 0;
  for (const auto& line : cart.lines()) {
    total = SaturatingAdd(total, SaturatingMul(line.quantity(), line.unit_price_minor()));
  }
  return total;
}

namespace {

using Lines = google::protobuf::RepeatedPtrField<v1::state::CartLine>;

v1::state::CartLine* FindLine(Lines& lines, const std::string& sku) {
  for (auto& line : lines) {
    if (line.sku() == sku) return &line;
  }
  return nullptr;
}

void DropEmptyLines(Lines& lines) {
  lines.erase(std::remove_if(lines.begin(), lines.end(),
                             [](const v1::state::CartLine& l) { return l.quantity() <= 0; }),
              lines.end());
}

// Returns true if the cart changed.
bool AddItems(const v1::TouchpointEvent& event, v1::state::Cart& cart) {
  for (const auto& item : event.items()) {
    v1::state::CartLine* line = FindLine(*cart.mutable_lines(), item.sku());
    if (line == nullptr) {
      line = cart.add_lines();
      line->set_sku(item.sku());
    }
    line->set_quantity(SaturatingAdd32(line->quantity(), item.quantity()));
    line->set_unit_price_minor(item.unit_price_minor());
  }
  return event.items_size() > 0;
}

// Subtracts the event's items, or empties the cart when the event lists none.
bool RemoveItems(const v1::TouchpointEvent& event, v1::state::Cart& cart) {
  if (cart.lines_size() == 0) return false;
  if (event.items_size() == 0) {
    cart.clear_lines();
    return true;
  }
  bool changed = false;
  for (const auto& item : event.items()) {
    v1::state::CartLine* line = FindLine(*cart.mutable_lines(), item.sku());
    if (line == nullptr) continue;
    line->set_quantity(SaturatingAdd32(line->quantity(), -item.quantity()));
    changed = true;
  }
  DropEmptyLines(*cart.mutable_lines());
  return changed;
}

}  // namespace

int64_t OrderTotalMinor(const v1::TouchpointEvent& event) {
  if (event.amount_minor() != 0 || event.items_size() == 0) return event.amount_minor();
  int64_t total = 0;
  for (const auto& item : event.items()) {
    total = SaturatingAdd(total, SaturatingMul(item.quantity(), item.unit_price_minor()));
  }
  return total;
}

AppliedEvent ApplyEvent(const v1::TouchpointEvent& event, CustomerState& state) {
  AppliedEvent applied;
  const TimeMs t = ToTimeMs(event.event_time());
  applied.new_customer = state.first_seen_ms() == 0;
  applied.previous_last_activity_ms = state.last_activity_ms();
  if (applied.new_customer) state.set_customer_id(event.customer_id());
  if (applied.new_customer || t < state.first_seen_ms()) state.set_first_seen_ms(t);

  const int channel = event.channel();
  while (state.events_by_channel_size() <= channel) state.add_events_by_channel(0);
  state.set_events_by_channel(channel, state.events_by_channel(channel) + 1);

  applied.engagement = IsEngagement(event.type());
  if (applied.engagement && t >= state.last_activity_ms()) {
    state.set_last_activity_ms(t);
    state.set_last_channel(channel);
  }

  v1::state::Cart& cart = *state.mutable_cart();
  switch (event.type()) {
    case v1::EVENT_TYPE_ADD_TO_CART:
      applied.cart_changed = AddItems(event, cart);
      break;
    case v1::EVENT_TYPE_REMOVE_FROM_CART:
      applied.cart_changed = RemoveItems(event, cart);
      break;
    case v1::EVENT_TYPE_PURCHASE:
      if (IsOfflineChannel(event.channel())) {
        state.set_purchases_offline(state.purchases_offline() + 1);
      } else {
        state.set_purchases_online(state.purchases_online() + 1);
      }
      state.set_lifetime_value_minor(
          SaturatingAdd(state.lifetime_value_minor(), OrderTotalMinor(event)));
      applied.cart_changed = RemoveItems(event, cart);
      break;
    default:
      break;
  }
  if (applied.cart_changed && t >= cart.last_change_ms()) {
    cart.set_last_change_ms(t);
    cart.set_last_change_event_id(event.event_id());
  }
  if (cart.lines_size() == 0 && applied.cart_changed) state.clear_cart();
  return applied;
}

}  // namespace touchstream
