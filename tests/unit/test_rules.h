// The rule set many unit tests run: one rule, cart_1h (a cart left for an hour, any value).
#pragma once

#include <memory>

#include "processor/core/rule.h"
#include "processor/rules/cart_abandonment_rule.h"

namespace touchstream::testing {

inline RuleSet CartRule() {
  RuleSet rules;
  rules.push_back(
      std::make_unique<CartAbandonmentRule>("cart_1h", CartAbandonmentParams{kHourMs, 0}));
  return rules;
}

}  // namespace touchstream::testing
