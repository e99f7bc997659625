#include "processor/policy/policy_config.h"

#include <algorithm>

namespace touchstream {

bool FrequencyCap::AppliesTo(const std::string& rule_id) const {
  return rules.empty() || std::find(rules.begin(), rules.end(), rule_id) != rules.end();
}

const RulePolicy& PolicyConfig::ForRule(const std::string& rule_id) const {
  static const RulePolicy kDefaults;
  auto it = rules.find(rule_id);
  return it == rules.end() ? kDefaults : it->second;
}

DurationMs PolicyConfig::LongestCapWindow() const {
  DurationMs longest = 0;
  for (const FrequencyCap& cap : caps) longest = std::max(longest, cap.per);
  return longest;
}

bool PolicyConfig::AnyCapCounts(const std::string& rule_id) const {
  return std::any_of(caps.begin(), caps.end(),
                     [&](const FrequencyCap& cap) { return cap.AppliesTo(rule_id); });
}

}  // namespace touchstream
