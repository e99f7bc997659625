// The repartition stage's record (DESIGN.md, "Data flow"; README, "Which partition owns a
// customer"). A valid event read from an input partition that does not own its customer is not
// applied there: it is forwarded, in the same commit as the input offset that read it, to the
// owner's partition of the repartition topic, unchanged (the same value bytes) but keyed by its
// customer id, with where it was first read in headers:
//   touchstream.source.topic        the input topic
//   touchstream.source.partition    the input partition (decimal)
//   touchstream.source.offset       the input offset (decimal)
//   touchstream.source.create_time  the input record's CreateTime (decimal ms), if it had one
// The owner validates the event against that CreateTime, as the input partition would have. The
// forwarded record's own timestamp is its producer's: a broker that bounds timestamps
// (log.message.timestamp.difference.max.ms) would refuse an old upstream CreateTime for good
// (INVALID_TIMESTAMP) after an outage or a backlog. Forwarded records written before the header
// carried the CreateTime as their timestamp, which the owner then reads instead.
// The owner applies it once: its checkpoint keeps, per origin partition, the next origin offset
// to apply (PartitionCheckpoint.forwarded_next_offsets), so a copy the outbox sent again after a
// crash, or that a partition's next owner forwarded again, is recognised. Each origin partition
// forwards in offset order and each repartition partition keeps that order.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "processor/core/input_record.h"
#include "state.pb.h"

namespace touchstream {

// Where a forwarded record was first read.
struct RecordOrigin {
  std::string_view topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::optional<TimeMs> create_time_ms;  // the input record's CreateTime, if the header is there
};

// The outbox record forwarding `record` (an input record whose customer is `customer_id`) to
// partition `owner` of `repartition_topic`.
v1::state::OutboxRecord MakeForwarded(const std::string& repartition_topic, int32_t owner,
                                      std::string_view customer_id, const InputRecord& record);

// The origin in a forwarded record's headers; nullopt if a header is missing or malformed (a
// record some other producer wrote to the repartition topic). Views into `headers`.
std::optional<RecordOrigin> ParseOrigin(std::span<const InputHeader> headers);

// "touchpoints/3": the key of an origin in PartitionCheckpoint.forwarded_next_offsets.
std::string OriginKey(std::string_view topic, int32_t partition);

}  // namespace touchstream
