// The tasks of the input partitions this instance owns, the batch they build together, and its
// commit (Kafka Streams' TaskManager). One commit is one CommitBatch: every dirty partition's
// customer states and timers, its checkpoint, and the batch's outbox records: triggers, audit
// records, dead letters and forwarded records (stored with the state only if the relay resends
// a stored outbox after a restart, at_least_once), then changelog records (a state record per
// changed customer, then a commit marker per partition, state/changelog.h; never stored); the
// relay then produces them.
//
// Kafka-free: the consume loop feeds it records and time, the in-process test driver does the same
// with an in-memory relay, and both see the same commits.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "processor/config/config.h"
#include "processor/core/hybrid_clock.h"
#include "processor/core/partition_task.h"
#include "processor/kafka/relay.h"
#include "processor/metrics/metrics.h"
#include "processor/run/commit_latency.h"
#include "state/changelog.h"
#include "state/commit_batch.h"
#include "state/own_tail.h"
#include "state/partition_state.h"
#include "state/state_db.h"

namespace touchstream {

// Owned by the consume thread.
class TaskManager {
 public:
  // All references must outlive the manager.
  TaskManager(const Config& config, const RuleSet& rules, StateDb& db, Relay& relay,
              Metrics& metrics);

  // Registers for the relay's acknowledgements (ChangelogAcknowledged); the destructor
  // unregisters.
  ~TaskManager();
  TaskManager(const TaskManager&) = delete;
  TaskManager& operator=(const TaskManager&) = delete;

  // Takes `partition` over: a task resumed from `checkpoint` (the restored one, or a fresh one),
  // under a new changelog owner id, announced by a fence (state/changelog.h: epoch `fence_epoch`,
  // from the restore; prev owner and seq: `checkpoint`'s) committed and handed to the relay at
  // once. With `tail_start` (where the restore's read ended), the partition's restore hint
  // follows the changelog records Kafka acknowledges (ChangelogAcknowledged).
  // `progress`, if given, is called at each step forward of a long takeover (Republish: each
  // chunk handed over, each acknowledgement awaited), on the calling thread.
  Status Assign(int32_t partition, const v1::state::PartitionCheckpoint& checkpoint,
                int64_t fence_epoch, std::optional<changelog::TailStart> tail_start = std::nullopt,
                const std::function<void()>& progress = nullptr);
  // A changelog record Kafka acknowledged at `offset` (Relay::AcknowledgedFn, at_least_once): at
  // each commit marker of an assigned partition that its records since the restore prove the
  // latest valid commit, the partition's restore hint moves on to name it (state/own_tail.h), so
  // that a restart reads the changelog from there, not from the last restore. The hint is
  // stored with the next commit that writes, or when the partition is removed or its task dropped
  // (Clear); one that cannot be stored is only a lost shortcut (logged).
  void ChangelogAcknowledged(const v1::state::OutboxRecord& record, int64_t offset);
  // Stops processing `partition` (its changes must have been committed, or be dropped); stores
  // its restore hint if one is pending.
  void Remove(int32_t partition);
  // Drops every task and the uncommitted batch; the only way past a failed step (below). Unless
  // `store_pending_hints` is false (the state filesystem below its reserve, where nothing more is
  // written), the pending restore hints are stored first: each describes the changelog through a
  // commit the store holds (a restart checks the local checkpoint against it), whatever the batch
  // after it.
  void Clear(bool store_pending_hints = true);
  // Drops the uncommitted batch; its records are processed again by whoever owns the partitions
  // next (the store's cached changes go with the tasks: call Clear or Remove).
  void DiscardBatch();

  // A failed step (Process, AdvanceEventTime, FireTimerBacklogs or Commit returning an error) may
  // leave the batch half applied: timers popped and states changed, their triggers dropped. Such
  // a batch is never committed: from the first failed step on, Commit does nothing and returns
  // that step's error again (its code handled as the step's was) until Clear drops the tasks with
  // their cached changes. Whoever commits (the loop, a rebalance's revocation while the consumer
  // closes) is refused alike.
  bool failed() const { return !failed_step_.ok(); }

  // Processes one record. True if it began a hold of its source (RecordOutcome::began_hold: the
  // first record the source delivers again once the hold ends). A record of a partition without
  // a task (not, or no longer, ours) is ignored. Errors: the store failed (drop the batch);
  // Corruption: a stored state of the partition does not parse (drop the batch, rebuild it:
  // TakeCorruptPartitions).
  StatusOr<bool> Process(const InputRecord& record, const TaskTime& time);
  // Turns the repartition stage on (before the first Assign): `ownership` says which partition
  // owns a customer; it must outlive the manager. Off by default (every record applied where it
  // arrives).
  void SetOwnership(const PartitionOwnership* ownership) {
    settings_.ownership = ownership;
    settings_.input_partitions = ownership->partitions();
  }
  // The input's partition count where one partition owns every customer (no ownership, no
  // stage): recorded all the same, so that a state built on one partition is not taken over
  // after the topic gained more (before the first Assign).
  void SetInputPartitions(int32_t count) { settings_.input_partitions = count; }

