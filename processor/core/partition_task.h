// The work of one input partition, Kafka-free (Kafka Streams' StreamTask): input records and time
// in; decode and validate (dead letters), dedup, rules; out comes everything one commit of the
// partition must hold besides the store's own changes (triggers, dead letters) and the checkpoint
// that goes with them. `run` (Kafka + RocksDB), `backtest` (a file + memory), the demo and the
// in-process test driver all drive this class, so a record is processed the same way everywhere.
//
// Stages, in order (DESIGN.md, "Data flow"):
//   decode + validate ─bad─► dead letter
//   repartition: a customer this partition does not own ─► forwarded to its owner
//                (forwarded_record.h; identity resolution will re-key here too)
//   erasure memory ─dropped─► counted only (erasure_memory.h)
//   dedup ─► aggregate ─► rules ─► policy stage (PartitionPipeline, policy_stage.h)
//   an erasure request also withdraws the customer's output of the commit being built
//
// Time: event time drives the rules (PartitionPipeline); records of both sources are applied in
// the order they arrive. Validation measures "in the future" against the record's CreateTime
// (the producer's clock), else the local wall clock. In hybrid mode a partition that has caught
// up with its input and, with the repartition stage on, with its repartition source follows the
// wall clock within HybridClock's limit (Punctuate), so absence triggers fire while the partition
// is quiet, and not before a forwarded record still waiting in the repartition topic (a purchase
// that pays for a cart) is applied.
#pragma once

#include <string>
#include <vector>

#include "processor/core/dead_letter.h"
#include "processor/core/event_validator.h"
#include "processor/core/forwarded_record.h"
#include "processor/core/input_record.h"
#include "processor/core/partition_ownership.h"
#include "processor/core/pipeline.h"
#include "state.pb.h"

namespace touchstream {

enum class ClockMode {
  kEventTime,  // the clock moves only with event time (backtest, replays)
  kHybrid,     // and an idle, caught-up partition also follows the wall clock (run)
};

// Constant for the life of a task.
struct TaskSettings {
  DurationMs allowed_lateness_ms = 0;
  DedupPolicy dedup;
  StateLimits limits;
  ValidationLimits validation;
  ClockMode clock = ClockMode::kEventTime;
  std::string dead_letter_topic = "touchpoints-dlq";
  // The partition's own input; its offsets go in PartitionCheckpoint.next_offset, those of any
  // other source (the repartition topic) in source_next_offsets.
  std::string input_topic = "touchpoints";
  // The repartition stage: on when `ownership` is set (by whoever knows the input's partition
  // count; it must outlive the tasks). Off: every valid event is applied where it arrives
  // (backtest, a single partition).
  const PartitionOwnership* ownership = nullptr;
  // The input topic's partition count, recorded in every checkpoint, so that a state is never
  // taken over under another count (TaskManager::Assign): with the stage on, ownership's; 0:
  // unknown, not recorded (backtest).
  int32_t input_partitions = 0;
  std::string repartition_topic = "touchstream-touchpoints-repartition";
  // How long an input record waits for the repartition source to catch up (WaitsForRepartition)
  // before it is applied anyway (Kafka Streams' max.task.idle.ms).
  DurationMs max_repartition_wait_ms = 5'000;
  // Timers fired per step at most (PartitionPipeline's chunk bound; 0: no bound).
  size_t max_timers_per_step = 0;
  // The policy stage (processor/policy/policy_stage.h); it must outlive the tasks. Null: off
  // (every trigger goes out as the rules made it).
  const PolicyStage* policy = nullptr;
  // Erasure memory and customer hashes (core/erasure_memory.h).
  PrivacySettings privacy;
  // Whether staleness (policies.max_trigger_age) is measured against TaskTime's wall clock
  // (`run`); false: not checked (backtest, which has no wall clock of its own).
  bool staleness_by_wall_clock = false;
};

// What the task emitted since the caller last cleared it; committed with the state.
struct TaskOutput {
  struct EmittedTrigger {
    v1::Trigger trigger;
    bool event_caused = false;  // false: a timer fired it
  };
  std::vector<EmittedTrigger> triggers;
  std::vector<v1::state::OutboxRecord> dead_letters;
  // Records for the repartition topic (forwarded_record.h).
  std::vector<v1::state::OutboxRecord> forwarded;
  // The policy stage's audit records (every decision but an immediate send).
  std::vector<v1::AuditRecord> audits;

