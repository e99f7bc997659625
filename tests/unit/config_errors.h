// What a config error says, so that a test asserts the message on one line.
#pragma once

#include <string>

#include "processor/config/config.h"
#include "processor/config/config_error.h"
#include "processor/rules/rule_registry.h"

namespace touchstream::testing {

// The message of the ConfigError that parsing `yaml` throws; "no error" if it parses.
inline std::string ParseErrorOf(const std::string& yaml) {
  try {
    ParseConfig(yaml, "test.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

// The first error of parsing `yaml` and building its rules, as `run` does at start-up; "no
// error" if there is none.
inline std::string StartupErrorOf(const std::string& yaml) {
  try {
    BuildRuleSet(ParseConfig(yaml, "test.yaml").rules);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace touchstream::testing
