// Start-up checks of the topics touchstream needs, against the cluster's metadata.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <string>

#include "processor/config/config.h"
#include "processor/core/status.h"

namespace touchstream {

// Checks the internal topics against the input and returns the input's partition count (what
// customer ownership is computed with). InvalidArgument naming the config key when:
//   topics.changelog:   the changelog topic is missing or has fewer partitions than the input;
//   topics.touchpoints: the input topic is missing (its partition count decides which partition
//                       owns a customer: a guess would build state under the wrong count);
//   topics.repartition: the repartition topic is missing or has another partition count.
// Unavailable, naming topics.touchpoints, when the metadata cannot be read within 10 s.
StatusOr<int32_t> CheckTopics(RdKafka::Handle& client, const Config& config);

}  // namespace touchstream
