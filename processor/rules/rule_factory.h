// Builds rule instances from the `rules` section of the config. Each entry's key is the
// rule_id; `kind` picks the rule. Throws ConfigError naming the key on any bad parameter.
#pragma once

#include <memory>
#include <string>

#include "processor/config/yaml_reader.h"
#include "processor/core/rule.h"

namespace touchstream {

// Reads the rule's keys from `params` (the caller calls params.Finish()).
std::unique_ptr<const Rule> MakeRule(const std::string& id, YamlReader& params);

}  // namespace touchstream
