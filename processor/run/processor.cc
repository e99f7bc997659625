#include "processor/run/processor.h"

#include <cstdlib>

#include "processor/run/crash_point.h"
#include "processor/run/log.h"
#include "processor/run/processor.h"

namespace touchstream {

namespace {

// cooperative-sticky keeps partitions running on their instance across a
// rebalance (no restore, no pause). librdkafka before 2.3.0 can abort when a
// cooperative-sticky consumer is destroyed before its first assignment
// (librdkafka issue #4312), and its mock cluster does not complete cooperative
// rebalances, so older versions get the eager assignors.
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
      db_(db),
      relay_(relay),
      metrics_(metrics),
      clock_(clock),
      health_(health),
      tasks_(config, rules, db, relay, metrics) {}

Processor::~Processor() {
  // Every Message is freed inside Run; the consumer is closed there or here.
  relay_.set_consumer(nullptr);
  if (consumer_) consumer_->close();
}

Status Processor::Start() {
  KafkaProperties props = config_.kafka;
  for (const auto& [key, value] : config_.kafka_consumer) props[key] = value;
  props.emplace("partition.assignment.strategy", DefaultAssignmentStrategy());
  auto restorer =
      ChangelogRestorer::Create(props, config_.changelog.name, config_.touchpoints.name);
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
  relay_.set_consumer(consumer_.get());
  RdKafka::ErrorCode err = consumer_->subscribe({config_.touchpoints.name});
  if (err != RdKafka::ERR_NO_ERROR) {
    return Status::KafkaError("cannot subscribe to " + config_.touchpoints.name + ": " +
                              RdKafka::err2str(err));
  }
  if (Status s = CheckTopics(); !s.ok()) return s;
  // Records a previous run committed but did not deliver (triggers, changelog)
  // go out first, so that the changelog is current before this instance
  // restores or fences anything.
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
        tasks_.MarkCaughtUp(message->partition());
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
    if (tasks_.batch_records() >= config_.commit_max_events ||
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
  relay_.set_consumer(nullptr);
  consumer_->close();
  consumer_.reset();
  tasks_.Clear();
  return Status::Ok();
}

void Processor::HandleRecord(RdKafka::Message& message) {
  InputRecord record;
  record.topic = config_.touchpoints.name;
  record.partition = message.partition();
  record.offset = message.offset();
  if (message.key_pointer() != nullptr) {
    record.key =
        std::string_view(static_cast<const char*>(message.key_pointer()), message.key_len());
  }
  record.value = std::string_view(static_cast<const char*>(message.payload()), message.len());
  if (Status s = tasks_.Process(record, TaskTime{clock_.NowMs()}); !s.ok()) fatal_ = s;
}

Status Processor::Commit() {
  // Checked before anything changes, so that a refused commit leaves a batch to
  // drop whole.
  if (!tasks_.empty() || tasks_.batch_records() > 0) {
    if (Status s = CheckDiskReserve(); !s.ok()) return s;
  }
  Status s = tasks_.Commit(TaskTime{clock_.NowMs()});
  // Informational only (lag tools read it); recovery uses the stored
  // checkpoints.
  if (s.ok() && !relay_.commits_offsets() && consumer_ &&
      !tasks_.last_committed_offsets().empty()) {
    std::vector<RdKafka::TopicPartition*> offsets;
    for (const SourceOffset& o : tasks_.last_committed_offsets()) {
      offsets.push_back(RdKafka::TopicPartition::create(o.topic, o.partition, o.next_offset));
    }
    consumer_->commitAsync(offsets);
    RdKafka::TopicPartition::destroy(offsets);
  }
  batch_started_ = std::chrono::steady_clock::now();
  return s;
}

void Processor::SampleGauges() {
  last_sample_ = std::chrono::steady_clock::now();
  auto seconds = [](TimeMs ms) { return ms == kNoTime ? 0.0 : ms / 1000.0; };
  for (int32_t partition : tasks_.partitions()) {
    const PartitionTask& task = *tasks_.Find(partition);
    // Sampled, not set per commit: an idle partition's clock moves without
    // commits.
    metrics_.watermark_seconds(partition).Set(seconds(task.watermark_ms()));
    metrics_.max_event_time_seconds(partition).Set(seconds(task.max_event_time_ms()));
    int64_t low = 0;
    int64_t high = 0;
    // Cached from the last fetch response: no broker round trip.
    if (consumer_->get_watermark_offsets(config_.touchpoints.name, partition, &low, &high) ==
            RdKafka::ERR_NO_ERROR &&
        high >= 0) {
      metrics_.consumer_lag(partition).Set(static_cast<double>(
          std::max<int64_t>(0, high - std::max(low, task.checkpoint().next_offset()))));
    }
  }
  const StoreSample store = metrics_.store().Sample(db_);
  const bool low =
      !CheckDiskReserve(DiskSpace{store.disk_available_bytes, store.disk_size_bytes}).ok();
  if (health_) health_->SetDiskFull(low);
  if (paused_for_disk_ && !low) {
    paused_for_disk_ = false;
    metrics_.state_writes_paused().Set(0);
    LogInfo(
        "the state filesystem has state.min_free_bytes free again: resuming, "
        "rejoining " +
        config_.group_id);
    JoinGroup();
  }
}

}  // namespace touchstream
