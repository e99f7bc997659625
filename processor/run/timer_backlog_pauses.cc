#include "processor/run/timer_backlog_pauses.h"

#include <memory>

#include "processor/core/partition_name.h"
#include "processor/diagnostics/log.h"

namespace touchstream {

namespace {

constexpr int kSeekTimeoutMs = 5'000;

}  // namespace

std::vector<std::string> TimerBacklogPauses::Sources() const {
  std::vector<std::string> sources{input_topic_};
  if (!repartition_topic_.empty()) sources.push_back(repartition_topic_);
  return sources;
}

void TimerBacklogPauses::SetPaused(RdKafka::KafkaConsumer& consumer, int32_t partition,
                                   bool pause) const {
  std::vector<RdKafka::TopicPartition*> tps;
  for (const std::string& topic : Sources()) {
    tps.push_back(RdKafka::TopicPartition::create(topic, partition));
  }
  if (pause) {
    consumer.pause(tps);
  } else {
    consumer.resume(tps);
  }
  RdKafka::TopicPartition::destroy(tps);
}

bool TimerBacklogPauses::Update(RdKafka::KafkaConsumer& consumer, TaskManager& tasks,
                                Metrics& metrics) {
  // The common case, on every poll: nothing paused, nothing to pause or rewind.
  if (paused_.empty() && !tasks.AnyBacklogOrHeld()) return false;
  bool any_backlog = false;
  std::set<int32_t> still_paused;
  for (int32_t partition : tasks.partitions()) {
    const PartitionTask* task = tasks.Find(partition);
    const bool was_paused = paused_.count(partition) != 0;
    if (task->timer_backlog()) {
      any_backlog = true;
      if (!was_paused) {
        LogInfo("pausing " + PartitionName(input_topic_, partition) +
                " while its backlog of due timers fires in chunks "
                "(processing.max_timers_per_step)");
        SetPaused(consumer, partition, true);
      }
      still_paused.insert(partition);
      continue;
    }
    if (was_paused) SetPaused(consumer, partition, false);
    for (const std::string& topic : Sources()) {
      if (!task->held(topic)) continue;
      const int64_t next = task->NextOffset(topic);
      std::unique_ptr<RdKafka::TopicPartition> tp(RdKafka::TopicPartition::create(
          topic, partition, next > 0 ? next : RdKafka::Topic::OFFSET_BEGINNING));
      if (RdKafka::ErrorCode err = consumer.seek(*tp, kSeekTimeoutMs);
          err != RdKafka::ERR_NO_ERROR) {
        LogWarn("rewinding " + PartitionName(topic, partition) +
                " after its timer backlog: " + RdKafka::err2str(err) + " (retrying)");
        continue;
      }
      tasks.Rewound(partition, topic);
    }
  }
  paused_ = std::move(still_paused);
  metrics.timer_backlog_partitions().Set(static_cast<double>(paused_.size()));
  return any_backlog;
}

}  // namespace touchstream
