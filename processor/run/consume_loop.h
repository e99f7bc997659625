// `touchstream run`: the consume loop. Polls the touchpoints topic in a consumer group (and the
// repartition topic's partitions of the same numbers, forwarded_record.h) and hands each record
// and the time to the TaskManager (one PartitionTask per assigned partition,
// one commit of state, timers, outbox and input offsets per batch: task_manager.h); the relay
// then produces the triggers and the changelog records. Which partitions it owns is
// GroupMembership's business (restore, fence, revoke, pauses: group_membership.h).
// Input resumes from the offsets stored with the state, not the group's committed offsets.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "processor/config/config.h"
#include "processor/core/clock.h"
#include "processor/health/health_state.h"
#include "processor/kafka/relay.h"
#include "processor/metrics/metrics.h"
#include "processor/run/commit_due.h"
#include "processor/run/consumer_events.h"
#include "processor/run/group_membership.h"
#include "processor/run/outbox_backpressure.h"
#include "processor/run/source_ends.h"
#include "processor/run/source_pauses.h"
#include "processor/run/standstill.h"
#include "processor/run/task_manager.h"
#include "state/disk_reserve.h"

namespace touchstream {

// The clocks the loop reads; both must outlive it.
struct LoopClocks {
  const Clock& wall;
  const SteadyClock& steady;
};

// Owned by the consume thread: Run() and everything it calls happen on one thread.
class ConsumeLoop {
 public:
  // All references must outlive the loop; so must `health` if given (it is fed the loop's
  // liveness and readiness).
  ConsumeLoop(const Config& config, const RuleSet& rules, StateDb& db, Relay& relay,
              Metrics& metrics, LoopClocks clocks, HealthState* health = nullptr);
  ~ConsumeLoop();

  // Creates the consumer, checks the topics, delivers what an earlier run left in the outbox
  // (but its changelog records, which are dropped) and joins the group. Errors name the bad
  // kafka.* property or topic.
  Status Start();

  // Consumes until `stop` is set, then commits, flushes the relay and closes the consumer.
  // Errors: a state commit failed or Kafka reported a fatal error (processing stopped).
  Status Run(const std::atomic<bool>& stop);

  // Progress counters, for the demo's progress line. Any thread.
  TaskManager::Progress progress() const { return tasks_.progress(); }

 private:
  // After each consumer poll: false if the process stood still longer than the session timeout
  // since the last poll (StandstillWatch; a commit or a restore that only took long does not
  // count), in which case the group may have moved on: the membership rejoins and the polled
  // message is dropped unprocessed (it is read again). `rebalanced` (if not null): a rebalance
  // callback ran in it.
  bool PolledInTime(bool* rebalanced);
  // A consumed message: a record, a partition's end, or an error.
  void HandleMessage(RdKafka::Message& message);
  void HandleRecord(RdKafka::Message& message);
  // Hands `record` to its task, or keeps it (held_records_) behind the records its source keeps;
  // keeps the record the task begins to hold its source on. `kept`: `record`'s own copy (it is
  // one being applied from held_records_), moved back in if kept again; else a copy is made.
  void Apply(const InputRecord& record, HeldRecords::Record* kept = nullptr);
  // Applies the records `source` kept while it was held, oldest first (SourcePauses::Released),
  // committing between two of them whenever the batch is due: processing.commit_max_events
  // bounds a batch of kept records too. Once the outbox is over its bound (OutboxFull) the rest
  // waits for later (KeepForLater), and it returns true: the other sources released in this pass
  // are handed over likewise. False if it stopped short (an error, a commit that did not happen,
  // a stop asked for): no more kept records are applied in this pass, and those not applied are
  // read again.
  bool ApplyKept(const HeldRecords::Source& source);
  // ApplyBackpressure, then whether the input is paused for the outbox's bound.
  bool OutboxFull();
  // Keeps `source`'s records [from, to), taken from held_records_ and not applied, back in it and
  // holds the source in its task (PartitionTask::Hold), until SourcePauses releases it again.
  void KeepForLater(const HeldRecords::Source& source,
                    std::deque<HeldRecords::Record>::iterator from,
                    std::deque<HeldRecords::Record>::iterator to);
  TaskTime Now() const;
  // TaskManager::MsUntilPunctuation, or nullopt under exactly_once and while the outbox is over
  // its bound (commit_due.h).
  std::optional<TimeMs> UntilTimer();
  // Commits the batch; kUnavailable when the disk is below its reserve (nothing written).
  Status Commit();
  // Commit, and what a commit that did not happen means for the loop: a disk below its reserve
  // pauses the instance (it leaves the group), a commit left undecided stops it (LeftUndecided),
  // any other error is fatal_. True if the batch was committed.
  bool CommitOrPause();
  // A commit left undecided (kDeadlineExceeded from the relay: cut short by the stop deadline,
  // Relay::StopBy, or exactly_once's commit call never completed): logged, and the instance will
  // not leave the group on its way out, whether it stops or fails (LeaveOrAbandonGroup).
  void LeftUndecided(const Status& status);
  // Closes the consumer: leaves the group, or after LeftUndecided abandons it (as a crash would).
  void LeaveOrAbandonGroup();
  // Pauses or resumes the assigned input partitions as the relay's backlog requires (those a
  // hold keeps paused stay paused: SourcePauses::SetOutboxFull).
  void ApplyBackpressure();
  // Once a second: partition clocks, consumer lag, RocksDB and disk gauges, readiness.
  void SampleGauges();

  // Constant after construction.
  const Config& config_;
  StateDb& db_;
  Relay& relay_;
  Metrics& metrics_;
  const LoopClocks clocks_;
  HealthState* const health_;  // may be null
  const DiskReserve disk_;
  const CommitDue commit_due_;  // group commit

  std::unique_ptr<PartitionOwnership> ownership_;  // set in Start: the repartition stage
  std::unique_ptr<SourceEnds> source_ends_;        // set in Start
  TaskManager tasks_;
  GroupMembership membership_;
  // Outlives the consumer, which calls it from its threads: leaked with an abandoned one.
  std::unique_ptr<ConsumerEvents> consumer_events_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::unique_ptr<SourceSwitch> source_switch_;  // consumer_'s pauses and seeks
  Status fatal_;
  const std::atomic<bool>* stop_ = nullptr;      // Run's, while it runs
  bool unfinished_commit_ = false;               // LeftUndecided was called
  OutboxBackpressure backpressure_;              // paused(): the input partitions are paused
  std::unique_ptr<SourcePauses> source_pauses_;  // set in Start
  HeldRecords held_records_;                     // what held sources delivered, copied
  std::optional<HeldRecords::Source> draining_;  // ApplyKept's source, while it applies
  bool timer_backlog_ = false;                   // a task has timers due left to fire
  // A source met a retention gap under on_retention_gap: skip_to_earliest (HandleMessage): the
  // pass ends by rejoining the group, whose assignment moves past it.
  bool rejoin_past_gap_ = false;
  // Whether the process stood still past the session timeout, asked at each poll.
  StandstillWatch standstill_{clocks_.steady};
  struct {
    std::chrono::milliseconds session_timeout{45'000};  // the consumer's session.timeout.ms
    SteadyClock::TimePoint batch_started;
    SteadyClock::TimePoint last_sample;
  } times_;
};

}  // namespace touchstream
