// Bounds what the relay holds in memory when Kafka is slow or stops acknowledging: while the
// records handed to the relay and not yet acknowledged exceed `processing.max_outbox_records`
// or `processing.max_outbox_bytes`, the consume loop pauses its input partitions (it keeps
// polling, so the group membership and the relay's delivery reports go on) and resumes once
// both are below half their limit. Committed records are safe in the RocksDB outbox either way;
// this bounds memory and the work that waits on Kafka, not durability.
#pragma once

#include <cstddef>
#include <cstdint>

namespace touchstream {

// Owned by the consume thread. Pure: the loop feeds it the relay's counts.
class OutboxBackpressure {
 public:
  OutboxBackpressure(size_t max_records, uint64_t max_bytes)
      : max_records_(max_records), max_bytes_(max_bytes) {}

  // The relay's unacknowledged records and bytes now; returns whether input must be paused.
  bool Update(size_t records, uint64_t bytes) {
    if (!paused_) {
      paused_ = records > max_records_ || bytes > max_bytes_;
    } else {
      paused_ = records > max_records_ / 2 || bytes > max_bytes_ / 2;
    }
    return paused_;
  }
  bool paused() const { return paused_; }

 private:
  const size_t max_records_;
  const uint64_t max_bytes_;
  bool paused_ = false;
};

}  // namespace touchstream
