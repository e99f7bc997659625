// The rule kinds touchstream knows, and the one place that turns the config's rule specs
// into rule objects. Each kind parses and validates its own parameters in its builder, next
// to its class (e.g. MakeCartAbandonmentRule in cart_abandonment_rule.cc); rule_registry.cc
// lists every kind once. Start-up only: errors are ConfigError exceptions naming the key.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "processor/config/rule_spec.h"
#include "processor/config/yaml_reader.h"
#include "processor/core/rule.h"

namespace touchstream {

// Builds one rule of a kind from its parameters (RuleSpec::params, as `params`). Reads every
// key it knows; throws ConfigError naming the key (params.Key(...)) on a bad value. The
// caller rejects the keys left unread (YamlReader::Finish).
using RuleBuilder = std::unique_ptr<const Rule> (*)(const std::string& id, YamlReader& params);

struct RuleKind {
  std::string_view name;  // the `kind` value in the config
  RuleBuilder build;
};

// Every known kind (in registration order).
const std::vector<RuleKind>& RuleKinds();

// The kind named `name`, nullptr if there is none.
const RuleKind* FindRuleKind(std::string_view name);

// Builds the rules of `specs` in config order. Throws ConfigError naming the key: an unknown
// kind ("rules.x.kind: 'foo' is not one of: <known kinds>"), a bad parameter
// ("rules.cart.delay: ..."), an unknown key ("rules.cart.dealy: unknown key").
RuleSet BuildRuleSet(const std::vector<RuleSpec>& specs);

}  // namespace touchstream
