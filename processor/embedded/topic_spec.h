// `embedded-kafka --topic NAME:PARTITIONS`: a topic to create besides the config's (e.g. a
// compacted copy of the changelog, benchmarks/restore.sh). Parsing is pure: it checks the
// spelling, not the cluster (a name the config creates too is refused where both are known).
#pragma once

#include <string_view>

#include "processor/config/config.h"
#include "processor/core/status.h"

namespace touchstream {

inline constexpr int kMaxTopicSpecPartitions = 10'000;

// NAME:PARTITIONS, NAME as Kafka allows it (1-249 of a-z A-Z 0-9 . _ -, not "." or ".."),
// PARTITIONS 1..kMaxTopicSpecPartitions. InvalidArgument naming what is wrong.
StatusOr<TopicConfig> ParseTopicSpec(std::string_view spec);

}  // namespace touchstream
