// The in-process test driver (as Kafka Streams' TopologyTestDriver): the same TaskManager and
// PartitionTasks as `run`, on a RocksDB store in a temporary directory, with an in-memory relay
// instead of Kafka and fake clocks. Pipe events in (protobuf, JSON or raw bytes), move event time
// or the wall clock, and read out what each commit delivered: triggers, dead letters, changelog
// records, and the committed state. No child processes, no sleeps.
//
// Each Pipe and each Advance commits at once, so every call also exercises commit assembly.
#pragma once

#include <deque>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "processor/config/config.h"
#include "processor/core/partition_ownership.h"
#include "processor/metrics/metrics.h"
#include "processor/run/task_manager.h"
#include "state/state_db.h"
#include "tests/driver/memory_relay.h"
#include "touchpoint.pb.h"
#include "trigger.pb.h"

namespace touchstream::testing {

// How the driver runs its tasks.
struct DriverOptions {
  DurationMs allowed_lateness_ms = 0;
  DedupPolicy dedup{0, 512};  // off
  StateLimits limits;
  ClockMode clock = ClockMode::kEventTime;
  // The fake wall clock's start. The default lies far ahead so that no event is "in the future" (as
  // backtest); hybrid-clock tests set it.
  TimeMs wall_ms = std::numeric_limits<TimeMs>::max() / 2;
  int partitions = 1;
  // With more than one partition the repartition stage is on (murmur2 ownership, as `run`):
  // a record piped into a partition that does not own its customer is forwarded. By default the
  // driver delivers forwarded records to their owners at once (each Pipe processes them and
  // commits again, and the repartition topic is then caught up). true: they wait until
  // DeliverRepartitioned, and until then the repartition source of each partition they are
  // forwarded to is behind, as when the owner has not fetched them yet.
  bool hold_repartition = false;
  // processing.max_repartition_wait: how long (by the fake steady clock, which AdvanceWallClock
  // moves) a partition's input waits for its repartition source (held, and delivered again once
  // the wait is over).
  DurationMs max_repartition_wait_ms = Config{}.max_repartition_wait_ms;
  // processing.max_timers_per_step: a timer backlog fires in chunks of this many, with a commit
  // after each (the consume loop polls in between); a record behind it is held and delivered
  // again once the backlog is fired.
  int64_t max_timers_per_step = Config{}.max_timers_per_step;
  // The policy stage's settings (the `channels` and `policies` sections, each rule's keys).
  PolicyConfig policy;
  // The `privacy` section: erasure memory and customer hashes.
  PrivacySettings privacy;
  // false: delivered records are dropped once each step has collected its triggers, as Kafka's
  // acknowledgement releases them in `run`, and the stored outbox is not scanned at each publish
  // (Delivered, DeadLetters, ChangelogRecords and StoredOutboxTopics then return nothing). For
  // benchmarks, whose memory and time would otherwise grow with everything ever delivered.
  bool keep_delivered = true;
  // false: the relay is as exactly_once's (Relay::resends_stored_outbox): a restart drops what a
  // commit left in the outbox, so commits store none of it.
  bool resends_stored_outbox = true;
  // Each commit checks that every state the pipeline settled (PartitionStore::Settle) still
  // encodes to what was settled, and aborts the test otherwise. Benchmarks turn it off.
  bool verify_settled = true;
  // The store's RocksDB memory (state.block_cache_bytes, write_buffer_bytes and
  // memtable_huge_pages as run gives them).
  StoreMemory memory;
};

// Owned by the test's thread.
class TestDriver {
 public:
  using Options = DriverOptions;

  // Runs `rules` (in config order).
  explicit TestDriver(RuleSet rules) : TestDriver(std::move(rules), Options{}) {}
  TestDriver(RuleSet rules, Options options);
  // Runs the rules and processing settings of a YAML config (ParseConfig; throws ConfigError).
  // `options.clock`, `allowed_lateness_ms`, `dedup`, `limits`, `max_timers_per_step`,
  // `policy` and `privacy` are taken from the config.
  static std::unique_ptr<TestDriver> FromYaml(const std::string& yaml, Options options = {});
  ~TestDriver();

  // Pipes one record into `partition` at its next offset and commits. Returns the triggers that
  // commit delivered.
  std::vector<v1::Trigger> Pipe(const v1::TouchpointEvent& event, int32_t partition = 0);
  // Pipes `events` into `partition` one after another and commits once, as one batch of the
  // consume loop (a record held behind a timer backlog still commits the chunks before it).
  std::vector<v1::Trigger> PipeBatch(const std::vector<v1::TouchpointEvent>& events,
                                     int32_t partition = 0);
  // A JSON line in the event contract's JSON form (as `produce` and `backtest` read it).
  std::vector<v1::Trigger> PipeJson(const std::string& line, int32_t partition = 0);
  std::vector<v1::Trigger> PipeBytes(std::optional<std::string> key, const std::string& value,
                                     int32_t partition = 0);

  // Delivers the forwarded records waiting for `partition` (hold_repartition) to its task, marks
  // its repartition source caught up (unless `caught_up` is false: more is on its way) and
  // commits. Returns the triggers.
  std::vector<v1::Trigger> DeliverRepartitioned(int32_t partition, bool caught_up = true);
  // The partition that owns `customer_id` (0 with one partition).
  int32_t OwnerOf(const std::string& customer_id) const;

