#include "processor/config/rule_spec.h"

#include "processor/config/policy_section.h"
#include "processor/config/yaml_reader.h"

namespace touchstream {

namespace {

void CheckId(const std::string& id) {
  const bool valid =
      !id.empty() && id.size() <= 64 &&
      id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") == std::string::npos;
  if (!valid) {
    throw ConfigError("rules." + id + ": a rule id is 1-64 characters of a-z, 0-9, '_' and '-'");
  }
}

}  // namespace

std::vector<RuleSpec> ReadRuleSpecs(const YAML::Node& rules) {
  std::vector<RuleSpec> specs;
  if (!rules || rules.IsNull()) return specs;
  if (!rules.IsMap()) throw ConfigError("rules: expected a mapping of rule id to rule");
  RejectDuplicateKeys(rules, "rules");
  for (const auto& entry : rules) {
    RuleSpec spec;
    spec.id = entry.first.Scalar();
    CheckId(spec.id);
    YamlReader rule(entry.second, spec.path());  // throws unless a mapping (or empty)
    spec.kind = rule.String("kind", "");
    spec.common.policy = ReadRulePolicy(rule);
    spec.params = YAML::Clone(rule.node());
    spec.params.remove("kind");
    for (const char* key : kRulePolicyKeys) spec.params.remove(key);
    specs.push_back(std::move(spec));
  }
  return specs;
}

}  // namespace touchstream
