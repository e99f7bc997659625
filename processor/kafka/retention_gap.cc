#include "processor/kafka/retention_gap.h"

#include "processor/core/partition_name.h"
#include "processor/diagnostics/log.h"

namespace touchstream {

Resume ResumeOffset(const std::string& name, int64_t next, const Watermarks& watermarks) {
  Resume resume;
  resume.offset = next;
  if (next <= 0) return resume;  // from the beginning, wherever it is now
  if (next < watermarks.low) {
    resume.gap = true;
    resume.problem = "retention gap on " + name + ": the next offset to process is " +
                     std::to_string(next) + " but the earliest in Kafka is " +
                     std::to_string(watermarks.low) + " (" + std::to_string(watermarks.low - next) +
                     " events deleted unprocessed)";
  } else if (next > watermarks.high) {
    resume.problem = "the next offset to process on " + name + " is " + std::to_string(next) +
                     " but its log ends at " + std::to_string(watermarks.high) +
                     " (the topic was recreated, or an unclean leader election truncated it)";
  } else {
    return resume;
  }
  resume.offset = watermarks.low;
  return resume;
}

Status GapError(const std::string& problem) {
  return Status::KafkaError(problem +
                            "; set processing.on_retention_gap: skip_to_earliest to continue from "
                            "the earliest offset");
}

Status OnRetentionGap(const RdKafka::Message& message, bool skip) {
  const std::string where = PartitionName(message.topic_name(), message.partition());
  const std::string problem = "the next offset to process on " + where + " is not in Kafka (" +
                              message.errstr() +
                              "): a retention gap (events lost upstream) or a truncated log";
  if (!skip) return GapError(problem);
  LogError(problem +
           "; committing and rejoining the group, whose assignment continues from the "
           "earliest offset (processing.on_retention_gap)");
  return Status::Ok();
}

}  // namespace touchstream