  bool empty() const {
    return triggers.empty() && dead_letters.empty() && forwarded.empty() && audits.empty();
  }
  void Clear() {
    triggers.clear();
    dead_letters.clear();
    forwarded.clear();
    audits.clear();
  }
};

// What became of one input record (for metrics and the backtest's error lines).
struct RecordOutcome {
  enum class Kind {
    kAlreadyApplied,  // its offset (or a forwarded record's origin offset) is before the
                      // checkpoint: skipped, nothing changed
    kApplied,         // a valid event, applied
    kDuplicate,       // a valid event whose id the customer has seen within the horizon
    kDeadLettered,    // invalid: a dead letter is in the output
    kForwarded,       // a valid event of a customer another partition owns: forwarded
    kDroppedErased,   // a valid event of a customer erased after its time: dropped, counted
                      // only (core/erasure_memory.h); never dead-lettered
    kHeld,            // not processed yet: timers due before it are left to fire
                      // (timer_backlog()), or it waits for the repartition source
                      // (WaitsForRepartition()); its offset is not advanced, deliver it again
                      // once FireDueTimers has cleared the backlog and the wait is over
  };
  Kind kind = Kind::kApplied;
  // The CreateTime the record is judged by (InputCreateTime: a forwarded record's input
  // record's), whatever its kind: what the instance's hybrid clock observes.
  std::optional<TimeMs> create_time_ms;
  Verdict verdict;                                  // why, for kDeadLettered
  v1::EventType type = v1::EVENT_TYPE_UNSPECIFIED;  // for kApplied and kDuplicate
  v1::Channel channel = v1::CHANNEL_UNSPECIFIED;
  // An erasure request carried out: the customer erased (the driver also recalls their
  // records committed earlier but not yet handed to the producer, Relay::Recall).
  std::string erased_customer;
  // For kHeld: this record began its source's hold (held() was false before it), so it is the
  // first to deliver again; the records behind it are held too.
  bool began_hold = false;
};

// Owned by the thread that drives the partition.
class PartitionTask {
 public:
  // A record larger than this is decoded into the reused message and the message is released
  // afterwards: what a record's repeated fields allocate stays with a reused message (protobuf's
  // Clear keeps it), and one garbage record of half a million empty line items (dead-lettered)
  // would hold ~30 MB per partition for as long as the task lives. Typical events are a few
  // hundred bytes.
  static constexpr size_t kLargeRecordBytes = 64 << 10;
  // The same for a record that decoded into more line items than this (an empty item is 2 bytes
  // on the wire and ~48 in memory).
  static constexpr int kLargeRecordItems = 1024;

  // `rules` and `store` must outlive the task.
  PartitionTask(const TaskSettings& settings, const RuleSet& rules, PartitionStore& store);

  // The memory the reused decode target holds between records (protobuf's estimate).
  size_t decode_target_bytes() const { return event_.SpaceUsedLong(); }

  // Resumes from a stored checkpoint: input offset, clock, changelog owner and sequence.
  void Resume(const v1::state::PartitionCheckpoint& checkpoint);

  // Processes one record of this partition's input. Errors come from the store; the record is then
  // not applied and the task must not be committed (drop the batch).
  StatusOr<RecordOutcome> Process(const InputRecord& record, const TaskTime& time, TaskOutput& out);

  // In hybrid mode, once the input is caught up: moves the clock to `idle_limit_ms` (the wall
  // clock within HybridClock's limit) minus the allowed lateness, firing what comes due.
  // No-op in event-time mode or while behind. `time`'s wall clock is what staleness is
  // measured against from now on (as for a record), also when nothing comes due.
  Status Punctuate(const TaskTime& time, TimeMs idle_limit_ms, TaskOutput& out);
  // Only the first half of Punctuate: `time`'s wall clock is what staleness is measured against
  // from now on (for a commit that punctuates nothing: the timer backlog's chunks fired after it
  // are judged by the clock now).
  void ObserveWallClock(const TaskTime& time);

  // The idle limit (Punctuate's `idle_limit_ms`) at which Punctuate fires the earliest timer
  // stored: its due time plus the allowed lateness. nullopt when Punctuate would fire nothing
  // whatever the limit: event-time mode, a source not caught up, no timer. The driver punctuates
  // when the limit reaches it rather than at its next commit (README, "When timers fire").
  StatusOr<std::optional<TimeMs>> NextPunctuation();

  // Moves the clock to `watermark_ms` if that is later, firing what comes due (backtest
  // --until; the test driver). Timer-fired triggers go to `out`.
  Status AdvanceWatermark(TimeMs watermark_ms, TaskOutput& out);

  // Timers are fired in chunks of at most TaskSettings::max_timers_per_step (a customer's timers
  // due at one instant always together). While timers due are left, every record is kHeld, and
  // so is every later record of a source once one of its records was held (none is skipped):
  // the driver of the task commits, polls and calls FireDueTimers until the backlog is gone,
  // then rewinds each held source to its next offset (checkpoint()) and calls Rewound.
  bool timer_backlog() const { return pipeline_.timer_backlog(); }
  // Fires the next chunk of due timers into `out`; returns how many timers it popped.
  StatusOr<uint64_t> FireDueTimers(TaskOutput& out);
  // True if a record of source `topic` was held since it was last rewound.
  bool held(std::string_view topic) const;
  // True if a record of any source was held since it was last rewound.
  bool any_held() const { return held_.input || held_.repartition; }
  // Source `topic` is delivered again from its next offset: its records are processed again.
  void Rewound(std::string_view topic);
  // The driver holds source `topic` from its next offset, as the task holds one itself: every
  // record of it is kHeld until Rewound (the consume loop keeps a source's records so while the
  // outbox is over its bound, ConsumeLoop::ApplyKept).
  void Hold(std::string_view topic);
  // The next offset to apply from source `topic` (the input or the repartition topic).
  int64_t NextOffset(std::string_view topic) const;

