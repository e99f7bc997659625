// Consumer-group membership of one instance (the partitions it owns come and go here). The group
// assigns input partitions; touchpoints/N brings the repartition topic's partition N along (no
// assignor co-partitions two topics by itself), assigned and revoked with it:
//   assigned: restore the partitions from their changelog (ChangelogRestorer), up to
//             state.restore_threads at a time, check each stored offset against Kafka's
//             retention, and hand each to the TaskManager, which fences the changelog with a
//             new owner id;
//   revoked:  commit the batch and flush the relay first, so the next owner restores all of it
//             (what the flush could not deliver in 5 s of the changelog is dropped);
//   lost:     the group moved on without us: drop the partitions and the batch uncommitted,
//             and the partitions' changelog records the relay has not delivered yet;
//   paused:   the loop did not poll for longer than session.timeout.ms (SIGSTOP, a VM
//             pause): the group has given our partitions away; drop them as when lost, rejoin;
//   disk:     the state filesystem is below its reserve (DiskReserve): leave the group, fail
//             /readyz, rejoin once space returns;
//   corrupt:  a stored state of an owned partition does not parse (RebuildCorrupt): drop the
//             batch and the partition's local data, rejoin; its next owner restores it.
// Cooperative-sticky assignment by default (see consume_loop.cc).
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "processor/config/config.h"
#include "processor/health/health_state.h"
#include "processor/kafka/changelog_restorer.h"
#include "processor/metrics/metrics.h"
#include "processor/run/task_manager.h"
#include "state/disk_reserve.h"

namespace touchstream {

// Owned by the consume thread: rebalance callbacks run inside the consumer's poll on it.
class GroupMembership : public RdKafka::RebalanceCb {
 public:
  // Commits the uncommitted batch (before a revocation). kUnavailable: the disk reserve.
  using CommitFn = std::function<Status()>;

  // All references must outlive the membership; so must `health` if given.
  GroupMembership(const Config& config, StateDb& db, TaskManager& tasks, Relay& relay,
                  Metrics& metrics, const DiskReserve& disk, HealthState* health);

  // Creates the changelog readers (one per restore thread) from the consumer's properties
  // (errors name the property), and releases every local copy (ReleaseUnassigned).
  Status Init(const KafkaProperties& consumer_props);
  // The group's consumer, and how to commit before a revocation; before the first poll.
  void Attach(RdKafka::KafkaConsumer* consumer, CommitFn commit);

  // Subscribes to the input topic (joins the group).
  Status Join();

  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override;

  // The process stood still for `paused` (run/standstill.h), longer than the session timeout:
  // drops every partition and the batch, and rejoins (unless paused for the disk).
  void RejoinAfterPause(std::chrono::steady_clock::duration paused);
  // `corruption` (Status::Corruption) came from the store while processing: drops the
  // uncommitted batch (it spans every partition), delivers what was committed, leaves the group,
  // deletes the local data of the partitions the TaskManager found corrupt and rejoins, so that
  // they are restored from the changelog like a new instance's (README, "Corrupt local state").
  // Errors (processing must stop): `corruption` itself when no partition was found corrupt, a
  // failed delete, or the rejoin.
  Status RebuildCorrupt(const Status& corruption);
  // Leaves the group and joins it again, for `reason` (logged): the revocation commits and
  // delivers the batch (rebalance_cb), and the next assignment checks each source's stored offset
  // against its log anew (a retention gap met while consuming, processor/kafka/retention_gap.h).
  // Not while paused for the disk, which rejoins by itself.
  void Rejoin(const std::string& reason);
  // The group moved on without this member (a commit refused for an old generation,
  // Status::kMembershipLost): drops every partition and the batch, as a lost assignment does,
  // and joins again. The partitions' local writes since their last commit in the changelog are
  // rewound by the restore of whichever instance is assigned them.
  void RejoinAfterLoss(const std::string& reason);
  // Leaves the group until the disk reserve is free again.
  void PauseForDisk(const std::string& reason);
  // About once a second: whether the disk is below its reserve; rejoins when space is back.
  void OnDiskSample(bool low);
  // About once a second: deletes the local copies of partitions released over
  // state.cleanup_delay ago (state/released_partitions.h).
  void DeleteReleasedCopies();
  // The instance is stopping: partitions revoked from now on stay this instance's local state
  // (served by state-dump, restored from the tail when it starts again), not released copies.
  void set_stopping() { stopping_ = true; }

