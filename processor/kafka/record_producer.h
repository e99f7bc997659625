// Produces one outbox record as it was committed: key, value, headers, and its partition when
// the record names one (changelog records), else the producer's partitioner.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include "state.pb.h"

namespace touchstream {

// Whether librdkafka copies the record's value or reads it where it is (the key and headers it
// always copies).
enum class Payload {
  kCopied,
  // The caller keeps `record` alive and its value unchanged until the record's delivery report
  // is served, or until the producer is destroyed: no copy, no allocation of the value's size.
  kKeptUntilReport,
};

// Queues `record` with `opaque` for its delivery report. While the local queue is full it
// serves the producer's events and tries again. Returns ERR_NO_ERROR once queued, else the
// error of produce() (librdkafka then holds nothing of the record). Called on the thread that
// owns `producer`.
RdKafka::ErrorCode ProduceRecord(RdKafka::Producer& producer, const v1::state::OutboxRecord& record,
                                 void* opaque, Payload payload = Payload::kCopied);

}  // namespace touchstream