  // Source `topic` of `partition` (the input or the repartition topic) reached its end: in hybrid
  // mode the clock may follow the wall one once both have.
  void MarkCaughtUp(std::string_view topic, int32_t partition);
  // Source `topic` of `partition` has records still to read (PartitionTask::MarkBehind).
  void MarkBehind(std::string_view topic, int32_t partition);
  // PartitionTask::WaitsForRepartition of `partition` (false if not assigned); a wait that timed
  // out is counted and logged.
  bool WaitsForRepartition(int32_t partition, TimeMs steady_ms);

  // Moves every task's event-time clock to `watermark_ms` if that is later (the test driver;
  // backtest --until does the same on its one task). Triggers join the batch.
  Status AdvanceEventTime(TimeMs watermark_ms);

  // Timer backlogs (PartitionTask::timer_backlog): fires the next chunk of every task that has
  // one; the timers popped count as batch records (so commit_max_events bounds a commit), their
  // triggers join the batch. Errors as Process.
  Status FireTimerBacklogs();
  // True if a task has a timer backlog or a held record: cheap (no allocation), for every poll.
  bool AnyBacklogOrHeld() const;
  // Partitions whose task has a timer backlog, in partition order.
  std::vector<int32_t> BackloggedPartitions() const;
  // Source `topic` of `partition` is delivered again from the task's next offset
  // (PartitionTask::Rewound).
  void Rewound(int32_t partition, std::string_view topic);
  // Source `topic` of `partition` is held from the task's next offset (PartitionTask::Hold).
  void Hold(int32_t partition, std::string_view topic);

  // Punctuates every task (hybrid clock), then commits the batch and hands its records to the
  // relay. `punctuate` false: the idle partitions' clocks, and the timers they would make due,
  // wait for a later commit (while the outbox is over its bound, the consume loop's commits fire
  // no timers: the relay would hold every one of them in memory until Kafka takes them).
  // Errors: the state write or the relay failed (processing must stop); the batch holds a
  // failed step (failed(): that step's error, nothing done).
  Status Commit(const TaskTime& time, bool punctuate = true);
  // Milliseconds from `time` until a commit's punctuation fires the earliest timer stored
  // (PartitionTask::NextPunctuation, as of the last Commit; <= 0: due now); nullopt: none known.
  // The consume loop commits then rather than at its interval, so that timers on the wall clock
  // fire within a poll of their due time. A timer the last Commit's punctuation left (a chunk's
  // bound, a clock behind) is not reported: the backlog and the interval take care of it.
  std::optional<TimeMs> MsUntilPunctuation(const TaskTime& time);

  // The partitions whose store reported Status::Corruption since the last call (Process,
  // Commit, AdvanceEventTime), in partition order; cleared by taking them.
  std::vector<int32_t> TakeCorruptPartitions();

  // Records processed since the last commit.
  int64_t batch_records() const { return batch_records_; }
  // The source offsets the last successful Commit advanced (the input and the repartition topic
  // of each partition it wrote).
  const std::vector<SourceOffset>& last_committed_offsets() const { return last_offsets_; }

  bool empty() const { return tasks_.empty(); }
  // Tests: the stores of the tasks assigned after the call check each settled state at every
  // commit (PartitionState::set_verify_settled). The test driver sets it before the first Assign.
  void set_verify_settled_states(bool on) { verify_settled_ = on; }
  // The write-back caches' estimated bytes, all assigned partitions.
  uint64_t cached_bytes() const;
  size_t size() const { return tasks_.size(); }
  const PartitionTask* Find(int32_t partition) const;
  std::vector<int32_t> partitions() const;

  // Totals since start, for the demo's progress line and tests. Any thread.
  struct Progress {
    uint64_t consumed = 0;
    uint64_t invalid = 0;
    uint64_t triggers = 0;
  };
  Progress progress() const {
    return {progress_.consumed.load(), progress_.invalid.load(), progress_.triggers.load()};
  }

