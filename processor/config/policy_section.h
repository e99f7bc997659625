// Reads the policy stage's sections of the config, `channels` and `policies` (README,
// "Configuration"; issue 12). Start-up only; every error throws ConfigError naming the key.
#pragma once

#include <vector>

#include "processor/config/rule_spec.h"
#include "processor/config/yaml_reader.h"
#include "processor/policy/policy_config.h"
#include "processor/policy/time_zone_catalog.h"

namespace touchstream {

// Fills `policy`'s channels, quiet hours, time zone, caps and max trigger age from `root`'s
// `channels` and `policies` sections (absent: the defaults). `rules` are the configured rules:
// a cap may only name those. `zones` decides which `policies.timezone` names are known.
void ReadPolicySections(YamlReader& root, const std::vector<RuleSpec>& rules,
                        const TimeZoneCatalog& zones, PolicyConfig& policy);

// A rule's policy keys (holdout_percent, quiet_hours, on_cap, priority) from its mapping.
RulePolicy ReadRulePolicy(YamlReader& rule);

// The rule keys ReadRulePolicy reads: not the kind's own parameters.
inline constexpr const char* kRulePolicyKeys[] = {"holdout_percent", "quiet_hours", "on_cap",
                                                  "priority"};

}  // namespace touchstream
