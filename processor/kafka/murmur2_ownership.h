// Customer ownership as Kafka's Java client partitions a key: (murmur2(key) & 0x7fffffff) % N,
// computed by librdkafka's own murmur2 partitioner (the `murmur2` and `murmur2_random`
// partitioners, which are the Java client's for a non-null key).
#pragma once

#include "processor/core/partition_ownership.h"

namespace touchstream {

class Murmur2Ownership final : public PartitionOwnership {
 public:
  // `partitions` > 0: the input topic's partition count.
  explicit Murmur2Ownership(int32_t partitions) : partitions_(partitions) {}

  int32_t partitions() const override { return partitions_; }
  int32_t OwnerOf(std::string_view customer_id) const override;

 private:
  const int32_t partitions_;
};

}  // namespace touchstream
