#include "processor/run/group_membership.h"

#include <algorithm>

#include "processor/core/clock.h"
#include "processor/core/partition_name.h"
#include "processor/diagnostics/fault_points.h"
#include "processor/diagnostics/log.h"
#include "processor/kafka/retention_gap.h"
#include "processor/kafka/watermarks.h"
#include "processor/run/worker_pool.h"
#include "state/commit_batch.h"
#include "state/released_partitions.h"

namespace touchstream {

GroupMembership::GroupMembership(const Config& config, StateDb& db, TaskManager& tasks,
                                 Relay& relay, Metrics& metrics, const DiskReserve& disk,
                                 HealthState* health)
    : config_(config),
      db_(db),
      tasks_(tasks),
      relay_(relay),
      metrics_(metrics),
      disk_(disk),
      health_(health) {}

Status GroupMembership::Init(const KafkaProperties& consumer_props) {
  const int threads = std::max(config_.restore_threads, 1);
  for (int i = 0; i < threads; ++i) {
    auto restorer = ChangelogRestorer::Create(consumer_props, config_.changelog.name,
                                              config_.touchpoints.name);
    if (!restorer.ok()) return restorer.status();
    restorers_.push_back(std::move(*restorer));
  }
  return ReleaseUnassigned();
}

Status GroupMembership::ReleaseUnassigned() {
  StatusOr<std::vector<int32_t>> stored = db_.StoredPartitions();
  if (!stored.ok()) return stored.status();
  StatusOr<std::map<int32_t, int64_t>> released = db_.ReleasedPartitions();
  if (!released.ok()) return released.status();
  std::vector<int32_t> unmarked;
  for (int32_t partition : *stored) {
    if (released->count(partition) == 0) unmarked.push_back(partition);
  }
  if (unmarked.empty()) return Status::Ok();
  if (Status s = db_.MarkReleased(unmarked, SystemClock().NowMs()); !s.ok()) return s;
  LogInfo("the local copies of " + std::to_string(unmarked.size()) +
          " partitions are not served until the group assigns them here (the others are "
          "deleted state.cleanup_delay after the first assignment)");
  return Status::Ok();
}

void GroupMembership::Attach(RdKafka::KafkaConsumer* consumer, CommitFn commit) {
  consumer_ = consumer;
  commit_ = std::move(commit);
}

Status GroupMembership::Join() {
  if (RdKafka::ErrorCode err = consumer_->subscribe({config_.touchpoints.name});
      err != RdKafka::ERR_NO_ERROR) {
    return Status::KafkaError("cannot subscribe to " + config_.touchpoints.name + ": " +
                              RdKafka::err2str(err));
  }
  return Status::Ok();
}

Status GroupMembership::TakeError() { return std::exchange(pending_.error, Status::Ok()); }

std::string GroupMembership::TakePauseRequest() {
  return std::exchange(pending_.pause_request, std::string());
}

std::string GroupMembership::TakeRejoinRequest() {
  return std::exchange(pending_.rejoin_request, std::string());
}

bool GroupMembership::TakeRebalanced() { return std::exchange(pending_.rebalanced, false); }

GroupMembership::Restored GroupMembership::RestoreOne(const std::string& topic,
                                                      int32_t partition,
                                                      ChangelogRestorer& restorer,
                                                      uint64_t memory_bytes) {
  const std::string name = PartitionName(topic, partition);
  Restored restored;
  // A restore writes to the store (TakeOver checks again before the fence).
  if (Status s = disk_.Check(); !s.ok()) {
    restored.result = s;
    return restored;
  }
  MarkAlive();  // each partition begun is a step forward too
  const auto started = std::chrono::steady_clock::now();
  auto logged = started;
  restored.result = restorer.Restore(
      partition, db_, memory_bytes, config_.restore_ingest_customers,
      [&](uint64_t records, int64_t end) {
        const auto now = std::chrono::steady_clock::now();
        MarkAlive();
        if (now - logged >= kRestoreLogInterval) {
          logged = now;
          LogInfo("restoring " + name + " from " + config_.changelog.name + ": " +
                  std::to_string(records) + " records read (end offset " + std::to_string(end) +
                  ")");
        }
        // A large restore can fill the disk on its own: the reserve holds while it writes, as
        // while processing (Unavailable: the instance pauses, TakeOver).
        return disk_.Check();
      });
  MarkAlive();
  restored.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return restored;
}

void GroupMembership::MarkAlive() const {
  if (health_) health_->RecordProgress(SteadyNowMs());
}

std::vector<GroupMembership::Restored> GroupMembership::RestoreAll(
    const std::vector<RdKafka::TopicPartition*>& partitions) {
  std::vector<Restored> restored(partitions.size());
  metrics_.restoring_partitions().Increment(static_cast<double>(partitions.size()));
  // state.restore_memory_bytes is the instance's: the restores running at once share it.
  const size_t at_once = std::min(restorers_.size(), std::max<size_t>(partitions.size(), 1));
  const uint64_t memory_bytes = config_.restore_memory_bytes / at_once;
  RunOnWorkers(partitions.size(), restorers_.size(), [&](size_t i, size_t worker) {
    restored[i] = RestoreOne(partitions[i]->topic(), partitions[i]->partition(),
                             *restorers_[worker], memory_bytes);
    metrics_.restoring_partitions().Decrement();
  });
  return restored;
}

Status GroupMembership::TakeOver(RdKafka::TopicPartition& tp, Restored& restore) {
  MarkAlive();
  const int32_t partition = tp.partition();
  const std::string name = PartitionName(tp.topic(), partition);
  StatusOr<ChangelogRestorer::Result>& restored = restore.result;
  if (!restored.ok()) return restored.status();
  if (!restored->dropped_corrupt.empty()) {
    metrics_.state_rebuilds(StateRebuildReason::kCorruptCheckpoint).Increment();
    LogError(restored->dropped_corrupt + ": deleted the local data of " + name +
             "; restoring it from " + config_.changelog.name + " as on a new instance");
  }
  const double seconds = restore.seconds;
  metrics_.restore_records().Increment(static_cast<double>(restored->records));
  metrics_.restore_duration().Observe(seconds);
  if (restored->replayed) {
    LogInfo("restored " + name + " from " + config_.changelog.name + ": " +
            std::to_string(restored->customers) + " customers, " +
            std::to_string(restored->records) + " records read in " + std::to_string(seconds) +
            " s" + (restored->ingested ? ", written as ingested files" : ""));
  } else if (restored->unproven) {
    metrics_.state_rebuilds(StateRebuildReason::kChangelogWithoutCommit).Increment();
    LogError(PartitionName(config_.changelog.name, partition) + " holds " +
             std::to_string(restored->records) +
             " records but no commit this instance can prove (no fence of their writer: the "
             "topic recreated or its records deleted under a running owner, or a topic that is "
             "not compacted, cleanup.policy=delete, whose retention deleted the fence; or an "
             "owner that was writing its whole local state there stopped before its commit): " +
             name +
             (restored->checkpoint ? " goes on from the local state, which is written to the "
                                     "changelog whole"
                                   : " starts with no state: what only those records held is "
                                     "lost") +
             ". Check the changelog topic's cleanup.policy (compact)");
  } else {
    // The local state is the latest commit, or the changelog holds none.
    LogInfo("checked " + name + " against " + config_.changelog.name + ": nothing to replay, " +
            std::to_string(restored->records) + " records read (" +
            (restored->tail_only ? "the tail since the last restore" : "the whole changelog") +
            ")");
  }

  v1::state::PartitionCheckpoint checkpoint;
  if (restored->checkpoint.has_value()) {
    checkpoint = *restored->checkpoint;
  } else {
    checkpoint.set_max_event_time_ms(kNoTime);
    checkpoint.set_watermark_ms(kNoTime);
  }
  // Each source's stored offset against its log (processor/kafka/retention_gap.h).
  const auto check = [&](const std::string& topic, int64_t next) -> StatusOr<int64_t> {
    if (next <= 0) return next;
    const std::string source = PartitionName(topic, partition);
    auto watermarks = QueryWatermarks(*consumer_, topic, partition, 5'000);
    if (!watermarks.ok()) {  // the consumer's auto.offset.reset=error still reports it
      LogWarn("cannot check " + source +
              " for a retention gap now: " + watermarks.status().message());
      return next;
    }
    const Resume resume = ResumeOffset(source, next, *watermarks);
    if (resume.problem.empty()) return next;
    if (resume.gap) metrics_.retention_gaps().Increment();
    if (!config_.skip_retention_gap) return GapError(resume.problem);
    LogError(resume.problem + "; continuing from " + std::to_string(resume.offset) +
             " (processing.on_retention_gap)");
    return resume.offset;
  };
  auto next = check(tp.topic(), checkpoint.next_offset());
  if (!next.ok()) return next.status();
  checkpoint.set_next_offset(*next);  // stored with the fence below
  auto& sources = *checkpoint.mutable_source_next_offsets();
  if (auto it = sources.find(config_.repartition.name); it != sources.end()) {
    auto forwarded = check(config_.repartition.name, it->second);
    if (!forwarded.ok()) return forwarded.status();
    it->second = *forwarded;
  }
  const int64_t start = checkpoint.next_offset();
  tp.set_offset(start > 0 ? start : RdKafka::Topic::OFFSET_BEGINNING);
  // The fence writes to the store; the restores since the last check may have filled it.
  if (Status s = disk_.Check(); !s.ok()) return s;
  if (Status s = tasks_.Assign(partition, checkpoint, restored->fence_epoch, restored->tail_start,
                               [this] { MarkAlive(); });
      !s.ok()) {
    return s;
  }
  LogInfo("assigned " + name + " from offset " +
          (start > 0 ? std::to_string(start) : std::string("beginning")) +
          (restored->replayed ? " (restored)" : ""));
  return Status::Ok();
}

Status GroupMembership::Assign(std::vector<RdKafka::TopicPartition*>& partitions) {
  const auto started = std::chrono::steady_clock::now();
  std::vector<Restored> restored = RestoreAll(partitions);
  if (!partitions.empty()) {
    metrics_.assignment_restore_duration().Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  Status result = Status::Ok();
  size_t taken = 0;
  for (; taken < partitions.size(); ++taken) {
    RdKafka::TopicPartition* tp = partitions[taken];
    Status s = TakeOver(*tp, restored[taken]);
    if (s.code() == Status::Code::kUnavailable) {
      pending_.pause_request = s.message();  // the rest stay without a task: ignored
      break;
    }
    if (!s.ok()) {
      result = s;
      break;
    }
    metrics_.consumer_lag(tp->partition()).Set(0);
  }
  // What was restored but not taken over is no owned copy: not served, deleted in time.
  std::vector<int32_t> not_taken;
  for (size_t i = taken; i < partitions.size(); ++i) {
    not_taken.push_back(partitions[i]->partition());
  }
  Release(not_taken);
  PublishAssigned();
  assigned_since_start_ = true;
  return result;
}

void GroupMembership::PublishAssigned() {
  metrics_.assigned_partitions().Set(static_cast<double>(tasks_.size()));
  if (health_) health_->SetAssignedPartitions(static_cast<int>(tasks_.size()));
}

void GroupMembership::DropAll(bool disk_low) {
  const std::vector<int32_t> dropped = tasks_.partitions();
  for (int32_t partition : dropped) metrics_.RemovePartition(partition);
  tasks_.Clear(/*store_pending_hints=*/!disk_low);
  AbandonChangelog(dropped);
  Release(dropped);
  PublishAssigned();
}

void GroupMembership::Release(const std::vector<int32_t>& partitions) {
  if (stopping_ || partitions.empty()) return;
  const int64_t now_ms = SystemClock().NowMs();
  if (Status s = db_.MarkReleased(partitions, now_ms); !s.ok()) {
    LogWarn("cannot mark the local copies of lost partitions as released (" + s.message() +
            "): state-dump and /customers may show them until they are assigned here again");
  }
}

void GroupMembership::DeleteReleasedCopies() {
  if (!assigned_since_start_) return;
  const int64_t now_ms = SystemClock().NowMs();
  StatusOr<std::vector<int32_t>> deleted = touchstream::DeleteReleasedCopies(
      db_, config_.touchpoints.name, now_ms, config_.state_cleanup_delay_ms,
      [this](int32_t partition) { return tasks_.Find(partition) != nullptr; });
  if (!deleted.ok()) {
    LogWarn("cannot delete the local copies of released partitions: " + deleted.status().message());
    return;
  }
  for (int32_t partition : *deleted) {
    LogInfo("deleted the local copy of " + PartitionName(config_.touchpoints.name, partition) +
            ", released over state.cleanup_delay ago");
  }
}

void GroupMembership::AbandonChangelog(const std::vector<int32_t>& partitions) {
  if (partitions.empty()) return;
  if (Status s = relay_.Abandon(config_.changelog.name, partitions); !s.ok()) {
    pending_.error = s;
  }
}

void GroupMembership::Revoke(const std::vector<RdKafka::TopicPartition*>& partitions, bool lost) {
  Status committed;
  if (!lost) {
    committed = commit_();
    if (committed.code() == Status::Code::kUnavailable) {
      pending_.pause_request = committed.message();
    } else if (committed.code() == Status::Code::kMembershipLost) {
      // exactly_once: the group moved on without this member, the commit's transaction was
      // aborted; the revocation ends the generation as a rejoin would (RejoinAfterLoss). An
      // eager one revokes every partition; a cooperative one keeps some assigned, which
      // DropAll leaves without a task: the loop rejoins.
      lost = true;
      if (consumer_ != nullptr && consumer_->rebalance_protocol() == "COOPERATIVE") {
        pending_.rejoin_request = committed.message();
      }
    } else if (!committed.ok()) {
      pending_.error = committed;
    }
  }
  if (lost || committed.code() == Status::Code::kUnavailable) {
    // Another instance may own them already, or the disk cannot take the commit: commit
    // nothing, emit nothing more. The uncommitted batch spans every partition, so all of them
    // are dropped (their local writes since the last commit in the changelog are rewound by the
    // restore of whichever instance is assigned them).
    LogWarn((committed.ok() ? std::string("assignment lost (session timed out?)")
                            : committed.message()) +
            ": dropping " + std::to_string(tasks_.size()) +
            " partitions and the uncommitted batch");
    DropAll(/*disk_low=*/committed.code() == Status::Code::kUnavailable);
    return;
  }
  CrashPoint("revoke");
  // Deliver the changelog before the next owner restores from it.
  const Status flushed = relay_.Flush(5'000);
  std::vector<int32_t> revoked;
  for (const RdKafka::TopicPartition* tp : partitions) {
    revoked.push_back(tp->partition());
    metrics_.RemovePartition(tp->partition());
    tasks_.Remove(tp->partition());
    LogInfo("revoked " + PartitionName(tp->topic(), tp->partition()));
  }
  Release(revoked);
  if (!flushed.ok()) {
    // The next owner may restore before they arrive: they would be late writes.
    LogWarn("revoking: " + flushed.message() + "; the changelog records of the revoked " +
            "partitions are dropped (the next owner redoes their commits from the input)");
    AbandonChangelog(revoked);
  }
  PublishAssigned();
}

void GroupMembership::rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                                   std::vector<RdKafka::TopicPartition*>& partitions) {
  metrics_.rebalances().Increment();
  pending_.rebalanced = true;
  const bool cooperative = consumer->rebalance_protocol() == "COOPERATIVE";
  // The group assigns the input; each input partition brings its repartition partition along.
  std::vector<RdKafka::TopicPartition*> input;
  for (RdKafka::TopicPartition* tp : partitions) {
    if (tp->topic() == config_.touchpoints.name) input.push_back(tp);
  }
  if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
    if (Status s = Assign(input); !s.ok()) {
      pending_.error = s;
      return;
    }
    std::vector<RdKafka::TopicPartition*> sources = WithRepartition(input, true);
    if (cooperative) {
      delete consumer->incremental_assign(sources);
    } else {
      consumer->assign(sources);
    }
    // librdkafka keeps an application pause through unassign and assign: a partition paused for
    // a timer backlog or a repartition wait when it was revoked would come back paused, with no
    // task holding it to resume it. The outbox backpressure pauses it again if it must.
    consumer->resume(sources);
    DestroyRepartition(sources, input.size());
  } else {
    Revoke(input, consumer->assignment_lost());
    if (cooperative) {
      std::vector<RdKafka::TopicPartition*> sources = WithRepartition(input, false);
      delete consumer->incremental_unassign(sources);
      DestroyRepartition(sources, input.size());
    } else {
      consumer->unassign();
    }
  }
}

std::vector<RdKafka::TopicPartition*> GroupMembership::WithRepartition(
    const std::vector<RdKafka::TopicPartition*>& input, bool assigning) const {
  std::vector<RdKafka::TopicPartition*> sources = input;
  for (const RdKafka::TopicPartition* tp : input) {
    int64_t start = RdKafka::Topic::OFFSET_BEGINNING;
    if (assigning) {
      const PartitionTask* task = tasks_.Find(tp->partition());
      if (task == nullptr) continue;  // not taken over (the disk): its records are ignored
      const auto& offsets = task->checkpoint().source_next_offsets();
      if (auto it = offsets.find(config_.repartition.name); it != offsets.end() && it->second > 0) {
        start = it->second;
      }
    }
    sources.push_back(
        RdKafka::TopicPartition::create(config_.repartition.name, tp->partition(), start));
  }
  return sources;
}

void GroupMembership::DestroyRepartition(std::vector<RdKafka::TopicPartition*>& sources,
                                         size_t input_count) {
  for (size_t i = input_count; i < sources.size(); ++i) delete sources[i];
  sources.resize(input_count);
}

void GroupMembership::RejoinAfterPause(std::chrono::steady_clock::duration paused) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(paused).count();
  LogWarn("the process stood still for " + std::to_string(ms) +
          " ms, longer than session.timeout.ms: the group has moved our partitions; dropping " +
          std::to_string(tasks_.size()) + " partitions and the uncommitted batch, rejoining");
  LeaveAndJoin();
}

void GroupMembership::LeaveAndJoin() {
  Leave();
  if (paused_for_disk_) return;
  if (Status s = Join(); !s.ok()) pending_.error = s;
}

void GroupMembership::RejoinAfterLoss(const std::string& reason) {
  LogWarn(reason + ": dropping " + std::to_string(tasks_.size()) +
          " partitions and the uncommitted batch (their local writes since the last commit are "
          "rewound by the restore that assigns them again), rejoining " +
          config_.group_id);
  LeaveAndJoin();
}

void GroupMembership::Rejoin(const std::string& reason) {
  if (paused_for_disk_) return;
  LogWarn(reason + ": rejoining " + config_.group_id);
  consumer_->unsubscribe();  // the revocation comes through rebalance_cb at the next poll
  if (Status s = Join(); !s.ok()) pending_.error = s;
}

void GroupMembership::Leave() {
  DropAll(/*disk_low=*/paused_for_disk_);
  consumer_->unsubscribe();
}

void GroupMembership::PauseForDisk(const std::string& reason) {
  if (paused_for_disk_) return;
  paused_for_disk_ = true;
  LogError("pausing: " + reason + ". Leaving the consumer group with " +
           std::to_string(tasks_.size()) +
           " partitions; their uncommitted records are processed again from the last commit. "
           "Resuming when space returns");
  metrics_.state_disk_pauses().Increment();
  metrics_.state_writes_paused().Set(1);
  if (health_) health_->SetDiskFull(true);
  Leave();
}

void GroupMembership::OnDiskSample(bool low) {
  if (health_) health_->SetDiskFull(low);
  if (!paused_for_disk_ || low) return;
  paused_for_disk_ = false;
  metrics_.state_writes_paused().Set(0);
  LogInfo("the state filesystem has state.min_free_bytes free again: resuming, rejoining " +
          config_.group_id);
  if (Status s = Join(); !s.ok()) pending_.error = s;
}

Status GroupMembership::RebuildCorrupt(const Status& corruption) {
  const std::vector<int32_t> corrupt = tasks_.TakeCorruptPartitions();
  if (corrupt.empty()) return corruption;
  std::string names;
  for (int32_t partition : corrupt) {
    names += (names.empty() ? "" : ", ") + PartitionName(config_.touchpoints.name, partition);
  }
  LogError(corruption.message() + ": dropping the uncommitted batch and the local data of " +
           names + ", rejoining " + config_.group_id + " to restore them from " +
           config_.changelog.name);
  // Only what was committed goes out; delivered now, the next owner's restore finds it.
  tasks_.DiscardBatch();
  if (Status s = relay_.Flush(5'000); !s.ok()) LogWarn("before rebuilding: " + s.message());
  Leave();
  for (int32_t partition : corrupt) {
    CommitBatch wipe(db_);
    wipe.WipePartition(config_.touchpoints.name, partition);
    if (Status s = wipe.Commit(); !s.ok()) return s;
    metrics_.state_rebuilds(StateRebuildReason::kCorruptState).Increment();
  }
  return paused_for_disk_ ? Status::Ok() : Join();
}

}  // namespace touchstream
