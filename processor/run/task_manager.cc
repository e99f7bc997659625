#include "processor/run/task_manager.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <utility>

#include "processor/core/erasure_memory.h"
#include "processor/core/partition_name.h"
#include "processor/diagnostics/fault_points.h"
#include "processor/diagnostics/log.h"
#include "state/changelog.h"
#include "state/commit_batch.h"

namespace touchstream {

namespace {

// A fresh changelog owner id: 128 random bits, hex.
std::string NewOwnerId() {
  static std::mt19937_64 rng{
      std::random_device{}() ^
      static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())};
  char buf[33];
  std::snprintf(buf, sizeof(buf), "%016llx%016llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng()));
  return buf;
}

// Whether `partition` is among those `only` selects (every one when it is empty).
bool Selected(int32_t partition, std::optional<int32_t> only) {
  return !only || partition == *only;
}

}  // namespace

TaskManager::TaskManager(const Config& config, const RuleSet& rules, StateDb& db, Relay& relay,
                         Metrics& metrics)
    : config_(config),
      policy_stage_(config.policy, TimeZoneCatalog::System()),
      settings_(MakeTaskSettings(config)),
      rules_(rules),
      db_(db),
      relay_(relay),
      metrics_(metrics) {
  settings_.policy = &policy_stage_;
  settings_.staleness_by_wall_clock = true;
  relay_.set_on_acknowledged([this](const v1::state::OutboxRecord& record, int64_t offset) {
    ChangelogAcknowledged(record, offset);
  });
}

TaskManager::~TaskManager() { relay_.set_on_acknowledged(nullptr); }

Status TaskManager::Assign(int32_t partition, const v1::state::PartitionCheckpoint& checkpoint,
                           int64_t fence_epoch, std::optional<changelog::TailStart> tail_start,
                           const std::function<void()>& progress) {
  if (settings_.input_partitions != 0 && checkpoint.input_partitions() != 0 &&
      checkpoint.input_partitions() != settings_.input_partitions) {
    return Status::InvalidArgument(
        "topics.touchpoints: " + config_.touchpoints.name + " has " +
        std::to_string(settings_.input_partitions) + " partitions, but the state of " +
        PartitionName(config_.touchpoints.name, partition) + " was built with " +
        std::to_string(checkpoint.input_partitions()) +
        ": a customer's partition is murmur2(customer id) modulo the count, so changing it moves "
        "customers away from their state (README, \"Which partition owns a customer\")");
  }
  // state.cache_bytes shared evenly by the input's partitions, however many are assigned here.
  const int32_t partitions = settings_.ownership ? settings_.ownership->partitions() : 1;
  auto assigned = std::make_unique<Assigned>(
      settings_, rules_, db_, partition, config_.cache_bytes / static_cast<uint64_t>(partitions));
  assigned->store.set_verify_settled(verify_settled_);
  assigned->task.Resume(checkpoint);
  // The fence: from here on this assignment owns the partition's changelog; its state is the
  // commit `checkpoint` names.
  v1::state::ChangelogMarker fence;
  fence.set_epoch(fence_epoch);
  fence.set_prev_owner(checkpoint.owner());
  fence.set_prev_seq(checkpoint.commit_seq());
  v1::state::PartitionCheckpoint& owned = assigned->task.mutable_checkpoint();
  owned.set_owner(NewOwnerId());
  owned.set_commit_seq(0);
  // With changelog_incomplete (Republish follows): until this owner's first commit marker, a
  // restore of the log finds no valid commit here (changelog::Replay::Latest), rather than the
  // fence's state, which the log does not hold.
  *fence.mutable_checkpoint() = owned;
  assigned->writer = {owned.owner(), fence_epoch};
  // exactly_once's acknowledgements are transactions': its hint stays where the restore left it.
  if (tail_start && !relay_.commits_offsets()) assigned->own_tail.emplace(std::move(*tail_start));
  v1::state::OutboxRecord record = changelog::FenceRecord(config_.changelog.name, partition, fence);
  CommitBatch batch(db_);
  batch.PutCheckpoint(config_.touchpoints.name, partition, owned);
  batch.ClearReleased(partition);              // its local copy is served again
  const uint64_t seq = batch.DrawOutboxSeq();  // a changelog record: relayed, not stored
  if (Status s = batch.Commit(); !s.ok()) return s;
  std::vector<OutboxEntry> entries;
  entries.push_back({seq, std::move(record)});
  // Assigned before the fence is handed over: a relay may acknowledge it at once.
  tasks_[partition] = std::move(assigned);
  if (Status s = relay_.Publish(std::move(entries), {}); !s.ok()) {
    tasks_.erase(partition);
    return s;
  }
  if (owned.changelog_incomplete()) {
    if (Status s = Republish(partition, *tasks_[partition], progress); !s.ok()) {
      // Not sent late, as an owner that gave the partition up: the next owner fences again.
      if (Status a = relay_.Abandon(config_.changelog.name, {partition}); !a.ok()) {
        LogWarn("outbox: " + a.message());
      }
      tasks_.erase(partition);
      return s;
    }
  }
  return Status::Ok();
}

Status TaskManager::Republish(int32_t partition, Assigned& assigned,
                              const std::function<void()>& progress) {
  constexpr size_t kEntriesPerPublish = 1'000;
  constexpr auto kNoProgressLimit = std::chrono::seconds(30);
  v1::state::PartitionCheckpoint& owned = assigned.task.mutable_checkpoint();
  const int64_t seq = owned.commit_seq() + 1;
  const std::string& topic = config_.changelog.name;
  const size_t bound =
      std::max<size_t>(static_cast<size_t>(config_.max_outbox_records) / 2, kEntriesPerPublish);
  CommitBatch seqs(db_);  // draws the records' places in the outbox's order; writes nothing
  std::vector<OutboxEntry> entries;
  uint64_t written = 0;
  // Waits while the relay holds more than `most` unacknowledged records, as long as Kafka
  // acknowledges some within kNoProgressLimit.
  const auto wait_for_relay = [&](size_t most) -> Status {
    auto last_progress = std::chrono::steady_clock::now();
    size_t in_flight = relay_.in_flight();
    while (in_flight > most) {
      if (Status s = relay_.Poll(100); !s.ok()) return s;
      const auto now = std::chrono::steady_clock::now();
      if (relay_.in_flight() < in_flight) {
        last_progress = now;
        if (progress) progress();
      } else if (now - last_progress > kNoProgressLimit) {
        return Status::KafkaError("Kafka acknowledged none of its records for " +
                                  std::to_string(kNoProgressLimit.count()) + " s");
      }
      in_flight = relay_.in_flight();
    }
    return Status::Ok();
  };
  // Hands `entries` over, then waits while the relay holds more than `bound`.
  const auto publish = [&]() -> Status {
    if (!entries.empty()) {
      if (Status s = relay_.Publish(std::exchange(entries, {}), {}); !s.ok()) return s;
      if (progress) progress();
    }
    return wait_for_relay(bound);
  };
  // An entry that does not parse has no copy anywhere to rebuild it from: it is dropped, not
  // allowed to stop every start (README, "Corrupt local state").
  std::vector<std::string> corrupt;
  Status s = db_.ForEachEntryOf(
      partition,
      [&](const std::string& key, const v1::state::CustomerState& state) {
        const std::string value = state.SerializeAsString();
        entries.push_back(
            {seqs.DrawOutboxSeq(), changelog::SerializedStateRecord(
                                       topic, partition, assigned.writer, seq, key, &value)});
        ++written;
        return entries.size() < kEntriesPerPublish ? Status::Ok() : publish();
      },
      [&](const std::string& key) { corrupt.push_back(key); });
  // Tombstones too: a restore of this commit's predecessors (the fence names one) must not
  // bring back what is deleted here.
  for (const std::string& key : corrupt) {
    if (!s.ok()) break;
    entries.push_back(
        {seqs.DrawOutboxSeq(),
         changelog::SerializedStateRecord(topic, partition, assigned.writer, seq, key, nullptr)});
    if (entries.size() >= kEntriesPerPublish) s = publish();
  }
  owned.set_commit_seq(seq);
  owned.clear_changelog_incomplete();
  v1::state::ChangelogMarker marker;
  *marker.mutable_checkpoint() = owned;
  if (s.ok()) {
    entries.push_back(
        {seqs.DrawOutboxSeq(), changelog::CommitRecord(topic, partition, assigned.writer, marker)});
    s = publish();
  }
  // Not before Kafka has them all: a restore of a changelog without them would otherwise find
  // the stored checkpoint ahead of the log's latest commit and replace the state with the log's.
  if (s.ok()) s = wait_for_relay(0);
  if (s.ok()) {
    CommitBatch batch(db_);
    for (const std::string& key : corrupt) batch.PutCustomerValue(partition, key, nullptr);
    batch.PutCheckpoint(config_.touchpoints.name, partition, owned);
    s = batch.Commit();
  }
  const std::string name = PartitionName(config_.touchpoints.name, partition);
  if (s.ok() && !corrupt.empty()) {
    const size_t memories = static_cast<size_t>(
        std::count_if(corrupt.begin(), corrupt.end(),
                      [](const std::string& key) { return IsErasureMemoryKey(key); }));
    LogError(std::to_string(corrupt.size() - memories) + " customer states and " +
             std::to_string(memories) + " erasure memories of " + name +
             " did not parse and were deleted (a memory lost lets an erased customer's late "
             "events start a new profile): " +
             PartitionName(topic, partition) + " holds no copy to rebuild them from");
    metrics_.state_rebuilds(StateRebuildReason::kCorruptState).Increment(corrupt.size());
  }
  if (!s.ok()) {
    LogError("cannot write the local state of " + name + " to " + PartitionName(topic, partition) +
             ", which holds none of it: " + s.message() +
             " (the next assignment of the partition tries again)");
    return s;
  }
  LogInfo("wrote the local state of " + name + " to " + PartitionName(topic, partition) +
          ", which held none of it (a recreated topic, or records that never reached Kafka): " +
          std::to_string(written) + " entries");
  return Status::Ok();
}

void TaskManager::ChangelogAcknowledged(const v1::state::OutboxRecord& record, int64_t offset) {
  // Changelog records are the stamped ones: a trigger or audit record costs no string compare.
  if (!record.has_changelog_stamp() || record.topic() != config_.changelog.name) return;
  auto it = tasks_.find(record.partition());
  if (it == tasks_.end() || !it->second->own_tail) return;
  changelog::OwnTail& own_tail = *it->second->own_tail;
  if (!own_tail.following()) return;
  std::optional<v1::state::RestoreHint> hint = own_tail.Acknowledged(record, offset);
  if (hint) it->second->pending_hint = std::move(hint);
  if (!own_tail.following()) {
    // Another writer (a zombie, an instance that took the partition over), or a delivery whose
    // acknowledgement was lost: harmless for the hint, worth knowing about the partition.
    LogInfo("the restore hint of " + PartitionName(config_.changelog.name, record.partition()) +
            " stops following this assignment's records: offset " +
            std::to_string(own_tail.next_offset()) + " was not acknowledged to it in order (got " +
            std::to_string(offset) + "); a restart reads the changelog from the last hint stored");
  }
}

void TaskManager::AddPendingHints(CommitBatch& batch, std::optional<int32_t> partition) {
  for (auto& [assigned_partition, assigned] : tasks_) {
    if (!assigned->pending_hint || !Selected(assigned_partition, partition)) continue;
    batch.PutRestoreHint(config_.changelog.name, assigned_partition, *assigned->pending_hint);
  }
}

void TaskManager::ForgetPendingHints(std::optional<int32_t> partition) {
  for (auto& [assigned_partition, assigned] : tasks_) {
    if (Selected(assigned_partition, partition)) assigned->pending_hint.reset();
  }
}

void TaskManager::StorePendingHints(std::optional<int32_t> partition) {
  std::string partitions;
  for (auto& [assigned_partition, assigned] : tasks_) {
    if (!assigned->pending_hint || !Selected(assigned_partition, partition)) continue;
    partitions += (partitions.empty() ? "" : ", ") + std::to_string(assigned_partition);
  }
  if (partitions.empty()) return;
  CommitBatch batch(db_);
  AddPendingHints(batch, partition);
  if (Status s = batch.Commit(); !s.ok()) {
    LogWarn("cannot store the restore hints of " + config_.changelog.name + " partitions " +
            partitions + " (" + s.message() + "): a restart reads their changelog from earlier ones");
    return;
  }
  ForgetPendingHints(partition);
}

void TaskManager::Remove(int32_t partition) {
  StorePendingHints(partition);
  tasks_.erase(partition);
  next_punctuation_ms_.reset();  // found again at the next commit
}

void TaskManager::Clear(bool store_pending_hints) {
  DiscardBatch();
  failed_step_ = Status::Ok();
  if (store_pending_hints) StorePendingHints();
  tasks_.clear();
  next_punctuation_ms_.reset();
}

void TaskManager::DiscardBatch() {
  output_.Clear();
  batch_records_ = 0;
  latency_.Clear();
}

const PartitionTask* TaskManager::Find(int32_t partition) const {
  auto it = tasks_.find(partition);
  return it == tasks_.end() ? nullptr : &it->second->task;
}

std::vector<int32_t> TaskManager::partitions() const {
  std::vector<int32_t> out;
  for (const auto& [partition, assigned] : tasks_) out.push_back(partition);
  return out;
}

void TaskManager::MarkCaughtUp(std::string_view topic, int32_t partition) {
  if (auto it = tasks_.find(partition); it != tasks_.end()) it->second->task.MarkCaughtUp(topic);
}

uint64_t TaskManager::cached_bytes() const {
  uint64_t bytes = 0;
  for (const auto& [partition, assigned] : tasks_) bytes += assigned->store.cached_bytes();
  return bytes;
}

bool TaskManager::WaitsForRepartition(int32_t partition, TimeMs steady_ms) {
  auto it = tasks_.find(partition);
  if (it == tasks_.end()) return false;
  Assigned& assigned = *it->second;
  const bool waits = assigned.task.WaitsForRepartition(steady_ms);
  if (const uint64_t timeouts = assigned.task.repartition_wait_timeouts();
      timeouts != assigned.published_wait_timeouts) {
    metrics_.repartition_wait_timeouts().Increment(
        static_cast<double>(timeouts - assigned.published_wait_timeouts));
    assigned.published_wait_timeouts = timeouts;
    LogWarn(PartitionName(config_.touchpoints.name, partition) +
            ": its repartition source did not catch up within processing.max_repartition_wait; "
            "applying its input without waiting until it does");
  }
  return waits;
}

void TaskManager::MarkBehind(std::string_view topic, int32_t partition) {
  if (auto it = tasks_.find(partition); it != tasks_.end()) it->second->task.MarkBehind(topic);
}

StatusOr<bool> TaskManager::Process(const InputRecord& record, const TaskTime& time) {
  auto it = tasks_.find(record.partition);
  if (it == tasks_.end()) return false;  // not (or no longer) ours
  StatusOr<RecordOutcome> outcome = it->second->task.Process(record, time, output_);
  if (!outcome.ok()) return TaskFailed(record.partition, outcome.status());
  // A forwarded record's own timestamp is its forwarder's clock: its input record's counts.
  if (outcome->create_time_ms) {
    hybrid_clock_.ObserveRecord(*outcome->create_time_ms, time.steady_ms, time.wall_ms);
  }
  if (outcome->kind == RecordOutcome::Kind::kAlreadyApplied ||
      outcome->kind == RecordOutcome::Kind::kHeld) {
    return outcome->began_hold;
  }
  if (!outcome->erased_customer.empty()) {
    if (Status s =
            relay_.Recall({config_.triggers.name, config_.audit.name}, outcome->erased_customer);
        !s.ok()) {
      return Step(s);
    }
  }

  if (record.topic == config_.touchpoints.name) {  // a forwarded record was counted where read
    metrics_.records_consumed().Increment();
    progress_.consumed.fetch_add(1);
  }
  ++batch_records_;
  latency_.OnRecord(std::chrono::steady_clock::now());
  switch (outcome->kind) {
    case RecordOutcome::Kind::kForwarded:
      metrics_.records_repartitioned().Increment();
      break;
    case RecordOutcome::Kind::kDeadLettered:
      metrics_.events_invalid(outcome->verdict.reason).Increment();
      progress_.invalid.fetch_add(1);
      break;
    case RecordOutcome::Kind::kDroppedErased:
      metrics_.events_dropped_erased().Increment();
      break;
    case RecordOutcome::Kind::kDuplicate:
      metrics_.events_deduplicated().Increment();
      [[fallthrough]];
    default:
      metrics_.events_processed(outcome->type, outcome->channel).Increment();
  }
  return false;
}

Status TaskManager::Step(Status s) {
  if (!s.ok() && failed_step_.ok()) failed_step_ = s;
  return s;
}

Status TaskManager::TaskFailed(int32_t partition, Status s) {
  if (s.code() == Status::Code::kCorruption) corrupt_.insert(partition);
  return Step(std::move(s));
}

std::vector<int32_t> TaskManager::TakeCorruptPartitions() {
  std::vector<int32_t> out(corrupt_.begin(), corrupt_.end());
  corrupt_.clear();
  return out;
}

void TaskManager::PublishTaskCounts(Assigned& assigned) {
  const TrimCounts now = assigned.task.trims();
  for (TrimReason r : kAllTrimReasons) {
    const uint64_t trimmed = now.of(r) - assigned.published_trims.of(r);
    if (trimmed != 0) metrics_.state_trimmed(r).Increment(static_cast<double>(trimmed));
  }
  assigned.published_trims = now;
  auto publish = [](prometheus::Counter& counter, uint64_t now_count, uint64_t& published) {
    if (now_count != published) counter.Increment(static_cast<double>(now_count - published));
    published = now_count;
  };
  publish(metrics_.timers_popped(), assigned.task.timers_popped(), assigned.published_popped);
  publish(metrics_.timers_rearmed(), assigned.task.timers_rearmed(), assigned.published_rearmed);
  publish(metrics_.state_store_reads(), assigned.store.store_reads(),
          assigned.published_store_reads);
}

Status TaskManager::AdvanceEventTime(TimeMs watermark_ms) {
  for (auto& [partition, assigned] : tasks_) {
    if (Status s = assigned->task.AdvanceWatermark(watermark_ms, output_); !s.ok()) {
      return TaskFailed(partition, std::move(s));
    }
  }
  return Status::Ok();
}

Status TaskManager::FireTimerBacklogs() {
  for (auto& [partition, assigned] : tasks_) {
    if (!assigned->task.timer_backlog()) continue;
    StatusOr<uint64_t> popped = assigned->task.FireDueTimers(output_);
    if (!popped.ok()) return TaskFailed(partition, popped.status());
    batch_records_ += static_cast<int64_t>(*popped);
    metrics_.timer_chunks().Increment();
  }
  return Status::Ok();
}

bool TaskManager::AnyBacklogOrHeld() const {
  for (const auto& [partition, assigned] : tasks_) {
    if (assigned->task.timer_backlog() || assigned->task.any_held()) return true;
  }
  return false;
}

std::vector<int32_t> TaskManager::BackloggedPartitions() const {
  std::vector<int32_t> out;
  for (const auto& [partition, assigned] : tasks_) {
    if (assigned->task.timer_backlog()) out.push_back(partition);
  }
  return out;
}

void TaskManager::Rewound(int32_t partition, std::string_view topic) {
  if (auto it = tasks_.find(partition); it != tasks_.end()) it->second->task.Rewound(topic);
}

void TaskManager::Hold(int32_t partition, std::string_view topic) {
  if (auto it = tasks_.find(partition); it != tasks_.end()) it->second->task.Hold(topic);
}

void TaskManager::FindNextPunctuation(TimeMs idle_limit_ms) {
  next_punctuation_ms_.reset();
  for (auto& [partition, assigned] : tasks_) {
    StatusOr<std::optional<TimeMs>> next = assigned->task.NextPunctuation();
    // The commit is done; a timer index that cannot be read fails the next punctuation, which
    // reads it the same way and reports it as such. Until then, no wake-up.
    if (!next.ok()) {
      next_punctuation_ms_.reset();
      return;
    }
    // Left by this commit's punctuation (a chunk's bound): the backlog fires it, not a wake-up.
    if (!next->has_value() || **next <= idle_limit_ms) continue;
    if (!next_punctuation_ms_ || **next < *next_punctuation_ms_) next_punctuation_ms_ = **next;
  }
}

std::optional<TimeMs> TaskManager::MsUntilPunctuation(const TaskTime& time) {
  if (!next_punctuation_ms_) return std::nullopt;
  return *next_punctuation_ms_ - hybrid_clock_.Limit(time.wall_ms, time.steady_ms);
}

Status TaskManager::Commit(const TaskTime& time, bool punctuate) {
  if (!failed_step_.ok()) return failed_step_;  // never committed (failed())
  // Every error below fails the batch: a punctuation may have fired timers, a write or a hand-over
  // may have failed half done.
  return Step(CommitBatchOfTasks(time, punctuate));
}

Status TaskManager::CommitBatchOfTasks(const TaskTime& time, bool punctuate) {
  const auto started = std::chrono::steady_clock::now();
  const TimeMs idle_limit_ms = hybrid_clock_.Limit(time.wall_ms, time.steady_ms);
  for (auto& [partition, assigned] : tasks_) {
    if (!punctuate) {
      assigned->task.ObserveWallClock(time);
    } else if (Status s = assigned->task.Punctuate(time, idle_limit_ms, output_); !s.ok()) {
      return TaskFailed(partition, std::move(s));
    }
    // Trims and timers of the batch's records, timer chunks and this punctuation alike.
    PublishTaskCounts(*assigned);
  }
  CommitBatch& batch = commit_batch_;
  trigger_counters_.clear();
  batch.Clear();  // Commit() empties it whatever its result; cleared here too, should a path ever
                  // leave records in it
  // The commit's records in outbox order, each built in its entry (no copies in between):
  // triggers, dead letters and forwarded records, audit records (stored in the outbox when a
  // restart sends the outbox again, Relay::resends_stored_outbox), then each partition's
  // changelog state records and, after every state record, the commit markers that close them
  // (in memory only: a restart drops the undelivered ones rather than send them,
  // ConsumeLoop::Start, so storing them would cost a copy of every changed customer written to
  // RocksDB and deleted again).
  size_t expected = output_.triggers.size() + output_.dead_letters.size() +
                    output_.forwarded.size() + output_.audits.size();
  for (auto& [partition, assigned] : tasks_) {
    if (assigned->task.dirty()) expected += assigned->store.changed_customers() + 1;
  }
  std::vector<OutboxEntry> entries;
  entries.reserve(expected);
  const bool store_outbox = relay_.resends_stored_outbox();
  const auto add_to_outbox = [&](const v1::state::OutboxRecord& record) {
    entries.back().seq = store_outbox ? batch.AddOutbox(record) : batch.DrawOutboxSeq();
  };
  for (TaskOutput::EmittedTrigger& t : output_.triggers) {
    // Due when it is sent: a deferral's release time, not the fire time it was held back from.
    const google::protobuf::Timestamp& due =
        t.trigger.has_send_time() ? t.trigger.send_time() : t.trigger.fire_time();
    latency_.OnTrigger(t.event_caused,
                       google::protobuf::util::TimeUtil::TimestampToMilliseconds(due));
    // Counted once committed (below): a batch dropped uncommitted (a lost assignment, a
    // rebuild, a disk pause, a transaction refused) and processed again counts its triggers
    // once, and withdrawn ones not at all.
    trigger_counters_.push_back(&metrics_.triggers_emitted(t.trigger.rule_id(), t.trigger.type()));
    trigger_counters_.push_back(&metrics_.policy().sent(t.trigger.rule_id(), t.trigger.type(),
                                                        t.trigger.suggested_channel()));
    v1::state::OutboxRecord& record = entries.emplace_back().record;
    record.set_topic(config_.triggers.name);
    record.set_key(t.trigger.customer_id());
    t.trigger.SerializeToString(record.mutable_value());
    add_to_outbox(record);
  }
  for (v1::state::OutboxRecord& dead_letter : output_.dead_letters) {
    add_to_outbox(entries.emplace_back().record = std::move(dead_letter));
  }
  for (v1::state::OutboxRecord& forwarded : output_.forwarded) {
    add_to_outbox(entries.emplace_back().record = std::move(forwarded));
  }
  for (const v1::AuditRecord& audit : output_.audits) {
    metrics_.policy().CountAudit(audit);
    v1::state::OutboxRecord& record = entries.emplace_back().record;
    record.set_topic(config_.audit.name);
    // An ERASED record holds no customer id: keyed by the customer's hash instead.
    record.set_key(audit.has_trigger() ? audit.trigger().customer_id() : audit.customer_hash());
    audit.SerializeToString(record.mutable_value());
    add_to_outbox(record);
  }
  output_.Clear();

  std::vector<SourceOffset> offsets;
  markers_.clear();
  for (auto& [partition, assigned] : tasks_) {
    PartitionTask& task = assigned->task;
    if (!task.dirty()) continue;
    const int32_t p = partition;
    const v1::state::PartitionCheckpoint& checkpoint = task.PrepareCommit();
    const changelog::Writer& writer = assigned->writer;
    const int64_t seq = checkpoint.commit_seq();
    batch.AddChanges(
        assigned->store, [&](const std::string& customer_id, const std::string* value) {
          entries.push_back({batch.DrawOutboxSeq(),
                             changelog::SerializedStateRecord(config_.changelog.name, p, writer,
                                                              seq, customer_id, value)});
        });
    batch.PutCheckpoint(config_.touchpoints.name, partition, checkpoint);
    v1::state::ChangelogMarker marker;
    *marker.mutable_checkpoint() = checkpoint;
    markers_.push_back(changelog::CommitRecord(config_.changelog.name, p, writer, marker));
    offsets.push_back({config_.touchpoints.name, partition, checkpoint.next_offset()});
    if (auto it = checkpoint.source_next_offsets().find(settings_.repartition_topic);
        it != checkpoint.source_next_offsets().end()) {
      offsets.push_back({settings_.repartition_topic, partition, it->second});
    }
  }
  for (auto& marker : markers_) entries.push_back({batch.DrawOutboxSeq(), std::move(marker)});

  const bool writes = !batch.empty();
  // Hints the acknowledgements moved on ride along with a commit that writes anyway.
  if (writes) AddPendingHints(batch);
  if (writes) CrashPoint("batch_built");
  Status s = batch.Commit();
  if (s.ok()) {
    if (writes) {
      CrashPoint("db_write");
      // Stored: no acknowledgement came in between (they arrive while the relay polls).
      ForgetPendingHints();
    }
    for (auto& [partition, assigned] : tasks_) {
      if (!assigned->task.dirty()) continue;
      assigned->store.OnCommitted();
      assigned->task.OnCommitted();
    }
    if (!entries.empty()) s = relay_.Publish(std::move(entries), offsets);
    if (s.ok()) {
      for (prometheus::Counter* counter : trigger_counters_) counter->Increment();
      progress_.triggers.fetch_add(trigger_counters_.size() / 2);
    }
    FindNextPunctuation(idle_limit_ms);
    last_offsets_ = std::move(offsets);
    metrics_.commit_batch_events().Observe(static_cast<double>(batch_records_));
    batch_records_ = 0;
    latency_.Observe(metrics_, time.wall_ms);
  }
  metrics_.commit_duration().Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return s;
}

}  // namespace touchstream
