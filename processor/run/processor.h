// `touchstream run`: the consume loop around the per-partition tasks. Consumes
// the touchpoints topic in a consumer group and hands each record and the time
// to the TaskManager (processor/run/task_manager.h: one PartitionTask per
// assigned partition, one commit of state, timers, outbox and input offsets per
// batch); the relay then produces the triggers and the changelog records. Input
// resumes from the offsets stored with the state, not the group's committed
// offsets. An assigned partition is first brought up to its changelog
// (ChangelogRestorer) and fenced; a revoked one is committed and its records
// flushed; a lost one (the group moved on without us) is dropped uncommitted.
// Cooperative-sticky assignment by default. State-disk reserve
// (state/disk_space.h): when the state filesystem has less than
// state.min_free_bytes free, nothing more is written: the uncommitted batch and
// every partition are dropped (their next owner redoes them from the last
// commit), the instance leaves the group and /readyz fails; it rejoins once
// space is back. The relay keeps delivering what was committed.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>

#include "processor/config/config.h"
#include "processor/core/clock.h"
#include "processor/http/health_state.h"
#include "processor/kafka/changelog_restorer.h"
#include "processor/kafka/relay.h"
#include "processor/metrics/metrics.h"
#include "processor/run/task_manager.h"
#include "state/disk_space.h"
#include "state/partition_state.h"

namespace touchstream {

// Owned by the consume thread: Run() and everything it calls happen on one thread.
class Processor : public RdKafka::RebalanceCb {
 public:
  // All references must outlive the processor; so must `health` if given (it is fed the
  // loop's liveness and readiness).
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

  // Progress counters, for the demo's progress line. Any thread.
  using Progress = TaskManager::Progress;
  Progress progress() const { return tasks_.progress(); }

 private:
  // "touchpoints/3", for log lines.
  static std::string PartitionName(const std::string& topic, int32_t partition);

  void HandleRecord(RdKafka::Message& message);
  Status Commit();
  Status Assign(std::vector<RdKafka::TopicPartition*>& partitions);
  // Restores (if needed) and fences one partition; sets tp's start offset.
  Status TakeOver(RdKafka::TopicPartition& tp);
  // Stops processing `partitions`: commits and flushes first unless the
  // assignment was lost.
  void Revoke(const std::vector<RdKafka::TopicPartition*>& partitions, bool lost);
  // Drops the uncommitted batch (its effects are redone by whoever owns the
  // partitions next).
  void DiscardBatch();
  // The loop did not run for longer than the session timeout (SIGSTOP, a VM
  // pause): the group has given our partitions away. Drops them and the batch,
  // and rejoins the group.
  void RejoinAfterPause(std::chrono::steady_clock::duration paused);
  // Drops the batch and every partition, and unsubscribes.
  void LeaveGroup();
  void JoinGroup();
  // Unavailable (naming the free and reserved bytes) when the state filesystem
  // is below state.min_free_bytes; Ok otherwise, or when its free space cannot
  // be read.
  Status CheckDiskReserve() const;
  // The same for a reading already taken (size 0: unknown, Ok).
  Status CheckDiskReserve(const DiskSpace& space) const;
  // Leaves the group until the reserve is free again (checked once a second).
  void PauseForDisk(const std::string& reason);
  // A commit attempt's result: a paused disk is no fatal error.
  void OnCommitResult(const Status& s);
  // Checks that the changelog topic exists, partitioned like the input.
  Status CheckTopics();
  // Once a second: consumer lag, RocksDB and disk gauges, readiness.
  void SampleGauges();

  // Constant after construction.
  const Config& config_;
  StateDb& db_;
  Relay& relay_;
  Metrics& metrics_;
  const Clock& clock_;
  HealthState* const health_;  // may be null

  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::unique_ptr<ChangelogRestorer> restorer_;
  TaskManager tasks_;
  Status fatal_;  // set inside callbacks, checked by Run

  std::chrono::steady_clock::time_point batch_started_;
  std::chrono::steady_clock::time_point last_sample_;
  std::chrono::milliseconds session_timeout_{45'000};  // the consumer's session.timeout.ms
  // Time spent in rebalance callbacks (restores) since the last poll: heartbeats go on then.
  std::chrono::steady_clock::duration in_callbacks_{};
  // State-disk reserve: paused_for_disk_ while out of the group for lack of space. A rebalance
  // callback that finds the disk low sets pause_request_ (the loop acts on it: a callback
  // must not unsubscribe).
  bool paused_for_disk_ = false;
  std::string pause_request_;
};

}  // namespace touchstream
