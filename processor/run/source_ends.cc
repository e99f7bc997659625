#include "processor/run/source_ends.h"

#include <algorithm>

namespace touchstream {

SourceEnds::Seen* SourceEnds::Entry(const std::string& topic, int32_t partition,
                                    const PartitionTask& task) {
  auto source = std::find(sources_.begin(), sources_.end(), topic);
  if (source == sources_.end()) return nullptr;
  Seen& seen = seen_[{static_cast<size_t>(source - sources_.begin()), partition}];
  if (seen.owner != task.checkpoint().owner()) seen = Seen{task.checkpoint().owner()};
  return &seen;
}

void SourceEnds::OnEndOfPartition(const std::string& topic, int32_t partition, int64_t end_offset,
                                  TaskManager& tasks) {
  const PartitionTask* task = tasks.Find(partition);
  if (task == nullptr) return;
  if (Seen* seen = Entry(topic, partition, *task)) seen->eof_high = end_offset;
  if (HasUnapplied(topic, partition)) return;  // judged once they are applied
  tasks.MarkCaughtUp(topic, partition);
}

void SourceEnds::OnRewound(const std::string& topic, int32_t partition, TaskManager& tasks) {
  const PartitionTask* task = tasks.Find(partition);
  if (task == nullptr) return;
  if (Seen* seen = Entry(topic, partition, *task)) seen->eof_high = -1;
}

void SourceEnds::Judge(const std::string& topic, int32_t partition, TaskManager& tasks) {
  const PartitionTask* task = tasks.Find(partition);
  if (task == nullptr) return;
  Seen* seen = Entry(topic, partition, *task);
  if (seen == nullptr) return;
  int64_t low = 0;
  int64_t high = -1;
  if (seen->broker_high < 0 && seen->eof_high < 0) {
    // The first judgement of this assignment: the cached watermark may be older than it.
    int64_t broker_low = 0;
    if (!read_(topic, partition, true, &broker_low, &seen->broker_high)) seen->broker_high = 0;
  }
  if (!read_(topic, partition, false, &low, &high)) high = -1;
  high = std::max(high, seen->broker_high);
  if (high < 0) return;
  const bool at_end = (std::max(task->NextOffset(topic), low) >= high ||
                       (seen->eof_high >= 0 && high <= seen->eof_high)) &&
                      !HasUnapplied(topic, partition);
  if (at_end == task->caught_up(topic)) return;
  if (at_end) {
    tasks.MarkCaughtUp(topic, partition);
  } else {
    tasks.MarkBehind(topic, partition);
  }
}

void SourceEnds::JudgeAll(TaskManager& tasks) {
  for (int32_t partition : tasks.partitions()) {
    for (const std::string& topic : sources_) Judge(topic, partition, tasks);
  }
}

}  // namespace touchstream