  // What the callbacks left for the loop, each cleared by taking it: a fatal error, a request
  // to pause for the disk (a callback must not unsubscribe), and whether a rebalance callback
  // ran since the last take.
  Status TakeError();
  std::string TakePauseRequest();
  // Why a rejoin is due (RejoinAfterLoss), or empty: a cooperative revocation whose commit the
  // group refused dropped every partition, the ones it keeps assigned too.
  std::string TakeRejoinRequest();
  bool TakeRebalanced();

 private:
  // One partition's restore, as a restore thread left it.
  struct Restored {
    StatusOr<ChangelogRestorer::Result> result = Status::Internal("not restored");
    double seconds = 0;
  };
  Status Assign(std::vector<RdKafka::TopicPartition*>& partitions);
  // Brings every partition of `partitions` up to its changelog, state.restore_threads at a
  // time (each thread with its own reader); the results in the same order. A failure does not
  // stop the others: Assign takes over in order up to the first failure and releases the rest.
  std::vector<Restored> RestoreAll(const std::vector<RdKafka::TopicPartition*>& partitions);
  // Restores one partition with `restorer`, keeping up to `memory_bytes` of its changelog (on a
  // restore thread: touches only the store, thread-safe metrics and the log).
  Restored RestoreOne(const std::string& topic, int32_t partition, ChangelogRestorer& restorer,
                      uint64_t memory_bytes);
  // Fences one restored partition and hands it to the TaskManager; sets tp's start offset.
  Status TakeOver(RdKafka::TopicPartition& tp, Restored& restored);
  // A restore or a republish inside the rebalance callback moved forward: /healthz stays live
  // however long the partitions' state takes, as long as it moves (any thread).
  void MarkAlive() const;
  // How often a restore logs its progress.
  static constexpr std::chrono::seconds kRestoreLogInterval{5};
  void Revoke(const std::vector<RdKafka::TopicPartition*>& partitions, bool lost);
  // Drops the batch and every partition, and unsubscribes.
  void Leave();
  // Leave, then join again unless paused for the disk (which joins when space returns).
  void LeaveAndJoin();
  // Drops every partition and the uncommitted batch (their next owner redoes them), and the
  // partitions' changelog records not yet delivered (AbandonChangelog). `disk_low`: the state
  // filesystem is below its reserve, so the pending restore hints are not stored either
  // (TaskManager::Clear).
  void DropAll(bool disk_low);
  // The relay gives up on the undelivered changelog records of `partitions`, which this
  // instance no longer owns: they could only arrive late, after the next owner's fence
  // (README, "the zombie window").
  void AbandonChangelog(const std::vector<int32_t>& partitions);
  // `partitions` are no longer ours: their local copies are released (not served, deleted after
  // state.cleanup_delay). Not while stopping.
  void Release(const std::vector<int32_t>& partitions);
  // At start-up, nothing here is owned yet: the copies a stop or a crash left unmarked (another
  // instance may own them now, and carry out erasures this copy never sees) are released until
  // the group assigns them here (the take-over clears the mark).
  Status ReleaseUnassigned();
  void PublishAssigned();
  // `input` and, after them, the repartition partitions of the same numbers (created here; free
  // with DestroyRepartition): assigning, only those with a task, at the task's stored offset.
  std::vector<RdKafka::TopicPartition*> WithRepartition(
      const std::vector<RdKafka::TopicPartition*>& input, bool assigning) const;
  static void DestroyRepartition(std::vector<RdKafka::TopicPartition*>& sources,
                                 size_t input_count);

  // Constant after construction.
  const Config& config_;
  StateDb& db_;
  TaskManager& tasks_;
  Relay& relay_;
  Metrics& metrics_;
  const DiskReserve& disk_;
  HealthState* const health_;  // may be null

  RdKafka::KafkaConsumer* consumer_ = nullptr;  // see Attach
  CommitFn commit_;
  std::vector<std::unique_ptr<ChangelogRestorer>> restorers_;  // one per restore thread
  // Left for the loop by callbacks (see TakeError and the two after it).
  struct Pending {
    Status error;
    std::string pause_request;
    std::string rejoin_request;
    bool rebalanced = false;
  } pending_;
  bool paused_for_disk_ = false;
  bool stopping_ = false;
  // Set by the first assignment since start-up: until then no released copy is deleted (a long
  // start, or Kafka down, must not cost the copies the group is about to hand back).
  bool assigned_since_start_ = false;
};

}  // namespace touchstream
