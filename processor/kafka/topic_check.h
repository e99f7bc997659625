// Start-up checks of the topics touchstream needs, against the cluster's metadata.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <string>

#include "processor/core/status.h"

namespace touchstream {

// InvalidArgument naming topics.changelog when the changelog topic does not exist or has
// fewer partitions than the input topic. Ok (with a warning logged) when the metadata cannot
// be read yet.
Status CheckChangelogTopic(RdKafka::Handle& client, const std::string& input_topic,
                           const std::string& changelog_topic);

}  // namespace touchstream
