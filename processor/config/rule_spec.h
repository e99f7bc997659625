// One entry of the config's `rules` section, parsed only as far as every rule kind shares:
// its id and its kind. The kind's own parameters stay YAML until BuildRuleSet
// (processor/rules/rule_registry.h) hands them to that kind's builder, so config/ knows no
// rule kind.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "processor/policy/policy_config.h"

namespace touchstream {

// Keys every rule has, whatever its kind, read once for all kinds by ReadRuleSpecs: today the
// policy keys (holdout_percent, quiet_hours, on_cap, priority; processor/policy/). A new common
// key becomes a field here, read (and removed from RuleSpec::params) in rule_spec.cc.
struct RuleCommon {
  RulePolicy policy;
};

struct RuleSpec {
  // The rule's key in `rules`: 1-64 characters of a-z, 0-9, '_' and '-'. The trigger's rule_id.
  std::string id;
  // `kind`, e.g. "cart_abandonment"; "" if absent. BuildRuleSet checks it is a known kind.
  std::string kind;
  RuleCommon common;
  // The rule's mapping without the common keys above: the kind's own parameters. A copy,
  // never null (an empty map when the rule has no other keys).
  YAML::Node params;

  // "rules.<id>": the prefix of every error about this rule.
  std::string path() const { return "rules." + id; }
};

// Reads the `rules` section (null: no rules), in config order. Throws ConfigError naming the
// key for a bad id or a rule that is not a mapping.
std::vector<RuleSpec> ReadRuleSpecs(const YAML::Node& rules);

}  // namespace touchstream