  // Moves every partition's event-time clock to `watermark_ms` and commits.
  std::vector<v1::Trigger> AdvanceEventTime(TimeMs watermark_ms);
  // Lets `d` pass: the local wall clock, the monotonic clock and the producers' clock (the
  // CreateTime of records piped from now on) all move by `d`. Every partition's input is
  // caught up (nothing more to read), so in hybrid mode their clocks follow; then commits, as
  // the consume loop does.
  std::vector<v1::Trigger> AdvanceWallClock(DurationMs d);
  // Steps the local wall clock alone by `d` (an NTP step, a restored VM; negative: back),
  // then commits as AdvanceWallClock does. No time passes.
  std::vector<v1::Trigger> StepLocalClock(DurationMs d);
  TimeMs wall_ms() const { return wall_ms_; }
  // TaskManager::MsUntilPunctuation now: when the consume loop would wake for a timer.
  std::optional<TimeMs> MsUntilPunctuation() {
    return tasks_ ? tasks_->MsUntilPunctuation(TaskTime{wall_ms_, steady_ms_}) : std::nullopt;
  }

  // Everything delivered to a topic since the start, in delivery order.
  std::vector<v1::state::OutboxRecord> Delivered(const std::string& topic) const;
  // The topics of every record a commit stored in the outbox (what a restart would send).
  std::set<std::string> StoredOutboxTopics() const;
  std::vector<v1::state::OutboxRecord> DeadLetters() const;
  std::vector<v1::state::OutboxRecord> ChangelogRecords() const;
  // The committed state of a customer (as `state-dump` reads it); nullopt if none.
  std::optional<v1::state::CustomerState> ReadState(const std::string& customer_id,
                                                    int32_t partition = 0);
  // The committed checkpoint of a partition; nullopt if none.
  std::optional<v1::state::PartitionCheckpoint> ReadCheckpoint(int32_t partition = 0);

  // Stores `value` (e.g. bytes that do not parse) as a customer's committed state, as damage on
  // disk would; the customer must not be in the task's cache (not piped before).
  void StoreRawState(const std::string& customer_id, const std::string& value,
                     int32_t partition = 0);
  // The partitions whose store reported corruption (TaskManager::TakeCorruptPartitions).
  std::vector<int32_t> TakeCorruptPartitions() { return tasks_->TakeCorruptPartitions(); }

  // The triggers each commit delivered, in commit order (timer chunks commit one by one).
  const std::vector<size_t>& triggers_per_commit() const { return triggers_per_commit_; }
  // Records held behind a timer backlog and delivered again.
  uint64_t held_records() const { return held_records_; }

  // A partition's task (its clock and checkpoint); nullptr if the partition has none.
  const PartitionTask* task(int32_t partition = 0) const;
  // The tasks, for tests of the adapters around them (processor/run/source_ends.h).
  TaskManager& task_manager() { return *tasks_; }

  // The status of the last call (a store or relay error; Ok normally).
  const Status& status() const { return status_; }
  const Config& config() const { return config_; }
  // The metrics the tasks count into, as `run` serves them.
  Metrics& metrics() { return *metrics_; }
  // The store the tasks commit to.
  StateDb& db() { return *db_; }
  // Revokes `partition` (TaskManager::Remove; nothing uncommitted may be left).
  void RemovePartition(int32_t partition) { tasks_->Remove(partition); }
  // Drops every partition's task and the uncommitted batch, as a lost assignment or a failed
  // step does (TaskManager::Clear).
  void DropAllPartitions() { tasks_->Clear(); }

 private:
  std::vector<v1::Trigger> CommitAndCollect();
  // The next record of `partition`'s input.
  // `key` and `value` must outlive the record.
  InputRecord NextRecord(std::optional<std::string_view> key, std::string_view value,
                         int32_t partition);
  // Processes `record` as the consume loop does: while it is held behind a timer backlog, fires
  // the backlog, rewinds and delivers it again.
  Status ProcessRecord(const InputRecord& record);
  // Commits, then fires every timer backlog chunk by chunk, committing after each.
  Status CommitAndFire();
  Status CommitOnce();
  // Commits, then (unless hold_repartition) delivers forwarded records until none are left.
  Status CommitAndForward();
  // Queues forwarded records delivered since the last call; true if there were any.
  bool CollectForwarded();
  // Processes the queued forwarded records of `partition` (not committed).
  Status ProcessForwarded(int32_t partition);
  // Delivers again, in order, the input records of each partition whose wait for its
  // repartition source is over (PartitionTask::WaitsForRepartition); true if any was.
  StatusOr<bool> ReleaseWaiting();

  Config config_;
  RuleSet rules_;
  std::filesystem::path dir_;
  std::unique_ptr<StateDb> db_;
  std::unique_ptr<MemoryRelay> relay_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<TaskManager> tasks_;
  std::vector<int64_t> next_offsets_;
  std::unique_ptr<PartitionOwnership> ownership_;  // null with one partition
  bool hold_repartition_ = false;
  // The repartition topic, per partition: records forwarded but not yet processed, and the next
  // offset.
  std::vector<std::vector<v1::state::OutboxRecord>> forwarded_;
  std::vector<int64_t> repartition_offsets_;
  // Input records held while their partition waits for its repartition source, per partition
  // (as the consume loop pauses the input and rewinds it).
  struct WaitingRecord {
    int64_t offset = 0;
    std::optional<std::string> key;
    std::string value;
    std::optional<TimeMs> create_time_ms;
  };
  std::vector<std::deque<WaitingRecord>> waiting_;
  bool keep_delivered_ = true;  // DriverOptions::keep_delivered
  size_t forwarded_upto_ = 0;  // delivered records already scanned for forwarded ones
  TimeMs wall_ms_;             // the local wall clock
  TimeMs producer_ms_;         // the producers' clock: records' CreateTime
  TimeMs steady_ms_ = 0;
  size_t read_upto_ = 0;     // delivered records already returned as triggers
  size_t counted_upto_ = 0;  // delivered records already counted in triggers_per_commit_
  std::vector<size_t> triggers_per_commit_;
  uint64_t held_records_ = 0;
  Status status_;
};

}  // namespace touchstream::testing
