#include "processor/run/processor.h"

#include <google/protobuf/util/time_util.h>

#include "processor/run/dead_letter.h"
#include "processor/run/log.h"

namespace touchstream {

Processor::Processor(const Config& config, StateDb& db, OutboxRelay& relay, Metrics& metrics,
                     const Clock& clock, HealthState* health)
    : config_(config),
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
  auto conf = MakeKafkaConf(props, {{"group.id", config_.group_id},
                                            {"enable.auto.commit", "false"},
                                            {"enable.auto.offset.store", "false"},
                                            {"enable.partition.eof", "true"}});
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
  if (Status s = relay_.ResendPending(); !s.ok()) return s;
  LogInfo("consuming " + config_.touchpoints.name + " as group " + config_.group_id);
  return Status::Ok();
}

Status Processor::Run(const std::atomic<bool>& stop) {
  batch_started_ = std::chrono::steady_clock::now();
  const auto interval = std::chrono::milliseconds(config_.commit_interval_ms);
  while (!stop.load() && fatal_.ok()) {
    const auto elapsed = std::chrono::steady_clock::now() - batch_started_;
    const int wait_ms = static_cast<int>(std::max<int64_t>(
        1, std::chrono::duration_cast<std::chrono::milliseconds>(interval - elapsed).count()));
    std::unique_ptr<RdKafka::Message> message(consumer_->consume(std::min(wait_ms, 100)));
    if (health_) health_->RecordPoll(SteadyNowMs());
    switch (message->err()) {
      case RdKafka::ERR_NO_ERROR:
        HandleRecord(*message);
        break;
      case RdKafka::ERR__PARTITION_EOF:
        if (auto it = partitions_.find(message->partition()); it != partitions_.end()) {
          it->second->caught_up = true;
        }
        break;
      case RdKafka::ERR__TIMED_OUT:
        break;
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
      if (Status s = Commit(); !s.ok()) fatal_ = s;
    }
    if (Status s = relay_.Poll(0); !s.ok()) fatal_ = s;
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
  if (Status s = Commit(); !s.ok()) return s;
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
  if (config_.clock == ClockMode::kHybrid) {
    const TimeMs wall_watermark = clock_.NowMs() - config_.allowed_lateness_ms;
    for (auto& [partition, task] : partitions_) {
      if (!task->caught_up || wall_watermark <= task->pipeline.watermark_ms()) continue;
      if (Status s = task->pipeline.AdvanceWatermark(wall_watermark, triggers_scratch_);
          !s.ok()) {
        return s;
      }
      task->dirty = true;
      AddTriggers(nullptr);
    }
  }
  rocksdb::WriteBatch batch;
  std::vector<RdKafka::TopicPartition*> offsets;
  for (auto& [partition, task] : partitions_) {
    if (!task->dirty) continue;
    task->store.AddToBatch(batch);
    task->checkpoint.set_max_event_time_ms(task->pipeline.max_event_time_ms());
    task->checkpoint.set_watermark_ms(task->pipeline.watermark_ms());
    db_.PutCheckpoint(batch, config_.touchpoints.name, partition, task->checkpoint);
    offsets.push_back(RdKafka::TopicPartition::create(config_.touchpoints.name, partition,
                                                      task->checkpoint.next_offset()));
    metrics_.watermark_seconds(partition).Set(
        task->pipeline.watermark_ms() == kNoTime ? 0 : task->pipeline.watermark_ms() / 1000.0);
    metrics_.max_event_time_seconds(partition).Set(task->pipeline.max_event_time_ms() == kNoTime
                                                       ? 0
                                                       : task->pipeline.max_event_time_ms() /
                                                             1000.0);
  }
  std::vector<uint64_t> seqs;
  seqs.reserve(pending_outbox_.size());
  for (const auto& record : pending_outbox_) seqs.push_back(db_.PutOutbox(batch, record));

  Status s = batch.Count() > 0 ? db_.Commit(batch) : Status::Ok();
  if (s.ok()) {
    for (auto& [partition, task] : partitions_) {
      if (task->dirty) task->store.OnCommitted();
      task->dirty = false;
    }
    for (size_t i = 0; i < seqs.size(); ++i) relay_.Send(seqs[i], std::move(pending_outbox_[i]));
    pending_outbox_.clear();
    // Informational only (lag tools read it); recovery uses the stored checkpoints.
    if (!offsets.empty() && consumer_) consumer_->commitAsync(offsets);
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

Status Processor::Assign(std::vector<RdKafka::TopicPartition*>& partitions) {
  for (RdKafka::TopicPartition* tp : partitions) {
    auto checkpoint = db_.ReadCheckpoint(tp->topic(), tp->partition());
    if (!checkpoint.ok()) return checkpoint.status();
    auto task = std::make_unique<PartitionTask>(config_, db_, tp->partition());
    if (checkpoint->has_value()) {
      task->checkpoint = **checkpoint;
      task->pipeline.RestoreClock(task->checkpoint.max_event_time_ms(),
                                  task->checkpoint.watermark_ms());
      tp->set_offset(task->checkpoint.next_offset());
    } else {
      task->checkpoint.set_max_event_time_ms(kNoTime);
      task->checkpoint.set_watermark_ms(kNoTime);
      task->pipeline.RestoreClock(kNoTime, kNoTime);
      tp->set_offset(RdKafka::Topic::OFFSET_BEGINNING);
    }
    LogInfo("assigned " + tp->topic() + "/" + std::to_string(tp->partition()) +
            " from offset " +
            (checkpoint->has_value() ? std::to_string(task->checkpoint.next_offset())
                                     : std::string("beginning")));
    partitions_[tp->partition()] = std::move(task);
    metrics_.consumer_lag(tp->partition()).Set(0);
  }
  metrics_.assigned_partitions().Set(static_cast<double>(partitions_.size()));
  if (health_) health_->SetAssignedPartitions(static_cast<int>(partitions_.size()));
  return Status::Ok();
}

void Processor::Revoke() {
  if (Status s = Commit(); !s.ok()) fatal_ = s;
  for (const auto& [partition, task] : partitions_) metrics_.RemovePartition(partition);
  partitions_.clear();
  metrics_.assigned_partitions().Set(0);
  if (health_) health_->SetAssignedPartitions(0);
}

void Processor::rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                             std::vector<RdKafka::TopicPartition*>& partitions) {
  metrics_.rebalances().Increment();
  if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
    if (Status s = Assign(partitions); !s.ok()) {
      fatal_ = s;
      return;
    }
    consumer->assign(partitions);
  } else {
    Revoke();
    consumer->unassign();
  }
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
  for (const auto& [partition, task] : partitions_) {
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
  if (health_) health_->SetDisk(store.disk_available_bytes, store.disk_size_bytes);
}

}  // namespace touchstream