  // Source `topic` (the input or the repartition topic) has no more records to read now; the
  // next record from it un-sets this.
  void MarkCaughtUp(std::string_view topic);
  // Source `topic` has records still to read (its consumer lag is positive).
  void MarkBehind(std::string_view topic);
  // True if source `topic` was marked caught up and no record of it came since.
  bool caught_up(std::string_view topic) const;

  // The repartition hold (README "The input waits for the repartition source"): while the
  // repartition source is not caught up, an input event later than the latest event read from
  // that source is held (kHeld, and every input record after it, as for a timer backlog), so
  // that a forwarded purchase still on its way is applied before the input's later events move
  // the event time past its cart. The wait ends when the repartition source is caught up, when
  // an event read from it reaches the held event's time, or after
  // TaskSettings::max_repartition_wait_ms (then input is applied without waiting until the
  // source is caught up again; counted in repartition_wait_timeouts()). Ask after each poll:
  // while true, keep the input paused and the repartition source flowing; once false, rewind the
  // input (Rewound). `steady_ms`: TaskTime's monotonic clock.
  bool WaitsForRepartition(TimeMs steady_ms);
  uint64_t repartition_wait_timeouts() const { return wait_.timeouts; }

  // True if the next commit must write this partition (a record was consumed, a timer fired).
  bool dirty() const { return dirty_; }
  // Completes the checkpoint for the commit being built: the clock and the next commit sequence
  // number of this owner. Call once per commit, only when dirty().
  const v1::state::PartitionCheckpoint& PrepareCommit();
  // The commit holding PrepareCommit()'s checkpoint is durable.
  void OnCommitted() { dirty_ = false; }

  const v1::state::PartitionCheckpoint& checkpoint() const { return checkpoint_; }
  // For the ownership fence (a new owner id, sequence 0) and a retention gap's new offset.
  v1::state::PartitionCheckpoint& mutable_checkpoint() { return checkpoint_; }

  TimeMs watermark_ms() const { return pipeline_.watermark_ms(); }
  TimeMs max_event_time_ms() const { return pipeline_.max_event_time_ms(); }
  // State entries trimmed to the limits since construction (metrics, backtest).
  const TrimCounts& trims() const { return pipeline_.trims(); }
  // Timer index entries popped, and of them re-armed (processor/core/rule_timer.h), since
  // construction (metrics, benchmarks).
  uint64_t timers_popped() const { return pipeline_.timers_popped(); }
  uint64_t timers_rearmed() const { return pipeline_.timers_rearmed(); }

 private:
  // An erasure of `customer_id`: withdraws the customer's triggers and audit records from `out`
  // (not yet committed, so never sent).
  static void Withdraw(const std::string& customer_id, TaskOutput& out);
  // Moves the pipeline's triggers (and the policy stage's audit records) to `out`.
  void AddTriggers(std::vector<v1::Trigger>& fired, const std::string* event_id, TaskOutput& out);
  // Records the next offset of source `topic` after an applied record.
  void SetNextOffset(std::string_view topic, int64_t next);
  // A forwarded record's origin: true if it was applied already.
  bool AppliedBefore(const RecordOrigin& origin) const;
  bool repartitioning() const { return settings_.ownership != nullptr; }
  // Every source this task reads has no more records now.
  bool sources_caught_up() const {
    return sources_.input && (!repartitioning() || sources_.repartition);
  }
  // The partition owning `customer_id`; `here` when the repartition stage is off.
  int32_t OwnerOf(const std::string& customer_id, int32_t here) const;
  // Whether an input event at `event_time_ms` must wait for the repartition source (starts or
  // times out the wait).
  bool MustWaitForRepartition(TimeMs event_time_ms, const TaskTime& time);

  // Constant after construction.
  const TaskSettings& settings_;
  const EventValidator validator_;

  PartitionPipeline pipeline_;
  v1::state::PartitionCheckpoint checkpoint_;
  struct {
    bool input = false;        // the input has no more records now
    bool repartition = false;  // nor has the repartition topic
  } sources_;
  struct {
    bool input = false;  // a record of the input was held (see held())
    bool repartition = false;
  } held_;
  struct {
    TimeMs event_time_ms = kNoTime;       // the latest event read from the repartition source
    TimeMs since_ms = kNoTime;            // steady clock: when the current wait began
    TimeMs held_event_time_ms = kNoTime;  // the event the current wait holds
    bool timed_out = false;               // input goes on without waiting until caught up again
    uint64_t timeouts = 0;
  } wait_;
  bool dirty_ = false;
  // Reused decode target; released after a record over kLargeRecordBytes (ReleaseLarge).
  v1::TouchpointEvent event_;
  std::vector<v1::Trigger> fired_scratch_;  // reused
};

}  // namespace touchstream
