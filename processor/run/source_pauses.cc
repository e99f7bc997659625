#include "processor/run/source_pauses.h"

#include <memory>

#include "processor/core/partition_name.h"
#include "processor/diagnostics/log.h"

namespace touchstream {

namespace {

constexpr int kSeekTimeoutMs = 5'000;

void SetPaused(RdKafka::KafkaConsumer& consumer, const std::string& topic, int32_t partition,
               bool pause) {
  std::vector<RdKafka::TopicPartition*> tps{RdKafka::TopicPartition::create(topic, partition)};
  if (pause) {
    consumer.pause(tps);
  } else {
    consumer.resume(tps);
  }
  RdKafka::TopicPartition::destroy(tps);
}

}  // namespace

bool SourcePauses::Update(RdKafka::KafkaConsumer& consumer, TaskManager& tasks, Metrics& metrics,
                          TimeMs steady_ms) {
  // The common case, on every poll: nothing paused, nothing to pause or rewind.
  if (paused_.empty() && !tasks.AnyBacklogOrHeld()) return false;
  std::vector<std::string> sources{input_topic_};
  if (!repartition_topic_.empty()) sources.push_back(repartition_topic_);
  size_t backlogged = 0;
  std::set<Source> still_paused;
  for (int32_t partition : tasks.partitions()) {
    const PartitionTask* task = tasks.Find(partition);
    const bool backlog = task->timer_backlog();
    const bool waits = !backlog && tasks.WaitsForRepartition(partition, steady_ms);
    if (backlog) ++backlogged;
    for (const std::string& topic : sources) {
      const Source source{topic, partition};
      const bool was_paused = paused_.count(source) != 0;
      if (backlog || (waits && topic == input_topic_)) {
        if (!was_paused) {
          // A wait for the repartition source is routine (a fetch or two): not logged.
          if (backlog) {
            LogInfo("pausing " + PartitionName(topic, partition) +
                    " while its backlog of due timers fires in chunks "
                    "(processing.max_timers_per_step)");
          }
          SetPaused(consumer, topic, partition, true);
        }
        still_paused.insert(source);
        continue;
      }
      if (was_paused) SetPaused(consumer, topic, partition, false);
      if (!task->held(topic)) continue;
      const int64_t next = task->NextOffset(topic);
      std::unique_ptr<RdKafka::TopicPartition> tp(RdKafka::TopicPartition::create(
          topic, partition, next > 0 ? next : RdKafka::Topic::OFFSET_BEGINNING));
      if (RdKafka::ErrorCode err = consumer.seek(*tp, kSeekTimeoutMs);
          err != RdKafka::ERR_NO_ERROR) {
        LogWarn("rewinding " + PartitionName(topic, partition) +
                " after holding it: " + RdKafka::err2str(err) + " (retrying)");
        continue;
      }
      tasks.Rewound(partition, topic);
      metrics.input_rewinds(topic).Increment();
    }
  }
  paused_ = std::move(still_paused);
  metrics.timer_backlog_partitions().Set(static_cast<double>(backlogged));
  return backlogged > 0;
}

}  // namespace touchstream
