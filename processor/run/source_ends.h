// Which of a task's sources (its input partition, its repartition partition) are caught up and
// which are behind, as the consumer knows it. The end-of-partition event alone does not say:
// librdkafka sends it once per end offset, not again when a partition is assigned again at an
// end it reported before, and never says "behind". So a source is judged from its high
// watermark (the consumer's cached one, from every fetch response; at the first judgement of an
// assignment, asked of the broker, since the cached one may be the previous assignment's):
// - caught up when the task's next offset to apply (or the low watermark, if retention deleted
//   the records before it) is at the high watermark, or when the high watermark has not moved
//   since the source's last end-of-partition event (transaction markers and, with
//   read_committed, open transactions lie past the last record a consumer can read);
// - behind otherwise, and whenever records the consumer delivered wait unapplied (kept in memory
//   while the partition held, processor/run/held_records.h): the consumer is at the end, the
//   task is not. Judged caught up, an idle partition's clock would follow the wall clock at the
//   next commit (PartitionTask::Punctuate) and fire timers those records would have moved.
// The high watermark is as of the last fetch response: a record written since is not known
// (README, the repartition stage's limit).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "processor/run/task_manager.h"

namespace touchstream {

// Owned by the consume thread.
class SourceEnds {
 public:
  // Reads a partition's low and high watermark; `fresh`: ask the broker (else the consumer's
  // cached values). False if unknown.
  using WatermarkReader = std::function<bool(const std::string& topic, int32_t partition,
                                             bool fresh, int64_t* low, int64_t* high)>;
  // Whether a source has records delivered and not applied yet.
  using Unapplied = std::function<bool(const std::string& topic, int32_t partition)>;
  // `sources`: the input topic, and the repartition topic when the stage is on. `unapplied`: none
  // when null.
  SourceEnds(std::vector<std::string> sources, WatermarkReader read, Unapplied unapplied = nullptr)
      : sources_(std::move(sources)), read_(std::move(read)), unapplied_(std::move(unapplied)) {}

  // An end-of-partition event at `end_offset`: the source is caught up, unless it has records
  // unapplied.
  void OnEndOfPartition(const std::string& topic, int32_t partition, int64_t end_offset,
                        TaskManager& tasks);
  // Source `topic` of `partition` was rewound (a seek back after a hold): an end-of-partition
  // event from before no longer says the consumer is at the end, so it is forgotten (else the
  // source would be judged caught up with the records it will read again still unread).
  void OnRewound(const std::string& topic, int32_t partition, TaskManager& tasks);
  // Judges one source of `partition` (no-op if not assigned or not a source).
  void Judge(const std::string& topic, int32_t partition, TaskManager& tasks);
  // Judges every source of every assigned partition.
  void JudgeAll(TaskManager& tasks);

 private:
  // What is known of one source in the current assignment of its partition.
  struct Seen {
    std::string owner;         // the assignment: its changelog owner id
    int64_t broker_high = -1;  // the high watermark the broker gave at its first judgement
    int64_t eof_high = -1;     // the end offset of its last end-of-partition event
  };
  // The entry of `topic`/`partition` for `task`'s assignment (reset when the assignment changed);
  // null if `topic` is not a source.
  Seen* Entry(const std::string& topic, int32_t partition, const PartitionTask& task);
  bool HasUnapplied(const std::string& topic, int32_t partition) const {
    return unapplied_ && unapplied_(topic, partition);
  }

  const std::vector<std::string> sources_;
  const WatermarkReader read_;
  const Unapplied unapplied_;                        // may be null
  std::map<std::pair<size_t, int32_t>, Seen> seen_;  // (index in sources_, partition)
};

}  // namespace touchstream
