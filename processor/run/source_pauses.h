// Pauses a partition's sources while its task holds their records, and rewinds them once it
// stops holding, so that the consumer does not fetch what the task would only hold and no held
// record is skipped. Two reasons to hold:
// - a backlog of due timers fired in chunks (PartitionTask::timer_backlog: the consume loop polls
//   and commits between chunks): both sources pause;
// - the input waits for its repartition source to catch up (PartitionTask::
//   WaitsForRepartition): the input pauses, the repartition source goes on.
// Once a source is no longer held it is resumed and, if a record of it was held, rewound to the
// task's next offset (counted in touchstream_input_rewinds_total: the consumer drops what it had
// fetched past that offset and fetches it again). Only that partition pauses; the others go on.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "processor/metrics/metrics.h"
#include "processor/run/task_manager.h"

namespace touchstream {

// Owned by the consume thread.
class SourcePauses {
 public:
  // `repartition_topic`: empty when the repartition stage is off.
  SourcePauses(std::string input_topic, std::string repartition_topic)
      : input_topic_(std::move(input_topic)), repartition_topic_(std::move(repartition_topic)) {}

  // After each step of the loop (`steady_ms`: TaskTime's monotonic clock): pauses the sources
  // now held, resumes and rewinds those no longer held. A failed seek is logged and retried at
  // the next call (the source stays held, its records ignored, until a seek succeeds). Returns
  // whether any partition has a timer backlog.
  bool Update(RdKafka::KafkaConsumer& consumer, TaskManager& tasks, Metrics& metrics,
              TimeMs steady_ms);

 private:
  using Source = std::pair<std::string, int32_t>;  // topic, partition

  // Constant after construction.
  const std::string input_topic_;
  const std::string repartition_topic_;

  std::set<Source> paused_;
};

}  // namespace touchstream
