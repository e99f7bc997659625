#include "processor/run/partition_gauges.h"

#include <algorithm>

namespace touchstream {

void SamplePartitionGauges(const TaskManager& tasks, RdKafka::KafkaConsumer& consumer,
                           const std::string& input_topic, Metrics& metrics) {
  metrics.state_cache_bytes().Set(static_cast<double>(tasks.cached_bytes()));
  auto seconds = [](TimeMs ms) { return ms == kNoTime ? 0.0 : ms / 1000.0; };
  for (int32_t partition : tasks.partitions()) {
    const PartitionTask& task = *tasks.Find(partition);
    metrics.watermark_seconds(partition).Set(seconds(task.watermark_ms()));
    metrics.max_event_time_seconds(partition).Set(seconds(task.max_event_time_ms()));
    int64_t low = 0;
    int64_t high = 0;
    if (consumer.get_watermark_offsets(input_topic, partition, &low, &high) ==
            RdKafka::ERR_NO_ERROR &&
        high >= 0) {
      metrics.consumer_lag(partition).Set(static_cast<double>(
          std::max<int64_t>(0, high - std::max(low, task.checkpoint().next_offset()))));
    }
  }
}

}  // namespace touchstream
