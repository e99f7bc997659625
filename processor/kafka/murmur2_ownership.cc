#include "processor/kafka/murmur2_ownership.h"

#include <librdkafka/rdkafka.h>

namespace touchstream {

int32_t Murmur2Ownership::OwnerOf(std::string_view customer_id) const {
  // The murmur2 partitioner reads only the key and the count (no topic, no opaques).
  return rd_kafka_msg_partitioner_murmur2(nullptr, customer_id.data(), customer_id.size(),
                                          partitions_, nullptr, nullptr);
}

}  // namespace touchstream
