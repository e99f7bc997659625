#include "processor/run/source_ends.h"

#include <algorithm>

namespace touchstream {

void MarkSourceAtItsEnd(RdKafka::KafkaConsumer& consumer, const std::string& topic,
                        int32_t partition, TaskManager& tasks) {
  const PartitionTask* task = tasks.Find(partition);
  if (task == nullptr) return;
  int64_t low = 0;
  int64_t high = -1;
  if (consumer.get_watermark_offsets(topic, partition, &low, &high) != RdKafka::ERR_NO_ERROR ||
      high < 0) {
    return;
  }
  const bool at_end = std::max(task->NextOffset(topic), low) >= high;
  if (at_end == task->caught_up(topic)) return;
  if (at_end) {
    tasks.MarkCaughtUp(topic, partition);
  } else {
    tasks.MarkBehind(topic, partition);
  }
}

void MarkSourcesAtTheirEnd(RdKafka::KafkaConsumer& consumer,
                           const std::vector<std::string>& sources, TaskManager& tasks) {
  for (int32_t partition : tasks.partitions()) {
    for (const std::string& topic : sources) MarkSourceAtItsEnd(consumer, topic, partition, tasks);
  }
}

}  // namespace touchstream
