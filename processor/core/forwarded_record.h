// The repartition stage's record (DESIGN.md, "Data flow"; README, "Which partition owns a
// customer"). A valid event read from an input partition that does not own its customer is not
// applied there: it is forwarded, in the same commit as the input offset that read it, to the
// owner's partition of the repartition topic, unchanged (the same value bytes) but keyed by its
// customer id, with where it was first read in headers:
//   touchstream.source.topic        the input topic
//   touchstream.source.partition    the input partition (decimal)
//   touchstream.source.offset       the input offset (decimal)
//   touchstream.source.create_time  the input record's CreateTime (decimal ms; empty: it had none)
// The owner validates the event against that CreateTime, as the input partition would have, and
// its hybrid clock observes that one, never the forwarded record's own timestamp, which is its
// producer's (the forwarding host's clock, which must not move any partition's clock): a broker
// that bounds timestamps (log.message.timestamp.difference.max.ms) would refuse an old upstream
// CreateTime for good (INVALID_TIMESTAMP) after an outage or a backlog. Forwarded records written
// before the header carried the CreateTime as their timestamp: read (InputCreateTime) and resent
// from the outbox (MoveCreateTimeToHeader) as such.
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
  std::optional<TimeMs> create_time_ms;  // the input record's CreateTime, from the header
  bool create_time_header = false;       // the header is there (written since it exists)
};

// The outbox record forwarding `record` (an input record whose customer is `customer_id`) to
// partition `owner` of `repartition_topic`.
v1::state::OutboxRecord MakeForwarded(const std::string& repartition_topic, int32_t owner,
                                      std::string_view customer_id, const InputRecord& record);

// The origin in a forwarded record's headers; nullopt if a header is missing or malformed (a
// record some other producer wrote to the repartition topic). Views into `headers`.
std::optional<RecordOrigin> ParseOrigin(std::span<const InputHeader> headers);

// The CreateTime `record` is judged by ("in the future"; the hybrid clock): an input record's
// own, a forwarded record's input record's (`origin`: ParseOrigin of its headers; a record
// written before the header, its own timestamp, which was that).
std::optional<TimeMs> InputCreateTime(const InputRecord& record,
                                      const std::optional<RecordOrigin>& origin);

// A forwarded record an earlier version stored in the outbox with its input's CreateTime as its
// timestamp: the timestamp moved into the header, as MakeForwarded writes it now. Any other
// record is left as it is.
void MoveCreateTimeToHeader(v1::state::OutboxRecord& record);

// "touchpoints/3": the key of an origin in PartitionCheckpoint.forwarded_next_offsets.
std::string OriginKey(std::string_view topic, int32_t partition);

}  // namespace touchstream
