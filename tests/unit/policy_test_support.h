// Helpers for the policy stage's tests (tests/unit/policy_*_test.cc): RFC 3339 times, triggers
// and a fixed time zone catalog, so asserts stay on one line.
#pragma once

#include <string>

#include "processor/core/time.h"
#include "processor/policy/time_zone_catalog.h"
#include "trigger.pb.h"

namespace touchstream::testing {

// "2026-03-08T03:30:00Z" as epoch milliseconds; aborts the test binary on a typo.
inline TimeMs At(const std::string& rfc3339) {
  std::optional<TimeMs> t = ParseTime(rfc3339);
  if (!t) std::abort();
  return *t;
}

// The system's zones (tzdata must be installed, as `make deps` does).
inline const TimeZoneCatalog& Zones() { return TimeZoneCatalog::System(); }

inline v1::Trigger PolicyTrigger(const std::string& rule_id, const std::string& customer_id,
                                 TimeMs fire_ms, const std::string& trigger_id = "t-1") {
  v1::Trigger trigger;
  trigger.set_trigger_id(trigger_id);
  trigger.set_rule_id(rule_id);
  trigger.set_customer_id(customer_id);
  trigger.set_type(v1::TRIGGER_TYPE_CART_ABANDONED);
  *trigger.mutable_fire_time() = ToTimestamp(fire_ms);
  return trigger;
}

}  // namespace touchstream::testing
