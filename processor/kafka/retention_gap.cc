#include "processor/kafka/retention_gap.h"

#include <memory>

#include "processor/core/partition_name.h"
#include "processor/diagnostics/log.h"

namespace touchstream {

Status OnRetentionGap(RdKafka::KafkaConsumer& consumer, RdKafka::Message& message, bool skip) {
  const std::string topic = message.topic_name();
  const std::string where = PartitionName(topic, message.partition());
  if (!skip) {
    return Status::KafkaError(
        "retention gap on " + where + ": the next offset to process is no longer in Kafka (" +
        message.errstr() + "); events were lost upstream of touchstream. " +
        "Set processing.on_retention_gap: skip_to_earliest to continue from the earliest");
  }
  LogError("retention gap on " + where + " (" + message.errstr() +
           "): continuing from the earliest offset (processing.on_retention_gap)");
  std::unique_ptr<RdKafka::TopicPartition> tp(RdKafka::TopicPartition::create(
      topic, message.partition(), RdKafka::Topic::OFFSET_BEGINNING));
  consumer.seek(*tp, 5000);
  return Status::Ok();
}

}  // namespace touchstream