 private:
  struct Assigned {
    Assigned(const TaskSettings& settings, const RuleSet& rules, StateDb& db, int32_t partition,
             uint64_t cache_bytes)
        : store(db, partition, cache_bytes), task(settings, rules, store) {}
    PartitionState store;
    PartitionTask task;
    changelog::Writer writer;              // this assignment's changelog owner id and epoch
    std::optional<changelog::OwnTail> own_tail;  // its changelog since the restore, if followed
    std::optional<v1::state::RestoreHint> pending_hint;  // own_tail's latest, not yet stored
    TrimCounts published_trims;            // task.trims() as last added to the metrics
    uint64_t published_wait_timeouts = 0;  // task.repartition_wait_timeouts(), likewise
    uint64_t published_popped = 0;         // task.timers_popped(), likewise
    uint64_t published_rearmed = 0;        // task.timers_rearmed(), likewise
    uint64_t published_store_reads = 0;    // store.store_reads(), likewise
  };
  // Assign's second step for a state the changelog lacks (PartitionCheckpoint.
  // changelog_incomplete): writes every entry of the partition (customers and erasure memories)
  // to the changelog as `assigned`'s first commit, then its marker, 1,000 records at a time,
  // waiting for acknowledgements whenever the relay holds more than half of
  // processing.max_outbox_records (at least 1,000); once Kafka acknowledged them all, stores the
  // checkpoint without the flag. Runs in the rebalance callback, as the restore does.
  // Errors: Kafka acknowledged none of the relay's records for 30 s (KafkaError), a relay or
  // store error; the flag stays stored, and the next assignment writes them again (Assign gives
  // up what was handed over, Relay::Abandon).
  Status Republish(int32_t partition, Assigned& assigned, const std::function<void()>& progress);
  // Adds what `assigned` trimmed, the timers it popped and its store reads, since the last call
  // to the metrics.
  void PublishTaskCounts(Assigned& assigned);
  // Returns `s`; an error marks the batch failed (failed()).
  Status Step(Status s);
  // Adds the pending restore hints to `batch` (only `partition`'s when given); once it is
  // written, ForgetPendingHints (a batch that fails keeps them pending, for the next commit or
  // Clear).
  void AddPendingHints(CommitBatch& batch, std::optional<int32_t> partition = std::nullopt);
  void ForgetPendingHints(std::optional<int32_t> partition = std::nullopt);
  // Stores the pending restore hints of every task (only `partition`'s when given) in a batch of
  // their own, and forgets them once written; one that cannot be written is logged.
  void StorePendingHints(std::optional<int32_t> partition = std::nullopt);
  // Commit's work, for a batch no step failed in.
  Status CommitBatchOfTasks(const TaskTime& time, bool punctuate);
  // Sets next_punctuation_ms_ from every task, after a commit whose punctuation moved the clocks
  // to `idle_limit_ms` (unset if a timer index cannot be read: the next punctuation reports it).
  void FindNextPunctuation(TimeMs idle_limit_ms);
  // A step of `partition`'s task failed with `s`: Step(s), noting the partition as corrupt if `s`
  // is a Corruption.
  Status TaskFailed(int32_t partition, Status s);

  // Constant after construction.
  const Config& config_;
  const PolicyStage policy_stage_;  // the tasks' policy stage (config_.policy)
  TaskSettings settings_;           // constant once a task exists
  const RuleSet& rules_;
  StateDb& db_;
  Relay& relay_;
  Metrics& metrics_;

  std::map<int32_t, std::unique_ptr<Assigned>> tasks_;
  HybridClock hybrid_clock_;  // shared by all partitions: the producers' clock is one
  // The batch being built.
  TaskOutput output_;
  // Each commit's RocksDB batch, reused: its buffer keeps the capacity of the largest commit
  // ever made (by design), so that assembling a commit neither regrows it (copying what it
  // holds) nor faults in fresh pages.
  CommitBatch commit_batch_{db_};
  std::vector<v1::state::OutboxRecord> markers_;  // a commit's changelog markers, reused
  // A commit's triggers' counters (emitted and sent, two per trigger), incremented once it is
  // handed to the relay; reused.
  std::vector<prometheus::Counter*> trigger_counters_;
  int64_t batch_records_ = 0;
  CommitLatency latency_;  // of the batch being built
  std::vector<SourceOffset> last_offsets_;
  // The idle limit at which the earliest caught-up task's punctuation fires a timer (see
  // MsUntilPunctuation); found after each commit.
  std::optional<TimeMs> next_punctuation_ms_;
  std::set<int32_t> corrupt_;  // see TakeCorruptPartitions
  Status failed_step_;         // the batch's first failed step's error, until Clear
  bool verify_settled_ = false;  // set_verify_settled_states
  struct {
    std::atomic<uint64_t> consumed{0};
    std::atomic<uint64_t> invalid{0};
    std::atomic<uint64_t> triggers{0};
  } progress_;  // read by any thread
};

}  // namespace touchstream
