// Pauses the sources of a partition while its task fires a backlog of due timers in chunks
// (PartitionTask::timer_backlog: the consume loop polls and commits between chunks), so that the
// consumer does not fetch what the task would only hold. Once the backlog is fired it resumes
// them and rewinds every source that had a record held to the task's next offset, so no record
// is skipped. Only that partition pauses; the others go on.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <set>
#include <string>

#include "processor/metrics/metrics.h"
#include "processor/run/task_manager.h"

namespace touchstream {

// Owned by the consume thread.
class TimerBacklogPauses {
 public:
  // `repartition_topic`: empty when the repartition stage is off.
  TimerBacklogPauses(std::string input_topic, std::string repartition_topic)
      : input_topic_(std::move(input_topic)), repartition_topic_(std::move(repartition_topic)) {}

  // After each step of the loop: pauses newly backlogged partitions, releases those whose backlog
  // is gone. A failed seek is logged and retried at the next call (the source stays held, its
  // records ignored, until a seek succeeds). Returns whether any partition has a backlog.
  bool Update(RdKafka::KafkaConsumer& consumer, TaskManager& tasks, Metrics& metrics);

 private:
  // The sources of `partition` (the input, and the repartition topic when on).
  std::vector<std::string> Sources() const;
  void SetPaused(RdKafka::KafkaConsumer& consumer, int32_t partition, bool pause) const;

  // Constant after construction.
  const std::string input_topic_;
  const std::string repartition_topic_;

  std::set<int32_t> paused_;
};

}  // namespace touchstream
