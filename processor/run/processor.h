// `touchstream run`: the consume loop around the pure core. Consumes the touchpoints topic
// in a consumer group, validates (bad records to the dead-letter outbox), drives one
// PartitionPipeline per assigned partition, and commits state, timer index, outbox and input
// offsets in one RocksDB WriteBatch per batch; the outbox relay then produces the triggers and
// the changelog records (state changes + a commit marker per partition, state/changelog.h).
// Input resumes from the offsets stored with the state, not the group's committed offsets.
// An assigned partition is first brought up to its changelog (ChangelogRestorer) and fenced;
// a revoked one is committed and its records flushed; a lost one (the group moved on without
// us) is dropped uncommitted. Cooperative-sticky assignment by default.
// State-disk reserve (state/disk_space.h): when the state filesystem has less than
// state.min_free_bytes free, nothing more is written: the uncommitted batch and every
// partition are dropped (their next owner redoes them from the last commit), the instance
// leaves the group and /readyz fails; it rejoins once space is back. The relay keeps
// delivering what was committed.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>

#include "processor/config/config.h"
#include "processor/core/clock.h"
#include "processor/core/pipeline.h"
#include "processor/http/health_state.h"
#include "processor/kafka/changelog_restorer.h"
#include "processor/kafka/relay.h"
#include "processor/metrics/metrics.h"
#include "state/disk_space.h"
#include "state/partition_state.h"

namespace touchstream {

// Owned by the consume thread: Run() and everything it calls happen on one thread.
class Processor : public RdKafka::RebalanceCb {
 public:
  // All references must outlive the processor; so must `health` if given (it is fed the
  // loop's liveness and readiness). `rules`: BuildRuleSet(config.rules).
  Processor(const Config& config, const RuleSet& rules, StateDb& db, Relay& relay, Metrics& metrics,
            const Clock& clock, HealthState* health = nullptr);
  ~Processor() override;

  // Creates the consumer and subscribes. Errors name the bad kafka.* property.
  Status Start();

  // Consumes until `stop` is set, then commits, flushes the relay and closes the consumer.
  // Errors: a state commit failed or Kafka reported a fatal error (processing stopped).
  Status Run(const std::atomic<bool>& stop);

  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override;

  // Progress counters, for the demo's progress line.
  struct Progress {
    uint64_t consumed = 0;
    uint64_t invalid = 0;
    uint64_t triggers = 0;
  };
  Progress progress() const {
    return {consumed_.load(), invalid_.load(), triggers_.load()};
  }

 private:
  struct PartitionTask {
    PartitionTask(const Config& config, const RuleSet& rules, StateDb& db, int32_t partition)
        : store(db, partition), pipeline(rules, store, config.allowed_lateness_ms, config.dedup) {}
    PartitionState store;
    PartitionPipeline pipeline;
    // Includes this assignment's changelog owner id and the last commit_seq.
    v1::state::PartitionCheckpoint checkpoint;
    bool caught_up = false;  // reached the end of the partition, nothing newer yet
    bool dirty = false;      // changed since the last commit
  };

  // "touchpoints/3", for log lines.
  static std::string PartitionName(const std::string& topic, int32_t partition);

  void HandleRecord(RdKafka::Message& message);
  Status Commit();
  Status Assign(std::vector<RdKafka::TopicPartition*>& partitions);
  // Restores (if needed) and fences one partition; sets tp's start offset.
  StatusOr<std::unique_ptr<PartitionTask>> TakeOver(RdKafka::TopicPartition& tp);
  // Stops processing `partitions`: commits and flushes first unless the assignment was lost.
  void Revoke(const std::vector<RdKafka::TopicPartition*>& partitions, bool lost);
  // Drops the uncommitted batch (its effects are redone by whoever owns the partitions next).
  void DiscardBatch();
  // The loop did not run for longer than the session timeout (SIGSTOP, a VM pause): the group
  // has given our partitions away. Drops them and the batch, and rejoins the group.
  void RejoinAfterPause(std::chrono::steady_clock::duration paused);
  // Drops the batch and every partition, and unsubscribes.
  void LeaveGroup();
  void JoinGroup();
  // Unavailable (naming the free and reserved bytes) when the state filesystem is below
  // state.min_free_bytes; Ok otherwise, or when its free space cannot be read.
  Status CheckDiskReserve() const;
  // The same for a reading already taken (size 0: unknown, Ok).
  Status CheckDiskReserve(const DiskSpace& space) const;
  // Leaves the group until the reserve is free again (checked once a second).
  void PauseForDisk(const std::string& reason);
  // A commit attempt's result: a paused disk is no fatal error.
  void OnCommitResult(const Status& s);
  // Checks that the changelog topic exists, partitioned like the input.
  Status CheckTopics();
  // `event_id`: the event being applied (its triggers are event-caused unless they name
  // another cause), or nullptr when only time advanced (all are timer-fired).
  void AddTriggers(const std::string* event_id);
  // Once a second: consumer lag, RocksDB and disk gauges, readiness.
  void SampleGauges();
  // After a successful commit: latencies of the records and triggers it made durable.
  void ObserveCommitted();

  // Constant after construction.
  const Config& config_;
  const RuleSet& rules_;
  StateDb& db_;
  Relay& relay_;
  Metrics& metrics_;
  const Clock& clock_;
  const EventValidator validator_;
  HealthState* const health_;  // may be null

  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::unique_ptr<ChangelogRestorer> restorer_;
  std::map<int32_t, std::unique_ptr<PartitionTask>> partitions_;
  Status fatal_;  // set inside callbacks, checked by Run

  // The batch being built; committed by Commit().
  std::vector<v1::state::OutboxRecord> pending_outbox_;
  std::vector<v1::Trigger> triggers_scratch_;
  v1::TouchpointEvent event_;  // reused decode target
  int64_t batch_records_ = 0;
  std::chrono::steady_clock::time_point batch_started_;
  // For the latency histograms, cleared by each commit.
  std::vector<std::chrono::steady_clock::time_point> batch_poll_times_;
  struct PendingTrigger {
    bool event_caused;
    TimeMs fire_time_ms;
  };
  std::vector<PendingTrigger> batch_triggers_;
  std::chrono::steady_clock::time_point last_sample_;
  std::chrono::milliseconds session_timeout_{45'000};  // the consumer's session.timeout.ms
  // Time spent in rebalance callbacks (restores) since the last poll: heartbeats go on then.
  std::chrono::steady_clock::duration in_callbacks_{};
  // State-disk reserve: paused_for_disk_ while out of the group for lack of space. A rebalance
  // callback that finds the disk low sets pause_request_ (the loop acts on it: a callback
  // must not unsubscribe).
  bool paused_for_disk_ = false;
  std::string pause_request_;

  std::atomic<uint64_t> consumed_{0};
  std::atomic<uint64_t> invalid_{0};
  std::atomic<uint64_t> triggers_{0};
};

}  // namespace touchstream
