// Which of a task's sources (its input partition, its repartition partition) are caught up, from
// the consumer's cached high watermarks: a source whose next offset to apply is at its
// partition's high watermark has nothing more to read now, one below it is behind. The
// end-of-partition event tells the first only when a fetch reaches the end, once per end offset,
// and never the second; the hybrid clock's idle partitions and the repartition hold
// (PartitionTask::waits_for_repartition) need both. No broker round trip: the watermarks come
// with every fetch response.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <string>
#include <vector>

#include "processor/run/task_manager.h"

namespace touchstream {

// Marks each source topic in `sources` of each task caught up if its next offset to apply (or
// the partition's low watermark, if retention deleted the records before it) is at or past the
// partition's cached high watermark, behind if not. A partition not fetched yet has no cached
// watermark and stays as it is; a held source (timer backlog) stays behind
// (PartitionTask::MarkCaughtUp). The cached watermark is as of the last fetch response: a
// record written since is not known (README, the repartition stage's limit).
void MarkSourcesAtTheirEnd(RdKafka::KafkaConsumer& consumer,
                           const std::vector<std::string>& sources, TaskManager& tasks);
// The same for one source of one partition (no-op if the partition is not assigned).
void MarkSourceAtItsEnd(RdKafka::KafkaConsumer& consumer, const std::string& topic,
                        int32_t partition, TaskManager& tasks);

}  // namespace touchstream
