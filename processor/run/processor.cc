#include "processor/run/processor.h"

#include <google/protobuf/util/time_util.h>

#include <cstdlib>

#include "processor/run/crash_point.h"
#include "processor/run/dead_letter.h"
#include "processor/run/log.h"
#include "state/changelog.h"

namespace touchstream {

namespace {

// cooperative-sticky keeps partitions running on their instance across a rebalance (no
// restore, no pause). librdkafka before 2.3.0 can abort when a cooperative-sticky consumer is
// destroyed before its first assignment (librdkafka issue #4312), and its mock cluster does not
// complete cooperative rebalances, so older versions get the eager assignors.
std::string DefaultAssignmentStrategy() {
  return RdKafka::version() >= 0x020300ff ? "cooperative-sticky" : "range,roundrobin";
}


}  // namespace

std::string Processor::PartitionName(const std::string& topic, int32_t partition) {
  return topic + "/" + std::to_string(partition);
}

Processor::Processor(const Config& config, const RuleSet& rules, StateDb& db, Relay& relay,
                     Metrics& metrics, const Clock& clock, HealthState* health)
    : config_(config),
      rules_(rules),
      db_(db),
      relay_(relay),
      metrics_(metrics),
      clock_(clock),
      validator_(config.validation),
      health_(health) {}

Processor::~Processor() {
  // Every Message is freed inside Run; the consumer is closed there or here.
  if (consumer_) consumer_->close();
}

Status Processor::Start() {
  KafkaProperties props = config_.kafka;
  for (const auto& [key, value] : config_.kafka_consumer) props[key] = value;
  props.emplace("partition.assignment.strategy", DefaultAssignmentStrategy());
  auto restorer = ChangelogRestorer::Create(props, config_.changelog.name,
                                            config_.touchpoints.name);
  if (!restorer.ok()) return restorer.status();
  restorer_ = std::move(*restorer);
  if (auto it = props.find("session.timeout.ms"); it != props.end()) {
    session_timeout_ = std::chrono::milliseconds(std::atoll(it->second.c_str()));
  }
  auto conf = MakeKafkaConf(props, {{"group.id", config_.group_id},
                                    {"enable.auto.commit", "false"},
                                    {"enable.auto.offset.store", "false"},
                                    {"enable.partition.eof", "true"},
                                    // An offset deleted by retention is a retention gap, never
                                    // a silent jump (processing.on_retention_gap).
                                    {"auto.offset.reset", "error"}});
  if (!conf.ok()) return conf.status();
  std::string errstr;
  if ((*conf)->set("rebalance_cb", static_cast<RdKafka::RebalanceCb*>(this), errstr) !=
      RdKafka::Conf::CONF_OK) {
    return Status::InvalidArgument("rebalance_cb: " + errstr);
  }
  consumer_.reset(RdKafka::KafkaConsumer::create(conf->get(), errstr));
  if (!consumer_) return Status::KafkaError("cannot create consumer: " + errstr);
  RdKafka::ErrorCode err = consumer_->subscribe({config_.touchpoints.name});
  if (err != RdKafka::ERR_NO_ERROR) {
    return Status::KafkaError("cannot subscribe to " + config_.touchpoints.name + ": " +
                              RdKafka::err2str(err));
  }
  if (Status s = CheckTopics(); !s.ok()) return s;
  // Records a previous run committed but did not deliver (triggers, changelog) go out first,
  // so that the changelog is current before this instance restores or fences anything.
  if (Status s = relay_.Recover(); !s.ok()) return s;
  if (relay_.in_flight() > 0) {
    LogInfo("delivering " + std::to_string(relay_.in_flight()) + " records left in the outbox");
    if (Status s = relay_.Flush(10'000); !s.ok()) LogWarn("outbox: " + s.message());
  }
  LogInfo("consuming " + config_.touchpoints.name + " as group " + config_.group_id);
  return Status::Ok();
}

Status Processor::CheckTopics() {
  RdKafka::Metadata* raw = nullptr;
  RdKafka::ErrorCode err = consumer_->metadata(true, nullptr, &raw, 10'000);
  std::unique_ptr<RdKafka::Metadata> metadata(raw);
  if (err != RdKafka::ERR_NO_ERROR) {
    LogWarn("cannot check topics yet (" + RdKafka::err2str(err) + "); continuing");
    return Status::Ok();
  }
  int input_partitions = -1;
  int changelog_partitions = -1;
  for (const RdKafka::TopicMetadata* topic : *metadata->topics()) {
    if (topic->err() != RdKafka::ERR_NO_ERROR) continue;
    const int n = static_cast<int>(topic->partitions()->size());
    if (topic->topic() == config_.touchpoints.name) input_partitions = n;
    if (topic->topic() == config_.changelog.name) changelog_partitions = n;
  }
  if (changelog_partitions < 0) {
    return Status::InvalidArgument(
        "topics.changelog: topic '" + config_.changelog.name +
        "' does not exist; create it with cleanup.policy=compact and as many partitions as " +
        config_.touchpoints.name + " (embedded-kafka creates it from the same config)");
  }
  if (input_partitions > changelog_partitions) {
    return Status::InvalidArgument(
        "topics.changelog: topic '" + config_.changelog.name + "' has " +
        std::to_string(changelog_partitions) + " partitions but " + config_.touchpoints.name +
        " has " + std::to_string(input_partitions) + "; it needs at least as many");
  }
  return Status::Ok();
}

Status Processor::Run(const std::atomic<bool>& stop) {
  batch_started_ = std::chrono::steady_clock::now();
  auto last_poll = batch_started_;
  const auto interval = std::chrono::milliseconds(config_.commit_interval_ms);
  while (!stop.load() && fatal_.ok()) {
    const auto elapsed = std::chrono::steady_clock::now() - batch_started_;
    const int wait_ms = static_cast<int>(std::max<int64_t>(
        1, std::chrono::duration_cast<std::chrono::milliseconds>(interval - elapsed).count()));
    // While the relay has records in flight, the wait happens in its poll (below), which
    // wakes on a delivery report: a barrier's acknowledgement lets the next commit go out.
    const bool relaying = relay_.in_flight() > 0;
    std::unique_ptr<RdKafka::Message> message(
        consumer_->consume(relaying ? 0 : std::min(wait_ms, 100)));
    const bool idle = message->err() == RdKafka::ERR__TIMED_OUT;
    if (health_) health_->RecordPoll(SteadyNowMs());
    const auto polled = std::chrono::steady_clock::now();
    const auto gap = polled - last_poll - in_callbacks_;
    last_poll = polled;
    in_callbacks_ = {};
    if (gap > session_timeout_) {
      RejoinAfterPause(gap);
      continue;
    }
    switch (message->err()) {
      case RdKafka::ERR_NO_ERROR:
        CrashPoint("after_poll");
        HandleRecord(*message);
        break;
      case RdKafka::ERR__PARTITION_EOF:
        if (auto it = partitions_.find(message->partition()); it != partitions_.end()) {
          it->second->caught_up = true;
        }
        break;
      case RdKafka::ERR__TIMED_OUT:
        break;
      case RdKafka::ERR__AUTO_OFFSET_RESET: {
        metrics_.retention_gaps().Increment();
        const std::string where = PartitionName(config_.touchpoints.name, message->partition());
        if (!config_.skip_retention_gap) {
          fatal_ = Status::KafkaError(
              "retention gap on " + where + ": the next offset to process is no longer in " +
              "Kafka (" + message->errstr() + "); events were lost upstream of touchstream. " +
              "Set processing.on_retention_gap: skip_to_earliest to continue from the earliest");
          break;
        }
        LogError("retention gap on " + where + " (" + message->errstr() +
                 "): continuing from the earliest offset (processing.on_retention_gap)");
        std::unique_ptr<RdKafka::TopicPartition> tp(RdKafka::TopicPartition::create(
            config_.touchpoints.name, message->partition(), RdKafka::Topic::OFFSET_BEGINNING));
        consumer_->seek(*tp, 5000);
        break;
      }
      default:
        if (message->err() == RdKafka::ERR__FATAL) {
          fatal_ = Status::KafkaError("consumer fatal error: " + message->errstr());
        } else {
          LogWarn("consumer: " + message->errstr());
        }
    }
    message.reset();
    if (batch_records_ >= config_.commit_max_events ||
        std::chrono::steady_clock::now() - batch_started_ >= interval) {
      OnCommitResult(Commit());
    }
    if (!pause_request_.empty()) PauseForDisk(pause_request_);
    if (Status s = relay_.Poll(relaying && idle ? std::min(wait_ms, 10) : 0); !s.ok()) {
      fatal_ = s;
    }
    metrics_.outbox_pending().Set(static_cast<double>(relay_.in_flight()));
    if (std::chrono::steady_clock::now() - last_sample_ >= std::chrono::seconds(1)) {
      SampleGauges();
    }
  }
  if (health_) health_->SetFatal(!fatal_.ok());
  if (!fatal_.ok()) {
    LogError("stopping: " + fatal_.message());
    return fatal_;
  }
  LogInfo("shutting down: committing and flushing");
  if (Status s = Commit(); s.code() == Status::Code::kUnavailable) {
    LogWarn("shutting down without the last commit (" + s.message() +
            "): its records are processed again from the last commit");
  } else if (!s.ok()) {
    return s;
  }
  if (Status s = relay_.Flush(10'000); !s.ok()) LogWarn("relay: " + s.message());
  consumer_->close();
  consumer_.reset();
  partitions_.clear();
  return Status::Ok();
}

void Processor::HandleRecord(RdKafka::Message& message) {
  auto it = partitions_.find(message.partition());
  if (it == partitions_.end()) return;  // not (or no longer) ours
  PartitionTask& task = *it->second;
  if (message.offset() < task.checkpoint.next_offset()) return;  // already applied
  metrics_.records_consumed().Increment();
  consumed_.fetch_add(1);
  task.caught_up = false;
  task.dirty = true;
  ++batch_records_;
  batch_poll_times_.push_back(std::chrono::steady_clock::now());

  const std::string_view value(static_cast<const char*>(message.payload()), message.len());
  const Verdict verdict = validator_.DecodeAndValidate(value, clock_.NowMs(), &event_);
  if (!verdict.ok()) {
    const std::string_view key =
        message.key_pointer() ? std::string_view(static_cast<const char*>(message.key_pointer()),
                                                 message.key_len())
                              : std::string_view();
    pending_outbox_.push_back(MakeDeadLetter(
        config_.dead_letter.name, key, value, verdict,
        SourcePosition{message.topic_name(), message.partition(), message.offset()}));
    metrics_.events_invalid(verdict.reason).Increment();
    invalid_.fetch_add(1);
  } else {
    metrics_.events_processed(event_.type(), event_.channel()).Increment();
    const uint64_t duplicates = task.pipeline.duplicates();
    Status s = task.pipeline.Process(event_, triggers_scratch_);
    if (!s.ok()) {
      fatal_ = s;
      return;
    }
    metrics_.events_deduplicated().Increment(
        static_cast<double>(task.pipeline.duplicates() - duplicates));
    AddTriggers(&event_.event_id());
  }
  task.checkpoint.set_next_offset(message.offset() + 1);
}

void Processor::AddTriggers(const std::string* event_id) {
  for (v1::Trigger& t : triggers_scratch_) {
    // Timers fire before the event is applied, so a timer-fired trigger names an earlier cause.
    batch_triggers_.push_back(
        {event_id != nullptr && t.cause_event_id() == *event_id,
         google::protobuf::util::TimeUtil::TimestampToMilliseconds(t.fire_time())});
    v1::state::OutboxRecord record;
    record.set_topic(config_.triggers.name);
    record.set_key(t.customer_id());
    record.set_value(t.SerializeAsString());
    metrics_.triggers_emitted(t.rule_id(), t.type()).Increment();
    triggers_.fetch_add(1);
    pending_outbox_.push_back(std::move(record));
  }
  triggers_scratch_.clear();
}

Status Processor::Commit() {
  const auto started = std::chrono::steady_clock::now();
  // Checked before anything changes, so that a refused commit leaves a batch to drop whole.
  if (!partitions_.empty() || !pending_outbox_.empty()) {
    if (Status s = CheckDiskReserve(); !s.ok()) return s;
  }
  if (config_.clock == ClockMode::kHybrid) {
    const TimeMs wall_watermark = clock_.NowMs() - config_.allowed_lateness_ms;
    for (auto& [partition, task] : partitions_) {
      if (!task->caught_up || wall_watermark <= task->pipeline.watermark_ms()) continue;
      if (Status s = task->pipeline.AdvanceWatermark(wall_watermark, triggers_scratch_);
          !s.ok()) {
        return s;
      }
      // Only a firing timer makes an idle partition's commit worth a write and a changelog
      // marker: a watermark that fired nothing is derived from the wall clock again after a
      // restart, with the same outcome.
      if (!triggers_scratch_.empty() || task->store.has_changes()) task->dirty = true;
      AddTriggers(nullptr);
    }
  }
  rocksdb::WriteBatch batch;
  std::vector<RdKafka::TopicPartition*> offsets;
  std::vector<v1::state::OutboxRecord> markers;
  for (auto& [partition, task] : partitions_) {
    if (!task->dirty) continue;
    const int32_t p = partition;
    const std::string& owner = task->checkpoint.owner();
    task->store.AddToBatch(batch, [&](const std::string& customer_id,
                                      const v1::state::CustomerState* state) {
      pending_outbox_.push_back(
          changelog::StateRecord(config_.changelog.name, p, owner, customer_id, state));
    });
    task->checkpoint.set_max_event_time_ms(task->pipeline.max_event_time_ms());
    task->checkpoint.set_watermark_ms(task->pipeline.watermark_ms());
    task->checkpoint.set_commit_seq(task->checkpoint.commit_seq() + 1);
    db_.PutCheckpoint(batch, config_.touchpoints.name, partition, task->checkpoint);
    v1::state::ChangelogMarker marker;
    *marker.mutable_checkpoint() = task->checkpoint;
    markers.push_back(changelog::MarkerRecord(config_.changelog.name, p, marker, false));
    offsets.push_back(RdKafka::TopicPartition::create(config_.touchpoints.name, partition,
                                                      task->checkpoint.next_offset()));
  }
  // After every state record: a marker closes its partition's commit.
  for (auto& marker : markers) pending_outbox_.push_back(std::move(marker));
  std::vector<uint64_t> seqs;
  seqs.reserve(pending_outbox_.size());
  for (const auto& record : pending_outbox_) seqs.push_back(db_.PutOutbox(batch, record));

  if (batch.Count() > 0) CrashPoint("batch_built");
  Status s = batch.Count() > 0 ? db_.Commit(batch) : Status::Ok();
  if (s.ok()) {
    if (batch.Count() > 0) CrashPoint("db_write");
    for (auto& [partition, task] : partitions_) {
      if (task->dirty) task->store.OnCommitted();
      task->dirty = false;
    }
    std::vector<OutboxEntry> entries;
    entries.reserve(seqs.size());
    for (size_t i = 0; i < seqs.size(); ++i) {
      entries.push_back({seqs[i], std::move(pending_outbox_[i])});
    }
    pending_outbox_.clear();
    if (!entries.empty()) s = relay_.Publish(std::move(entries), offsets, consumer_.get());
    // Informational only (lag tools read it); recovery uses the stored checkpoints.
    if (!relay_.commits_offsets() && !offsets.empty() && consumer_) {
      consumer_->commitAsync(offsets);
    }
    metrics_.commit_batch_events().Observe(static_cast<double>(batch_records_));
    batch_records_ = 0;
    ObserveCommitted();
  }
  RdKafka::TopicPartition::destroy(offsets);
  metrics_.commit_duration().Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  batch_started_ = std::chrono::steady_clock::now();
  return s;
}

void Processor::ObserveCommitted() {
  const auto now = std::chrono::steady_clock::now();
  for (const auto& polled : batch_poll_times_) {
    metrics_.processing_latency().Observe(std::chrono::duration<double>(now - polled).count());
  }
  batch_poll_times_.clear();
  const TimeMs now_ms = clock_.NowMs();
  for (const PendingTrigger& t : batch_triggers_) {
    const double delay = std::max<TimeMs>(0, now_ms - t.fire_time_ms) / 1000.0;
    (t.event_caused ? metrics_.event_to_trigger_latency() : metrics_.timer_fire_delay())
        .Observe(delay);
  }
  batch_triggers_.clear();
}

void Processor::SampleGauges() {
  last_sample_ = std::chrono::steady_clock::now();
  auto seconds = [](TimeMs ms) { return ms == kNoTime ? 0.0 : ms / 1000.0; };
  for (const auto& [partition, task] : partitions_) {
    // Sampled, not set per commit: an idle partition's clock moves without commits.
    metrics_.watermark_seconds(partition).Set(seconds(task->pipeline.watermark_ms()));
    metrics_.max_event_time_seconds(partition).Set(seconds(task->pipeline.max_event_time_ms()));
    int64_t low = 0;
    int64_t high = 0;
    // Cached from the last fetch response: no broker round trip.
    if (consumer_->get_watermark_offsets(config_.touchpoints.name, partition, &low, &high) ==
            RdKafka::ERR_NO_ERROR &&
        high >= 0) {
      metrics_.consumer_lag(partition).Set(static_cast<double>(
          std::max<int64_t>(0, high - std::max(low, task->checkpoint.next_offset()))));
    }
  }
  const StoreSample store = metrics_.store().Sample(db_);
  const bool low =
      !CheckDiskReserve(DiskSpace{store.disk_available_bytes, store.disk_size_bytes}).ok();
  if (health_) health_->SetDiskFull(low);
  if (paused_for_disk_ && !low) {
    paused_for_disk_ = false;
    metrics_.state_writes_paused().Set(0);
    LogInfo("the state filesystem has state.min_free_bytes free again: resuming, rejoining " +
            config_.group_id);
    JoinGroup();
  }
}

}  // namespace touchstream
