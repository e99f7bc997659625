// One input record as any source hands it to a PartitionTask: Kafka (`run`), a file
// (`backtest`) or the in-process test driver. The views point into the caller's buffers and
// are valid only for the call they are passed to.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "processor/core/time.h"

namespace touchstream {

// One record header (views, as InputRecord's).
struct InputHeader {
  std::string_view key;
  std::string_view value;  // data() null: a null value (a tombstone)
};

struct InputRecord {
  // Where the record was read: its source topic, partition and offset. The task applies each
  // offset of a source at most once.
  std::string_view topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::optional<std::string_view> key;  // nullopt: a record without a key
  std::string_view value;               // data() null: a null value (a tombstone)
  // The record's CreateTime: the producer's clock when it sent the record. nullopt when the
  // source has none (a file; a topic with LogAppendTime).
  std::optional<TimeMs> create_time_ms;
  // The record's headers. Sources fill them where the task reads them: the repartition topic
  // (forwarded_record.h); empty elsewhere.
  std::span<const InputHeader> headers;
};

// The clocks a task manager reads, passed in with each call so that a test can set each one.
// Event time comes from the events themselves; the producers' clock from the records'
// CreateTime (see HybridClock).
struct TaskTime {
  // The local wall clock. It may jump (an NTP step, a restored VM): in hybrid mode an idle
  // partition follows it only within HybridClock's limit.
  TimeMs wall_ms = 0;
  // A monotonic clock (any origin): how much time passed between two calls.
  TimeMs steady_ms = 0;
};

}  // namespace touchstream
