// What happens to an outbox record Kafka refuses for good (e.g. MSG_SIZE_TOO_LARGE: the record
// is over message.max.bytes), so that one record never stops all output: retrying it forever
// would hold the relay's commit barrier, and with it every later trigger and changelog record.
//   a trigger, audit or other record: goes to the dead-letter topic instead, its value cut to
//     kMaxUndeliverableValueBytes if need be, with headers saying why (below);
//   a dead letter that is itself refused: dropped, and counted (nothing more can be done);
//   a changelog record: never dropped (the partition's state would be lost): the relay stops
//     with an error, and the processor with it; limits on the state keep them small.
// Headers of the rerouted record: the original ones, then
//   touchstream.reason          "undeliverable"
//   touchstream.detail          librdkafka's error
//   touchstream.original.topic  where it was going
//   touchstream.truncated       "true" when the value was cut, else "false"
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <cstddef>
#include <string>

#include "state.pb.h"

namespace touchstream {

inline constexpr size_t kMaxUndeliverableValueBytes = 64 * 1024;

// Where the relay sends records it cannot deliver.
struct UndeliverablePolicy {
  std::string dead_letter_topic = "touchpoints-dlq";
  std::string changelog_topic;  // records to this topic are never rerouted
};

// True if `err` will not go away by retrying the same bytes.
bool IsPermanentProduceError(RdKafka::ErrorCode err);

// What to do with `record` that failed permanently with `error`.
enum class UndeliverableAction { kReroute, kDrop, kStop };
UndeliverableAction Decide(const UndeliverablePolicy& policy,
                           const v1::state::OutboxRecord& record);

// The dead letter that replaces `record` (kReroute).
v1::state::OutboxRecord Reroute(const UndeliverablePolicy& policy,
                                const v1::state::OutboxRecord& record, const std::string& error);

}  // namespace touchstream
