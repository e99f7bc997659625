// A retention gap under the group consumer (auto.offset.reset=error: the next offset of a
// partition was deleted by retention before it was processed; events were lost upstream).
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include "processor/core/status.h"

namespace touchstream {

// For `message` (an ERR__AUTO_OFFSET_RESET event): unless `skip` (processing.on_retention_gap:
// skip_to_earliest), a KafkaError naming the partition and how to continue; with `skip`, logs
// it and seeks the partition to its earliest offset.
Status OnRetentionGap(RdKafka::KafkaConsumer& consumer, RdKafka::Message& message, bool skip);

}  // namespace touchstream
