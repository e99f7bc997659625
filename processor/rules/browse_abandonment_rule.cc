#include "processor/rules/browse_abandonment_rule.h"

#include <algorithm>

#include "processor/config/yaml_reader.h"

namespace touchstream {

namespace {

using Browsed = google::protobuf::RepeatedPtrField<v1::state::BrowsedSku>;

// The set's order: newest view first, ties by sku.
bool ViewedBefore(const v1::state::BrowsedSku& a, const v1::state::BrowsedSku& b) {
  return a.last_view_ms() != b.last_view_ms() ? a.last_view_ms() > b.last_view_ms()
                                              : a.sku() < b.sku();
}

Browsed::iterator Find(Browsed& skus, const std::string& sku) {
  return std::find_if(skus.begin(), skus.end(),
                      [&sku](const v1::state::BrowsedSku& s) { return s.sku() == sku; });
}

// Records a view of `item` at `t`, keeping the set ordered and at most `max_items` long.
// Returns true if the set gained the sku or its view moved forward (or was seen again).
bool RememberView(const v1::LineItem& item, TimeMs t, int max_items, Browsed& skus) {
  auto present = Find(skus, item.sku());
  if (present != skus.end()) {
    if (t < present->last_view_ms()) return false;  // a late view: not the latest
    skus.erase(present);
  }
  v1::state::BrowsedSku* added = skus.Add();
  added->set_sku(item.sku());
  added->set_last_view_ms(t);
  added->set_unit_price_minor(item.unit_price_minor());
  int at = skus.size() - 1;
  for (; at > 0 && ViewedBefore(skus.Get(at), skus.Get(at - 1)); --at) {
    skus.SwapElements(at, at - 1);
  }
  while (skus.size() > max_items) skus.RemoveLast();  // the oldest views
  return at < max_items;
}

}  // namespace

void BrowseAbandonmentRule::OnEvent(const v1::TouchpointEvent& event,
                                    const AppliedEvent& /*applied*/,
                                    const CustomerState& /*customer*/, RuleState& rule_state,
                                    std::vector<Emission>& /*out*/) const {
  switch (event.type()) {
    case v1::EVENT_TYPE_PRODUCT_VIEW:
      OnView(event, rule_state);
      return;
    case v1::EVENT_TYPE_ADD_TO_CART:
    case v1::EVENT_TYPE_PURCHASE:
      OnCartOrPurchase(event, rule_state);
      return;
    default:
      return;
  }
}

void BrowseAbandonmentRule::OnView(const v1::TouchpointEvent& event, RuleState& rule_state) const {
  if (event.items_size() == 0) return;
  const TimeMs t = ToTimeMs(event.event_time());
  v1::state::BrowseRuleState& browse = *rule_state.mutable_browse();
  bool changed = false;
  for (const v1::LineItem& item : event.items()) {
    changed |= RememberView(item, t, params_.max_items, *browse.mutable_skus());
  }
  const TimeMs due = t + params_.delay_ms;
  // A late view must not move an armed episode backwards.
  if (!changed || (rule_state.due_ms() != 0 && due < rule_state.due_ms())) return;
  browse.set_armed_at_ms(t);
  browse.set_armed_by_event_id(event.event_id());
  rule_state.set_due_ms(due);
}

void BrowseAbandonmentRule::OnCartOrPurchase(const v1::TouchpointEvent& event,
                                             RuleState& rule_state) const {
  if (!rule_state.has_browse()) return;
  Browsed& skus = *rule_state.mutable_browse()->mutable_skus();
  for (const v1::LineItem& item : event.items()) {
    auto present = Find(skus, item.sku());
    if (present != skus.end()) skus.erase(present);
  }
  if (skus.empty()) rule_state.Clear();  // disarms
}

void BrowseAbandonmentRule::OnTimer(TimeMs due_ms, const CustomerState& /*customer*/,
                                    RuleState& rule_state, std::vector<Emission>& out) const {
  const v1::state::BrowseRuleState browse = rule_state.browse();
  rule_state.Clear();
  if (browse.skus_size() == 0) return;

  Emission e;
  e.episode = std::to_string(browse.armed_at_ms()) + "/" + browse.armed_by_event_id();
  v1::Trigger& t = e.trigger;
  t.set_type(v1::TRIGGER_TYPE_BROWSE_ABANDONED);
  *t.mutable_fire_time() = ToTimestamp(due_ms);
  t.set_cause_event_id(browse.armed_by_event_id());
  v1::BrowseDetail& detail = *t.mutable_browse();
  // The set is kept newest first; max_items may have been lowered since it was filled.
  for (int i = 0; i < std::min(browse.skus_size(), params_.max_items); ++i) {
    const v1::state::BrowsedSku& sku = browse.skus(i);
    v1::BrowseItem& item = *detail.add_items();
    item.set_sku(sku.sku());
    item.set_unit_price_minor(sku.unit_price_minor());
    *item.mutable_last_view_time() = ToTimestamp(sku.last_view_ms());
  }
  *detail.mutable_last_view_time() = ToTimestamp(browse.skus(0).last_view_ms());
  out.push_back(std::move(e));
}

bool BrowseAbandonmentRule::StillHolds(const v1::Trigger& trigger, TimeMs /*release_ms*/,
                                       const CustomerState& customer,
                                       const RuleState* /*rule_state*/) const {
  // The purchases the trigger's summary counted when it fired (Complete fills it then).
  const v1::CustomerSummary& then = trigger.customer();
  if (customer.purchases_online() + customer.purchases_offline() >
      then.purchases_online() + then.purchases_offline()) {
    return false;
  }
  // A product put in the cart since it fired (one there before: the reminder stands, as it
  // did when it fired).
  if (customer.cart().last_change_ms() <= ToTimeMs(trigger.fire_time())) return true;
  for (const v1::BrowseItem& item : trigger.browse().items()) {
    for (const v1::state::CartLine& line : customer.cart().lines()) {
      if (line.sku() == item.sku()) return false;
    }
  }
  return true;
}

std::unique_ptr<const Rule> MakeBrowseAbandonmentRule(const std::string& id, YamlReader& p) {
  BrowseAbandonmentParams params;
  params.delay_ms = p.Duration("delay", params.delay_ms);
  if (params.delay_ms <= 0) throw ConfigError(p.Key("delay") + ": must be greater than 0");
  params.max_items = static_cast<int>(p.Int("max_items", params.max_items, 1, 100));
  return std::make_unique<BrowseAbandonmentRule>(id, params);
}

}  // namespace touchstream
