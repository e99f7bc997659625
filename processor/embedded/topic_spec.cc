#include "processor/embedded/topic_spec.h"

#include <charconv>
#include <string>

namespace touchstream {

StatusOr<TopicConfig> ParseTopicSpec(std::string_view spec) {
  const std::string quoted = "'" + std::string(spec) + "'";
  const size_t colon = spec.rfind(':');
  if (colon == std::string_view::npos) {
    return Status::InvalidArgument(quoted + " is not NAME:PARTITIONS");
  }
  const std::string_view name = spec.substr(0, colon);
  const std::string_view count = spec.substr(colon + 1);
  if (name.empty() || name.size() > 249 || name == "." || name == "..") {
    return Status::InvalidArgument(quoted + ": a topic name is 1 to 249 characters, not . or ..");
  }
  for (char c : name) {
    const bool legal = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '.' || c == '_' || c == '-';
    if (!legal) {
      return Status::InvalidArgument(quoted + ": a topic name has only a-z A-Z 0-9 . _ -");
    }
  }
  int partitions = 0;
  const auto [end, error] = std::from_chars(count.data(), count.data() + count.size(), partitions);
  if (count.empty() || error != std::errc() || end != count.data() + count.size() ||
      partitions < 1 || partitions > kMaxTopicSpecPartitions) {
    return Status::InvalidArgument(quoted + ": PARTITIONS must be a whole number from 1 to " +
                                   std::to_string(kMaxTopicSpecPartitions));
  }
  return TopicConfig{std::string(name), partitions};
}

}  // namespace touchstream
