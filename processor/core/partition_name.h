// How log lines and error messages name a topic partition.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace touchstream {

// "<topic>/<partition>", e.g. "touchpoints/3".
inline std::string PartitionName(std::string_view topic, int32_t partition) {
  return std::string(topic) + "/" + std::to_string(partition);
}

}  // namespace touchstream
