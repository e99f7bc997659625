// Produces one outbox record as it was committed: key, value, headers, and its partition when
// the record names one (changelog records), else the producer's partitioner.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include "state.pb.h"

namespace touchstream {

// Queues `record` with `opaque` for its delivery report. While the local queue is full it
// serves the producer's events and tries again. Returns ERR_NO_ERROR once queued, else the
// error of produce(). Called on the thread that owns `producer`.
RdKafka::ErrorCode ProduceRecord(RdKafka::Producer& producer, const v1::state::OutboxRecord& record,
                                 void* opaque);

}  // namespace touchstream
