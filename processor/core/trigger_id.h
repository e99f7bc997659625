// Deterministic trigger ids: the same (rule, customer, type, episode) always gives the same id,
// so a replay after a crash re-sends the same trigger instead of a new one.
#pragma once

#include <string>
#include <string_view>

#include "trigger.pb.h"

namespace touchstream {

// "t-" followed by 32 hex digits: the first 128 bits of SHA-256 over the length-prefixed
// fields. Stable across builds, platforms and versions.
std::string MakeTriggerId(std::string_view rule_id, std::string_view customer_id,
                          v1::TriggerType type, std::string_view episode);

}  // namespace touchstream
