#include "processor/run/source_pauses.h"

#include <optional>
#include <utility>
#include <vector>

#include "processor/core/partition_name.h"
#include "processor/diagnostics/log.h"

namespace touchstream {

void SourcePauses::SetOutboxFull(SourceSwitch& input, bool full) {
  const bool was_full = std::exchange(outbox_full_, full);
  if (!full && !was_full) return;
  std::vector<Source> sources = input.Assigned();
  if (full) {
    input.Pause(sources);
    return;
  }
  std::erase_if(sources, [this](const Source& s) { return paused_.count(s) != 0; });
  input.Resume(sources);
}

SourcePauses::Released SourcePauses::Update(SourceSwitch& input, TaskManager& tasks,
                                            const HeldRecords& held, Metrics& metrics,
                                            TimeMs steady_ms) {
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
      if (backlog || (waits && topic == input_topic_) || (outbox_full_ && task->held(topic))) {
        if (was_paused || (task->held(topic) && (!keeping || refused_from))) {
          if (!was_paused) input.Pause({source});
          still_paused.insert(source);
        }
        continue;
      }
      // While the outbox is full, its bound keeps the source paused (SetOutboxFull resumes it).
      if (was_paused && !outbox_full_) input.Resume({source});
      if (!task->held(topic)) continue;
      if (keeping && !refused_from) {
        tasks.Rewound(partition, topic);  // delivered again from memory, by the caller
        released.kept.push_back(source);
        continue;
      }
      // Read again from Kafka: after what memory kept, or all of it.
      const int64_t next = refused_from ? *refused_from : task->NextOffset(topic);
      if (Status s = input.Seek(source, next); !s.ok()) {
        LogWarn("rewinding " + PartitionName(topic, partition) +
                " after holding it: " + s.message() + " (retrying)");
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
