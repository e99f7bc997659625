#include "processor/run/producer_properties.h"

#include <algorithm>
#include <cstdint>
#include <string>

namespace touchstream {

KafkaProperties RelayProducerProperties(const Config& config) {
  KafkaProperties props = config.kafka;
  for (const auto& [key, value] : config.kafka_producer) props[key] = value;
  constexpr int64_t kMaxInt32 = 2147483647;
  const auto at_least = [&](const std::string& key, int64_t librdkafka_default, int64_t wanted) {
    if (props.count(key) != 0) return;
    props[key] = std::to_string(std::min(std::max(librdkafka_default, wanted), kMaxInt32));
  };
  at_least("queue.buffering.max.messages", 100'000, 2 * config.max_outbox_records);
  at_least("queue.buffering.max.kbytes", 1'048'576, 2 * (config.max_outbox_bytes / 1024));
  return props;
}

}  // namespace touchstream
