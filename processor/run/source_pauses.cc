#include "processor/run/source_pauses.h"

#include <memory>
#include <optional>

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

SourcePauses::Released SourcePauses::Update(RdKafka::KafkaConsumer& consumer, TaskManager& tasks,
                                            const HeldRecords& held, Metrics& metrics,
                                            TimeMs steady_ms, bool outbox_full) {
  Released released;
  // The common case, on every poll: nothing paused, nothing to pause or rewind.
  if (paused_.empty() && backlogged_.empty() && !tasks.AnyBacklogOrHeld()) return released;
  std::vector<std::string> sources{input_topic_};
  if (!repartition_topic_.empty()) sources.push_back(repartition_topic_);
  size_t backlogged = 0;
  std::set<Source> still_paused;
  std::set<int32_t> still_backlogged;
  for (int32_t partition : tasks.partitions()) {
    const PartitionTask* task = tasks.Find(partition);
    const bool backlog = task->timer_backlog();
    const bool waits = !backlog && tasks.WaitsForRepartition(partition, steady_ms);
    if (backlog) {
      ++backlogged;
      still_backlogged.insert(partition);
      if (backlogged_.count(partition) == 0) {
        LogInfo("holding partition " + std::to_string(partition) +
                "'s input while its backlog of due timers fires in chunks "
                "(processing.max_timers_per_step)");
      }
    }
    for (const std::string& topic : sources) {
      const Source source{topic, partition};
      const bool was_paused = paused_.count(source) != 0;
      const bool keeping = held.Keeping(source);
      const std::optional<int64_t> refused_from = held.RefusedFrom(source);
      // Held now: its records wait in `held`, or, past its bound (or with none kept), in Kafka.
      if (backlog || (waits && topic == input_topic_) || (outbox_full && task->held(topic))) {
        if (was_paused || (task->held(topic) && (!keeping || refused_from))) {
          if (!was_paused) SetPaused(consumer, topic, partition, true);
          still_paused.insert(source);
        }
        continue;
      }
      if (was_paused) SetPaused(consumer, topic, partition, false);
      if (!task->held(topic)) continue;
      if (keeping && !refused_from) {
        tasks.Rewound(partition, topic);  // delivered again from memory, by the caller
        released.kept.push_back(source);
        continue;
      }
      // Read again from Kafka: after what memory kept, or all of it.
      const int64_t next = refused_from ? *refused_from : task->NextOffset(topic);
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
      released.rewound.push_back(source);
      if (keeping) released.kept.push_back(source);  // the records before `next`, from memory
    }
  }
  paused_ = std::move(still_paused);
  backlogged_ = std::move(still_backlogged);
  metrics.timer_backlog_partitions().Set(static_cast<double>(backlogged));
  released.timer_backlog = backlogged > 0;
  return released;
}

}  // namespace touchstream
