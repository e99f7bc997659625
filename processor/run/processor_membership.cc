// Processor: consumer-group membership. Assignment (restore from the changelog, fence),
// revocation (commit and flush, or drop when lost), leaving and rejoining the group, and the
// state-disk pause. See processor.h for the contracts.
#include <cstdio>
#include <random>

#include "processor/kafka/watermarks.h"
#include "processor/run/crash_point.h"
#include "processor/run/log.h"
#include "processor/run/processor.h"
#include "state/changelog.h"
#include "state/disk_space.h"

namespace touchstream {

namespace {

// A fresh changelog owner id: 128 random bits, hex.
std::string NewOwnerId() {
  static std::mt19937_64 rng{std::random_device{}() ^
                             static_cast<uint64_t>(
                                 std::chrono::steady_clock::now().time_since_epoch().count())};
  char buf[33];
  std::snprintf(buf, sizeof(buf), "%016llx%016llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng()));
  return buf;
}


}  // namespace

StatusOr<std::unique_ptr<Processor::PartitionTask>> Processor::TakeOver(
    RdKafka::TopicPartition& tp) {
  const int32_t partition = tp.partition();
  const std::string name = PartitionName(tp.topic(), partition);
  // A restore and the fence write to the store.
  if (Status s = CheckDiskReserve(); !s.ok()) return s;
  const auto started = std::chrono::steady_clock::now();
  metrics_.restoring_partitions().Increment();
  auto restored = restorer_->Restore(partition, db_, [&](uint64_t records, int64_t end) {
    LogInfo("restoring " + name + " from " + config_.changelog.name + ": " +
            std::to_string(records) + " records read (end offset " + std::to_string(end) +
            ", two passes)");
  });
  metrics_.restoring_partitions().Decrement();
  if (!restored.ok()) return restored.status();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  metrics_.restore_records().Increment(static_cast<double>(restored->records));
  metrics_.restore_duration().Observe(seconds);
  if (restored->replayed) {
    LogInfo("restored " + name + " from " + config_.changelog.name + ": " +
            std::to_string(restored->customers) + " customers, " +
            std::to_string(restored->records) + " records read in " + std::to_string(seconds) +
            " s");
  }

  auto task = std::make_unique<PartitionTask>(config_, rules_, db_, partition);
  if (restored->checkpoint.has_value()) {
    task->checkpoint = *restored->checkpoint;
  } else {
    task->checkpoint.set_max_event_time_ms(kNoTime);
    task->checkpoint.set_watermark_ms(kNoTime);
  }
  task->pipeline.RestoreClock(task->checkpoint.max_event_time_ms(),
                              task->checkpoint.watermark_ms());
  const int64_t next = task->checkpoint.next_offset();
  int64_t low = 0;
  if (next > 0) {
    auto watermarks = QueryWatermarks(*consumer_, tp.topic(), partition, 5'000);
    if (watermarks.ok()) {
      low = watermarks->low;
    } else {  // the consumer's auto.offset.reset=error still reports a gap when it fetches
      LogWarn("cannot check " + name + " for a retention gap now: " +
              watermarks.status().message());
    }
  }
  if (next > 0 && next < low) {
    metrics_.retention_gaps().Increment();
    const std::string gap = "retention gap on " + name + ": the next offset to process is " +
                            std::to_string(next) + " but the earliest in Kafka is " +
                            std::to_string(low) + " (" + std::to_string(low - next) +
                            " events deleted unprocessed)";
    if (!config_.skip_retention_gap) {
      return Status::KafkaError(
          gap + "; set processing.on_retention_gap: skip_to_earliest to continue");
    }
    LogError(gap + "; continuing from " + std::to_string(low) +
             " (processing.on_retention_gap)");
    task->checkpoint.set_next_offset(low);  // stored with the fence below
  }
  const int64_t start = task->checkpoint.next_offset();
  tp.set_offset(start > 0 ? start : RdKafka::Topic::OFFSET_BEGINNING);

  // The fence: from here on this assignment owns the partition's changelog.
  task->checkpoint.set_owner(NewOwnerId());
  task->checkpoint.set_commit_seq(0);
  v1::state::ChangelogMarker fence;
  *fence.mutable_checkpoint() = task->checkpoint;
  fence.set_base_offset(restored->end_offset);
  v1::state::OutboxRecord record =
      changelog::MarkerRecord(config_.changelog.name, partition, fence, true);
  rocksdb::WriteBatch batch;
  db_.PutCheckpoint(batch, tp.topic(), partition, task->checkpoint);
  const uint64_t seq = db_.PutOutbox(batch, record);
  if (Status s = db_.Commit(batch); !s.ok()) return s;
  std::vector<OutboxEntry> entries;
  entries.push_back({seq, std::move(record)});
  if (Status s = relay_.Publish(std::move(entries), {}, nullptr); !s.ok()) return s;

  LogInfo("assigned " + name + " from offset " +
          (start > 0 ? std::to_string(start) : std::string("beginning")) +
          (restored->replayed ? " (restored)" : ""));
  return task;
}

Status Processor::Assign(std::vector<RdKafka::TopicPartition*>& partitions) {
  for (RdKafka::TopicPartition* tp : partitions) {
    auto task = TakeOver(*tp);
    if (task.status().code() == Status::Code::kUnavailable) {
      pause_request_ = task.status().message();  // the rest stay without a task: ignored
      break;
    }
    if (!task.ok()) return task.status();
    partitions_[tp->partition()] = std::move(*task);
    metrics_.consumer_lag(tp->partition()).Set(0);
  }
  metrics_.assigned_partitions().Set(static_cast<double>(partitions_.size()));
  if (health_) health_->SetAssignedPartitions(static_cast<int>(partitions_.size()));
  return Status::Ok();
}

void Processor::DiscardBatch() {
  pending_outbox_.clear();
  triggers_scratch_.clear();
  batch_records_ = 0;
  batch_poll_times_.clear();
  batch_triggers_.clear();
}

void Processor::RejoinAfterPause(std::chrono::steady_clock::duration paused) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(paused).count();
  LogWarn("the consume loop was paused for " + std::to_string(ms) +
          " ms, longer than session.timeout.ms (" + std::to_string(session_timeout_.count()) +
          " ms): the group has moved our partitions; dropping " +
          std::to_string(partitions_.size()) + " partitions and the uncommitted batch, rejoining");
  LeaveGroup();
  if (!paused_for_disk_) JoinGroup();
}

void Processor::LeaveGroup() {
  DiscardBatch();
  for (const auto& [partition, task] : partitions_) metrics_.RemovePartition(partition);
  partitions_.clear();
  metrics_.assigned_partitions().Set(0);
  if (health_) health_->SetAssignedPartitions(0);
  consumer_->unsubscribe();
}

void Processor::JoinGroup() {
  if (RdKafka::ErrorCode err = consumer_->subscribe({config_.touchpoints.name});
      err != RdKafka::ERR_NO_ERROR) {
    fatal_ = Status::KafkaError("cannot subscribe to " + config_.touchpoints.name + ": " +
                                RdKafka::err2str(err));
  }
}

Status Processor::CheckDiskReserve() const {
  auto space = ReadDiskSpace(db_.dir());
  return space.ok() ? CheckDiskReserve(*space) : Status::Ok();
}

Status Processor::CheckDiskReserve(const DiskSpace& space) const {
  if (config_.min_free_disk_bytes == 0 || space.size_bytes == 0 ||
      space.available_bytes >= config_.min_free_disk_bytes) {
    return Status::Ok();
  }
  return Status::Unavailable("the state filesystem of " + db_.dir() + " has " +
                             HumanBytes(space.available_bytes) + " free, below " +
                             "state.min_free_bytes (" +
                             HumanBytes(config_.min_free_disk_bytes) + ")");
}

void Processor::OnCommitResult(const Status& s) {
  if (s.code() == Status::Code::kUnavailable) {
    PauseForDisk(s.message());
  } else if (!s.ok()) {
    fatal_ = s;
  }
}

void Processor::PauseForDisk(const std::string& reason) {
  pause_request_.clear();
  if (paused_for_disk_) return;
  paused_for_disk_ = true;
  LogError("pausing: " + reason + ". Leaving the consumer group with " +
           std::to_string(partitions_.size()) +
           " partitions; their uncommitted records are processed again from the last commit. "
           "Resuming when space returns");
  metrics_.state_disk_pauses().Increment();
  metrics_.state_writes_paused().Set(1);
  if (health_) health_->SetDiskFull(true);
  LeaveGroup();
}

void Processor::Revoke(const std::vector<RdKafka::TopicPartition*>& partitions, bool lost) {
  Status committed;
  if (!lost) {
    committed = Commit();
    if (committed.code() == Status::Code::kUnavailable) pause_request_ = committed.message();
    else if (!committed.ok()) fatal_ = committed;
  }
  if (lost || committed.code() == Status::Code::kUnavailable) {
    // Another instance may own them already, or the disk cannot take the commit: commit
    // nothing, emit nothing more. The uncommitted batch spans every partition, so all of them
    // are dropped.
    LogWarn((lost ? std::string("assignment lost (session timed out?)") : committed.message()) +
            ": dropping " + std::to_string(partitions_.size()) +
            " partitions and the uncommitted batch");
    DiscardBatch();
    for (const auto& [partition, task] : partitions_) metrics_.RemovePartition(partition);
    partitions_.clear();
  } else {
    CrashPoint("revoke");
    // Deliver the changelog before the next owner restores from it.
    if (Status s = relay_.Flush(5'000); !s.ok()) LogWarn("revoking: " + s.message());
    for (const RdKafka::TopicPartition* tp : partitions) {
      metrics_.RemovePartition(tp->partition());
      partitions_.erase(tp->partition());
      LogInfo("revoked " + PartitionName(tp->topic(), tp->partition()));
    }
  }
  metrics_.assigned_partitions().Set(static_cast<double>(partitions_.size()));
  if (health_) health_->SetAssignedPartitions(static_cast<int>(partitions_.size()));
}

void Processor::rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                             std::vector<RdKafka::TopicPartition*>& partitions) {
  metrics_.rebalances().Increment();
  const auto started = std::chrono::steady_clock::now();
  struct AddElapsed {
    std::chrono::steady_clock::duration& total;
    std::chrono::steady_clock::time_point since;
    ~AddElapsed() { total += std::chrono::steady_clock::now() - since; }
  } add_elapsed{in_callbacks_, started};
  const bool cooperative = consumer->rebalance_protocol() == "COOPERATIVE";
  if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
    if (Status s = Assign(partitions); !s.ok()) {
      fatal_ = s;
      return;
    }
    if (cooperative) {
      delete consumer->incremental_assign(partitions);
    } else {
      consumer->assign(partitions);
    }
  } else {
    Revoke(partitions, consumer->assignment_lost());
    if (cooperative) {
      delete consumer->incremental_unassign(partitions);
    } else {
      consumer->unassign();
    }
  }
}

}  // namespace touchstream
