// Follows the holds of each partition's sources (a task holds a source's records while they
// cannot be applied yet) and releases them. Three reasons to hold:
// - a backlog of due timers fired in chunks (PartitionTask::timer_backlog: the consume loop polls
//   and commits between chunks): both sources hold;
// - the input waits for its repartition source to catch up (PartitionTask::
//   WaitsForRepartition): the input holds, the repartition source goes on;
// - the outbox is over its bound (processor/run/outbox_backpressure.h) while kept records were
//   being applied: the loop stopped applying them and held their source (PartitionTask::Hold,
//   ConsumeLoop::ApplyKept); every held source stays held until the outbox is back under it.
// The records a held source delivers are kept in memory (processor/run/held_records.h) and
// applied once the hold ends, oldest first, before any record the source delivers later: the
// source is not paused. Only a source past the kept records' bound (or with none kept:
// processing.max_held_bytes 0) is paused while it holds, then resumed and rewound (counted in
// touchstream_input_rewinds_total: the consumer drops what it had fetched past that offset and
// fetches it again): to the first record memory refused, after the ones it kept
// (HeldRecords::RefusedFrom), or to the task's next offset when it kept none. Only that
// partition holds; the others go on.
//
// The outbox's bound pauses every assigned source (SetOutboxFull) for as long as the relay's
// backlog is over it. It is the one other reason to pause, and this class weighs the two: a
// source is paused while either holds, so a source a hold paused stays paused when the outbox
// gets back under its bound, and a hold that ends while the outbox is over it leaves its source
// paused until the outbox is back under.
#pragma once

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "processor/metrics/metrics.h"
#include "processor/run/held_records.h"
#include "processor/run/source_switch.h"
#include "processor/run/task_manager.h"

namespace touchstream {

// Owned by the consume thread.
class SourcePauses {
 public:
  // `repartition_topic`: empty when the repartition stage is off.
  SourcePauses(std::string input_topic, std::string repartition_topic)
      : input_topic_(std::move(input_topic)), repartition_topic_(std::move(repartition_topic)) {}

  using Source = HeldRecords::Source;

  struct Released {
    bool timer_backlog = false;  // a partition has a timer backlog
    // Held sources whose hold ended with records kept in `held`: the caller applies them now
    // (HeldRecords::Take), before anything else the source delivers (a source that refused some
    // was rewound to the first of those).
    std::vector<Source> kept;
    // Sources sought back to read again (SourceEnds::OnRewound).
    std::vector<Source> rewound;
  };
  // Whether the outbox is over its bound (OutboxBackpressure::paused), at every change and, while
  // it is, after each step of the loop: every source `input` has assigned is paused (those
  // assigned meanwhile too); once it is not, they are resumed but those a hold keeps paused.
  void SetOutboxFull(SourceSwitch& input, bool full);

  // After each step of the loop (`steady_ms`: TaskTime's monotonic clock): pauses the held
  // sources that keep no records in `held`, resumes (unless the outbox is full) and rewinds them
  // once no longer held, and reports the released sources that kept records. While the outbox is
  // full, a held source stays held. A failed seek is logged and retried at the next call (the
  // source stays held, its records ignored, until a seek succeeds).
  Released Update(SourceSwitch& input, TaskManager& tasks, const HeldRecords& held,
                  Metrics& metrics, TimeMs steady_ms);

 private:
  // Constant after construction.
  const std::string input_topic_;
  const std::string repartition_topic_;

  std::set<Source> paused_;       // sources a hold keeps paused
  std::set<int32_t> backlogged_;  // partitions whose backlog was logged
  bool outbox_full_ = false;      // SetOutboxFull
};

}  // namespace touchstream
