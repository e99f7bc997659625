#include "tests/driver/test_driver.h"

#include <random>

#include "processor/json/json_lines.h"
#include "processor/kafka/murmur2_ownership.h"
#include "processor/rules/rule_registry.h"
#include "state/commit_batch.h"

namespace touchstream::testing {

namespace {

std::filesystem::path FreshDir() {
  std::random_device rd;
  return std::filesystem::temp_directory_path() /
         ("touchstream-driver-" + std::to_string(rd()) + std::to_string(rd()));
}

}  // namespace

TestDriver::TestDriver(RuleSet rules, Options options)
    : rules_(std::move(rules)),
      dir_(FreshDir()),
      wall_ms_(options.wall_ms),
      producer_ms_(options.wall_ms) {
  config_.allowed_lateness_ms = options.allowed_lateness_ms;
  config_.dedup = options.dedup;
  config_.limits = options.limits;
  config_.clock = options.clock;
  config_.touchpoints.partitions = options.partitions;
  config_.max_timers_per_step = options.max_timers_per_step;
  config_.max_repartition_wait_ms = options.max_repartition_wait_ms;
  config_.policy = options.policy;
  config_.privacy = options.privacy;
  auto db = StateDb::Open(dir_.string(), false, options.memory);
  if (!db.ok()) {
    status_ = db.status();
    return;
  }
  db_ = std::move(*db);
  relay_ = std::make_unique<MemoryRelay>(*db_, options.keep_delivered,
                                         options.resends_stored_outbox);
  keep_delivered_ = options.keep_delivered;
  std::vector<std::string> rule_ids;
  for (const auto& rule : rules_) rule_ids.push_back(rule->id());
  metrics_ = std::make_unique<Metrics>(config_.touchpoints.name, rule_ids,
                                       config_.policy.channels.messageable);
  tasks_ = std::make_unique<TaskManager>(config_, rules_, *db_, *relay_, *metrics_);
  tasks_->set_verify_settled_states(options.verify_settled);
  hold_repartition_ = options.hold_repartition;
  if (options.partitions > 1) {
    ownership_ = std::make_unique<Murmur2Ownership>(options.partitions);
    tasks_->SetOwnership(ownership_.get());
  } else {
    tasks_->SetInputPartitions(1);
  }
  forwarded_.resize(options.partitions);
  waiting_.resize(options.partitions);
  repartition_offsets_.assign(options.partitions, 0);
  for (int32_t p = 0; p < options.partitions; ++p) {
    v1::state::PartitionCheckpoint fresh;
    fresh.set_max_event_time_ms(kNoTime);
    fresh.set_watermark_ms(kNoTime);
    // A fresh changelog: the restore hint follows this assignment's records from offset 0.
    if (status_ = tasks_->Assign(p, fresh, 1, changelog::TailStart{}); !status_.ok()) return;
    next_offsets_.push_back(0);
    // The repartition topic starts empty: caught up.
    tasks_->MarkCaughtUp(config_.repartition.name, p);
  }
  read_upto_ = relay_->delivered().size();  // the fences
  forwarded_upto_ = read_upto_;
  counted_upto_ = read_upto_;
}

std::unique_ptr<TestDriver> TestDriver::FromYaml(const std::string& yaml, Options options) {
  Config config = ParseConfig(yaml, "test config");
  options.clock = config.clock;
  options.allowed_lateness_ms = config.allowed_lateness_ms;
  options.dedup = config.dedup;
  options.limits = config.limits;
  options.max_timers_per_step = config.max_timers_per_step;
  options.policy = config.policy;
  options.privacy = config.privacy;
  return std::make_unique<TestDriver>(BuildRuleSet(config.rules), options);
}

TestDriver::~TestDriver() {
  tasks_.reset();
  relay_.reset();
  db_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::vector<v1::Trigger> TestDriver::Pipe(const v1::TouchpointEvent& event, int32_t partition) {
  return PipeBytes(event.customer_id(), event.SerializeAsString(), partition);
}

std::vector<v1::Trigger> TestDriver::PipeJson(const std::string& line, int32_t partition) {
  v1::TouchpointEvent event;
  if (status_ = ParseJsonLine(line, &event); !status_.ok()) return {};
  return Pipe(event, partition);
}

std::vector<v1::Trigger> TestDriver::PipeBytes(std::optional<std::string> key,
                                               const std::string& value, int32_t partition) {
  if (!tasks_) return {};
  if (status_ = ProcessRecord(NextRecord(key, value, partition)); !status_.ok()) return {};
  return CommitAndCollect();
}

std::vector<v1::Trigger> TestDriver::PipeBatch(const std::vector<v1::TouchpointEvent>& events,
                                               int32_t partition) {
  if (!tasks_) return {};
  for (const v1::TouchpointEvent& event : events) {
    const std::string value = event.SerializeAsString();
    if (status_ = ProcessRecord(NextRecord(event.customer_id(), value, partition)); !status_.ok()) {
      return {};
    }
  }
  return CommitAndCollect();
}

InputRecord TestDriver::NextRecord(std::optional<std::string_view> key, std::string_view value,
                                   int32_t partition) {
  InputRecord record;
  record.topic = config_.touchpoints.name;
  record.partition = partition;
  record.offset = next_offsets_.at(partition)++;
  record.key = key;
  record.value = value;
  record.create_time_ms = producer_ms_;
  return record;
}

std::vector<v1::Trigger> TestDriver::AdvanceEventTime(TimeMs watermark_ms) {
  if (!tasks_) return {};
  if (status_ = tasks_->AdvanceEventTime(watermark_ms); !status_.ok()) return {};
  return CommitAndCollect();
}

std::vector<v1::Trigger> TestDriver::AdvanceWallClock(DurationMs d) {
  if (!tasks_) return {};
  wall_ms_ += d;
  producer_ms_ += d;
  steady_ms_ += d;
  for (int32_t p : tasks_->partitions()) {
    tasks_->MarkCaughtUp(config_.touchpoints.name, p);
  }
  return CommitAndCollect();
}

std::vector<v1::Trigger> TestDriver::StepLocalClock(DurationMs d) {
  if (!tasks_) return {};
  wall_ms_ += d;
  for (int32_t p : tasks_->partitions()) {
    tasks_->MarkCaughtUp(config_.touchpoints.name, p);
  }
  return CommitAndCollect();
}

std::vector<v1::Trigger> TestDriver::DeliverRepartitioned(int32_t partition, bool caught_up) {
  if (!tasks_) return {};
  CollectForwarded();
  if (status_ = ProcessForwarded(partition); !status_.ok()) return {};
  if (caught_up) tasks_->MarkCaughtUp(config_.repartition.name, partition);
  return CommitAndCollect();
}

int32_t TestDriver::OwnerOf(const std::string& customer_id) const {
  return ownership_ ? ownership_->OwnerOf(customer_id) : 0;
}

bool TestDriver::CollectForwarded() {
  bool any = false;
  const auto& delivered = relay_->delivered();
  for (; forwarded_upto_ < delivered.size(); ++forwarded_upto_) {
    const v1::state::OutboxRecord& record = delivered[forwarded_upto_];
    if (record.topic() != config_.repartition.name) continue;
    forwarded_.at(record.partition()).push_back(record);
    any = true;
  }
  return any;
}

Status TestDriver::ProcessForwarded(int32_t partition) {
  std::vector<v1::state::OutboxRecord> queued = std::move(forwarded_.at(partition));
  forwarded_.at(partition).clear();
  for (const v1::state::OutboxRecord& f : queued) {
    std::vector<InputHeader> headers;
    for (const auto& h : f.headers()) headers.push_back({h.key(), h.value()});
    InputRecord record;
    record.topic = config_.repartition.name;
    record.partition = partition;
    record.offset = repartition_offsets_.at(partition)++;
    record.key = f.key();
    record.value = f.value();
    // Produced without a timestamp, a record gets the producing host's clock (librdkafka's).
    record.create_time_ms = f.has_timestamp_ms() ? f.timestamp_ms() : wall_ms_;
    record.headers = headers;
    if (Status s = ProcessRecord(record); !s.ok()) return s;
  }
  return Status::Ok();
}

Status TestDriver::ProcessRecord(const InputRecord& record) {
  const bool input = record.topic == config_.touchpoints.name;
  auto wait = [&] {
    waiting_.at(record.partition)
        .push_back({record.offset,
                    record.key ? std::optional<std::string>(*record.key) : std::nullopt,
                    std::string(record.value), record.create_time_ms});
    return Status::Ok();
  };
  if (input && !waiting_.at(record.partition).empty()) return wait();
  while (true) {
    if (StatusOr<bool> s = tasks_->Process(record, TaskTime{wall_ms_, steady_ms_}); !s.ok()) {
      return s.status();
    }
    const PartitionTask* task = tasks_->Find(record.partition);
    if (task == nullptr || !task->held(record.topic)) return Status::Ok();
    if (input && tasks_->WaitsForRepartition(record.partition, steady_ms_)) return wait();
    ++held_records_;
    if (Status s = CommitAndFire(); !s.ok()) return s;
    tasks_->Rewound(record.partition, record.topic);
  }
}

Status TestDriver::CommitOnce() {
  if (Status s = tasks_->Commit(TaskTime{wall_ms_, steady_ms_}); !s.ok()) return s;
  size_t triggers = 0;
  const auto& delivered = relay_->delivered();
  for (; counted_upto_ < delivered.size(); ++counted_upto_) {
    if (delivered[counted_upto_].topic() == config_.triggers.name) ++triggers;
  }
  triggers_per_commit_.push_back(triggers);
  return Status::Ok();
}

Status TestDriver::CommitAndFire() {
  if (Status s = CommitOnce(); !s.ok()) return s;
  while (!tasks_->BackloggedPartitions().empty()) {
    if (Status s = tasks_->FireTimerBacklogs(); !s.ok()) return s;
    if (Status s = CommitOnce(); !s.ok()) return s;
  }
  return Status::Ok();
}

Status TestDriver::CommitAndForward() {
  if (Status s = CommitAndFire(); !s.ok()) return s;
  while (true) {
    bool progressed = false;
    if (hold_repartition_) {
      // Forwarded records wait in the repartition topic: their owners' sources are behind.
      CollectForwarded();
      for (int32_t p = 0; p < static_cast<int32_t>(forwarded_.size()); ++p) {
        if (!forwarded_[p].empty()) tasks_->MarkBehind(config_.repartition.name, p);
      }
    } else if (CollectForwarded()) {
      for (int32_t p = 0; p < static_cast<int32_t>(forwarded_.size()); ++p) {
        if (Status s = ProcessForwarded(p); !s.ok()) return s;
        tasks_->MarkCaughtUp(config_.repartition.name, p);
      }
      progressed = true;
    }
    StatusOr<bool> released = ReleaseWaiting();
    if (!released.ok()) return released.status();
    if (!progressed && !*released) return Status::Ok();
    if (Status s = CommitAndFire(); !s.ok()) return s;
  }
}

StatusOr<bool> TestDriver::ReleaseWaiting() {
  bool any = false;
  for (int32_t p = 0; p < static_cast<int32_t>(waiting_.size()); ++p) {
    const PartitionTask* task = tasks_->Find(p);
    if (waiting_[p].empty() || task == nullptr || tasks_->WaitsForRepartition(p, steady_ms_)) {
      continue;
    }
    std::deque<WaitingRecord> records = std::move(waiting_[p]);
    waiting_[p].clear();
    tasks_->Rewound(p, config_.touchpoints.name);
    for (const WaitingRecord& w : records) {
      InputRecord record;
      record.topic = config_.touchpoints.name;
      record.partition = p;
      record.offset = w.offset;
      if (w.key) record.key = *w.key;
      record.value = w.value;
      record.create_time_ms = w.create_time_ms;
      if (Status s = ProcessRecord(record); !s.ok()) return s;
    }
    any = true;
  }
  return any;
}

std::vector<v1::Trigger> TestDriver::CommitAndCollect() {
  if (status_ = CommitAndForward(); !status_.ok()) return {};
  std::vector<v1::Trigger> triggers;
  const auto& delivered = relay_->delivered();
  for (; read_upto_ < delivered.size(); ++read_upto_) {
    const v1::state::OutboxRecord& record = delivered[read_upto_];
    if (record.topic() != config_.triggers.name) continue;
    v1::Trigger t;
    if (!t.ParseFromString(record.value())) {
      status_ = Status::Internal("a delivered trigger does not parse");
      continue;
    }
    triggers.push_back(std::move(t));
  }
  if (!keep_delivered_) {
    // Everything delivered has been read: forwarded records by CommitAndForward, triggers here.
    relay_->Forget();
    read_upto_ = forwarded_upto_ = counted_upto_ = 0;
  }
  return triggers;
}

std::set<std::string> TestDriver::StoredOutboxTopics() const {
  return relay_ ? relay_->stored_topics() : std::set<std::string>();
}

std::vector<v1::state::OutboxRecord> TestDriver::Delivered(const std::string& topic) const {
  std::vector<v1::state::OutboxRecord> out;
  if (!relay_) return out;
  for (const auto& record : relay_->delivered()) {
    if (record.topic() == topic) out.push_back(record);
  }
  return out;
}

std::vector<v1::state::OutboxRecord> TestDriver::DeadLetters() const {
  return Delivered(config_.dead_letter.name);
}

std::vector<v1::state::OutboxRecord> TestDriver::ChangelogRecords() const {
  return Delivered(config_.changelog.name);
}

std::optional<v1::state::CustomerState> TestDriver::ReadState(const std::string& customer_id,
                                                              int32_t partition) {
  auto state = db_->ReadCustomer(partition, customer_id);
  if (!state.ok()) {
    status_ = state.status();
    return std::nullopt;
  }
  return *state;
}

void TestDriver::StoreRawState(const std::string& customer_id, const std::string& value,
                               int32_t partition) {
  CommitBatch batch(*db_);
  batch.PutCustomerValue(partition, customer_id, &value);
  status_ = batch.Commit();
}

const PartitionTask* TestDriver::task(int32_t partition) const {
  return tasks_ ? tasks_->Find(partition) : nullptr;
}

std::optional<v1::state::PartitionCheckpoint> TestDriver::ReadCheckpoint(int32_t partition) {
  auto checkpoint = db_->ReadCheckpoint(config_.touchpoints.name, partition);
  if (!checkpoint.ok()) {
    status_ = checkpoint.status();
    return std::nullopt;
  }
  return *checkpoint;
}

}  // namespace touchstream::testing
