// Which input partition owns a customer: the one partition whose task keeps the customer's state
// and fires their triggers, whatever partition their events arrive in (README, "Which partition
// owns a customer"). The function is Kafka's default partitioner, so that most producers (the Java
// client, kafka-python, franz-go, `touchstream produce`) land a record keyed by the customer id in
// its owner the first time; any other record is forwarded there by the repartition stage
// (forwarded_record.h). The implementation lives with the Kafka adapters (librdkafka computes it:
// processor/kafka/murmur2_ownership.h); the core sees only this interface.
#pragma once

#include <cstdint>
#include <string_view>

namespace touchstream {

// Immutable; safe for concurrent use.
class PartitionOwnership {
 public:
  virtual ~PartitionOwnership() = default;
  // The input's partition count the ownership is computed for.
  virtual int32_t partitions() const = 0;
  // The owning partition of `customer_id`, in [0, partitions()).
  virtual int32_t OwnerOf(std::string_view customer_id) const = 0;
};

}  // namespace touchstream
