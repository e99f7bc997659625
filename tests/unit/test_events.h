// Builders for test events and a one-line rendering of triggers, so asserts stay on one line.
#pragma once

#include <string>
#include <vector>

#include "processor/core/time.h"
#include "touchpoint.pb.h"
#include "trigger.pb.h"

namespace touchstream::testing {

// 2026-01-01T00:00:00Z, the epoch of test scenarios.
inline constexpr TimeMs kT0 = 1767225600000;

inline v1::TouchpointEvent Event(const std::string& id, const std::string& customer,
                                 TimeMs t, v1::EventType type,
                                 v1::Channel channel = v1::CHANNEL_WEB) {
  v1::TouchpointEvent e;
  e.set_event_id(id);
  e.set_customer_id(customer);
  *e.mutable_event_time() = ToTimestamp(t);
  e.set_type(type);
  e.set_channel(channel);
  return e;
}

inline v1::TouchpointEvent WithItem(v1::TouchpointEvent e, const std::string& sku, int qty,
                                    int64_t price) {
  auto* item = e.add_items();
  item->set_sku(sku);
  item->set_quantity(qty);
  item->set_unit_price_minor(price);
  return e;
}

// "CART_ABANDONED cart_1h c1 @+3600s" style: type without prefix, rule, customer, fire time
// relative to kT0 in seconds.
inline std::string Describe(const v1::Trigger& t) {
  std::string type = v1::TriggerType_Name(t.type()).substr(13);
  return type + " " + t.rule_id() + " " + t.customer_id() + " @+" +
         std::to_string((ToTimeMs(t.fire_time()) - kT0) / 1000) + "s";
}

inline std::vector<std::string> Describe(const std::vector<v1::Trigger>& triggers) {
  std::vector<std::string> out;
  for (const auto& t : triggers) out.push_back(Describe(t));
  return out;
}

}  // namespace touchstream::testing
