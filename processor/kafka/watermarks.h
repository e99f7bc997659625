// A partition's low and high watermark offsets, asked of its leader. librdkafka 2.0.2 sends
// the request to the leader it has cached and does not follow a leader change by itself (an
// idle client keeps failing with "Not leader for partition"), so this refreshes the metadata
// and asks again until `timeout_ms` runs out. Each ask is a ListOffsets request made through
// offsetsForTimes, which waits at most the time left: query_watermark_offsets waits for the
// request's own timeout (socket.timeout.ms, a minute) when the leader's broker is down, which
// stalled the consume loop (a stop during a broker outage took minutes).
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <cstdint>
#include <string>

#include "processor/core/status.h"

namespace touchstream {

struct Watermarks {
  int64_t low = 0;   // earliest offset still in the log
  int64_t high = 0;  // the offset the next record will get
};

// Called on the thread that owns `consumer`. KafkaError naming the partition and the last
// error if no answer came within `timeout_ms`.
StatusOr<Watermarks> QueryWatermarks(RdKafka::KafkaConsumer& consumer, const std::string& topic,
                                     int32_t partition, int timeout_ms);

}  // namespace touchstream
