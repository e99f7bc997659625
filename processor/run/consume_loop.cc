#include "processor/run/consume_loop.h"

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <utility>

#include "processor/core/time.h"
#include "processor/diagnostics/fault_points.h"
#include "processor/diagnostics/log.h"
#include "processor/kafka/consumer_close.h"
#include "processor/kafka/consumer_source_switch.h"
#include "processor/kafka/group_consumer.h"
#include "processor/kafka/input_message.h"
#include "processor/kafka/murmur2_ownership.h"
#include "processor/kafka/retention_gap.h"
#include "processor/kafka/topic_check.h"
#include "processor/kafka/watermarks.h"
#include "processor/run/partition_gauges.h"
#include "processor/run/source_ends.h"

namespace touchstream {

namespace {

// Records processed in one pass of the loop at most (ConsumeLoop::Run).
constexpr int kRecordsPerPass = 64;

int64_t Ms(SteadyClock::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// Leaves the group and destroys the consumer, unless it has not closed within 10 s: then it is
// abandoned, and false (consumer_close.h).
bool LeaveGroup(std::unique_ptr<RdKafka::KafkaConsumer>& consumer) {
  if (!CloseConsumer(consumer, std::chrono::seconds(10))) {
    LogWarn(
        "the consumer did not leave the group within 10 s (no answer from the group "
        "coordinator): stopping without it; the group reassigns the partitions once the "
        "session times out");
    return false;
  }
  return true;
}

}  // namespace

ConsumeLoop::ConsumeLoop(const Config& config, const RuleSet& rules, StateDb& db, Relay& relay,
                         Metrics& metrics, LoopClocks clocks, HealthState* health)
    : config_(config),
      db_(db),
      relay_(relay),
      metrics_(metrics),
      clocks_(clocks),
      health_(health),
      disk_(db.dir(), config.min_free_disk_bytes),
      commit_due_{std::chrono::milliseconds(config.commit_interval_ms), config.commit_max_events},
      tasks_(config, rules, db, relay, metrics),
      membership_(config, db, tasks_, relay, metrics, disk_, health),
      consumer_events_(std::make_unique<ConsumerEvents>(metrics)),
      backpressure_(static_cast<size_t>(config.max_outbox_records),
                    static_cast<uint64_t>(config.max_outbox_bytes)),
      held_records_(static_cast<size_t>(config.max_held_bytes)) {}

ConsumeLoop::~ConsumeLoop() {
  // Every Message is freed inside Run; the consumer is closed there or here.
  relay_.set_consumer(nullptr);
  if (consumer_) LeaveOrAbandonGroup();
}

Status ConsumeLoop::Start() {
  const KafkaProperties props = GroupConsumerProperties(config_.kafka, config_.kafka_consumer);
  if (Status s = membership_.Init(props); !s.ok()) return s;
  if (auto it = props.find("session.timeout.ms"); it != props.end()) {
    times_.session_timeout = std::chrono::milliseconds(std::atoll(it->second.c_str()));
  }
  auto consumer =
      CreateGroupConsumer(props, config_.group_id, &membership_, consumer_events_.get());
  if (!consumer.ok()) return consumer.status();
  consumer_ = std::move(*consumer);
  source_switch_ = std::make_unique<ConsumerSourceSwitch>(*consumer_);
  relay_.set_consumer(consumer_.get());
  membership_.Attach(consumer_.get(), [this] { return Commit(); });
  if (Status s = membership_.Join(); !s.ok()) return s;
  StatusOr<int32_t> input_partitions = CheckTopics(*consumer_, config_);
  if (!input_partitions.ok()) return input_partitions.status();
  // One partition owns every customer: no repartition stage.
  if (*input_partitions > 1) {
    ownership_ = std::make_unique<Murmur2Ownership>(*input_partitions);
    tasks_.SetOwnership(ownership_.get());
  } else {
    tasks_.SetInputPartitions(*input_partitions);
  }
  std::vector<std::string> sources{config_.touchpoints.name};
  if (ownership_) sources.push_back(config_.repartition.name);
  source_ends_ = std::make_unique<SourceEnds>(
      std::move(sources),
      [this](const std::string& topic, int32_t partition, bool fresh, int64_t* low, int64_t* high) {
        if (fresh) {
          StatusOr<Watermarks> w = QueryWatermarks(*consumer_, topic, partition, 1'000);
          if (!w.ok()) return false;
          *low = w->low;
          *high = w->high;
          return true;
        }
        return consumer_->get_watermark_offsets(topic, partition, low, high) ==
               RdKafka::ERR_NO_ERROR;
      },
      [this](const std::string& topic, int32_t partition) {
        const HeldRecords::SourceView source(topic, partition);
        return held_records_.Keeping(source) ||
               (draining_ && draining_->first == topic && draining_->second == partition);
      });
  source_pauses_ = std::make_unique<SourcePauses>(
      config_.touchpoints.name, ownership_ ? config_.repartition.name : std::string());
  // Changelog records are not stored in the outbox (TaskManager::Commit), but a state directory
  // written by an earlier version may hold some a run committed and did not deliver. They are
  // dropped, not sent: the partitions may have moved meanwhile (they would be late writes after the
  // next owner's fence, README "the zombie window"), and a partition assigned here again is
  // restored from the changelog's last commit, its later input processed again.
  StatusOr<size_t> dropped = db_.DeleteOutboxOf(config_.changelog.name);
  if (!dropped.ok()) return dropped.status();
  if (*dropped > 0) {
    LogInfo("dropped " + std::to_string(*dropped) +
            " changelog records an earlier run did not deliver (partitions it owned are restored "
            "from the changelog's last commit when assigned again)");
  }
  // Records a previous run committed but did not deliver (triggers, dead letters) go out first.
  if (Status s = relay_.Recover(); !s.ok()) return s;
  if (relay_.in_flight() > 0) {
    LogInfo("delivering " + std::to_string(relay_.in_flight()) + " records left in the outbox");
    if (Status s = relay_.Flush(10'000); !s.ok()) LogWarn("outbox: " + s.message());
  }
  LogInfo("consuming " + config_.touchpoints.name + " as group " + config_.group_id);
  return Status::Ok();
}

Status ConsumeLoop::Run(const std::atomic<bool>& stop) {
  stop_ = &stop;
  times_.batch_started = clocks_.steady.Now();
  // A stop requested while a commit waits for Kafka bounds that wait too.
  const std::chrono::milliseconds stop_timeout(config_.stop_timeout_ms);
  relay_.WatchStop(&stop, stop_timeout);
  // A transaction waiting for its coordinator is alive, as a restore moving forward is.
  relay_.set_on_waiting([this] {
    if (health_) health_->RecordProgress(SteadyNowMs());
  });
  struct Unwatch {
    Relay& relay;
    const std::atomic<bool>*& stop;
    ~Unwatch() {
      relay.WatchStop(nullptr, {});
      relay.set_on_waiting(nullptr);
      stop = nullptr;
    }
  } unwatch{relay_, stop_};
  while (!stop.load() && fatal_.ok()) {
    // How long this pass may block, and where (commit_due.h): the consumer's poll while idle,
    // the relay's while it holds records, not at all while a timer backlog fires.
    std::optional<std::chrono::steady_clock::duration> timer_in;
    if (const std::optional<TimeMs> ms = UntilTimer()) timer_in = std::chrono::milliseconds(*ms);
    const CommitDue::Waits waits =
        commit_due_.LoopWaits(clocks_.steady.Now() - times_.batch_started, relay_.in_flight() > 0,
                              timer_backlog_, timer_in);
    std::unique_ptr<RdKafka::Message> message(consumer_->consume(waits.consume_ms));
    const bool idle = message->err() == RdKafka::ERR__TIMED_OUT;
    if (!PolledInTime(nullptr)) continue;
    HandleMessage(*message);
    // More records back to back while the consumer holds them ready and no commit is due: the
    // rest of a pass (delivery reports, source pauses and judgements, clock reads) cost about
    // as much as processing a record when it ran after every one. Each poll is checked like the
    // first; a rebalance inside one ends the run of records, so that the rest of the pass sees
    // what it changed (errors, pause requests, new partitions to hold back) before more input.
    bool away = false;
    for (int handled = 1; handled < kRecordsPerPass && fatal_.ok() &&
                          message->err() == RdKafka::ERR_NO_ERROR &&
                          !commit_due_(clocks_.steady.Now() - times_.batch_started,
                                       tasks_.batch_records(), relay_.in_flight(), false);
         ++handled) {
      message.reset(consumer_->consume(0));
      bool rebalanced = false;
      if (!PolledInTime(&rebalanced)) {
        away = true;
        break;
      }
      if (message->err() == RdKafka::ERR__TIMED_OUT) break;
      HandleMessage(*message);
      if (rebalanced) break;
    }
    if (away) continue;
    message.reset();
    // A chunk of each timer backlog per poll, while the outbox has room for its triggers.
    if (timer_backlog_ && fatal_.ok() && !backpressure_.paused()) {
      fatal_ = tasks_.FireTimerBacklogs();
    }
    // Never commit a batch a record failed in (fatal_ set above: stop, or rebuild below).
    const std::optional<TimeMs> until_timer = UntilTimer();
    if (fatal_.ok() &&
        commit_due_(clocks_.steady.Now() - times_.batch_started, tasks_.batch_records(),
                    relay_.in_flight(), until_timer && *until_timer <= 0)) {
      CommitOrPause();
    }
    if (std::string pause = membership_.TakePauseRequest(); !pause.empty()) {
      membership_.PauseForDisk(pause);
    }
    if (std::string why = membership_.TakeRejoinRequest(); !why.empty() && fatal_.ok()) {
      held_records_.Clear();
      membership_.RejoinAfterLoss(why);
    }
    if (std::exchange(rejoin_past_gap_, false) && fatal_.ok()) {
      membership_.Rejoin("a source's next offset is not in Kafka (on_retention_gap: skip)");
    }
    // A rebalance's commit (revocation, or a new partition's fence) left undecided, like the
    // loop's own.
    if (Status s = membership_.TakeError(); s.code() == Status::Code::kDeadlineExceeded) {
      LeftUndecided(s);
      if (!stop.load() && fatal_.ok()) fatal_ = s;
    } else if (!s.ok() && fatal_.ok()) {
      fatal_ = s;
    }
    if (Status s = relay_.Poll(idle ? waits.relay_ms : 0); !s.ok()) {
      fatal_ = s;
    }
    metrics_.outbox_pending().Set(static_cast<double>(relay_.in_flight()));
    ApplyBackpressure();
    // A source at its end releases the input that waits for it (PartitionTask::
    // WaitsForRepartition) without waiting for the next commit.
    if (ownership_ && tasks_.AnyBacklogOrHeld()) source_ends_->JudgeAll(tasks_);
    const SourcePauses::Released released = source_pauses_->Update(
        *source_switch_, tasks_, held_records_, metrics_, Ms(clocks_.steady.Now()));
    timer_backlog_ = released.timer_backlog;
    for (const HeldRecords::Source& source : released.rewound) {
      source_ends_->OnRewound(source.first, source.second, tasks_);
    }
    // The repartition source's first: an input record may wait for what it kept (PartitionTask::
    // WaitsForRepartition), never the other way round.
    bool applying = true;
    for (const HeldRecords::Source& source : released.kept) {
      if (applying && source.first != config_.touchpoints.name) applying = ApplyKept(source);
    }
    for (const HeldRecords::Source& source : released.kept) {
      if (applying && source.first == config_.touchpoints.name) applying = ApplyKept(source);
    }
    metrics_.input_kept_bytes().Set(static_cast<double>(held_records_.bytes()));
    if (clocks_.steady.Now() - times_.last_sample >= std::chrono::seconds(1)) SampleGauges();
    // A corrupt stored state is local damage, not a reason to stop (README, "Corrupt local
    // state").
    if (fatal_.code() == Status::Code::kCorruption) {
      held_records_.Clear();  // the rebuilt partition starts again from its checkpoint
      fatal_ = membership_.RebuildCorrupt(std::exchange(fatal_, Status::Ok()));
    }
  }
  if (health_) health_->SetFatal(!fatal_.ok());
  // However the loop ended, leaving the group does not mark the partitions' local copies
  // released: the next start here finds them current (GroupMembership::Release).
  membership_.set_stopping();
  if (!fatal_.ok()) {
    LogError("stopping: " + fatal_.message());
    // The batch is not committed, not even by the revocation's commit when the consumer closes
    // (~ConsumeLoop): a failed step may have left it half applied (TaskManager::failed), and a
    // batch cut short by another error is processed again as well.
    LogWarn(
        "dropping the uncommitted batch: its input is processed again from the last "
        "commit at the next start");
    held_records_.Clear();
    tasks_.Clear();
    return fatal_;
  }
  LogInfo("shutting down: committing and flushing (processing.stop_timeout " +
          FormatDuration(config_.stop_timeout_ms) + ")");
  // Kafka's time, not the loop's clocks: the relay's waits are librdkafka's. The relay keeps an
  // earlier deadline, set when it saw the stop during a commit.
  const auto stop_by = std::chrono::steady_clock::now() + stop_timeout;
  relay_.StopBy(stop_by);
  if (Status s = Commit(); s.code() == Status::Code::kDeadlineExceeded) {
    LeftUndecided(s);
  } else if (s.code() == Status::Code::kUnavailable || s.code() == Status::Code::kCorruption ||
             s.code() == Status::Code::kMembershipLost) {
    // kMembershipLost: exactly_once's transaction was aborted, so nothing of it is undecided.
    LogWarn("shutting down without the last commit (" + s.message() +
            "): its records are processed again from the last commit");
  } else if (!s.ok()) {
    return s;
  }
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      stop_by - std::chrono::steady_clock::now());
  if (Status s = relay_.Flush(static_cast<int>(std::max<int64_t>(left.count(), 0))); !s.ok()) {
    LogWarn("relay: " + s.message());
  }
  held_records_.Clear();  // applied by no one now: read again from the commit at the next start
  relay_.set_consumer(nullptr);
  LeaveOrAbandonGroup();
  tasks_.Clear();
  return Status::Ok();
}

void ConsumeLoop::LeaveOrAbandonGroup() {
  bool abandoned = false;
  if (unfinished_commit_) {
    // Its transaction may still commit (its EndTxn may have reached the coordinator): the next
    // owner must not restore before it is decided. Not leaving the group, as a crash does not,
    // gives the partitions to another instance only once the session times out.
    LogWarn("not leaving the consumer group (a commit's transaction is undecided): its "
            "partitions move once session.timeout.ms passes, as after a crash");
    AbandonConsumer(consumer_);
    abandoned = true;
  } else {
    abandoned = !LeaveGroup(consumer_);
  }
  // An abandoned consumer's threads live on and call its event callback (their log lines), so
  // the callback lives on with them, as the consumer does.
  if (abandoned) static_cast<void>(consumer_events_.release());
}

void ConsumeLoop::LeftUndecided(const Status& status) {
  unfinished_commit_ = true;
  LogWarn("stopping without the last commit (" + status.message() +
          "): the next start restores whatever of it Kafka has from the changelog and "
          "processes the rest of its input again");
}

bool ConsumeLoop::OutboxFull() {
  ApplyBackpressure();
  return backpressure_.paused();
}

void ConsumeLoop::KeepForLater(const HeldRecords::Source& source,
                               std::deque<HeldRecords::Record>::iterator from,
                               std::deque<HeldRecords::Record>::iterator to) {
  // Behind those of them kept again already (a hold the task began meanwhile), in order. None is
  // refused but past the bound, which they were within before the drain took them; from a refused
  // one on, the source is read again from Kafka once the hold ends, as any held source is (from
  // HeldRecords::RefusedFrom, or from the task's next offset if it keeps none).
  const HeldRecords::SourceView view{source.first, source.second};
  for (; from != to; ++from) {
    if (!held_records_.Keep(view, *from)) break;  // it and the rest: read again
  }
  tasks_.Hold(source.second, source.first);
}

void ConsumeLoop::ApplyBackpressure() {
  const bool was_paused = backpressure_.paused();
  const bool pause = backpressure_.Update(relay_.in_flight(), relay_.in_flight_bytes());
  // Re-applied while paused: partitions assigned meanwhile start paused too.
  if (!pause && !was_paused) return;
  if (pause && !was_paused) {
    LogWarn("pausing input: " + std::to_string(relay_.in_flight()) + " records (" +
            HumanBytes(relay_.in_flight_bytes()) +
            ") wait for Kafka's acknowledgement, over "
            "processing.max_outbox_records or max_outbox_bytes");
  } else if (!pause) {
    LogInfo("resuming input: the outbox backlog is below half its limits");
  }
  // Those a hold keeps paused stay paused (SourcePauses weighs both reasons).
  source_pauses_->SetOutboxFull(*source_switch_, pause);
  metrics_.input_paused().Set(pause ? 1 : 0);
}

bool ConsumeLoop::PolledInTime(bool* rebalanced) {
  const SteadyClock::TimePoint polled = clocks_.steady.Now();
  if (health_) health_->RecordPoll(Ms(polled));
  const bool rebalance = membership_.TakeRebalanced();
  if (rebalanced != nullptr) *rebalanced = rebalance;
  // What held sources kept is dropped: a revoked partition's belongs to its next owner, and a
  // partition that stays (cooperative assignment) keeps its task's hold, so it is paused and
  // rewound instead (SourcePauses).
  if (rebalance) held_records_.Clear();
  // Not the time since the last poll: a long commit or restore is no reason to rejoin, since
  // librdkafka heartbeats meanwhile (run/standstill.h).
  const std::chrono::steady_clock::duration still = standstill_.TakeLongest();
  if (still <= times_.session_timeout) return true;
  membership_.RejoinAfterPause(still);
  return false;
}

void ConsumeLoop::HandleMessage(RdKafka::Message& message) {
  switch (message.err()) {
    case RdKafka::ERR_NO_ERROR:
      CrashPoint("after_poll");
      HandleRecord(message);
      break;
    case RdKafka::ERR__PARTITION_EOF:
      source_ends_->OnEndOfPartition(message.topic_name(), message.partition(),
                                     message.offset(), tasks_);
      break;
    case RdKafka::ERR__TIMED_OUT:
      break;
    case RdKafka::ERR__AUTO_OFFSET_RESET:
      if (Status s = OnRetentionGap(message, config_.skip_retention_gap); !s.ok()) {
        metrics_.retention_gaps().Increment();
        fatal_ = s;
      } else {
        rejoin_past_gap_ = true;  // counted by the assignment that moves past it
      }
      break;
    default:
      if (message.err() == RdKafka::ERR__FATAL) {
        fatal_ = Status::KafkaError("consumer fatal error: " + message.errstr());
      } else {
        LogWarn("consumer: " + message.errstr());
      }
  }
}

void ConsumeLoop::HandleRecord(RdKafka::Message& message) {
  // Only forwarded records carry headers the task reads (their origin).
  const InputMessage input(message, config_.repartition.name);
  Apply(input.record());
}

void ConsumeLoop::Apply(const InputRecord& record, HeldRecords::Record* kept) {
  // Behind records its source keeps: kept too, in order (or, past the bound, refused: the task
  // holds it, and the source is read again from the first refused record, HeldRecords::
  // RefusedFrom).
  if (!held_records_.empty()) {
    const HeldRecords::SourceView source{record.topic, record.partition};
    const HeldRecords::Behind behind = kept != nullptr ? held_records_.KeepBehind(source, *kept)
                                                       : held_records_.KeepBehind(source, record);
    if (behind == HeldRecords::Behind::kKept) return;
  }
  // Whether an input event waits for the repartition source depends on that source being caught
  // up: as the consumer knows it now, not as of the last commit.
  if (ownership_ && record.topic == config_.touchpoints.name) {
    source_ends_->Judge(config_.repartition.name, record.partition, tasks_);
  }
  StatusOr<bool> began_hold = tasks_.Process(record, Now());
  if (!began_hold.ok()) {
    fatal_ = began_hold.status();
    return;
  }
  // The record the task began to hold its source on: the first one kept.
  if (*began_hold) {
    const HeldRecords::SourceView source{record.topic, record.partition};
    if (kept != nullptr) {
      held_records_.Keep(source, *kept);
    } else {
      held_records_.Keep(source, record);
    }
  }
}

bool ConsumeLoop::ApplyKept(const HeldRecords::Source& source) {
  // All within this pass (no poll in between, so no rebalance either): a record held again is
  // kept again, with those behind it. A hold may have kept tens of thousands of records
  // (processing.max_held_bytes), so the batch is committed whenever it is due between two of
  // them, and the relay is polled as the loop polls it, once per kRecordsPerPass records: its
  // delivery reports let it produce the next commit's records, which wait for the markers of
  // the one before (outbox_relay.h). The outbox's bound holds here as in the loop: once the relay
  // has more in flight (a commit hands it records), the input pauses and the records not yet
  // applied are kept again, their source held until the outbox is back under its bound
  // (SourcePauses), so that it passes the bound by one commit at most.
  // Released while another source's drain filled the outbox in this pass: the records stay. (The
  // loop updated paused() before it released the sources, and a drain after each change.)
  if (backpressure_.paused()) {
    tasks_.Hold(source.second, source.first);
    return true;
  }
  std::deque<HeldRecords::Record> kept = held_records_.Take(source);
  // Not caught up until they are applied, though the consumer may be at the end (SourceEnds).
  draining_ = source;
  struct Drained {
    std::optional<HeldRecords::Source>& draining;
    ~Drained() { draining.reset(); }
  } drained{draining_};
  prometheus::Counter& applied = metrics_.input_records_kept(source.first);
  int since_poll = 0;
  for (auto it = kept.begin(); it != kept.end(); ++it) {
    // The records not applied here are read again, and so is the batch, dropped whole: every
    // error in fatal_ either ends the loop or rebuilds the partitions from their checkpoints
    // (RebuildCorrupt) before the next poll, a commit that did not happen stopped the loop or
    // left the group (CommitOrPause), so the source's position and the records taken here are
    // not relied on.
    if (!fatal_.ok()) return false;
    const bool commit = commit_due_(clocks_.steady.Now() - times_.batch_started,
                                    tasks_.batch_records(), relay_.in_flight());
    if (commit) {
      // A stop asked for meanwhile is not kept waiting for the rest: read again at the next start.
      // Held until then, so that the stop's commit does not judge the source caught up (it saw
      // the source's end before the drain) and move its clock past records not applied.
      if (stop_ != nullptr && stop_->load()) {
        KeepForLater(source, it, kept.end());
        return false;
      }
      if (!CommitOrPause()) return false;
      // Alive: a drain of many batches polls the consumer only once it is done.
      if (health_) health_->RecordPoll(Ms(clocks_.steady.Now()));
      // The commit's punctuation may have made another partition's timers due in a backlog.
      timer_backlog_ = true;
    }
    const bool polled = commit || since_poll == kRecordsPerPass;
    if (polled) {
      since_poll = 0;
      if (Status s = relay_.Poll(0); !s.ok()) {
        fatal_ = s;
        return false;
      }
    }
    // What the relay holds changes at a commit and a poll only (so paused() was current when the
    // drain began: checked above).
    if (polled && OutboxFull()) {
      KeepForLater(source, it, kept.end());
      return true;
    }
    HeldRecords::Record& record = *it;
    applied.Increment();
    ++since_poll;
    const KeptRecord& own = *record;  // stays put if `record` is moved back in
    Apply(own.record(), &record);
  }
  // Judged at once, not at the next commit: an idle partition's clock, and the wake-up for its
  // timers, wait for its sources to be caught up (PartitionTask::Punctuate, NextPunctuation).
  draining_.reset();
  if (source_ends_) source_ends_->Judge(source.first, source.second, tasks_);
  return fatal_.ok();
}

std::optional<TimeMs> ConsumeLoop::UntilTimer() {
  // Under exactly_once every commit is a synchronous transaction: none early for timers. While
  // the outbox is over its bound a commit fires none (Commit).
  if (relay_.commits_offsets() || backpressure_.paused()) return std::nullopt;
  return tasks_.MsUntilPunctuation(Now());
}

TaskTime ConsumeLoop::Now() const { return {clocks_.wall.NowMs(), Ms(clocks_.steady.Now())}; }

Status ConsumeLoop::Commit() {
  // Checked before anything changes, so that a refused commit leaves a batch to drop whole.
  if (!tasks_.empty() || tasks_.batch_records() > 0) {
    if (Status s = disk_.Check(); !s.ok()) return s;
  }
  // Punctuation (in the commit) moves an idle partition's clock only if its sources are caught up.
  if (consumer_ && source_ends_) source_ends_->JudgeAll(tasks_);
  // While the outbox is over its bound, no timers: the backlog's chunks wait for room
  // (FireTimerBacklogs), and so do the timers the clocks would make due.
  Status s = tasks_.Commit(Now(), !backpressure_.paused());
  // Informational only (lag tools read it); recovery uses the stored checkpoints.
  if (s.ok() && !relay_.commits_offsets() && consumer_ &&
      !tasks_.last_committed_offsets().empty()) {
    std::vector<RdKafka::TopicPartition*> offsets;
    for (const SourceOffset& o : tasks_.last_committed_offsets()) {
      offsets.push_back(RdKafka::TopicPartition::create(o.topic, o.partition, o.next_offset));
    }
    consumer_->commitAsync(offsets);
    RdKafka::TopicPartition::destroy(offsets);
  }
  times_.batch_started = clocks_.steady.Now();
  return s;
}

bool ConsumeLoop::CommitOrPause() {
  const Status s = Commit();
  if (s.code() == Status::Code::kUnavailable) {
    // A disk below its reserve is no fatal error: the instance pauses.
    membership_.PauseForDisk(s.message());
  } else if (s.code() == Status::Code::kDeadlineExceeded) {
    // Left undecided: a stop requested while the commit waited (Relay::WatchStop) ends the
    // loop; without one the commit never completed, and processing stops with an error.
    LeftUndecided(s);
    if (stop_ == nullptr || !stop_->load()) fatal_ = s;
  } else if (s.code() == Status::Code::kMembershipLost) {
    // exactly_once: the commit's transaction was aborted; its input is processed again by
    // whoever is assigned it now, here too once rejoined.
    held_records_.Clear();
    membership_.RejoinAfterLoss(s.message());
  } else if (!s.ok()) {
    fatal_ = s;
  }
  return s.ok();
}

void ConsumeLoop::SampleGauges() {
  times_.last_sample = clocks_.steady.Now();
  SamplePartitionGauges(tasks_, *consumer_, config_.touchpoints.name, metrics_);
  // One statvfs per sample: the gauges' reading is the reserve's too.
  const StoreSample sample = metrics_.store().Sample(db_);
  DiskSpace space;
  space.available_bytes = sample.disk_available_bytes;
  space.size_bytes = sample.disk_size_bytes;
  membership_.OnDiskSample(!disk_.Check(space).ok());
  membership_.DeleteReleasedCopies();
}

}  // namespace touchstream
